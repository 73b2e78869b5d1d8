// Are AIS's error bars honest? Over 200 seeds on a tiny RBM, the 95% intervals
// log_z ± 1.96·SE must cover exact log Z at a rate consistent with 95%: a one-sided
// exact binomial test against under-coverage at false-failure rate 1e-3.
//
// The SE is a delta-method one on the log scale, valid when the importance weights are
// nearly equal. With few chains and a short schedule the weights are heavy-tailed, log
// Ẑ is skewed below log Z and the intervals under-cover; so the calibrated regime is
// asserted (100 chains, 200 betas: ESS > 50% of chains), and the under-covering regime
// is reported, not asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "logz/estimators/rbm_ais.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "support/calibration.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using test::binomial_critical;
using test::Coverage;

Coverage coverage(const RbmF& model, const VectorF& base, double exact, std::size_t chains, std::size_t steps, int seeds) {
  const Schedule schedule = Schedule::linear(steps);
  return test::coverage(exact, seeds, [&](int s) {
    return rbm_ais(model, base, schedule, {chains, std::uint64_t(1000 + s)}, Exec(2));
  });
}

TEST(AisCalibration, NinetyFivePercentIntervalsCover) {
  const RbmF model = test::random_rbm(42, 8, 6, 1.5, 1.0).cast<float>();
  const VectorF base = VectorF::Zero(8);
  const double exact = rbm_exact_log_z(model.cast<double>(), Exec(2)).log_z;
  const int seeds = 200;
  // Fail if P(Bin(200, 0.95) <= covered) < 1e-3.
  const int critical = binomial_critical(seeds, 0.95, 1e-3);
  const Coverage c = coverage(model, base, exact, 100, 200, seeds);
  std::printf("100 chains, 200 betas: covered %d / %d (fails at <= %d), mean ESS %.1f%%\n", c.covered, seeds, critical,
              100 * c.mean_ess);
  ASSERT_GT(c.mean_ess, 0.5);
  EXPECT_GT(c.covered, critical);
  // A strongly coupled model, more chains and betas.
  const RbmF hard = test::random_rbm(43, 10, 5, 3.0, 1.0).cast<float>();
  const double exact_hard = rbm_exact_log_z(hard.cast<double>(), Exec(2)).log_z;
  const Coverage h = coverage(hard, VectorF::Zero(10), exact_hard, 200, 500, seeds);
  std::printf("hard model, 200 chains, 500 betas: covered %d / %d, mean ESS %.1f%%\n", h.covered, seeds, 100 * h.mean_ess);
  ASSERT_GT(h.mean_ess, 0.5);
  EXPECT_GT(h.covered, critical);
  // Reported only: few chains and betas.
  const Coverage few = coverage(model, base, exact, 10, 20, seeds);
  std::printf("10 chains, 20 betas: covered %d / %d, mean ESS %.1f%%\n", few.covered, seeds, 100 * few.mean_ess);
}

}  // namespace
}  // namespace logz
