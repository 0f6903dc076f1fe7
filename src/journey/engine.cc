#include "journey/engine.h"

#include <algorithm>
#include <cstdio>

#include "core/time_format.h"
#include "journey/schedule.h"
#include "journey/step_runner.h"
#include "outbox/dispatcher.h"
#include "segment/evaluate.h"
#include "segment/saved.h"

namespace siyu::journey {
namespace {

using index::Bitmap;

constexpr EpochMs kReloadMs = 10'000;
constexpr EpochMs kRefillAheadMs = 60'000;
constexpr EpochMs kFireGraceMs = 6 * 3'600'000;  // a clock trigger missed by longer is skipped
constexpr int kEventBatch = 2000;
constexpr int kRunBatch = 500;
constexpr EpochMs kTickMs = 200;

void log_problem(const std::string& what) {
  std::fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"journeys\",\"problem\":%s}\n",
               Json(what).dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
}

bool where_matches(const Trigger& t, const store::Event& e) {
  if (t.where.empty()) return true;
  const Json props = Json::parse(e.properties_json, nullptr, false);
  if (!props.is_object()) return false;
  for (const auto& entry : t.where) {
    const std::string& value = entry.second;  // named: clang 14 cannot capture a binding
    if (!props.contains(entry.first)) return false;
    const Json& v = props[entry.first];
    const auto same = [&](const Json& x) {
      return x.is_string() ? x.get<std::string>() == value : x.dump() == value;
    };
    if (v.is_array() ? std::none_of(v.begin(), v.end(), same) : !same(v)) return false;
  }
  return true;
}

store::JourneyRun new_run(const store::Journey& j, EpochMs now, std::string trigger_key,
                          const Bitmap& members, Json context) {
  store::JourneyRun r;
  r.journey_id = j.id;
  r.version = j.version;
  r.pc = 0;
  r.due_at = now;
  r.members_blob = index::to_bytes(members);
  r.size = static_cast<int64_t>(members.cardinality());
  r.context_json = context.dump(-1, ' ', false, Json::error_handler_t::replace);
  r.trigger_key = std::move(trigger_key);
  r.entered_at = now;
  return r;
}

std::vector<CustomerId> ids_of(const Bitmap& b) {
  std::vector<CustomerId> out;
  out.reserve(b.cardinality());
  for (uint32_t id : b) out.emplace_back(id);
  return out;
}

}  // namespace

Result<JourneyDef> parse_in_workspace(store::Store& store, WorkspaceId ws, const Json& j) {
  SIYU_ASSIGN_OR_RETURN(store::Workspace w, store.workspace(ws));
  SIYU_ASSIGN_OR_RETURN(int offset, zone_offset_minutes(w.timezone));
  const ExprCheck check = [&](const Json& expr, const std::string& path) -> Status {
    auto parsed = segment::parse_in_workspace(store, ws, expr);
    if (parsed) return Status::ok();
    const std::string field = parsed.error().field().empty()
                                  ? path
                                  : path + "." + parsed.error().field();
    return invalid(path + ": " + parsed.error().message(), field);
  };
  return parse_journey(j, check, offset);
}

JourneyEngine::JourneyEngine(EngineDeps deps)
    : deps_(std::move(deps)), wheel_(deps_.clock.now_ms()) {}

JourneyEngine::~JourneyEngine() { stop(); }

void JourneyEngine::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run_thread(); });
}

void JourneyEngine::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JourneyEngine::journeys_changed(WorkspaceId ws) {
  {
    std::lock_guard lock(mu_);
    changed_.insert(ws);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

void JourneyEngine::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

std::pair<size_t, size_t> JourneyEngine::wheel_stats() const {
  std::lock_guard lock(wheel_mu_);
  // A pending run costs its wheel entry and its node in the membership set.
  return {wheel_.size(), wheel_.memory_bytes() + in_wheel_.size() * 48};
}

void JourneyEngine::run_thread() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto report = tick();
    if (!report) log_problem(report.error().message());
    for (const std::string& p : report ? report->problems : std::vector<std::string>{}) {
      log_problem(p);
    }
    const bool busy = report && report->steps_run >= kRunBatch;
    lock.lock();
    if (busy) continue;
    wake_cv_.wait_for(lock, std::chrono::milliseconds(kTickMs),
                      [this] { return stopping_ || woken_; });
    woken_ = false;
  }
}

