#include "rules/tag_engine.h"

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

std::string serialize(const Bitmap& b) {
  std::string out(b.getSizeInBytes(true), '\0');
  b.write(out.data(), true);
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

void TagEngine::touch(WorkspaceId ws) {
  {
    std::lock_guard lock(mu_);
    touched_.insert(ws);
  }
  wake_.notify_all();
}

void TagEngine::run() {
  auto next_full = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_until(lock, next_full, [&] { return stopping_ || !touched_.empty(); });
    if (stopping_) break;
    std::set<WorkspaceId> due;
    if (std::chrono::steady_clock::now() >= next_full) {
      lock.unlock();
      auto all = store_.workspaces();
      lock.lock();
      if (all) {
        for (const auto& w : *all) due.insert(w.id);
      }
      next_full = std::chrono::steady_clock::now() + kPeriod;
    } else {
      wake_.wait_for(lock, kSettle, [&] { return stopping_; });
    }
    due.insert(touched_.begin(), touched_.end());
    touched_.clear();
    lock.unlock();
    for (WorkspaceId ws : due) {
      auto report = sweep(ws);
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

Result<SweepReport> TagEngine::sweep(WorkspaceId ws) {
  std::lock_guard sweeping(workspace_lock(ws));
  SweepReport report;
  const EpochMs now = clock_.now_ms();
  SIYU_ASSIGN_OR_RETURN(auto expired, store_.expire_tags(ws, now));
  report.expired = static_cast<int64_t>(expired.size());
  SIYU_RETURN_IF_ERROR(indexes_.refresh(ws, expired));
  SIYU_ASSIGN_OR_RETURN(const index::CustomerIndex* ix, indexes_.get(ws));
  SIYU_ASSIGN_OR_RETURN(auto rules, store_.tag_rules(ws));
  for (const auto& rule : rules) {
    if (rule.enabled) SIYU_RETURN_IF_ERROR(apply_rule(ws, *ix, rule, now, report));
  }
  SIYU_ASSIGN_OR_RETURN(auto segments, store_.segments(ws));
  for (const auto& seg : segments) SIYU_RETURN_IF_ERROR(feed_segment(ws, *ix, seg, now, report));
  for (const auto& p : report.problems) log_problem(ws, p);
  return report;
}

Status TagEngine::apply_rule(WorkspaceId ws, const index::CustomerIndex& ix,
                             const store::TagRule& rule, EpochMs now, SweepReport& report) {
  auto j = parse_json(rule.expression_json);
  auto e = j ? segment::parse_in_workspace(store_, ws, *j) : Result<segment::Expr>(j.error());
  if (!e) {
    // A segment it refers to was deleted or changed: the rule's tag is left as it was.
    report.problems.push_back("rule " + std::to_string(rule.id) + ": " + e.error().message());
    return Status::ok();
  }
  auto [gain, lose] = ix.read([&](const index::IndexView& v) {
    const Bitmap members = segment::evaluate(v, *e, now);
    const Bitmap& has = v.tag(rule.tag);
    return std::pair{members - has, has - members};
  });
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

Status TagEngine::feed_segment(WorkspaceId ws, const index::CustomerIndex& ix,
                               const store::Segment& seg, EpochMs now, SweepReport& report) {
  auto j = parse_json(seg.expression_json);
  auto e = j ? segment::parse_in_workspace(store_, ws, *j, seg.id)
             : Result<segment::Expr>(j.error());
  if (!e) {
    report.problems.push_back("segment " + std::to_string(seg.id) + ": " + e.error().message());
    return Status::ok();
  }
  ++report.segments;
  const Bitmap members =
      ix.read([&](const index::IndexView& v) { return segment::evaluate(v, *e, now); });
  SIYU_ASSIGN_OR_RETURN(std::string blob, store_.segment_members_blob(ws, seg.id));
  store::SegmentSweep sw;
  sw.segment_id = seg.id;
  sw.at = now;
  sw.size = static_cast<int64_t>(members.cardinality());
  sw.day = format_date(civil_from_days(ix.day_of(now)));
  // The first sweep sets the baseline: members then did not "enter".
  if (!blob.empty()) {
    const Bitmap before = Bitmap::readSafe(blob.data(), blob.size());
    sw.entered = ids_of(members - before);
    sw.exited = ids_of(before - members);
  }
  const auto key = std::pair{ws, seg.id};
  bool sized_today = false;
  {
    std::lock_guard lock(mu_);
    sized_today = sized_on_[key] == sw.day;
  }
  if (!blob.empty() && sw.entered.empty() && sw.exited.empty() && sized_today) return Status::ok();
  sw.members_blob = serialize(members);
  report.entered += static_cast<int64_t>(sw.entered.size());
  report.exited += static_cast<int64_t>(sw.exited.size());
  SIYU_RETURN_IF_ERROR(store_.record_segment_sweep(ws, sw));
  std::lock_guard lock(mu_);
  sized_on_[key] = sw.day;
  return Status::ok();
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
