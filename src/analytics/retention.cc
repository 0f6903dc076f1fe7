#include "analytics/retention.h"

#include <map>
#include <optional>

#include "analytics/parallel.h"

namespace siyu::analytics {
namespace {

/// The first occurrence of a kind (a paid order, or an event of `type`; 0 = any event) at
/// or after position `from` of the customer's rows: its time and position, or nullopt.
std::optional<std::pair<uint32_t, size_t>> first_occurrence(const Dataset& d, uint32_t c, bool orders,
                                                             uint32_t type) {
  if (orders) {
    // Orders are in order time; payment may come later, so take the earliest payment.
    std::optional<std::pair<uint32_t, size_t>> best;
    for (const OrderRow& o : d.orders.of(c)) {
      if (o.paid != 0 && (!best || o.paid < best->first)) best = std::pair{o.paid, size_t{0}};
    }
    return best;
  }
  const auto events = d.events.of(c);
  for (size_t i = 0; i < events.size(); ++i) {
    if (type == 0 || events[i].type == type) return std::pair{events[i].t, i};
  }
  return std::nullopt;
}

/// Calls fn(t) for the customer's occurrences of a kind after `first` (for events, from
/// position `from` on, in time order) until fn returns false.
template <typename F>
void occurrences_after(const Dataset& d, uint32_t c, bool orders, uint32_t type, size_t from, F&& fn) {
  if (orders) {
    for (const OrderRow& o : d.orders.of(c)) {
      if (o.paid != 0) fn(o.paid);
    }
    return;
  }
  const auto events = d.events.of(c);
  for (size_t i = from; i < events.size(); ++i) {
    if ((type == 0 || events[i].type == type) && !fn(events[i].t)) return;
  }
}

}  // namespace

RetentionReport retention(const Dataset& d, const RetentionQuery& q, const CustomerMask& mask,
                          uint32_t now) {
  const uint32_t first_type =
      q.first_order ? 0 : d.event_types.find(q.first_event).value_or(UINT32_MAX);
  const uint32_t return_type =
      q.return_order || q.return_event.empty() ? 0
                                               : d.event_types.find(q.return_event).value_or(UINT32_MAX);
  const auto periods = static_cast<size_t>(q.periods) + 1;
  // Bucket starts from the first cohort up to the bucket holding `now`.
  const int32_t now_bucket = bucket_of(d.day(now), q.grain);
  struct Building {
    Cohort cohort;
    std::vector<int32_t> bounds;
  };
  using Cohorts = std::map<int32_t, Building>;
  const size_t parts = parts_for(d.size());
  std::vector<Cohorts> results(parts);
  for_customer_ranges(d.size(), parts, [&](uint32_t from, uint32_t to, size_t part) {
    Cohorts& cohorts = results[part];
    std::vector<uint8_t> seen(periods);
    for (uint32_t c = from; c < to; ++c) {
      if (!d.live[c] || !mask.has(c)) continue;
      const auto found = first_occurrence(d, c, q.first_order, first_type);
      if (!found || !q.period.contains(found->first)) continue;
      const uint32_t first = found->first;
      const int32_t cohort_bucket = bucket_of(d.day(first), q.grain);
      Building& k = cohorts[cohort_bucket];
      if (k.bounds.empty()) {
        // Bucket boundaries of the cohort's own period and the ones after it.
        k.bounds.push_back(cohort_bucket);
        for (size_t i = 0; i < periods; ++i) k.bounds.push_back(next_bucket(k.bounds.back(), q.grain));
        k.cohort.label = bucket_label(cohort_bucket, q.grain);
        size_t begun = 0;
        while (begun < periods && k.bounds[begun] <= now_bucket) ++begun;
        k.cohort.returned.assign(begun, 0);
      }
      const std::vector<int32_t>& bounds = k.bounds;
      std::fill(seen.begin(), seen.end(), 0);
      const size_t after = q.first_order || q.return_order ? 0 : found->second;
      occurrences_after(d, c, q.return_order, return_type, after, [&](uint32_t t) {
        if (t <= first) return true;
        const int32_t day = d.day(t);
        if (day >= bounds.back()) return q.return_order;  // events come in time order
        if (day < bounds.front()) return true;
        size_t i = 0;
        while (day >= bounds[i + 1]) ++i;
        seen[i] = 1;
        return true;
      });
      k.cohort.size += 1;
      for (size_t i = 0; i < k.cohort.returned.size(); ++i) k.cohort.returned[i] += seen[i];
    }
  });
  // The parts met the same cohorts under the same buckets: add them up.
  std::map<int32_t, Cohort> merged;
  for (Cohorts& part : results) {
    for (auto& [bucket, k] : part) {
      auto [it, fresh] = merged.try_emplace(bucket, std::move(k.cohort));
      if (fresh) continue;
      it->second.size += k.cohort.size;
      for (size_t i = 0; i < it->second.returned.size(); ++i) it->second.returned[i] += k.cohort.returned[i];
    }
  }
  RetentionReport r;
  for (auto& [bucket, k] : merged) r.cohorts.push_back(std::move(k));
  return r;
}

}  // namespace siyu::analytics
