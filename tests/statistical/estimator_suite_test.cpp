// Every estimator of the suite against exact log Z: a periodic 16x16 Ising lattice at
// beta = 0.2 and at the critical beta (Kaufman's closed form) and a correlated Gaussian
// (closed form); the 20-hidden RBM trained on Fashion-MNIST is in
// rbm_estimator_suite_slow_test.cpp (training and enumeration take minutes). One call per estimator through the façade
// (api::estimate_on_path), so this is also what `logz estimate` computes.
//
// Tolerance: |estimate − exact| <= 4.42 SE with the estimator's own standard error, a
// two-sided false-failure rate of 1e-5 per check under the normal approximation; every
// check also bounds the SE, so that a useless error bar cannot pass.
#include <gtest/gtest.h>

#include <cmath>

#include <Eigen/LU>
#include <numbers>

#include "logz/api/continuous_tasks.hpp"
#include "logz/api/estimate.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "support/estimator_checks.hpp"

namespace logz {
namespace {

using test::expect_agrees;
using test::Setting;
constexpr double kZ = test::kSuiteZ;

class IsingSuite : public ::testing::TestWithParam<double> {};

TEST_P(IsingSuite, EveryEstimatorAgreesWithKaufmanOnThePeriodic16x16Lattice) {
  const double beta = GetParam();
  const Ising m = Ising::lattice_2d(16, 16, beta, 0.0, Boundary::periodic, Boundary::periodic);
  const double exact = ising_kaufman_log_z(16, 16, beta);
  const Exec ex(2);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const auto reversible = reversible_mrf_path(base, m, 1);
  const bool critical = beta > 0.4;
  const std::size_t k = critical ? 600 : 200;
  const std::vector<Setting> settings = {
      {"ais", 100, k, "linear"},
      {"smc", 100, k, "linear"},
      {"bridge", 8, k / 4, "linear", 40},
      {"ti", 8, k / 4, "linear", 40},
  };
  for (const Setting& s : settings) {
    const api::EstimateConfig c = test::suite_config(s, 17);
    expect_agrees(api::estimate_on_path(path, c, nullptr, ex), exact, 1.0, "ising beta " + std::to_string(beta));
  }
  api::EstimateConfig lis = test::suite_config({"lis", 100, k / 2, "linear"}, 19);
  lis.options.set("chain_length", std::int64_t{4});
  expect_agrees(api::estimate_on_path(reversible, lis, nullptr, ex), exact, 1.0, "ising beta " + std::to_string(beta));
}

INSTANTIATE_TEST_SUITE_P(HighAndCriticalTemperature, IsingSuite,
                         ::testing::Values(0.2, 0.5 * std::log(1 + std::numbers::sqrt2)));

TEST(GaussianSuite, EveryEstimatorAgreesWithTheClosedFormOfACorrelatedGaussian) {
  // 4-d, correlations up to 0.8 and scales 0.5..2 against an N(0, 2² I) base; HMC moves.
  MatrixD cov(4, 4);
  cov << 4.0, 1.6, 0.5, 0.0, 1.6, 1.0, 0.4, 0.2, 0.5, 0.4, 0.25, 0.1, 0.0, 0.2, 0.1, 1.0;
  const Gaussian target((VectorD(4) << 1.0, -0.5, 0.3, 0.0).finished(), cov.inverse());
  const Gaussian base = Gaussian::isotropic(4, 2.0);
  const double exact = target.log_partition();
  const Exec ex(2);
  api::ContinuousKernelConfig hmc;
  hmc.step_size = 0.15;
  hmc.leapfrog = 10;
  const std::vector<Setting> settings = {
      {"is", 20000, 1, "linear"},    {"ais", 200, 100, "linear"}, {"smc", 200, 100, "linear"},
      {"smc", 200, 0, "adaptive"},   {"bridge", 8, 20, "linear"}, {"ti", 8, 40, "linear"},
      {"lis", 200, 20, "linear"},
  };
  for (const Setting& s : settings) {
    const api::EstimateConfig c = test::suite_config(s, 23);
    expect_agrees(api::continuous_estimate(target, base, c, hmc, nullptr, ex), exact, 0.5, "gaussian");
  }
  // RAISE from exact target draws: above the truth on average (one-sided, rate 1e-5).
  MatrixD draws(300, 4);
  Stream rng = Stream::derive(29, Purpose::user, 0);
  VectorD x(4);
  for (Eigen::Index r = 0; r < draws.rows(); ++r) {
    target.sample(rng, x);
    draws.row(r) = x.transpose();
  }
  const LogZEstimate r =
      api::continuous_estimate(target, base, test::suite_config({"raise", 300, 100, "linear"}, 31), hmc, &draws, ex);
  EXPECT_GE(r.log_z, exact - kZ * r.std_error) << r.log_z << " ± " << r.std_error << " vs " << exact;
  EXPECT_LT(r.std_error, 0.5);
}

}  // namespace
}  // namespace logz
