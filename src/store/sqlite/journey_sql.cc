#include "store/sqlite/journey_sql.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "store/sqlite/segment_feed_sql.h"

namespace siyu::store::sqlite::journey_sql {
namespace {

constexpr const char* kJourneyCols =
    "j.id, j.name, j.status, j.version, j.template, j.created_by, j.created_at, j.updated_at, "
    "j.fired_until, v.definition";
constexpr const char* kJourneyFrom =
    " FROM journeys j JOIN journey_versions v ON v.workspace_id=j.workspace_id AND "
    "v.journey_id=j.id AND v.version=j.version ";

Journey read_journey(const Statement& s) {
  Journey j;
  j.id = s.int_at(0);
  j.name = s.text_at(1);
  j.status = s.text_at(2);
  j.version = static_cast<int>(s.int_at(3));
  j.template_key = s.text_at(4);
  j.created_by = s.text_at(5);
  j.created_at = s.int_at(6);
  j.updated_at = s.int_at(7);
  j.fired_until = s.opt_int_at(8);
  j.definition_json = s.text_at(9);
  return j;
}

constexpr const char* kRunCols =
    "id, workspace_id, journey_id, version, pc, due_at, members, size, context, trigger_key, "
    "entered_at";
JourneyRun read_run(const Statement& s) {
  JourneyRun r;
  r.id = s.int_at(0);
  r.workspace = WorkspaceId(s.int_at(1));
  r.journey_id = s.int_at(2);
  r.version = static_cast<int>(s.int_at(3));
  r.pc = static_cast<int>(s.int_at(4));
  r.due_at = s.int_at(5);
  r.members_blob = s.blob_at(6);
  r.size = s.int_at(7);
  r.context_json = s.text_at(8);
  r.trigger_key = s.text_at(9);
  r.entered_at = s.int_at(10);
  return r;
}

constexpr const char* kOutboxCols =
    "id, workspace_id, idem_key, journey_id, version, step, kind, class, customer_id, group_id, "
    "staff, variant, payload, state, attempts, not_before, created_at, sent_at, reason, receipt";
OutboxItem read_outbox(const Statement& s) {
  OutboxItem o;
  o.id = s.int_at(0);
  o.workspace = WorkspaceId(s.int_at(1));
  o.idem_key = s.text_at(2);
  o.journey_id = s.int_at(3);
  o.version = static_cast<int>(s.int_at(4));
  o.step = s.text_at(5);
  o.kind = s.text_at(6);
  o.message_class = s.text_at(7);
  o.customer = CustomerId(s.int_at(8));
  o.group = GroupId(s.int_at(9));
  o.staff = s.text_at(10);
  o.variant = s.text_at(11);
  o.payload_json = s.text_at(12);
  o.state = s.text_at(13);
  o.attempts = static_cast<int>(s.int_at(14));
  o.not_before = s.int_at(15);
  o.created_at = s.int_at(16);
  o.sent_at = s.opt_int_at(17);
  o.reason = s.text_at(18);
  o.receipt = s.text_at(19);
  return o;
}

constexpr const char* kTaskCols =
    "id, idem_key, journey_id, customer_id, staff_user_id, title, note, due_at, created_at, "
    "done_at, done_by";
StaffTask read_task(const Statement& s) {
  StaffTask t;
  t.id = s.int_at(0);
  t.idem_key = s.text_at(1);
  t.journey_id = s.int_at(2);
  t.customer = CustomerId(s.int_at(3));
  if (auto v = s.opt_int_at(4)) t.staff = UserId(*v);
  t.title = s.text_at(5);
  t.note = s.text_at(6);
  t.due_at = s.int_at(7);
  t.created_at = s.int_at(8);
  t.done_at = s.opt_int_at(9);
  t.done_by = s.text_at(10);
  return t;
}

Status insert_run(Connection& c, WorkspaceId ws, const JourneyRun& r, bool& inserted) {
  SIYU_PREPARE(s, c,
               "INSERT INTO journey_runs (workspace_id, journey_id, version, pc, due_at, "
               "members, size, context, trigger_key, entered_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
               "ON CONFLICT (workspace_id, journey_id, trigger_key) DO NOTHING");
  s->bind(1, ws.value)
      .bind(2, r.journey_id)
      .bind(3, int64_t{r.version})
      .bind(4, int64_t{r.pc})
      .bind(5, r.due_at)
      .bind_blob(6, r.members_blob)
      .bind(7, r.size)
      .bind(8, r.context_json)
      .bind(9, r.trigger_key)
      .bind(10, r.entered_at);
  SIYU_RETURN_IF_ERROR(s->run());
  inserted = c.changes() > 0;
  return Status::ok();
}

/// Marketing messages counted for one customer on days [day-6, day+6], plus the same for
/// one journey; index 6 is `day`.
struct CapWindow {
  std::array<int64_t, 13> all{};
  std::array<int64_t, 13> journey{};
};

Result<CapWindow> cap_window(Connection& c, WorkspaceId ws, CustomerId customer, int64_t day,
                             int64_t journey_id) {
  SIYU_PREPARE(s, c,
               "SELECT day, journey_id, n FROM cap_counts WHERE workspace_id=? AND customer_id=? "
               "AND day BETWEEN ? AND ?");
  s->bind(1, ws.value).bind(2, customer.value).bind(3, day - 6).bind(4, day + 6);
  CapWindow w;
  while (s->step()) {
    const auto i = static_cast<size_t>(s->int_at(0) - (day - 6));
    w.all[i] += s->int_at(2);
    if (s->int_at(1) == journey_id) w.journey[i] += s->int_at(2);
  }
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return w;
}

/// True when one more message on the middle day keeps every 7-day window containing it
/// within `weekly` (0 = unlimited) and the day within `daily`.
bool fits(const std::array<int64_t, 13>& counts, int daily, int weekly) {
  if (daily > 0 && counts[6] >= daily) return false;
  if (weekly <= 0) return true;
  for (size_t start = 0; start <= 6; ++start) {
    int64_t sum = 0;
    for (size_t d = start; d < start + 7; ++d) sum += counts[d];
    if (sum >= weekly) return false;
  }
  return true;
}

Result<bool> is_opted_out(Connection& c, WorkspaceId ws, CustomerId customer) {
  SIYU_PREPARE(s, c, "SELECT 1 FROM opt_outs WHERE workspace_id=? AND customer_id=?");
  s->bind(1, ws.value).bind(2, customer.value);
  const bool found = s->step();
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return found;
}

}  // namespace

Result<std::string> insert_outbox(Connection& c, WorkspaceId ws, OutboxItem o,
                                  const CapLimits& caps, bool any_opt_outs) {
  bool counts = false;
  if (o.kind == "message" && o.customer.valid() && (o.state == "pending" || o.state == "deferred")) {
    bool out = false;
    if (any_opt_outs) {
      SIYU_ASSIGN_OR_RETURN(out, is_opted_out(c, ws, o.customer));
    }
    if (out) {
      o.state = "skipped";
      o.reason = "customer opted out of messages";
    } else if (o.message_class == "marketing") {
      SIYU_ASSIGN_OR_RETURN(CapWindow w, cap_window(c, ws, o.customer, o.cap_day, o.journey_id));
      if (!fits(w.all, caps.daily, caps.weekly)) {
        o.state = "capped";
        o.reason = "frequency cap: at most " + std::to_string(caps.daily) + " a day and " +
                   std::to_string(caps.weekly) + " in 7 days";
      } else if (!fits(w.journey, caps.journey_daily, caps.journey_weekly)) {
        o.state = "capped";
        o.reason = "journey frequency cap: at most " + std::to_string(caps.journey_daily) +
                   " a day and " + std::to_string(caps.journey_weekly) + " in 7 days";
      } else {
        counts = true;
      }
    }
  }
  SIYU_PREPARE(s, c,
               "INSERT INTO outbox (workspace_id, idem_key, journey_id, version, step, kind, "
               "class, customer_id, group_id, staff, variant, payload, state, attempts, "
               "not_before, created_at, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?,?) "
               "ON CONFLICT (idem_key) DO NOTHING");
  s->bind(1, ws.value)
      .bind(2, o.idem_key)
      .bind(3, o.journey_id)
      .bind(4, int64_t{o.version})
      .bind(5, o.step)
      .bind(6, o.kind)
      .bind(7, o.message_class)
      .bind(8, o.customer.value)
      .bind(9, o.group.value)
      .bind(10, o.staff)
      .bind(11, o.variant)
      .bind(12, o.payload_json)
      .bind(13, o.state)
      .bind(14, o.not_before)
      .bind(15, o.created_at)
      .bind(16, o.reason);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) return std::string();  // the key exists: a repeated step
  if (counts) {
    SIYU_PREPARE(u, c,
                 "INSERT INTO cap_counts (workspace_id, customer_id, day, journey_id, n) VALUES "
                 "(?,?,?,?,1) ON CONFLICT DO UPDATE SET n=n+1");
    u->bind(1, ws.value).bind(2, o.customer.value).bind(3, o.cap_day).bind(4, o.journey_id);
    SIYU_RETURN_IF_ERROR(u->run());
  }
  return o.state;
}


