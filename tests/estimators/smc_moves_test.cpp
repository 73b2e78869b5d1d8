// SMC's evidence of particle degeneracy and its two other ways of moving (estimators/smc.hpp):
//  - unique_ancestors: N at every step before the first resampling, then non-increasing and
//    below N; never more than M = N / P with waste-free SMC; N throughout without resampling;
//  - adaptive moves: between 1 and max_moves_factor moves per step, more where single-site
//    moves mix slowly (a critical lattice late on the path) than at β ≈ 0;
//  - waste-free SMC (Dau & Chopin 2022) and adaptive moves agree with exact log Z on a small
//    Potts model (enumeration) and on the 12×12 periodic Ising lattice at K_c (Kaufman) with
//    Swendsen–Wang moves. The standard error comes from R runs: |error| <= t_{R−1}·SE at
//    two-sided false-failure rate 1e-5 (t_9 = 6.8, t_19 = 5.7 — the normal 4.42 would
//    ignore that R − 1 degrees of freedom estimate it), with the SE bounded so that a useless
//    error bar fails;
//  - 1 and 2 threads give identical bits; bad settings have pinned messages.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "logz/diagnostics/mcmc.hpp"
#include "logz/estimators/smc.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/potts_exact.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "support/calibration.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

void expect_agrees(const LogZEstimate& e, double exact, double max_se, const std::string& what) {
  ASSERT_TRUE(std::isfinite(e.dof));
  const double t = student_t_two_sided_quantile(1 - 1e-5, e.dof);
  EXPECT_LT(e.std_error, max_se) << what;
  EXPECT_LE(std::abs(e.log_z - exact), t * e.std_error)
      << what << ": " << e.log_z << " ± " << e.std_error << ", exact " << exact;
  std::printf("%s: error %+.4f, SE %.4f, %.2f s\n", what.c_str(), e.log_z - exact, e.std_error, e.seconds);
}

Ising critical_ising(std::size_t l) {
  return Ising::lattice_2d(l, l, ising_critical_coupling(), 0.0, Boundary::periodic, Boundary::periodic);
}

/// A path that counts the moves made (one count per population move).
template <class Inner>
struct CountingPath {
  using Particles = typename Inner::Particles;
  const Inner& inner;
  std::vector<double>* move_betas;
  double log_z_base() const { return inner.log_z_base(); }
  std::size_t dimension() const { return inner.dimension(); }
  void draw_base(const Exec& ex, Particles& x, std::span<Stream> s) const { inner.draw_base(ex, x, s); }
  void log_ratio(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> w) const {
    inner.log_ratio(ex, x, b0, b1, w);
  }
  void dlog_f(const Exec& ex, const Particles& x, double b, std::span<double> w) const { inner.dlog_f(ex, x, b, w); }
  MoveInfo move(const Exec& ex, Particles& x, double b, std::span<Stream> s) const {
    move_betas->push_back(b);
    return inner.move(ex, x, b, s);
  }
};

TEST(SmcMoves, UniqueAncestorsCountTheSurvivingBaseDraws) {
  const Potts m = test::randomise(test::lattice_potts(3, 3, 3), 81, 1.5);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  SmcConfig c{.particles = 100, .runs = 3, .ess_threshold = 0.9, .schedule = Schedule::linear(10), .seed = 82};
  const LogZEstimate e = smc(path, c, Exec(1));
  bool resampled = false;
  double last = 100;
  for (const StepDiagnostics& d : e.steps) {
    resampled |= d.resampled;
    if (!resampled) EXPECT_EQ(d.unique_ancestors, 100.0);
    EXPECT_LE(d.unique_ancestors, last);
    EXPECT_GE(d.unique_ancestors, 1.0);
    last = d.unique_ancestors;
  }
  ASSERT_TRUE(resampled);
  EXPECT_LT(e.steps.back().unique_ancestors, 100.0);
  // Without resampling every base draw survives.
  c.ess_threshold = 0;
  for (const StepDiagnostics& d : smc(path, c, Exec(1)).steps) EXPECT_EQ(d.unique_ancestors, 100.0);
  // Waste-free: after its first step at most M = N / P ancestors remain.
  c.waste_free = 10;
  const LogZEstimate w = smc(path, c, Exec(1));
  EXPECT_TRUE(w.steps.front().resampled);
  for (std::size_t k = 0; k + 1 < w.steps.size(); ++k) EXPECT_LE(w.steps[k].unique_ancestors, 10.0);
  EXPECT_FALSE(w.steps.back().resampled);  // nothing is moved after the last step
}

TEST(SmcMoves, AdaptiveMovesDoMoreWhereTheChainsMixSlowly) {
  const Ising m = critical_ising(16);
  const UniformStates base = uniform_base(m);
  const auto gibbs = mrf_path(base, m, 1);
  std::vector<double> betas;
  const CountingPath<decltype(gibbs)> counted{gibbs, &betas};
  const SmcConfig c{.particles = 100, .runs = 1, .schedule = Schedule::linear(20), .adaptive_moves = true, .seed = 83};
  smc(counted, c, Exec(1));
  // Moves per β: between 1 and 10; one at β = 0.05 (a Gibbs sweep nearly decorrelates at
  // high temperature), the cap near K_c·β ≈ K_c, where single-site moves slow down.
  std::vector<std::size_t> per_step(20, 0);
  for (double b : betas) ++per_step[std::size_t(std::lround(b * 20)) - 1];
  for (std::size_t k = 0; k + 1 < 20; ++k) {
    EXPECT_GE(per_step[k], 1u) << k;
    EXPECT_LE(per_step[k], 10u) << k;
  }
  EXPECT_EQ(per_step[19], 0u);  // none after the last step
  EXPECT_LE(per_step[0], 2u);
  EXPECT_EQ(per_step[17], 10u);
  // Fixed moves: exactly one per β but the last.
  betas.clear();
  smc(counted, SmcConfig{.particles = 100, .runs = 1, .schedule = Schedule::linear(20), .seed = 83}, Exec(1));
  EXPECT_EQ(betas.size(), 19u);
}

