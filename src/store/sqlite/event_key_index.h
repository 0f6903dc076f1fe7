// The per-customer event index (docs/design/event-runs.md): the keys of every stored event as
// sorted runs in SQLite blobs (migration 0015), merged level by level, and the keys not filed
// yet in memory. Replaces the B-tree events_by_customer, which dirtied a page per event.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "store/sqlite/db.h"
#include "store/sqlite/event_keys.h"

namespace siyu::store::sqlite {

class EventKeyIndex {
 public:
  using EventKey = event_keys::EventKey;
  /// Keys not filed yet, each with its workspace; committed chunks are sorted by (workspace,
  /// key).
  using Chunk = std::vector<std::pair<int64_t, EventKey>>;

  /// The unfiled keys as of one moment. A reader takes it before it begins its transaction
  /// (keys filed in between are told apart by the filed_through its snapshot sees).
  struct View {
    std::vector<std::shared_ptr<const Chunk>> chunks;
    const Chunk* staged = nullptr;  // the writer's open transaction
  };

  /// `file_at`: unfiled keys that make the writer file a run; `runs_per_level`: runs of one
  /// level merged into one of the next; `merge_slice`: keys one merge step may merge.
  explicit EventKeyIndex(size_t file_at = 65'536, size_t runs_per_level = 8,
                         size_t merge_slice = 65'536)
      : file_at_(file_at), runs_per_level_(runs_per_level), merge_slice_(merge_slice) {}

  /// At open, on the writer: files the keys of events beyond filed_through in runs of at most
  /// `file_at` × runs_per_level keys, each in a transaction of its own, then finishes every
  /// merge. Nothing stays unfiled.
  Status open(Connection& writer);

  // ------------------------------------------------------------ the writer, under its lock
  /// Records the key of an event stored in the open transaction.
  void stage(WorkspaceId ws, EventKey key) { staged_.emplace_back(ws.value, std::move(key)); }
  /// Everything unfiled, the open transaction's keys included.
  View writer_view() const;
  /// Whether enough keys wait to be filed.
  bool wants_filing() const;
  /// Whether merge work may be waiting: runs were written since merge_step last found none
  /// (a merge of customers writes small runs of its own, besides the filings of
  /// wants_filing), or a merge is under way.
  bool wants_merging() const { return merge_due_; }
  /// Writes every unfiled key with seq ≤ `through` as a run, in the open transaction, and
  /// moves filed_through there. `through` is the newest seq given out.
  Status file_all(Connection& c, int64_t through);
  /// Does up to `merge_slice` keys' worth of merge work in the open transaction: continues
  /// the merge under way, or starts merging the runs of the lowest level that has too many
  /// into one run of the next level, and deletes the blocks of runs a merge retired. A merge
  /// becomes visible to readers whole, in the transaction of its last slice. Returns whether
  /// work may remain (false, and no merge due, when none is left).
  Result<bool> merge_step(Connection& c);
  /// Moves the keys of customer `from` onto `to` (a merge of customers) in the open
  /// transaction, after file_all; returns the seqs of the events moved, whose rows the
  /// caller moves.
  Result<std::vector<int64_t>> move(Connection& c, WorkspaceId ws, int64_t from, int64_t to);
  /// The open transaction committed / rolled back.
  void commit();
  void rollback();

  // ------------------------------------------------------------ readers
  View view() const;
  /// One customer's keys in index order.
  Result<std::vector<EventKey>> customer_keys(Connection& c, const View& v, WorkspaceId ws,
                                              int64_t customer) const;
  /// The keys of customers lo … hi (inclusive), in index order.
  Result<std::vector<EventKey>> range_keys(Connection& c, const View& v, WorkspaceId ws, int64_t lo,
                                           int64_t hi) const;

 private:
  /// The unfiled keys of `v` with seq > `through`, of workspace `ws` and customers lo … hi.
  static std::vector<EventKey> unfiled_keys(const View& v, int64_t through, int64_t ws, int64_t lo,
                                            int64_t hi);
  Status write_run(Connection& c, std::vector<std::pair<int64_t, EventKey>>& keys);
  /// Starts merging the lowest level with too many runs: the merged run, building, and its
  /// inputs marked. Nullopt when no level has too many.
  Result<std::optional<int64_t>> start_merge(Connection& c);
  /// Merges the next keys of the building run `run` (at least `budget`, up to a customer
  /// boundary), finishing the merge when its inputs are exhausted. Returns the keys read.
  Result<size_t> merge_slice(Connection& c, int64_t run, size_t budget);
  void drop_filed(int64_t through);

  const size_t file_at_;
  const size_t runs_per_level_;
  const size_t merge_slice_;
  Chunk staged_;                                 // writer only
  std::optional<int64_t> filed_in_transaction_;  // writer only
  bool wrote_run_ = false;                       // writer only: in the open transaction
  bool merge_due_ = false;                       // writer only
  mutable std::mutex mu_;                        // guards chunks_ and unfiled_
  std::vector<std::shared_ptr<const Chunk>> chunks_;
  size_t unfiled_ = 0;
};

}  // namespace siyu::store::sqlite
