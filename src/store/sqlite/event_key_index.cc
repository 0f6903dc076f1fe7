#include "store/sqlite/event_key_index.h"

#include <algorithm>
#include <queue>
#include <set>

namespace siyu::store::sqlite {
namespace {

using event_keys::EventKey;
using event_keys::key_less;
using WsKey = std::pair<int64_t, EventKey>;

bool ws_key_less(const WsKey& a, const WsKey& b) {
  return a.first != b.first ? a.first < b.first : key_less(a.second, b.second);
}

Result<int64_t> filed_through(Connection& c) {
  SIYU_PREPARE(s, c, "SELECT value FROM store_counters WHERE name='events_filed_through'");
  return scalar(*s);
}

Status set_filed_through(Connection& c, int64_t through) {
  SIYU_PREPARE(s, c, "UPDATE store_counters SET value=? WHERE name='events_filed_through'");
  s->bind(1, through);
  return s->run();
}

/// The level of a run of `keys` keys: 0 up to file_at × per_level keys, one more for each
/// further factor of per_level.
int64_t level_for(size_t keys, size_t file_at, size_t per_level) {
  int64_t level = 0;
  for (size_t cap = file_at * per_level; keys >= cap; cap *= per_level) ++level;
  return level;
}

/// Reads one run block by block in (workspace, first customer) order.
class RunCursor {
 public:
  explicit RunCursor(int64_t run) : run_(run) {}

  /// Moves to the next key; false at the run's end.
  Result<bool> next(Connection& c) {
    if (++pos_ < keys_.size()) return true;
    SIYU_PREPARE(s, c,
                 "SELECT workspace_id, first_customer, keys FROM event_run_blocks WHERE run=?1 AND "
                 "(workspace_id, first_customer) > (?2, ?3) ORDER BY workspace_id, "
                 "first_customer LIMIT 1");
    s->bind(1, run_).bind(2, ws_).bind(3, first_);
    if (!s->step()) {
      const Status st = s->status();
      s->reset();
      SIYU_RETURN_IF_ERROR(st);
      return false;
    }
    ws_ = s->int_at(0);
    first_ = s->int_at(1);
    auto decoded = event_keys::decode_block(s->blob_at(2));
    s->reset();
    SIYU_ASSIGN_OR_RETURN(keys_, std::move(decoded));
    pos_ = 0;
    if (keys_.empty()) return internal_error("an event key block is empty");
    return true;
  }
  /// Moves to the first key of a customer after (`ws`, `customer`); false if there is none.
  Result<bool> next_after(Connection& c, int64_t ws, int64_t customer) {
    // From the block that may hold the customer: the last starting at or before it.
    SIYU_PREPARE(s, c,
                 "SELECT workspace_id, first_customer FROM event_run_blocks WHERE run=?1 AND "
                 "(workspace_id, first_customer) <= (?2, ?3) ORDER BY workspace_id DESC, "
                 "first_customer DESC LIMIT 1");
    s->bind(1, run_).bind(2, ws).bind(3, customer);
    if (s->step()) {
      ws_ = s->int_at(0);
      first_ = s->int_at(1) - 1;
    }
    const Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    keys_.clear();
    pos_ = 0;
    for (;;) {
      SIYU_ASSIGN_OR_RETURN(const bool any, next(c));
      if (!any) return false;
      if (std::pair(ws_, key().customer) > std::pair(ws, customer)) return true;
    }
  }
  int64_t ws() const { return ws_; }
  EventKey& key() { return keys_[pos_]; }
  const EventKey& key() const { return keys_[pos_]; }

 private:
  int64_t run_;
  int64_t ws_ = INT64_MIN;
  int64_t first_ = INT64_MIN;
  std::vector<EventKey> keys_;
  size_t pos_ = 0;
};

/// Writes a run's blocks as keys arrive in (workspace, key) order.
class RunWriter {
 public:
  RunWriter(Connection& c, int64_t run) : c_(c), run_(run) {}

  /// Keys come in (workspace, key) order; blocks are written a customer boundary at a time.
  Status add(int64_t ws, EventKey key) {
    if (!pending_.empty() &&
        (ws != ws_ || (pending_.size() >= kBuffered && key.customer != pending_.back().customer))) {
      SIYU_RETURN_IF_ERROR(flush());
    }
    ws_ = ws;
    pending_.push_back(std::move(key));
    ++written_;
    return Status::ok();
  }
  /// Writes what is buffered; returns the run's key count.
  Result<size_t> finish() {
    SIYU_RETURN_IF_ERROR(flush());
    return written_;
  }

 private:
  static constexpr size_t kBuffered = 16'384;

