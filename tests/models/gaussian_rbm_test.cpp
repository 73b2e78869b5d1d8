// Gaussian–Bernoulli RBM. Exact first: E(v, h) and F(v) by hand on a 2×2 model, F as
// −log Σ_h exp(−E(v, h)) by enumeration, ∇F and ΔF against central finite differences,
// log Z by hand (2×2) and by the direct sum over h against the Gray-code enumeration,
// and against numerical integration of exp(−F(v)) over R (n = 1) and R² (n = 2).
// Then Monte-Carlo checks: block-Gibbs chains and exact draws reproduce the exact
// mixture moments within z·MCSE, and the Gibbs moments are shown to fail against the
// moments of the other common convention (v_i/σ_i in the interaction). 1 vs 2 threads
// give identical bits; bad input errors are pinned.
#include "logz/exact/grbm_exact.hpp"
#include "logz/models/gaussian_rbm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "logz/core/concepts.hpp"
#include "logz/core/math.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/kernels/grbm_gibbs.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

using test::expect_error;

static_assert(DifferentiableEnergy<GrbmFreeEnergy>);
static_assert(Bipartite<GaussianRbm>);

// Two-sided z for a per-check false-failure rate of 1e-5 (normal approximation).
constexpr double kZ = 4.42;

/// The 2×2 model worked out by hand below.
GaussianRbm hand_model() {
  GaussianRbm m(2, 2);
  m.weights << 1.0, -0.5, 0.25, 2.0;
  m.visible_bias << 0.5, -1.0;
  m.hidden_bias << 0.2, -0.3;
  m.visible_sigma << 0.5, 2.0;
  return m;
}

/// Weights, biases and σ from a fixed stream: W ~ scale·N(0, 1), b, c ~ N(0, 0.5²),
/// σ ∈ [0.5, 1.5].
GaussianRbm random_model(std::size_t n, std::size_t k, double scale, std::uint64_t seed) {
  GaussianRbm m(n, k);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = scale * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_bias.size(); ++i) m.visible_bias[i] = 0.5 * rng.normal();
  for (Eigen::Index j = 0; j < m.hidden_bias.size(); ++j) m.hidden_bias[j] = 0.5 * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_sigma.size(); ++i) m.visible_sigma[i] = 0.5 + rng.uniform_double();
  return m;
}

VectorD bits(std::uint64_t s, std::size_t k) {
  VectorD h = VectorD::Zero(Eigen::Index(k));
  for (std::size_t j = 0; j < k; ++j) h[Eigen::Index(j)] = double((s >> j) & 1);
  return h;
}

/// log Z written straight from the formula, one state at a time (no Gray code, no blocks).
double direct_log_z(const GaussianRbm& m) {
  std::vector<double> t;
  for (std::uint64_t s = 0; s < (std::uint64_t(1) << m.n_hidden()); ++s) {
    const VectorD h = bits(s, m.n_hidden());
    const VectorD mu = m.visible_bias + m.weights * h;
    double x = m.hidden_bias.dot(h);
    for (Eigen::Index i = 0; i < mu.size(); ++i)
      x += (mu[i] * mu[i] - m.visible_bias[i] * m.visible_bias[i]) / (2 * m.visible_sigma[i] * m.visible_sigma[i]);
    t.push_back(x);
  }
  double norm = 0;
  for (Eigen::Index i = 0; i < m.visible_sigma.size(); ++i) norm += std::log(std::sqrt(2 * std::numbers::pi) * m.visible_sigma[i]);
  return log_sum_exp(t) + norm;
}

// ---------------------------------------------------------------------------------------
// Exact

