// Sales conversion (销售转化): GMV, orders, buyers, average order value, refunds, visitor-to-
// buyer conversion and repurchase, as a series and broken down. Definitions are in
// docs/analytics.md; in short an order is sold when paid and refunded when refunded, GMV is
// gross (refunds are reported beside it), and guests count in GMV and orders but not buyers.
#pragma once

#include <string>
#include <vector>

#include "analytics/query.h"

namespace siyu::analytics {

struct SalesQuery {
  Period period;
  Grain grain = Grain::kDay;
  Dimension by = Dimension::kNone;
  std::vector<NamedMask> segments;  // for by = segment
  int repurchase_days = 30;
};

struct SalesFigures {
  int64_t gmv = 0;  // cents
  int64_t orders = 0;
  int64_t buyers = 0;
  int64_t refunds = 0;        // orders refunded in the period
  int64_t refund_amount = 0;  // cents
  double aov() const { return ratio(static_cast<double>(gmv), static_cast<double>(orders)); }
};

struct SalesPoint {
  std::string period;  // bucket label
  SalesFigures figures;
};

struct SalesGroup {
  std::string key;  // the dimension's value; "all" without a breakdown
  SalesFigures totals;
  std::vector<SalesPoint> points;  // every bucket of the period, empty ones included
  int64_t visitors = 0;   // customers with any event in the period
  int64_t converted = 0;  // of them, those who paid an order in the period
  int64_t first_buyers = 0;  // buyers whose first paid order in the period can be followed
  int64_t repeat_buyers = 0;  // of them, those paying again within repurchase_days
  double conversion() const { return ratio(static_cast<double>(converted), static_cast<double>(visitors)); }
  double repurchase_rate() const {
    return ratio(static_cast<double>(repeat_buyers), static_cast<double>(first_buyers));
  }
};

struct SalesReport {
  SalesGroup total;
  std::vector<SalesGroup> groups;  // by gmv, largest first (empty without a breakdown)
};

/// Sales of `mask`'s customers (and, when the mask covers all, guests) in q.period.
SalesReport sales(const Dataset& d, const SalesQuery& q, const CustomerMask& mask, int32_t today);

/// Live customers with a paid order in the period among `mask`, in id order.
std::vector<uint32_t> buyers(const Dataset& d, Period period, const CustomerMask& mask);

/// How many of `customers` fall in each value of `dim`, largest first.
std::vector<std::pair<std::string, int64_t>> distribution(const Dataset& d,
                                                          const std::vector<uint32_t>& customers,
                                                          Dimension dim, int32_t today);

}  // namespace siyu::analytics
