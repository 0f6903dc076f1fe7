#include "rules/tag_engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/time_format.h"
#include "segment/evaluate.h"
#include "segment/saved.h"

namespace siyu::rules {
namespace {

using index::Bitmap;

constexpr auto kSettle = std::chrono::milliseconds(100);  // lets a burst of writes land
constexpr auto kPeriod = std::chrono::hours(1);           // time-based rules and expiry
constexpr size_t kSample = 20;
/// A segment's members bitmap is stored at most this often; the change feed covers the rest.
constexpr EpochMs kMembersEvery = 60'000;

std::vector<CustomerId> ids_of(const Bitmap& b) {
  std::vector<CustomerId> out;
  out.reserve(b.cardinality());
  for (uint32_t id : b) out.emplace_back(id);
  return out;
}

std::vector<uint32_t> sample(const Bitmap& b) {
  std::vector<uint32_t> out;
  for (auto it = b.begin(); it != b.end() && out.size() < kSample; ++it) out.push_back(*it);
  return out;
}

void log_problem(WorkspaceId ws, const std::string& what) {
  std::fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"sweep\",\"workspace\":%lld,\"problem\":%s}\n",
               static_cast<long long>(ws.value), Json(what).dump().c_str());
}

}  // namespace

std::string rule_author(int64_t rule_id) { return "rule:" + std::to_string(rule_id); }

TagEngine::~TagEngine() { stop(); }

void TagEngine::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void TagEngine::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TagEngine::touch(WorkspaceId ws, const std::vector<CustomerId>& customers) {
  if (customers.empty()) return;
  Bitmap ids;
  for (CustomerId c : customers) ids.add(static_cast<uint32_t>(c.value));
  {
    std::lock_guard lock(mu_);
    auto [it, fresh] = pending_.try_emplace(ws, Touched());
    if (it->second) it->second->add_any(ids);
  }
  wake_.notify_all();
}

void TagEngine::touch_events(WorkspaceId ws,
                             const std::vector<std::pair<CustomerId, std::string_view>>& events) {
  if (events.empty()) return;
  // By type, ids ascending: a bitmap takes sorted ids many at a time.
  std::vector<std::pair<std::string_view, uint32_t>> sorted;
  sorted.reserve(events.size());
  for (const auto& [customer, type] : events) {
    sorted.emplace_back(type, static_cast<uint32_t>(customer.value));
  }
  std::sort(sorted.begin(), sorted.end());
  Touched touched;
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < sorted.size();) {
    ids.clear();
    const std::string_view type = sorted[i].first;
    for (; i < sorted.size() && sorted[i].first == type; ++i) ids.push_back(sorted[i].second);
    touched.add_events(type, ids);
  }
  {
    std::lock_guard lock(mu_);
    auto [it, fresh] = pending_.try_emplace(ws, Touched());
    if (it->second) it->second->merge(touched);
  }
  wake_.notify_all();
}

void TagEngine::touch(WorkspaceId ws) {
  {
    std::lock_guard lock(mu_);
    pending_[ws] = std::nullopt;
  }
  wake_.notify_all();
}

void TagEngine::run() {
  auto next_full = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_until(lock, next_full, [&] { return stopping_ || !pending_.empty(); });
    if (stopping_) break;
    std::map<WorkspaceId, std::optional<Touched>> due;
    if (std::chrono::steady_clock::now() >= next_full) {
      lock.unlock();
      auto all = store_.workspaces();
      lock.lock();
      if (all) {
        for (const auto& w : *all) due[w.id] = std::nullopt;
      }
      next_full = std::chrono::steady_clock::now() + kPeriod;
    } else {
      wake_.wait_for(lock, kSettle, [&] { return stopping_; });
    }
    for (auto& [ws, customers] : pending_) {
      if (!due.contains(ws)) due[ws] = std::move(customers);
    }
    pending_.clear();
    lock.unlock();
    for (const auto& [ws, touched] : due) {
      auto report = sweep_for(ws, touched ? &*touched : nullptr);
      if (!report) log_problem(ws, report.error().to_string());
    }
    lock.lock();
  }
}

