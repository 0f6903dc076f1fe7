// Customer lifetime value: the BG/NBD model of repeat purchasing and dropout (Fader, Hardie &
// Lee 2005, "Counting your customers the easy way") and the Gamma-Gamma model of spend per
// purchase (Fader, Hardie & Lee 2005, "RFM and CLV"), fitted by maximum likelihood.
// Time is in days; a purchase is a day with paid orders of positive net value.
#pragma once

#include <span>
#include <vector>

#include "analytics/dataset.h"

namespace siyu::analytics {

/// One customer's purchase history as the models see it: x repeat purchases, the last one
/// t_x after the first, T the age since the first; m the mean value of the repeat purchases
/// (for Gamma-Gamma). `weight` counts customers with the same history.
struct History {
  double x = 0, t_x = 0, T = 0, m = 0;
  double weight = 1;
};

struct BgNbd {
  double r = 0, alpha = 0, a = 0, b = 0;
};

struct GammaGamma {
  double p = 0, q = 0, gamma = 0;
};

/// The BG/NBD log-likelihood of `histories` (weighted sum), computed stably.
double bgnbd_log_likelihood(const BgNbd& m, std::span<const History> histories);
/// One customer's BG/NBD likelihood by the paper's equation (6), term by term (for tests).
double bgnbd_likelihood_direct(const BgNbd& m, const History& h);
/// Maximum-likelihood BG/NBD parameters.
BgNbd fit_bgnbd(std::span<const History> histories);

/// P(alive) of a customer with history `h` (paper's equation (11)).
double p_alive(const BgNbd& m, const History& h);
/// Expected purchases in the next `t` time units (paper's equation (10)).
double expected_purchases(const BgNbd& m, const History& h, double t);

/// The Gamma-Gamma log-likelihood of the histories with x > 0 and m > 0.
double gamma_gamma_log_likelihood(const GammaGamma& g, std::span<const History> histories);
GammaGamma fit_gamma_gamma(std::span<const History> histories);
/// The expected value of a purchase given the history (the population mean when x = 0).
double expected_spend(const GammaGamma& g, const History& h);

/// Gauss's hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1, by its series.
double hyp2f1(double a, double b, double c, double z);

/// A customer's history from the dataset, as of day `today` (local day numbers).
struct CustomerHistory {
  uint32_t customer = 0;
  History h;
};
/// Histories of every live customer with a purchase on or before `today`.
std::vector<CustomerHistory> histories(const Dataset& d, int32_t today);
/// Groups equal histories into one weighted history each (x, t_x, T; m kept per customer
/// would break grouping, so this is for BG/NBD only).
std::vector<History> group_histories(const std::vector<CustomerHistory>& hs);

struct LtvModel {
  BgNbd bgnbd;
  GammaGamma gamma_gamma;
  double bgnbd_log_likelihood = 0;
  double gamma_gamma_log_likelihood = 0;
  int64_t customers = 0;            // fitted BG/NBD on
  int64_t repeat_customers = 0;     // fitted Gamma-Gamma on
};

/// Fits both models on the dataset's purchase histories as of `today`.
LtvModel fit_ltv(const std::vector<CustomerHistory>& hs);

}  // namespace siyu::analytics
