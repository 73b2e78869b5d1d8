// The L-BFGS driver (Liu & Nocedal 1989): LBFGS++ 0.1's algorithm (two-loop recursion,
// backtracking line search under the strong Wolfe conditions, its stopping tests),
// written with few full-size vectors and fused passes over them.
//
// Vectors held: the point x, its gradient g, the direction d, and m (s, y) pairs. The
// previous point and gradient that LBFGS++ copies before each line search are kept in
// the slot of the pair about to be written (unused, or the oldest pair, which the
// direction no longer needs), and become s = x - x_prev, y = g - g_prev in place. They
// also are the best point when a line search fails, so no copy of it is kept either.
//
// Every sum over the vectors is taken chunk by chunk (LbfgsOptions::chunks), each chunk's
// partial sum in double, then the partials in chunk order: the same bits whether this
// process holds every chunk or a shard of them (a pseudolikelihood fit over MPI ranks).
#include "logz/optim/lbfgs.hpp"

#include <LBFGS.h>

#include <algorithm>
#include <array>
#include <exception>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "logz/core/check.hpp"

namespace logz {

namespace {

// LBFGS++'s defaults (LBFGSParam), as the driver used them.
constexpr double kFtol = 1e-4;      // sufficient decrease
constexpr double kWolfe = 0.9;      // curvature
constexpr double kMinStep = 1e-20;
constexpr double kMaxStep = 1e20;
constexpr int kMaxLineSearch = 60;

/// Thrown inside the driver when a line search cannot go on (LBFGS++'s exceptions).
struct LineSearchFailed {};

template <class Scalar>
class Driver {
 public:
  using Vec = Vector<Scalar>;
  using Fn = std::function<double(const Vec&, Vec&)>;

  Driver(const Fn& f, Vec x0, const LbfgsOptions& options, const LbfgsCallback& on_iteration)
      : f_(f), opt_(options), on_iteration_(on_iteration), n_(std::size_t(x0.size())), x_(std::move(x0)),
        g_(Eigen::Index(n_)), d_(Eigen::Index(n_)), m_(int(options.memory)) {
    s_.resize(std::size_t(m_));
    y_.resize(std::size_t(m_));
    ys_.assign(std::size_t(m_), 0.0);
    alpha_.assign(std::size_t(m_), 0.0);
    bounds_ = options.chunks ? options.chunks->bounds : std::vector<std::size_t>{0, n_};
    check_arg(bounds_.size() >= 2 && bounds_.front() == 0 && bounds_.back() == n_,
              "minimize_lbfgs_lean: the chunks cover {} entries, the vectors have {}", bounds_.back(), n_);
  }

  LbfgsResultT<Scalar> run() {
    bool line_search_failed = false;
    double best = 0;
    // A line search that cannot decrease f (precision exhausted along the L-BFGS
    // direction) restarts from the best point with the memory cleared (a steepest-
    // descent step), a few times while that still makes progress.
    for (int attempt = 0; attempt < 4; ++attempt) {
      const std::size_t used = trace_.empty() ? 0 : trace_.size() - 1;
      if (used >= opt_.max_iterations) break;
      const double before = best;
      if (minimize(opt_.max_iterations - used)) {
        line_search_failed = false;
        break;
      }
      line_search_failed = true;
      restore_best();
      best = fx_;
      if (gradient_met(norm(g_), norm(x_)) || !(fx_ < before)) break;
    }
    LbfgsResultT<Scalar> r;
    r.value = fx_;
    r.gradient_norm = norm(g_);
    r.trace = std::move(trace_);
    r.iterations = r.trace.size() - 1;
    r.evaluations = evaluations_;
    r.converged = gradient_met(r.gradient_norm, norm(x_));
    r.stopped_by = r.converged                             ? "gradient"
                   : r.iterations >= opt_.max_iterations   ? "max iterations"
                   : line_search_failed                    ? "line search"
                                                           : "relative decrease";
    release_history();
    r.x = std::move(x_);
    return r;
  }

 private:
  const Fn& f_;
  const LbfgsOptions& opt_;
  const LbfgsCallback& on_iteration_;
  std::size_t n_;
  Vec x_, g_, d_;
  std::vector<Vec> s_, y_;  // allocated on first use
  std::vector<double> ys_, alpha_;
  int m_;
  int ncorr_ = 0, ptr_ = 0, saved_ = -1;  // saved_: the slot holding the previous point
  double theta_ = 1, fx_ = 0;
  std::size_t evaluations_ = 0;
  std::vector<double> trace_;
  std::vector<std::size_t> bounds_;  // this process's chunks

