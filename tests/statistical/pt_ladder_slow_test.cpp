// Sequential against parallel-tempering ladders (ladder.hpp) on two multimodal targets
// with exact log Z, over 10 seeds: the error of bridge and TI (RMSE over the seeds) and
// their mean SE, reported (bench/results/pt-ladder.md). The cases:
//  - a periodic 16×16 Ising lattice at K = 0.6 (ordered phase; Kaufman's exact log Z),
//    41 linear betas, the CLI's default ladder (20 chains, burn-in 10, 50 samples);
//  - the planted bimodal RBM of tests/estimators/pt_ladder_test.cpp (20 visible units, one
//    hidden unit; exact by enumeration), 41 linear betas, 20 chains × 800 samples.
// Asserted: the tempered ladder's RMSE is below the sequential one's on both, and none of
// its 40 estimates is off by more than 4.42 SE (two-sided rate 1e-5 each for calibrated
// error bars; the seeds are fixed, so the outcome is too).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "logz/estimators/bridge.hpp"
#include "logz/estimators/thermodynamic.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

const double kZ = test::normal_two_sided_z(1e-5);
const int kSeeds = 10;

struct Summary {
  double rmse = 0, mean_se = 0, mean_error = 0, seconds = 0;
  int outside = 0;  ///< |error| > kZ · SE
};

template <class Path>
void compare(const char* name, const Path& path, const Schedule& schedule, LadderConfig config, double exact) {
  Summary s[2][2];  // [none, pt][bridge, ti]
  for (int mode = 0; mode < 2; ++mode) {
    config.tempering = mode == 0 ? LadderTempering::none : LadderTempering::pt;
    for (int seed = 1; seed <= kSeeds; ++seed) {
      config.seed = std::uint64_t(seed);
      const Ladder ladder = run_ladder(path, schedule, config, Exec(2));
      const LogZEstimate e[2] = {bridge_from_ladder(ladder).estimate, ti_from_ladder(ladder).estimate};
      for (int m = 0; m < 2; ++m) {
        const double err = e[m].log_z - exact;
        s[mode][m].rmse += err * err / kSeeds;
        s[mode][m].mean_error += err / kSeeds;
        s[mode][m].mean_se += e[m].std_error / kSeeds;
        s[mode][m].outside += std::abs(err) > kZ * e[m].std_error;
        s[mode][m].seconds += ladder.seconds / kSeeds;
      }
    }
  }
  std::printf("%s (%zu chains x %zu samples, %zu betas, %d seeds)\n", name, config.chains, config.samples,
              schedule.steps() + 1, kSeeds);
  for (int mode = 0; mode < 2; ++mode)
    for (int m = 0; m < 2; ++m) {
      Summary& r = s[mode][m];
      r.rmse = std::sqrt(r.rmse);
      std::printf("  %-4s %-6s RMSE %.3f  mean error %+.3f  mean SE %.3f  |error| > 4.42 SE: %d  ladder %.2f s\n",
                  mode == 0 ? "none" : "pt", m == 0 ? "bridge" : "TI", r.rmse, r.mean_error, r.mean_se, r.outside,
                  r.seconds);
    }
  for (int m = 0; m < 2; ++m) {
    EXPECT_LT(s[1][m].rmse, s[0][m].rmse) << name << " " << m;
    EXPECT_EQ(s[1][m].outside, 0) << name << " " << m;
  }
}

TEST(TemperedLadderAccuracy, OrderedIsingLattice) {
  const Ising m = Ising::lattice_2d(16, 16, 0.6, 0.0, Boundary::periodic, Boundary::periodic);
  const UniformStates base = uniform_base(m);
  compare("Ising 16x16 periodic, K = 0.6", mrf_path(base, m, 1), Schedule::linear(40),
          {.chains = 20, .burn_in = 10, .samples = 50}, ising_kaufman_log_z(16, 16, 0.6));
}

TEST(TemperedLadderAccuracy, PlantedBimodalRbm) {
  RbmD md(20, 1);
  md.weights.setConstant(5.0);
  md.visible_bias.setConstant(-1.5);
  md.hidden_bias.setConstant(-65.0);
  const RbmF model = md.cast<float>();
  compare("planted bimodal RBM 20x1", RbmAnnealingPath(model, VectorF::Zero(20)), Schedule::linear(40),
          {.chains = 20, .burn_in = 10, .samples = 800}, rbm_exact_log_z(md, Exec(1)).log_z);
}

}  // namespace
}  // namespace logz
