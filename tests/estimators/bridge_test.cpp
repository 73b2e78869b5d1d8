// Bridge sampling. Exact first: on "populations" whose empirical distributions are
// exactly p_a and p_b the bridge identity holds for every α, so the iterative bridge
// returns the exact ratio, and Frühwirth-Schnatter's variance equals Meng & Wong's
// closed-form asymptotic variance of the optimal bridge; the fixed point solves the
// estimating equation; huge ratios shift exactly. Then the ladder's β_0 draws are the
// documented base draws, the bridge on exact i.i.d. draws of a tiny Potts model at two
// betas recovers the enumerated ratio within z·SE, and bridge_sampling agrees with exact
// log Z of small Potts, Ising and RBM models within z·SE (false-failure rates next to z),
// with the tempered ladder and the sequential one. The sequential ladder is replayed chain
// by chain from its documented streams; the tempered one keeps exact base draws at β_0.
#include "logz/estimators/bridge.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/potts_exact.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/calibration.hpp"
#include "support/expect_error.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using test::randomise;
Potts lattice(std::size_t rows, std::size_t cols, std::size_t q) { return test::lattice_potts(rows, cols, q); }

// Two-sided false-failure rate 1e-4 per comparison: z = 3.8906.
const double kZ = test::normal_two_sided_z(1e-4);

std::span<const double> flat(const std::vector<double>& v) { return {v.data(), v.size()}; }

/// Equal bits, or both NaN.
bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }



// Two states, f_a = (1, 1), f_b = (1, 3): Z_b / Z_a = 2. Populations with exactly the
// right proportions: n_a/2 of each state under p_a, n_b/4 and 3n_b/4 under p_b.
struct TwoStates {
  std::vector<double> up, down;  // log f_b − log f_a at the p_a draws; log f_a − log f_b at the p_b draws
  TwoStates(std::size_t n_a, std::size_t n_b) {
    for (std::size_t i = 0; i < n_a; ++i) up.push_back(i % 2 == 0 ? 0.0 : std::log(3.0));
    for (std::size_t j = 0; j < n_b; ++j) down.push_back(j % 4 == 0 ? 0.0 : -std::log(3.0));
  }
};

TEST(OptimalBridgeExact, ExactPopulationsGiveTheExactRatio) {
  const TwoStates t(200, 400);
  const BridgeFixedPoint fp = optimal_bridge(flat(t.up), flat(t.down), 200, 400);
  EXPECT_TRUE(fp.iterated);
  EXPECT_NEAR(fp.log_ratio, std::log(2.0), 1e-12);
  // The same with other weights (effective sizes).
  EXPECT_NEAR(optimal_bridge(flat(t.up), flat(t.down), 37, 5).log_ratio, std::log(2.0), 1e-12);
}

TEST(OptimalBridgeExact, VarianceIsMengWongsAsymptoticVariance) {
  // Meng & Wong (1996): the optimal bridge has asymptotic relative variance
  // (1/(n s_a s_b)) [ (Σ_x p_a p_b / (s_a p_a + s_b p_b))^{-1} − 1 ]. The populations
  // have population variances exactly; level_mean_variance uses var/(n−1), hence the factor.
  const std::size_t n_a = 200, n_b = 600;
  const TwoStates t(n_a, n_b);
  const double lambda = optimal_bridge(flat(t.up), flat(t.down), n_a, n_b).log_ratio;
  MatrixD la(1, n_a), lb(1, n_b);
  bridge_log_terms(flat(t.up), flat(t.down), n_a, n_b, lambda, {la.data(), n_a}, {lb.data(), n_b});
  auto normalized = [](const MatrixD& l) { return MatrixD((l.array() - std::log(l.array().exp().mean())).exp()); };
  const double v = level_mean_variance(normalized(la), true) * double(n_a - 1) / double(n_a) +
                   level_mean_variance(normalized(lb), true) * double(n_b - 1) / double(n_b);
  const double n = double(n_a + n_b), sa = double(n_a) / n, sb = double(n_b) / n;
  const double pa[2] = {0.5, 0.5}, pb[2] = {0.25, 0.75};
  double overlap = 0;
  for (int x = 0; x < 2; ++x) overlap += pa[x] * pb[x] / (sa * pa[x] + sb * pb[x]);
  EXPECT_NEAR(v, (1.0 / overlap - 1.0) / (n * sa * sb), 1e-15);
}