Result<JourneyEngine::Workspace*> JourneyEngine::workspace(WorkspaceId ws) {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    changed = changed_.erase(ws) > 0;
  }
  const EpochMs now = deps_.clock.now_ms();
  Workspace& w = workspaces_[ws];
  if (!changed && !w.stale && now - w.loaded_at < kReloadMs) return &w;
  SIYU_ASSIGN_OR_RETURN(store::Workspace row, deps_.store.workspace(ws));
  SIYU_ASSIGN_OR_RETURN(w.offset_minutes, zone_offset_minutes(row.timezone));
  SIYU_ASSIGN_OR_RETURN(std::vector<store::Journey> all, deps_.store.journeys(ws));
  SIYU_ASSIGN_OR_RETURN(w.settings, outbox::load_delivery_settings(deps_.store, ws));
  w.journeys.clear();
  w.status.clear();
  for (store::Journey& j : all) {
    w.status[j.id] = j.status;
    if (j.status != "active") continue;
    auto def = definition(ws, j.id, j.version);
    if (!def) {
      log_problem("journey " + std::to_string(j.id) + ": " + def.error().message());
      continue;
    }
    w.journeys.push_back(Active{std::move(j), *def});
  }
  if (!w.loaded_once) {
    SIYU_ASSIGN_OR_RETURN(w.cursors[Feed::kEvents], deps_.store.journey_cursor(ws, "events"));
    SIYU_ASSIGN_OR_RETURN(w.cursors[Feed::kSegments], deps_.store.journey_cursor(ws, "segments"));
  }
  for (Feed feed : {Feed::kEvents, Feed::kSegments}) {
    const TriggerKind kind = feed == Feed::kEvents ? TriggerKind::kEvent : TriggerKind::kSegment;
    const bool listens = std::any_of(w.journeys.begin(), w.journeys.end(),
                                     [&](const Active& a) { return a.def->trigger.kind == kind; });
    // A feed nobody read until now starts at its newest entry; after a restart, a feed that was
    // being read goes on from its cursor, so nothing stored while the server was down is lost.
    const bool newly = listens && (w.loaded_once ? !w.listened[feed] : !w.cursors[feed]);
    if (newly) SIYU_RETURN_IF_ERROR(follow_head(ws, w, feed));
    w.listened[feed] = listens;
  }
  w.loaded_once = true;
  w.loaded_at = now;
  w.stale = false;
  return &w;
}

Status JourneyEngine::follow_head(WorkspaceId ws, Workspace& w, Feed feed) {
  SIYU_ASSIGN_OR_RETURN(auto heads, deps_.store.trigger_heads(ws));
  const int64_t head = feed == Feed::kEvents ? heads.first : heads.second;
  const std::string name = feed == Feed::kEvents ? "events" : "segments";
  SIYU_RETURN_IF_ERROR(deps_.store.start_runs(ws, {}, {{name, head}}, {}).status());
  w.cursors[feed] = std::max(head, w.cursors[feed].value_or(0));
  return Status::ok();
}

Result<std::shared_ptr<const JourneyDef>> JourneyEngine::definition(WorkspaceId ws, int64_t id,
                                                                     int version) {
  const auto key = std::make_tuple(ws, id, version);
  if (auto it = defs_.find(key); it != defs_.end()) return it->second;
  SIYU_ASSIGN_OR_RETURN(std::string text, deps_.store.journey_definition(ws, id, version));
  SIYU_ASSIGN_OR_RETURN(Json j, parse_json(text));
  SIYU_ASSIGN_OR_RETURN(JourneyDef def, parse_in_workspace(deps_.store, ws, j));
  auto shared = std::make_shared<const JourneyDef>(std::move(def));
  defs_[key] = shared;
  return shared;
}