Result<Journey> create_journey(Connection& c, WorkspaceId ws, const Journey& j) {
  SIYU_PREPARE(s, c,
               "INSERT INTO journeys (workspace_id, id, name, status, version, template, "
               "created_by, created_at, updated_at) VALUES (?1, (SELECT coalesce(max(id), 0) + "
               "1 FROM journeys WHERE workspace_id=?1), ?2, ?3, 1, ?4, ?5, ?6, ?6) RETURNING id");
  s->bind(1, ws.value)
      .bind(2, j.name)
      .bind(3, j.status)
      .bind(4, j.template_key)
      .bind(5, j.created_by)
      .bind(6, j.created_at);
  Journey out = j;
  out.version = 1;
  out.updated_at = j.created_at;
  if (s->step()) out.id = s->int_at(0);
  Status st = s->status();
  s->reset();
  if (st.code() == ErrorCode::kConflict) {
    return conflict("a journey named \"" + j.name + "\" exists", "name");
  }
  SIYU_RETURN_IF_ERROR(st);
  SIYU_PREPARE(v, c,
               "INSERT INTO journey_versions (workspace_id, journey_id, version, definition, "
               "created_by, created_at) VALUES (?,?,1,?,?,?)");
  v->bind(1, ws.value).bind(2, out.id).bind(3, j.definition_json).bind(4, j.created_by).bind(
      5, j.created_at);
  SIYU_RETURN_IF_ERROR(v->run());
  return out;
}

