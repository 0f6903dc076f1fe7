// Layer progression (分层): how many customers moved up the relationship layers fan →
// community → friend → member per period, and how long each step took.
#pragma once

#include <string>
#include <vector>

#include "analytics/query.h"

namespace siyu::analytics {

struct LayerQuery {
  Period period;
  Grain grain = Grain::kWeek;
};

/// Moves from one layer to the next closer one (from fan, community or friend; "none" → fan
/// counts new fans).
struct LayerStep {
  std::string from, to;
  int64_t customers = 0;            // moves in the period
  std::vector<int64_t> by_period;   // per bucket
  double median_days = 0;           // from entering `from` to entering `to`
  double mean_days = 0;
};

struct LayerReport {
  std::vector<std::string> periods;  // bucket labels
  std::vector<LayerStep> steps;      // none→fan, fan→community, community→friend, friend→member
  std::vector<LayerStep> skips;      // other upward moves (fan → member, ...), as counts
};

/// Moves recorded by the store as layer changes (a customer's layer follows their strongest
/// active relationship). Time of a step: from the latest move into `from` before it (or the
/// customer's creation for none → fan).
LayerReport layer_progression(const Dataset& d, const LayerQuery& q, const CustomerMask& mask);

}  // namespace siyu::analytics
