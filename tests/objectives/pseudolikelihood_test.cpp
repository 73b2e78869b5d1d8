// Pseudolikelihood: the objective against a direct evaluation of its definition, the
// gradient against finite differences, precision and thread invariance, recovery of a
// known model with error ~ 1/√N, and bad input.
#include "logz/objectives/pseudolikelihood.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "logz/core/rng.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

// Random data with some absent sites (state q) and uneven weights.
PottsData random_data(std::uint64_t seed, std::size_t n, std::size_t l, std::size_t q, bool absent) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  PottsData d;
  d.q = q;
  d.states.resize(Eigen::Index(n), Eigen::Index(l));
  d.weights.resize(Eigen::Index(n));
  for (std::size_t s = 0; s < n; ++s) {
    d.weights[Eigen::Index(s)] = 0.2 + rng.uniform_double();
    for (std::size_t i = 0; i < l; ++i) {
      std::size_t v = std::size_t(rng.below(std::uint32_t(q)));
      if (absent && rng.uniform_double() < 0.15) v = q;
      d.states(Eigen::Index(s), Eigen::Index(i)) = std::uint8_t(v);
    }
  }
  return d;
}

VectorD random_theta(std::uint64_t seed, std::size_t n) {
  Stream rng = Stream::derive(seed, Purpose::user, 1);
  VectorD t(static_cast<Eigen::Index>(n));
  for (Eigen::Index k = 0; k < t.size(); ++k) t[k] = 0.5 * rng.normal();
  return t;
}

// The definition, term by term, with the couplings read from the layout documented in
// the header (independent index arithmetic).
double direct_objective(const PottsData& d, const VectorD& th, PlVariant v, double lh, double le) {
  const std::size_t n = std::size_t(d.states.rows()), l = std::size_t(d.states.cols()), q = d.q;
  auto block = [&](std::size_t i, std::size_t j) -> const double* {
    std::size_t k = 0;
    if (v == PlVariant::symmetric) {
      for (std::size_t a = 0; a < l; ++a)
        for (std::size_t b = a + 1; b < l; ++b, ++k)
          if (a == i && b == j) return th.data() + l * q + k * q * q;
    } else {
      for (std::size_t a = 0; a < l; ++a)
        for (std::size_t b = 0; b < l; ++b)
          if (a != b) {
            if (a == i && b == j) return th.data() + l * q + k * q * q;
            ++k;
          }
    }
    return nullptr;
  };
  long double f = 0;
  std::vector<long double> u(q);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t i = 0; i < l; ++i) {
      const std::size_t xi = d.states(Eigen::Index(s), Eigen::Index(i));
      if (xi == q) continue;
      for (std::size_t a = 0; a < q; ++a) {
        u[a] = th[Eigen::Index(i * q + a)];
        for (std::size_t j = 0; j < l; ++j) {
          const std::size_t xj = d.states(Eigen::Index(s), Eigen::Index(j));
          if (j == i || xj == q) continue;
          if (v == PlVariant::asymmetric) u[a] += block(i, j)[a * q + xj];
          else if (i < j) u[a] += block(i, j)[a * q + xj];
          else u[a] += block(j, i)[xj * q + a];
        }
      }
      long double z = 0;
      for (std::size_t a = 0; a < q; ++a) z += std::exp(u[a]);
      f -= d.weights[Eigen::Index(s)] * (u[xi] - std::log(z));
    }
  for (std::size_t k = 0; k < l * q; ++k) f += lh * th[Eigen::Index(k)] * th[Eigen::Index(k)];
  for (Eigen::Index k = Eigen::Index(l * q); k < th.size(); ++k) f += le * th[k] * th[k];
  return double(f);
}

TEST(Pseudolikelihood, ObjectiveMatchesItsDefinition) {
  for (PlVariant v : {PlVariant::symmetric, PlVariant::asymmetric})
    for (bool absent : {false, true}) {
      const PottsData d = random_data(3, 60, 7, 4, absent);
      PseudolikelihoodObjective f(d, v, PlPrecision::float64, 0.3, 0.7, Exec(1));
      const VectorD th = random_theta(5, f.num_parameters());
      VectorD g;
      const double fx = f(th, g);
      const double ref = direct_objective(d, th, v, 0.3, 0.7);
      EXPECT_NEAR(fx, ref, 1e-11 * std::abs(ref)) << int(v) << absent;
      EXPECT_NEAR(f.last_neg_log_pl(), direct_objective(d, th, v, 0, 0), 1e-11 * std::abs(ref));
    }
}

