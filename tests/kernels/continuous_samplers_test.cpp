// Continuous kernels: random-walk Metropolis, ULA, MALA, HMC and dual averaging.
// Exact first: MALA's Metropolis–Hastings ratio against the Gaussian proposal densities
// written out in the test (detailed balance to 1e-12) and against one-step HMC; the
// leapfrog integrator's reversibility (to 1e-12), unit Jacobian, and second-order energy
// error (halving ε divides ΔH by 4); dual averaging against Hoffman & Gelman's recursion
// worked out separately. Then Monte-Carlo checks: every exact kernel reproduces the mean,
// variances and correlation of a correlated 2-D Gaussian (ρ = 0.9) and E[r²] of the ring
// (by 1-D quadrature) within z·MCSE, the MCSE from the multi-chain ESS of
// diagnostics/mcmc.hpp; ULA matches its own biased stationary law; ULA and a MALA that
// forgets the Hastings correction fail the same check at a larger step. Non-finite
// energies are counted rejections, draws per step are fixed, chains run on 1 or 2
// threads give identical bits, parallel tempering runs over HMC, errors are pinned.
#include "logz/kernels/hmc.hpp"
#include "logz/kernels/langevin.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/core/parallel.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/models/toy2d.hpp"
#include "logz/models/user_energy.hpp"
#include "logz/tempering/parallel_tempering.hpp"
#include "support/expect_error.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using test::expect_error;
using test::normal_two_sided_z;

// ---------------------------------------------------------------------------------------
// Fixtures

/// N(0, [[1, ρ], [ρ, 1]]), ρ = 0.9: precision eigenvalues 1/1.9 and 10, a 4.4:1 ratio of
/// scales.
Gaussian correlated_gaussian(double rho = 0.9) {
  MatrixD lam(2, 2);
  lam << 1, -rho, -rho, 1;
  lam /= 1 - rho * rho;
  return Gaussian(VectorD::Zero(2), lam);
}

/// E[r²] under exp(−β a (r² − 1)²) by Simpson's rule in u = r² (density ∝ exp(−βa(u − 1)²)
/// on u > 0, see toy2d.hpp): 20000 intervals of [0, 1 + 12/√(βa)], beyond which the mass
/// is below e^−144; error far below 1e-10.
double ring_mean_r2(double a_beta) {
  const double top = 1 + 12 / std::sqrt(a_beta);
  const int n = 20000;
  const double h = top / n;
  long double num = 0, den = 0;
  for (int i = 0; i <= n; ++i) {
    const double u = i * h, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    const double f = std::exp(-a_beta * (u - 1) * (u - 1));
    num += w * u * f;
    den += w * f;
  }
  return double(num / den);
}

using Stat = std::function<double(const VectorD&)>;
/// A statistic f with its exact expectation.
struct Moment {
  std::string name;
  Stat f;
  double truth;
};

std::vector<Moment> gaussian_moments(double rho = 0.9) {
  return {{"E[x1]", [](const VectorD& x) { return x[0]; }, 0.0},
          {"E[x2]", [](const VectorD& x) { return x[1]; }, 0.0},
          {"E[x1^2]", [](const VectorD& x) { return x[0] * x[0]; }, 1.0},
          {"E[x2^2]", [](const VectorD& x) { return x[1] * x[1]; }, 1.0},
          {"E[x1 x2]", [](const VectorD& x) { return x[0] * x[1]; }, rho}};
}
std::vector<Moment> ring_moments(double a_beta) {
  const double r2 = ring_mean_r2(a_beta);
  return {{"E[r^2]", [](const VectorD& x) { return x.squaredNorm(); }, r2},
          {"E[x1]", [](const VectorD& x) { return x[0]; }, 0.0},
          {"E[x2^2]", [](const VectorD& x) { return x[1] * x[1]; }, r2 / 2}};
}

/// Draws of M chains: for each moment an M × N matrix of f(x_t), and the kernel's Info
/// summed over chains (in chain order).
struct ChainRun {
  std::vector<MatrixD> values;
  ContinuousInfo total;
};

