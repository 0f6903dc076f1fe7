// Funnels (漏斗): ordered steps of event types with property filters, a conversion window,
// strict or any-order semantics, breakdowns, time to convert and the customers who dropped.
//
// A customer enters with a step-1 event inside the period. From an entry at time t0, step k is
// reached when steps 2..k are matched by events in [t0, t0 + window] (they may fall after the
// period), and:
//   strict     the matching events follow each other in the customer's event order
//              (time, then arrival); other events may come between them;
//   any_order  the matching events come after the entry in any order among themselves.
// The customer's level is the furthest step reached from any of their entries. In a strict
// chain each event serves one step; in any_order a step is the first matching event after
// the entry, so two steps defined alike are served by the same event.
//
// Time to step k: at the earliest event that completes step k, from the entry of the chain
// it completes (strict: the latest such entry; any_order: the first entry that reaches k).
#pragma once

#include <string>
#include <vector>

#include "analytics/query.h"

namespace siyu::analytics {

/// An equality filter on an event: its channel, campaign, content, staff, or a declared
/// property ("props.NAME"); any of `values` matches.
struct EventFilter {
  std::string field;
  std::vector<std::string> values;
};

struct FunnelStep {
  std::string type;
  std::vector<EventFilter> filters;  // all must match
};

enum class FunnelOrder { kStrict, kAnyOrder };

/// The most steps a funnel has.
constexpr size_t kMaxSteps = 10;

struct FunnelQuery {
  Period period;
  std::vector<FunnelStep> steps;  // 2 .. kMaxSteps
  uint32_t window_seconds = 7 * 86400;
  FunnelOrder order = FunnelOrder::kStrict;
  Dimension by = Dimension::kNone;
  std::vector<NamedMask> segments;
};

struct FunnelStepResult {
  int64_t customers = 0;       // reached this step
  double median_seconds = 0;   // from entry to this step, over those who reached it
  double mean_seconds = 0;
};

struct FunnelGroup {
  std::string key;
  std::vector<FunnelStepResult> steps;
};

struct FunnelReport {
  FunnelGroup total;
  std::vector<FunnelGroup> groups;  // by entrants, largest first
};

FunnelReport funnel(const Dataset& d, const FunnelQuery& q, const CustomerMask& mask, int32_t today);

/// Customers of `mask` who reached step `step` (1-based) but not the next, in id order.
std::vector<uint32_t> funnel_dropouts(const Dataset& d, const FunnelQuery& q,
                                      const CustomerMask& mask, size_t step);

}  // namespace siyu::analytics
