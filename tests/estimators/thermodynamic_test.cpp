// Thermodynamic integration. Exact first: the quadrature weights integrate polynomials
// exactly (trapezoid: lines; Simpson: quadratics on any grid, cubics on a uniform one);
// on independent spins, where μ(β) = E_β[∂ log f] = Σ h_i tanh(β h_i) is known in closed
// form at every β, the Richardson estimate of the trapezoid error on the exact means
// matches the true error. Then the Monte-Carlo run on independent spins: the per-β means
// agree with μ(β) within z·MCSE, the quadrature-error estimate agrees with the true
// error within z times its own Monte-Carlo SE, and on a coarse grid the interval covers
// log Z only because the quadrature error is part of std_error. Finally agreement with
// exact log Z of small Potts, Ising and RBM models within z·SE, 1 vs 2 threads, errors.
#include "logz/estimators/thermodynamic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "logz/exact/ising_exact.hpp"
#include "logz/exact/potts_exact.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/expect_error.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

// Two-sided false-failure rate 1e-4 per comparison: z = 3.8906.
const double kZ = test::normal_two_sided_z(1e-4);

double integrate(const std::vector<double>& w, const std::vector<double>& b, double (*g)(double)) {
  double s = 0;
  for (std::size_t k = 0; k < w.size(); ++k) s += w[k] * g(b[k]);
  return s;
}

TEST(TiQuadratureExact, WeightsIntegratePolynomials) {
  const std::vector<double> nonuniform{0.0, 0.1, 0.15, 0.4, 0.5, 0.8, 1.0};
  // Trapezoid: exact for lines on any grid.
  EXPECT_NEAR(integrate(trapezoid_weights(nonuniform), nonuniform, [](double b) { return 2.0 - 3.0 * b; }), 0.5, 1e-15);
  // Simpson: exact for quadratics on any grid (pairs of steps), cubics on a uniform grid.
  EXPECT_NEAR(integrate(simpson_weights(nonuniform), nonuniform, [](double b) { return 1.0 + b - 6.0 * b * b; }),
              1.0 + 0.5 - 2.0, 1e-14);
  const std::vector<double> uniform = Schedule::linear(6).betas();
  EXPECT_NEAR(integrate(simpson_weights(uniform), uniform, [](double b) { return 4.0 * b * b * b - b; }), 0.5, 1e-14);
  // The trapezoid is not exact for a quadratic (the check can fail).
  EXPECT_GT(std::abs(integrate(trapezoid_weights(uniform), uniform, [](double b) { return b * b; }) - 1.0 / 3.0), 1e-3);
  test::expect_error([&] { simpson_weights(Schedule::linear(3).betas()); }, Exit::usage,
                     "simpson_weights: needs an even number of steps (odd number of points >= 3), got 4 points");
}

// Independent ±1 spins with fields h: log f_β = β Σ h_i s_i on the path from the uniform
// base, μ(β) = Σ h_i tanh(β h_i), ∫_0^1 μ = Σ log cosh h_i.
const std::vector<double> kFields{1.8, -1.2, 2.5, 0.7, -2.2, 1.5, -0.4, 2.0};
Ising independent_spins() {
  return Ising(kFields.size(), {}, Eigen::Map<const VectorD>(kFields.data(), Eigen::Index(kFields.size())));
}
double exact_mu(double beta) {
  double s = 0;
  for (double h : kFields) s += h * std::tanh(beta * h);
  return s;
}
double exact_integral() {
  double s = 0;
  for (double h : kFields) s += std::log(std::cosh(h));
  return s;
}

TEST(TiQuadratureExact, RichardsonEstimatesTheTrapezoidErrorOnExactMeans) {
  for (const Schedule& s : {Schedule::linear(16), Schedule::sigmoid(16), Schedule::linear(15)}) {
    std::vector<double> mu;
    for (double b : s.betas()) mu.push_back(exact_mu(b));
    const TiQuadrature q = ti_quadrature(s.betas(), mu);
    const double true_error = exact_integral() - q.trapezoid;
    // The estimate's own error is of higher order in the step (h⁴ against h² for a smooth
    // grid): here under a tenth of the error itself (odd K: one step left unseen).
    std::printf("K = %zu: trapezoid error %.3e, Richardson estimate %.3e\n", s.steps(), true_error, q.trapezoid_error);
    EXPECT_GT(std::abs(true_error), 1e-3);
    EXPECT_NEAR(q.trapezoid_error, true_error, 0.1 * std::abs(true_error));
    if (s.steps() % 2 == 0) {
      EXPECT_LT(std::abs(exact_integral() - q.simpson), 0.2 * std::abs(true_error));
    } else {
      EXPECT_TRUE(std::isnan(q.simpson));
    }
  }
}