TEST(GaussianRbm, EnergyAndFreeEnergyByHand) {
  const GaussianRbm m = hand_model();
  const VectorD v = (VectorD(2) << 1.0, 0.5).finished();
  // (v−b)²/(2σ²) = 0.25/0.5 + 2.25/8 = 0.78125; (v/σ²)ᵀ W h for h = (1, 0): 4·1 + 0.125·0.25.
  EXPECT_NEAR(m.energy(v, (VectorD(2) << 1, 0).finished()), 0.78125 - 4.03125 - 0.2, 1e-14);
  EXPECT_NEAR(m.energy(v, (VectorD(2) << 0, 0).finished()), 0.78125, 1e-14);
  EXPECT_NEAR(m.energy(v, (VectorD(2) << 1, 1).finished()), 0.78125 - 4.03125 - (-2.0 + 0.25) - (0.2 - 0.3), 1e-14);
  // Pre-activations c + Wᵀ(v/σ²) = (4.23125, −2.05).
  const double f = 0.78125 - std::log1p(std::exp(4.23125)) - std::log1p(std::exp(-2.05));
  EXPECT_NEAR(m.free_energy(v), f, 1e-14);
  VectorD p(2);
  m.hidden_probabilities(v, p);
  EXPECT_NEAR(p[0], 1 / (1 + std::exp(-4.23125)), 1e-15);
  EXPECT_NEAR(p[1], 1 / (1 + std::exp(2.05)), 1e-15);
  VectorD mu(2);
  m.visible_mean((VectorD(2) << 1, 1).finished(), mu);
  EXPECT_NEAR(mu[0], 1.0, 1e-15);
  EXPECT_NEAR(mu[1], 1.25, 1e-15);
  // log Z: the four hidden states' terms c·h + Σ a_i (2b_i + a_i)/(2σ_i²) with a = W h,
  // plus Σ log(√(2π) σ_i) = log 2π (σ₁σ₂ = 1).
  const double lz = std::log(1 + std::exp(4.1453125) + std::exp(-0.8) + std::exp(1.4703125)) +
                    std::log(2 * std::numbers::pi);
  EXPECT_NEAR(grbm_exact_log_z(m), lz, 1e-13);
  EXPECT_EQ(m.num_parameters(), 8u);
  GaussianRbm learned = m;
  learned.learn_sigma = true;
  EXPECT_EQ(learned.num_parameters(), 10u);
}

TEST(GaussianRbm, FreeEnergyIsMinusLogSumOverHiddenStates) {
  const GaussianRbm m = random_model(3, 4, 1.0, 3);
  Stream rng = Stream::derive(4, Purpose::user, 0);
  for (int t = 0; t < 10; ++t) {
    VectorD v(3);
    for (Eigen::Index i = 0; i < 3; ++i) v[i] = 2 * rng.normal();
    std::vector<double> terms;
    for (std::uint64_t s = 0; s < 16; ++s) terms.push_back(-m.energy(v, bits(s, 4)));
    EXPECT_NEAR(m.free_energy(v), -log_sum_exp(terms), 1e-12);
  }
}

TEST(GaussianRbm, GradientAndLaplacianMatchFiniteDifferences) {
  const GrbmFreeEnergy f(random_model(4, 5, 1.0, 5));
  Stream rng = Stream::derive(6, Purpose::user, 0);
  // Central differences: truncation O(ε²)·|F'''| ≈ 1e-10 at ε = 1e-5, rounding
  // ≈ 1e-16·|F|/ε ≈ 1e-10; second differences at ε = 1e-4: truncation ≈ 1e-8, rounding
  // ≈ 1e-16·|F|/ε² ≈ 1e-7. Tolerances 1e-7 and 1e-5 leave a margin of 100.
  for (int t = 0; t < 5; ++t) {
    VectorD v(4), g(4);
    for (Eigen::Index i = 0; i < 4; ++i) v[i] = rng.normal();
    const double e = f.energy_and_gradient(v, g);
    EXPECT_NEAR(e, f.energy_of(v), 1e-13);
    double lap = 0;
    for (Eigen::Index i = 0; i < 4; ++i) {
      VectorD vp = v, vm = v;
      vp[i] += 1e-5;
      vm[i] -= 1e-5;
      EXPECT_NEAR(g[i], (f.energy_of(vp) - f.energy_of(vm)) / 2e-5, 1e-7) << "coordinate " << i;
      vp[i] = v[i] + 1e-4;
      vm[i] = v[i] - 1e-4;
      lap += (f.energy_of(vp) - 2 * e + f.energy_of(vm)) / 1e-8;
    }
    EXPECT_NEAR(f.laplacian(v), lap, 1e-5);
  }
}

