#include "analytics/rfm_grid.h"

#include <algorithm>

#include "index/derived.h"

namespace siyu::analytics {
namespace {

/// Scores 1–5 of `values` by quintile exactly as index::rfm_scores defines them — a value
/// scores 1 + ⌊5 × (values strictly below it) / n⌋ — counting instead of sorting when the
/// values span a small range (days, order counts).
std::vector<uint8_t> quintile_scores(const std::vector<int64_t>& values) {
  std::vector<uint8_t> out(values.size());
  if (values.empty()) return out;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  const auto n = static_cast<int64_t>(values.size());
  const auto score = [n](int64_t below) { return static_cast<uint8_t>(1 + 5 * below / n); };
  if (*hi - *lo < (int64_t{1} << 24)) {
    std::vector<int64_t> below(static_cast<size_t>(*hi - *lo) + 2, 0);
    for (int64_t v : values) ++below[static_cast<size_t>(v - *lo) + 1];
    for (size_t i = 1; i < below.size(); ++i) below[i] += below[i - 1];
    for (size_t i = 0; i < values.size(); ++i) out[i] = score(below[static_cast<size_t>(values[i] - *lo)]);
    return out;
  }
  std::vector<int64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < values.size(); ++i) {
    out[i] = score(std::lower_bound(sorted.begin(), sorted.end(), values[i]) - sorted.begin());
  }
  return out;
}

}  // namespace

RfmGrid rfm_grid(const Dataset& d, const CustomerMask& mask) {
  // Every buyer's purchases, in one pass over the orders.
  std::vector<uint32_t> ids;
  std::vector<int64_t> last_day, orders, spend;
  for (uint32_t c = 1; c < d.size(); ++c) {
    if (!d.live[c]) continue;
    int64_t n = 0, m = 0;
    int32_t last = index::kNoDay;
    for (const OrderRow& o : d.orders.of(c)) {
      if (o.paid == 0 || o.amount <= o.refund) continue;
      n += 1;
      m += o.amount - o.refund;
      last = std::max(last, d.day(o.paid));
    }
    if (n == 0) continue;
    ids.push_back(c);
    last_day.push_back(last);
    orders.push_back(n);
    spend.push_back(m);
  }
  // Scored against all buyers; the mask only selects who is shown.
  const std::vector<uint8_t> r = quintile_scores(last_day), f = quintile_scores(orders);
  RfmGrid g;
  g.cells.resize(25);
  for (int rs = 5, i = 0; rs >= 1; --rs) {
    for (int fs = 1; fs <= 5; ++fs, ++i) {
      g.cells[static_cast<size_t>(i)].r = rs;
      g.cells[static_cast<size_t>(i)].f = fs;
    }
  }
  for (size_t k = 0; k < ids.size(); ++k) {
    if (!mask.has(ids[k])) continue;
    RfmGridCell& cell = g.cells[static_cast<size_t>((5 - r[k]) * 5 + (f[k] - 1))];
    cell.customers += 1;
    cell.value += spend[k];
    g.buyers += 1;
  }
  return g;
}

}  // namespace siyu::analytics