/// Chain c starts at starts[c], uses Stream::derive(seed, Purpose::gibbs, c), makes
/// `burn` steps, then records every moment after each of `n` steps. Chains run in
/// parallel on ex.threads() threads, one task per chain.
template <class Kernel, class Model>
ChainRun run_chains(const Kernel& k, const Model& m, const std::vector<VectorD>& starts, std::size_t burn, std::size_t n,
               std::uint64_t seed, const std::vector<Moment>& moments, const Exec& ex = Exec(1)) {
  const std::size_t chains = starts.size();
  ChainRun run;
  run.values.assign(moments.size(), MatrixD(Eigen::Index(chains), Eigen::Index(n)));
  std::vector<ContinuousInfo> infos(chains);
  parallel_for(ex, chains, [&](std::size_t c) {
    Stream rng = Stream::derive(seed, Purpose::gibbs, c);
    VectorD x = starts[c];
    for (std::size_t t = 0; t < burn; ++t) k.step(m, x, rng);
    for (std::size_t t = 0; t < n; ++t) {
      const ContinuousInfo info = k.step(m, x, rng);
      ContinuousInfo& s = infos[c];
      s.proposals += info.proposals;
      s.accepted += info.accepted;
      s.non_finite += info.non_finite;
      s.acceptance_probability += info.acceptance_probability;
      s.gradient_evaluations += info.gradient_evaluations;
      for (std::size_t j = 0; j < moments.size(); ++j)
        run.values[j](Eigen::Index(c), Eigen::Index(t)) = moments[j].f(x);
    }
  });
  for (const ContinuousInfo& s : infos) {
    run.total.proposals += s.proposals;
    run.total.accepted += s.accepted;
    run.total.non_finite += s.non_finite;
    run.total.acceptance_probability += s.acceptance_probability / double(chains * n);
    run.total.gradient_evaluations += s.gradient_evaluations;
  }
  return run;
}

/// max over moments of |mean − truth| / MCSE (MCSE = sd / √ESS over all chains), printing
/// every moment. Also requires an ESS of at least 400 per moment so that the MCSE itself
/// is known to about ±5%.
double worst_z(const ChainRun& run, const std::vector<Moment>& moments, const std::string& label) {
  double worst = 0;
  for (std::size_t j = 0; j < moments.size(); ++j) {
    const MatrixD& v = run.values[j];
    const double mean = v.mean(), se = mcse_mean(v), ess = ess_mean(v);
    const double z = std::abs(mean - moments[j].truth) / se;
    std::printf("  %-14s %-9s mean %+.5f truth %+.5f mcse %.5f ess %7.0f z %.2f\n", label.c_str(),
                moments[j].name.c_str(), mean, moments[j].truth, se, ess, z);
    EXPECT_GE(ess, 400.0) << label << " " << moments[j].name;
    worst = std::max(worst, z);
  }
  return worst;
}

/// Exact draws from the Gaussian (one stream per chain).
std::vector<VectorD> gaussian_starts(const Gaussian& g, std::size_t chains, std::uint64_t seed) {
  std::vector<VectorD> out;
  for (std::size_t c = 0; c < chains; ++c) {
    Stream s = Stream::derive(seed, Purpose::chains, c);
    VectorD x(g.dimension());
    g.sample(s, x);
    out.push_back(x);
  }
  return out;
}
/// Points of radius 1.5 at evenly spaced angles.
std::vector<VectorD> ring_starts(std::size_t chains) {
  std::vector<VectorD> out;
  for (std::size_t c = 0; c < chains; ++c) {
    const double t = 2 * std::numbers::pi * double(c) / double(chains);
    VectorD x(2);
    x << 1.5 * std::cos(t), 1.5 * std::sin(t);
    out.push_back(x);
  }
  return out;
}

// Every statistical check below compares |mean − truth| with z·MCSE for a two-sided
// false-failure rate of 1e-5 per moment (z = 4.42): the file makes 46 such comparisons,
// so it fails falsely at a rate below 5e-4 (the seeds are fixed; this is the rate over
// seeds). The chains are long enough (ESS >= 400 each) for the normal approximation.
const double kZ = normal_two_sided_z(1e-5);

/// A MALA that forgets the Hastings correction: it accepts with min(1, exp(−β ΔE)) as if
/// the Langevin proposal were symmetric. Wrong; for the wrong-kernel test only.
struct MalaWithoutHastings {
  Mala::Params p;
  ContinuousInfo step(const Gaussian& m, VectorD& x, Stream& rng) const {
    ContinuousInfo info;
    VectorD g(2), z(2);
    for (std::size_t k = 0; k < p.steps; ++k) {
      m.energy_and_gradient(x, g);
      detail::fill_normal(rng, z);
      const VectorD y = x - 0.5 * p.step_size * p.step_size * g + p.step_size * z;
      if (detail::continuous_accepts(m.energy(y) - m.energy(x), rng.uniform_double(), info)) x = y;
    }
    return info;
  }
};

// ---------------------------------------------------------------------------------------
// Exact checks

TEST(Mala, RatioSatisfiesDetailedBalanceWithTheProposalDensities) {
  // log π(y) + log q(x | y) − log π(x) − log q(y | x) with q(y | x) = N(y; x − (ε²/2) β ∇E(x),
  // ε² I), written out here; MALA's log_ratio must be its negative, and swapping x and y
  // must negate it (the acceptance rule then gives detailed balance).
  const Ring ring(0.7);
  const double eps = 0.4, beta = 1.3;
  const Mala mala({.step_size = eps, .steps = 1, .beta = beta});
  Stream rng = Stream::derive(1, Purpose::user, 0);
  for (int trial = 0; trial < 10; ++trial) {
    VectorD x(2), z(2), gx(2), gy(2);
    x << rng.normal(), rng.normal();
    z << rng.normal(), rng.normal();
    const double ex = ring.energy_and_gradient(x, gx);
    const VectorD y = x - 0.5 * eps * eps * beta * gx + eps * z;
    const double ey = ring.energy_and_gradient(y, gy);
    auto log_q = [&](const VectorD& to, const VectorD& from, const VectorD& g_from) {
      return -(to - from + 0.5 * eps * eps * beta * g_from).squaredNorm() / (2 * eps * eps);
    };
    const double log_mh = -beta * ey + log_q(x, y, gy) + beta * ex - log_q(y, x, gx);
    EXPECT_NEAR(mala.log_ratio(ex, gx, ey, gy, z), -log_mh, 1e-12);
    const VectorD z_back = (x - y + 0.5 * eps * eps * beta * gy) / eps;  // the noise that proposes x from y
    EXPECT_NEAR(mala.log_ratio(ey, gy, ex, gx, z_back), log_mh, 1e-12);
  }
}

