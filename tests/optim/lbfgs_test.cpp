// The lean L-BFGS driver: the same iterates as LBFGS++ 0.1 (whose algorithm it
// implements), the float version at the double version's optimum, stop reasons and the
// best point.
#include "logz/optim/lbfgs.hpp"

#include <LBFGS.h>
#include <gtest/gtest.h>

#include <cmath>

#include "logz/core/rng.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

// f(x) = ½ (x - c)' A (x - c) + Σ_k log cosh(x_k), A = μ I + B B' / n: strongly convex
// with modulus at least μ, so ‖x - x*‖ <= ‖∇f(x)‖ / μ at any x.
struct ConvexProblem {
  std::size_t n;
  double mu = 1.0;
  Eigen::MatrixXd a;
  VectorD c;

  explicit ConvexProblem(std::size_t n_) : n(n_) {
    Stream rng = Stream::derive(7, Purpose::user, 0);
    Eigen::MatrixXd b(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    for (Eigen::Index k = 0; k < b.size(); ++k) b.data()[k] = rng.normal();
    a = b * b.transpose() / double(n);
    a.diagonal().array() += mu;
    c.resize(Eigen::Index(n));
    for (Eigen::Index k = 0; k < c.size(); ++k) c[k] = 3 * rng.normal();
  }
  template <class S>
  double operator()(const Vector<S>& x, Vector<S>& g) const {
    const VectorD xd = x.template cast<double>();
    const VectorD r = xd - c;
    const VectorD ar = a * r;
    double f = 0.5 * r.dot(ar);
    VectorD gd = ar;
    for (Eigen::Index k = 0; k < xd.size(); ++k) {
      f += std::log(std::cosh(xd[k]));
      gd[k] += std::tanh(xd[k]);
    }
    g = gd.template cast<S>();
    return f;
  }
};

TEST(Lbfgs, FollowsLbfgsppIterateForIterate) {
  // Rosenbrock in 20 dimensions: curved, so the line search backtracks and extends. Its
  // valley amplifies rounding differences (1e-15 relative after 10 iterations, 1e-11
  // after 30), so the comparison stops at 12.
  auto rosenbrock = [](const VectorD& x, VectorD& g) {
    double f = 0;
    g = VectorD::Zero(x.size());
    for (Eigen::Index k = 0; k + 1 < x.size(); ++k) {
      const double t1 = x[k + 1] - x[k] * x[k], t2 = 1 - x[k];
      f += 100 * t1 * t1 + t2 * t2;
      g[k] += -400 * x[k] * t1 - 2 * t2;
      g[k + 1] += 200 * t1;
    }
    return f;
  };
  VectorD x0(20);
  for (Eigen::Index k = 0; k < x0.size(); ++k) x0[k] = k % 2 ? 1.2 : -1.0;
  LbfgsOptions opt;
  opt.max_iterations = 12;
  opt.gradient_tolerance = 1e-12;
  opt.memory = 6;
  const LbfgsResult r = minimize_lbfgs_lean(rosenbrock, x0, opt);
  ASSERT_EQ(r.iterations, 12u);

  LBFGSpp::LBFGSParam<double> param;
  param.m = 6;
  param.epsilon = 1e-12;
  param.epsilon_rel = 0;
  param.max_iterations = 12;
  param.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
  param.max_linesearch = 60;
  LBFGSpp::LBFGSSolver<double, LBFGSpp::LineSearchBacktracking> solver(param);
  VectorD x = x0;
  double fx = 0;
  std::size_t evaluations = 0;
  auto counted = [&](const VectorD& at, VectorD& g) { return ++evaluations, rosenbrock(at, g); };
  ASSERT_EQ(solver.minimize(counted, x, fx), 12);
  // Same steps and trials; the values differ only by the order of the dot products' sums.
  EXPECT_EQ(r.evaluations, evaluations);
  EXPECT_NEAR(r.value, fx, 1e-12 * std::abs(fx));
  EXPECT_LT((r.x - x).norm(), 1e-10 * x.norm());
}

TEST(Lbfgs, ChunkedSumsTakeTheSameStepsAsOneChunk) {
  // The same problem with its sums taken over chunks of 7, 1 and 12 entries, partials
  // added in chunk order: the same iterates up to the sums' rounding, and the chunks'
  // totals asked once per sum (width 1 for dot products, 2 for fused pairs).
  const ConvexProblem p(20);
  LbfgsOptions opt;
  opt.gradient_tolerance = 1e-12;
  opt.max_iterations = 8;  // before the rounding of the sums can change a decision
  opt.memory = 4;
  const auto f = [&](const VectorD& x, VectorD& g) { return p(x, g); };
  const LbfgsResult whole = minimize_lbfgs_lean(f, VectorD::Zero(20), opt);
  std::size_t calls[3] = {0, 0, 0};
  LbfgsChunks chunks;
  chunks.bounds = {0, 7, 8, 20};
  chunks.total = [&](const std::vector<double>& partials, std::size_t width) {
    EXPECT_EQ(partials.size(), 3 * width);
    ++calls[width];
    std::vector<double> out(width, 0.0);
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t w = 0; w < width; ++w) out[w] += partials[c * width + w];
    return out;
  };
  opt.chunks = &chunks;
  const LbfgsResult chunked = minimize_lbfgs_lean(f, VectorD::Zero(20), opt);
  EXPECT_EQ(chunked.iterations, whole.iterations);
  EXPECT_EQ(chunked.evaluations, whole.evaluations);
  EXPECT_NEAR(chunked.value, whole.value, 1e-12 * std::abs(whole.value));
  EXPECT_LT((chunked.x - whole.x).norm(), 1e-9 * (1 + whole.x.norm()));
  EXPECT_GT(calls[1], 0u);
  EXPECT_GT(calls[2], 0u);
  chunks.bounds = {0, 7, 19};
  test::expect_error([&] { (void)minimize_lbfgs_lean(f, VectorD::Zero(20), opt); }, Exit::usage,
                     "minimize_lbfgs_lean: the chunks cover 19 entries, the vectors have 20");
}

