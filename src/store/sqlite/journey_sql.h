// SQL of journeys, runs, the outbox, frequency caps, staff tasks, opt-outs and settings
// (migration 0005), as functions over a connection. The SqliteStore runs them inside its read
// snapshots and group-committed write transactions.
#pragma once

#include <functional>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace siyu::store::sqlite::journey_sql {

Result<Journey> create_journey(Connection& c, WorkspaceId ws, const Journey& j);
Result<Journey> journey(Connection& c, WorkspaceId ws, int64_t id);
Result<std::vector<Journey>> journeys(Connection& c, WorkspaceId ws);
Result<int> save_version(Connection& c, WorkspaceId ws, int64_t id, const std::string& name,
                         const std::string& definition_json, const std::string& by, EpochMs at);
Result<std::string> definition(Connection& c, WorkspaceId ws, int64_t id, int version);
Status set_status(Connection& c, WorkspaceId ws, int64_t id, const std::string& status,
                  EpochMs at);

Result<int64_t> start_runs(Connection& c, WorkspaceId ws, const std::vector<RunStart>& starts,
                           const std::vector<std::pair<std::string, int64_t>>& cursors,
                           const std::vector<std::pair<int64_t, EpochMs>>& fired);
Result<std::optional<int64_t>> cursor(Connection& c, WorkspaceId ws, const std::string& name);
Result<std::vector<JourneyRun>> due_runs(Connection& c, EpochMs until, int limit);
Result<std::vector<JourneyRun>> runs_by_id(Connection& c, const std::vector<int64_t>& ids);
Result<std::pair<int64_t, int64_t>> trigger_heads(Connection& c, WorkspaceId ws);
Result<std::vector<CustomerId>> anniversaries(Connection& c, WorkspaceId ws,
                                              const std::string& field,
                                              const std::string& month_day);
Result<std::vector<JourneyRun>> runs_of(Connection& c, WorkspaceId ws, int64_t journey_id);
Result<std::vector<CustomerId>> entrants(Connection& c, WorkspaceId ws, int64_t journey_id,
                                         EpochMs since);
Result<AdvanceOutcome> advance_run(Connection& c, WorkspaceId ws, const RunAdvance& a);
/// The times of a customer's events of the goal type, in increasing order.
using GoalTimes = std::function<Result<std::vector<EpochMs>>(CustomerId)>;
/// A journey's figures; a customer reached the goal when one of `goal_times` falls within
/// goal_within_ms of entering (or of being sent a variant).
Result<JourneyStats> stats(Connection& c, WorkspaceId ws, int64_t id, const std::string& goal_event,
                           EpochMs goal_within_ms, const GoalTimes& goal_times);

/// Inserts one outbox row, deciding caps and opt-out first; returns its stored state, or ""
/// when the key existed.
Result<std::string> insert_outbox(Connection& c, WorkspaceId ws, OutboxItem o,
                                  const CapLimits& caps, bool any_opt_outs);

Result<std::vector<OutboxItem>> due_outbox(Connection& c, EpochMs until, int limit);
Status update_outbox(Connection& c, const std::vector<OutboxUpdate>& updates);
Result<std::vector<OutboxItem>> outbox_items(Connection& c, WorkspaceId ws,
                                             const OutboxFilter& f);
Result<std::vector<std::pair<std::string, int64_t>>> outbox_counts(Connection& c,
                                                                   WorkspaceId ws);

Result<std::vector<CustomerId>> reserve_mass_day(Connection& c, WorkspaceId ws,
                                                 const std::vector<CustomerId>& ids, int64_t day);
Status release_mass_day(Connection& c, WorkspaceId ws, const std::vector<CustomerId>& ids,
                        int64_t day);
Status record_wecom_task(Connection& c, WorkspaceId ws, const WecomTask& t);
Result<std::vector<WecomTask>> wecom_tasks(Connection& c, WorkspaceId ws, bool open_only,
                                           int limit);
Status update_wecom_task(Connection& c, WorkspaceId ws, const WecomTask& t);

Result<std::vector<StaffTask>> staff_tasks(Connection& c, WorkspaceId ws, bool open_only,
                                           std::optional<UserId> staff, int limit);
Status complete_task(Connection& c, WorkspaceId ws, int64_t id, const std::string& by,
                     EpochMs at);

Status set_opt_out(Connection& c, WorkspaceId ws, CustomerId customer, bool opted_out,
                   const std::string& source, EpochMs at);
Result<std::vector<CustomerId>> opted_out(Connection& c, WorkspaceId ws,
                                          const std::vector<CustomerId>& ids);
Result<std::optional<std::string>> setting(Connection& c, WorkspaceId ws,
                                           const std::string& name);
Status put_setting(Connection& c, WorkspaceId ws, const std::string& name,
                   const std::string& value, EpochMs at);

}  // namespace siyu::store::sqlite::journey_sql