TEST(Mala, IsOneStepHmc) {
  // Same ε and momentum z: the one-step leapfrog lands on the MALA proposal and its ΔH is
  // MALA's −log ratio.
  const Gaussian g = correlated_gaussian();
  const double eps = 0.3, beta = 0.8;
  const Mala mala({.step_size = eps, .steps = 1, .beta = beta});
  const Hmc hmc({.step_size = eps, .leapfrog_steps = 1, .beta = beta});
  VectorD x(2), z(2), gx(2), gy(2);
  x << 0.7, -0.2;
  z << 0.4, 1.1;
  const double ex = g.energy_and_gradient(x, gx);
  const VectorD y = x - 0.5 * eps * eps * beta * gx + eps * z;
  const double ey = g.energy_and_gradient(y, gy);
  VectorD q = x, p = z;
  const LeapfrogResult r = hmc.leapfrog(g, q, p);
  EXPECT_EQ(r.gradient_evaluations, 2u);
  EXPECT_LE((q - y).cwiseAbs().maxCoeff(), 1e-15);
  const double dh = r.end_potential + 0.5 * p.squaredNorm() - r.start_potential - 0.5 * z.squaredNorm();
  EXPECT_NEAR(dh, mala.log_ratio(ex, gx, ey, gy, z), 1e-13);
}

/// Forward L steps, negate p, forward L steps, negate p: the distance from the start.
/// `step` integrates (q, p) in place.
template <class Step>
double round_trip_error(const VectorD& q0, const VectorD& p0, Step&& step) {
  VectorD q = q0, p = p0;
  step(q, p);
  EXPECT_GT((q - q0).norm(), 0.1);  // it went somewhere
  p = -p;
  step(q, p);
  p = -p;
  return std::max((q - q0).cwiseAbs().maxCoeff(), (p - p0).cwiseAbs().maxCoeff());
}

TEST(Hmc, LeapfrogIsReversible) {
  // The leapfrog returns to its start up to rounding, on the ring (a nonlinear force) and
  // on the harmonic oscillator in 2-D (the correlated Gaussian). Symplectic Euler (one
  // full kick, then one drift: volume-preserving but not symmetric) fails the same check.
  const Ring ring(0.5);
  const Gaussian osc = correlated_gaussian();
  const Hmc hmc({.step_size = 0.1, .leapfrog_steps = 25, .beta = 1.0});
  Stream rng = Stream::derive(2, Purpose::user, 0);
  for (int trial = 0; trial < 5; ++trial) {
    VectorD q0(2), p0(2);
    q0 << 1.5 * rng.normal(), 1.5 * rng.normal();
    p0 << rng.normal(), rng.normal();
    EXPECT_LE(round_trip_error(q0, p0, [&](VectorD& q, VectorD& p) { ASSERT_TRUE(hmc.leapfrog(ring, q, p).finite); }),
              1e-12);
    EXPECT_LE(round_trip_error(q0, p0, [&](VectorD& q, VectorD& p) { ASSERT_TRUE(hmc.leapfrog(osc, q, p).finite); }),
              1e-12);
    const double euler = round_trip_error(q0, p0, [&](VectorD& q, VectorD& p) {
      VectorD g(2);
      for (int l = 0; l < 25; ++l) {
        ring.energy_and_gradient(q, g);
        p -= 0.1 * g;
        q += 0.1 * p;
      }
    });
    EXPECT_GT(euler, 1e-3);
  }
}

TEST(Hmc, LeapfrogPreservesVolume) {
  // Jacobian of (q, p) ↦ leapfrog(q, p) by central differences (h = 1e-6; truncation
  // O(h²) and rounding O(1e-16/h) both below 1e-8): its determinant is 1.
  const Ring ring(0.5);
  const Hmc hmc({.step_size = 0.15, .leapfrog_steps = 10, .beta = 1.0});
  VectorD s0(4);
  s0 << 1.2, -0.4, 0.3, 0.9;
  auto flow = [&](const VectorD& s) {
    VectorD q = s.head(2), p = s.tail(2);
    hmc.leapfrog(ring, q, p);
    VectorD out(4);
    out << q, p;
    return out;
  };
  Eigen::Matrix4d jac;
  const double h = 1e-6;
  for (int j = 0; j < 4; ++j) {
    VectorD sp = s0, sm = s0;
    sp[j] += h;
    sm[j] -= h;
    jac.col(j) = (flow(sp) - flow(sm)) / (2 * h);
  }
  EXPECT_NEAR(jac.determinant(), 1.0, 1e-7);
}

