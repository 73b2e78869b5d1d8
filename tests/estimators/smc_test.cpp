// SMC over annealing paths. Exact first: a target equal to the base gives log Z_0 with a
// zero error bar; without resampling (and with one particle, resampled or not) each run
// is AIS on the documented streams, recomputed here step by step; one-particle adaptive
// runs jump to β = 1 in one importance-sampling step; resampling happens exactly when
// the ESS falls below the threshold; with resampling at every step the adaptive betas
// give a CESS on target. Then agreement with exact log Z of small Potts, Ising and RBM
// models for every resampling scheme and for adaptive tempering: the standard error comes
// from R runs, so the tolerance is a Student-t quantile with R − 1 degrees of freedom at
// false-failure rate 1e-4, and its width is checked to be below 0.1 nat (an error that
// size would fail). 1 vs 2 threads give identical bits; bad arguments have pinned
// messages.
#include "logz/diagnostics/mcmc.hpp"
#include "logz/estimators/smc.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "logz/core/math.hpp"
#include "logz/estimators/ais.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/potts_exact.hpp"
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

/// Two-sided Student-t quantile: t with P(|T_dof| > t) = alpha.
double student_t_two_sided(double alpha, double dof) { return student_t_two_sided_quantile(1 - alpha, dof); }

Ising random_ising(SpinConvention conv, std::uint64_t seed, double scale) {
  Ising m = Ising::lattice_2d(3, 4, 0.0, 0.0, Boundary::open, Boundary::open, conv);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = scale * rng.normal();
  m.set_parameters(theta);
  return m;
}

void expect_agrees(const LogZEstimate& e, double exact, const SmcConfig& c) {
  EXPECT_EQ(e.method, "smc");
  ASSERT_EQ(e.log_weights.size(), c.runs);
  EXPECT_EQ(e.num_samples, c.runs);
  ASSERT_TRUE(std::isfinite(e.std_error));
  // The SE is estimated from R runs: Student-t with R − 1 degrees of freedom.
  const double t = student_t_two_sided(1e-4, double(c.runs - 1));
  // The test has power: an error of a tenth of a nat would fail.
  EXPECT_LT(t * e.std_error, 0.1);
  EXPECT_LE(std::abs(e.log_z - exact), t * e.std_error)  // false-failure rate 1e-4
      << "estimate " << e.log_z << " exact " << exact << " se " << e.std_error;
}

/// AIS with SMC's documented streams for run r, recomputed with the path alone: the
/// run's log Ẑ − log Z_0 when it never resamples.
template <class Path>
double ais_on_smc_streams(const Path& path, const Schedule& schedule, std::size_t particles, std::size_t moves,
                          std::uint64_t seed, std::size_t run) {
  const Exec ex(1);
  std::vector<Stream> streams = Stream::root(seed).derive(smc_stream, run).children(smc_stream, particles);
  typename Path::Particles x;
  path.draw_base(ex, x, streams);
  std::vector<double> log_w(particles, 0.0);
  const std::size_t K = schedule.steps();
  for (std::size_t k = 1; k <= K; ++k) {
    advance(path, ex, x, schedule[k - 1], schedule[k], std::span<double>(log_w), streams, false);
    if (k < K)
      for (std::size_t m = 0; m < moves; ++m) path.move(ex, x, schedule[k], streams);
  }
  return log_mean_exp(log_w);
}

TEST(SmcExact, TargetEqualToBaseGivesLogZBaseWithZeroError) {
  const Potts m = Potts::dense(4, 3);  // all parameters 0: E = 0, the uniform base
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  for (bool adaptive : {true, false}) {
    SmcConfig c{.particles = 17, .runs = 5, .seed = 2};
    if (!adaptive) c.schedule = Schedule::linear(4);
    const LogZEstimate e = smc(path, c, Exec(1));
    EXPECT_EQ(e.log_z, 4 * std::log(3.0));
    EXPECT_EQ(e.log_z_base, 4 * std::log(3.0));
    EXPECT_EQ(e.std_error, 0.0);
    EXPECT_EQ(e.log_weights, std::vector<double>(5, 0.0));
    EXPECT_EQ(e.steps.size(), adaptive ? 1u : 4u);  // adaptive: CESS(1) = N, one step
    EXPECT_EQ(e.ess, 5.0);
  }
}