TEST(OptimalBridgeExact, FixedPointSolvesTheEstimatingEquation) {
  // Unequal, overlapping samples (not exact populations) from the iteration.
  Stream rng = Stream::derive(7, Purpose::user, 0);
  std::vector<double> up(300), down(170);
  for (double& u : up) u = 1.5 + 2.0 * rng.normal();
  for (double& v : down) v = -0.5 + 1.2 * rng.normal();
  const BridgeFixedPoint fp = optimal_bridge(flat(up), flat(down), 120, 170);
  ASSERT_TRUE(fp.iterated);
  EXPECT_NEAR(bridge_score(flat(up), flat(down), 120, 170, fp.log_ratio), 0.0, 1e-12);
  // The residual decreases through zero there: the root is the only one.
  EXPECT_GT(bridge_score(flat(up), flat(down), 120, 170, fp.log_ratio - 1e-3), 0.0);
  EXPECT_LT(bridge_score(flat(up), flat(down), 120, 170, fp.log_ratio + 1e-3), 0.0);
  // The means of the terms reproduce λ (the fixed point of the map).
  std::vector<double> la(up.size()), lb(down.size());
  bridge_log_terms(flat(up), flat(down), 120, 170, fp.log_ratio, la, lb);
  EXPECT_NEAR(log_mean_exp(la) - log_mean_exp(lb), fp.log_ratio, 1e-11);
  // Bisection (after 2 iterations) finds the same root.
  EXPECT_GT(fp.iterations, 2u);
  const BridgeFixedPoint bis = optimal_bridge(flat(up), flat(down), 120, 170, 1e-13, 2);
  EXPECT_FALSE(bis.iterated);
  EXPECT_NEAR(bis.log_ratio, fp.log_ratio, 1e-10);
  // Log domain: ratios of e^±2000 shift λ by exactly the offset.
  std::vector<double> up2 = up, down2 = down;
  for (double& u : up2) u += 2000;
  for (double& v : down2) v -= 2000;
  EXPECT_NEAR(optimal_bridge(flat(up2), flat(down2), 120, 170).log_ratio, fp.log_ratio + 2000, 1e-9);
}

// p_β ∝ exp(−β E) of a tiny Potts model by enumeration: energies of every state.
std::vector<double> all_energies(const Potts& m) {
  const std::size_t n = m.n_sites(), q = m.num_states();
  std::vector<double> e;
  VectorD x = VectorD::Zero(Eigen::Index(n));
  for (;;) {
    e.push_back(m.energy(x));
    std::size_t i = 0;
    while (i < n && (x[Eigen::Index(i)] += 1) == double(q)) x[Eigen::Index(i++)] = 0;
    if (i == n) break;
  }
  return e;
}

/// n exact i.i.d. energies at β by inverse-CDF sampling from the enumerated distribution.
std::vector<double> iid_energies(const std::vector<double>& e, double beta, std::size_t n, Stream& rng) {
  std::vector<double> lw(e.size());
  for (std::size_t k = 0; k < e.size(); ++k) lw[k] = -beta * e[k];
  const double lz = log_sum_exp(lw);
  std::vector<double> cdf(e.size());
  double c = 0;
  for (std::size_t k = 0; k < e.size(); ++k) cdf[k] = (c += std::exp(lw[k] - lz));
  std::vector<double> out(n);
  for (double& o : out) {
    const double u = rng.uniform_double() * c;
    o = e[std::size_t(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin())];
  }
  return out;
}

