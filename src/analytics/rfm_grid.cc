#include "analytics/rfm_grid.h"

namespace siyu::analytics {

std::vector<index::Purchases> purchases(const Dataset& d) {
  std::vector<index::Purchases> out(d.size());
  for (uint32_t c = 1; c < d.size(); ++c) {
    if (!d.customers[c].live) continue;
    index::Purchases& p = out[c];
    for (const OrderRow& o : d.orders.of(c)) {
      if (o.paid == 0 || o.amount <= o.refund) continue;
      p.orders += 1;
      p.spend += o.amount - o.refund;
      p.last_day = std::max(p.last_day, d.day(o.paid));
    }
  }
  return out;
}

RfmGrid rfm_grid(const Dataset& d, const CustomerMask& mask) {
  const std::vector<index::Purchases> p = purchases(d);
  index::Bitmap buyers;
  for (uint32_t c = 1; c < d.size(); ++c) {
    if (p[c].orders > 0) buyers.add(c);
  }
  const std::vector<index::RfmCell> scores = index::rfm_scores(buyers, p, d.size());
  RfmGrid g;
  g.cells.resize(25);
  std::vector<int64_t> m_sum(25, 0);
  for (int r = 5, i = 0; r >= 1; --r) {
    for (int f = 1; f <= 5; ++f, ++i) g.cells[static_cast<size_t>(i)].r = r, g.cells[static_cast<size_t>(i)].f = f;
  }
  for (uint32_t c : buyers) {
    if (!mask.has(c)) continue;
    const index::RfmCell s = scores[c];
    const auto i = static_cast<size_t>((5 - s.r) * 5 + (s.f - 1));
    g.cells[i].customers += 1;
    g.cells[i].value += p[c].spend;
    m_sum[i] += s.m;
    g.buyers += 1;
  }
  for (size_t i = 0; i < 25; ++i) {
    g.cells[i].mean_monetary_score =
        ratio(static_cast<double>(m_sum[i]), static_cast<double>(g.cells[i].customers));
  }
  return g;
}

}  // namespace siyu::analytics