TEST(Hmc, EnergyErrorIsSecondOrder) {
  // Over a fixed time T = L ε, the leapfrog's energy error is c ε² + O(ε⁴): halving ε
  // divides it by 4 (1 + O(ε²)); at ε = 0.05 the O(ε²) correction is ~1e-3 relative, so
  // the ratio lies within 4 ± 0.05. Harmonic oscillator (E = q²/2, from q = 1, p = 0,
  // T = 1: the leapfrog conserves H̃ = ½ p² + ½ (1 − ε²/4) q² exactly, so
  // ΔH = (ε²/8)(q(T)² − q(0)²) = −(ε²/8) sin² 1 to leading order)
  // and the ring (a nonlinear force).
  auto delta_h = [](const auto& m, const VectorD& q0, const VectorD& p0, double eps, std::size_t steps) {
    const Hmc hmc({.step_size = eps, .leapfrog_steps = steps, .beta = 1.0});
    VectorD q = q0, p = p0;
    const LeapfrogResult r = hmc.leapfrog(m, q, p);
    return r.end_potential + 0.5 * p.squaredNorm() - r.start_potential - 0.5 * p0.squaredNorm();
  };
  const Gaussian osc = Gaussian::isotropic(1, 1.0);
  const VectorD q1 = VectorD::Ones(1), p1 = VectorD::Zero(1);
  const double a = delta_h(osc, q1, p1, 0.05, 20), b = delta_h(osc, q1, p1, 0.025, 40);
  EXPECT_NEAR(a, -0.05 * 0.05 / 8 * std::sin(1.0) * std::sin(1.0), 0.01 * std::abs(a));
  EXPECT_NEAR(a / b, 4.0, 0.05);
  const Ring ring(0.5);
  VectorD q2(2), p2(2);
  q2 << 1.5, 0.3;
  p2 << 0.2, 0.8;
  const double c = delta_h(ring, q2, p2, 0.05, 20), d = delta_h(ring, q2, p2, 0.025, 40);
  EXPECT_GT(std::abs(c), 1e-6);
  EXPECT_NEAR(c / d, 4.0, 0.05);
}

TEST(DualAveraging, FollowsTheRecursion) {
  // ε₀ = 1, δ = 0.65, γ = 0.05, t0 = 10, κ = 0.75; α = 0.2, 0.9, 0.5. The values are
  // Hoffman & Gelman's Algorithm 5 evaluated separately in double.
  DualAveraging da(1.0);
  EXPECT_EQ(da.iterations(), 0u);
  EXPECT_EQ(da.step_size(), 1.0);
  EXPECT_EQ(da.final_step_size(), 1.0);
  EXPECT_NEAR(da.update(0.2), 4.412331677599841, 1e-13);
  EXPECT_NEAR(da.final_step_size(), 4.412331677599841, 1e-13);
  EXPECT_NEAR(da.update(0.9), 6.24125055778261, 1e-13);
  EXPECT_NEAR(da.final_step_size(), 5.422724093686563, 1e-13);
  EXPECT_NEAR(da.update(0.5), 3.9351238308405536, 1e-13);
  EXPECT_NEAR(da.step_size(), 3.9351238308405536, 1e-13);
  EXPECT_NEAR(da.final_step_size(), 4.711137124876943, 1e-13);
  EXPECT_EQ(da.iterations(), 3u);
}

TEST(DualAveraging, FindsTheStepWithTheTargetAcceptance) {
  // A noiseless acceptance curve α(ε) = exp(−ε): the averaged step converges to the root
  // ε* = −log δ of α(ε) = δ (deterministic; after 5000 updates ε̄ is within 0.5% of ε*,
  // whereas a step a factor 2 off gives α = 0.42 or 0.81).
  for (double delta : {0.65, 0.8}) {
    DualAveraging da(0.01, {.target_acceptance = delta});
    for (int m = 0; m < 5000; ++m) da.update(std::exp(-da.step_size()));
    EXPECT_NEAR(da.final_step_size(), -std::log(delta), 5e-3 * -std::log(delta)) << "delta " << delta;
  }
}

/// E[min(1, exp(−ΔH))] of one HMC trajectory from stationarity, by n exact draws of
/// (q, p) from the Gaussian and N(0, I) (no Markov chain): the mean and its standard error.
std::pair<double, double> stationary_acceptance(const Gaussian& g, const Hmc& hmc, int n, std::uint64_t seed) {
  Stream rng = Stream::derive(seed, Purpose::sample, 0);
  MeanVar acc;
  VectorD q(2), p(2);
  for (int i = 0; i < n; ++i) {
    g.sample(rng, q);
    p << rng.normal(), rng.normal();
    const double k0 = 0.5 * p.squaredNorm();
    const LeapfrogResult r = hmc.leapfrog(g, q, p);
    acc.add(detail::metropolis_acceptance(r.end_potential + 0.5 * p.squaredNorm() - r.start_potential - k0));
  }
  return {acc.mean, acc.std_error()};
}

