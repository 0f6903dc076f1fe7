// Retention cohorts (留存): customers grouped by the week or month of their first event of a
// type (or first paid order), and for each later period whether they did the return event.
#pragma once

#include <string>
#include <vector>

#include "analytics/query.h"

namespace siyu::analytics {

struct RetentionQuery {
  Period period;              // cohorts whose first occurrence falls in it
  Grain grain = Grain::kWeek;  // week or month
  std::string first_event;    // event type; "order_paid" with first_order means paid orders
  bool first_order = false;   // cohort by first paid order instead of first_event
  std::string return_event;   // event type; empty: any event
  bool return_order = false;  // return by a paid order instead
  int periods = 12;           // periods after the cohort's own (period 0)
};

struct Cohort {
  std::string label;              // the cohort's bucket
  int64_t size = 0;
  std::vector<int64_t> returned;  // [0..periods]: customers returning in period i after
};

struct RetentionReport {
  std::vector<Cohort> cohorts;  // oldest first; periods past the data's end are omitted
};

/// A customer belongs to the cohort of the bucket holding their first-ever occurrence (all
/// history counts, not just the period); they return in period i when a return occurrence
/// falls in the i-th bucket after it (period 0: the cohort's own bucket, after the first
/// occurrence). Periods that have not begun by `now` are left out of `returned`.
RetentionReport retention(const Dataset& d, const RetentionQuery& q, const CustomerMask& mask,
                          uint32_t now);

}  // namespace siyu::analytics
