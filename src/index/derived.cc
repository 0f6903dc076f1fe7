#include "index/derived.h"

#include <algorithm>
#include <array>

namespace siyu::index {
namespace {

constexpr std::array<std::string_view, 6> kLifecycleNames = {"new",  "active",  "repeat",
                                                             "loyal", "at_risk", "churned"};

bool within(int32_t day, int32_t today, int32_t days) {
  return day != kNoDay && today - day < days;
}

/// The 1–5 score of `value` among every buyer's value, sorted.
uint8_t quintile(int64_t value, const std::vector<int64_t>& sorted) {
  const auto worse = std::lower_bound(sorted.begin(), sorted.end(), value) - sorted.begin();
  const auto n = static_cast<int64_t>(sorted.size());
  return static_cast<uint8_t>(1 + std::min<int64_t>(4, 5 * worse / n));
}

}  // namespace

std::string_view lifecycle_name(Lifecycle l) { return kLifecycleNames[static_cast<size_t>(l)]; }

std::optional<Lifecycle> parse_lifecycle(std::string_view s) {
  for (size_t i = 0; i < kLifecycleNames.size(); ++i) {
    if (kLifecycleNames[i] == s) return static_cast<Lifecycle>(i);
  }
  return std::nullopt;
}

Lifecycle lifecycle_of(int32_t joined_day, const Purchases& p, int32_t last_active_day,
                       int32_t today) {
  if (within(joined_day, today, 30) && p.orders < 2) return Lifecycle::kNew;
  if (p.orders >= 5 && within(p.last_day, today, 90)) return Lifecycle::kLoyal;
  if (p.orders >= 2 && within(p.last_day, today, 90)) return Lifecycle::kRepeat;
  const int32_t last = std::max({last_active_day, p.last_day, joined_day});
  if (within(last, today, 30)) return Lifecycle::kActive;
  if (within(last, today, 90)) return Lifecycle::kAtRisk;
  return Lifecycle::kChurned;
}

std::vector<RfmCell> rfm_scores(const Bitmap& buyers, const std::vector<Purchases>& purchases,
                                size_t size) {
  std::vector<RfmCell> out(size);
  if (buyers.isEmpty()) return out;
  std::vector<int64_t> r, f, m;
  const auto n = static_cast<size_t>(buyers.cardinality());
  r.reserve(n);
  f.reserve(n);
  m.reserve(n);
  for (uint32_t id : buyers) {
    r.push_back(purchases[id].last_day);
    f.push_back(purchases[id].orders);
    m.push_back(purchases[id].spend);
  }
  for (auto* v : {&r, &f, &m}) std::sort(v->begin(), v->end());
  for (uint32_t id : buyers) {
    const Purchases& p = purchases[id];
    out[id] = {quintile(p.last_day, r), quintile(p.orders, f), quintile(p.spend, m)};
  }
  return out;
}

}  // namespace siyu::index
