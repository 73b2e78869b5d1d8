// The L-BFGS driver: LBFGS++ with an iteration trace, best-point recovery and stop reasons.
#include "logz/optim/lbfgs.hpp"

#include <LBFGS.h>

#include <cmath>
#include <exception>

#include "logz/core/check.hpp"

namespace logz {

namespace {

/// The LBFGS++ backtracking line search, telling the objective after each accepted step
/// (LBFGS++ 0.1 has no iteration callback).
template <class Scalar>
struct TracedBacktracking {
  template <class Foo>
  static void LineSearch(Foo& f, Scalar& fx, Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& x,
                         Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& grad, Scalar& step,
                         const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& drt,
                         const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& xp, const LBFGSpp::LBFGSParam<Scalar>& param) {
    LBFGSpp::LineSearchBacktracking<Scalar>::LineSearch(f, fx, x, grad, step, drt, xp, param);
    f.accept(fx, x, grad);
  }
};

/// The objective as LBFGS++ sees it, keeping the trace and a copy of the last accepted
/// point (where a finished line search stands). Accepted values decrease (Armijo), so
/// that point is the best iterate; points tried and rejected are never returned.
struct TracedObjective {
  const std::function<double(const VectorD&, VectorD&)>& f;
  const LbfgsCallback& on_iteration;
  std::vector<double> trace;
  VectorD x, grad;
  double value = 0;
  std::size_t evaluations = 0;

  double operator()(const VectorD& at, VectorD& g) {
    const double v = f(at, g);
    ++evaluations;
    if (trace.empty()) accept(v, at, g);  // the starting point
    return v;
  }
  void accept(double fx, const VectorD& at, const VectorD& g) {
    trace.push_back(fx);
    x = at;
    grad = g;
    value = fx;
    if (on_iteration && trace.size() > 1) on_iteration(trace.size() - 1, fx);
  }
};

}  // namespace

LbfgsResult minimize_lbfgs(const std::function<double(const VectorD&, VectorD&)>& f, VectorD x0,
                           const LbfgsOptions& options, const LbfgsCallback& on_iteration) {
  check_arg(options.max_iterations >= 1, "minimize_lbfgs: max_iterations must be >= 1 (got {})", options.max_iterations);
  check_arg(std::isfinite(options.gradient_tolerance) && options.gradient_tolerance > 0,
            "minimize_lbfgs: gradient_tolerance must be finite and > 0 (got {})", options.gradient_tolerance);
  check_arg(std::isfinite(options.relative_decrease) && options.relative_decrease >= 0,
            "minimize_lbfgs: relative_decrease must be finite and >= 0 (got {})", options.relative_decrease);
  check_arg(options.relative_decrease == 0 || options.decrease_window >= 1,
            "minimize_lbfgs: decrease_window must be >= 1 (got 0)");
  check_arg(options.memory >= 1, "minimize_lbfgs: memory must be >= 1 (got {})", options.memory);
  LBFGSpp::LBFGSParam<double> param;
  param.m = int(options.memory);
  param.epsilon = options.gradient_tolerance;
  param.epsilon_rel = options.relative_tolerance ? options.gradient_tolerance : 0;
  param.past = options.relative_decrease > 0 ? int(options.decrease_window) : 0;
  param.delta = options.relative_decrease;
  param.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
  param.max_linesearch = 60;
  LBFGSpp::LBFGSSolver<double, TracedBacktracking> solver(param);

  auto gradient_met = [&](double gnorm, double xnorm) {
    return gnorm <= options.gradient_tolerance * (options.relative_tolerance ? std::max(1.0, xnorm) : 1.0);
  };
  TracedObjective obj{f, on_iteration, {}, {}, {}, 0.0, 0};
  VectorD x = std::move(x0);
  double fx = 0;
  bool line_search_failed = false;
  // A line search that cannot decrease f (double precision exhausted along the L-BFGS
  // direction) throws; the run then restarts from the best point with the memory
  // cleared (a steepest-descent step), a few times while that still makes progress.
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::size_t used = obj.trace.empty() ? 0 : obj.trace.size() - 1;
    if (used >= options.max_iterations) break;
    param.max_iterations = int(options.max_iterations - used);
    const double before = obj.value;
    if (attempt > 0) x = obj.x;
    try {
      solver.minimize(obj, x, fx);  // returns at once if x already meets the tolerance
      line_search_failed = false;
      break;
    } catch (const Error&) {
      throw;  // the objective's own errors are the user's
    } catch (const std::exception&) {
      line_search_failed = true;
      if (gradient_met(obj.grad.norm(), obj.x.norm()) || !(obj.value < before)) break;
    }
  }
  LbfgsResult r;
  r.x = std::move(obj.x);
  r.value = obj.value;
  r.gradient_norm = obj.grad.norm();
  r.trace = std::move(obj.trace);
  r.iterations = r.trace.size() - 1;
  r.evaluations = obj.evaluations;
  r.converged = gradient_met(r.gradient_norm, r.x.norm());
  r.stopped_by = r.converged                              ? "gradient"
                 : r.iterations >= options.max_iterations ? "max iterations"
                 : line_search_failed                     ? "line search"
                                                          : "relative decrease";
  return r;
}

}  // namespace logz
