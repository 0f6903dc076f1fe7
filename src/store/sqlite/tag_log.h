// The tag log (migration 0017, docs/design/tag-log.md): tag changes appended as one row per
// operation, applied later to customer_tags and tag_history in customer order, so a burst of
// changes for random customers costs an append each instead of random B-tree pages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace siyu::store::sqlite::tag_log {

/// What a log row does to each of its customers.
enum class Op : int64_t {
  kAdd = 0,     // gains the tag (with the row's expiry), recorded in the history
  kRemove = 1,  // loses it, recorded in the history
  kExpiry = 2,  // keeps it, with the row's expiry instead of the one it had
};

/// One operation on one tag for some customers of a workspace.
struct Entry {
  WorkspaceId ws;
  std::string tag;
  Op op = Op::kAdd;
  std::string by;
  EpochMs at = 0;
  std::optional<EpochMs> expires_at;
  std::vector<int64_t> ids;  // increasing, each a real change
};

/// Increasing positive ids as varint steps from the id before (from 0 for the first).
std::string encode_ids(const std::vector<int64_t>& ids);
/// The ids of encode_ids; false for bytes it could not have written.
bool decode_ids(std::string_view bytes, std::vector<int64_t>& out);

/// Appends `e` (with at least one id) to the log.
Status append(Connection& c, const Entry& e);

/// What one application of the log did.
struct Applied {
  size_t rows = 0;     // log rows applied and deleted
  size_t changes = 0;  // customer changes they held
};

/// Applies the oldest rows of the log — of workspace `only` when given — to customer_tags and
/// tag_history, whole rows until about `max_changes` customers are done (at least one row),
/// in (workspace, customer) order so each page of the tables is written once; then deletes
/// them. Nothing applied: the log (of `only`) was empty.
Result<Applied> apply(Connection& c, std::optional<WorkspaceId> only, size_t max_changes);

/// Applies every pending row (of workspace `only` when given); returns the rows applied.
Result<size_t> drain(Connection& c, std::optional<WorkspaceId> only);

/// The pending rows of `ws` that change customer `id`, oldest first, each with its seq (ids left
/// empty): what a reader of the customer's tags and history adds to the tables, in the same
/// snapshot, instead of waiting for the log to be applied.
Result<std::vector<std::pair<int64_t, Entry>>> pending_of(Connection& c, WorkspaceId ws,
                                                          CustomerId id);

/// A pending change of one customer's tags.
struct PendingChange {
  int64_t customer = 0;
  std::string tag;
  Op op = Op::kAdd;
};

/// The pending changes of `ws` to the customers `ids` (increasing), oldest first: what a reader
/// of those customers' tags applies to customer_tags, in the same snapshot, instead of waiting
/// for the log to be applied.
Result<std::vector<PendingChange>> pending_among(Connection& c, WorkspaceId ws,
                                                 const std::vector<int64_t>& ids);

/// Who holds `tag` in `ws` once its pending rows are applied, apart from customer_tags: the
/// customers whose last pending change gains it and those whose last loses it, increasing.
struct TagDelta {
  std::vector<int64_t> gained, lost;
};
Result<TagDelta> pending_delta(Connection& c, WorkspaceId ws, const std::string& tag);

/// Whether a pending row of `ws` sets an expiry at or before `now`.
Result<bool> expiry_due(Connection& c, WorkspaceId ws, EpochMs now);

/// Records a change of a customer's tags in the history shown on their timeline.
Status record_history(Connection& c, WorkspaceId ws, CustomerId cust, std::string_view tag,
                      std::string_view action, std::string_view by, EpochMs at);

}  // namespace siyu::store::sqlite::tag_log