TEST(Lbfgs, FloatVersionReachesTheDoubleOptimum) {
  // Both stop at ‖∇f‖ <= 1e-4; strong convexity puts each within 1e-4 / μ of x*, so
  // within 2e-4 / μ of each other, plus the float gradient's own rounding (‖∇f‖·1e-6).
  const ConvexProblem p(200);
  LbfgsOptions opt;
  opt.gradient_tolerance = 1e-4;
  opt.memory = 6;
  const LbfgsResult rd = minimize_lbfgs_lean([&](const VectorD& x, VectorD& g) { return p(x, g); },
                                        VectorD::Zero(Eigen::Index(p.n)), opt);
  const LbfgsResultF rf = minimize_lbfgs_lean([&](const VectorF& x, VectorF& g) { return p(x, g); },
                                         VectorF::Zero(Eigen::Index(p.n)), opt);
  ASSERT_EQ(rd.stopped_by, "gradient");
  ASSERT_EQ(rf.stopped_by, "gradient");
  const double scale = rd.x.norm();
  EXPECT_LT((rf.x.cast<double>() - rd.x).norm(), 2e-4 / p.mu + 1e-6 * scale) << scale;
  // f(x) - f(x*) <= ‖∇f‖² / (2μ) for each.
  EXPECT_NEAR(rf.value, rd.value, 1e-8 / p.mu + 1e-6 * std::abs(rd.value));
}

TEST(Lbfgs, StopsAtMaxIterationsAndKeepsTheTrace) {
  const ConvexProblem p(50);
  LbfgsOptions opt;
  opt.max_iterations = 3;
  opt.gradient_tolerance = 1e-12;
  std::vector<double> seen;
  const LbfgsResult r = minimize_lbfgs_lean([&](const VectorD& x, VectorD& g) { return p(x, g); },
                                       VectorD::Zero(50), opt, [&](std::size_t, double v) { seen.push_back(v); });
  EXPECT_EQ(r.stopped_by, "max iterations");
  ASSERT_EQ(r.trace.size(), 4u);
  EXPECT_EQ(seen, std::vector<double>(r.trace.begin() + 1, r.trace.end()));
  EXPECT_EQ(r.value, r.trace.back());
  for (std::size_t k = 1; k < r.trace.size(); ++k) EXPECT_LT(r.trace[k], r.trace[k - 1]);
}

TEST(Lbfgs, ReturnsTheBestPointWhenTheLineSearchFails) {
  // A gradient that lies (points uphill from the second point on): the line search
  // fails; the result is the last accepted point with its value and gradient.
  std::size_t calls = 0;
  auto f = [&](const VectorD& x, VectorD& g) {
    ++calls;
    const double v = x.squaredNorm();
    g = calls <= 1 ? VectorD(2 * x) : VectorD(-2 * x);
    return v;
  };
  VectorD x0(3);
  x0 << 1, -2, 0.5;
  LbfgsOptions opt;
  opt.max_iterations = 10;
  const LbfgsResult r = minimize_lbfgs_lean(f, x0, opt);
  EXPECT_EQ(r.stopped_by, "line search");
  EXPECT_EQ(r.value, r.trace.back());
  VectorD g;
  calls = 0;
  EXPECT_EQ(f(r.x, g), r.value);
}

}  // namespace
}  // namespace logz