TEST(OptimalBridge, IidDrawsOfAPottsModelAtTwoBetasRecoverTheRatio) {
  const Potts m = randomise(Potts::dense(4, 3), 61, 0.8);  // 81 states
  const std::vector<double> e = all_energies(m);
  const double b0 = 0.2, b1 = 0.9;
  std::vector<double> l0(e.size()), l1(e.size());
  for (std::size_t k = 0; k < e.size(); ++k) l0[k] = -b0 * e[k], l1[k] = -b1 * e[k];
  const double exact = log_sum_exp(l1) - log_sum_exp(l0);
  Stream rng = Stream::derive(62, Purpose::user, 0);
  const std::size_t n0 = 3000, n1 = 2000;
  std::vector<double> up = iid_energies(e, b0, n0, rng), down = iid_energies(e, b1, n1, rng);
  for (double& u : up) u = -(b1 - b0) * u;  // log f_1 − log f_0 = −(b1 − b0) E
  for (double& v : down) v = (b1 - b0) * v;
  const double lambda = optimal_bridge(flat(up), flat(down), n0, n1).log_ratio;
  MatrixD la(1, n0), lb(1, n1);
  bridge_log_terms(flat(up), flat(down), n0, n1, lambda, {la.data(), n0}, {lb.data(), n1});
  auto normalized = [](const MatrixD& l) { return MatrixD((l.array() - std::log(l.array().exp().mean())).exp()); };
  const double se = std::sqrt(level_mean_variance(normalized(la), true) + level_mean_variance(normalized(lb), true));
  EXPECT_LT(kZ * se, 0.1);  // power: a tenth of a nat off would fail
  EXPECT_LE(std::abs(lambda - exact), kZ * se) << lambda << " exact " << exact << " se " << se;  // rate 1e-4
}

template <class Path>
void expect_agrees_with(const Path& path, const Schedule& schedule, const BridgeConfig& config, double exact) {
  const LogZEstimate e = bridge_sampling(path, schedule, config, Exec(2));
  EXPECT_EQ(e.method, "bridge");
  EXPECT_EQ(e.num_samples, config.chains * config.samples * (schedule.steps() + 1));
  EXPECT_EQ(e.steps.size(), schedule.steps() + 1);
  EXPECT_EQ(e.log_weights.size(), config.chains);
  ASSERT_TRUE(std::isfinite(e.std_error));
  EXPECT_LT(kZ * e.std_error, 0.2);  // power: a fifth of a nat off would fail
  EXPECT_LE(std::abs(e.log_z - exact), kZ * e.std_error)  // false-failure rate 1e-4
      << "estimate " << e.log_z << " exact " << exact << " se " << e.std_error;
  // The per-chain linearised estimates average to the estimate.
  double mean = 0;
  for (double w : e.log_weights) mean += w / double(e.log_weights.size());
  EXPECT_NEAR(mean, e.log_z, 1e-9);
}

/// Both ladders: the tempered one (the default) and the sequential one.
template <class Path>
void expect_agrees(const Path& path, const Schedule& schedule, BridgeConfig config, double exact) {
  for (LadderTempering t : {LadderTempering::pt, LadderTempering::none}) {
    SCOPED_TRACE(t == LadderTempering::pt ? "tempering pt" : "tempering none");
    config.tempering = t;
    expect_agrees_with(path, schedule, config, exact);
  }
}