std::mutex& TagEngine::workspace_lock(WorkspaceId ws) {
  std::lock_guard lock(mu_);
  auto& m = sweep_locks_[ws];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Result<SweepReport> TagEngine::sweep(WorkspaceId ws, const Bitmap* among) {
  if (among == nullptr) return sweep_for(ws, nullptr);
  Touched touched;
  touched.add_any(*among);
  return sweep_for(ws, &touched);
}

Result<SweepReport> TagEngine::sweep_touched(WorkspaceId ws, const Touched& touched) {
  return sweep_for(ws, &touched);
}

Result<SweepReport> TagEngine::sweep_for(WorkspaceId ws, const Touched* given) {
  std::lock_guard sweeping(workspace_lock(ws));
  SweepReport report;
  const EpochMs now = clock_.now_ms();
  SIYU_ASSIGN_OR_RETURN(auto expired, store_.expire_tags(ws, now));
  report.expired = static_cast<int64_t>(expired.size());
  SIYU_RETURN_IF_ERROR(indexes_.refresh(ws, expired));
  // Customers whose tags changed in this sweep are re-checked by the segments too.
  std::optional<Touched> touched;
  if (given != nullptr) {
    touched = *given;
    Bitmap expired_ids;
    for (CustomerId c : expired) expired_ids.add(static_cast<uint32_t>(c.value));
    touched->add_any(expired_ids);
  }
  Bitmap changed;
  SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, indexes_.get(ws));
  SIYU_ASSIGN_OR_RETURN(auto rules, store_.tag_rules(ws));
  for (const auto& rule : rules) {
    if (rule.enabled) {
      SIYU_RETURN_IF_ERROR(apply_rule(ws, *ix, rule, now, touched ? &*touched : nullptr, changed, report));
    }
  }
  if (touched) touched->add_any(changed);
  SIYU_ASSIGN_OR_RETURN(auto segments, store_.segments(ws));
  std::vector<Feed> feeds;
  for (const auto& seg : segments) {
    SIYU_ASSIGN_OR_RETURN(auto feed, feed_segment(ws, *ix, seg, now, touched ? &*touched : nullptr, report));
    if (feed) feeds.push_back(std::move(*feed));
  }
  // Every segment's changes in one transaction; the states move on once it is durable.
  if (!feeds.empty()) {
    std::vector<store::SegmentSweep> sweeps;
    sweeps.reserve(feeds.size());
    for (const Feed& f : feeds) sweeps.push_back(f.sweep);
    SIYU_RETURN_IF_ERROR(store_.record_segment_sweeps(ws, sweeps));
    std::lock_guard lock(mu_);
    for (Feed& f : feeds) {
      report.entered += static_cast<int64_t>(f.sweep.entered.size());
      report.exited += static_cast<int64_t>(f.sweep.exited.size());
      f.state->members = std::move(f.members);
      if (f.sweep.members_blob) f.state->members_written_at = f.sweep.at;
      sized_on_[{ws, f.sweep.segment_id}] = f.sweep.day;
    }
  }
  for (const auto& p : report.problems) log_problem(ws, p);
  return report;
}

Status TagEngine::apply_rule(WorkspaceId ws, const index::CustomerIndex& ix,
                             const store::TagRule& rule, EpochMs now, const Touched* touched,
                             Bitmap& changed_ids, SweepReport& report) {
  auto j = parse_json(rule.expression_json);
  auto e = j ? segment::parse_in_workspace(store_, ws, *j) : Result<segment::Expr>(j.error());
  if (!e) {
    // A segment it refers to was deleted or changed: the rule's tag is left as it was.
    report.problems.push_back("rule " + std::to_string(rule.id) + ": " + e.error().message());
    return Status::ok();
  }
  std::optional<Bitmap> relevant;
  if (touched != nullptr && !segment::depends_on_everyone(*e)) {
    relevant = touched->relevant_to(segment::event_types_read(*e));
  }
  const Bitmap* among = relevant ? &*relevant : nullptr;
  auto [gain, lose] = ix.read([&](const index::IndexView& v) {
    const Bitmap members = segment::evaluate(v, *e, now, among);
    const Bitmap has = among != nullptr ? v.tag(rule.tag) & *among : v.tag(rule.tag);
    return std::pair{members - has, has - members};
  });
  changed_ids |= gain;
  changed_ids |= lose;
  const std::string by = rule_author(rule.id);
  std::vector<CustomerId> gained = ids_of(gain), lost = ids_of(lose);
  if (!gained.empty()) {
    SIYU_RETURN_IF_ERROR(store_.bulk_tag(ws, gained, rule.tag, false, by, now, std::nullopt).status());
  }
  if (!lost.empty()) {
    SIYU_RETURN_IF_ERROR(store_.bulk_tag(ws, lost, rule.tag, true, by, now, std::nullopt).status());
  }
  std::vector<CustomerId> changed = gained;
  changed.insert(changed.end(), lost.begin(), lost.end());
  SIYU_RETURN_IF_ERROR(indexes_.refresh(ws, changed));
  ++report.rules;
  report.gained += static_cast<int64_t>(gained.size());
  report.lost += static_cast<int64_t>(lost.size());
  return store_.note_rule_sweep(ws, rule.id, now, static_cast<int64_t>(gained.size()),
                                static_cast<int64_t>(lost.size()));
}