TEST(DualAveraging, TunesHmcToTheTarget) {
  // HMC (L = 5) on the correlated Gaussian from ε₀ = 1 (acceptance ≈ 0), 1000 warm-up
  // steps. The step ε* whose stationary acceptance is δ = 0.8 must lie within 25% of ε̄:
  // the acceptance, estimated from 20000 exact draws (SE ≈ 0.003), is above δ at 0.8 ε̄
  // and below it at 1.25 ε̄, each by more than z·SE (false failure 1e-5 per side).
  const Gaussian g = correlated_gaussian();
  DualAveraging da(1.0, {.target_acceptance = 0.8});
  Stream rng = Stream::derive(3, Purpose::gibbs, 99);
  VectorD x = VectorD::Zero(2);
  for (int m = 0; m < 1000; ++m) {
    const Hmc hmc({.step_size = da.step_size(), .leapfrog_steps = 5, .beta = 1.0});
    da.update(hmc.step(g, x, rng).acceptance_probability);
  }
  const double eps = da.final_step_size();
  const auto [lo, lo_se] = stationary_acceptance(g, Hmc({.step_size = 0.8 * eps, .leapfrog_steps = 5, .beta = 1.0}), 20000, 4);
  const auto [hi, hi_se] = stationary_acceptance(g, Hmc({.step_size = 1.25 * eps, .leapfrog_steps = 5, .beta = 1.0}), 20000, 5);
  std::printf("  tuned step %.4f: acceptance %.4f at 0.8x, %.4f at 1.25x\n", eps, lo, hi);
  const double z = test::normal_upper_quantile(1e-5);
  EXPECT_GT(lo - 0.8, z * lo_se);
  EXPECT_GT(0.8 - hi, z * hi_se);
}

// ---------------------------------------------------------------------------------------
// Monte-Carlo checks against exact moments

TEST(ContinuousKernels, ExactKernelsMatchTheCorrelatedGaussian) {
  const Gaussian g = correlated_gaussian();
  const auto moments = gaussian_moments();
  const auto starts = gaussian_starts(g, 4, 10);
  {
    const RandomWalkMetropolis k({.step_size = 0.5, .steps = 4, .beta = 1.0});
    const ChainRun run = run_chains(k, g, starts, 100, 10000, 11, moments);
    EXPECT_LE(worst_z(run, moments, "rwm"), kZ);
    EXPECT_EQ(run.total.proposals, 4u * 10000 * 4);
    EXPECT_EQ(run.total.gradient_evaluations, 0u);
  }
  {
    const Mala k({.step_size = 0.35, .steps = 4, .beta = 1.0});
    const ChainRun run = run_chains(k, g, starts, 100, 10000, 12, moments);
    EXPECT_LE(worst_z(run, moments, "mala"), kZ);
    EXPECT_EQ(run.total.gradient_evaluations, 4u * 10000 * 5);  // steps + 1 per step
  }
  {
    const Hmc k({.step_size = 0.3, .leapfrog_steps = 8, .beta = 1.0});
    const ChainRun run = run_chains(k, g, starts, 100, 10000, 13, moments);
    EXPECT_LE(worst_z(run, moments, "hmc"), kZ);
    EXPECT_EQ(run.total.gradient_evaluations, 4u * 10000 * 9);
    EXPECT_EQ(run.total.non_finite, 0u);
  }
}

TEST(ContinuousKernels, ExactKernelsMatchTheRing) {
  const Ring ring(0.1);
  const auto moments = ring_moments(0.1);
  const auto starts = ring_starts(4);
  {
    const RandomWalkMetropolis k({.step_size = 1.5, .steps = 3, .beta = 1.0});
    EXPECT_LE(worst_z(run_chains(k, ring, starts, 200, 10000, 21, moments), moments, "rwm ring"), kZ);
  }
  {
    const Mala k({.step_size = 0.8, .steps = 3, .beta = 1.0});
    EXPECT_LE(worst_z(run_chains(k, ring, starts, 200, 10000, 22, moments), moments, "mala ring"), kZ);
  }
  {
    const Hmc k({.step_size = 0.3, .leapfrog_steps = 10, .beta = 1.0});
    EXPECT_LE(worst_z(run_chains(k, ring, starts, 200, 10000, 23, moments), moments, "hmc ring"), kZ);
  }
  {
    // The same target as a user energy: HMC sees only the two callables.
    const UserEnergy u(
        2, [&](const Eigen::Ref<const VectorD>& x) { return ring.energy(x); },
        [&](const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> gr) { ring.energy_and_gradient(x, gr); });
    const Hmc k({.step_size = 0.3, .leapfrog_steps = 10, .beta = 1.0});
    EXPECT_LE(worst_z(run_chains(k, u, starts, 200, 5000, 24, moments), moments, "hmc user"), kZ);
  }
}

