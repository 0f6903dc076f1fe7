// Acquisition (拉新): invitations sent, adds, new customers, conversion, cost, cost per new
// customer and ROI by channel, campaign, content, referring staff or partner; and the A/B
// comparison of two contents (话术).
//
// Invitations are events of the invitation type, adds events of the add types, both in the
// period and keyed by the event's own attribution (its channel code, campaign, content or
// staff). New customers are customers created in the period, keyed by their acquisition
// attributes; their revenue is the net value of every paid order they placed up to now. Cost
// is the channel costs booked on the period's days (channel breakdowns only).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analytics/query.h"

namespace siyu::analytics {

struct AcquisitionQuery {
  Period period;
  Dimension by = Dimension::kChannel;  // channel, campaign, content, referrer_staff, partner
  std::string invite_event = "invite";
  std::vector<std::string> add_events = {"add_friend"};
  /// Channel codes → channel ids (as text), to key events' channel codes like customers'.
  std::map<std::string, std::string> channel_codes;
};

struct AcquisitionRow {
  std::string key;
  int64_t invitations = 0;
  int64_t adds = 0;
  int64_t new_customers = 0;
  int64_t new_buyers = 0;  // new customers with a paid order since
  int64_t revenue = 0;     // cents
  int64_t cost = 0;        // cents
  double invite_conversion() const { return ratio(static_cast<double>(adds), static_cast<double>(invitations)); }
  double buyer_conversion() const {
    return ratio(static_cast<double>(new_buyers), static_cast<double>(new_customers));
  }
  double cost_per_new_customer() const {
    return ratio(static_cast<double>(cost), static_cast<double>(new_customers));
  }
  double roi() const { return ratio(static_cast<double>(revenue), static_cast<double>(cost)); }
};

struct AcquisitionReport {
  AcquisitionRow total;
  std::vector<AcquisitionRow> rows;  // by new customers, most first
};

AcquisitionReport acquisition(const Dataset& d, const AcquisitionQuery& q, const CustomerMask& mask);

/// The A/B comparison of two variants: customers exposed to each, how many converted, and
/// whether the difference is significant.
struct AbArm {
  std::string name;
  int64_t exposed = 0;
  int64_t converted = 0;
  double rate() const { return ratio(static_cast<double>(converted), static_cast<double>(exposed)); }
};

struct AbResult {
  AbArm a, b;
  double z = 0;
  double p_value = 1;  // two-sided, pooled two-proportion z-test
  bool significant = false;  // p < alpha
  /// Customers per arm to detect the observed difference with the given power; 0 when the
  /// rates are equal (no difference to detect).
  int64_t required_per_arm = 0;
  int64_t still_needed = 0;  // per arm, beyond the smaller arm's exposure
};

/// Two-proportion z-test at `alpha` (two-sided) and the sample size for `power`.
AbResult ab_test(AbArm a, AbArm b, double alpha = 0.05, double power = 0.8);

/// The standard normal quantile (inverse CDF) of p in (0, 1).
double normal_quantile(double p);

struct AbQuery {
  Period period;
  std::string field = "content";  // the event field that names the variant: content or campaign
  std::string variant_a, variant_b;
  std::string exposure_event = "invite";
  std::string conversion_event = "add_friend";
  uint32_t window_seconds = 7 * 86400;
};

/// Exposed: customers with an exposure event naming the variant in the period (the first one
/// counts; a customer exposed to both variants counts for the one seen first). Converted: of
/// them, those with a conversion event within the window after that exposure.
AbResult ab_compare(const Dataset& d, const AbQuery& q, const CustomerMask& mask);

}  // namespace siyu::analytics