  // The W sums of f(begin, end, acc) over the chunks: f adds a chunk's terms into acc[W]
  // (zero on entry); the partials are added in chunk order, over every process's chunks.
  template <std::size_t W, class F>
  std::array<double, W> sum_chunks(F&& f) const {
    const std::size_t chunks = bounds_.size() - 1;
    std::vector<double> partials(chunks * W, 0.0);
    for (std::size_t c = 0; c < chunks; ++c) f(bounds_[c], bounds_[c + 1], partials.data() + c * W);
    std::array<double, W> out{};
    if (opt_.chunks) {
      const std::vector<double> total = opt_.chunks->total(partials, W);
      std::copy_n(total.begin(), W, out.begin());
    } else {
      for (std::size_t c = 0; c < chunks; ++c)
        for (std::size_t w = 0; w < W; ++w) out[w] += partials[c * W + w];
    }
    return out;
  }

  // (The loops below copy the vectors' pointers into locals marked __restrict: read
  // through the lambda's captures, GCC assumes they alias and vectorises with gathers.)
  template <class A, class B>
  double dot(const A* a_, const B* b_) const {
    return sum_chunks<1>([a_, b_](std::size_t begin, std::size_t end, double* acc) {
      const A* __restrict a = a_;
      const B* __restrict b = b_;
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (std::size_t k = begin; k < end; ++k) s += double(a[k]) * double(b[k]);
      acc[0] = s;
    })[0];
  }
  double norm(const Vec& v) const { return std::sqrt(dot(v.data(), v.data())); }

  bool gradient_met(double gnorm, double xnorm) const {
    return gnorm <= opt_.gradient_tolerance * (opt_.relative_tolerance ? std::max(1.0, xnorm) : 1.0);
  }

  double evaluate() {
    const double v = f_(x_, g_);
    ++evaluations_;
    check_arg(std::size_t(g_.size()) == n_, "minimize_lbfgs: the objective wrote a gradient of size {}, expected {}",
              g_.size(), n_);
    return v;
  }

  void accept(double fx) {
    trace_.push_back(fx);
    if (on_iteration_ && trace_.size() > 1) on_iteration_(trace_.size() - 1, fx);
  }

  Vec& slot(std::vector<Vec>& v, int k) {
    if (std::size_t(v[std::size_t(k)].size()) != n_) v[std::size_t(k)].resize(Eigen::Index(n_));
    return v[std::size_t(k)];
  }

  void release_history() {
    for (auto& v : s_) Vec().swap(v);
    for (auto& v : y_) Vec().swap(v);
  }

  // After a failed line search: the point and gradient it started from (the last
  // accepted point, whose value is the last entry of the trace).
  void restore_best() {
    if (saved_ < 0) return;
    x_ = s_[std::size_t(saved_)];
    g_ = y_[std::size_t(saved_)];
    fx_ = trace_.back();
    saved_ = -1;
  }