Result<Journey> journey(Connection& c, WorkspaceId ws, int64_t id) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kJourneyCols + kJourneyFrom +
                   "WHERE j.workspace_id=? AND j.id=?");
  s->bind(1, ws.value).bind(2, id);
  return one<Journey>(*s, read_journey, "journey " + std::to_string(id) + " not found");
}

Result<std::vector<Journey>> journeys(Connection& c, WorkspaceId ws) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kJourneyCols + kJourneyFrom +
                   "WHERE j.workspace_id=? ORDER BY j.id");
  s->bind(1, ws.value);
  return all<Journey>(*s, read_journey);
}

Result<int> save_version(Connection& c, WorkspaceId ws, int64_t id, const std::string& name,
                         const std::string& definition_json, const std::string& by, EpochMs at) {
  SIYU_PREPARE(u, c,
               "UPDATE journeys SET version=version+1, name=?, updated_at=? WHERE "
               "workspace_id=? AND id=? RETURNING version");
  u->bind(1, name).bind(2, at).bind(3, ws.value).bind(4, id);
  int version = 0;
  if (u->step()) version = static_cast<int>(u->int_at(0));
  Status st = u->status();
  u->reset();
  if (st.code() == ErrorCode::kConflict) {
    return conflict("a journey named \"" + name + "\" exists", "name");
  }
  SIYU_RETURN_IF_ERROR(st);
  if (version == 0) return not_found("journey " + std::to_string(id) + " not found");
  SIYU_PREPARE(v, c,
               "INSERT INTO journey_versions (workspace_id, journey_id, version, definition, "
               "created_by, created_at) VALUES (?,?,?,?,?,?)");
  v->bind(1, ws.value)
      .bind(2, id)
      .bind(3, int64_t{version})
      .bind(4, definition_json)
      .bind(5, by)
      .bind(6, at);
  SIYU_RETURN_IF_ERROR(v->run());
  return version;
}

Result<std::string> definition(Connection& c, WorkspaceId ws, int64_t id, int version) {
  SIYU_PREPARE(s, c,
               "SELECT definition FROM journey_versions WHERE workspace_id=? AND journey_id=? "
               "AND version=?");
  s->bind(1, ws.value).bind(2, id).bind(3, int64_t{version});
  return one<std::string>(
      *s, [](const Statement& r) { return r.text_at(0); },
      "journey " + std::to_string(id) + " has no version " + std::to_string(version));
}

Status set_status(Connection& c, WorkspaceId ws, int64_t id, const std::string& status,
                  EpochMs at) {
  SIYU_PREPARE(s, c, "UPDATE journeys SET status=?, updated_at=? WHERE workspace_id=? AND id=?");
  s->bind(1, status).bind(2, at).bind(3, ws.value).bind(4, id);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) return not_found("journey " + std::to_string(id) + " not found");
  return Status::ok();
}