Result<std::optional<TagEngine::Feed>> TagEngine::feed_segment(
    WorkspaceId ws, const index::CustomerIndex& ix, const store::Segment& seg, EpochMs now,
    const Touched* touched, SweepReport& report) {
  const auto key = std::pair{ws, seg.id};
  SegmentState* state = nullptr;
  bool known = false;
  {
    std::lock_guard lock(mu_);
    auto [it, fresh] = segments_.try_emplace(key);
    state = &it->second;
    known = !fresh;
  }
  // A full sweep re-reads the definition (a segment it refers to may have changed); a sweep
  // after writes reuses it unless the segment itself was edited.
  bool everyone = touched == nullptr;
  if (everyone || !known || state->expression_json != seg.expression_json) {
    auto j = parse_json(seg.expression_json);
    auto e = j ? segment::parse_in_workspace(store_, ws, *j, seg.id)
               : Result<segment::Expr>(j.error());
    if (!e) {
      report.problems.push_back("segment " + std::to_string(seg.id) + ": " + e.error().message());
      return std::optional<Feed>();
    }
    state->expr = std::move(*e);
    state->event_types = segment::event_types_read(state->expr);
    if (state->expression_json != seg.expression_json) everyone = true;
    state->expression_json = seg.expression_json;
  }
  bool baseline = false;  // the first sweep ever: members then did not "enter"
  if (!known) {
    SIYU_ASSIGN_OR_RETURN(store::SegmentMembers stored, store_.segment_members(ws, seg.id));
    baseline = stored.blob.empty();
    if (!baseline) {
      state->members = index::from_bytes(stored.blob);
      for (const store::SegmentChange& c : stored.since) {
        const auto id = static_cast<uint32_t>(c.customer.value);
        if (c.entered) {
          state->members.add(id);
        } else {
          state->members.remove(id);
        }
      }
    }
    everyone = true;
  }
  if (segment::depends_on_everyone(state->expr)) everyone = true;
  ++report.segments;
  std::optional<Bitmap> among;
  if (!everyone) among = touched->relevant_to(state->event_types);
  Bitmap members = ix.read([&](const index::IndexView& v) {
    if (!among) return segment::evaluate(v, state->expr, now);
    return (state->members - *among) | segment::evaluate(v, state->expr, now, &*among);
  });
  store::SegmentSweep sw;
  sw.segment_id = seg.id;
  sw.at = now;
  sw.size = static_cast<int64_t>(members.cardinality());
  sw.day = format_date(civil_from_days(ix.day_of(now)));
  if (!baseline) {
    sw.entered = ids_of(members - state->members);
    sw.exited = ids_of(state->members - members);
  }
  bool sized_today = false;
  {
    std::lock_guard lock(mu_);
    sized_today = sized_on_[key] == sw.day;
  }
  if (!baseline && sw.entered.empty() && sw.exited.empty() && sized_today) return std::optional<Feed>();
  if (baseline || !state->members_written_at || now - *state->members_written_at >= kMembersEvery) {
    sw.members_blob = index::to_bytes(members);
  }
  return std::optional<Feed>(Feed{state, std::move(sw), std::move(members)});
}

Result<RulePreview> TagEngine::preview(WorkspaceId ws, const std::string& tag,
                                       const segment::Expr& e) {
  SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, indexes_.get(ws));
  const EpochMs now = clock_.now_ms();
  return ix->read([&](const index::IndexView& v) {
    const Bitmap members = segment::evaluate(v, e, now);
    const Bitmap& has = v.tag(tag);
    const Bitmap gain = members - has, lose = has - members;
    return RulePreview{members.cardinality(), gain.cardinality(), lose.cardinality(),
                       sample(gain), sample(lose)};
  });
}

Status TagEngine::check_manual_edit(WorkspaceId ws, const std::string& tag) {
  SIYU_ASSIGN_OR_RETURN(auto rules, store_.tag_rules(ws));
  for (const auto& r : rules) {
    if (r.enabled && r.tag == tag) {
      return Status(ErrorCode::kConflict,
                    "tag \"" + tag + "\" is managed by rule " + std::to_string(r.id) + " (" +
                        r.name + "); change the rule or disable it first",
                    "tag");
    }
  }
  return Status::ok();
}

}  // namespace siyu::rules
