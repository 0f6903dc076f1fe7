// The tag engine's moving parts: auto-tag rules, tag expiry and the change feed of saved
// segments. A sweep of a workspace (1) removes expired tags, (2) makes each enabled rule's tag
// exactly the rule's matches, and (3) records who entered and left each saved segment since
// the last sweep, with the day's size. Sweeps run in the background soon after any write
// (touch), every hour for time-based rules, and on demand. A sweep after writes re-checks only
// the customers those writes touched — those who only had events, only where events of their
// types are read (rules/touched.h) — plus everyone for rules and segments on RFM, whose
// quintiles move with other customers' purchases; the hourly and on-demand sweeps check
// everyone, which is what moves customers across behaviour windows as days pass.
#pragma once

#include <condition_variable>
#include <map>
#include <optional>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "index/registry.h"
#include "rules/touched.h"
#include "segment/expr.h"
#include "store/store.h"

namespace siyu::rules {

/// Who would gain and lose a rule's tag if it were applied now.
struct RulePreview {
  uint64_t matches = 0;
  uint64_t gain = 0;
  uint64_t lose = 0;
  std::vector<uint32_t> sample_gain;  // up to 20 customer ids each
  std::vector<uint32_t> sample_lose;
};

struct SweepReport {
  int64_t expired = 0;   // tags removed by expiry
  int64_t rules = 0;     // enabled rules applied
  int64_t gained = 0;    // tags added by rules
  int64_t lost = 0;      // tags removed by rules
  int64_t segments = 0;  // saved segments checked
  int64_t entered = 0;
  int64_t exited = 0;
  std::vector<std::string> problems;  // rules or segments skipped, with the reason
};

/// The author recorded on tags a rule adds or removes: "rule:<id>".
std::string rule_author(int64_t rule_id);

/// Thread-safe.
class TagEngine {
 public:
  TagEngine(store::Store& store, index::IndexRegistry& indexes, const Clock& clock)
      : store_(store), indexes_(indexes), clock_(clock) {}
  ~TagEngine();
  TagEngine(const TagEngine&) = delete;
  TagEngine& operator=(const TagEngine&) = delete;

  /// Starts the background sweeper.
  void start();
  /// Stops it, finishing the sweep in progress.
  void stop();
  /// Notes that these customers changed; the sweeper re-checks them within about 100 ms.
  void touch(WorkspaceId ws, const std::vector<CustomerId>& customers);
  /// Notes that these customers had events of these types and nothing else changed; the
  /// sweeper re-checks them for the rules and segments reading such events.
  void touch_events(WorkspaceId ws,
                    const std::vector<std::pair<CustomerId, std::string_view>>& events);
  /// Notes that rules or segments changed; the sweeper checks everyone within about 100 ms.
  void touch(WorkspaceId ws);
  /// Sweeps the workspace now, checking everyone, or only `among` when given (sweeps of one
  /// workspace never overlap).
  Result<SweepReport> sweep(WorkspaceId ws, const index::Bitmap* among = nullptr);
  /// Sweeps the workspace now for what `touched` names.
  Result<SweepReport> sweep_touched(WorkspaceId ws, const Touched& touched);
  /// Gains and losses of `tag` if exactly the matches of `e` carried it.
  Result<RulePreview> preview(WorkspaceId ws, const std::string& tag, const segment::Expr& e);
  /// OK when `tag` may be edited by hand; kConflict naming the enabled rule that manages it.
  Status check_manual_edit(WorkspaceId ws, const std::string& tag);

 private:
  /// A saved segment's parsed expression and members as of the last sweep. Guarded by the
  /// workspace's sweep lock.
  struct SegmentState {
    std::string expression_json;
    segment::Expr expr;
    std::optional<std::vector<std::string>> event_types;  // segment::event_types_read(expr)
    index::Bitmap members;
    /// When this engine last stored the members bitmap (sweeps between store only changes).
    std::optional<EpochMs> members_written_at;
  };
  Status apply_rule(WorkspaceId ws, const index::CustomerIndex& ix, const store::TagRule& rule,
                    EpochMs now, const Touched* touched, index::Bitmap& changed,
                    SweepReport& report);
  /// Sweeps everyone when `touched` is null.
  Result<SweepReport> sweep_for(WorkspaceId ws, const Touched* touched);
  /// A segment's sweep to record, and its members once recorded.
  struct Feed {
    SegmentState* state = nullptr;
    store::SegmentSweep sweep;
    index::Bitmap members;
  };
  /// The segment's feed, or nullopt when nothing changed and today's size is recorded.
  Result<std::optional<Feed>> feed_segment(WorkspaceId ws, const index::CustomerIndex& ix,
                                           const store::Segment& seg, EpochMs now,
                                           const Touched* touched, SweepReport& report);
  void run();
  std::mutex& workspace_lock(WorkspaceId ws);

  store::Store& store_;
  index::IndexRegistry& indexes_;
  const Clock& clock_;

  std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  /// Workspaces waiting for a sweep: the customers touched, or nullopt for everyone.
  std::map<WorkspaceId, std::optional<Touched>> pending_;
  bool stopping_ = false;
  std::thread thread_;
  std::map<WorkspaceId, std::unique_ptr<std::mutex>> sweep_locks_;
  /// (workspace, segment) → the last day whose size was recorded.
  std::map<std::pair<WorkspaceId, int64_t>, std::string> sized_on_;
  /// (workspace, segment) → its state; entries are made and used under the sweep lock.
  std::map<std::pair<WorkspaceId, int64_t>, SegmentState> segments_;
};

}  // namespace siyu::rules