TEST(Pseudolikelihood, GradientMatchesFiniteDifferences) {
  // 1,100 sequences: three blocks of the scatter's state runs, the last one partial.
  for (std::size_t n : {40, 1100}) {
    for (PlVariant v : {PlVariant::symmetric, PlVariant::asymmetric}) {
      const PottsData d = random_data(7, n, 5, 3, true);
      PseudolikelihoodObjective f(d, v, PlPrecision::float64, 0.2, 0.5, Exec(1));
      const VectorD th = random_theta(11, f.num_parameters());
      VectorD g, scratch;
      f(th, g);
      const double h = 1e-5;
      for (Eigen::Index k = 0; k < th.size(); ++k) {
        VectorD tp = th, tm = th;
        tp[k] += h, tm[k] -= h;
        const double fd = (f(tp, scratch) - f(tm, scratch)) / (2 * h);
        // Central differences: truncation O(h²·f'''), rounding O(ε|f|/h): 1e-9 (40 rows), 1e-7 (1,100).
        EXPECT_NEAR(g[k], fd, 1e-6 * (1 + std::abs(fd)))
            << n << " sequences, variant " << int(v) << ", parameter " << k;
      }
    }
  }
}

TEST(Pseudolikelihood, SinglePrecisionAgreesWithDouble) {
  const PottsData d = random_data(13, 300, 40, 6, true);
  PseudolikelihoodObjective f64(d, PlVariant::symmetric, PlPrecision::float64, 0.01, 0.1, Exec(1));
  PseudolikelihoodObjective f32(d, PlVariant::symmetric, PlPrecision::float32, 0.01, 0.1, Exec(1));
  const VectorD th = random_theta(17, f64.num_parameters()) * 0.2;
  VectorD g64, g32;
  const double a = f64(th, g64), b = f32(th, g32);
  // Float sums of ~40 terms per potential: relative error ~ 40·6e-8 per term.
  EXPECT_NEAR(a, b, 1e-5 * std::abs(a));
  EXPECT_LT((g64 - g32).norm(), 1e-4 * g64.norm());
}

TEST(Pseudolikelihood, ThreadCountDoesNotChangeBits) {
  // 60 sites × q 5: three tiles, the tasks spread over the threads.
  const PottsData d = random_data(19, 300, 60, 5, true);
  for (PlPrecision p : {PlPrecision::float64, PlPrecision::float32}) {
    PseudolikelihoodObjective f1(d, PlVariant::symmetric, p, 0.01, 0.1, Exec(1));
    PseudolikelihoodObjective f2(d, PlVariant::symmetric, p, 0.01, 0.1, Exec(2));
    const VectorD th = random_theta(23, f1.num_parameters());
    VectorD g1, g2;
    EXPECT_EQ(f1(th, g1), f2(th, g2));
    EXPECT_TRUE(g1 == g2);
  }
}

// Exact samples of a small Potts model by inverting its CDF over all q^L states.
Matrix<std::uint8_t> exact_samples(const Potts& m, std::size_t n, std::uint64_t seed) {
  const std::size_t l = m.n_sites(), q = m.num_states();
  std::size_t states = 1;
  for (std::size_t i = 0; i < l; ++i) states *= q;
  std::vector<double> cdf(states);
  double z = 0;
  VectorD x(static_cast<Eigen::Index>(l));
  for (std::size_t k = 0; k < states; ++k) {
    for (std::size_t i = 0, r = k; i < l; ++i, r /= q) x[Eigen::Index(i)] = double(r % q);
    z += std::exp(-m.energy(x));
    cdf[k] = z;
  }
  Stream rng = Stream::derive(seed, Purpose::user, 2);
  Matrix<std::uint8_t> out(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(l));
  for (std::size_t s = 0; s < n; ++s) {
    const std::size_t k = std::size_t(std::lower_bound(cdf.begin(), cdf.end(), rng.uniform_double() * z) - cdf.begin());
    for (std::size_t i = 0, r = std::min(k, states - 1); i < l; ++i, r /= q)
      out(Eigen::Index(s), Eigen::Index(i)) = std::uint8_t(r % q);
  }
  return out;
}

