// Are mrf_ais's error bars honest? Over 200 seeds on small Potts and Ising models with
// exact log Z (enumeration), the 95% intervals log_z ± 1.96·SE must cover the truth at a
// rate consistent with 95%: a one-sided exact binomial test against under-coverage at
// false-failure rate 1e-3 per model (4 models). Intervals a quarter as wide (error bars
// 4× too small) fail the same test: it can fail.
//
// The SE is a delta-method one on the log scale, valid when the importance weights are
// nearly equal; the calibrated regime (ESS > 50% of chains, asserted first) is tested,
// and a short schedule with few chains — heavy-tailed weights, log Ẑ skewed low — is
// reported, not asserted (as in the RBM calibration test, ais_calibration_slow_test).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "logz/estimators/mrf_ais.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/core/rng.hpp"
#include "logz/exact/potts_exact.hpp"
#include "support/calibration.hpp"

namespace logz {
namespace {

using test::binomial_critical;
using test::Coverage;

template <class Model>
Coverage coverage(const Model& model, double exact, std::size_t chains, std::size_t steps, int seeds) {
  MrfAisConfig config;
  config.schedule = Schedule::linear(steps);
  config.chains = chains;
  return test::coverage(exact, seeds, [&](int s) {
    config.seed = std::uint64_t(3000 + s);
    return mrf_ais(model, config, Exec(2));
  });
}

Potts random_lattice_potts(std::size_t rows, std::size_t cols, std::size_t q, std::uint64_t seed, double scale) {
  return test::randomise(test::lattice_potts(rows, cols, q), seed, scale);
}

const int kSeeds = 200;

TEST(MrfAisCalibration, PottsNinetyFivePercentIntervalsCover) {
  // 3×3 lattice, q = 3 (19683 states), random fields and couplings of scale 0.8.
  const Potts model = random_lattice_potts(3, 3, 3, 77, 0.8);
  const double exact = potts_enumeration_log_z(model, Exec(2));
  // Fail if P(Bin(200, 0.95) <= covered) < 1e-3.
  const int critical = binomial_critical(kSeeds, 0.95, 1e-3);
  const Coverage c = coverage(model, exact, 100, 200, kSeeds);
  std::printf("Potts 3x3 q=3, 100 chains, 200 betas: covered %d / %d (fails at <= %d), mean ESS %.1f%%\n", c.covered,
              kSeeds, critical, 100 * c.mean_ess);
  ASSERT_GT(c.mean_ess, 0.5);
  EXPECT_GT(c.covered, critical);
  // The test can fail: error bars 4× too small cover far too rarely.
  std::printf("the same with intervals a quarter as wide: covered %d / %d\n", c.covered_narrow, kSeeds);
  EXPECT_LE(c.covered_narrow, critical);
  // Reported only: few chains, a short schedule.
  const Coverage few = coverage(model, exact, 10, 10, kSeeds);
  std::printf("Potts, 10 chains, 10 betas: covered %d / %d, mean ESS %.1f%%\n", few.covered, kSeeds, 100 * few.mean_ess);

  // Every pair coupled: 6 sites, q = 4 (4096 states), couplings of scale 0.4.
  Potts dense = Potts::dense(6, 4);
  {
    Stream rng = Stream::derive(78, Purpose::user, 0);
    VectorD theta(Eigen::Index(dense.num_parameters()));
    for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = (k < 24 ? 0.8 : 0.4) * rng.normal();
    dense.set_parameters(theta);
  }
  const double exact_dense = potts_enumeration_log_z(dense, Exec(2));
  const Coverage d = coverage(dense, exact_dense, 100, 300, kSeeds);
  std::printf("dense Potts 6 sites q=4, 100 chains, 300 betas: covered %d / %d, mean ESS %.1f%%\n", d.covered, kSeeds,
              100 * d.mean_ess);
  ASSERT_GT(d.mean_ess, 0.5);
  EXPECT_GT(d.covered, critical);
}

TEST(MrfAisCalibration, IsingNinetyFivePercentIntervalsCover) {
  const int critical = binomial_critical(kSeeds, 0.95, 1e-3);
  // A strongly coupled 4×4 lattice near the 2-D critical coupling (K_c = 0.4407) with a
  // small field, in both spin conventions (the same numbers in 0/1 spins are another,
  // more weakly coupled distribution).
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising model = Ising::lattice_2d(4, 4, 0.4, 0.05, Boundary::open, Boundary::open, conv);
    const double exact = ising_enumeration_log_z(model, Exec(2));
    const Coverage c = coverage(model, exact, 100, 300, kSeeds);
    std::printf("Ising 4x4 (%s), 100 chains, 300 betas: covered %d / %d (fails at <= %d), mean ESS %.1f%%\n",
                conv == SpinConvention::plus_minus_one ? "±1" : "0/1", c.covered, kSeeds, critical, 100 * c.mean_ess);
    ASSERT_GT(c.mean_ess, 0.5);
    EXPECT_GT(c.covered, critical);
  }
}

}  // namespace
}  // namespace logz