Result<int64_t> start_runs(Connection& c, WorkspaceId ws, const std::vector<RunStart>& starts,
                           const std::vector<std::pair<std::string, int64_t>>& cursors,
                           const std::vector<std::pair<int64_t, EpochMs>>& fired) {
  int64_t started = 0;
  for (const RunStart& start : starts) {
    bool inserted = false;
    SIYU_RETURN_IF_ERROR(insert_run(c, ws, start.run, inserted));
    if (!inserted) continue;
    ++started;
    const int64_t run_id = c.last_insert_rowid();
    SIYU_PREPARE(e, c,
                 "INSERT INTO journey_entries (workspace_id, journey_id, customer_id, "
                 "entered_at, version, run_id) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING");
    for (CustomerId who : start.entrants) {
      e->bind(1, ws.value)
          .bind(2, start.run.journey_id)
          .bind(3, who.value)
          .bind(4, start.run.entered_at)
          .bind(5, int64_t{start.run.version})
          .bind(6, run_id);
      SIYU_RETURN_IF_ERROR(e->run());
    }
  }
  for (const auto& [name, value] : cursors) {
    SIYU_PREPARE(s, c,
                 "INSERT INTO journey_cursors (workspace_id, name, value) VALUES (?,?,?) ON "
                 "CONFLICT DO UPDATE SET value=max(value, excluded.value)");
    s->bind(1, ws.value).bind(2, name).bind(3, value);
    SIYU_RETURN_IF_ERROR(s->run());
  }
  for (const auto& [id, until] : fired) {
    SIYU_PREPARE(s, c,
                 "UPDATE journeys SET fired_until=max(coalesce(fired_until, 0), ?) WHERE "
                 "workspace_id=? AND id=?");
    s->bind(1, until).bind(2, ws.value).bind(3, id);
    SIYU_RETURN_IF_ERROR(s->run());
  }
  return started;
}

Result<std::optional<int64_t>> cursor(Connection& c, WorkspaceId ws, const std::string& name) {
  SIYU_PREPARE(s, c, "SELECT value FROM journey_cursors WHERE workspace_id=? AND name=?");
  s->bind(1, ws.value).bind(2, name);
  return optional_scalar(*s);
}

Result<std::vector<JourneyRun>> due_runs(Connection& c, EpochMs until, int limit) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kRunCols +
                   " FROM journey_runs WHERE due_at<=? ORDER BY due_at, id LIMIT ?");
  s->bind(1, until).bind(2, int64_t{limit});
  return all<JourneyRun>(*s, read_run);
}

Result<std::vector<JourneyRun>> runs_by_id(Connection& c, const std::vector<int64_t>& ids) {
  std::vector<JourneyRun> out;
  SIYU_PREPARE(s, c, std::string("SELECT ") + kRunCols + " FROM journey_runs WHERE id=?");
  for (int64_t id : ids) {
    s->bind(1, id);
    if (s->step()) out.push_back(read_run(*s));
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
  }
  std::sort(out.begin(), out.end(),
            [](const JourneyRun& a, const JourneyRun& b) { return a.id < b.id; });
  return out;
}

Result<std::pair<int64_t, int64_t>> trigger_heads(Connection& c, WorkspaceId ws) {
  // Backwards through the table (in seq order) to the workspace's newest event.
  SIYU_PREPARE(e, c,
               "SELECT coalesce((SELECT seq FROM events NOT INDEXED WHERE workspace_id=? ORDER BY "
               "seq DESC LIMIT 1), 0)");
  e->bind(1, ws.value);
  SIYU_ASSIGN_OR_RETURN(int64_t seq, scalar(*e));
  SIYU_ASSIGN_OR_RETURN(int64_t change, segment_feed_sql::last_change_id(c, ws, std::nullopt));
  return std::pair<int64_t, int64_t>(seq, change);
}

Result<std::vector<CustomerId>> anniversaries(Connection& c, WorkspaceId ws,
                                              const std::string& field,
                                              const std::string& month_day) {
  // Dates are stored as YYYY-MM-DD text: the birthday column, or a custom field in JSON.
  const bool custom = field.rfind("custom.", 0) == 0;
  SIYU_PREPARE(s, c,
               custom ? "SELECT id FROM customers WHERE workspace_id=? AND merged_into IS NULL "
                        "AND erased_at IS NULL AND substr(json_extract(custom, ?), 6, 5)=? "
                        "ORDER BY id"
                      : "SELECT id FROM customers WHERE workspace_id=? AND merged_into IS NULL "
                        "AND erased_at IS NULL AND ?='birthday' AND substr(birthday, 6, 5)=? ORDER BY id");
  const std::string path = custom ? "$.\"" + field.substr(7) + "\"" : field;
  s->bind(1, ws.value).bind(2, path).bind(3, month_day);
  return all<CustomerId>(*s, [](const Statement& r) { return CustomerId(r.int_at(0)); });
}