double coupling_error(Potts fit, Potts truth) {
  fit.zero_sum_gauge();
  truth.zero_sum_gauge();
  double ss = 0;
  std::size_t k = 0;
  for (std::size_t e = 0; e < truth.n_edges(); ++e)
    for (std::size_t c = 0; c < truth.block(e).size(); ++c, ++k) ss += std::pow(fit.block(e)[c] - truth.block(e)[c], 2);
  return ss / double(k);
}

TEST(Pseudolikelihood, RecoversAKnownModelWithErrorShrinkingLikeOneOverRootN) {
  // True model: 4 sites, q = 3, every pair coupled.
  Potts truth = Potts::dense(4, 3);
  truth.set_parameters(random_theta(29, truth.num_parameters()) * 1.2);
  PseudolikelihoodConfig cfg;
  cfg.lambda_h = cfg.lambda_e = 1e-3;  // bias O(λ/N): negligible next to the 1/N variance
  cfg.gradient_tolerance = 1e-8;
  cfg.relative_decrease = 0;
  // Mean squared coupling error over R replicate data sets at N and 16·N. Its ratio is
  // 16 in the limit; with R = 8 replicates of 24 gauge-free coupling degrees of freedom
  // each, the mean of the squared error has a relative SD of about sqrt(2/(8·24)) ≈ 0.10
  // (more with correlated entries: take 0.15), so the ratio has a relative SD near 0.21:
  // the window [16/2.3, 16·2.3] is beyond 4 SD on the log scale (false failure < 1e-4).
  const std::size_t n_small = 1000, replicates = 8;
  double mse_small = 0, mse_large = 0;
  for (std::size_t r = 0; r < replicates; ++r)
    for (std::size_t n : {n_small, 16 * n_small}) {
      PottsData d;
      d.q = 3;
      d.states = exact_samples(truth, n, 100 * r + n);
      d.weights = VectorD::Ones(Eigen::Index(n));
      const PseudolikelihoodFit fit = fit_pseudolikelihood(d, cfg, Exec(1));
      (n == n_small ? mse_small : mse_large) += coupling_error(fit.model, truth) / double(replicates);
    }
  EXPECT_GT(mse_small / mse_large, 16 / 2.3);
  EXPECT_LT(mse_small / mse_large, 16 * 2.3);
  // And the error itself is small: RMS coupling error at N = 16,000 well under 0.1.
  EXPECT_LT(std::sqrt(mse_large), 0.1);
}

TEST(Pseudolikelihood, FloatFitReachesTheDoubleOptimum) {
  // The float fit keeps θ, its gradient and the L-BFGS pairs in float. Both fits run to
  // the gradient test (the float one stops earlier, when its line search can no longer
  // decrease f) and are compared in double. The float kernel resolves f to about 1e-7
  // relative, so its line searches stop within that of the optimum: the float
  // optimum's objective may exceed the double one's by at most 1e-7 relative (measured:
  // 1.2e-9), and the double fit's own distance from the optimum, ‖∇f‖²/(2μ) with
  // μ >= 2·λe = 1, is far below the 1e-9 allowed the other way. The models agree to 5e-4
  // RMS over the parameters (measured: 5.5e-5).
  const PottsData d = random_data(41, 400, 10, 4, true);
  PseudolikelihoodConfig cfg;
  cfg.lambda_h = 0.01;
  cfg.lambda_e = 0.5;
  cfg.gradient_tolerance = 1e-4;  // x max(1, ‖θ‖); near where double's rounding of f stops
  cfg.relative_decrease = 0;
  const PseudolikelihoodFit f64 = fit_pseudolikelihood(d, cfg, Exec(1));
  cfg.precision = PlPrecision::float32;
  const PseudolikelihoodFit f32 = fit_pseudolikelihood(d, cfg, Exec(1));
  PseudolikelihoodObjective f(d, PlVariant::symmetric, PlPrecision::float64, cfg.lambda_h, cfg.lambda_e, Exec(1));
  VectorD g;
  const double at64 = f(f64.model.parameters(), g), at32 = f(f32.model.parameters(), g);
  EXPECT_EQ(f64.stopped_by, "gradient");
  EXPECT_LE(at32 - at64, 1e-7 * std::abs(at64)) << at32 << " vs " << at64 << ", float stopped by " << f32.stopped_by;
  EXPECT_GE(at32 - at64, -1e-9 * std::abs(at64));  // the double fit is at the optimum
  const VectorD diff = f32.model.parameters() - f64.model.parameters();
  EXPECT_LT(std::sqrt(diff.squaredNorm() / double(diff.size())), 5e-4);
}