TEST(SmcExact, WithoutResamplingEachRunIsAisOnItsStreams) {
  const Potts m = randomise(Potts::dense(5, 3), 61, 0.7);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Schedule schedule = Schedule::linear(6);
  const SmcConfig c{.particles = 9, .runs = 4, .ess_threshold = 0.0, .moves = 2, .schedule = schedule, .seed = 8};
  const LogZEstimate e = smc(path, c, Exec(2));
  std::vector<double> expected(4);
  for (std::size_t r = 0; r < 4; ++r) {
    expected[r] = ais_on_smc_streams(path, schedule, 9, 2, 8, r);
    EXPECT_NEAR(e.log_weights[r], expected[r], 1e-12) << "run " << r;
  }
  EXPECT_NEAR(e.log_z, base.log_partition() + log_mean_exp(expected), 1e-12);
  EXPECT_EQ(e.steps.size(), 6u);
  for (const StepDiagnostics& d : e.steps) EXPECT_FALSE(d.resampled);
  for (std::size_t k = 0; k < 6; ++k) EXPECT_EQ(e.steps[k].beta, schedule[k + 1]);
  // Acceptance is reported for the moves, none after the last step.
  EXPECT_TRUE(std::isfinite(e.steps[0].acceptance));
  EXPECT_TRUE(std::isnan(e.steps.back().acceptance));
}

TEST(SmcExact, OneParticleIsAisWhetherOrNotItResamples) {
  const Potts m = randomise(Potts::dense(4, 3), 62, 0.7);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Schedule schedule = Schedule::linear(5);
  for (double threshold : {0.0, 1.0}) {
    const SmcConfig c{.particles = 1, .runs = 3, .ess_threshold = threshold, .schedule = schedule, .seed = 4};
    const LogZEstimate e = smc(path, c, Exec(1));
    for (std::size_t r = 0; r < 3; ++r) EXPECT_NEAR(e.log_weights[r], ais_on_smc_streams(path, schedule, 1, 1, 4, r), 1e-12);
    for (const StepDiagnostics& d : e.steps) {
      EXPECT_EQ(d.resampled, threshold == 1.0);
      EXPECT_EQ(d.ess, 1.0);
      EXPECT_EQ(d.log_weight_variance, 0.0);
    }
  }
}

TEST(SmcExact, OneParticleAdaptiveRunsAreImportanceSamplingFromTheBase) {
  // With one particle CESS = N for every β: one step to β = 1, log Ẑ_run − log Z_0 =
  // −E(x) for the run's base draw (site i from word-by-word `below(q)` of its stream).
  const Potts m = randomise(Potts::dense(5, 4), 63, 0.5);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const LogZEstimate e = smc(path, {.particles = 1, .runs = 6, .seed = 12}, Exec(1));
  ASSERT_EQ(e.steps.size(), 1u);
  EXPECT_EQ(e.steps[0].beta, 1.0);
  for (std::size_t r = 0; r < 6; ++r) {
    Stream s = Stream::root(12).derive(smc_stream, r).derive(smc_stream, 0);
    VectorD x(5);
    for (Eigen::Index i = 0; i < 5; ++i) x[i] = double(s.below(4));
    EXPECT_NEAR(e.log_weights[r], -m.energy(x), 1e-12);
  }
  EXPECT_EQ(adaptive_schedule(path, 1, 0.9, 12, Exec(1)).betas(), (std::vector<double>{0.0, 1.0}));
}

