#include "store/sqlite/tag_log.h"

#include <algorithm>
#include <roaring/roaring.hh>
#include <tuple>

#include "store/sqlite/varint.h"

namespace siyu::store::sqlite::tag_log {

std::string encode_ids(const std::vector<int64_t>& ids) {
  std::string out;
  out.reserve(ids.size() * 2);
  int64_t last = 0;
  for (int64_t id : ids) {
    put_varint(out, static_cast<uint64_t>(id - last));
    last = id;
  }
  return out;
}

bool decode_ids(std::string_view bytes, std::vector<int64_t>& out) {
  out.clear();
  VarintReader r(bytes);
  uint64_t last = 0;
  while (!r.done()) {
    uint64_t step = 0;
    if (!r.varint(step) || step == 0 || step > static_cast<uint64_t>(INT64_MAX) - last) {
      return false;
    }
    last += step;
    out.push_back(static_cast<int64_t>(last));
  }
  return true;
}

Status append(Connection& c, const Entry& e) {
  SIYU_PREPARE(s, c,
               "INSERT INTO tag_log (workspace_id, tag, op, by, at, expires_at, ids) VALUES "
               "(?,?,?,?,?,?,?)");
  s->bind(1, e.ws.value)
      .bind(2, e.tag)
      .bind(3, static_cast<int64_t>(e.op))
      .bind(4, e.by)
      .bind(5, e.at)
      .bind_opt(6, e.expires_at)
      .bind_blob(7, encode_ids(e.ids));
  return s->run();
}

namespace {

/// The oldest log rows (of `only`) holding about `max_changes` customers, with their seqs.
Status read_oldest(Connection& c, std::optional<WorkspaceId> only, size_t max_changes,
                   std::vector<Entry>& rows, std::vector<int64_t>& seqs) {
  static constexpr const char* kCols = "SELECT seq, workspace_id, tag, op, by, at, expires_at, ids";
  SIYU_PREPARE(s, c,
               only ? std::string(kCols) + " FROM tag_log WHERE workspace_id=? ORDER BY seq"
                    : std::string(kCols) + " FROM tag_log ORDER BY seq");
  if (only) s->bind(1, only->value);
  size_t changes = 0;
  Status bad = Status::ok();
  while (changes < max_changes && s->step()) {
    Entry e;
    e.ws = WorkspaceId(s->int_at(1));
    e.tag = s->text_at(2);
    e.op = static_cast<Op>(s->int_at(3));
    e.by = s->text_at(4);
    e.at = s->int_at(5);
    e.expires_at = s->opt_int_at(6);
    if (!decode_ids(s->view_at(7), e.ids) || e.op < Op::kAdd || e.op > Op::kExpiry) {
      bad = internal_error("tag log row " + std::to_string(s->int_at(0)) + " is malformed");
      break;
    }
    changes += e.ids.size();
    seqs.push_back(s->int_at(0));
    rows.push_back(std::move(e));
  }
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(bad);
  return st;
}

Status apply_change(Connection& c, const Entry& e, CustomerId cust) {
  switch (e.op) {
    case Op::kAdd: {
      SIYU_PREPARE(s, c,
                   "INSERT INTO customer_tags (workspace_id, customer_id, tag, added_by, added_at, "
                   "expires_at) VALUES (?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                   "added_by=excluded.added_by, added_at=excluded.added_at, "
                   "expires_at=excluded.expires_at");
      s->bind(1, e.ws.value)
          .bind(2, cust.value)
          .bind(3, e.tag)
          .bind(4, e.by)
          .bind(5, e.at)
          .bind_opt(6, e.expires_at);
      SIYU_RETURN_IF_ERROR(s->run());
      return record_history(c, e.ws, cust, e.tag, "add", e.by, e.at);
    }
    case Op::kRemove: {
      SIYU_PREPARE(s, c,
                   "DELETE FROM customer_tags WHERE workspace_id=? AND customer_id=? AND tag=?");
      s->bind(1, e.ws.value).bind(2, cust.value).bind(3, e.tag);
      SIYU_RETURN_IF_ERROR(s->run());
      return record_history(c, e.ws, cust, e.tag, "remove", e.by, e.at);
    }
    case Op::kExpiry: {
      SIYU_PREPARE(s, c,
                   "UPDATE customer_tags SET expires_at=? WHERE workspace_id=? AND customer_id=? "
                   "AND tag=?");
      s->bind_opt(1, e.expires_at).bind(2, e.ws.value).bind(3, cust.value).bind(4, e.tag);
      return s->run();
    }
  }
  return internal_error("unknown tag log operation");
}

}  // namespace

Result<Applied> apply(Connection& c, std::optional<WorkspaceId> only, size_t max_changes) {
  std::vector<Entry> rows;
  std::vector<int64_t> seqs;
  SIYU_RETURN_IF_ERROR(read_oldest(c, only, std::max<size_t>(max_changes, 1), rows, seqs));
  // Each customer's changes stay in log order; customers go in key order.
  struct Change {
    int64_t ws;
    int64_t customer;
    size_t row;
  };
  std::vector<Change> changes;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int64_t id : rows[r].ids) changes.push_back({rows[r].ws.value, id, r});
  }
  std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
    return std::tie(a.ws, a.customer, a.row) < std::tie(b.ws, b.customer, b.row);
  });
  for (const Change& ch : changes) {
    SIYU_RETURN_IF_ERROR(apply_change(c, rows[ch.row], CustomerId(ch.customer)));
  }
  SIYU_PREPARE(d, c, "DELETE FROM tag_log WHERE seq=?");
  for (int64_t seq : seqs) {
    d->bind(1, seq);
    SIYU_RETURN_IF_ERROR(d->run());
  }
  return Applied{seqs.size(), changes.size()};
}