TEST(ContinuousKernels, TemperedTargets) {
  // β scales the energy: HMC and MALA at β = 0.5 on the ring sample exp(−0.5 a (r² − 1)²).
  const Ring ring(0.4);
  const auto moments = ring_moments(0.2);
  const auto starts = ring_starts(4);
  const Hmc hmc({.step_size = 0.3, .leapfrog_steps = 10, .beta = 0.5});
  EXPECT_LE(worst_z(run_chains(hmc, ring, starts, 200, 5000, 31, moments), moments, "hmc beta"), kZ);
  const Mala mala({.step_size = 0.7, .steps = 3, .beta = 0.5});
  EXPECT_LE(worst_z(run_chains(mala, ring, starts, 200, 5000, 32, moments), moments, "mala beta"), kZ);
}

TEST(ContinuousKernels, UlaHasItsDocumentedBias) {
  // ULA on N(0, Λ⁻¹) is the linear chain x' = (I − (ε²/2) Λ) x + ε z, whose stationary
  // covariance is V = Λ⁻¹ (I − ε² Λ / 4)⁻¹. At ε = 0.3, V = [[1.0265, 0.8971], ...]: the
  // chain matches V within z·MCSE (and would fail against Σ at a larger step, below).
  const Gaussian g = correlated_gaussian();
  const double eps = 0.3;
  const MatrixD lam = g.precision();
  const MatrixD v = lam.inverse() * (MatrixD::Identity(2, 2) - eps * eps / 4 * lam).inverse();
  std::vector<Moment> moments = gaussian_moments();
  moments[2].truth = v(0, 0);
  moments[3].truth = v(1, 1);
  moments[4].truth = v(0, 1);
  const UnadjustedLangevin ula({.step_size = eps, .steps = 4, .beta = 1.0});
  const ChainRun run = run_chains(ula, g, gaussian_starts(g, 4, 40), 200, 10000, 41, moments);
  EXPECT_LE(worst_z(run, moments, "ula"), kZ);
  EXPECT_EQ(run.total.accepted, run.total.proposals);
  EXPECT_EQ(run.total.gradient_evaluations, 4u * 10000 * 4);
}

TEST(ContinuousKernels, WrongKernelsFailTheCheckAtALargerStep) {
  // At ε = 0.55 (ε² λ_max = 3), MALA still passes; ULA (MALA without its accept step:
  // variance 1.19 instead of 1) and a MALA that treats its proposal as symmetric fail the
  // same check by far.
  const Gaussian g = correlated_gaussian();
  const auto moments = gaussian_moments();
  const auto starts = gaussian_starts(g, 4, 50);
  const Mala::Params p{.step_size = 0.55, .steps = 4, .beta = 1.0};
  EXPECT_LE(worst_z(run_chains(Mala(p), g, starts, 100, 10000, 51, moments), moments, "mala big"), kZ);
  EXPECT_GT(worst_z(run_chains(UnadjustedLangevin({.step_size = p.step_size, .steps = p.steps, .beta = 1.0}), g, starts,
                               100, 10000, 51, moments),
                    moments, "ula big"),
            2 * kZ);
  EXPECT_GT(worst_z(run_chains(MalaWithoutHastings{p}, g, starts, 100, 10000, 51, moments), moments, "no hastings"),
            2 * kZ);
}

TEST(ParallelTempering, RunsOverHmc) {
  // Replica k samples exp(−β_k E): each replica's E[r²] against the quadrature at β_k a.
  const Ring ring(0.4);
  const std::vector<double> betas{0.25, 0.5, 1.0};
  const ParallelTempering<Hmc> pt(betas, Hmc::Params{.step_size = 0.3, .leapfrog_steps = 8, .beta = 1.0});
  const std::size_t chains = 4, n = 3000;
  std::vector<MatrixD> r2(betas.size(), MatrixD(chains, n));
  for (std::size_t c = 0; c < chains; ++c) {
    auto s = pt.start(ring_starts(chains)[c]);
    Stream rng = Stream::derive(60, Purpose::gibbs, c);
    for (int t = 0; t < 100; ++t) pt.step(ring, s, rng, Exec(1));
    for (std::size_t t = 0; t < n; ++t) {
      pt.step(ring, s, rng, Exec(1));
      for (std::size_t k = 0; k < betas.size(); ++k) r2[k](Eigen::Index(c), Eigen::Index(t)) = s.replicas[k].squaredNorm();
    }
  }
  for (std::size_t k = 0; k < betas.size(); ++k) {
    const double truth = ring_mean_r2(0.4 * betas[k]);
    std::printf("  replica %zu: E[r^2] %.4f truth %.4f mcse %.4f\n", k, r2[k].mean(), truth, mcse_mean(r2[k]));
    EXPECT_LE(std::abs(r2[k].mean() - truth), kZ * mcse_mean(r2[k])) << "replica " << k;
  }
}

