// The journey engine (SOP 与旅程引擎). Each tick it
//  1. reads triggers: new events and segment changes from persisted cursors, and the clock
//     for schedule, date and holiday triggers; customers who qualify (audience, re-entry) start
//     runs, written with the cursor move in one transaction, so a trigger starts a run once;
//  2. runs the steps of runs that are due, found through an in-memory timing wheel that is
//     refilled from the store. Every step is one transaction that moves the run on together
//     with its outbox rows (unique idempotency keys), caps and tasks: a crash repeats at most
//     the step in progress, and a repeated step adds nothing.
// Runs keep the version of the definition they entered with, so editing a running journey
// neither strands nor duplicates anyone inside.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "index/registry.h"
#include "journey/definition.h"
#include "journey/timing_wheel.h"
#include "outbox/delivery_settings.h"
#include "store/store.h"

namespace siyu::journey {

/// Parses a definition with its segment expressions checked against the workspace.
Result<JourneyDef> parse_in_workspace(store::Store& store, WorkspaceId ws, const Json& j);

struct EngineDeps {
  store::Store& store;
  index::IndexRegistry& indexes;
  const Clock& clock;
  /// Customers whose tags a step changed (the tag engine re-checks them).
  std::function<void(WorkspaceId, const std::vector<CustomerId>&)> customers_changed;
  /// Outbox rows were written (the dispatcher looks at once).
  std::function<void()> outbox_written;
};

struct TickReport {
  int64_t runs_started = 0;
  int64_t steps_run = 0;
  int64_t outbox_rows = 0;
  int64_t capped = 0;
  std::vector<std::string> problems;
};

/// Thread-safe: start/stop/wake/journeys_changed from any thread; tick() runs on the engine's
/// thread, or in tests on the caller's while the thread is not started.
class JourneyEngine {
 public:
  explicit JourneyEngine(EngineDeps deps);
  ~JourneyEngine();
  JourneyEngine(const JourneyEngine&) = delete;
  JourneyEngine& operator=(const JourneyEngine&) = delete;

  void start();
  void stop();
  /// Journeys of `ws` were created, edited, paused or resumed.
  void journeys_changed(WorkspaceId ws);
  /// Events or segment changes arrived: read triggers now rather than at the next tick.
  void wake();
  /// Reads triggers and runs due steps once, at the clock's now.
  Result<TickReport> tick();
  /// Files the runs due within the next minute into the timing wheel without running them
  /// (what a restarted engine does first; tick() calls it as needed).
  Status load_due();
  /// Pending runs in the timing wheel and its bytes (for /metrics and the benchmark).
  std::pair<size_t, size_t> wheel_stats() const;

 private:
  struct Active {
    store::Journey row;
    std::shared_ptr<const JourneyDef> def;
  };
  /// The two trigger feeds read through persisted cursors.
  enum class Feed { kEvents, kSegments };
  struct Workspace {
    int offset_minutes = 480;
    std::vector<Active> journeys;  // active ones
    std::map<int64_t, std::string> status;  // every journey's status, by id
    outbox::DeliverySettings settings;
    /// Cursor values as stored (the engine is their only writer), by feed; nullopt = unset.
    std::map<Feed, std::optional<int64_t>> cursors;
    std::map<Feed, bool> listened;  // whether an active journey reads the feed
    bool loaded_once = false;
    EpochMs loaded_at = 0;
    bool stale = true;
  };
  Result<Workspace*> workspace(WorkspaceId ws);
  Result<std::shared_ptr<const JourneyDef>> definition(WorkspaceId ws, int64_t id, int version);
  /// Moves a feed's cursor to its newest entry: journeys react from their activation on.
  Status follow_head(WorkspaceId ws, Workspace& w, Feed feed);
  Status intake_events(WorkspaceId ws, Workspace& w, TickReport& report);
  Status intake_segments(WorkspaceId ws, Workspace& w, TickReport& report);
  Status intake_clock(WorkspaceId ws, Workspace& w, TickReport& report);
  /// Of `candidates`, those `a` admits: its audience and re-entry rule.
  Result<index::Bitmap> admit(WorkspaceId ws, const Active& a, const index::Bitmap& candidates);
  Status refill_wheel(EpochMs now);
  Status execute(const store::JourneyRun& run, TickReport& report);
  void schedule(int64_t run_id, EpochMs due);
  void run_thread();

  EngineDeps deps_;
  std::map<WorkspaceId, Workspace> workspaces_;  // tick only
  std::map<std::tuple<WorkspaceId, int64_t, int>, std::shared_ptr<const JourneyDef>> defs_;

  mutable std::mutex wheel_mu_;
  TimingWheel wheel_;             // guarded by wheel_mu_
  std::set<int64_t> in_wheel_;    // guarded by wheel_mu_
  std::vector<int64_t> overdue_;  // guarded by wheel_mu_: taken from the wheel by load_due()
  EpochMs refilled_until_ = 0;    // tick only: runs due up to here are in the wheel

  std::mutex mu_;
  std::condition_variable wake_cv_;
  std::set<WorkspaceId> changed_;  // guarded by mu_
  bool woken_ = false;             // guarded by mu_
  bool stopping_ = false;          // guarded by mu_
  std::thread thread_;
};

}  // namespace siyu::journey