TEST(GaussianRbm, GrayCodeEnumerationEqualsTheDirectSum) {
  // m = 9: 64 blocks of 8 states each walked in Gray-code order.
  for (std::size_t k : {1u, 3u, 6u, 9u}) {
    const GaussianRbm m = random_model(5, k, 0.7, 10 + k);
    EXPECT_NEAR(grbm_exact_log_z(m), direct_log_z(m), 1e-11) << "m = " << k;
  }
}

/// ∫ exp(−F(v)) over a box by the trapezoid rule with spacing σ_i/20 on each axis, from
/// the lowest component mean − 12σ_i to the highest + 12σ_i. The integrand is a mixture
/// of Gaussians with standard deviations σ_i: the mass outside the box is below
/// e^−72 ≈ 5e-32 of the total, and for Gaussians the trapezoid rule's error decays as
/// exp(−2π²(σ/spacing)²) = exp(−7896) — the only error left is rounding (≈ 1e-13).
double log_integral(const GaussianRbm& m) {
  const std::size_t n = m.n_visible();
  std::vector<double> lo(n), step(n);
  std::vector<int> count(n);
  for (std::size_t i = 0; i < n; ++i) {
    double a = std::numeric_limits<double>::infinity(), b = -a;
    for (std::uint64_t s = 0; s < (std::uint64_t(1) << m.n_hidden()); ++s) {
      const double mu = m.visible_bias[Eigen::Index(i)] + m.weights.row(Eigen::Index(i)).dot(bits(s, m.n_hidden()));
      a = std::min(a, mu);
      b = std::max(b, mu);
    }
    const double sd = m.visible_sigma[Eigen::Index(i)];
    step[i] = sd / 20;
    lo[i] = a - 12 * sd;
    count[i] = int(std::ceil((b - a + 24 * sd) / step[i])) + 1;
  }
  const double f0 = m.free_energy(VectorD(m.visible_bias));  // scale, against overflow
  long double sum = 0;
  VectorD v = VectorD::Zero(Eigen::Index(n));
  if (n == 1) {
    for (int a = 0; a < count[0]; ++a) {
      v[0] = lo[0] + a * step[0];
      sum += std::exp(f0 - m.free_energy(v));
    }
    return -f0 + std::log(double(sum) * step[0]);
  }
  for (int a = 0; a < count[0]; ++a)
    for (int b = 0; b < count[1]; ++b) {
      v[0] = lo[0] + a * step[0];
      v[1] = lo[1] + b * step[1];
      sum += std::exp(f0 - m.free_energy(v));
    }
  return -f0 + std::log(double(sum) * step[0] * step[1]);
}

TEST(GaussianRbm, ExactLogZEqualsNumericalIntegration) {
  // (End points carry weight 1 instead of ½; their values are below e^−72 of the peak.)
  const GaussianRbm one = random_model(1, 2, 1.5, 21);
  EXPECT_NEAR(grbm_exact_log_z(one), log_integral(one), 1e-10);
  const GaussianRbm two = random_model(2, 3, 1.2, 22);
  EXPECT_NEAR(grbm_exact_log_z(two), log_integral(two), 1e-10);
  // Strong interactions relative to σ (a multimodal marginal).
  GaussianRbm sharp = two;
  sharp.visible_sigma *= 0.3;
  EXPECT_NEAR(grbm_exact_log_z(sharp), log_integral(sharp), 1e-10);
  // Can fail: the closed form of the other convention (v_i/σ_i in the interaction, i.e.
  // W' = diag(σ) W) misses the integral of this model's exp(−F) by far more than 1e-10.
  GaussianRbm other = sharp;
  other.weights = sharp.visible_sigma.asDiagonal() * sharp.weights;
  EXPECT_GT(std::abs(grbm_exact_log_z(other) - log_integral(sharp)), 0.1);
}

