// The RFM grid: buyers by recency and frequency score (1–5, by quintile of the workspace, the
// same scores segments use: index::rfm_scores), with counts and value per cell.
#pragma once

#include <vector>

#include "analytics/query.h"
#include "index/derived.h"

namespace siyu::analytics {

struct RfmGridCell {
  int r = 0, f = 0;
  int64_t customers = 0;
  int64_t value = 0;        // net spend of the cell's customers, cents
  double mean_monetary_score = 0;
};

struct RfmGrid {
  std::vector<RfmGridCell> cells;  // 25 cells, r-major (r = 5 … 1, f = 1 … 5)
  int64_t buyers = 0;
};

/// Each live customer's purchases as the index counts them (paid orders with a positive net
/// amount), by customer id.
std::vector<index::Purchases> purchases(const Dataset& d);

/// The grid of `mask`'s buyers, scored against all of the workspace's buyers.
RfmGrid rfm_grid(const Dataset& d, const CustomerMask& mask);

}  // namespace siyu::analytics