  Status flush() {
    if (pending_.empty()) return Status::ok();
    SIYU_PREPARE(s, c_,
                 "INSERT INTO event_run_blocks (run, workspace_id, first_customer, last_customer, "
                 "keys) VALUES (?,?,?,?,?)");
    for (const event_keys::Block& b : event_keys::encode_blocks(pending_)) {
      s->bind(1, run_)
          .bind(2, ws_)
          .bind(3, b.first_customer)
          .bind(4, b.last_customer)
          .bind_blob(5, b.bytes);
      SIYU_RETURN_IF_ERROR(s->run());
    }
    pending_.clear();
    return Status::ok();
  }

  Connection& c_;
  int64_t run_;
  int64_t ws_ = 0;
  std::vector<EventKey> pending_;
  size_t written_ = 0;
};

Result<int64_t> new_run(Connection& c, int64_t level) {
  SIYU_PREPARE(s, c, "INSERT INTO event_runs (level, keys) VALUES (?, 0)");
  s->bind(1, level);
  SIYU_RETURN_IF_ERROR(s->run());
  return c.last_insert_rowid();
}

Status set_run_size(Connection& c, int64_t run, int64_t level, size_t keys) {
  SIYU_PREPARE(s, c, "UPDATE event_runs SET level=?, keys=? WHERE id=?");
  s->bind(1, level).bind(2, static_cast<int64_t>(keys)).bind(3, run);
  return s->run();
}

/// Customers whose keys were moved away: of one workspace in lo … hi, or of all workspaces.
Result<std::set<std::pair<int64_t, int64_t>>> drops(Connection& c, std::optional<int64_t> ws,
                                                    int64_t lo, int64_t hi) {
  Statement* s = nullptr;
  if (ws) {
    SIYU_ASSIGN_OR_RETURN(s, c.prepare("SELECT workspace_id, customer_id FROM event_run_drops "
                                       "WHERE workspace_id=? AND customer_id BETWEEN ? AND ?"));
    s->bind(1, *ws).bind(2, lo).bind(3, hi);
  } else {
    SIYU_ASSIGN_OR_RETURN(s, c.prepare("SELECT workspace_id, customer_id FROM event_run_drops"));
  }
  std::set<std::pair<int64_t, int64_t>> out;
  while (s->step()) out.emplace(s->int_at(0), s->int_at(1));
  const Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

/// Deletes blocks of runs a merge retired, up to `budget` keys' worth (a block counts as
/// kBlockWork keys), and the runs left without blocks. Returns the work done, 0 when none.
Result<size_t> delete_retired_blocks(Connection& c, size_t budget) {
  constexpr size_t kBlockWork = 256;
  SIYU_PREPARE(retired, c, "SELECT id FROM event_runs WHERE state=2 ORDER BY id LIMIT 1");
  SIYU_ASSIGN_OR_RETURN(const std::optional<int64_t> run, optional_scalar(*retired));
  if (!run) return size_t{0};
  const size_t limit = std::max<size_t>(1, budget / kBlockWork);
  SIYU_PREPARE(blocks, c,
               "DELETE FROM event_run_blocks WHERE (run, workspace_id, first_customer) IN (SELECT "
               "run, workspace_id, first_customer FROM event_run_blocks WHERE run=?1 ORDER BY "
               "workspace_id, first_customer LIMIT ?2)");
  blocks->bind(1, *run).bind(2, static_cast<int64_t>(limit));
  SIYU_RETURN_IF_ERROR(blocks->run());
  const auto deleted = static_cast<size_t>(c.changes());
  if (deleted < limit) {
    SIYU_PREPARE(gone, c, "DELETE FROM event_runs WHERE id=?");
    gone->bind(1, *run);
    SIYU_RETURN_IF_ERROR(gone->run());
  }
  return std::max<size_t>(deleted, 1) * kBlockWork;
}

}  // namespace

Status EventKeyIndex::open(Connection& writer) {
  const size_t per_run = file_at_ * runs_per_level_;
  for (;;) {
    Transaction tx(writer);
    SIYU_RETURN_IF_ERROR(tx.begin_status());
    SIYU_ASSIGN_OR_RETURN(const int64_t through, filed_through(writer));
    SIYU_PREPARE(s, writer,
                 "SELECT workspace_id, customer_id, ts, seq, amount, type FROM events WHERE "
                 "seq > ? ORDER BY seq LIMIT ?");
    s->bind(1, through).bind(2, static_cast<int64_t>(per_run));
    std::vector<WsKey> keys;
    while (s->step()) {
      keys.emplace_back(s->int_at(0), EventKey{s->int_at(1), s->int_at(2), s->int_at(3),
                                               s->int_at(4), s->text_at(5)});
    }
    const Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    if (keys.empty()) break;
    const int64_t last = keys.back().second.seq;
    SIYU_RETURN_IF_ERROR(write_run(writer, keys));
    SIYU_RETURN_IF_ERROR(set_filed_through(writer, last));
    SIYU_RETURN_IF_ERROR(tx.commit());
  }
  for (bool more = true; more;) {
    Transaction tx(writer);
    SIYU_RETURN_IF_ERROR(tx.begin_status());
    SIYU_ASSIGN_OR_RETURN(more, merge_step(writer));
    SIYU_RETURN_IF_ERROR(tx.commit());
  }
  wrote_run_ = false;
  return Status::ok();
}

EventKeyIndex::View EventKeyIndex::view() const {
  std::lock_guard lock(mu_);
  return View{chunks_, nullptr};
}

EventKeyIndex::View EventKeyIndex::writer_view() const {
  View v = view();
  v.staged = &staged_;
  return v;
}

bool EventKeyIndex::wants_filing() const {
  std::lock_guard lock(mu_);
  return unfiled_ + staged_.size() >= file_at_;
}

std::vector<EventKey> EventKeyIndex::unfiled_keys(const View& v, int64_t through, int64_t ws,
                                                  int64_t lo, int64_t hi) {
  std::vector<EventKey> out;
  // Committed chunks are sorted: a lookup seeks in each instead of reading it all.
  const WsKey first{ws, EventKey{lo, INT64_MIN, INT64_MIN, 0, {}}};
  for (const auto& chunk : v.chunks) {
    for (auto k = std::lower_bound(chunk->begin(), chunk->end(), first, ws_key_less);
         k != chunk->end() && k->first == ws && k->second.customer <= hi; ++k) {
      if (k->second.seq > through) out.push_back(k->second);
    }
  }
  if (v.staged) {
    for (const auto& [key_ws, k] : *v.staged) {
      if (key_ws == ws && k.customer >= lo && k.customer <= hi && k.seq > through) {
        out.push_back(k);
      }
    }
  }
  std::sort(out.begin(), out.end(), key_less);
  return out;
}

Status EventKeyIndex::write_run(Connection& c, std::vector<WsKey>& keys) {
  if (keys.empty()) return Status::ok();
  wrote_run_ = true;
  std::sort(keys.begin(), keys.end(), ws_key_less);
  const int64_t level = level_for(keys.size(), file_at_, runs_per_level_);
  SIYU_ASSIGN_OR_RETURN(const int64_t run, new_run(c, level));
  RunWriter w(c, run);
  for (auto& [ws, k] : keys) SIYU_RETURN_IF_ERROR(w.add(ws, std::move(k)));
  SIYU_ASSIGN_OR_RETURN(const size_t written, w.finish());
  return set_run_size(c, run, level, written);
}

Status EventKeyIndex::file_all(Connection& c, int64_t through) {
  SIYU_ASSIGN_OR_RETURN(const int64_t filed, filed_through(c));
  if (through <= filed) return Status::ok();
  std::vector<WsKey> keys;
  const auto take = [&](const Chunk& chunk) {
    for (const WsKey& k : chunk) {
      if (k.second.seq > filed && k.second.seq <= through) keys.push_back(k);
    }
  };
  for (const auto& chunk : view().chunks) take(*chunk);
  take(staged_);
  SIYU_RETURN_IF_ERROR(write_run(c, keys));
  SIYU_RETURN_IF_ERROR(set_filed_through(c, through));
  filed_in_transaction_ = through;
  return Status::ok();
}

Result<bool> EventKeyIndex::merge_step(Connection& c) {
  size_t budget = merge_slice_;
  while (budget > 0) {
    SIYU_ASSIGN_OR_RETURN(const size_t deleted, delete_retired_blocks(c, budget));
    if (deleted > 0) {
      budget -= std::min(budget, deleted);
      continue;
    }
    SIYU_PREPARE(building, c, "SELECT id FROM event_runs WHERE state=1");
    SIYU_ASSIGN_OR_RETURN(std::optional<int64_t> run, optional_scalar(*building));
    if (!run) {
      SIYU_ASSIGN_OR_RETURN(run, start_merge(c));
      if (!run) {
        merge_due_ = false;
        return false;
      }
    }
    SIYU_ASSIGN_OR_RETURN(const size_t merged, merge_slice(c, *run, budget));
    budget -= std::min(budget, std::max<size_t>(merged, 1));
  }
  return true;
}

Result<std::optional<int64_t>> EventKeyIndex::start_merge(Connection& c) {
  SIYU_PREPARE(full, c,
               "SELECT level FROM event_runs WHERE state=0 GROUP BY level HAVING count(*) >= ? "
               "ORDER BY level LIMIT 1");
  full->bind(1, static_cast<int64_t>(runs_per_level_));
  SIYU_ASSIGN_OR_RETURN(const std::optional<int64_t> level, optional_scalar(*full));
  if (!level) return std::optional<int64_t>();
  SIYU_PREPARE(create, c, "INSERT INTO event_runs (level, keys, state) VALUES (?, 0, 1)");
  create->bind(1, *level + 1);
  SIYU_RETURN_IF_ERROR(create->run());
  const int64_t run = c.last_insert_rowid();
  SIYU_PREPARE(inputs, c, "UPDATE event_runs SET merging_into=? WHERE state=0 AND level=?");
  inputs->bind(1, run).bind(2, *level);
  SIYU_RETURN_IF_ERROR(inputs->run());
  return std::optional<int64_t>(run);
}

Result<size_t> EventKeyIndex::merge_slice(Connection& c, int64_t run, size_t budget) {
  SIYU_PREPARE(state, c,
               "SELECT coalesce(after_workspace, ?2), coalesce(after_customer, ?2), level, keys "
               "FROM event_runs WHERE id=?1");
  state->bind(1, run).bind(2, INT64_MIN);
  if (!state->step()) {
    const Status st = state->status();
    state->reset();
    SIYU_RETURN_IF_ERROR(st);
    return internal_error("the building event run is missing");
  }
  const std::pair<int64_t, int64_t> after{state->int_at(0), state->int_at(1)};
  const int64_t level = state->int_at(2), merged_before = state->int_at(3);
  state->reset();
  SIYU_PREPARE(listed, c, "SELECT id FROM event_runs WHERE merging_into=? ORDER BY id");
  listed->bind(1, run);
  SIYU_ASSIGN_OR_RETURN(const std::vector<int64_t> inputs,
                        all<int64_t>(*listed, [](const Statement& r) { return r.int_at(0); }));
  SIYU_ASSIGN_OR_RETURN(const auto dropped, drops(c, std::nullopt, 0, 0));

  std::vector<RunCursor> cursors;
  for (int64_t input : inputs) cursors.emplace_back(input);
  const auto later = [&](size_t a, size_t b) {
    const RunCursor &x = cursors[a], &y = cursors[b];
    if (x.ws() != y.ws()) return x.ws() > y.ws();
    return key_less(y.key(), x.key());
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heads(later);
  for (size_t i = 0; i < cursors.size(); ++i) {
    SIYU_ASSIGN_OR_RETURN(const bool any, cursors[i].next_after(c, after.first, after.second));
    if (any) heads.push(i);
  }
  // A slice ends at a customer boundary: a customer's keys stay in one block of the run.
  RunWriter w(c, run);
  size_t read = 0;
  std::pair<int64_t, int64_t> last = after;
  while (!heads.empty()) {
    const size_t i = heads.top();
    RunCursor& cur = cursors[i];
    const std::pair<int64_t, int64_t> at{cur.ws(), cur.key().customer};
    if (read >= budget && at != last) break;
    heads.pop();
    last = at;
    ++read;
    if (!dropped.contains(at)) SIYU_RETURN_IF_ERROR(w.add(cur.ws(), std::move(cur.key())));
    SIYU_ASSIGN_OR_RETURN(const bool more, cur.next(c));
    if (more) heads.push(i);
  }
  SIYU_ASSIGN_OR_RETURN(const size_t written, w.finish());
  const auto keys = merged_before + static_cast<int64_t>(written);
  if (!heads.empty()) {
    SIYU_PREPARE(advance, c,
                 "UPDATE event_runs SET keys=?, after_workspace=?, after_customer=? WHERE id=?");
    advance->bind(1, keys).bind(2, last.first).bind(3, last.second).bind(4, run);
    SIYU_RETURN_IF_ERROR(advance->run());
    return read;
  }
  // The last slice: the merged run replaces its inputs for readers.
  SIYU_PREPARE(finish, c,
               "UPDATE event_runs SET state=0, level=?, keys=?, after_workspace=NULL, "
               "after_customer=NULL WHERE id=?");
  finish->bind(1, std::max(level, level_for(static_cast<size_t>(keys), file_at_, runs_per_level_)))
      .bind(2, keys)
      .bind(3, run);
  SIYU_RETURN_IF_ERROR(finish->run());
  SIYU_PREPARE(retire, c, "UPDATE event_runs SET state=2, merging_into=NULL WHERE merging_into=?");
  retire->bind(1, run);
  SIYU_RETURN_IF_ERROR(retire->run());
  return read;
}

Result<std::vector<int64_t>> EventKeyIndex::move(Connection& c, WorkspaceId ws, int64_t from,
                                                 int64_t to) {
  SIYU_ASSIGN_OR_RETURN(std::vector<EventKey> keys, customer_keys(c, writer_view(), ws, from));
  std::vector<int64_t> seqs;
  std::vector<WsKey> moved;
  for (EventKey& k : keys) {
    seqs.push_back(k.seq);
    k.customer = to;
    moved.emplace_back(ws.value, std::move(k));
  }
  SIYU_RETURN_IF_ERROR(write_run(c, moved));
  SIYU_PREPARE(s, c,
               "INSERT INTO event_run_drops (workspace_id, customer_id) VALUES (?, ?) ON CONFLICT "
               "DO NOTHING");
  s->bind(1, ws.value).bind(2, from);
  SIYU_RETURN_IF_ERROR(s->run());
  return seqs;
}

void EventKeyIndex::commit() {
  std::sort(staged_.begin(), staged_.end(), ws_key_less);
  std::lock_guard lock(mu_);
  if (!staged_.empty()) {
    unfiled_ += staged_.size();
    chunks_.push_back(std::make_shared<const Chunk>(std::move(staged_)));
    staged_ = Chunk();
  }
  if (filed_in_transaction_) drop_filed(*filed_in_transaction_);
  filed_in_transaction_.reset();
  merge_due_ = merge_due_ || wrote_run_;
  wrote_run_ = false;
}

void EventKeyIndex::rollback() {
  staged_.clear();
  filed_in_transaction_.reset();
  wrote_run_ = false;
}

void EventKeyIndex::drop_filed(int64_t through) {
  std::vector<std::shared_ptr<const Chunk>> kept;
  unfiled_ = 0;
  for (auto& chunk : chunks_) {
    Chunk rest;
    for (const WsKey& k : *chunk) {
      if (k.second.seq > through) rest.push_back(k);
    }
    if (rest.empty()) continue;
    unfiled_ += rest.size();
    kept.push_back(rest.size() == chunk->size() ? chunk
                                                : std::make_shared<const Chunk>(std::move(rest)));
  }
  chunks_ = std::move(kept);
}

Result<std::vector<EventKey>> EventKeyIndex::customer_keys(Connection& c, const View& v,
                                                           WorkspaceId ws, int64_t customer) const {
  return range_keys(c, v, ws, customer, customer);
}

Result<std::vector<EventKey>> EventKeyIndex::range_keys(Connection& c, const View& v,
                                                        WorkspaceId ws, int64_t lo,
                                                        int64_t hi) const {
  SIYU_ASSIGN_OR_RETURN(const int64_t through, filed_through(c));
  SIYU_ASSIGN_OR_RETURN(const auto dropped, drops(c, ws.value, lo, hi));
  // Per run, the block that may hold `lo` and those after it up to `hi`. CROSS JOIN keeps
  // SQLite from scanning every block and looking the run up afterwards.
  SIYU_PREPARE(s, c,
               "SELECT r.id, b.keys FROM event_runs r CROSS JOIN event_run_blocks b ON b.run=r.id "
               "AND b.workspace_id=?1 AND b.first_customer BETWEEN coalesce((SELECT "
               "max(first_customer) FROM event_run_blocks WHERE run=r.id AND workspace_id=?1 AND "
               "first_customer<=?2), ?2) AND ?3 WHERE r.state=0 ORDER BY r.id, b.first_customer");
  s->bind(1, ws.value).bind(2, lo).bind(3, hi);
  std::vector<std::vector<EventKey>> runs;
  int64_t run = -1;
  while (s->step()) {
    auto decoded = event_keys::decode_block(s->blob_at(1));
    if (!decoded) {
      s->reset();
      return decoded.error();
    }
    if (s->int_at(0) != run) {
      run = s->int_at(0);
      runs.emplace_back();
    }
    for (EventKey& k : *decoded) {
      if (k.customer >= lo && k.customer <= hi) runs.back().push_back(std::move(k));
    }
  }
  const Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  runs.push_back(unfiled_keys(v, through, ws.value, lo, hi));
  std::vector<EventKey> out = event_keys::merge_runs(std::move(runs));
  if (!dropped.empty()) {
    std::erase_if(out, [&](const EventKey& k) { return dropped.contains({ws.value, k.customer}); });
  }
  return out;
}

}  // namespace siyu::store::sqlite