Result<size_t> drain(Connection& c, std::optional<WorkspaceId> only) {
  size_t rows = 0;
  for (;;) {
    SIYU_ASSIGN_OR_RETURN(Applied applied, apply(c, only, size_t{1} << 20));
    if (applied.rows == 0) return rows;
    rows += applied.rows;
  }
}

namespace {

/// Whether the ids of encode_ids include `id`, reading no further than it; false for bytes it
/// could not have written.
bool has_id(std::string_view bytes, int64_t id) {
  VarintReader r(bytes);
  uint64_t at = 0;
  while (!r.done()) {
    uint64_t step = 0;
    if (!r.varint(step) || step == 0) return false;
    at += step;
    if (at >= static_cast<uint64_t>(id)) return at == static_cast<uint64_t>(id);
  }
  return false;
}

/// The ids of a log row of `ws`, or an error naming the workspace whose row is corrupt.
Status decode_row(std::string_view bytes, WorkspaceId ws, std::vector<int64_t>& out) {
  if (decode_ids(bytes, out)) return Status::ok();
  return internal_error("a tag log row of workspace " + std::to_string(ws.value) +
                        " does not decode");
}

}  // namespace

Result<std::vector<std::pair<int64_t, Entry>>> pending_of(Connection& c, WorkspaceId ws,
                                                          CustomerId id) {
  SIYU_PREPARE(s, c,
               "SELECT seq, tag, op, by, at, expires_at, ids FROM tag_log WHERE workspace_id=? "
               "ORDER BY seq");
  s->bind(1, ws.value);
  std::vector<std::pair<int64_t, Entry>> out;
  while (s->step()) {
    if (!has_id(s->view_at(6), id.value)) continue;
    Entry e;
    e.ws = ws;
    e.tag = s->text_at(1);
    e.op = static_cast<Op>(s->int_at(2));
    e.by = s->text_at(3);
    e.at = s->int_at(4);
    e.expires_at = s->opt_int_at(5);
    out.emplace_back(s->int_at(0), std::move(e));
  }
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Result<std::vector<PendingChange>> pending_among(Connection& c, WorkspaceId ws,
                                                 const std::vector<int64_t>& ids) {
  std::vector<PendingChange> out;
  if (ids.empty()) return out;
  SIYU_PREPARE(s, c, "SELECT tag, op, ids FROM tag_log WHERE workspace_id=? ORDER BY seq");
  s->bind(1, ws.value);
  std::vector<int64_t> row;
  Status st;
  while (st.is_ok() && s->step()) {
    st = decode_row(s->view_at(2), ws, row);
    if (!st.is_ok()) break;
    // Both increasing: one pass finds the listed customers the row changes.
    auto listed = ids.begin();
    for (int64_t id : row) {
      while (listed != ids.end() && *listed < id) ++listed;
      if (listed == ids.end()) break;
      if (*listed == id)
        out.push_back(PendingChange{id, s->text_at(0), static_cast<Op>(s->int_at(1))});
    }
  }
  if (st.is_ok()) st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Result<TagDelta> pending_delta(Connection& c, WorkspaceId ws, const std::string& tag) {
  SIYU_PREPARE(s, c,
               "SELECT op, ids FROM tag_log WHERE workspace_id=? AND tag=? AND op IN (0, 1) "
               "ORDER BY seq");
  s->bind(1, ws.value).bind(2, tag);
  Roaring gained, lost;  // by each customer's last pending change (ids in the log are 32-bit)
  std::vector<int64_t> row;
  Status st;
  while (st.is_ok() && s->step()) {
    st = decode_row(s->view_at(1), ws, row);
    if (!st.is_ok()) break;
    const bool gains = static_cast<Op>(s->int_at(0)) == Op::kAdd;
    Roaring& to = gains ? gained : lost;
    Roaring& from = gains ? lost : gained;
    for (int64_t id : row) {
      to.add(static_cast<uint32_t>(id));
      from.remove(static_cast<uint32_t>(id));
    }
  }
  if (st.is_ok()) st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  TagDelta out;
  for (uint32_t id : gained) out.gained.push_back(id);
  for (uint32_t id : lost) out.lost.push_back(id);
  return out;
}

Result<bool> expiry_due(Connection& c, WorkspaceId ws, EpochMs now) {
  SIYU_PREPARE(s, c,
               "SELECT 1 FROM tag_log WHERE workspace_id=? AND op IN (0, 2) AND expires_at<=? "
               "LIMIT 1");
  s->bind(1, ws.value).bind(2, now);
  return has_row(*s);
}

Status record_history(Connection& c, WorkspaceId ws, CustomerId cust, std::string_view tag,
                      std::string_view action, std::string_view by, EpochMs at) {
  SIYU_PREPARE(s, c,
               "INSERT INTO tag_history (workspace_id, customer_id, tag, action, by, at) VALUES "
               "(?,?,?,?,?,?)");
  s->bind(1, ws.value).bind(2, cust.value).bind(3, tag).bind(4, action).bind(5, by).bind(6, at);
  return s->run();
}

}  // namespace siyu::store::sqlite::tag_log
