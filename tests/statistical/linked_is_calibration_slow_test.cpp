// Are linked importance sampling's error bars honest? Over 200 seeds on a small Potts
// model, an Ising model and a tiny RBM with exact log Z (enumeration), the 95% intervals
// log_z ± 1.96·SE must cover the truth at a rate consistent with 95%: a one-sided exact
// binomial test against under-coverage at false-failure rate 1e-3 per model (3 models).
// Intervals a quarter as wide (error bars 4× too small) fail the same test: it can fail.
//
// The SE is the delta method's over the runs' ratio estimates r̂ (independent, unbiased
// for Z/Z_0), valid when they are nearly equal; the calibrated regime (ESS > 50% of runs,
// asserted first) is tested, and few runs with short chains and few betas — heavy-tailed
// r̂, log Ẑ skewed low — is reported, not asserted (as in the AIS calibration tests).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/estimators/linked_is.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/potts_exact.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/calibration.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using test::Coverage;

/// Coverage of linked_importance_sampling on `path` over `seeds` seeds 5000, 5001, ...
template <class Path>
Coverage lis_coverage(const Path& path, double exact, LinkedIsConfig config, std::size_t steps, int seeds) {
  const Schedule schedule = Schedule::linear(steps);
  return test::coverage(exact, seeds, [&](int s) {
    config.seed = std::uint64_t(5000 + s);
    return linked_importance_sampling(path, schedule, config, Exec(2));
  });
}

const int kSeeds = 200;
// Fail if P(Bin(200, 0.95) <= covered) < 1e-3.
const int kCritical = test::binomial_critical(kSeeds, 0.95, 1e-3);

void expect_calibrated(const char* name, const Coverage& c) {
  std::printf("%s: covered %d / %d (fails at <= %d), a quarter as wide %d, mean ESS %.1f%%\n", name, c.covered, kSeeds,
              kCritical, c.covered_narrow, 100 * c.mean_ess);
  ASSERT_GT(c.mean_ess, 0.5);
  EXPECT_GT(c.covered, kCritical);         // false-failure rate 1e-3
  EXPECT_LE(c.covered_narrow, kCritical);  // the test has power
}

TEST(LinkedIsCalibration, PottsNinetyFivePercentIntervalsCover) {
  const Potts m = test::randomise(test::lattice_potts(3, 3, 3), 81, 0.6);
  const UniformStates base = uniform_base(m);
  const double exact = potts_enumeration_log_z(m, Exec(2));
  const auto path = reversible_mrf_path(base, m, 1);
  expect_calibrated("Potts 3x3 q=3, 100 runs, 10 states, 20 betas",
                    lis_coverage(path, exact, {.runs = 100, .chain_length = 10}, 20, kSeeds));
  // Reported only: few runs, short chains, few betas.
  const Coverage few = lis_coverage(path, exact, {.runs = 10, .chain_length = 2}, 3, kSeeds);
  std::printf("Potts, 10 runs, 2 states, 3 betas: covered %d / %d, mean ESS %.1f%%\n", few.covered, kSeeds,
              100 * few.mean_ess);
}

TEST(LinkedIsCalibration, IsingNinetyFivePercentIntervalsCover) {
  Ising m = Ising::lattice_2d(3, 4, 0.0, 0.0);
  Stream rng = Stream::derive(82, Purpose::user, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = 0.5 * rng.normal();
  m.set_parameters(theta);
  const UniformStates base = uniform_base(m);
  expect_calibrated("Ising 3x4, 100 runs, 10 states, 20 betas",
                    lis_coverage(reversible_mrf_path(base, m, 1), ising_enumeration_log_z(m, Exec(2)),
                             {.runs = 100, .chain_length = 10}, 20, kSeeds));
}

TEST(LinkedIsCalibration, RbmNinetyFivePercentIntervalsCover) {
  const RbmF model = test::random_rbm(42, 8, 6, 1.5, 1.0).cast<float>();
  const RbmAnnealingPath path(model, VectorF::Zero(8));
  expect_calibrated("RBM 8x6, 100 runs, 10 states, 20 betas",
                    lis_coverage(path, rbm_exact_log_z(model.cast<double>(), Exec(2)).log_z,
                             {.runs = 100, .chain_length = 10}, 20, kSeeds));
  // A strongly coupled model, more betas.
  const RbmF hard = test::random_rbm(43, 10, 5, 3.0, 1.0).cast<float>();
  const RbmAnnealingPath hard_path(hard, VectorF::Zero(10));
  const double exact_hard = rbm_exact_log_z(hard.cast<double>(), Exec(2)).log_z;
  expect_calibrated("hard RBM 10x5, 100 runs, 10 states, 50 betas",
                    lis_coverage(hard_path, exact_hard, {.runs = 100, .chain_length = 10}, 50, kSeeds));
  // Reported only: the spread of log Ẑ against AIS with the same number of moves.
  MeanVar lis, ais_err;
  for (int s = 0; s < 50; ++s) {
    lis.add(linked_importance_sampling(hard_path, Schedule::linear(50), {100, 10, std::uint64_t(7000 + s)}, Exec(2)).log_z -
            exact_hard);
    ais_err.add(ais(hard_path, Schedule::linear(450), {100, std::uint64_t(7000 + s)}, Exec(2)).log_z - exact_hard);
  }
  std::printf("hard RBM, 50 seeds, about 45000 moves each: LIS (100 runs x 10 states x 50 betas) error %.4f +- sd %.4f; "
              "AIS (100 chains x 450 betas) error %.4f +- sd %.4f\n",
              lis.mean, std::sqrt(lis.variance()), ais_err.mean, std::sqrt(ais_err.variance()));
}

}  // namespace
}  // namespace logz