Result<std::vector<JourneyRun>> runs_of(Connection& c, WorkspaceId ws, int64_t journey_id) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kRunCols +
                   " FROM journey_runs WHERE workspace_id=? AND journey_id=? ORDER BY id");
  s->bind(1, ws.value).bind(2, journey_id);
  return all<JourneyRun>(*s, read_run);
}

Result<std::vector<CustomerId>> entrants(Connection& c, WorkspaceId ws, int64_t journey_id,
                                         EpochMs since) {
  SIYU_PREPARE(s, c,
               "SELECT DISTINCT customer_id FROM journey_entries WHERE workspace_id=? AND "
               "journey_id=? AND entered_at>=? ORDER BY customer_id");
  s->bind(1, ws.value).bind(2, journey_id).bind(3, since);
  return all<CustomerId>(*s, [](const Statement& r) { return CustomerId(r.int_at(0)); });
}

Result<AdvanceOutcome> advance_run(Connection& c, WorkspaceId ws, const RunAdvance& a) {
  SIYU_PREPARE(q, c, "SELECT pc FROM journey_runs WHERE workspace_id=? AND id=?");
  q->bind(1, ws.value).bind(2, a.run_id);
  std::optional<int64_t> pc;
  if (q->step()) pc = q->int_at(0);
  Status st = q->status();
  q->reset();
  SIYU_RETURN_IF_ERROR(st);
  if (!pc || *pc != a.expected_pc) {
    return conflict("journey run " + std::to_string(a.run_id) + " moved on or finished");
  }
  AdvanceOutcome out;
  bool any_opt_outs = false;
  if (!a.outbox.empty()) {
    SIYU_PREPARE(q2, c, "SELECT EXISTS (SELECT 1 FROM opt_outs WHERE workspace_id=?)");
    q2->bind(1, ws.value);
    SIYU_ASSIGN_OR_RETURN(int64_t any, scalar(*q2));
    any_opt_outs = any != 0;
  }
  for (const OutboxItem& o : a.outbox) {
    SIYU_ASSIGN_OR_RETURN(std::string state, insert_outbox(c, ws, o, a.caps, any_opt_outs));
    if (state.empty()) {
      ++out.duplicates;
    } else {
      ++out.inserted;
      if (state == "capped") ++out.capped;
    }
  }
  for (const StaffTask& t : a.tasks) {
    SIYU_PREPARE(s, c,
                 "INSERT INTO staff_tasks (workspace_id, idem_key, journey_id, customer_id, "
                 "staff_user_id, title, note, due_at, created_at) VALUES (?,?,?,?,?,?,?,?,?) "
                 "ON CONFLICT (idem_key) DO NOTHING");
    s->bind(1, ws.value)
        .bind(2, t.idem_key)
        .bind(3, t.journey_id)
        .bind(4, t.customer.value)
        .bind_opt(5, t.staff ? std::optional<int64_t>(t.staff->value) : std::nullopt)
        .bind(6, t.title)
        .bind(7, t.note)
        .bind(8, t.due_at)
        .bind(9, t.created_at);
    SIYU_RETURN_IF_ERROR(s->run());
  }
  for (const JourneyRun& r : a.branches) {
    bool inserted = false;
    SIYU_RETURN_IF_ERROR(insert_run(c, ws, r, inserted));
    if (inserted) out.branch_ids.push_back(c.last_insert_rowid());
  }
  if (a.finished) {
    SIYU_PREPARE(d, c, "DELETE FROM journey_runs WHERE workspace_id=? AND id=?");
    d->bind(1, ws.value).bind(2, a.run_id);
    SIYU_RETURN_IF_ERROR(d->run());
  } else if (a.members_blob) {
    SIYU_PREPARE(u, c,
                 "UPDATE journey_runs SET pc=?, due_at=?, members=?, size=? WHERE "
                 "workspace_id=? AND id=?");
    u->bind(1, int64_t{a.pc})
        .bind(2, a.due_at)
        .bind_blob(3, *a.members_blob)
        .bind(4, a.size)
        .bind(5, ws.value)
        .bind(6, a.run_id);
    SIYU_RETURN_IF_ERROR(u->run());
  } else {
    SIYU_PREPARE(u, c, "UPDATE journey_runs SET pc=?, due_at=? WHERE workspace_id=? AND id=?");
    u->bind(1, int64_t{a.pc}).bind(2, a.due_at).bind(3, ws.value).bind(4, a.run_id);
    SIYU_RETURN_IF_ERROR(u->run());
  }
  return out;
}