Result<Bitmap> JourneyEngine::admit(WorkspaceId ws, const Active& a, const Bitmap& candidates) {
  Bitmap out = candidates;
  if (a.def->audience) {
    SIYU_ASSIGN_OR_RETURN(segment::Expr e,
                          segment::parse_in_workspace(deps_.store, ws, *a.def->audience));
    SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, deps_.indexes.get(ws));
    const EpochMs now = deps_.clock.now_ms();
    out = ix->read([&](const index::IndexView& v) { return segment::evaluate(v, e, now, &out); });
  }
  if (out.isEmpty() || a.def->reentry == Reentry::kAlways) return out;
  if (a.def->reentry == Reentry::kOnce) {
    SIYU_ASSIGN_OR_RETURN(auto ever, deps_.store.journey_entrants(ws, a.row.id, 0));
    for (CustomerId c : ever) out.remove(static_cast<uint32_t>(c.value));
    return out;
  }
  SIYU_ASSIGN_OR_RETURN(auto runs, deps_.store.journey_runs(ws, a.row.id));
  for (const store::JourneyRun& r : runs) out -= index::from_bytes(r.members_blob);
  return out;
}

Status JourneyEngine::intake_events(WorkspaceId ws, Workspace& w, TickReport& report) {
  std::vector<const Active*> listening;
  for (const Active& a : w.journeys) {
    if (a.def->trigger.kind == TriggerKind::kEvent) listening.push_back(&a);
  }
  if (listening.empty()) return Status::ok();
  SIYU_ASSIGN_OR_RETURN(std::vector<store::Event> events,
                        deps_.store.events_after(ws, w.cursors[Feed::kEvents].value_or(0),
                                                 kEventBatch));
  if (events.empty()) return Status::ok();
  std::vector<store::RunStart> starts;
  for (const Active* a : listening) {
    const Trigger& t = a->def->trigger;
    Bitmap candidates;
    for (const store::Event& e : events) {
      if (e.type == t.event && where_matches(t, e)) {
        candidates.add(static_cast<uint32_t>(e.customer.value));
      }
    }
    if (candidates.isEmpty()) continue;
    SIYU_ASSIGN_OR_RETURN(Bitmap admitted, admit(ws, *a, candidates));
    for (const store::Event& e : events) {
      const auto id = static_cast<uint32_t>(e.customer.value);
      if (e.type != t.event || !admitted.contains(id) || !where_matches(t, e)) continue;
      if (a->def->reentry != Reentry::kAlways) admitted.remove(id);  // once per batch
      Bitmap one;
      one.add(id);
      Json context = {{"event",
                       {{"type", e.type},
                        {"id", e.event_id},
                        {"channel", e.channel},
                        {"campaign", e.campaign},
                        {"content", e.content},
                        {"properties", Json::parse(e.properties_json, nullptr, false)}}}};
      starts.push_back(store::RunStart{
          new_run(a->row, deps_.clock.now_ms(), "e:" + e.event_id, one, std::move(context)),
          {e.customer}});
    }
  }
  SIYU_ASSIGN_OR_RETURN(int64_t started,
                        deps_.store.start_runs(ws, starts, {{"events", events.back().seq}}, {}));
  w.cursors[Feed::kEvents] = events.back().seq;
  report.runs_started += started;
  return Status::ok();
}

Status JourneyEngine::intake_segments(WorkspaceId ws, Workspace& w, TickReport& report) {
  std::vector<const Active*> listening;
  for (const Active& a : w.journeys) {
    if (a.def->trigger.kind == TriggerKind::kSegment) listening.push_back(&a);
  }
  if (listening.empty()) return Status::ok();
  SIYU_ASSIGN_OR_RETURN(std::vector<store::SegmentChange> changes,
                        deps_.store.segment_changes_after(
                            ws, w.cursors[Feed::kSegments].value_or(0), kEventBatch));
  if (changes.empty()) return Status::ok();
  std::vector<store::RunStart> starts;
  const EpochMs now = deps_.clock.now_ms();
  for (const Active* a : listening) {
    const Trigger& t = a->def->trigger;
    Bitmap candidates;
    for (const store::SegmentChange& c : changes) {
      if (c.segment_id == t.segment_id && c.entered == t.on_enter) {
        candidates.add(static_cast<uint32_t>(c.customer.value));
      }
    }
    if (candidates.isEmpty()) continue;
    SIYU_ASSIGN_OR_RETURN(Bitmap admitted, admit(ws, *a, candidates));
    for (const store::SegmentChange& c : changes) {
      const auto id = static_cast<uint32_t>(c.customer.value);
      if (c.segment_id != t.segment_id || c.entered != t.on_enter || !admitted.contains(id)) {
        continue;
      }
      admitted.remove(id);
      Bitmap one;
      one.add(id);
      Json context = {{"segment", {{"id", c.segment_id}, {"entered", c.entered}}}};
      starts.push_back(store::RunStart{
          new_run(a->row, now, "s:" + std::to_string(c.seq), one, std::move(context)),
          {c.customer}});
    }
  }
  SIYU_ASSIGN_OR_RETURN(int64_t started,
                        deps_.store.start_runs(ws, starts, {{"segments", changes.back().seq}}, {}));
  w.cursors[Feed::kSegments] = changes.back().seq;
  report.runs_started += started;
  return Status::ok();
}