TEST(SmcMoves, WasteFreeAndAdaptiveMovesAgreeWithEnumeration) {
  const Potts m = test::randomise(test::lattice_potts(3, 3, 3), 84, 0.8);
  const double exact = potts_enumeration_log_z(m, Exec(2));
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  SmcConfig c{.particles = 200, .runs = 20, .schedule = Schedule::linear(20), .waste_free = 10, .seed = 85};
  expect_agrees(smc(path, c, Exec(2)), exact, 0.05, "waste-free P = 10, potts 3x3");
  c.waste_free = 0;
  c.adaptive_moves = true;
  expect_agrees(smc(path, c, Exec(2)), exact, 0.05, "adaptive moves, potts 3x3");
}

TEST(SmcMoves, WasteFreeAndAdaptiveMovesAgreeWithKaufmanAtTheCriticalPoint) {
  // 12×12 rather than 16×16 to keep the fast suite fast (adaptive moves cost up to 10×).
  const Ising m = critical_ising(12);
  const double exact = ising_kaufman_log_z(12, 12, ising_critical_coupling());
  const UniformStates base = uniform_base(m);
  const auto path = mrf_swendsen_wang_path(base, m, 1);
  // A fixed schedule: with adaptive tempering as well, Ẑ_run's O(1/N) bias shows at 100 particles.
  SmcConfig c{.particles = 100, .runs = 10, .schedule = Schedule::named("sm", 200), .waste_free = 5, .seed = 86};
  expect_agrees(smc(path, c, Exec(2)), exact, 0.2, "waste-free P = 5, sw, ising 12x12 K_c");
  c.waste_free = 0;
  c.adaptive_moves = true;
  expect_agrees(smc(path, c, Exec(2)), exact, 0.2, "adaptive moves, sw, ising 12x12 K_c");
}

TEST(SmcMoves, OneAndTwoThreadsGiveIdenticalBits) {
  const Ising m = critical_ising(16);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);  // 200 × 256 sites: the moves run in parallel
  for (const bool waste_free : {false, true}) {
    SCOPED_TRACE(waste_free);
    const SmcConfig c{.particles = 200, .runs = 2, .schedule = Schedule::linear(30), .adaptive_moves = !waste_free,
                      .waste_free = waste_free ? std::size_t(4) : 0, .seed = 87};
    const LogZEstimate one = smc(path, c, Exec(1)), two = smc(path, c, Exec(2));
    EXPECT_EQ(one.log_weights, two.log_weights);
    ASSERT_EQ(one.steps.size(), two.steps.size());
    for (std::size_t k = 0; k < one.steps.size(); ++k) {
      EXPECT_EQ(one.steps[k].unique_ancestors, two.steps[k].unique_ancestors);
      EXPECT_EQ(std::isnan(one.steps[k].acceptance), std::isnan(two.steps[k].acceptance));
      if (!std::isnan(one.steps[k].acceptance)) EXPECT_EQ(one.steps[k].acceptance, two.steps[k].acceptance);
    }
  }
}

TEST(SmcMoves, BadSettingsArePinned) {
  const Potts m = test::lattice_potts(2, 2, 2);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Exec ex(1);
  test::expect_error([&] { smc(path, {.particles = 10, .waste_free = 1}, ex); }, Exit::usage,
                     "smc: waste_free must be 0 (off) or a chain length >= 2, got 1");
  test::expect_error([&] { smc(path, {.particles = 10, .waste_free = 4}, ex); }, Exit::usage,
                     "smc: waste_free = 4 must divide particles = 10 (M = particles / waste_free chains)");
  test::expect_error([&] { smc(path, {.particles = 10, .adaptive_moves = true, .waste_free = 5}, ex); }, Exit::usage,
                     "smc: adaptive_moves and waste_free cannot be combined (a waste-free chain has its length)");
  test::expect_error([&] { smc(path, {.adaptive_moves = true, .max_moves_factor = 0}, ex); }, Exit::usage,
                     "smc: max_moves_factor must be >= 1, got 0");
  // The registry's options: ConfigErrors naming the fields.
  Settings o(SmcMethod::options());
  EXPECT_EQ(o.text("moves"), "fixed");
  EXPECT_EQ(o.count("waste_free"), 0u);
  EXPECT_FALSE(SmcMethod::config(100, 1, o, nullptr).adaptive_moves);
  o.set("waste_free", std::int64_t{3});
  test::expect_error([&] { SmcMethod::config(100, 1, o, nullptr); }, Exit::usage,
                     "smc: waste_free = 3 must divide chains = 100 (chains / waste_free chains of waste_free states "
                     "each)");
  o.set("waste_free", std::int64_t{4});
  o.set("moves", std::string("adaptive"));
  test::expect_error([&] { SmcMethod::config(100, 1, o, nullptr); }, Exit::usage,
                     "smc: moves adaptive and waste_free cannot be combined (a waste-free chain has its own length)");
}

}  // namespace
}  // namespace logz