// ---------------------------------------------------------------------------------------
// Contract: non-finite energies, fixed draws, threads, errors

/// E = |x|²/2 for x₁ < 1, +inf beyond (a wall), NaN gradient beyond as well.
UserEnergy walled() {
  return UserEnergy(
      2,
      [](const Eigen::Ref<const VectorD>& x) {
        return x[0] < 1 ? 0.5 * x.squaredNorm() : std::numeric_limits<double>::infinity();
      },
      [](const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> g) {
        if (x[0] < 1) g = x;
        else g.setConstant(std::numeric_limits<double>::quiet_NaN());
      });
}

template <class Kernel>
void expect_walled_chain_stays_finite(const Kernel& k, const char* label) {
  const UserEnergy m = walled();
  Stream rng = Stream::derive(70, Purpose::gibbs, 0);
  VectorD x = VectorD::Zero(2);
  ContinuousInfo total;
  for (int t = 0; t < 2000; ++t) {
    const ContinuousInfo info = k.step(m, x, rng);
    total.proposals += info.proposals;
    total.accepted += info.accepted;
    total.non_finite += info.non_finite;
    ASSERT_LT(x[0], 1.0) << label;
    ASSERT_TRUE(x.allFinite()) << label;
  }
  EXPECT_GT(total.non_finite, 0u) << label;
  EXPECT_GT(total.accepted, 0u) << label;
  EXPECT_LE(total.accepted + total.non_finite, total.proposals) << label;
}

TEST(ContinuousKernels, NonFiniteEnergiesAreCountedRejections) {
  expect_walled_chain_stays_finite(RandomWalkMetropolis({.step_size = 1.0, .steps = 1, .beta = 1.0}), "rwm");
  expect_walled_chain_stays_finite(Mala({.step_size = 1.0, .steps = 1, .beta = 1.0}), "mala");
  expect_walled_chain_stays_finite(Hmc({.step_size = 0.3, .leapfrog_steps = 10, .beta = 1.0}), "hmc");
  // HMC reports ΔH of a stopped trajectory as NaN, with acceptance probability 0.
  const UserEnergy m = walled();
  const Hmc hmc({.step_size = 1.0, .leapfrog_steps = 5, .beta = 1.0});
  VectorD x(2);
  x << 0.99, 0.0;
  bool seen = false;
  Stream rng = Stream::derive(71, Purpose::gibbs, 0);
  for (int t = 0; t < 50 && !seen; ++t) {
    const ContinuousInfo info = hmc.step(m, x, rng);
    if (info.non_finite == 1) {
      seen = true;
      EXPECT_TRUE(std::isnan(info.energy_error));
      EXPECT_EQ(info.acceptance_probability, 0.0);
      EXPECT_EQ(info.accepted, 0u);
    }
  }
  EXPECT_TRUE(seen);
  // ULA cannot reject: a move whose gradient is not finite is not taken.
  const UnadjustedLangevin ula({.step_size = 0.5, .steps = 1, .beta = 1.0});
  const UserEnergy nan_grad(
      1, [](const Eigen::Ref<const VectorD>&) { return 0.0; },
      [](const Eigen::Ref<const VectorD>&, Eigen::Ref<VectorD> g) { g.setConstant(std::nan("")); });
  VectorD y = VectorD::Zero(1);
  const ContinuousInfo info = ula.step(nan_grad, y, rng);
  EXPECT_EQ(info.non_finite, 1u);
  EXPECT_EQ(info.accepted, 0u);
  EXPECT_EQ(y[0], 0.0);
}

TEST(ContinuousKernels, DrawAFixedNumberOfRandomsPerStep) {
  // Whatever is accepted: β = 0 accepts every proposal (flat target), β = 1e6 rejects
  // almost all. A normal is two uniform doubles (4 words), a uniform 2 words. After a
  // step the stream continues where d normals (+ 1 uniform) per proposal leave it.
  const Gaussian g = correlated_gaussian();
  auto words_after = [](auto kernel, const Gaussian& m) {
    Stream rng = Stream::derive(80, Purpose::gibbs, 0);
    VectorD x(2);
    x << 0.3, 0.1;
    kernel.step(m, x, rng);
    return rng.next_u32();
  };
  auto expected_word = [](std::size_t words) {
    Stream rng = Stream::derive(80, Purpose::gibbs, 0);
    for (std::size_t w = 0; w < words; ++w) rng.next_u32();
    return rng.next_u32();
  };
  for (double beta : {0.0, 1e6}) {
    EXPECT_EQ(words_after(RandomWalkMetropolis({.step_size = 0.5, .steps = 3, .beta = beta}), g), expected_word(3 * 10));
    EXPECT_EQ(words_after(Mala({.step_size = 0.5, .steps = 3, .beta = beta}), g), expected_word(3 * 10));
    EXPECT_EQ(words_after(UnadjustedLangevin({.step_size = 0.5, .steps = 3, .beta = beta}), g), expected_word(3 * 8));
    EXPECT_EQ(words_after(Hmc({.step_size = 0.5, .leapfrog_steps = 7, .beta = beta}), g), expected_word(10));
  }
}

