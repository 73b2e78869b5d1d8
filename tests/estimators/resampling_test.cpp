// Resampling schemes. Exact first: systematic and stratified ancestors recomputed from
// the documented uniform draws by another route (ceil of shifted CDFs; a binary search),
// the number of stream words each scheme draws, residual resampling's deterministic
// counts, degenerate weights. Then, over many draws, every scheme is unbiased
// (E[N_i] = M W_i) and its count variances match their exact values, which for
// systematic, stratified and residual resampling lie below multinomial's; tolerances are
// z·SE with the false-failure rates written next to them.
#include "logz/estimators/resampling.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "support/expect_error.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

const std::vector<Resampling> kSchemes{Resampling::multinomial, Resampling::systematic, Resampling::stratified,
                                       Resampling::residual};

std::vector<double> test_weights() {
  // Uneven weights with a zero in the middle and M W_i both below and above 1 for M = 10.
  std::vector<double> w{0.31, 0.02, 0.0, 0.17, 0.255, 0.045, 0.2};
  return w;
}

std::vector<double> cumulative(const std::vector<double>& w) {
  std::vector<double> c(w.size());
  double s = 0;
  for (std::size_t i = 0; i < w.size(); ++i) c[i] = (s += w[i]);
  return c;
}

std::vector<std::size_t> counts_of(const std::vector<std::size_t>& a, std::size_t n) {
  std::vector<std::size_t> c(n, 0);
  for (std::size_t i : a) ++c[i];
  return c;
}

TEST(Resampling, NamesRoundTripAndUnknownNamesFail) {
  for (Resampling s : kSchemes) EXPECT_EQ(resampling_by_name(resampling_name(s)), s);
  EXPECT_EQ(resampling_name(Resampling::systematic), "systematic");
  test::expect_error([] { resampling_by_name("bootstrap"); }, Exit::usage,
                     "resampling_by_name: unknown resampling scheme 'bootstrap' (expected multinomial, systematic, "
                     "stratified or residual)");
}

TEST(Resampling, BadInputMessages) {
  std::vector<std::size_t> a(3);
  Stream rng = Stream::root(1);
  const std::vector<double> none;
  test::expect_error([&] { resample(Resampling::systematic, none, rng, a); }, Exit::usage, "resample: no weights");
  const std::vector<double> ok{0.5, 0.5};
  test::expect_error([&] { resample(Resampling::systematic, ok, rng, std::span<std::size_t>()); }, Exit::usage,
                     "resample: no ancestors to draw");
  const std::vector<double> neg{0.5, -0.25, 0.75};
  test::expect_error([&] { resample(Resampling::residual, neg, rng, a); }, Exit::data,
                     "resample: weight 1 is -0.25 (weights must be finite and >= 0)");
  const std::vector<double> nan{0.5, std::nan(""), 0.5};
  test::expect_error([&] { resample(Resampling::multinomial, nan, rng, a); }, Exit::data,
                     "resample: weight 1 is nan (weights must be finite and >= 0)");
  const std::vector<double> unnormalized{1.0, 1.0};
  test::expect_error([&] { resample(Resampling::stratified, unnormalized, rng, a); }, Exit::data,
                     "resample: the weights sum to 2, not 1");
}

TEST(Resampling, SystematicCountsFromTheDocumentedUniform) {
  // With U the stream's first uniform double, (k + U)/M < c_i for exactly
  // ceil(M c_i − U) strata k, so N_i = ceil(M c_i − U) − ceil(M c_{i−1} − U).
  const std::vector<double> w = test_weights();
  const std::vector<double> c = cumulative(w);
  for (std::size_t m : {1u, 5u, 7u, 10u, 23u})
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
      Stream rng = Stream::root(seed), copy = rng;
      std::vector<std::size_t> a(m);
      resample(Resampling::systematic, w, rng, a);
      EXPECT_EQ(rng.word(), copy.word() + 2);  // one uniform double: two 32-bit words
      const double u = copy.uniform_double();
      std::vector<std::size_t> expected(w.size());
      double below = 0;
      for (std::size_t i = 0; i < w.size(); ++i) {
        const double upto = std::min<double>(double(m), std::ceil(double(m) * c[i] - u));
        expected[i] = std::size_t(upto - below);
        below = upto;
      }
      EXPECT_EQ(counts_of(a, w.size()), expected) << "m " << m << " seed " << seed;
      EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
      // Each count is floor(M W_i) or ceil(M W_i).
      for (std::size_t i = 0; i < w.size(); ++i) {
        const double x = double(m) * w[i];
        EXPECT_GE(double(expected[i]), std::floor(x) - 1e-12);
        EXPECT_LE(double(expected[i]), std::ceil(x) + 1e-12);
      }
    }
}