Status JourneyEngine::intake_clock(WorkspaceId ws, Workspace& w, TickReport& report) {
  const EpochMs now = deps_.clock.now_ms();
  for (const Active& a : w.journeys) {
    const Trigger& t = a.def->trigger;
    if (t.kind == TriggerKind::kEvent || t.kind == TriggerKind::kSegment) continue;
    const EpochMs after = a.row.fired_until.value_or(a.row.updated_at);
    const auto fire = latest_fire(t, after, now, w.offset_minutes);
    if (!fire) continue;
    std::vector<store::RunStart> starts;
    if (now - *fire > kFireGraceMs) {
      report.problems.push_back("journey " + std::to_string(a.row.id) + ": skipped the fire of " +
                                format_timestamp(*fire) + ", missed by more than 6 hours");
    } else {
      Bitmap candidates;
      bool customers = true;
      if (t.kind == TriggerKind::kDate) {
        const int64_t day = local_day(*fire, w.offset_minutes);
        const CivilDate target = civil_from_days(day + t.days_before);
        char md[8];
        std::snprintf(md, sizeof md, "%02d-%02d", target.month, target.day);
        SIYU_ASSIGN_OR_RETURN(auto ids,
                              deps_.store.customers_with_anniversary(ws, t.date_field, md));
        const bool leap = target.year % 4 == 0 && (target.year % 100 != 0 || target.year % 400 == 0);
        if (target.month == 2 && target.day == 28 && !leap) {  // 29 February people celebrate on the 28th
          SIYU_ASSIGN_OR_RETURN(auto more,
                                deps_.store.customers_with_anniversary(ws, t.date_field, "02-29"));
          ids.insert(ids.end(), more.begin(), more.end());
        }
        for (CustomerId c : ids) candidates.add(static_cast<uint32_t>(c.value));
      } else if (a.def->audience) {
        SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, deps_.indexes.get(ws));
        SIYU_ASSIGN_OR_RETURN(segment::Expr e,
                              segment::parse_in_workspace(deps_.store, ws, *a.def->audience));
        candidates =
            ix->read([&](const index::IndexView& v) { return segment::evaluate(v, e, now); });
      } else {
        customers = false;  // a schedule that posts to groups
      }
      Bitmap admitted;
      if (customers) {
        // The audience of a date trigger narrows the anniversaries; a schedule's audience
        // was evaluated above.
        if (t.kind == TriggerKind::kDate) {
          SIYU_ASSIGN_OR_RETURN(admitted, admit(ws, a, candidates));
        } else {
          Active no_audience = a;
          auto def = std::make_shared<JourneyDef>(*a.def);
          def->audience.reset();
          no_audience.def = def;
          SIYU_ASSIGN_OR_RETURN(admitted, admit(ws, no_audience, candidates));
        }
      }
      if (!customers || !admitted.isEmpty()) {
        Json context = {{"fire", format_timestamp(*fire)}};
        starts.push_back(store::RunStart{
            new_run(a.row, now, "t:" + std::to_string(*fire), admitted, std::move(context)),
            ids_of(admitted)});
      }
    }
    SIYU_ASSIGN_OR_RETURN(int64_t started,
                          deps_.store.start_runs(ws, starts, {}, {{a.row.id, *fire}}));
    report.runs_started += started;
    w.stale = true;  // fired_until moved
  }
  return Status::ok();
}

Status JourneyEngine::load_due() {
  const EpochMs now = deps_.clock.now_ms();
  {
    std::lock_guard lock(wheel_mu_);
    // Move the wheel to now first, keeping what is due, so the refill lands within its horizon.
    for (int64_t id : wheel_.take_due(now)) {
      in_wheel_.erase(id);
      overdue_.push_back(id);
    }
  }
  return refill_wheel(now);
}