TEST(Smc, ResamplesExactlyWhenTheEssFallsBelowTheThreshold) {
  const Potts m = randomise(lattice(3, 3, 3), 64, 0.8);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const std::size_t n = 50;
  SmcConfig c{.particles = n, .runs = 1, .schedule = Schedule::linear(20), .seed = 5};
  c.ess_threshold = 0.0;
  for (const StepDiagnostics& d : smc(path, c, Exec(1)).steps) EXPECT_FALSE(d.resampled);
  c.ess_threshold = 1.0;
  for (const StepDiagnostics& d : smc(path, c, Exec(1)).steps) EXPECT_TRUE(d.resampled);
  c.ess_threshold = 0.9;
  std::size_t yes = 0, no = 0;
  const LogZEstimate e = smc(path, c, Exec(1));
  for (const StepDiagnostics& d : e.steps) {
    EXPECT_EQ(d.resampled, d.ess < 0.9 * double(n)) << "beta " << d.beta;
    (d.resampled ? yes : no) += 1;
  }
  EXPECT_GT(yes, 0u);  // the run is long enough for both to happen
  EXPECT_GT(no, 0u);
}

TEST(Smc, AdaptiveBetasHitTheConditionalEssTarget) {
  // Resampling at every step leaves equal weights, so each step's ESS before resampling
  // is its CESS: on target (within the bisection's tolerance 1% of 1 − target) except
  // the last step, which stops at β = 1 above it.
  const Ising m = random_ising(SpinConvention::plus_minus_one, 65, 0.5);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const double target = 0.8;
  const std::size_t n = 100;
  const SmcConfig c{.particles = n, .runs = 1, .ess_threshold = 1.0, .cess_target = target, .seed = 6};
  const LogZEstimate e = smc(path, c, Exec(1));
  ASSERT_GE(e.steps.size(), 3u);
  for (std::size_t k = 0; k < e.steps.size(); ++k) {
    const double f = e.steps[k].ess / double(n);
    EXPECT_GE(f, target - 1e-9) << "step " << k;
    if (k + 1 < e.steps.size()) {
      EXPECT_LE(f, target + 0.01 * (1 - target) + 1e-9) << "step " << k;
    }
  }
  EXPECT_EQ(e.steps.back().beta, 1.0);
  // adaptive_schedule returns run 0's betas.
  std::vector<double> betas{0.0};
  for (const StepDiagnostics& d : e.steps) betas.push_back(d.beta);
  EXPECT_EQ(adaptive_schedule(path, c, Exec(1)).betas(), betas);
}

TEST(Smc, PottsAgreesWithEnumerationForEveryResamplingScheme) {
  const Potts m = randomise(Potts::dense(5, 4), 66, 1.0);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const double exact = potts_enumeration_log_z(m, Exec(2));
  for (Resampling s : {Resampling::multinomial, Resampling::systematic, Resampling::stratified, Resampling::residual}) {
    SCOPED_TRACE(std::string(resampling_name(s)));
    // Few steps and a high threshold, so that the scheme is exercised at many steps.
    const SmcConfig c{.particles = 200, .runs = 20, .resampling = s, .ess_threshold = 0.9,
                      .schedule = Schedule::linear(10), .seed = 7};
    const LogZEstimate e = smc(path, c, Exec(2));
    expect_agrees(e, exact, c);
    std::size_t resampled = 0;
    for (const StepDiagnostics& d : e.steps) resampled += d.resampled;
    EXPECT_GE(resampled, 3u);
    std::printf("%s: log Z %.4f (exact %.4f) se %.4f, resampled at %zu of 10 steps\n", std::string(resampling_name(s)).c_str(),
                e.log_z, exact, e.std_error, resampled);
  }
}

