// One CustomerIndex per workspace, built from the Store on first use and kept exact two ways:
// - refresh(): after a write commits, the writer names the customers it touched, and their
//   current facts are read back and applied under the workspace's refresh lock;
// - events_committed() / apply_committed(): ingested events arrive from the store in commit
//   order and are added to the customers' behaviour without reading anything back.
// Every customer carries the event generation its index state reflects (FactsSnapshot): a
// refresh sets it to its snapshot's, and a notice at or below it is already included and
// skipped. So the two paths meet exactly, whatever order they run in.
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
  /// Parts a build reads the store in at once: reading and converting a customer costs about
  /// twice what putting it into the index does (docs/benchmarks.md, "Rebuild").
  static constexpr int kReadLanes = 2;

  /// The workspace's index; builds it from the store the first time (seconds for millions).
  Result<const CustomerIndex*> get(WorkspaceId ws);
  /// Re-reads `ids` from the store and applies them. A no-op for workspaces not built yet.
  Status refresh(WorkspaceId ws, const std::vector<CustomerId>& ids);
  /// Re-reads which of `ids` hold `tag` and applies that alone: after a change to that one
  /// tag (a bulk tag), far cheaper than a whole refresh and as exact.
  Status refresh_tag(WorkspaceId ws, const std::string& tag, const std::vector<CustomerId>& ids);
  /// Queues the store's notice of committed events (the store's listener: cheap, no locks
  /// beyond the queue's).
  void events_committed(store::EventsCommitted notice);
  /// Applies every queued notice in commit order. A writer calls it after its ingest returns,
  /// so its events are in the index before it answers.
  void apply_committed();
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
    /// The event generation customer `id` reflects; grows the table as needed.
    int64_t& generation(uint32_t id) {
      if (id >= generations.size()) generations.resize(id + 1, built_generation);
      return generations[id];
    }
    std::mutex refresh_mu;
    Definitions definitions;             // guarded by refresh_mu
    int64_t built_generation = 0;        // of the snapshot the index was built from
    std::vector<int64_t> generations;    // by id; guarded by refresh_mu
    CustomerIndex index;
  };
  Result<Entry*> entry(WorkspaceId ws);
  /// The built entry of the workspace, or null.
  Entry* built(WorkspaceId ws);
  /// Adds one notice's customers and events to the entry (under its refresh lock).
  void apply(Entry& e, const store::EventsCommitted& notice);
  EpochMs activity_since() const;
  Result<Definitions> definitions(WorkspaceId ws);

  store::Store& store_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<WorkspaceId, std::unique_ptr<Entry>> entries_;  // guarded by mu_
  std::mutex queue_mu_;
  std::vector<store::EventsCommitted> queue_;  // guarded by queue_mu_
  std::mutex apply_mu_;  // one applier at a time keeps the commit order
};

/// The index's view of a customer's facts, with days cut as `ix` cuts them, the non-personal
/// custom fields among `fields`, and events also counted per value of `event_properties`
/// (under index::event_key).
IndexedCustomer indexed(const store::CustomerFacts& f, const CustomerIndex& ix,
                        const std::vector<store::FieldDef>& fields = {},
                        const std::vector<std::string>& event_properties = {});

}  // namespace siyu::index