TEST(ContinuousKernels, ChainsGiveTheSameBitsOnOneOrTwoThreads) {
  const Gaussian g = correlated_gaussian();
  const auto moments = gaussian_moments();
  const auto starts = gaussian_starts(g, 4, 90);
  const Hmc hmc({.step_size = 0.3, .leapfrog_steps = 8, .beta = 1.0});
  const ChainRun one = run_chains(hmc, g, starts, 10, 200, 91, moments, Exec(1));
  const ChainRun two = run_chains(hmc, g, starts, 10, 200, 91, moments, Exec(2));
  for (std::size_t j = 0; j < moments.size(); ++j) EXPECT_EQ(one.values[j], two.values[j]) << moments[j].name;
  const Mala mala({.step_size = 0.3, .steps = 2, .beta = 1.0});
  EXPECT_EQ(run_chains(mala, g, starts, 10, 200, 92, moments, Exec(1)).values[0],
            run_chains(mala, g, starts, 10, 200, 92, moments, Exec(2)).values[0]);
}

TEST(ContinuousKernels, BadParamsAndStatesAreUsageErrors) {
  const double inf = std::numeric_limits<double>::infinity();
  expect_error([] { RandomWalkMetropolis({.step_size = 0.0, .steps = 1, .beta = 1.0}); }, Exit::usage,
               "RandomWalkMetropolis: step_size must be finite and > 0 (got 0)");
  expect_error([&] { Mala({.step_size = inf, .steps = 1, .beta = 1.0}); }, Exit::usage,
               "Mala: step_size must be finite and > 0 (got inf)");
  expect_error([] { UnadjustedLangevin({.step_size = 0.1, .steps = 0, .beta = 1.0}); }, Exit::usage,
               "UnadjustedLangevin: steps must be >= 1 (got 0)");
  expect_error([] { Hmc({.step_size = 0.1, .leapfrog_steps = 0, .beta = 1.0}); }, Exit::usage,
               "Hmc: leapfrog_steps must be >= 1 (got 0)");
  expect_error([] { Hmc({.step_size = 0.1, .leapfrog_steps = 3, .beta = -1.0}); }, Exit::usage,
               "Hmc: beta must be finite and >= 0 (got -1)");
  expect_error([] { Mala({.step_size = 0.1, .steps = 1, .beta = std::nan("")}); }, Exit::usage,
               "Mala: beta must be finite and >= 0 (got nan)");
  const Gaussian g = correlated_gaussian();
  Stream rng = Stream::root(1);
  VectorD x3 = VectorD::Zero(3), p2 = VectorD::Zero(2), q2 = VectorD::Zero(2);
  expect_error([&] { Hmc().step(g, x3, rng); }, Exit::usage, "Hmc: state has 3 entries but the model has dimension 2");
  expect_error([&] { Mala().step(g, x3, rng); }, Exit::usage, "Mala: state has 3 entries but the model has dimension 2");
  expect_error([&] { RandomWalkMetropolis().step(g, x3, rng); }, Exit::usage,
               "RandomWalkMetropolis: state has 3 entries but the model has dimension 2");
  expect_error([&] { UnadjustedLangevin().step(g, x3, rng); }, Exit::usage,
               "UnadjustedLangevin: state has 3 entries but the model has dimension 2");
  expect_error([&] { Hmc().leapfrog(g, q2, x3); }, Exit::usage, "Hmc: momentum has 3 entries but the model has dimension 2");
  expect_error([] { DualAveraging(0.0); }, Exit::usage, "DualAveraging: initial_step_size must be finite and > 0 (got 0)");
  expect_error([] { DualAveraging(1.0, {.target_acceptance = 1.0}); }, Exit::usage,
               "DualAveraging: target_acceptance must be in (0, 1) (got 1)");
  expect_error([] { DualAveraging(1.0, {.gamma = 0.0}); }, Exit::usage,
               "DualAveraging: gamma must be finite and > 0 (got 0)");
  expect_error([] { DualAveraging(1.0, {.t0 = -1.0}); }, Exit::usage, "DualAveraging: t0 must be finite and >= 0 (got -1)");
  expect_error([] { DualAveraging(1.0, {.kappa = 0.5}); }, Exit::usage, "DualAveraging: kappa must be in (0.5, 1] (got 0.5)");
  DualAveraging da(1.0);
  expect_error([&] { da.update(std::nan("")); }, Exit::usage, "DualAveraging::update: acceptance must be in [0, 1] (got nan)");
  expect_error([&] { da.update(1.5); }, Exit::usage, "DualAveraging::update: acceptance must be in [0, 1] (got 1.5)");
  EXPECT_EQ(da.iterations(), 0u);
}

}  // namespace
}  // namespace logz
