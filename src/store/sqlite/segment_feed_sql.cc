#include "store/sqlite/segment_feed_sql.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

namespace siyu::store::sqlite::segment_feed_sql {
namespace {

/// Customer ids as decimal text separated by commas.
std::string join_ids(const std::vector<CustomerId>& entered, const std::vector<CustomerId>& exited,
                     size_t from, size_t to) {
  std::string out;
  out.reserve((to - from) * 8);
  for (size_t i = from; i < to; ++i) {
    const CustomerId id = i < entered.size() ? entered[i] : exited[i - entered.size()];
    if (i > from) out += ',';
    out += std::to_string(id.value);
  }
  return out;
}

/// The ids of a set in order; a malformed entry reads as 0 (skipped like an erased one).
std::vector<int64_t> split_ids(std::string_view text) {
  std::vector<int64_t> out;
  while (!text.empty()) {
    const size_t comma = std::min(text.find(','), text.size());
    int64_t id = 0;
    const std::string_view part = text.substr(0, comma);
    if (std::from_chars(part.data(), part.data() + part.size(), id).ec != std::errc()) id = 0;
    out.push_back(id);
    text.remove_prefix(std::min(comma + 1, text.size()));
  }
  return out;
}

}  // namespace

Result<int64_t> next_change_id(Connection& c) {
  SIYU_PREPARE(s, c, "SELECT last_id FROM segment_change_head WHERE id=1");
  SIYU_ASSIGN_OR_RETURN(const int64_t last, scalar(*s));
  return last + 1;
}

Result<int64_t> record(Connection& c, WorkspaceId ws, int64_t segment_id, EpochMs at,
                       const std::vector<CustomerId>& entered,
                       const std::vector<CustomerId>& exited, int64_t next_id, size_t max_set) {
  SIYU_PREPARE(s, c,
               "INSERT INTO segment_change_sets (first_id, last_id, workspace_id, segment_id, at, "
               "entered, customers) VALUES (?,?,?,?,?,?,?)");
  const size_t total = entered.size() + exited.size();
  for (size_t from = 0; from < total; from += max_set) {
    const size_t to = std::min(total, from + max_set);
    const size_t entered_here = std::min(to, entered.size()) - std::min(from, entered.size());
    const auto n = static_cast<int64_t>(to - from);
    s->bind(1, next_id)
        .bind(2, next_id + n - 1)
        .bind(3, ws.value)
        .bind(4, segment_id)
        .bind(5, at)
        .bind(6, static_cast<int64_t>(entered_here))
        .bind(7, join_ids(entered, exited, from, to));
    SIYU_RETURN_IF_ERROR(s->run());
    next_id += n;
  }
  return next_id;
}

Status note_last_id(Connection& c, int64_t last_id) {
  SIYU_PREPARE(s, c, "UPDATE segment_change_head SET last_id=? WHERE id=1");
  s->bind(1, last_id);
  return s->run();
}

Result<std::vector<SegmentChange>> changes(Connection& c, WorkspaceId ws,
                                           std::optional<int64_t> segment_id, int64_t after,
                                           size_t limit) {
  Statement* s = nullptr;
  if (segment_id) {
    SIYU_PREPARE(one, c,
                 "SELECT first_id, segment_id, at, entered, customers FROM segment_change_sets "
                 "WHERE workspace_id=?1 AND segment_id=?2 AND last_id>?3 ORDER BY last_id");
    s = one;
    s->bind(2, *segment_id);
  } else {
    SIYU_PREPARE(all_segments, c,
                 "SELECT first_id, segment_id, at, entered, customers FROM segment_change_sets "
                 "WHERE workspace_id=?1 AND last_id>?3 ORDER BY last_id");
    s = all_segments;
  }
  s->bind(1, ws.value).bind(3, after);
  std::vector<SegmentChange> out;
  while (out.size() < limit && s->step()) {
    const int64_t first = s->int_at(0);
    const std::vector<int64_t> ids = split_ids(s->view_at(4));
    const auto entered = static_cast<size_t>(s->int_at(3));
    for (size_t i = 0; i < ids.size() && out.size() < limit; ++i) {
      const int64_t id = first + static_cast<int64_t>(i);
      if (id <= after || ids[i] == 0) continue;
      out.push_back(SegmentChange{id, s->int_at(1), CustomerId(ids[i]), i < entered, s->int_at(2)});
    }
  }
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Result<int64_t> last_change_id(Connection& c, WorkspaceId ws, std::optional<int64_t> segment_id) {
  if (segment_id) {
    SIYU_PREPARE(s, c,
                 "SELECT coalesce(max(last_id), 0) FROM segment_change_sets WHERE workspace_id=? "
                 "AND segment_id=?");
    s->bind(1, ws.value).bind(2, *segment_id);
    return scalar(*s);
  }
  SIYU_PREPARE(s, c,
               "SELECT coalesce(max(last_id), 0) FROM segment_change_sets WHERE workspace_id=?");
  s->bind(1, ws.value);
  return scalar(*s);
}

Status forget_customer(Connection& c, WorkspaceId ws, CustomerId customer) {
  // A customer appears at most once in a set (one sweep moves it in or out, not both).
  SIYU_PREPARE(s, c,
               "UPDATE segment_change_sets SET customers=trim(replace(','||customers||',', "
               "','||?2||',', ',0,'), ',') WHERE workspace_id=?1 AND "
               "instr(','||customers||',', ','||?2||',') > 0");
  s->bind(1, ws.value).bind(2, customer.value);
  return s->run();
}

Status forget_segment(Connection& c, WorkspaceId ws, int64_t segment_id) {
  SIYU_PREPARE(s, c, "DELETE FROM segment_change_sets WHERE workspace_id=? AND segment_id=?");
  s->bind(1, ws.value).bind(2, segment_id);
  return s->run();
}

}  // namespace siyu::store::sqlite::segment_feed_sql