void JourneyEngine::schedule(int64_t run_id, EpochMs due) {
  std::lock_guard lock(wheel_mu_);
  if (in_wheel_.count(run_id) > 0) return;
  if (wheel_.add(due, run_id)) in_wheel_.insert(run_id);
}

Status JourneyEngine::refill_wheel(EpochMs now) {
  const EpochMs until = now + kRefillAheadMs;
  SIYU_ASSIGN_OR_RETURN(std::vector<store::JourneyRun> due,
                        deps_.store.due_runs(until, 100'000));
  for (const store::JourneyRun& r : due) schedule(r.id, r.due_at);
  // A full batch means more are due: look again next tick.
  refilled_until_ = due.size() == 100'000 ? due.back().due_at : until;
  return Status::ok();
}

Status JourneyEngine::execute(const store::JourneyRun& run, TickReport& report) {
  SIYU_ASSIGN_OR_RETURN(Workspace * w, workspace(run.workspace));
  const EpochMs now = deps_.clock.now_ms();
  const auto status = w->status.find(run.journey_id);
  if (status == w->status.end()) return not_found("journey " + std::to_string(run.journey_id));
  if (status->second == "paused" || status->second == "draft") {
    schedule(run.id, now + kRefillAheadMs);  // held until resumed
    return Status::ok();
  }
  if (status->second == "archived") {
    // Archiving a journey takes everyone out of it.
    return deps_.store.advance_run(run.workspace, finish(run.id, run.pc)).status();
  }
  SIYU_ASSIGN_OR_RETURN(auto def, definition(run.workspace, run.journey_id, run.version));
  RunContext ctx{run.workspace, w->offset_minutes, w->settings, def.get()};
  auto state = run_steps(deps_, run, ctx, now, report);
  if (!state) {
    if (state.error().code() == ErrorCode::kConflict) return Status::ok();  // moved meanwhile
    return state.error();
  }
  for (const auto& [id, due] : state->branches) schedule(id, due);
  if (!state->finished) schedule(run.id, state->due_at);
  return Status::ok();
}

Result<TickReport> JourneyEngine::tick() {
  TickReport report;
  SIYU_ASSIGN_OR_RETURN(std::vector<store::Workspace> all, deps_.store.workspaces());
  for (const store::Workspace& row : all) {
    SIYU_ASSIGN_OR_RETURN(Workspace * w, workspace(row.id));
    for (auto step : {&JourneyEngine::intake_events, &JourneyEngine::intake_segments,
                      &JourneyEngine::intake_clock}) {
      Status st = (this->*step)(row.id, *w, report);
      if (!st.is_ok()) {
        report.problems.push_back("workspace " + row.slug + ": " + st.message());
      }
    }
  }
  const EpochMs now = deps_.clock.now_ms();
  std::vector<int64_t> due;
  {
    std::lock_guard lock(wheel_mu_);
    due.swap(overdue_);
  }
  const auto take = [&] {
    std::lock_guard lock(wheel_mu_);
    for (int64_t id : wheel_.take_due(now)) {
      in_wheel_.erase(id);
      due.push_back(id);
    }
  };
  take();  // moves the wheel to now, so the refill files runs within its horizon
  if (report.runs_started > 0 || now + kRefillAheadMs / 2 > refilled_until_) {
    SIYU_RETURN_IF_ERROR(refill_wheel(now));
    take();
  }
  for (size_t i = 0; i < due.size(); i += kRunBatch) {
    std::vector<int64_t> ids(due.begin() + static_cast<ptrdiff_t>(i),
                             due.begin() + static_cast<ptrdiff_t>(std::min(due.size(), i + kRunBatch)));
    SIYU_ASSIGN_OR_RETURN(std::vector<store::JourneyRun> runs, deps_.store.runs_by_id(ids));
    for (const store::JourneyRun& run : runs) {
      if (run.due_at > now) {
        schedule(run.id, run.due_at);
        continue;
      }
      Status st = execute(run, report);
      if (!st.is_ok()) {
        report.problems.push_back("run " + std::to_string(run.id) + ": " + st.message());
        schedule(run.id, now + kRefillAheadMs);  // try again later
      }
    }
  }
  return report;
}

}  // namespace siyu::journey