Result<JourneyStats> stats(Connection& c, WorkspaceId ws, int64_t id, const std::string& goal_event,
                           EpochMs goal_within_ms, const GoalTimes& goal_times) {
  JourneyStats out;
  {
    SIYU_PREPARE(s, c,
                 "SELECT count(*) FROM journey_entries WHERE workspace_id=? AND journey_id=?");
    s->bind(1, ws.value).bind(2, id);
    SIYU_ASSIGN_OR_RETURN(out.entered, scalar(*s));
  }
  {
    SIYU_PREPARE(s, c,
                 "SELECT count(*), coalesce(sum(size), 0) FROM journey_runs WHERE "
                 "workspace_id=? AND journey_id=?");
    s->bind(1, ws.value).bind(2, id);
    if (s->step()) {
      out.active_runs = s->int_at(0);
      out.waiting = s->int_at(1);
    }
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
  }
  {
    SIYU_PREPARE(s, c,
                 "SELECT step, variant, state, count(*) FROM outbox WHERE workspace_id=? AND "
                 "journey_id=? GROUP BY step, variant, state ORDER BY step, variant, state");
    s->bind(1, ws.value).bind(2, id);
    SIYU_ASSIGN_OR_RETURN(out.cells, all<JourneyStats::Cell>(*s, [](const Statement& r) {
                            return JourneyStats::Cell{r.text_at(0), r.text_at(1), r.text_at(2),
                                                      r.int_at(3)};
                          }));
  }
  if (goal_event.empty()) return out;
  std::unordered_map<int64_t, std::vector<EpochMs>> times;  // of the customers seen so far
  const auto reached = [&](int64_t customer, EpochMs from) -> Result<bool> {
    auto it = times.find(customer);
    if (it == times.end()) {
      SIYU_ASSIGN_OR_RETURN(auto found, goal_times(CustomerId(customer)));
      it = times.emplace(customer, std::move(found)).first;
    }
    const auto first = std::lower_bound(it->second.begin(), it->second.end(), from);
    return first != it->second.end() && *first < from + goal_within_ms;
  };
  {
    SIYU_PREPARE(s, c,
                 "SELECT customer_id, entered_at FROM journey_entries WHERE workspace_id=? AND "
                 "journey_id=? ORDER BY customer_id");
    s->bind(1, ws.value).bind(2, id);
    std::vector<std::pair<int64_t, EpochMs>> entries;
    while (s->step()) entries.emplace_back(s->int_at(0), s->int_at(1));
    const Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    std::set<int64_t> converted;
    for (const auto& [customer, at] : entries) {
      if (converted.contains(customer)) continue;
      SIYU_ASSIGN_OR_RETURN(const bool yes, reached(customer, at));
      if (yes) converted.insert(customer);
    }
    out.goal_reached = static_cast<int64_t>(converted.size());
  }
  {
    SIYU_PREPARE(s, c,
                 "SELECT variant, customer_id, created_at FROM outbox WHERE workspace_id=? AND "
                 "journey_id=? AND variant<>'' AND state='sent' ORDER BY variant");
    s->bind(1, ws.value).bind(2, id);
    std::vector<std::tuple<std::string, int64_t, EpochMs>> sent;
    while (s->step()) sent.emplace_back(s->text_at(0), s->int_at(1), s->int_at(2));
    const Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    std::map<std::string, std::set<int64_t>> converted;
    for (const auto& [variant, customer, at] : sent) {
      auto& of_variant = converted[variant];
      if (of_variant.contains(customer)) continue;
      SIYU_ASSIGN_OR_RETURN(const bool yes, reached(customer, at));
      if (yes) of_variant.insert(customer);
    }
    for (const auto& [variant, customers] : converted) {
      if (!customers.empty()) {
        out.goal_by_variant.emplace_back(variant, static_cast<int64_t>(customers.size()));
      }
    }
  }
  return out;
}

Result<std::vector<OutboxItem>> due_outbox(Connection& c, EpochMs until, int limit) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kOutboxCols +
                   " FROM outbox WHERE state IN ('pending', 'deferred', 'retry') AND "
                   "not_before<=? ORDER BY not_before, id LIMIT ?");
  s->bind(1, until).bind(2, int64_t{limit});
  return all<OutboxItem>(*s, read_outbox);
}