TEST(ThermodynamicIntegration, IndependentSpinsMeansAndQuadratureError) {
  const Ising m = independent_spins();
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const double log_z = double(kFields.size()) * std::log(2.0) + exact_integral();
  const Schedule coarse = Schedule::linear(4);
  const Ladder ladder = run_ladder(path, coarse, {.chains = 20, .burn_in = 2, .samples = 200, .seed = 21}, Exec(2));
  const TiResult r = ti_from_ladder(ladder);
  // Every per-β mean within z·MCSE of μ(β): false-failure rate 1e-4 over the 5 betas.
  const double z_each = test::normal_two_sided_z(1e-4 / 5);
  for (std::size_t k = 0; k < r.means.size(); ++k)
    EXPECT_LE(std::abs(r.means[k] - exact_mu(coarse[k])), z_each * r.mean_std_errors[k]) << "beta " << coarse[k];
  // The quadrature-error estimate is linear in the means: its Monte-Carlo SE is
  // √Σ c_k² Var(μ̂_k) with c = (w_h − w_2h)/3.
  const std::vector<double> wh = trapezoid_weights(coarse.betas()), w2 = trapezoid_weights(half_grid(coarse.betas()));
  double v = 0;
  for (std::size_t k = 0; k < wh.size(); ++k) {
    const double c = (wh[k] - (k % 2 == 0 ? w2[k / 2] : 0.0)) / 3.0;
    v += c * c * r.mean_std_errors[k] * r.mean_std_errors[k];
  }
  const double true_error = exact_integral() - r.quadrature.trapezoid;
  std::vector<double> exact_means;
  for (double b : coarse.betas()) exact_means.push_back(exact_mu(b));
  const double exact_trapezoid_error = exact_integral() - ti_quadrature(coarse.betas(), exact_means).trapezoid;
  std::printf("coarse grid: trapezoid error %.4f (on exact means %.4f), estimated %.4f ± %.4f, MC SE %.4f\n", true_error,
              exact_trapezoid_error, r.quadrature_error, std::sqrt(v), r.mc_std_error);
  // Against the error on exact means (what the estimate targets), rate 1e-4; up to the
  // Richardson estimate's own O(h⁴) error, checked on exact means above (20%).
  EXPECT_LE(std::abs(r.quadrature_error - exact_trapezoid_error),
            kZ * std::sqrt(v) + 0.2 * std::abs(exact_trapezoid_error));
  // On this grid the bias dominates: the Monte-Carlo SE alone would not cover log Z
  // (the check can fail), the combined std_error does (rate 1e-4).
  const LogZEstimate& e = r.estimate;
  EXPECT_GT(std::abs(e.log_z - log_z), kZ * r.mc_std_error);
  EXPECT_LE(std::abs(e.log_z - log_z), kZ * e.std_error) << e.log_z << " exact " << log_z << " se " << e.std_error;
  EXPECT_DOUBLE_EQ(e.std_error, std::hypot(r.mc_std_error, r.quadrature_error));
  // Per-chain estimates average to the estimate.
  double mean = 0;
  for (double w : e.log_weights) mean += w / double(e.log_weights.size());
  EXPECT_NEAR(mean, e.log_z, 1e-10);
}

/// With the tempered ladder (the default) and the sequential one.
template <class Path>
void expect_agrees(const Path& path, const Schedule& schedule, TiConfig config, double exact) {
  for (LadderTempering t : {LadderTempering::pt, LadderTempering::none}) {
    SCOPED_TRACE(t == LadderTempering::pt ? "tempering pt" : "tempering none");
    config.tempering = t;
    const LogZEstimate e = thermodynamic_integration(path, schedule, config, Exec(2));
    EXPECT_EQ(e.method, "ti");
    EXPECT_EQ(e.num_samples, config.chains * config.samples * (schedule.steps() + 1));
    EXPECT_EQ(e.steps.size(), schedule.steps() + 1);
    ASSERT_TRUE(std::isfinite(e.std_error));
    EXPECT_LT(kZ * e.std_error, 0.15);  // power: 0.15 nat off would fail
    EXPECT_LE(std::abs(e.log_z - exact), kZ * e.std_error)  // false-failure rate 1e-4
        << "estimate " << e.log_z << " exact " << exact << " se " << e.std_error;
  }
}

Potts randomise(Potts m, std::uint64_t seed, double scale) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = scale * rng.normal();
  m.set_parameters(theta);
  return m;
}