TEST(Resampling, StratifiedAncestorsFromTheDocumentedUniforms) {
  const std::vector<double> w = test_weights();
  const std::vector<double> c = cumulative(w);
  for (std::size_t m : {1u, 7u, 12u})
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
      Stream rng = Stream::root(seed), copy = rng;
      std::vector<std::size_t> a(m);
      resample(Resampling::stratified, w, rng, a);
      EXPECT_EQ(rng.word(), copy.word() + 2 * m);
      for (std::size_t k = 0; k < m; ++k) {
        const double t = (double(k) + copy.uniform_double()) / double(m);
        // The first index whose cumulative weight exceeds t.
        const std::size_t i = std::size_t(std::upper_bound(c.begin(), c.end(), t) - c.begin());
        EXPECT_EQ(a[k], i) << "m " << m << " seed " << seed << " k " << k;
      }
    }
}

TEST(Resampling, MultinomialDrawsSortedAncestorsFromMPlusOneUniforms) {
  const std::vector<double> w = test_weights();
  for (std::size_t m : {1u, 9u, 40u}) {
    Stream rng = Stream::root(3), copy = rng;
    std::vector<std::size_t> a(m);
    resample(Resampling::multinomial, w, rng, a);
    EXPECT_EQ(rng.word(), copy.word() + 2 * (m + 1));
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    for (std::size_t i : a) EXPECT_NE(i, 2u);  // weight 0
  }
}

TEST(Resampling, ResidualKeepsTheDeterministicCounts) {
  // M W_i integers: the counts are exactly M W_i and nothing is drawn.
  {
    const std::vector<double> w{0.5, 0.25, 0.0, 0.25};
    Stream rng = Stream::root(4), copy = rng;
    std::vector<std::size_t> a(8);
    resample(Resampling::residual, w, rng, a);
    EXPECT_EQ(a, (std::vector<std::size_t>{0, 0, 0, 0, 1, 1, 3, 3}));
    EXPECT_EQ(rng.word(), copy.word());
  }
  // Otherwise floor(M W_i) copies always, and R + 1 uniform doubles for the other R.
  const std::vector<double> w = test_weights();
  const std::size_t m = 10;  // floors 3, 0, 0, 1, 2, 0, 2: R = 2
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Stream rng = Stream::root(seed), copy = rng;
    std::vector<std::size_t> a(m);
    resample(Resampling::residual, w, rng, a);
    EXPECT_EQ(rng.word(), copy.word() + 2 * 3);
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    const std::vector<std::size_t> n = counts_of(a, w.size());
    for (std::size_t i = 0; i < w.size(); ++i) {
      EXPECT_GE(n[i], std::size_t(std::floor(double(m) * w[i])));
      EXPECT_LE(n[i], std::size_t(std::floor(double(m) * w[i])) + 2);
    }
    EXPECT_EQ(n[2], 0u);
  }
}

TEST(Resampling, DegenerateWeightsGiveOneAncestor) {
  for (Resampling s : kSchemes) {
    SCOPED_TRACE(std::string(resampling_name(s)));
    for (std::size_t hot : {0u, 3u, 5u}) {
      std::vector<double> w(6, 0.0);
      w[hot] = 1.0;
      Stream rng = Stream::root(hot + 1);
      std::vector<std::size_t> a(11);
      resample(s, w, rng, a);
      EXPECT_EQ(a, std::vector<std::size_t>(11, hot));
    }
    // One weight: every ancestor is 0; weights a rounding error off 1 are accepted.
    const std::vector<double> one{1.0}, near{0.5, 0.5 + 5e-9};
    Stream rng = Stream::root(9);
    std::vector<std::size_t> a(4);
    resample(s, one, rng, a);
    EXPECT_EQ(a, std::vector<std::size_t>(4, 0));
    resample(s, near, rng, a);
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  }
}

