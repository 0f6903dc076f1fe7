// SQL of the analytics feeds (migration 0007) as functions over a connection, run by the
// SqliteStore inside its read snapshots and write transactions.
#pragma once

#include <vector>

#include "store/analytics_records.h"
#include "store/sqlite/db.h"

namespace siyu::store::sqlite::analytics_sql {

/// Streams the workspace's live customers, events, orders, layer changes and costs to `sink`.
Status scan(Connection& c, WorkspaceId ws, AnalyticsSink& sink);

/// Replaces the workspace's lifetime-value predictions with `predictions`.
Status put_predictions(Connection& c, WorkspaceId ws, const std::vector<Prediction>& predictions,
                       EpochMs at);

}  // namespace siyu::store::sqlite::analytics_sql
