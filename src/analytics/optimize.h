// Derivative-free minimisation (Nelder–Mead simplex) for the lifetime-value fitters.
#pragma once

#include <functional>
#include <vector>

namespace siyu::analytics {

struct Minimum {
  std::vector<double> x;
  double value = 0;
  int evaluations = 0;
  bool converged = false;
};

/// Minimises `f` from `start` with the Nelder–Mead simplex (initial steps `step` on each
/// axis), until the simplex's values agree within `tolerance` (relative) or after
/// `max_evaluations`. Non-finite values of `f` count as +infinity.
Minimum nelder_mead(const std::function<double(const std::vector<double>&)>& f,
                    std::vector<double> start, double step, double tolerance = 1e-10,
                    int max_evaluations = 20000);

}  // namespace siyu::analytics
