// Are smc's error bars honest? Over 200 seeds on small Potts, Ising and RBM models with
// exact log Z (enumeration), intervals from the SMC estimate must cover the truth at
// their nominal rate: one-sided exact binomial tests against under-coverage, each at
// false-failure rate 1e-3 (4 such tests: about 4e-3 for the file).
//
// The standard error comes from the spread of R independent runs, so it has R − 1
// degrees of freedom: log_z ± t_{R−1}·SE is the honest 95% interval, and the normal
// interval log_z ± 1.96·SE (LogZEstimate::interval) covers about P(|t_{R−1}| <= 1.96):
// 91.8% for R = 10, 94.4% for R = 50. So with R = 50 runs the normal interval is tested
// against 95%, and with R = 10 and R = 20 the t interval is tested against 95% (and for
// R = 10 the normal one against its predicted rate). Intervals a quarter as wide (error
// bars 4× too small) fail the same test: it can fail.
//
// The asserted runs use fixed schedules (each taken from one adaptive run with a seed
// outside the tested ones), for which every run's Ẑ is unbiased. Adaptive tempering
// makes Ẑ slightly biased (O(1/N) per run, while the SE of R runs shrinks like
// 1/√(R N)): its coverage is reported, not asserted, with the mean standardized error
// that shows the shift.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include "logz/diagnostics/mcmc.hpp"
#include "logz/estimators/smc.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/potts_exact.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/calibration.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using test::binomial_critical;
Potts random_lattice_potts(std::size_t rows, std::size_t cols, std::size_t q, std::uint64_t seed, double scale) {
  return test::randomise(test::lattice_potts(rows, cols, q), seed, scale);
}



double student_t_two_sided(double alpha, double dof) { return student_t_two_sided_quantile(1 - alpha, dof); }

const int kSeeds = 200;
const double kZ95 = 1.959963984540054;

struct Coverage {
  int normal = 0;   ///< log_z ± 1.96·SE
  int t = 0;        ///< log_z ± t_{R−1, 0.975}·SE (interval(0.95), with dof = R − 1)
  int narrow = 0;   ///< log_z ± 0.25·1.96·SE
  double mean_steps = 0;
  double mean_z = 0;  ///< mean of (log_z − exact) / SE: a bias shows as a shift
};

template <class Path>
Coverage coverage(const Path& path, double exact, SmcConfig config, const char* name) {
  Coverage c;
  const double t = student_t_two_sided(0.05, double(config.runs - 1));
  for (int s = 0; s < kSeeds; ++s) {
    config.seed = std::uint64_t(5000 + s);
    const LogZEstimate e = smc(path, config, Exec(2));
    const auto [lo, hi] = e.interval(0.95);
    const double err = std::abs(e.log_z - exact);
    c.normal += err <= kZ95 * e.std_error;
    c.t += (lo <= exact && exact <= hi);
    EXPECT_NEAR(hi - e.log_z, t * e.std_error, 1e-9 * (1 + t * e.std_error));
    c.narrow += err <= 0.25 * kZ95 * e.std_error;
    c.mean_steps += double(e.steps.size()) / kSeeds;
    c.mean_z += (e.log_z - exact) / e.std_error / kSeeds;
  }
  std::printf("%s, %zu particles x %zu runs, %.1f steps: covered by normal %d, t %d, quarter-width %d of %d "
              "(normal interval expected to cover %.1f%%); mean (estimate - exact) / SE %.2f\n",
              name, config.particles, config.runs, c.mean_steps, c.normal, c.t, c.narrow, kSeeds,
              100 * (1 - student_t_two_sided_tail(kZ95, double(config.runs - 1))), c.mean_z);
  return c;
}


// Fail if P(Bin(200, 0.95) <= covered) < 1e-3.
const int kCritical95 = binomial_critical(kSeeds, 0.95, 1e-3);

TEST(SmcCalibration, PottsFiftyRunsNormalIntervalsCover) {
  // 3×3 lattice, q = 3, random fields and couplings of scale 0.8; systematic
  // resampling on the schedule an adaptive run with another seed chose (CESS 0.9).
  const Potts model = random_lattice_potts(3, 3, 3, 77, 0.8);
  const UniformStates base = uniform_base(model);
  const auto path = mrf_path(base, model, 1);
  const double exact = potts_enumeration_log_z(model, Exec(2));
  SmcConfig config{.particles = 100, .runs = 50, .resampling = Resampling::systematic, .cess_target = 0.9};
  config.schedule = adaptive_schedule(path, 100, 0.9, 1, Exec(2));
  const Coverage c = coverage(path, exact, config, "Potts 3x3 q=3, fixed schedule from an adaptive run");
  EXPECT_GT(c.normal, kCritical95);
  EXPECT_LE(c.narrow, kCritical95);  // error bars 4x too small fail
  // Reported: adaptive runs.
  config.schedule.reset();
  coverage(path, exact, config, "Potts 3x3 q=3, adaptive CESS 0.9");
}

TEST(SmcCalibration, IsingFixedScheduleTenRunsTIntervalsCover) {
  // A 4×4 lattice near the critical coupling with a small field; 30 linear betas,
  // residual resampling below ESS = N/2.
  const Ising model = Ising::lattice_2d(4, 4, 0.4, 0.05);
  const UniformStates base = uniform_base(model);
  const auto path = mrf_path(base, model, 1);
  const double exact = ising_enumeration_log_z(model, Exec(2));
  const SmcConfig config{.particles = 100, .runs = 10, .resampling = Resampling::residual,
                         .schedule = Schedule::linear(30)};
  const Coverage c = coverage(path, exact, config, "Ising 4x4 K=0.4 h=0.05, 30 linear betas");
  EXPECT_GT(c.t, kCritical95);
  // The normal interval covers at about P(|t_9| <= 1.96) = 91.8%, as documented.
  const double p_normal = 1 - student_t_two_sided_tail(kZ95, 9.0);
  EXPECT_GT(c.normal, binomial_critical(kSeeds, p_normal, 1e-3));
  EXPECT_LE(c.narrow, kCritical95);
}

TEST(SmcCalibration, RbmTwentyRunsTIntervalsCover) {
  // Stratified resampling on the schedule of an adaptive run with another seed.
  const RbmF model = test::random_rbm(42, 8, 6, 1.5, 1.0).cast<float>();
  const RbmAnnealingPath path(model, VectorF::Zero(8));
  const double exact = rbm_exact_log_z(model.cast<double>(), Exec(2)).log_z;
  SmcConfig config{.particles = 100, .runs = 20, .resampling = Resampling::stratified, .cess_target = 0.9};
  config.schedule = adaptive_schedule(path, 100, 0.9, 1, Exec(2));
  const Coverage c = coverage(path, exact, config, "RBM 8x6, fixed schedule from an adaptive run");
  EXPECT_GT(c.t, kCritical95);
  EXPECT_LE(c.narrow, kCritical95);
  // Reported: adaptive runs.
  config.schedule.reset();
  coverage(path, exact, config, "RBM 8x6, adaptive CESS 0.9");
}

}  // namespace
}  // namespace logz