TEST(GaussianRbm, HiddenMarginalAndMomentsAreConsistent) {
  const GaussianRbm m = random_model(3, 4, 1.0, 30);
  const VectorD logp = grbm_hidden_log_marginal(m);
  ASSERT_EQ(logp.size(), 16);
  EXPECT_NEAR(logp.array().exp().sum(), 1.0, 1e-14);
  // log p(h) = −F_h − log Z with F_h the closed-form integral over v.
  const double lz = grbm_exact_log_z(m);
  for (std::uint64_t s = 0; s < 16; ++s) {
    const VectorD h = bits(s, 4);
    const VectorD a = m.weights * h;
    double x = m.hidden_bias.dot(h);
    for (Eigen::Index i = 0; i < 3; ++i)
      x += a[i] * (2 * m.visible_bias[i] + a[i]) / (2 * m.visible_sigma[i] * m.visible_sigma[i]) +
           std::log(std::sqrt(2 * std::numbers::pi) * m.visible_sigma[i]);
    EXPECT_NEAR(logp[Eigen::Index(s)], x - lz, 1e-12);
  }
  const GrbmMoments mo = grbm_exact_moments(m);
  EXPECT_TRUE(mo.covariance.isApprox(mo.covariance.transpose(), 1e-15));
  for (Eigen::Index i = 0; i < 3; ++i) EXPECT_GT(mo.covariance(i, i), m.visible_sigma[i] * m.visible_sigma[i] - 1e-15);
}

// ---------------------------------------------------------------------------------------
// Monte Carlo

/// The statistics checked: E[v_i], E[v_i v_j] (i <= j) of a 2-visible model.
struct Stats {
  std::vector<std::string> names = {"E[v1]", "E[v2]", "E[v1^2]", "E[v1 v2]", "E[v2^2]"};
  static std::vector<double> of(const Eigen::Ref<const VectorD>& v) {
    return {v[0], v[1], v[0] * v[0], v[0] * v[1], v[1] * v[1]};
  }
  static std::vector<double> truth(const GrbmMoments& mo) {
    return {mo.mean[0], mo.mean[1], mo.covariance(0, 0) + mo.mean[0] * mo.mean[0],
            mo.covariance(0, 1) + mo.mean[0] * mo.mean[1], mo.covariance(1, 1) + mo.mean[1] * mo.mean[1]};
  }
};

TEST(GrbmGibbs, ChainsMatchTheExactMixtureMoments) {
  GaussianRbm m = random_model(2, 3, 1.0, 40);
  m.visible_sigma << 0.5, 1.8;  // unequal scales, so a σ-convention error shows
  const GrbmMoments mo = grbm_exact_moments(m);
  const std::size_t chains = 100, burn = 50, draws = 400;
  GrbmChains c = GrbmChains::from_visible_bias(m, chains, 41);
  const Exec ex(1);  // one sweep per call: threads would only add start-up cost
  grbm_gibbs_sample(m, c, burn, ex);
  std::vector<MatrixD> values(5, MatrixD(Eigen::Index(chains), Eigen::Index(draws)));
  for (std::size_t t = 0; t < draws; ++t) {
    grbm_gibbs_sample(m, c, 1, ex);
    for (std::size_t r = 0; r < chains; ++r) {
      const auto s = Stats::of(c.v.row(Eigen::Index(r)).transpose());
      for (std::size_t k = 0; k < 5; ++k) values[k](Eigen::Index(r), Eigen::Index(t)) = s[k];
    }
  }
  // Five checks at z = 4.42 (two-sided 1e-5 each): family false-failure rate <= 5e-5.
  const auto truth = Stats::truth(mo);
  // The other convention (v_i/σ_i in the interaction, E[v | h] = b + σ ⊙ W h) is the
  // model with W' = diag(σ) W: its moments must be rejected by the same check.
  GaussianRbm other = m;
  other.weights = m.visible_sigma.asDiagonal() * m.weights;
  const auto wrong = Stats::truth(grbm_exact_moments(other));
  double worst_wrong = 0;
  for (std::size_t k = 0; k < 5; ++k) {
    const double mean = values[k].mean(), se = mcse_mean(values[k]);
    EXPECT_LE(std::abs(mean - truth[k]), kZ * se) << Stats().names[k] << " mean " << mean << " truth " << truth[k];
    worst_wrong = std::max(worst_wrong, std::abs(mean - wrong[k]) / se);
  }
  EXPECT_GT(worst_wrong, kZ) << "the check cannot tell the two conventions apart";
}

