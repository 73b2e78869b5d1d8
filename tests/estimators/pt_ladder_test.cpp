// The parallel-tempering ladder on a target where the sequential ladder fails. A planted
// bimodal RBM (20 visible units, one hidden unit): with the hidden unit off, a wide mode
// near v = 0 (visible biases −1.5); with it on, a narrower, deeper mode near v = 1 (weights
// 5, hidden bias −65: the hidden unit pays off when more than 13 visibles are on). Along
// the weight-annealing path the wide mode holds most of the mass at small β and the deep
// one at β = 1, and block Gibbs stops crossing between them near the crossover: sequential
// chains keep the split they had there, and bridge and TI come out far from the exact
// log Z (enumeration over the hidden unit) with small error bars. The tempered ladder
// moves states between betas, so the deep mode's states found at small β reach β = 1:
// bridge and TI agree with the exact value within 4.42 SE (two-sided false-failure rate
// 1e-5 each), every adjacent pair of betas swaps, and R-hat is near 1 at most betas.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "logz/estimators/bridge.hpp"
#include "logz/estimators/thermodynamic.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

// Two-sided false-failure rate 1e-5 per comparison: z = 4.4172.
const double kZ = test::normal_two_sided_z(1e-5);

RbmD planted_bimodal_rbm() {
  RbmD m(20, 1);
  m.weights.setConstant(5.0);
  m.visible_bias.setConstant(-1.5);
  m.hidden_bias.setConstant(-65.0);
  return m;
}

TEST(TemperedLadder, BimodalRbmWhereTheSequentialLadderFails) {
  const RbmF model = planted_bimodal_rbm().cast<float>();
  const double exact = rbm_exact_log_z(model.cast<double>(), Exec(1)).log_z;
  const RbmAnnealingPath path(model, VectorF::Zero(20));
  const Schedule schedule = Schedule::linear(40);
  LadderConfig config{.chains = 20, .burn_in = 10, .samples = 800, .seed = 1};

  config.tempering = LadderTempering::none;
  const Ladder sequential = run_ladder(path, schedule, config, Exec(2));
  const LogZEstimate sb = bridge_from_ladder(sequential).estimate, st = ti_from_ladder(sequential).estimate;
  std::printf("sequential: bridge %+.3f (SE %.3f), TI %+.3f (SE %.3f) from exact %.4f\n", sb.log_z - exact,
              sb.std_error, st.log_z - exact, st.std_error, exact);
  // The case is hard: the sequential ladder's error is far outside its error bar.
  EXPECT_GT(std::abs(sb.log_z - exact), kZ * sb.std_error);
  EXPECT_GT(std::abs(st.log_z - exact), kZ * st.std_error);

  config.tempering = LadderTempering::pt;
  const Ladder tempered = run_ladder(path, schedule, config, Exec(2));
  const LogZEstimate pb = bridge_from_ladder(tempered).estimate, pt = ti_from_ladder(tempered).estimate;
  std::printf("tempered:   bridge %+.3f (SE %.3f), TI %+.3f (SE %.3f)\n", pb.log_z - exact, pb.std_error,
              pt.log_z - exact, pt.std_error);
  EXPECT_LT(kZ * pb.std_error, 1.0);  // power: a nat off would fail
  EXPECT_LE(std::abs(pb.log_z - exact), kZ * pb.std_error);  // false-failure rate 1e-5
  EXPECT_LE(std::abs(pt.log_z - exact), kZ * pt.std_error);  // false-failure rate 1e-5

  std::size_t rhat_high = 0;
  for (std::size_t k = 0; k < tempered.levels.size(); ++k) {
    const LadderLevel& l = tempered.levels[k];
    if (k + 1 < tempered.levels.size()) EXPECT_GT(l.swap_rate, 0.0) << "beta " << l.beta;
    if (k > 0) rhat_high += !(l.rhat < 1.1);
  }
  std::printf("tempered: R-hat >= 1.1 at %zu of %zu betas\n", rhat_high, tempered.levels.size() - 1);
  EXPECT_LE(rhat_high, (tempered.levels.size() - 1) / 10);  // below 1.1 at 90% of the betas
}

}  // namespace
}  // namespace logz
