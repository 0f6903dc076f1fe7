#include "analytics/layers.h"

#include <algorithm>
#include <map>

namespace siyu::analytics {

LayerReport layer_progression(const Dataset& d, const LayerQuery& q, const CustomerMask& mask) {
  LayerReport r;
  const int32_t first_day = d.day(q.period.from);
  const int32_t last_day = d.day(q.period.to == 0 ? 0 : q.period.to - 1);
  std::vector<int32_t> starts;
  for (int32_t b = bucket_of(first_day, q.grain); b <= last_day; b = next_bucket(b, q.grain)) {
    starts.push_back(b);
    r.periods.push_back(bucket_label(b, q.grain));
  }
  const auto bucket = [&](uint32_t t) {
    const int32_t day = d.day(t);
    return static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), day) - starts.begin() - 1);
  };
  std::vector<std::vector<double>> days(kLayers);
  for (uint8_t to = kLayerFan; to < kLayers; ++to) {
    LayerStep s;
    s.from = layer_name(static_cast<uint8_t>(to - 1));
    s.to = layer_name(to);
    s.by_period.assign(starts.size(), 0);
    r.steps.push_back(std::move(s));
  }
  std::map<std::pair<uint8_t, uint8_t>, LayerStep> skips;
  std::vector<uint32_t> entered(kLayers, 0);
  uint32_t current = UINT32_MAX;
  for (const LayerMove& m : d.layer_moves) {
    if (m.customer != current) {
      current = m.customer;
      std::fill(entered.begin(), entered.end(), 0);
      if (current < d.size()) entered[kLayerNone] = d.customers[current].created;
    }
    const bool counted = current < d.size() && d.live[current] && mask.has(current) &&
                         q.period.contains(m.at);
    if (counted && m.to == m.from + 1) {
      LayerStep& s = r.steps[m.from];
      s.customers += 1;
      s.by_period[bucket(m.at)] += 1;
      if (entered[m.from] != 0 && m.at >= entered[m.from]) {
        days[m.from].push_back(static_cast<double>(m.at - entered[m.from]) / 86400.0);
      }
    } else if (counted && m.to > m.from + 1) {
      LayerStep& s = skips[{m.from, m.to}];
      if (s.to.empty()) {
        s.from = layer_name(m.from);
        s.to = layer_name(m.to);
        s.by_period.assign(starts.size(), 0);
      }
      s.customers += 1;
      s.by_period[bucket(m.at)] += 1;
    }
    entered[m.to] = m.at;
  }
  for (size_t i = 0; i < r.steps.size(); ++i) {
    std::vector<double>& v = days[i];
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    r.steps[i].mean_days = sum / static_cast<double>(v.size());
    r.steps[i].median_days = v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  for (auto& [key, s] : skips) r.skips.push_back(std::move(s));
  return r;
}

}  // namespace siyu::analytics
