#include "analytics/ltv.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <thread>
#include <unordered_map>

#include "analytics/optimize.h"

namespace siyu::analytics {
namespace {

double log_beta(double a, double b) { return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b); }

/// ln(e^u + e^v) without overflow.
double log_add(double u, double v) {
  const double hi = std::max(u, v);
  return hi + std::log1p(std::exp(std::min(u, v) - hi));
}

/// Sums `term(h) * h.weight` over the histories, on two threads when there are many.
template <typename F>
double weighted_sum(std::span<const History> hs, F term) {
  const auto part = [&](size_t from, size_t to) {
    double s = 0;
    for (size_t i = from; i < to; ++i) s += term(hs[i]) * hs[i].weight;
    return s;
  };
  if (hs.size() < 200'000) return part(0, hs.size());
  double upper = 0;
  const size_t mid = hs.size() / 2;
  std::thread t([&] { upper = part(mid, hs.size()); });
  const double lower = part(0, mid);
  t.join();
  return lower + upper;
}

/// ((α+T)/(α+t_x))^(r+x) · a/(b+x−1): the odds that a customer with purchases has dropped out.
double dropout_odds(const BgNbd& m, const History& h) {
  if (h.x <= 0) return 0;
  return m.a / (m.b + h.x - 1) * std::exp((m.r + h.x) * (std::log(m.alpha + h.T) - std::log(m.alpha + h.t_x)));
}

/// ln(α + v) for the values histories hold: a table when they are whole numbers of days (as
/// the dataset's are), so a likelihood evaluation takes a logarithm per distinct value, not
/// per customer.
class LogTable {
 public:
  LogTable(double alpha, std::span<const History> hs) : alpha_(alpha) {
    double top = 0;
    bool whole = true;
    for (const History& h : hs) {
      top = std::max({top, h.T, h.t_x});
      whole = whole && h.T == std::floor(h.T) && h.t_x == std::floor(h.t_x) && h.T >= 0 && h.t_x >= 0;
    }
    if (!whole || top > 1e6) return;
    logs_.resize(static_cast<size_t>(top) + 1);
    for (size_t v = 0; v < logs_.size(); ++v) logs_[v] = std::log(alpha + static_cast<double>(v));
  }
  double operator()(double v) const {
    return logs_.empty() ? std::log(alpha_ + v) : logs_[static_cast<size_t>(v)];
  }

 private:
  double alpha_;
  std::vector<double> logs_;
};

/// Terms that depend only on x, once per distinct x.
template <typename F>
std::unordered_map<double, std::pair<double, double>> per_x(std::span<const History> hs, F terms) {
  std::unordered_map<double, std::pair<double, double>> out;
  for (const History& h : hs) {
    if (!out.contains(h.x)) out.emplace(h.x, terms(h.x));
  }
  return out;
}

/// The per-x terms as a vector by whole x, when every x is a small whole number.
std::vector<std::pair<double, double>> dense(const std::unordered_map<double, std::pair<double, double>>& by_x) {
  double top = 0;
  for (const auto& [x, v] : by_x) {
    if (x != std::floor(x) || x < 0 || x > 1e6) return {};
    top = std::max(top, x);
  }
  std::vector<std::pair<double, double>> out(static_cast<size_t>(top) + 1);
  for (const auto& [x, v] : by_x) out[static_cast<size_t>(x)] = v;
  return out;
}

}  // namespace

double bgnbd_log_likelihood(const BgNbd& m, std::span<const History> hs) {
  const double lb = log_beta(m.a, m.b);
  // x → (ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a,b), the same with B(a+1, b+x−1)).
  const auto by_x = per_x(hs, [&](double x) {
    const double a1 = std::lgamma(m.r + x) - std::lgamma(m.r) + m.r * std::log(m.alpha);
    return std::pair{a1 + log_beta(m.a, m.b + x) - lb, x > 0 ? a1 + log_beta(m.a + 1, m.b + x - 1) - lb : 0};
  });
  const auto table = dense(by_x);
  const LogTable log_alpha(m.alpha, hs);
  return weighted_sum(hs, [&](const History& h) {
    const auto& [a2, a3] = table.empty() ? by_x.at(h.x) : table[static_cast<size_t>(h.x)];
    const double u = a2 - (m.r + h.x) * log_alpha(h.T);
    if (h.x <= 0) return u;
    return log_add(u, a3 - (m.r + h.x) * log_alpha(h.t_x));
  });
}

double bgnbd_likelihood_direct(const BgNbd& m, const History& h) {
  const double common = std::tgamma(m.r + h.x) * std::pow(m.alpha, m.r) / std::tgamma(m.r);
  double l = std::beta(m.a, m.b + h.x) / std::beta(m.a, m.b) * common /
             std::pow(m.alpha + h.T, m.r + h.x);
  if (h.x > 0) {
    l += std::beta(m.a + 1, m.b + h.x - 1) / std::beta(m.a, m.b) * common /
         std::pow(m.alpha + h.t_x, m.r + h.x);
  }
  return l;
}

BgNbd fit_bgnbd(std::span<const History> hs) {
  double mean_t = 0, n = 0;
  for (const History& h : hs) mean_t += h.T * h.weight, n += h.weight;
  mean_t = n > 0 ? std::max(mean_t / n, 1.0) : 1.0;
  const auto params = [](const std::vector<double>& v) {
    return BgNbd{std::exp(v[0]), std::exp(v[1]), std::exp(v[2]), std::exp(v[3])};
  };
  const auto objective = [&](const std::vector<double>& v) {
    return -bgnbd_log_likelihood(params(v), hs) / std::max(n, 1.0);
  };
  Minimum best = nelder_mead(objective, {0, std::log(mean_t / 10), 0, 0}, 1.0);
  // A restart from the optimum guards against a simplex that collapsed early.
  best = nelder_mead(objective, best.x, 0.1);
  return params(best.x);
}

double p_alive(const BgNbd& m, const History& h) { return 1 / (1 + dropout_odds(m, h)); }

double expected_purchases(const BgNbd& m, const History& h, double t) {
  const double rx = m.r + h.x;
  const double z = t / (m.alpha + h.T + t);
  const double shrink = std::exp(rx * (std::log(m.alpha + h.T) - std::log(m.alpha + h.T + t)));
  const double f = hyp2f1(rx, m.b + h.x, m.a + m.b + h.x - 1, z);
  return (m.a + m.b + h.x - 1) / (m.a - 1) * (1 - shrink * f) / (1 + dropout_odds(m, h));
}

double hyp2f1(double a, double b, double c, double z) {
  double term = 1, sum = 1;
  for (int n = 0; n < 1'000'000; ++n) {
    term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
    sum += term;
    if (std::abs(term) < 1e-15 * std::abs(sum)) break;
  }
  return sum;
}

double gamma_gamma_log_likelihood(const GammaGamma& g, std::span<const History> hs) {
  // x → (ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + px ln x, unused).
  const auto by_x = per_x(hs, [&](double x) {
    const double px = g.p * x;
    return std::pair{x > 0 ? std::lgamma(px + g.q) - std::lgamma(px) - std::lgamma(g.q) + g.q * std::log(g.gamma) +
                                 px * std::log(x)
                           : 0.0,
                     0.0};
  });
  const auto table = dense(by_x);
  return weighted_sum(hs, [&](const History& h) {
    if (h.x <= 0 || h.m <= 0) return 0.0;
    const double px = g.p * h.x;
    const double head = table.empty() ? by_x.at(h.x).first : table[static_cast<size_t>(h.x)].first;
    return head + (px - 1) * std::log(h.m) - (px + g.q) * std::log(h.x * h.m + g.gamma);
  });
}

GammaGamma fit_gamma_gamma(std::span<const History> hs) {
  double mean_m = 0, n = 0;
  for (const History& h : hs) {
    if (h.x > 0 && h.m > 0) mean_m += h.m * h.weight, n += h.weight;
  }
  mean_m = n > 0 ? mean_m / n : 1;
  const auto params = [](const std::vector<double>& v) {
    return GammaGamma{std::exp(v[0]), std::exp(v[1]), std::exp(v[2])};
  };
  const auto objective = [&](const std::vector<double>& v) {
    return -gamma_gamma_log_likelihood(params(v), hs) / std::max(n, 1.0);
  };
  Minimum best = nelder_mead(objective, {0, std::log(2.0), std::log(mean_m)}, 1.0);
  best = nelder_mead(objective, best.x, 0.1);
  return params(best.x);
}

double expected_spend(const GammaGamma& g, const History& h) {
  if (h.x <= 0 || h.m <= 0) return g.q > 1 ? g.p * g.gamma / (g.q - 1) : 0;
  return (g.p * (g.gamma + h.x * h.m)) / (g.p * h.x + g.q - 1);
}

std::vector<CustomerHistory> histories(const Dataset& d, int32_t today) {
  std::vector<CustomerHistory> out;
  std::map<int32_t, double> days;  // purchase day → net value (yuan)
  for (uint32_t c = 1; c < d.size(); ++c) {
    if (!d.live[c]) continue;
    days.clear();
    for (const OrderRow& o : d.orders.of(c)) {
      if (o.paid == 0 || o.amount - o.refund <= 0) continue;
      const int32_t day = d.day(o.paid);
      if (day > today) continue;
      days[day] += static_cast<double>(o.amount - o.refund) / 100.0;
    }
    if (days.empty()) continue;
    CustomerHistory ch;
    ch.customer = c;
    const int32_t first = days.begin()->first;
    ch.h.x = static_cast<double>(days.size() - 1);
    ch.h.t_x = days.rbegin()->first - first;
    ch.h.T = today - first;
    double repeat_value = 0;
    for (auto it = std::next(days.begin()); it != days.end(); ++it) repeat_value += it->second;
    ch.h.m = ch.h.x > 0 ? repeat_value / ch.h.x : 0;
    out.push_back(ch);
  }
  return out;
}

std::vector<History> group_histories(const std::vector<CustomerHistory>& hs) {
  std::map<std::tuple<double, double, double>, double> counts;
  for (const CustomerHistory& c : hs) counts[{c.h.x, c.h.t_x, c.h.T}] += 1;
  std::vector<History> out;
  out.reserve(counts.size());
  for (const auto& [key, n] : counts) {
    History h;
    std::tie(h.x, h.t_x, h.T) = key;
    h.weight = n;
    out.push_back(h);
  }
  return out;
}

LtvModel fit_ltv(const std::vector<CustomerHistory>& hs) {
  LtvModel m;
  const std::vector<History> grouped = group_histories(hs);
  m.bgnbd = fit_bgnbd(grouped);
  m.bgnbd_log_likelihood = bgnbd_log_likelihood(m.bgnbd, grouped);
  std::vector<History> repeat;
  for (const CustomerHistory& c : hs) {
    if (c.h.x > 0 && c.h.m > 0) repeat.push_back(c.h);
  }
  m.gamma_gamma = fit_gamma_gamma(repeat);
  m.gamma_gamma_log_likelihood = gamma_gamma_log_likelihood(m.gamma_gamma, repeat);
  m.customers = static_cast<int64_t>(hs.size());
  m.repeat_customers = static_cast<int64_t>(repeat.size());
  return m;
}

}  // namespace siyu::analytics
