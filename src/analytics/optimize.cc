#include "analytics/optimize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace siyu::analytics {

Minimum nelder_mead(const std::function<double(const std::vector<double>&)>& f,
                    std::vector<double> start, double step, double tolerance,
                    int max_evaluations) {
  const size_t n = start.size();
  Minimum m;
  const auto eval = [&](const std::vector<double>& x) {
    ++m.evaluations;
    const double v = f(x);
    return std::isfinite(v) ? v : std::numeric_limits<double>::infinity();
  };
  std::vector<std::vector<double>> pts(n + 1, start);
  for (size_t i = 0; i < n; ++i) pts[i + 1][i] += step;
  std::vector<double> vals(n + 1);
  for (size_t i = 0; i <= n; ++i) vals[i] = eval(pts[i]);
  std::vector<size_t> order(n + 1);
  while (m.evaluations < max_evaluations) {
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return vals[a] < vals[b]; });
    const size_t best = order.front(), worst = order.back(), second = order[n - 1];
    if (std::abs(vals[worst] - vals[best]) <=
        tolerance * (std::abs(vals[best]) + std::abs(vals[worst]) + 1e-300)) {
      m.converged = true;
      break;
    }
    std::vector<double> centroid(n, 0);
    for (size_t i : order) {
      if (i == worst) continue;
      for (size_t k = 0; k < n; ++k) centroid[k] += pts[i][k] / static_cast<double>(n);
    }
    const auto along = [&](double t) {
      std::vector<double> x(n);
      for (size_t k = 0; k < n; ++k) x[k] = centroid[k] + t * (pts[worst][k] - centroid[k]);
      return x;
    };
    std::vector<double> reflected = along(-1);
    const double fr = eval(reflected);
    if (fr < vals[best]) {
      std::vector<double> expanded = along(-2);
      const double fe = eval(expanded);
      if (fe < fr) {
        pts[worst] = std::move(expanded), vals[worst] = fe;
      } else {
        pts[worst] = std::move(reflected), vals[worst] = fr;
      }
      continue;
    }
    if (fr < vals[second]) {
      pts[worst] = std::move(reflected), vals[worst] = fr;
      continue;
    }
    std::vector<double> contracted = fr < vals[worst] ? along(-0.5) : along(0.5);
    const double fc = eval(contracted);
    if (fc < std::min(fr, vals[worst])) {
      pts[worst] = std::move(contracted), vals[worst] = fc;
      continue;
    }
    for (size_t i = 0; i <= n; ++i) {  // shrink towards the best point
      if (i == best) continue;
      for (size_t k = 0; k < n; ++k) pts[i][k] = pts[best][k] + 0.5 * (pts[i][k] - pts[best][k]);
      vals[i] = eval(pts[i]);
    }
  }
  const size_t best = static_cast<size_t>(std::min_element(vals.begin(), vals.end()) - vals.begin());
  m.x = pts[best];
  m.value = vals[best];
  return m;
}

}  // namespace siyu::analytics
