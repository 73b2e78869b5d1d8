// Tests of ratio matching for Ising models: the objective against a brute-force sum of
// σ(−Δ)² with Δ from energies of flipped states, the closed-form gradient against
// central differences (both conventions, sparse graph, L2), the exact population
// gradient at the true parameters (consistency), thread-count invariance, L-BFGS
// convergence, and pinned argument errors.
#include "logz/objectives/ratio_matching.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "logz/core/check.hpp"
#include "support/expect_error.hpp"
#include "support/ising_sampling.hpp"

namespace logz {
namespace {

Ising test_model(SpinConvention conv) {
  VectorD h(5);
  h << 0.3, -0.2, 0.5, 0.1, -0.4;
  // A sparse graph with a cycle and a pendant site; one edge reversed.
  return Ising(5, {{0, 1, 0.4}, {2, 1, -0.3}, {2, 3, 0.6}, {0, 3, 0.2}, {3, 4, -0.5}}, h, conv);
}

// Brute force: Δ_i = E(x with i flipped) − E(x), term σ(−Δ_i)² = (1 / (1 + exp Δ_i))².
double brute_force_objective(const Ising& m, const MatrixD& x) {
  double sum = 0;
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const VectorD s = x.row(r).transpose();
    for (std::size_t i = 0; i < m.n_spins(); ++i) {
      VectorD t = s;
      t[Eigen::Index(i)] = t[Eigen::Index(i)] == 1.0 ? m.down_value() : 1.0;
      const double delta = m.energy(t) - m.energy(s);
      const double g = 1.0 / (1.0 + std::exp(delta));
      sum += g * g;
    }
  }
  return sum / double(x.rows());
}

TEST(RatioMatching, ObjectiveEqualsBruteForce) {
  const Exec ex(1);
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising m = test_model(conv);
    const MatrixD x = test::ising_exact_samples(m, 300, Stream::root(11));
    const double got = ratio_matching_objective(m, x, {}, nullptr, ex);
    const double want = brute_force_objective(m, x);
    // Both sum 1500 terms in [0, 1] in double: rounding differs by a few ulps per term.
    EXPECT_NEAR(got, want, 1e-13 * want);
    // The L2 penalty adds ½ λ ‖θ‖².
    const IsingL2 l2{0.5, 2.0};
    double pen = 0.25 * m.fields().squaredNorm();
    for (const auto& e : m.edges()) pen += e.coupling * e.coupling;
    EXPECT_NEAR(ratio_matching_objective(m, x, l2, nullptr, ex), want + pen, 1e-13 * (want + pen));
  }
}

TEST(RatioMatching, GradientMatchesCentralDifferences) {
  const Exec ex(1);
  const IsingL2 l2{0.3, 0.7};
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising m = test_model(conv);
    const MatrixD x = test::ising_exact_samples(m, 200, Stream::root(12));
    VectorD grad;
    ratio_matching_objective(m, x, l2, &grad, ex);
    ASSERT_EQ(grad.size(), Eigen::Index(m.num_parameters()));
    Ising work = m;
    const VectorD theta = m.parameters();
    // Central differences with step 1e-5: truncation h²/6·|f'''| ~ 1e-11 (f''' is O(1)
    // for these O(1) objectives), rounding ε·|f|/h ~ 1e-11; 1e-8 leaves a wide margin.
    const double h = 1e-5, tol = 1e-8;
    for (Eigen::Index k = 0; k < theta.size(); ++k) {
      VectorD tp = theta, tm = theta;
      tp[k] += h;
      tm[k] -= h;
      work.set_parameters(tp);
      const double fp = ratio_matching_objective(work, x, l2, nullptr, ex);
      work.set_parameters(tm);
      const double fm = ratio_matching_objective(work, x, l2, nullptr, ex);
      const double fd = (fp - fm) / (2 * h);
      EXPECT_NEAR(grad[k], fd, tol) << "parameter " << k;
      // Not vacuous: a sign error or a dropped half of the coupling term would be caught.
      EXPECT_GT(std::abs(fd), 100 * tol) << "parameter " << k;
    }
  }
}

// E_p[∇J] at the true θ is zero: J's population minimiser is the truth (Hyvärinen 2007).
// Computed exactly as Σ_x p(x) ∇J({x}) over all 2^5 states.
TEST(RatioMatching, PopulationGradientVanishesAtTruth) {
  const Exec ex(1);
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising m = test_model(conv);
    const std::vector<double> p = test::ising_probabilities(m);
    VectorD pop = VectorD::Zero(Eigen::Index(m.num_parameters())), g;
    double scale = 0;
    for (std::uint64_t k = 0; k < p.size(); ++k) {
      const MatrixD one = test::ising_state(m, k).transpose();
      ratio_matching_objective(m, one, {}, &g, ex);
      pop += p[k] * g;
      scale += p[k] * g.norm();
    }
    // Exact up to rounding of 32 weighted terms.
    EXPECT_LT(pop.norm(), 1e-14 * 32) << "scale of the terms: " << scale;
    EXPECT_GT(scale, 0.1);
    // A model that is not the truth has a nonzero population gradient.
    Ising other = m;
    VectorD t = m.parameters();
    t[0] += 0.1;
    other.set_parameters(t);
    VectorD pop_other = VectorD::Zero(t.size());
    for (std::uint64_t k = 0; k < p.size(); ++k) {
      const MatrixD one = test::ising_state(m, k).transpose();
      ratio_matching_objective(other, one, {}, &g, ex);
      pop_other += p[k] * g;
    }
    EXPECT_GT(pop_other.norm(), 1e-3);
  }
}

