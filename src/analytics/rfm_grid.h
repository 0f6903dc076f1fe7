// The RFM grid: buyers by recency and frequency score (1–5, by quintile of the workspace, the
// same scores segments use: index::rfm_scores), with counts and value per cell.
#pragma once

#include <vector>

#include "analytics/query.h"

namespace siyu::analytics {

struct RfmGridCell {
  int r = 0, f = 0;
  int64_t customers = 0;
  int64_t value = 0;  // net spend of the cell's customers, cents
};

struct RfmGrid {
  std::vector<RfmGridCell> cells;  // 25 cells, r-major (r = 5 … 1, f = 1 … 5)
  int64_t buyers = 0;
};

/// The grid of `mask`'s buyers — customers with paid orders of positive net amount, as the
/// index counts them — scored against all of the workspace's buyers (the scores of
/// index::rfm_scores, computed by counting).
RfmGrid rfm_grid(const Dataset& d, const CustomerMask& mask);

}  // namespace siyu::analytics
