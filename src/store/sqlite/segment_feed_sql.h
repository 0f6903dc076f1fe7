// SQL of the segment change feed (migration 0014): a sweep's entries and exits of one segment
// are one row holding a dense range of change ids, read back change by change.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace siyu::store::sqlite::segment_feed_sql {

/// Where the next change ids start: one past the newest change ever given out, in any
/// workspace (ids are never reused).
Result<int64_t> next_change_id(Connection& c);

/// Stores one sweep's changes to a segment as sets of at most `max_set` changes each, ids
/// from `next_id` on (entered first); returns the id after the last one used. The caller
/// notes the last id given out (note_last_id) before its transaction commits.
Result<int64_t> record(Connection& c, WorkspaceId ws, int64_t segment_id, EpochMs at,
                       const std::vector<CustomerId>& entered,
                       const std::vector<CustomerId>& exited, int64_t next_id,
                       size_t max_set = 65'536);

/// Records `last_id` as the newest change id given out.
Status note_last_id(Connection& c, int64_t last_id);

/// Up to `limit` changes with ids above `after`, in id order, of one segment or of all.
/// Entries of erased customers are skipped (their ids stay used).
Result<std::vector<SegmentChange>> changes(Connection& c, WorkspaceId ws,
                                           std::optional<int64_t> segment_id, int64_t after,
                                           size_t limit);

/// The newest change id of one segment or of all the workspace's segments; 0 when none.
Result<int64_t> last_change_id(Connection& c, WorkspaceId ws, std::optional<int64_t> segment_id);

/// Blanks an erased customer's entries; every other change keeps its id.
Status forget_customer(Connection& c, WorkspaceId ws, CustomerId customer);

/// Drops a deleted segment's changes.
Status forget_segment(Connection& c, WorkspaceId ws, int64_t segment_id);

}  // namespace siyu::store::sqlite::segment_feed_sql