/// Exact count variances Var N_i of each scheme for weights w and M draws.
std::vector<double> exact_count_variance(Resampling s, const std::vector<double>& w, std::size_t m) {
  const double md = double(m);
  std::vector<double> v(w.size(), 0.0);
  const std::vector<double> c = cumulative(w);
  std::size_t fixed = 0;
  for (double wi : w) fixed += std::size_t(std::floor(md * wi));
  const double rest = double(m - fixed);
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double x = md * w[i], f = x - std::floor(x);
    switch (s) {
      case Resampling::multinomial: v[i] = md * w[i] * (1 - w[i]); break;
      case Resampling::systematic: v[i] = f * (1 - f); break;
      case Resampling::residual: v[i] = rest > 0 ? rest * (f / rest) * (1 - f / rest) : 0.0; break;
      case Resampling::stratified: {
        // N_i = Σ_k B_k, independent Bernoullis: stratum k's uniform falls in
        // [c_{i−1}, c_i) with probability M · |[c_{i−1}, c_i) ∩ [k/M, (k+1)/M)|.
        const double lo = i == 0 ? 0.0 : c[i - 1], hi = c[i];
        for (std::size_t k = 0; k < m; ++k) {
          const double a = std::max(lo, double(k) / md), b = std::min(hi, double(k + 1) / md);
          const double p = b > a ? md * (b - a) : 0.0;
          v[i] += p * (1 - p);
        }
        break;
      }
    }
  }
  return v;
}

TEST(Resampling, UnbiasedWithExactCountVariancesBelowMultinomial) {
  const std::vector<double> w = test_weights();
  const std::size_t n = w.size(), draws = 40000;
  // Per scheme and size 2n checks (means and variances), Bonferroni: false-failure rate
  // 1e-4 for each scheme and size.
  const double z = test::normal_two_sided_z(1e-4 / double(2 * n));
  for (std::size_t m : {7u, 10u}) {
    const std::vector<double> multinomial_var = exact_count_variance(Resampling::multinomial, w, m);
    for (Resampling s : kSchemes) {
      SCOPED_TRACE(std::string(resampling_name(s)) + " m=" + std::to_string(m));
      Stream rng = Stream::derive(17, Purpose::user, m);
      std::vector<std::vector<double>> counts(draws, std::vector<double>(n));
      std::vector<std::size_t> a(m);
      for (std::size_t t = 0; t < draws; ++t) {
        resample(s, w, rng, a);
        const std::vector<std::size_t> cnt = counts_of(a, n);
        for (std::size_t i = 0; i < n; ++i) counts[t][i] = double(cnt[i]);
      }
      const std::vector<double> var = exact_count_variance(s, w, m);
      double total_var = 0, total_multinomial = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double expected = double(m) * w[i];
        double mean = 0;
        for (std::size_t t = 0; t < draws; ++t) mean += counts[t][i];
        mean /= double(draws);
        // E[N_i] = M W_i: the standard error from the exact variance.
        EXPECT_NEAR(mean, expected, z * std::sqrt(var[i] / double(draws)) + 1e-12) << "i " << i;
        // The sample variance (about the known mean) against the exact variance, with the
        // standard error sqrt((μ4 − σ⁴) / T) from the sample's fourth central moment.
        double v = 0, m4 = 0;
        for (std::size_t t = 0; t < draws; ++t) {
          const double d = counts[t][i] - expected;
          v += d * d;
          m4 += d * d * d * d;
        }
        v /= double(draws);
        m4 /= double(draws);
        const double se_v = std::sqrt(std::max(0.0, m4 - v * v) / double(draws));
        EXPECT_NEAR(v, var[i], z * se_v + 1e-12) << "i " << i;
        EXPECT_LE(var[i], multinomial_var[i] + 1e-12) << "i " << i;
        total_var += var[i];
        total_multinomial += multinomial_var[i];
      }
      if (s != Resampling::multinomial) {
        EXPECT_LT(total_var, 0.5 * total_multinomial);
      }
    }
  }
}

TEST(Resampling, TheVarianceCheckCanFail) {
  // Systematic counts do not have multinomial variances: the check above, given the wrong
  // exact variance, fails for some count.
  const std::vector<double> w = test_weights();
  const std::size_t n = w.size(), m = 10, draws = 40000;
  const double z = test::normal_two_sided_z(1e-4 / double(2 * n));
  const std::vector<double> wrong = exact_count_variance(Resampling::multinomial, w, m);
  Stream rng = Stream::derive(18, Purpose::user, 0);
  std::vector<double> v(n, 0), m4(n, 0);
  std::vector<std::size_t> a(m);
  for (std::size_t t = 0; t < draws; ++t) {
    resample(Resampling::systematic, w, rng, a);
    const std::vector<std::size_t> cnt = counts_of(a, n);
    for (std::size_t i = 0; i < n; ++i) {
      const double d = double(cnt[i]) - double(m) * w[i];
      v[i] += d * d / double(draws);
      m4[i] += d * d * d * d / double(draws);
    }
  }
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < n; ++i)
    rejected += std::abs(v[i] - wrong[i]) > z * std::sqrt(std::max(0.0, m4[i] - v[i] * v[i]) / double(draws)) + 1e-12;
  EXPECT_GE(rejected, 4u);
}

}  // namespace
}  // namespace logz
