// One CustomerIndex per workspace, built from the Store on first use and kept exact by
// refresh(): after a write commits, the writer names the customers it touched, and their
// current facts are read back and applied under the workspace's refresh lock. Reading inside
// that lock means the last refresh always applies the newest committed state, whatever order
// concurrent writers commit in.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/clock.h"
#include "index/customer_index.h"
#include "store/store.h"

namespace siyu::index {

/// Thread-safe.
class IndexRegistry {
 public:
  IndexRegistry(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  /// Behaviour older than this many days is not indexed; windows are at most 365 days.
  static constexpr int kActivityDays = 400;

  /// The workspace's index; builds it from the store the first time (seconds for millions).
  Result<const CustomerIndex*> get(WorkspaceId ws);
  /// Re-reads `ids` from the store and applies them. A no-op for workspaces not built yet.
  Status refresh(WorkspaceId ws, const std::vector<CustomerId>& ids);
  /// Re-reads the workspace's custom fields and event properties (after one is declared);
  /// refreshes use them from then on. A no-op for workspaces not built yet.
  Status reload_definitions(WorkspaceId ws);
  /// Reloads the definitions and re-reads every customer of the workspace, in chunks (after
  /// an event property is declared: its values are indexed from the stored events). The index
  /// stays exact and readable throughout.
  Status refresh_all(WorkspaceId ws);
  /// Builds every workspace's index (at server start, so no request waits for a build).
  Status build_all();

  struct Stats {
    uint64_t customers = 0;
    size_t bytes = 0;
  };
  /// Totals over built indexes, for /metrics.
  Stats stats() const;

 private:
  /// What the workspace declared that shapes its index: custom fields and event properties.
  struct Definitions {
    std::vector<store::FieldDef> fields;
    std::vector<std::string> event_properties;
  };
  struct Entry {
    explicit Entry(int offset_minutes) : index(offset_minutes) {}
    std::mutex refresh_mu;
    Definitions definitions;  // guarded by refresh_mu
    CustomerIndex index;
  };
  Result<Entry*> entry(WorkspaceId ws);
  EpochMs activity_since() const;
  Result<Definitions> definitions(WorkspaceId ws);

  store::Store& store_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<WorkspaceId, std::unique_ptr<Entry>> entries_;  // guarded by mu_
};

/// The index's view of a customer's facts, with days cut as `ix` cuts them, the non-personal
/// custom fields among `fields`, and events also counted per value of `event_properties`
/// (under index::event_key).
IndexedCustomer indexed(const store::CustomerFacts& f, const CustomerIndex& ix,
                        const std::vector<store::FieldDef>& fields = {},
                        const std::vector<std::string>& event_properties = {});

}  // namespace siyu::index