  // One LBFGS++ minimize() call, from x_: true when it returned normally, false when a
  // line search failed (x_ is then a trial point; restore_best() goes back).
  bool minimize(std::size_t max_iterations) {
    ncorr_ = 0;
    ptr_ = m_;
    theta_ = 1;
    saved_ = -1;
    const std::size_t past = opt_.relative_decrease > 0 ? opt_.decrease_window : 0;
    std::vector<double> fpast(past, 0.0);
    const double eps = opt_.gradient_tolerance, eps_rel = opt_.relative_tolerance ? opt_.gradient_tolerance : 0;
    if (trace_.empty()) {
      fx_ = evaluate();
      accept(fx_);
    }
    // A restart begins at the last accepted point, whose value and gradient are known.
    double gnorm = norm(g_);
    if (past > 0) fpast[0] = fx_;
    if (gnorm <= eps || gnorm <= eps_rel * norm(x_)) return true;
    {
      Scalar* __restrict d = d_.data();
      const Scalar* __restrict g = g_.data();
      for (std::size_t k = 0; k < n_; ++k) d[k] = -g[k];
    }
    double step = 1.0 / gnorm;
    for (std::size_t k = 1;; ++k) {
      // The previous point and gradient go into the slot the next pair will take.
      saved_ = ptr_ % m_;
      {
        Vec& xs = slot(s_, saved_);
        Vec& gs = slot(y_, saved_);
        std::copy_n(x_.data(), n_, xs.data());
        std::copy_n(g_.data(), n_, gs.data());
      }
      try {
        line_search(step);
      } catch (const LineSearchFailed&) {
        return false;
      }
      accept(fx_);
      const auto [xnorm2, gnorm2] = sum_chunks<2>([x_ = x_.data(), g_ = g_.data()](std::size_t begin, std::size_t end,
                                                                                     double* acc) {
        const Scalar* __restrict x = x_;
        const Scalar* __restrict g = g_;
        double xx = 0, gg = 0;
#pragma omp simd reduction(+ : xx, gg)
        for (std::size_t c = begin; c < end; ++c) {
          xx += double(x[c]) * double(x[c]);
          gg += double(g[c]) * double(g[c]);
        }
        acc[0] = xx, acc[1] = gg;
      });
      gnorm = std::sqrt(gnorm2);
      if (gnorm <= eps || gnorm <= eps_rel * std::sqrt(xnorm2)) return true;
      if (past > 0) {
        const double fxd = fpast[k % past];
        if (k >= past &&
            std::abs(fxd - fx_) <= opt_.relative_decrease * std::max({std::abs(fx_), std::abs(fxd), 1.0}))
          return true;
        fpast[k % past] = fx_;
      }
      if (k >= max_iterations) return true;
      add_correction();
      two_loop();
      step = 1;
    }
  }

  // LBFGS++'s backtracking line search with the strong Wolfe test; x = x_prev + step d.
  void line_search(double& step) {
    const Scalar* __restrict xp = s_[std::size_t(saved_)].data();
    const Scalar* __restrict d = d_.data();
    if (step <= 0) throw LineSearchFailed{};
    const double fx_init = fx_;
    const double dg_init = dot(g_.data(), d);
    if (dg_init > 0) throw LineSearchFailed{};
    const double test_decr = kFtol * dg_init;
    for (int iter = 0; iter < kMaxLineSearch; ++iter) {
      {
        Scalar* __restrict x = x_.data();
        const Scalar st = Scalar(step);
#pragma omp simd
        for (std::size_t c = 0; c < n_; ++c) x[c] = xp[c] + st * d[c];
      }
      fx_ = evaluate();
      double width;
      if (fx_ > fx_init + step * test_decr || fx_ != fx_) {
        width = 0.5;
      } else {
        const double dg = dot(g_.data(), d);
        if (dg < kWolfe * dg_init) width = 2.1;
        else if (dg > -kWolfe * dg_init) width = 0.5;
        else return;
      }
      if (step < kMinStep || step > kMaxStep) throw LineSearchFailed{};
      step *= width;
    }
    throw LineSearchFailed{};
  }

  // s = x - x_prev, y = g - g_prev in the saved slot, with s'y and y'y in the same pass.
  void add_correction() {
    const int loc = saved_;
    saved_ = -1;
    const auto [ys, yy] = sum_chunks<2>([s_ = s_[std::size_t(loc)].data(), y_ = y_[std::size_t(loc)].data(),
                                         x_ = x_.data(), g_ = g_.data()](std::size_t begin, std::size_t end, double* acc) {
      Scalar* __restrict s = s_;
      Scalar* __restrict y = y_;
      const Scalar* __restrict x = x_;
      const Scalar* __restrict g = g_;
      double sy = 0, yy2 = 0;
#pragma omp simd reduction(+ : sy, yy2)
      for (std::size_t c = begin; c < end; ++c) {
        const Scalar sc = x[c] - s[c], yc = g[c] - y[c];
        s[c] = sc, y[c] = yc;
        sy += double(sc) * double(yc);
        yy2 += double(yc) * double(yc);
      }
      acc[0] = sy, acc[1] = yy2;
    });
    ys_[std::size_t(loc)] = ys;
    theta_ = yy / ys;
    if (ncorr_ < m_) ++ncorr_;
    ptr_ = loc + 1;
  }

