// Bootstrap intervals: replicates rebuilt by hand from their streams, percentile bounds as
// quantiles of the replicates, same bits for the same seed and for 1 or 2 threads, the
// bootstrap SE of a mean against its closed form, coverage of the mean of normal data
// over many seeds (binomial tolerance), log-mean-exp against the delta method, errors.
#include "logz/diagnostics/bootstrap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

std::vector<double> normal_sample(std::uint64_t seed, std::size_t n, double mean = 0, double sd = 1) {
  Stream s = Stream::derive(seed, Purpose::data, 0);
  std::vector<double> x(n);
  for (auto& v : x) v = mean + sd * s.normal();
  return x;
}

double sample_mean(std::span<const double> x) {
  double s = 0;
  for (double v : x) s += v;
  return s / double(x.size());
}

TEST(Bootstrap, ReplicatesAreResamplesFromTheirOwnStreams) {
  // Replicate b is the statistic of x[below(n)] drawn n times from
  // Stream::derive(seed, replicate, b): rebuilt here for every b.
  const auto x = normal_sample(1, 30);
  const std::uint64_t seed = 77;
  const auto bi = bootstrap_mean(x, 0.9, 150, seed);
  ASSERT_EQ(bi.replicate_values.size(), 150u);
  for (std::size_t b = 0; b < 150; ++b) {
    Stream s = Stream::derive(seed, Purpose::replicate, b);
    double sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) sum += x[s.below(x.size())];
    EXPECT_EQ(bi.replicate_values[b], sum / double(x.size())) << "b = " << b;
  }
  EXPECT_EQ(bi.estimate, sample_mean(x));
  // Percentile bounds are the type-7 quantiles 0.05 and 0.95 of the 150 replicates:
  // positions 0.05·149 = 7.45 and 0.95·149 = 141.55.
  auto s = bi.replicate_values;
  std::sort(s.begin(), s.end());
  EXPECT_DOUBLE_EQ(bi.lower, s[7] + 0.45 * (s[8] - s[7]));
  EXPECT_DOUBLE_EQ(bi.upper, s[141] + 0.55 * (s[142] - s[141]));
  MeanVar mv;
  for (double v : bi.replicate_values) mv.add(v);
  EXPECT_DOUBLE_EQ(bi.std_error, std::sqrt(mv.variance()));
  EXPECT_DOUBLE_EQ(bi.bias, mv.mean - bi.estimate);
}

TEST(Bootstrap, SameBitsForTheSameSeedAndAnyThreadCount) {
  // 1000 replicates = 16 blocks of 64, so two threads really share the work.
  const auto x = normal_sample(2, 40);
  for (auto method : {BootstrapMethod::percentile, BootstrapMethod::bca}) {
    const auto a = bootstrap_mean(x, 0.95, 1000, 5, method, Exec(1));
    const auto b = bootstrap_mean(x, 0.95, 1000, 5, method, Exec(2));
    const auto c = bootstrap_mean(x, 0.95, 1000, 5, method, Exec(1));
    EXPECT_EQ(a.replicate_values, b.replicate_values);
    EXPECT_EQ(a.replicate_values, c.replicate_values);
    EXPECT_EQ(a.lower, b.lower);
    EXPECT_EQ(a.upper, b.upper);
    const auto d = bootstrap_mean(x, 0.95, 1000, 6, method, Exec(1));
    EXPECT_NE(a.replicate_values, d.replicate_values);
  }
}

TEST(Bootstrap, StdErrorOfTheMeanMatchesItsClosedForm) {
  // The bootstrap distribution of a mean has SD s·√((n − 1)/n)/√n exactly (s the
  // sample SD); B = 4000 replicates estimate it with relative SE ≈ 1/√(2B) = 1.1%
  // (the mean of 100 resampled normals is close to normal): 4.5 SE = 5% (false
  // failure ≈ 7e-6).
  const std::size_t n = 100;
  const auto x = normal_sample(3, n, 2.0, 3.0);
  MeanVar mv;
  for (double v : x) mv.add(v);
  const double exact = std::sqrt(mv.variance() * double(n - 1) / double(n) / double(n));
  const auto bi = bootstrap_mean(x, 0.95, 4000, 9);
  EXPECT_NEAR(bi.std_error / exact, 1.0, 4.5 / std::sqrt(2.0 * 4000));
  // A wrong variant — the SE of one draw instead of the mean — is ten times off.
  EXPECT_GT(std::fabs(std::sqrt(mv.variance()) / exact - 1.0), 4.5 / std::sqrt(2.0 * 4000));
}

// Share of `seeds` samples of n normals (mean 1) whose bootstrap interval covers 1.
double coverage(BootstrapMethod method, double level, int seeds, std::size_t n, std::size_t replicates) {
  int hits = 0;
  for (int k = 0; k < seeds; ++k) {
    const auto x = normal_sample(1000 + std::uint64_t(k), n, 1.0, 2.0);
    const auto bi = bootstrap_mean(x, level, replicates, std::uint64_t(k), method);
    hits += bi.lower <= 1.0 && 1.0 <= bi.upper;
  }
  return double(hits) / seeds;
}