TEST(ThermodynamicIntegration, AgreesWithEnumeration) {
  const TiConfig config{.chains = 20, .burn_in = 5, .samples = 50, .seed = 3};
  {
    SCOPED_TRACE("dense Potts 5 sites q=4");
    const Potts m = randomise(Potts::dense(5, 4), 71, 0.6);
    const UniformStates base = uniform_base(m);
    expect_agrees(mrf_path(base, m, 1), Schedule::linear(20), config, potts_enumeration_log_z(m, Exec(2)));
    TiConfig simpson = config;
    simpson.rule = TiRule::simpson;
    expect_agrees(mrf_path(base, m, 1), Schedule::linear(20), simpson, potts_enumeration_log_z(m, Exec(2)));
  }
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    SCOPED_TRACE(int(conv));
    const Ising m = Ising::lattice_2d(3, 4, 0.4, 0.1, Boundary::open, Boundary::open, conv);
    const UniformStates base = uniform_base(m);
    expect_agrees(mrf_path(base, m, 1), Schedule::linear(20), config, ising_enumeration_log_z(m, Exec(2)));
  }
  {
    SCOPED_TRACE("RBM 8x5");
    const RbmF model = test::random_rbm(72, 8, 5, 1.0, 0.5).cast<float>();
    expect_agrees(RbmAnnealingPath(model, VectorF::Zero(8)), Schedule::linear(20), config,
                  rbm_exact_log_z(model.cast<double>(), Exec(2)).log_z);
  }
}

TEST(ThermodynamicIntegration, BaseEqualToTargetAndOneStep) {
  const Potts flat = Potts::dense(4, 3);
  const UniformStates base = uniform_base(flat);
  const LogZEstimate e =
      thermodynamic_integration(mrf_path(base, flat, 1), Schedule::linear(2), {.chains = 3, .samples = 4}, Exec(1));
  EXPECT_EQ(e.log_z, 4 * std::log(3.0));
  EXPECT_EQ(e.std_error, 0.0);
  const Potts m = randomise(Potts::dense(4, 3), 73, 0.5);
  const LogZEstimate one =
      thermodynamic_integration(mrf_path(base, m, 1), Schedule::linear(1), {.chains = 3, .samples = 4}, Exec(1));
  EXPECT_TRUE(std::isfinite(one.log_z));
  EXPECT_TRUE(std::isnan(one.std_error));
  EXPECT_EQ(one.error_method, "none: one step gives no estimate of the quadrature error (Monte-Carlo SE in mc_std_error)");
}

TEST(ThermodynamicIntegration, OneAndTwoThreadsGiveIdenticalBits) {
  // Large enough that the path splits its work over threads: 64 chains of a 16×32 Ising
  // lattice (2^15 particle-sites).
  const Ising m = Ising::lattice_2d(16, 32, 0.3, 0.1);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  for (LadderTempering t : {LadderTempering::pt, LadderTempering::none}) {
    SCOPED_TRACE(t == LadderTempering::pt ? "tempering pt" : "tempering none");
    const TiConfig config{.chains = 64, .burn_in = 1, .samples = 4, .seed = 9, .tempering = t};
    const LogZEstimate a = thermodynamic_integration(path, Schedule::linear(4), config, Exec(1));
    const LogZEstimate b = thermodynamic_integration(path, Schedule::linear(4), config, Exec(2));
    EXPECT_EQ(a.log_z, b.log_z);
    EXPECT_EQ(a.std_error, b.std_error);
    EXPECT_EQ(a.log_weights, b.log_weights);
  }
}

TEST(ThermodynamicIntegration, BadInputMessages) {
  const Potts m = Potts::dense(3, 3);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  test::expect_error([&] { thermodynamic_integration(path, Schedule::linear(3), {.rule = TiRule::simpson}, Exec(1)); },
                     Exit::usage, "thermodynamic_integration: Simpson's rule needs an even number of steps, got 3");
  test::expect_error([&] { thermodynamic_integration(path, Schedule::linear(2), {.chains = 0}, Exec(1)); }, Exit::usage,
                     "thermodynamic_integration: chains must be >= 1, got 0");
  test::expect_error([&] { thermodynamic_integration(path, Schedule::linear(2), {.samples = 2}, Exec(1)); },
                     Exit::usage, "thermodynamic_integration: samples must be >= 4 per chain and beta, got 2");
  test::expect_error([&] { ti_quadrature(std::vector<double>{0, 1}, std::vector<double>{1}); }, Exit::usage,
                     "ti_quadrature: 2 betas but 1 values");
}

}  // namespace
}  // namespace logz
