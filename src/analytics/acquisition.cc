#include "analytics/acquisition.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace siyu::analytics {
namespace {

/// The key of an event under the breakdown (its own attribution).
std::string event_key(const Dataset& d, const EventRow& e, const AcquisitionQuery& q) {
  const EventAttrs& a = d.attrs[e.attrs];
  switch (q.by) {
    case Dimension::kChannel: {
      const std::string& code = d.event_text.name(a.channel);
      auto it = q.channel_codes.find(code);
      return it == q.channel_codes.end() ? code : it->second;
    }
    case Dimension::kCampaign: return d.event_text.name(a.campaign);
    case Dimension::kContent: return d.event_text.name(a.content);
    case Dimension::kReferrerStaff:
    case Dimension::kOwnerStaff: return d.event_text.name(a.staff);
    default: return "";
  }
}

/// The key of a customer under the breakdown (their acquisition attributes).
std::string customer_key(const Dataset& d, const CustomerRow& c, Dimension by) {
  switch (by) {
    case Dimension::kChannel: return d.customer_text.name(c.channel);
    case Dimension::kCampaign: return d.customer_text.name(c.campaign);
    case Dimension::kContent: return d.customer_text.name(c.content);
    case Dimension::kReferrerStaff: return d.customer_text.name(c.referrer_staff);
    case Dimension::kOwnerStaff: return d.customer_text.name(c.owner);
    case Dimension::kPartner: return d.customer_text.name(c.partner);
    default: return "";
  }
}

uint32_t type_code(const Dataset& d, const std::string& type) {
  return d.event_types.find(type).value_or(UINT32_MAX);
}

}  // namespace

AcquisitionReport acquisition(const Dataset& d, const AcquisitionQuery& q, const CustomerMask& mask) {
  const uint32_t invite = type_code(d, q.invite_event);
  std::vector<uint32_t> adds;
  for (const std::string& t : q.add_events) adds.push_back(type_code(d, t));
  std::unordered_map<std::string, AcquisitionRow> rows;
  AcquisitionReport r;
  for (uint32_t c = 1; c < d.size(); ++c) {
    const CustomerRow& cr = d.customers[c];
    if (!cr.live || !mask.has(c)) continue;
    for (const EventRow& e : d.events.of(c)) {
      if (!q.period.contains(e.t)) continue;
      const bool is_invite = e.type == invite;
      const bool is_add = std::find(adds.begin(), adds.end(), e.type) != adds.end();
      if (!is_invite && !is_add) continue;
      AcquisitionRow& row = rows[event_key(d, e, q)];
      (is_invite ? row.invitations : row.adds) += 1;
      (is_invite ? r.total.invitations : r.total.adds) += 1;
    }
    if (!q.period.contains(cr.created)) continue;
    int64_t revenue = 0;
    bool bought = false;
    for (const OrderRow& o : d.orders.of(c)) {
      if (o.paid == 0 || o.paid < cr.created) continue;
      bought = true;
      revenue += o.amount - o.refund;
    }
    AcquisitionRow& row = rows[customer_key(d, cr, q.by)];
    for (AcquisitionRow* x : {&row, &r.total}) {
      x->new_customers += 1;
      x->new_buyers += bought ? 1 : 0;
      x->revenue += revenue;
    }
  }
  const int32_t first_day = d.day(q.period.from);
  const int32_t last_day = d.day(q.period.to == 0 ? 0 : q.period.to - 1);
  for (const CostRow& cost : d.costs) {
    if (cost.day < first_day || cost.day > last_day) continue;
    r.total.cost += cost.amount;
    if (q.by == Dimension::kChannel) rows[d.customer_text.name(cost.channel)].cost += cost.amount;
  }
  for (auto& [key, row] : rows) {
    row.key = key;
    r.rows.push_back(std::move(row));
  }
  std::sort(r.rows.begin(), r.rows.end(), [](const AcquisitionRow& a, const AcquisitionRow& b) {
    return std::tie(b.new_customers, b.adds, a.key) < std::tie(a.new_customers, a.adds, b.key);
  });
  r.total.key = "all";
  return r;
}

double normal_quantile(double p) {
  // Acklam's rational approximation, refined by one Halley step on erfc.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00, 2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

AbResult ab_test(AbArm a, AbArm b, double alpha, double power) {
  AbResult r;
  r.a = std::move(a);
  r.b = std::move(b);
  const double n1 = static_cast<double>(r.a.exposed), n2 = static_cast<double>(r.b.exposed);
  const double p1 = r.a.rate(), p2 = r.b.rate();
  if (n1 > 0 && n2 > 0) {
    const double pooled = (static_cast<double>(r.a.converted + r.b.converted)) / (n1 + n2);
    const double se = std::sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
    if (se > 0) {
      r.z = (p1 - p2) / se;
      r.p_value = std::erfc(std::abs(r.z) / std::sqrt(2.0));
    }
  }
  r.significant = r.p_value < alpha;
  if (p1 != p2) {
    const double za = normal_quantile(1 - alpha / 2), zb = normal_quantile(power);
    const double mean = (p1 + p2) / 2;
    const double root = za * std::sqrt(2 * mean * (1 - mean)) +
                        zb * std::sqrt(p1 * (1 - p1) + p2 * (1 - p2));
    r.required_per_arm = static_cast<int64_t>(std::ceil(root * root / ((p1 - p2) * (p1 - p2))));
    r.still_needed = std::max<int64_t>(0, r.required_per_arm - std::min(r.a.exposed, r.b.exposed));
  }
  return r;
}

AbResult ab_compare(const Dataset& d, const AbQuery& q, const CustomerMask& mask) {
  const uint32_t exposure = type_code(d, q.exposure_event);
  const uint32_t conversion = type_code(d, q.conversion_event);
  AbArm a{q.variant_a, 0, 0}, b{q.variant_b, 0, 0};
  for (uint32_t c = 1; c < d.size(); ++c) {
    if (!d.live[c] || !mask.has(c)) continue;
    const auto events = d.events.of(c);
    size_t exposed_at = events.size();
    AbArm* arm = nullptr;
    for (size_t i = 0; i < events.size() && arm == nullptr; ++i) {
      const EventRow& e = events[i];
      if (e.type != exposure || !q.period.contains(e.t)) continue;
      const EventAttrs& at = d.attrs[e.attrs];
      const std::string& v = d.event_text.name(q.field == "campaign" ? at.campaign : at.content);
      if (v == q.variant_a) arm = &a;
      else if (v == q.variant_b) arm = &b;
      if (arm != nullptr) exposed_at = i;
    }
    if (arm == nullptr) continue;
    arm->exposed += 1;
    const uint32_t t0 = events[exposed_at].t;
    for (size_t i = exposed_at + 1; i < events.size(); ++i) {
      if (events[i].t - t0 > q.window_seconds) break;
      if (events[i].type == conversion) {
        arm->converted += 1;
        break;
      }
    }
  }
  return ab_test(std::move(a), std::move(b));
}

}  // namespace siyu::analytics