TEST(GrbmGibbs, OneAndTwoThreadsGiveIdenticalBits) {
  const GaussianRbm m = random_model(5, 7, 0.8, 50);
  GrbmChains a = GrbmChains::from_visible_bias(m, 230, 51), b = a;
  grbm_gibbs_sample(m, a, 5, Exec(1));
  grbm_gibbs_sample(m, b, 5, Exec(2));
  EXPECT_TRUE((a.v.array() == b.v.array()).all());
  EXPECT_TRUE((a.h.array() == b.h.array()).all());
  // Chain 7 alone on its own stream gives the same row: rows do not share draws.
  GrbmChains one;
  one.v = GrbmChains::from_visible_bias(m, 230, 51).v.row(7);
  one.h = MatrixD::Zero(1, 7);
  one.streams = {Stream::root(51).derive(Purpose::gibbs, 7)};
  for (int i = 0; i < 5; ++i) one.streams[0].normal();  // past the 5 start normals
  grbm_gibbs_sample(m, one, 5, Exec(1));
  // Equal up to rounding: a one-row block goes through a matrix-vector product, whose sums
  // may be ordered differently from a block's matrix product (AVX2 builds). Drawing from
  // another chain's stream would change the row entirely.
  EXPECT_LT((one.v.row(0) - a.v.row(7)).lpNorm<Eigen::Infinity>(), 1e-12);

  const GaussianRbm big = random_model(4, 12, 0.5, 52);
  EXPECT_EQ(grbm_exact_log_z(big, Exec(1)), grbm_exact_log_z(big, Exec(2)));
  const GrbmSamples s1 = grbm_exact_samples(m, 300, 53, Exec(1)), s2 = grbm_exact_samples(m, 300, 53, Exec(2));
  EXPECT_TRUE((s1.visible.array() == s2.visible.array()).all());
  EXPECT_TRUE((s1.hidden.array() == s2.hidden.array()).all());
}

TEST(GrbmExactSamples, MomentsMatchTheExactMixture) {
  GaussianRbm m = random_model(2, 3, 1.0, 60);
  m.visible_sigma << 0.5, 1.8;
  const GrbmMoments mo = grbm_exact_moments(m);
  const std::size_t n = 20000;
  const GrbmSamples s = grbm_exact_samples(m, n, 61, Exec(2));
  const auto truth = Stats::truth(mo);
  // Independent draws: SE = sample sd / √n. 5 + 3 checks at z = 4.42: family rate <= 8e-5.
  for (std::size_t k = 0; k < 5; ++k) {
    VectorD x = VectorD::Zero(Eigen::Index(n));
    for (std::size_t r = 0; r < n; ++r) x[Eigen::Index(r)] = Stats::of(s.visible.row(Eigen::Index(r)).transpose())[k];
    const double mean = x.mean(), se = std::sqrt((x.array() - mean).square().sum() / double(n - 1) / double(n));
    EXPECT_LE(std::abs(mean - truth[k]), kZ * se) << Stats().names[k];
  }
  for (Eigen::Index j = 0; j < 3; ++j) {
    const double p = mo.hidden_mean[j], se = std::sqrt(p * (1 - p) / double(n));
    EXPECT_LE(std::abs(s.hidden.col(j).mean() - p), kZ * se) << "E[h" << j << "]";
  }
  // v given h is N(b + W h, σ²): the residuals standardised by σ have variance 1.
  MatrixD z = s.visible - s.hidden * m.weights.transpose();
  z.rowwise() -= m.visible_bias.transpose();
  z = z * m.visible_sigma.cwiseInverse().asDiagonal();
  for (Eigen::Index i = 0; i < 2; ++i) {
    const double var = z.col(i).squaredNorm() / double(n);  // E z² = 1, Var z² = 2
    EXPECT_LE(std::abs(var - 1), kZ * std::sqrt(2.0 / double(n))) << "residual variance " << i;
  }
}