TEST(Smc, AdaptiveTemperingAgreesWithEnumeration) {
  {
    SCOPED_TRACE("Potts 3x3 q=3");
    const Potts m = randomise(lattice(3, 3, 3), 67, 0.8);
    const UniformStates base = uniform_base(m);
    const auto path = mrf_path(base, m, 2);
    const SmcConfig c{.particles = 200, .runs = 20, .resampling = Resampling::residual, .cess_target = 0.9, .seed = 8};
    expect_agrees(smc(path, c, Exec(2)), potts_enumeration_log_z(m, Exec(2)), c);
  }
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    SCOPED_TRACE(int(conv));
    const Ising m = random_ising(conv, 68, 0.5);
    const UniformStates base = uniform_base(m);
    const auto path = mrf_path(base, m, 1);
    const SmcConfig c{.particles = 200, .runs = 20, .resampling = Resampling::stratified, .cess_target = 0.9, .seed = 9};
    const LogZEstimate e = smc(path, c, Exec(2));
    expect_agrees(e, ising_enumeration_log_z(m, Exec(2)), c);
    EXPECT_EQ(e.log_z_base, 12 * std::log(2.0));
  }
}

TEST(Smc, RbmAgreesWithExactLogZ) {
  const RbmF model = test::random_rbm(69, 10, 6, 1.0, 0.5).cast<float>();
  const VectorF a = VectorF::Zero(10);
  const RbmAnnealingPath path(model, a);
  const double exact = rbm_exact_log_z(model.cast<double>(), Exec(2)).log_z;
  SmcConfig c{.particles = 200, .runs = 20, .resampling = Resampling::systematic, .cess_target = 0.9, .seed = 10};
  expect_agrees(smc(path, c, Exec(2)), exact, c);
  c.schedule = Schedule::linear(50);
  c.resampling = Resampling::multinomial;
  expect_agrees(smc(path, c, Exec(2)), exact, c);
  // The adaptive schedule serves AIS: 200 chains on it agree with the exact value too
  // (delta-method SE over independent chains; false-failure rate 1e-4).
  const Schedule s = adaptive_schedule(path, 200, 0.95, 11, Exec(2));
  const LogZEstimate ais_e = ais(path, s, {400, 12}, Exec(2));
  EXPECT_LE(std::abs(ais_e.log_z - exact), test::normal_two_sided_z(1e-4) * ais_e.std_error);
}

TEST(Smc, OneAndTwoThreadsGiveIdenticalBits) {
  auto same = [](const LogZEstimate& a, const LogZEstimate& b) {
    EXPECT_EQ(a.log_weights, b.log_weights);
    EXPECT_EQ(a.log_z, b.log_z);
    EXPECT_EQ(a.std_error, b.std_error);
    ASSERT_EQ(a.steps.size(), b.steps.size());
    for (std::size_t k = 0; k < a.steps.size(); ++k) {
      EXPECT_EQ(a.steps[k].beta, b.steps[k].beta);
      EXPECT_EQ(a.steps[k].ess, b.steps[k].ess);
      EXPECT_EQ(a.steps[k].resampled, b.steps[k].resampled);
      EXPECT_EQ(std::isnan(a.steps[k].acceptance), std::isnan(b.steps[k].acceptance));
      if (!std::isnan(a.steps[k].acceptance)) {
        EXPECT_EQ(a.steps[k].acceptance, b.steps[k].acceptance);
      }
    }
  };
  const Potts m = randomise(lattice(4, 4, 3), 70, 0.5);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const SmcConfig c{.particles = 67, .runs = 3, .resampling = Resampling::multinomial, .cess_target = 0.9, .seed = 13};
  same(smc(path, c, Exec(1)), smc(path, c, Exec(2)));
  const RbmF model = test::random_rbm(71, 12, 7, 1.0, 0.5).cast<float>();
  const RbmAnnealingPath rbm(model, VectorF::Zero(12));
  const SmcConfig rc{.particles = 130, .runs = 2, .resampling = Resampling::residual, .ess_threshold = 0.8,
                     .schedule = Schedule::linear(30), .seed = 14};
  same(smc(rbm, rc, Exec(1)), smc(rbm, rc, Exec(2)));
}