  // d = -H g by the two-loop recursion, each step's axpy fused with the next step's dot:
  // u' d after d = (d + a_v v) / a_d (a_d = θ for the first loop's last step, else 1), or
  // after d = -v when `first`, summed by chunks.
  double update_then_dot(Scalar* d_, Scalar a_d, Scalar a_v, const Scalar* v_, const Scalar* u_, bool first) {
    return sum_chunks<1>([=](std::size_t begin, std::size_t end, double* acc) {
      Scalar* __restrict d = d_;
      const Scalar* __restrict v = v_;
      const Scalar* __restrict u = u_;
      double sum = 0;
      if (first) {
#pragma omp simd reduction(+ : sum)
        for (std::size_t c = begin; c < end; ++c) {
          d[c] = -v[c];
          sum += double(u[c]) * double(d[c]);
        }
      } else if (a_d == Scalar(1)) {
#pragma omp simd reduction(+ : sum)
        for (std::size_t c = begin; c < end; ++c) {
          d[c] += a_v * v[c];
          sum += double(u[c]) * double(d[c]);
        }
      } else {
#pragma omp simd reduction(+ : sum)
        for (std::size_t c = begin; c < end; ++c) {
          d[c] = (d[c] + a_v * v[c]) / a_d;
          sum += double(u[c]) * double(d[c]);
        }
      }
      acc[0] = sum;
    })[0];
  }

  void two_loop() {
    Scalar* d = d_.data();
    int j = ptr_ % m_;
    j = (j + m_ - 1) % m_;  // newest pair
    // d = -g, with s_newest' d.
    double sd = update_then_dot(d, 1, 0, g_.data(), s_[std::size_t(j)].data(), true);
    for (int i = 0; i < ncorr_; ++i) {
      alpha_[std::size_t(j)] = sd / ys_[std::size_t(j)];
      const Scalar a = Scalar(alpha_[std::size_t(j)]);
      const Scalar* y = y_[std::size_t(j)].data();
      const int next = (j + m_ - 1) % m_;
      if (i + 1 < ncorr_) {
        sd = update_then_dot(d, 1, -a, y, s_[std::size_t(next)].data(), false);
      } else {
        // Last step (the oldest pair): the scaling by 1/θ and the second loop's first
        // product, y_oldest' d.
        sd = update_then_dot(d, Scalar(theta_), -a, y, y, false);
      }
      j = next;
    }
    if (ncorr_ == 0) return;
    j = (j + 1) % m_;  // oldest pair
    for (int i = 0; i < ncorr_; ++i) {
      const double beta = sd / ys_[std::size_t(j)];
      const Scalar c1 = Scalar(alpha_[std::size_t(j)] - beta);
      Scalar* __restrict dd = d;
      const Scalar* __restrict s = s_[std::size_t(j)].data();
      const int next = (j + 1) % m_;
      if (i + 1 < ncorr_) {
        sd = update_then_dot(d, 1, c1, s, y_[std::size_t(next)].data(), false);
      } else {
#pragma omp simd
        for (std::size_t c = 0; c < n_; ++c) dd[c] += c1 * s[c];
      }
      j = next;
    }
  }
};

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

void check_options(const LbfgsOptions& options) {
  check_arg(options.max_iterations >= 1, "minimize_lbfgs: max_iterations must be >= 1 (got {})", options.max_iterations);
  check_arg(std::isfinite(options.gradient_tolerance) && options.gradient_tolerance > 0,
            "minimize_lbfgs: gradient_tolerance must be finite and > 0 (got {})", options.gradient_tolerance);
  check_arg(std::isfinite(options.relative_decrease) && options.relative_decrease >= 0,
            "minimize_lbfgs: relative_decrease must be finite and >= 0 (got {})", options.relative_decrease);
  check_arg(options.relative_decrease == 0 || options.decrease_window >= 1,
            "minimize_lbfgs: decrease_window must be >= 1 (got 0)");
  check_arg(options.memory >= 1, "minimize_lbfgs: memory must be >= 1 (got {})", options.memory);
}

}  // namespace

LbfgsResult minimize_lbfgs(const std::function<double(const VectorD&, VectorD&)>& f, VectorD x0,
                           const LbfgsOptions& options, const LbfgsCallback& on_iteration) {
  check_options(options);
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


LbfgsResult minimize_lbfgs_lean(const std::function<double(const VectorD&, VectorD&)>& f, VectorD x0,
                                const LbfgsOptions& options, const LbfgsCallback& on_iteration) {
  check_options(options);
  return Driver<double>(f, std::move(x0), options, on_iteration).run();
}

LbfgsResultF minimize_lbfgs_lean(const std::function<double(const VectorF&, VectorF&)>& f, VectorF x0,
                                 const LbfgsOptions& options, const LbfgsCallback& on_iteration) {
  check_options(options);
  return Driver<float>(f, std::move(x0), options, on_iteration).run();
}

}  // namespace logz