Status update_outbox(Connection& c, const std::vector<OutboxUpdate>& updates) {
  SIYU_PREPARE(s, c,
               "UPDATE outbox SET state=?, attempts=?, not_before=?, sent_at=?, reason=?, "
               "receipt=? WHERE id=?");
  for (const OutboxUpdate& u : updates) {
    s->bind(1, u.state)
        .bind(2, int64_t{u.attempts})
        .bind(3, u.not_before)
        .bind_opt(4, u.sent_at)
        .bind(5, u.reason)
        .bind(6, u.receipt)
        .bind(7, u.id);
    SIYU_RETURN_IF_ERROR(s->run());
  }
  return Status::ok();
}

Result<std::vector<OutboxItem>> outbox_items(Connection& c, WorkspaceId ws,
                                             const OutboxFilter& f) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kOutboxCols +
                   " FROM outbox WHERE workspace_id=?1 AND id<?2 AND (?3 IS NULL OR "
                   "journey_id=?3) AND (?4 IS NULL OR state=?4) AND (?5 IS NULL OR "
                   "customer_id=?5) ORDER BY id DESC LIMIT ?6");
  s->bind(1, ws.value).bind(2, f.before.value_or(INT64_MAX)).bind_opt(3, f.journey_id);
  if (f.state) {
    s->bind(4, *f.state);
  } else {
    s->bind_null(4);
  }
  s->bind_opt(5, f.customer ? std::optional<int64_t>(f.customer->value) : std::nullopt)
      .bind(6, int64_t{f.limit});
  return all<OutboxItem>(*s, read_outbox);
}

Result<std::vector<std::pair<std::string, int64_t>>> outbox_counts(Connection& c,
                                                                   WorkspaceId ws) {
  SIYU_PREPARE(s, c,
               "SELECT state, count(*) FROM outbox WHERE workspace_id=? GROUP BY state ORDER BY "
               "state");
  s->bind(1, ws.value);
  return all<std::pair<std::string, int64_t>>(*s, [](const Statement& r) {
    return std::pair<std::string, int64_t>(r.text_at(0), r.int_at(1));
  });
}

Result<std::vector<CustomerId>> reserve_mass_day(Connection& c, WorkspaceId ws,
                                                 const std::vector<CustomerId>& ids, int64_t day) {
  std::vector<CustomerId> out;
  SIYU_PREPARE(s, c,
               "INSERT INTO wecom_mass_days (workspace_id, customer_id, day) VALUES (?,?,?) "
               "ON CONFLICT DO NOTHING");
  for (CustomerId id : ids) {
    s->bind(1, ws.value).bind(2, id.value).bind(3, day);
    SIYU_RETURN_IF_ERROR(s->run());
    if (c.changes() > 0) out.push_back(id);
  }
  return out;
}

Status release_mass_day(Connection& c, WorkspaceId ws, const std::vector<CustomerId>& ids,
                        int64_t day) {
  SIYU_PREPARE(s, c,
               "DELETE FROM wecom_mass_days WHERE workspace_id=? AND customer_id=? AND day=?");
  for (CustomerId id : ids) {
    s->bind(1, ws.value).bind(2, id.value).bind(3, day);
    SIYU_RETURN_IF_ERROR(s->run());
  }
  return Status::ok();
}

Status record_wecom_task(Connection& c, WorkspaceId ws, const WecomTask& t) {
  SIYU_PREPARE(s, c,
               "INSERT INTO wecom_tasks (workspace_id, msgid, sender, chat_type, recipients, "
               "created_at) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING");
  s->bind(1, ws.value)
      .bind(2, t.msgid)
      .bind(3, t.sender)
      .bind(4, t.chat_type)
      .bind(5, t.recipients)
      .bind(6, t.created_at);
  return s->run();
}

Result<std::vector<WecomTask>> wecom_tasks(Connection& c, WorkspaceId ws, bool open_only,
                                           int limit) {
  SIYU_PREPARE(s, c,
               "SELECT id, msgid, sender, chat_type, recipients, created_at, checked_at, sent_at, "
               "reminded_at FROM wecom_tasks WHERE workspace_id=? AND (?=0 OR sent_at IS NULL) "
               "ORDER BY id DESC LIMIT ?");
  s->bind(1, ws.value).bind(2, int64_t{open_only ? 1 : 0}).bind(3, int64_t{limit});
  return all<WecomTask>(*s, [](const Statement& r) {
    WecomTask t;
    t.id = r.int_at(0);
    t.msgid = r.text_at(1);
    t.sender = r.text_at(2);
    t.chat_type = r.text_at(3);
    t.recipients = r.int_at(4);
    t.created_at = r.int_at(5);
    t.checked_at = r.opt_int_at(6);
    t.sent_at = r.opt_int_at(7);
    t.reminded_at = r.opt_int_at(8);
    return t;
  });
}

