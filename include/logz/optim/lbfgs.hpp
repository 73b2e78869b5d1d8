#pragma once
/// @file lbfgs.hpp
/// The L-BFGS drivers of logz (Liu & Nocedal 1989), both with the algorithm of LBFGS++ 0.1
/// (two-loop recursion, backtracking line search under the strong Wolfe conditions, its
/// stopping tests and defaults). They add the objective after each iteration (trace and
/// callback), the best point returned when a line search fails (restarting from it with
/// the memory cleared while that helps), and the reason the run stopped.
/// - minimize_lbfgs: on LBFGS++ itself; ratio matching, exact maximum likelihood, NCE.
/// - minimize_lbfgs_lean: the same iterations (to the rounding of its dot products) with
///   only 2·memory + 3 vectors of the parameters' size (the point, its gradient, the
///   direction, the correction pairs; the previous point lives in the slot about to be
///   overwritten) and fused passes over them; also in float, with values, dot products
///   and the recursion's scalars in double. Pseudolikelihood fits use it.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "logz/core/types.hpp"

namespace logz {

/// How minimize_lbfgs_lean sums over its vectors when they are split into chunks, of which
/// this process may hold only a contiguous range (a shard: the rest on other processes).
/// Every sum (dot products, norms) is the sum of per-chunk partial sums in chunk order, so
/// its bits do not depend on how the chunks are spread.
struct LbfgsChunks {
  /// Offsets of this process's chunks in its vectors: front() = 0, back() = their size.
  std::vector<std::size_t> bounds;
  /// Given `width` partial sums per local chunk (chunk-major), returns the `width` sums
  /// over every chunk of every process, each added in chunk order.
  std::function<std::vector<double>(const std::vector<double>& partials, std::size_t width)> total;
};

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
  /// minimize_lbfgs_lean only: sums by chunks (above); null: the whole vector is one chunk.
  const LbfgsChunks* chunks = nullptr;
};

template <class Scalar>
struct LbfgsResultT {
  Vector<Scalar> x;            ///< the best point found
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
using LbfgsResult = LbfgsResultT<double>;
using LbfgsResultF = LbfgsResultT<float>;

/// Called after each accepted iteration with its number (1, 2, ...) and f.
using LbfgsCallback = std::function<void(std::size_t iteration, double value)>;

/// Minimises f (f(x, grad) returns the value and writes the gradient) from x0. A line
/// search that cannot make progress restarts from the best point with the memory
/// cleared, a few times while that still makes progress. Errors thrown by f propagate.
/// Throws Error(Exit::usage) on bad options.
LbfgsResult minimize_lbfgs(const std::function<double(const VectorD&, VectorD&)>& f, VectorD x0,
                           const LbfgsOptions& options, const LbfgsCallback& on_iteration = {});
/// As minimize_lbfgs, holding 2·memory + 3 vectors (see the file's comment); a restart
/// after a failed line search reuses the known value and gradient (no evaluation).
LbfgsResult minimize_lbfgs_lean(const std::function<double(const VectorD&, VectorD&)>& f, VectorD x0,
                                const LbfgsOptions& options, const LbfgsCallback& on_iteration = {});
/// The same in float: x, the gradient, the direction and the correction pairs are floats.
LbfgsResultF minimize_lbfgs_lean(const std::function<double(const VectorF&, VectorF&)>& f, VectorF x0,
                                 const LbfgsOptions& options, const LbfgsCallback& on_iteration = {});

}  // namespace logz