TEST(Bootstrap, IntervalsForTheMeanCoverAtTheNominalRate) {
  // 400 samples of n = 50 normals, 1000 replicates each, 90% intervals. The percentile
  // interval is ≈ x̄ ± z·s·√(49/50)/√n, whose exact coverage is P(|t_49| <= 1.645·0.99)
  // = 0.890 (BCa's is about the same: 0.884 ± 0.005 over 4000 seeds, percentile 0.885).
  // Hits are Binomial(400, 0.890), SD 0.0156, tested within 4.5 SD of 0.890: false
  // failure ≈ 7e-6 per method. Half as wide intervals (coverage ≈ 0.59) would fail by
  // 19 SD. (This seed set gives 0.860 and 0.870: −1.9 and −1.3 SD.)
  const int seeds = 400;
  const double sd = std::sqrt(0.89 * 0.11 / seeds);
  for (auto method : {BootstrapMethod::percentile, BootstrapMethod::bca}) {
    const double c = coverage(method, 0.9, seeds, 50, 1000);
    EXPECT_NEAR(c, 0.89, 4.5 * sd) << "method " << int(method);
  }
}

TEST(Bootstrap, LogMeanExpAgreesWithTheDeltaMethod) {
  // Log-weights N(0, 0.5²), n = 400: well-behaved weights, where the delta-method SE of
  // summarize_log_weights is accurate. The bootstrap SD of 3000 replicates has relative
  // SE ≈ 1/√6000 = 1.3%; the two SEs differ also by √((n − 1)/n) and the delta method's
  // O(1/n) terms (< 1%): 4.5 SE + 1% = 7% (false failure ≈ 7e-6).
  const auto w = normal_sample(4, 400, -3.0, 0.5);
  const auto ws = summarize_log_weights(w);
  const auto bi = bootstrap_log_mean_exp(w, 0.95, 3000, 12);
  EXPECT_DOUBLE_EQ(bi.estimate, log_mean_exp(w));
  EXPECT_NEAR(bi.std_error / ws.std_error, 1.0, 4.5 / std::sqrt(6000.0) + 0.01);
  EXPECT_LT(bi.lower, bi.estimate);
  EXPECT_GT(bi.upper, bi.estimate);
}

TEST(Bootstrap, ZeroWeightsAreAllowedAndANonFiniteReplicateGivesNan) {
  // Two of three weights are 0: a resample of only those has log mean exp = −inf, which
  // happens with probability (2/3)³ per replicate, so 50 replicates meet it for sure
  // (miss rate 1.7e-8).
  const double ninf = -std::numeric_limits<double>::infinity();
  const std::vector<double> w = {ninf, ninf, 0.0};
  const auto bi = bootstrap_log_mean_exp(w, 0.9, 50, 1);
  EXPECT_DOUBLE_EQ(bi.estimate, -std::log(3.0));
  EXPECT_TRUE(std::isnan(bi.lower));
  EXPECT_TRUE(std::isnan(bi.upper));
}

TEST(Bootstrap, PinnedErrors) {
  using test::expect_error;
  const std::vector<double> one = {1.0}, ok = {1.0, 2.0, 3.0};
  const std::vector<double> with_nan = {1.0, std::numeric_limits<double>::quiet_NaN()};
  const std::vector<double> with_inf = {1.0, std::numeric_limits<double>::infinity()};
  expect_error([&] { bootstrap_mean(one, 0.9, 100, 1); }, Exit::usage, "bootstrap_mean: x must have at least 2 values, got 1");
  expect_error([&] { bootstrap_mean(ok, 1.0, 100, 1); }, Exit::usage, "bootstrap_mean: level must be in (0, 1), got 1");
  expect_error([&] { bootstrap_mean(ok, 0.9, 1, 1); }, Exit::usage, "bootstrap_mean: replicates must be >= 2, got 1");
  expect_error([&] { bootstrap_mean(with_inf, 0.9, 100, 1); }, Exit::usage,
               "bootstrap_mean: x must be finite, got inf at index 1");
  expect_error([&] { bootstrap_log_mean_exp(with_inf, 0.9, 100, 1); }, Exit::usage,
               "bootstrap_log_mean_exp: log_weights must not be NaN or +inf, got inf at index 1");
  expect_error([&] { bootstrap_interval(with_nan, sample_mean, 0.9, 100, 1); }, Exit::usage,
               "bootstrap_interval: x must not contain NaN, got NaN at index 1");
  expect_error([&] { bootstrap_interval(ok, sample_mean, 0.0, 100, 1); }, Exit::usage,
               "bootstrap_interval: level must be in (0, 1), got 0");
}

}  // namespace
}  // namespace logz