Status update_wecom_task(Connection& c, WorkspaceId ws, const WecomTask& t) {
  SIYU_PREPARE(s, c,
               "UPDATE wecom_tasks SET checked_at=?, sent_at=?, reminded_at=? WHERE "
               "workspace_id=? AND msgid=?");
  s->bind_opt(1, t.checked_at)
      .bind_opt(2, t.sent_at)
      .bind_opt(3, t.reminded_at)
      .bind(4, ws.value)
      .bind(5, t.msgid);
  return s->run();
}

Result<std::vector<StaffTask>> staff_tasks(Connection& c, WorkspaceId ws, bool open_only,
                                           std::optional<UserId> staff, int limit) {
  SIYU_PREPARE(s, c,
               std::string("SELECT ") + kTaskCols +
                   " FROM staff_tasks WHERE workspace_id=?1 AND (?2=0 OR done_at IS NULL) AND "
                   "(?3 IS NULL OR staff_user_id=?3) ORDER BY done_at IS NOT NULL, due_at, id "
                   "LIMIT ?4");
  s->bind(1, ws.value)
      .bind(2, int64_t{open_only ? 1 : 0})
      .bind_opt(3, staff ? std::optional<int64_t>(staff->value) : std::nullopt)
      .bind(4, int64_t{limit});
  return all<StaffTask>(*s, read_task);
}

Status complete_task(Connection& c, WorkspaceId ws, int64_t id, const std::string& by,
                     EpochMs at) {
  SIYU_PREPARE(s, c,
               "UPDATE staff_tasks SET done_at=coalesce(done_at, ?), done_by=CASE WHEN done_at "
               "IS NULL THEN ? ELSE done_by END WHERE workspace_id=? AND id=?");
  s->bind(1, at).bind(2, by).bind(3, ws.value).bind(4, id);
  SIYU_RETURN_IF_ERROR(s->run());
  if (c.changes() == 0) return not_found("task " + std::to_string(id) + " not found");
  return Status::ok();
}

Status set_opt_out(Connection& c, WorkspaceId ws, CustomerId customer, bool opted_out,
                   const std::string& source, EpochMs at) {
  if (opted_out) {
    SIYU_PREPARE(s, c,
                 "INSERT INTO opt_outs (workspace_id, customer_id, at, source) VALUES (?,?,?,?) "
                 "ON CONFLICT DO NOTHING");
    s->bind(1, ws.value).bind(2, customer.value).bind(3, at).bind(4, source);
    return s->run();
  }
  SIYU_PREPARE(s, c, "DELETE FROM opt_outs WHERE workspace_id=? AND customer_id=?");
  s->bind(1, ws.value).bind(2, customer.value);
  return s->run();
}

Result<std::vector<CustomerId>> opted_out(Connection& c, WorkspaceId ws,
                                          const std::vector<CustomerId>& ids) {
  std::vector<CustomerId> out;
  SIYU_PREPARE(any, c, "SELECT EXISTS (SELECT 1 FROM opt_outs WHERE workspace_id=?)");
  any->bind(1, ws.value);
  SIYU_ASSIGN_OR_RETURN(int64_t some, scalar(*any));
  if (some == 0) return out;
  SIYU_PREPARE(s, c, "SELECT 1 FROM opt_outs WHERE workspace_id=? AND customer_id=?");
  for (CustomerId id : ids) {
    s->bind(1, ws.value).bind(2, id.value);
    if (s->step()) out.push_back(id);
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
  }
  return out;
}

Result<std::optional<std::string>> setting(Connection& c, WorkspaceId ws,
                                           const std::string& name) {
  SIYU_PREPARE(s, c, "SELECT value FROM workspace_settings WHERE workspace_id=? AND name=?");
  s->bind(1, ws.value).bind(2, name);
  std::optional<std::string> out;
  if (s->step()) out = s->text_at(0);
  Status st = s->status();
  s->reset();
  SIYU_RETURN_IF_ERROR(st);
  return out;
}

Status put_setting(Connection& c, WorkspaceId ws, const std::string& name,
                   const std::string& value, EpochMs at) {
  SIYU_PREPARE(s, c,
               "INSERT INTO workspace_settings (workspace_id, name, value, updated_at) VALUES "
               "(?,?,?,?) ON CONFLICT DO UPDATE SET value=excluded.value, "
               "updated_at=excluded.updated_at");
  s->bind(1, ws.value).bind(2, name).bind(3, value).bind(4, at);
  return s->run();
}

}  // namespace siyu::store::sqlite::journey_sql