/// A path whose every weight increment is −inf (a target with no mass where the base is).
struct VanishingPath {
  using Particles = MatrixD;
  double log_z_base() const { return 0.0; }
  std::size_t dimension() const { return 1; }
  void draw_base(const Exec&, Particles& x, std::span<Stream> s) const { x = MatrixD::Zero(Eigen::Index(s.size()), 1); }
  void log_ratio(const Exec&, const Particles&, double, double, std::span<double> out) const {
    for (double& v : out) v = -std::numeric_limits<double>::infinity();
  }
  void dlog_f(const Exec&, const Particles&, double, std::span<double> out) const {
    for (double& v : out) v = -std::numeric_limits<double>::infinity();
  }
  MoveInfo move(const Exec&, Particles&, double, std::span<Stream>) const { return {}; }
};
static_assert(AnnealingPath<VanishingPath>);

TEST(Smc, BadInputMessages) {
  const Potts m = randomise(Potts::dense(4, 3), 72, 1.5);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Exec ex(1);
  test::expect_error([&] { smc(path, {.particles = 0}, ex); }, Exit::usage, "smc: particles must be >= 1, got 0");
  test::expect_error([&] { smc(path, {.runs = 0}, ex); }, Exit::usage, "smc: runs must be >= 1, got 0");
  test::expect_error([&] { smc(path, {.ess_threshold = 1.5}, ex); }, Exit::usage,
                     "smc: ess_threshold must be in [0, 1], got 1.5");
  test::expect_error([&] { smc(path, {.ess_threshold = std::nan("")}, ex); }, Exit::usage,
                     "smc: ess_threshold must be in [0, 1], got nan");
  test::expect_error([&] { smc(path, {.cess_target = 1.0}, ex); }, Exit::usage,
                     "smc: cess_target must be in (0, 1), got 1");
  test::expect_error([&] { smc(path, {.cess_target = 0.0}, ex); }, Exit::usage,
                     "smc: cess_target must be in (0, 1), got 0");
  test::expect_error([&] { smc(path, {.max_steps = 0}, ex); }, Exit::usage, "smc: max_steps must be >= 1, got 0");
  // With a fixed schedule the adaptive settings are not used.
  EXPECT_NO_THROW(smc(path, {.runs = 2, .schedule = Schedule::linear(2), .cess_target = 2.0}, ex));
  test::expect_error([&] { adaptive_schedule(path, {.schedule = Schedule::linear(2)}, ex); }, Exit::usage,
                     "adaptive_schedule: the config has a fixed schedule");
  test::expect_error([&] { adaptive_schedule(path, 0, 0.9, 1, ex); }, Exit::usage,
                     "adaptive_schedule: particles must be >= 1, got 0");
  // Adaptive tempering that needs more steps than allowed: a data error naming where.
  const SmcConfig c{.particles = 50, .runs = 1, .cess_target = 0.99, .seed = 3};
  const Schedule s = adaptive_schedule(path, c, ex);
  ASSERT_GT(s.steps(), 2u);
  SmcConfig capped = c;
  capped.max_steps = 2;
  test::expect_error([&] { smc(path, capped, ex); }, Exit::data,
                     fmt::format("smc: adaptive tempering needs more than max_steps = 2 steps (run 0, beta = {}); "
                                 "lower cess_target or raise max_steps",
                                 s[2]));
  // Every weight vanishes.
  test::expect_error([&] { smc(VanishingPath{}, {.particles = 3, .schedule = Schedule::linear(2)}, ex); }, Exit::data,
                     "smc: run 0: the weight increment from beta = 0 to 0.5 is -inf (no particle has a finite "
                     "positive weight)");
  // One run: no error bar, and the reason.
  const LogZEstimate one = smc(path, {.particles = 10, .runs = 1}, ex);
  EXPECT_TRUE(std::isnan(one.std_error));
  EXPECT_EQ(one.error_method, "none: a single run gives no error estimate (runs = 1)");
  EXPECT_EQ(smc(path, {.particles = 10, .runs = 3}, ex).error_method,
            "delta method over 3 independent runs: sd(Z_run) / (sqrt(runs) mean(Z_run)), 2 degrees of freedom");
}

}  // namespace
}  // namespace logz
