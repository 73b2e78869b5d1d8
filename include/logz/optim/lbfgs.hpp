#pragma once
/// @file lbfgs.hpp
/// The one L-BFGS driver of logz (Liu & Nocedal 1989), on LBFGS++ with a backtracking
/// line search under the strong Wolfe conditions. Every L-BFGS fit goes through it:
/// pseudolikelihood, ratio matching, exact maximum likelihood. It adds what LBFGS++ 0.1
/// lacks: the objective after each iteration (trace and callback), the best point kept
/// when a line search fails, and the reason the run stopped.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "logz/core/types.hpp"

namespace logz {

/// L-BFGS settings. The run stops at the first of: the gradient test, the
/// relative-decrease test (when on), max_iterations.
struct LbfgsOptions {
  std::size_t max_iterations = 1000;  ///< >= 1
  /// Gradient test: ‖∇f‖ <= gradient_tolerance, or, with relative_tolerance, ‖∇f‖ <=
  /// gradient_tolerance · max(1, ‖x‖) (liblbfgs's and plmc's test). > 0; rounding of f
  /// floors the absolute gradient near 1e-8 · |f|.
  double gradient_tolerance = 1e-6;
  bool relative_tolerance = false;
  /// Relative-decrease test: f fell by less than relative_decrease · max(1, |f|) over the
  /// last decrease_window iterations. 0 turns it off.
  double relative_decrease = 0;
  std::size_t decrease_window = 5;
  std::size_t memory = 10;  ///< correction pairs kept; >= 1
};

struct LbfgsResult {
  VectorD x;                   ///< the best point found
  double value = 0;            ///< f(x)
  double gradient_norm = 0;    ///< ‖∇f(x)‖
  std::size_t iterations = 0;  ///< accepted line searches
  std::size_t evaluations = 0; ///< calls of f (line-search trials included)
  std::vector<double> trace;   ///< f at the start and after each iteration
  bool converged = false;      ///< the gradient test holds at x
  /// "gradient", "relative decrease", "max iterations" or "line search" (no decrease
  /// found along the search direction: double precision exhausted).
  std::string stopped_by;
};

/// Called after each accepted iteration with its number (1, 2, ...) and f.
using LbfgsCallback = std::function<void(std::size_t iteration, double value)>;

/// Minimises f (f(x, grad) returns the value and writes the gradient) from x0. A line
/// search that cannot make progress restarts from the best point with the memory
/// cleared, a few times while that still makes progress. Errors thrown by f propagate.
/// Throws Error(Exit::usage) on bad options.
LbfgsResult minimize_lbfgs(const std::function<double(const VectorD&, VectorD&)>& f, VectorD x0,
                           const LbfgsOptions& options, const LbfgsCallback& on_iteration = {});

}  // namespace logz