TEST(BridgeSampling, LadderStartsFromTheDocumentedBaseDraws) {
  const Potts m = randomise(Potts::dense(4, 3), 63, 0.5);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Schedule schedule({0.0, 0.25, 1.0});
  const Ladder ladder =
      run_ladder(path, schedule, {.chains = 3, .samples = 5, .seed = 11, .tempering = LadderTempering::none}, Exec(1));
  ASSERT_EQ(ladder.levels.size(), 3u);
  for (std::size_t r = 0; r < 3; ++r) {
    Stream rng = Stream::derive(11, ladder_stream, r);
    for (std::size_t s = 0; s < 5; ++s) {
      VectorD x(4);
      for (Eigen::Index i = 0; i < 4; ++i) x[i] = double(rng.below(3));
      const Eigen::Index R = Eigen::Index(r), C = Eigen::Index(s);
      EXPECT_EQ(ladder.levels[0].dlog_f(R, C), -m.energy(x));
      EXPECT_EQ(ladder.levels[0].log_ratio_up(R, C), 0.25 * -m.energy(x));
    }
  }
  EXPECT_TRUE(ladder.levels[0].independent);
  EXPECT_TRUE(std::isnan(ladder.levels[0].moves.acceptance));
  EXPECT_EQ(ladder.levels[0].log_ratio_down.size(), 0);
  EXPECT_EQ(ladder.levels[2].log_ratio_up.size(), 0);
  // At β_1 both ratios are multiples of the same ∂ log f = −E (geometric path).
  const LadderLevel& l1 = ladder.levels[1];
  EXPECT_LE((l1.log_ratio_up - 0.75 * l1.dlog_f).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LE((l1.log_ratio_down + 0.25 * l1.dlog_f).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_GT(l1.moves.acceptance, 0.0);
}

TEST(BridgeSampling, SequentialLadderFollowsEachChainThroughTheSchedule) {
  // tempering none: chain r draws only from derive(seed, ladder_stream, r), in sequence:
  // S base draws at β_0, then at each β_k burn_in moves, and thin moves before every
  // collected state after the first. Replayed here one chain at a time.
  const Potts m = randomise(Potts::dense(4, 3), 63, 0.5);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Schedule schedule({0.0, 0.4, 0.7, 1.0});
  const LadderConfig config{.chains = 3, .burn_in = 2, .samples = 5, .thin = 2, .seed = 12,
                            .tempering = LadderTempering::none};
  const Ladder ladder = run_ladder(path, schedule, config, Exec(2));
  EXPECT_EQ(ladder.tempering, LadderTempering::none);
  const std::vector<double>& b = schedule.betas();
  for (std::size_t r = 0; r < config.chains; ++r) {
    std::vector<Stream> one{Stream::derive(12, ladder_stream, r)};
    MatrixD x;
    std::vector<double> v(1);
    for (std::size_t k = 0; k < b.size(); ++k) {
      const LadderLevel& l = ladder.levels[k];
      for (std::size_t i = 0; k > 0 && i < config.burn_in; ++i) path.move(Exec(1), x, b[k], one);
      for (std::size_t s = 0; s < config.samples; ++s) {
        if (k == 0) path.draw_base(Exec(1), x, one);
        for (std::size_t i = 0; k > 0 && s > 0 && i < config.thin; ++i) path.move(Exec(1), x, b[k], one);
        const Eigen::Index R = Eigen::Index(r), C = Eigen::Index(s);
        path.dlog_f(Exec(1), x, b[k], v);
        EXPECT_EQ(l.dlog_f(R, C), v[0]) << k << " " << s;
        if (k + 1 < b.size()) {
          path.log_ratio(Exec(1), x, b[k], b[k + 1], v);
          EXPECT_EQ(l.log_ratio_up(R, C), v[0]) << k << " " << s;
        }
        if (k > 0) {
          path.log_ratio(Exec(1), x, b[k], b[k - 1], v);
          EXPECT_EQ(l.log_ratio_down(R, C), v[0]) << k << " " << s;
        }
      }
    }
  }
  for (const LadderLevel& l : ladder.levels) EXPECT_TRUE(std::isnan(l.swap_rate));
  EXPECT_TRUE(std::isnan(ladder.levels[0].rhat));
  for (std::size_t k = 1; k < b.size(); ++k) EXPECT_EQ(ladder.levels[k].rhat, rank_normalized_rhat(ladder.levels[k].dlog_f));
}

TEST(BridgeSampling, TemperedLadderKeepsExactBaseDrawsAndSwaps) {
  // tempering pt: level 0 of chain r takes a fresh base draw every round from the slot
  // stream derive(seed, ladder_stream, r).derive(ladder_stream, 0), recorded before the
  // swaps; every other level is moved and swapped. A coupled target (scale 1.5) and close
  // betas: swaps are accepted often but not always.
  const Potts m = randomise(Potts::dense(4, 3), 63, 1.5);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Schedule schedule = Schedule::linear(6);
  const Ladder ladder = run_ladder(path, schedule, {.chains = 4, .samples = 8, .seed = 11}, Exec(1));
  EXPECT_EQ(ladder.tempering, LadderTempering::pt);
  for (std::size_t r = 0; r < 4; ++r) {
    Stream rng = Stream::derive(11, ladder_stream, r).derive(ladder_stream, 0);
    for (std::size_t s = 0; s < 8; ++s) {
      VectorD x(4);
      for (Eigen::Index i = 0; i < 4; ++i) x[i] = double(rng.below(3));
      EXPECT_EQ(ladder.levels[0].dlog_f(Eigen::Index(r), Eigen::Index(s)), -m.energy(x));
    }
  }
  EXPECT_TRUE(ladder.levels[0].independent);
  EXPECT_TRUE(std::isnan(ladder.levels[0].moves.acceptance));
  EXPECT_TRUE(std::isnan(ladder.levels[0].rhat));
  for (std::size_t k = 0; k < ladder.levels.size(); ++k) {
    const LadderLevel& l = ladder.levels[k];
    if (k + 1 < ladder.levels.size()) {
      EXPECT_GT(l.swap_rate, 0.0) << k;
      EXPECT_LT(l.swap_rate, 1.0) << k;
    } else {
      EXPECT_TRUE(std::isnan(l.swap_rate));
    }
    if (k > 0) {
      EXPECT_GT(l.moves.acceptance, 0.0) << k;
      EXPECT_EQ(l.rhat, rank_normalized_rhat(l.dlog_f)) << k;
    }
  }
  // The per-β table carries the swap rates and R-hats.
  const std::vector<StepDiagnostics> steps = ladder_steps(ladder, LadderVariance::dlog_f);
  for (std::size_t k = 0; k < steps.size(); ++k) {
    EXPECT_TRUE(same(steps[k].swap_rate, ladder.levels[k].swap_rate)) << k;
    EXPECT_TRUE(same(steps[k].rhat, ladder.levels[k].rhat)) << k;
  }
  // One chain: no R-hat across chains.
  const Ladder single = run_ladder(path, schedule, {.chains = 1, .samples = 8, .seed = 11}, Exec(1));
  for (const LadderLevel& l : single.levels) EXPECT_TRUE(std::isnan(l.rhat));
}

TEST(BridgeSampling, BaseEqualToTargetIsExact) {
  const Potts m = Potts::dense(4, 3);  // zero parameters: p_1 = p_0, uniform
  const UniformStates base = uniform_base(m);
  const LogZEstimate e = bridge_sampling(mrf_path(base, m, 1), Schedule::linear(3), {.chains = 4, .samples = 8}, Exec(1));
  EXPECT_EQ(e.log_z, 4 * std::log(3.0));
  EXPECT_EQ(e.std_error, 0.0);
}

TEST(BridgeSampling, PottsModelsAgreeWithEnumeration) {
  const Potts dense = randomise(Potts::dense(5, 4), 64, 0.6);
  const UniformStates base = uniform_base(dense);
  const BridgeConfig config{.chains = 20, .burn_in = 5, .samples = 50, .seed = 3};
  const double exact = potts_enumeration_log_z(dense, Exec(2));
  expect_agrees(mrf_path(base, dense, 1), Schedule::linear(10), config, exact);
  // One step: the base's exact draws bridged to the target directly.
  expect_agrees(mrf_path(base, dense, 1), Schedule::linear(1), {.chains = 40, .samples = 100, .seed = 4}, exact);
  const Potts grid = randomise(lattice(3, 3, 3), 65, 0.6);
  const UniformStates gbase = uniform_base(grid);
  expect_agrees(mrf_path(gbase, grid, 1), Schedule::linear(10), config, potts_enumeration_log_z(grid, Exec(2)));
}

TEST(BridgeSampling, IsingModelsAgreeWithEnumeration) {
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    SCOPED_TRACE(int(conv));
    const Ising m = Ising::lattice_2d(3, 4, 0.4, 0.1, Boundary::open, Boundary::open, conv);
    const UniformStates base = uniform_base(m);
    expect_agrees(mrf_path(base, m, 1), Schedule::linear(10), {.chains = 20, .burn_in = 5, .samples = 50, .seed = 5},
                  ising_enumeration_log_z(m, Exec(2)));
  }
}

TEST(BridgeSampling, RbmAgreesWithEnumeration) {
  const RbmF model = test::random_rbm(66, 8, 5, 1.0, 0.5).cast<float>();
  const RbmAnnealingPath path(model, VectorF::Zero(8));
  expect_agrees(path, Schedule::linear(10), {.chains = 20, .burn_in = 5, .samples = 50, .seed = 6},
                rbm_exact_log_z(model.cast<double>(), Exec(2)).log_z);
}

TEST(BridgeSampling, OneAndTwoThreadsGiveIdenticalBits) {
  // Large enough that the paths split their work over threads: 64 chains of a 16×32
  // Ising lattice (2^15 particle-sites); 100 RBM chains (two row blocks) and 80 hidden
  // units (two column blocks).
  const Ising m = Ising::lattice_2d(16, 32, 0.3, 0.1);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  for (LadderTempering t : {LadderTempering::pt, LadderTempering::none}) {
    SCOPED_TRACE(t == LadderTempering::pt ? "tempering pt" : "tempering none");
    const BridgeConfig config{.chains = 64, .burn_in = 1, .samples = 4, .seed = 8, .tempering = t};
    const LogZEstimate a = bridge_sampling(path, Schedule::linear(3), config, Exec(1));
    const LogZEstimate b = bridge_sampling(path, Schedule::linear(3), config, Exec(2));
    EXPECT_EQ(a.log_z, b.log_z);
    EXPECT_EQ(a.std_error, b.std_error);
    EXPECT_EQ(a.log_weights, b.log_weights);
    for (std::size_t k = 0; k < a.steps.size(); ++k) {
      EXPECT_TRUE(same(a.steps[k].swap_rate, b.steps[k].swap_rate)) << k;
      EXPECT_TRUE(same(a.steps[k].rhat, b.steps[k].rhat)) << k;
    }
    const RbmF model = test::random_rbm(68, 70, 80, 0.3, 0.3).cast<float>();
    const RbmAnnealingPath rpath(model, VectorF::Zero(70));
    const BridgeConfig rconfig{.chains = 100, .burn_in = 1, .samples = 4, .seed = 8, .tempering = t};
    EXPECT_EQ(bridge_sampling(rpath, Schedule::linear(3), rconfig, Exec(1)).log_weights,
              bridge_sampling(rpath, Schedule::linear(3), rconfig, Exec(2)).log_weights);
  }
}

TEST(BridgeSampling, BadInputMessages) {
  const Potts m = Potts::dense(3, 3);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Schedule s = Schedule::linear(2);
  test::expect_error([&] { bridge_sampling(path, s, {.chains = 0}, Exec(1)); }, Exit::usage,
                     "bridge_sampling: chains must be >= 1, got 0");
  test::expect_error([&] { bridge_sampling(path, s, {.samples = 3}, Exec(1)); }, Exit::usage,
                     "bridge_sampling: samples must be >= 4 per chain and beta, got 3");
  test::expect_error([&] { bridge_sampling(path, s, {.thin = 0}, Exec(1)); }, Exit::usage,
                     "bridge_sampling: thin must be >= 1, got 0");
  // 3 betas x 10^8 chains x 3 sites of 8 bytes: 6.7 GiB of held states.
  test::expect_error([&] { bridge_sampling(path, s, {.chains = 100'000'000}, Exec(1)); }, Exit::usage,
                     "bridge_sampling: tempering pt holds the states of 3 betas x 100000000 chains (3 values each), "
                     "6.7 GiB, more than the 2 GiB allowed; use tempering none, or fewer betas or chains");
  test::expect_error([&] { ladder_tempering("yes"); }, Exit::usage, "ladder: tempering must be pt or none, got 'yes'");
  test::expect_error([&] { bridge_sampling(path, s, {.tolerance = 0}, Exec(1)); }, Exit::usage,
                     "bridge_sampling: tolerance must be positive, got 0");
  test::expect_error([&] { bridge_sampling(path, s, {.max_iterations = 0}, Exec(1)); }, Exit::usage,
                     "bridge_sampling: max_iterations must be >= 1, got 0");
  const std::vector<double> one{0.5}, none, bad{0.0, std::nan("")};
  test::expect_error([&] { optimal_bridge(flat(none), flat(one), 1, 1); }, Exit::usage,
                     "optimal_bridge: needs draws from both distributions, got 0 and 1");
  test::expect_error([&] { optimal_bridge(flat(one), flat(bad), 1, 2); }, Exit::usage,
                     "optimal_bridge: log-ratio 1 of the second sample is not finite (nan)");
  test::expect_error([&] { optimal_bridge(flat(one), flat(one), 0, 1); }, Exit::usage,
                     "optimal_bridge: effective sample sizes must be positive and finite, got 0 and 1");
  test::expect_error([&] { optimal_bridge(flat(one), flat(one), 1, 1, -1); }, Exit::usage,
                     "optimal_bridge: tolerance must be positive, got -1");
}

}  // namespace
}  // namespace logz
