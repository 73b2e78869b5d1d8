// Are the error bars of bridge sampling and thermodynamic integration honest? Over 200
// seeds on small Potts and Ising models with exact log Z (enumeration), the 95%
// intervals log_z ± 1.96·SE must cover the truth at a rate consistent with 95%: a
// one-sided exact binomial test against under-coverage at false-failure rate 1e-3 per
// model and method (4 checks). Intervals a quarter as wide (error bars 4× too small) fail
// the same test: it can fail. So does the bridge error bar that sums the per-pair
// variances as if the pairs were independent (they share each beta's draws).
//
// Both methods treat the betas as independent although one set of chains runs through
// the whole schedule (ladder.hpp); with burn_in moves between betas the covering rate
// checks that this is good enough. TI's std_error includes the estimated quadrature
// error; on the grids used here that estimate is asserted to be well below the
// Monte-Carlo SE (so the coverage is that of the Monte-Carlo error bar), and the mean
// error over the seeds is reported as a check of the remaining bias.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "logz/estimators/bridge.hpp"
#include "logz/estimators/thermodynamic.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/potts_exact.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "support/calibration.hpp"

namespace logz {
namespace {

using test::binomial_critical;
Potts random_lattice_potts(std::size_t rows, std::size_t cols, std::size_t q, std::uint64_t seed, double scale) {
  return test::randomise(test::lattice_potts(rows, cols, q), seed, scale);
}



struct Coverage {
  int covered = 0;
  int covered_narrow = 0;         ///< by intervals a quarter as wide
  int covered_between_chain = 0;  ///< by log_z ± 1.96 sd(per-chain estimates)/√M
  int covered_pairs_independent = 0;  ///< bridge: by log_z ± 1.96 √(Σ per-pair variances)
  double mean_error = 0, mean_se = 0, sd_error = 0;
  double mean_mc_se = 0, mean_abs_quadrature = 0;  ///< TI only
  void add(const LogZEstimate& e, double exact, int seeds, std::vector<double>& errors) {
    const auto [lo, hi] = e.interval(0.95);
    covered += lo <= exact && exact <= hi;
    covered_narrow += std::abs(e.log_z - exact) <= 0.25 * (hi - lo) / 2;
    double m = 0, v = 0;
    for (double w : e.log_weights) m += w / double(e.log_weights.size());
    for (double w : e.log_weights) v += (w - m) * (w - m) / double(e.log_weights.size() - 1);
    covered_between_chain += std::abs(e.log_z - exact) <= 1.96 * std::sqrt(v / double(e.log_weights.size()));
    mean_error += (e.log_z - exact) / seeds;
    mean_se += e.std_error / seeds;
    errors.push_back(e.log_z - exact);
  }
  void finish(const std::vector<double>& errors) {
    double v = 0;
    for (double d : errors) v += (d - mean_error) * (d - mean_error) / double(errors.size() - 1);
    sd_error = std::sqrt(v);
  }
};

const int kSeeds = 200;

template <class Path>
std::pair<Coverage, Coverage> coverage(const Path& path, const Schedule& schedule, LadderConfig config, double exact) {
  Coverage bridge, ti;
  std::vector<double> be, te;
  for (int s = 0; s < kSeeds; ++s) {
    config.seed = std::uint64_t(5000 + s);
    // One ladder serves both estimators (as a user could do with run_ladder).
    const Ladder ladder = run_ladder(path, schedule, config, Exec(2));
    const BridgeResult br = bridge_from_ladder(ladder);
    bridge.add(br.estimate, exact, kSeeds, be);
    double pair_variance = 0;
    for (const BridgePair& p : br.pairs) pair_variance += p.variance;
    bridge.covered_pairs_independent += std::abs(br.estimate.log_z - exact) <= 1.96 * std::sqrt(pair_variance);
    const TiResult r = ti_from_ladder(ladder);
    ti.add(r.estimate, exact, kSeeds, te);
    ti.mean_mc_se += r.mc_std_error / kSeeds;
    ti.mean_abs_quadrature += std::abs(r.quadrature_error) / kSeeds;
  }
  bridge.finish(be);
  ti.finish(te);
  return {bridge, ti};
}

void report(const char* what, const Coverage& c, int critical) {
  std::printf("%s: covered %d / %d (fails at <= %d), quarter-width %d, between-chain %d; mean error %+.4f "
              "(sd %.4f, its SE %.4f), mean SE %.4f\n",
              what, c.covered, kSeeds, critical, c.covered_narrow, c.covered_between_chain, c.mean_error, c.sd_error,
              c.sd_error / std::sqrt(double(kSeeds)), c.mean_se);
}

template <class Path>
void check(const char* name, const Path& path, const Schedule& schedule, const LadderConfig& config, double exact) {
  // Fail if P(Bin(200, 0.95) <= covered) < 1e-3.
  const int critical = binomial_critical(kSeeds, 0.95, 1e-3);
  const auto [bridge, ti] = coverage(path, schedule, config, exact);
  std::printf("%s, %zu chains x %zu samples, %zu betas\n", name, config.chains, config.samples, schedule.steps() + 1);
  report("  bridge", bridge, critical);
  report("  TI    ", ti, critical);
  std::printf("  bridge with the pairs' variances summed as if independent: covered %d / %d\n",
              bridge.covered_pairs_independent, kSeeds);
  std::printf("  TI mean MC SE %.4f, mean |quadrature error| %.4f\n", ti.mean_mc_se, ti.mean_abs_quadrature);
  EXPECT_GT(bridge.covered, critical);
  EXPECT_GT(ti.covered, critical);
  // The test can fail: error bars 4× too small cover far too rarely.
  EXPECT_LE(bridge.covered_narrow, critical);
  EXPECT_LE(ti.covered_narrow, critical);
  // So does bridge sampling's error bar without the covariance of the two ratios that
  // share each beta's draws (positive on these geometric paths).
  EXPECT_LE(bridge.covered_pairs_independent, critical);
  // TI's grid is fine enough that the quadrature error is not what the interval covers.
  EXPECT_LT(ti.mean_abs_quadrature, 0.5 * ti.mean_mc_se);
}


TEST(BridgeTiCalibration, PottsNinetyFivePercentIntervalsCover) {
  // 3×3 lattice, q = 3 (19683 states), random fields and couplings of scale 0.8.
  const Potts model = random_lattice_potts(3, 3, 3, 77, 0.8);
  const UniformStates base = uniform_base(model);
  const double exact = potts_enumeration_log_z(model, Exec(2));
  check("Potts 3x3 q=3", mrf_path(base, model, 1), Schedule::linear(20), {.chains = 20, .burn_in = 5, .samples = 25},
        exact);
  // Reported only: no burn-in (each beta starts exactly where the last one stopped, so
  // neighbouring betas share states) and short chains (the ESS of 4-draw halves).
  const auto [bridge, ti] =
      coverage(mrf_path(base, model, 1), Schedule::linear(20), {.chains = 20, .burn_in = 0, .samples = 8}, exact);
  const int critical = binomial_critical(kSeeds, 0.95, 1e-3);
  std::printf("Potts 3x3 q=3, no burn-in, 20 chains x 8 samples (reported only)\n");
  report("  bridge", bridge, critical);
  report("  TI    ", ti, critical);
}

TEST(BridgeTiCalibration, IsingNinetyFivePercentIntervalsCover) {
  // A strongly coupled 4×4 lattice near the 2-D critical coupling (K_c = 0.4407), ±1 spins.
  const Ising model = Ising::lattice_2d(4, 4, 0.4, 0.05);
  const UniformStates base = uniform_base(model);
  check("Ising 4x4 J=0.4", mrf_path(base, model, 1), Schedule::linear(20),
        {.chains = 20, .burn_in = 5, .samples = 25}, ising_enumeration_log_z(model, Exec(2)));
}

}  // namespace
}  // namespace logz
