// The analytics engine of a server: one Dataset snapshot per workspace, rebuilt from the store
// when data changed, and the lifetime-value refit that writes predictions back.
//
// Freshness: a query gets the current snapshot. When the store has committed writes since it
// was built and it is older than the refresh interval (10 s, or five times the last build's
// duration when builds are slow), a rebuild starts in the background and the next queries get
// the new snapshot once it is ready. `fresh` asks for a synchronous rebuild instead.
#pragma once

#include <future>
#include <map>
#include <memory>
#include <mutex>

#include "analytics/dataset.h"
#include "analytics/ltv.h"
#include "core/clock.h"
#include "core/json.h"
#include "store/store.h"

namespace siyu::analytics {

/// Thread-safe.
class AnalyticsEngine {
 public:
  AnalyticsEngine(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  ~AnalyticsEngine();

  /// The workspace's snapshot (see the freshness rule above).
  Result<std::shared_ptr<const Dataset>> dataset(WorkspaceId ws, bool fresh = false);

  /// What a refit found and wrote.
  struct Refit {
    LtvModel model;
    int64_t predictions = 0;
    EpochMs fitted_at = 0;
    int32_t as_of = 0;  // local day number
    double seconds = 0;
  };
  /// Fits BG/NBD and Gamma-Gamma on the workspace's purchases up to the end of local day
  /// `as_of` (default: the day of the latest paid order, or today if that is later — so a
  /// historical import is judged at its own end), predicts every buyer's next-12-month
  /// purchases, value and P(alive), and stores the predictions.
  Result<Refit> refit(WorkspaceId ws, std::optional<int32_t> as_of = std::nullopt);
  /// The model of the workspace's last refit (kept as the workspace setting "ltv_model"),
  /// or nullopt before the first.
  Result<std::optional<Json>> last_refit(WorkspaceId ws);

  struct Stats {
    size_t snapshots = 0;
    size_t bytes = 0;             // held by the current snapshots
    double build_seconds = 0;     // the slowest latest build among them
  };
  /// Totals over the workspaces' current snapshots, for /metrics.
  Stats stats() const;

  /// Days a prediction covers.
  static constexpr double kHorizonDays = 365;

 private:
  struct Entry {
    std::mutex mu;
    std::shared_ptr<const Dataset> current;
    std::future<Result<std::shared_ptr<const Dataset>>> building;  // a background rebuild
    double build_seconds = 0;
  };
  Entry& entry(WorkspaceId ws);
  /// Builds a snapshot, timing it into `seconds`.
  Result<std::shared_ptr<const Dataset>> build(WorkspaceId ws, double* seconds);
  bool stale(const Entry& e) const;

  store::Store& store_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<WorkspaceId, std::unique_ptr<Entry>> entries_;
};

/// The local day of the latest paid order of positive net value (INT32_MAX when none).
int32_t last_purchase_day(const Dataset& d);

/// Predictions for every buyer in `hs` under `model`, over `horizon_days`.
std::vector<store::Prediction> predict(const LtvModel& model,
                                       const std::vector<CustomerHistory>& hs, double horizon_days);

}  // namespace siyu::analytics
