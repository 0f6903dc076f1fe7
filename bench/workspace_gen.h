// A synthetic workspace for the segment benchmark: customers with 20 attributes, 200 tags
// with realistic skew and about ten events each over the last year. Deterministic for a seed,
// generated customer by customer so 10 million never sit in memory at once.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/ids.h"
#include "index/customer_index.h"

namespace siyu::bench {

constexpr int kTags = 200;
constexpr int kMaxEvents = 40;
extern const char* const kLayers[5];
extern const char* const kCities[15];
extern const char* const kEventTypes[7];
extern const char* const kLevels[5];

struct GenEvent {
  int type = 0;  // index into kEventTypes
  EpochMs ts = 0;
  int64_t amount = 0;  // cents, order_paid only
};

/// One customer: six built-in attributes, fourteen custom fields (seven text or boolean,
/// seven numbers or dates; absent ones are nullopt), tags and events in time order.
struct GenCustomer {
  uint32_t id = 0;
  std::string layer, gender, city;
  int channel = 0;  // 1..8
  int owner = 0;    // 0 = none
  EpochMs created_at = 0;
  // custom text and boolean fields
  std::string level, province, source_app, interest;
  int store = 0;
  bool vip = false, opted_in = false;
  // custom number and date fields (dates as days since 1970)
  std::optional<int> age, birthday;
  int points = 0, visits = 0, survey = 0, member_since = 0;
  int64_t balance = 0;
  std::vector<int> tags;  // tag numbers; tag k is named "t<k>"
  std::vector<GenEvent> events;
};

class WorkspaceGen {
 public:
  /// Customers whose events fall in the 365 days before `now`.
  WorkspaceGen(uint64_t seed, EpochMs now) : rng_(seed), now_(now) {}
  GenCustomer next(uint32_t id);

 private:
  double unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  uint64_t below(uint64_t n) { return rng_() % n; }
  std::mt19937_64 rng_;
  EpochMs now_;
};

/// The engine's view of a generated customer, as the registry would build it from the store.
index::IndexedCustomer indexed(const GenCustomer& g, const index::CustomerIndex& ix);

}  // namespace siyu::bench