// ---------------------------------------------------------------------------------------
// Errors

TEST(GaussianRbm, BadInputIsRejectedWithItsMessage) {
  GaussianRbm m = hand_model();
  m.visible_sigma[1] = 0;
  expect_error([&] { m.validate("model"); }, Exit::data, "model: visible_sigma[1] must be > 0, got 0");
  m.visible_sigma[1] = -2;
  expect_error([&] { grbm_exact_log_z(m); }, Exit::data, "grbm_exact_log_z: visible_sigma[1] must be > 0, got -2");
  m = hand_model();
  m.visible_sigma.resize(3);
  m.visible_sigma.setOnes();
  expect_error([&] { m.validate("model"); }, Exit::data,
               "model: visible_sigma has 3 entries but weights has 2 rows (n_visible)");
  m = hand_model();
  m.weights(1, 0) = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { GrbmFreeEnergy f(m); }, Exit::data, "GrbmFreeEnergy: weights has a non-finite value nan at flat index 2");
  m = hand_model();
  m.visible_sigma[0] = std::numeric_limits<double>::infinity();
  expect_error([&] { m.validate("model"); }, Exit::data, "model: visible_sigma has a non-finite value inf at flat index 0");
  m = hand_model();
  m.hidden_bias.resize(3);
  expect_error([&] { m.validate("model"); }, Exit::data, "model: hidden_bias has 3 entries but weights has 2 columns (n_hidden)");
  expect_error([&] { GaussianRbm().validate("model"); }, Exit::data, "model: weights must be non-empty, got shape (0, 0)");

  const GaussianRbm h = hand_model();
  expect_error([&] { h.free_energy(VectorD::Zero(3)); }, Exit::usage,
               "GaussianRbm::free_energy: v has 3 entries but the model has 2 visible units");
  expect_error([&] { h.energy(VectorD::Zero(2), VectorD::Zero(1)); }, Exit::usage,
               "GaussianRbm::energy: h has 1 entries but the model has 2 hidden units");
  VectorD g(1);
  expect_error([&] { h.free_energy_and_gradient(VectorD::Zero(2), g); }, Exit::usage,
               "GaussianRbm::free_energy_and_gradient: grad has 1 entries but the model has 2 visible units");
  expect_error([&] { grbm_exact_log_z(GaussianRbm(1, 31)); }, Exit::usage,
               "grbm_exact_log_z: enumeration is limited to 30 hidden units, the model has 31");
  expect_error([&] { grbm_exact_samples(GaussianRbm(1, 21), 5, 1); }, Exit::usage,
               "grbm_exact_samples: the hidden marginal is tabulated for at most 20 hidden units (2^20 states), the "
               "model has 21");
  GrbmChains c = GrbmChains::from_visible_bias(h, 4, 1);
  const GaussianRbm wider(3, 2);
  expect_error([&] { grbm_gibbs_sample(wider, c, 1, Exec(1)); }, Exit::usage,
               "grbm_gibbs_sample: chains hold v [4, 2], h [4, 2] and 4 streams; the model needs 3 visible and 2 "
               "hidden units and one stream per chain");
  expect_error([&] { GrbmChains::from_visible_bias(h, 0, 1); }, Exit::usage,
               "GrbmChains::from_visible_bias: chains must be >= 1, got 0");
}

}  // namespace
}  // namespace logz