TEST(RatioMatching, SameBitsForOneAndTwoThreads) {
  const Ising m = test_model(SpinConvention::plus_minus_one);
  const MatrixD x = test::ising_exact_samples(m, 2000, Stream::root(13));  // 8 row blocks
  VectorD g1, g2;
  const double f1 = ratio_matching_objective(m, x, {0.1, 0.1}, &g1, Exec(1));
  const double f2 = ratio_matching_objective(m, x, {0.1, 0.1}, &g2, Exec(2));
  EXPECT_EQ(std::memcmp(&f1, &f2, sizeof f1), 0);
  ASSERT_EQ(g1.size(), g2.size());
  EXPECT_EQ(std::memcmp(g1.data(), g2.data(), sizeof(double) * std::size_t(g1.size())), 0);
  const Ising zero(5, m.edges(), VectorD::Zero(5));
  const IsingFit a = fit_ratio_matching(zero, x, {}, {}, Exec(1));
  const IsingFit b = fit_ratio_matching(zero, x, {}, {}, Exec(2));
  const VectorD pa = a.model.parameters(), pb = b.model.parameters();
  EXPECT_EQ(std::memcmp(pa.data(), pb.data(), sizeof(double) * std::size_t(pa.size())), 0);
}

TEST(RatioMatching, LbfgsReachesAStationaryPoint) {
  const Exec ex(1);
  const Ising truth = test_model(SpinConvention::zero_one);
  const MatrixD x = test::ising_exact_samples(truth, 3000, Stream::root(14));
  Ising init = truth;
  init.set_parameters(VectorD::Zero(Eigen::Index(truth.num_parameters())));
  LbfgsOptions opt;
  // J ~ 1 is summed over 15000 terms: its rounding (~1e-16·J) hides decreases below
  // ‖g‖²/H once ‖g‖ ~ 1e-9; 1e-8 is reachable.
  opt.gradient_tolerance = 1e-8;
  const IsingFit fit = fit_ratio_matching(init, x, {}, opt, ex);
  EXPECT_TRUE(fit.converged);
  EXPECT_EQ(fit.method, "rm");
  ASSERT_EQ(fit.trace.size(), fit.iterations + 1);
  for (std::size_t t = 1; t < fit.trace.size(); ++t) EXPECT_LE(fit.trace[t], fit.trace[t - 1]);
  VectorD g;
  const double f = ratio_matching_objective(fit.model, x, {}, &g, ex);
  EXPECT_LE(g.norm(), 1e-8);
  EXPECT_EQ(f, fit.trace.back());
  // Strong L2 pulls every parameter toward 0.
  const IsingFit shrunk = fit_ratio_matching(init, x, {10.0, 10.0}, opt, ex);
  EXPECT_LT(shrunk.model.parameters().norm(), 0.5 * fit.model.parameters().norm());
}

TEST(RatioMatching, Errors) {
  const Exec ex(1);
  const Ising m = test_model(SpinConvention::zero_one);
  MatrixD x = MatrixD::Zero(3, 5);
  test::expect_error([&] { ratio_matching_objective(m, MatrixD(0, 5), {}, nullptr, ex); }, Exit::usage,
                     "ratio_matching_objective: the data has no rows");
  test::expect_error([&] { ratio_matching_objective(m, MatrixD::Zero(3, 4), {}, nullptr, ex); }, Exit::usage,
                     "ratio_matching_objective: the data has 4 columns but the model has 5 spins");
  x(2, 1) = -1;
  test::expect_error([&] { ratio_matching_objective(m, x, {}, nullptr, ex); }, Exit::usage,
                     "ratio_matching_objective: data[2, 1] = -1 is not a spin value of the model (0/1 spins)");
  test::expect_error([&] { fit_ratio_matching(m, x, {}, {}, ex); }, Exit::usage,
                     "fit_ratio_matching: data[2, 1] = -1 is not a spin value of the model (0/1 spins)");
  x(2, 1) = 0;
  test::expect_error([&] { ratio_matching_objective(m, x, {-1.0, 0.0}, nullptr, ex); }, Exit::usage,
                     "ratio_matching_objective: the L2 penalty on fields must be finite and >= 0 (got -1)");
  test::expect_error([&] { ratio_matching_objective(m, x, {0.0, NAN}, nullptr, ex); }, Exit::usage,
                     "ratio_matching_objective: the L2 penalty on couplings must be finite and >= 0 (got nan)");
  LbfgsOptions bad;
  bad.max_iterations = 0;
  test::expect_error([&] { fit_ratio_matching(m, x, {}, bad, ex); }, Exit::usage,
                     "minimize_lbfgs: max_iterations must be >= 1 (got 0)");
}

}  // namespace
}  // namespace logz