TEST(Pseudolikelihood, AsymmetricVariantRecoversTheSameModel) {
  Potts truth = Potts::dense(4, 3);
  truth.set_parameters(random_theta(31, truth.num_parameters()));
  PottsData d;
  d.q = 3;
  d.states = exact_samples(truth, 20000, 7);
  d.weights = VectorD::Ones(20000);
  PseudolikelihoodConfig cfg;
  cfg.lambda_h = cfg.lambda_e = 1e-3;
  cfg.gradient_tolerance = 1e-8;
  cfg.relative_decrease = 0;
  cfg.variant = PlVariant::asymmetric;
  const double asym = coupling_error(fit_pseudolikelihood(d, cfg, Exec(1)).model, truth);
  cfg.variant = PlVariant::symmetric;
  const double sym = coupling_error(fit_pseudolikelihood(d, cfg, Exec(1)).model, truth);
  // Both consistent: mean squared error of order 1/N · O(10) per entry.
  EXPECT_LT(asym, 5e-3);
  EXPECT_LT(sym, 5e-3);
}

TEST(Pseudolikelihood, BadInput) {
  PottsData d = random_data(1, 10, 3, 3, false);
  d.states(2, 1) = 7;
  test::expect_error([&] { check_potts_data(d); }, Exit::data,
                     "pseudolikelihood: sequence 2 site 1 has state 7, beyond q = 3");
  d = random_data(1, 10, 3, 3, false);
  d.weights[4] = -1;
  test::expect_error([&] { check_potts_data(d); }, Exit::data,
                     "pseudolikelihood: weight 4 is -1, not finite and >= 0");
  d.weights = VectorD::Zero(10);
  test::expect_error([&] { check_potts_data(d); }, Exit::data, "pseudolikelihood: the weights sum to 0");
  PseudolikelihoodConfig cfg;
  cfg.lambda_e = -1;
  test::expect_error([&] { cfg.validate(); }, Exit::usage, "pseudolikelihood: lambda_e must be finite and >= 0, got -1");
  cfg = {};
  test::expect_error([&] { (void)pseudolikelihood_memory_bytes(1u << 20, std::size_t(1) << 40, 21, cfg); }, Exit::usage,
                     "pseudolikelihood: size overflows (24189255811072 x 23089744183296)");
}

TEST(Pseudolikelihood, ShardedOverFourRanksARankNeedsUnderAThirdOfTheMemory) {
  // L = 1,000, q = 21 in float (the fit of bench/RESULTS.md "Distributed"): each of 4
  // ranks holds a quarter of the optimiser's 15 vectors and two halos.
  PseudolikelihoodConfig cfg;
  cfg.precision = PlPrecision::float32;
  const double one = double(pseudolikelihood_memory_bytes(1000, 1000, 21, cfg));
  const double four = double(pseudolikelihood_memory_bytes(1000, 1000, 21, cfg, 4));
  EXPECT_GT(one, 15 * 4.0 * 21 * 21 * 1000 * 999 / 2);
  EXPECT_LT(four, one / 3);
  EXPECT_GT(four, one / 4);
}

TEST(Pseudolikelihood, RefusesAFitLargerThanMemoryBeforeAllocating) {
  // 20,000 sites of q = 21 need terabytes; the check fires before any allocation.
  PottsData d;
  d.q = 21;
  d.states = Matrix<std::uint8_t>::Zero(2, 20000);
  d.weights = VectorD::Ones(2);
  try {
    (void)fit_pseudolikelihood(d, PseudolikelihoodConfig{}, Exec(1));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::unavailable);
    EXPECT_NE(std::string(e.what()).find("pseudolikelihood: needs "), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace logz
