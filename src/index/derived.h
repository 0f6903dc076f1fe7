// Facts derived from a customer's purchases and activity: lifecycle stage and RFM scores.
// Definitions are in docs/segments.md; days are whole days in the workspace's time zone.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "index/bitmap.h"

namespace siyu::index {

/// No day: the customer never did the thing.
constexpr int32_t kNoDay = INT32_MIN;

/// A customer's paid orders (net of refunds; orders refunded in full do not count).
struct Purchases {
  int32_t orders = 0;
  int32_t last_day = kNoDay;
  int64_t spend = 0;  // cents
  bool operator==(const Purchases&) const = default;
};

enum class Lifecycle : uint8_t { kNew, kActive, kRepeat, kLoyal, kAtRisk, kChurned };

/// "new", "active", "repeat", "loyal", "at_risk", "churned".
std::string_view lifecycle_name(Lifecycle l);
std::optional<Lifecycle> parse_lifecycle(std::string_view s);

/// The stage on `today` of a customer who joined on `joined_day`, bought as `p`, and was last
/// active (any event, order or joining) on `last_active_day`. Checked in this order:
///   new      joined less than 30 days ago and fewer than 2 paid orders
///   loyal    5 or more paid orders, the last less than 90 days ago
///   repeat   2 or more paid orders, the last less than 90 days ago
///   active   last active less than 30 days ago
///   at_risk  last active less than 90 days ago
///   churned  everyone else
Lifecycle lifecycle_of(int32_t joined_day, const Purchases& p, int32_t last_active_day,
                       int32_t today);

/// RFM scores 1–5 of one customer; 0 for customers without a paid order.
struct RfmCell {
  uint8_t r = 0, f = 0, m = 0;
};

/// Scores every buyer by quintile of the workspace's buyers: a value's score is
/// 1 + ⌊5 × (buyers with a strictly worse value) / buyers⌋, so equal values score alike.
/// Recency ranks the last paid day (later is better), frequency the paid orders, monetary
/// the net spend. Indexed by customer id; `size` is the id range.
std::vector<RfmCell> rfm_scores(const Bitmap& buyers, const std::vector<Purchases>& purchases,
                                size_t size);

}  // namespace siyu::index
