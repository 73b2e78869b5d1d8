// MCMC diagnostics: the normal quantile against 50-digit references, autocorrelation,
// rank normalisation and split R-hat by hand, ESS of AR(1) chains against
// (1 − ρ)/(1 + ρ) with tolerances from the estimator's spread over replicates, R-hat of
// iid chains against its exact null distribution, chains that disagree, pinned errors.
#include "logz/diagnostics/mcmc.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <limits>
#include <tuple>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"
#include "support/expect_error.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using test::chi_square_upper_quantile;
using test::normal_two_sided_z;

// M chains of a stationary AR(1) process x_t = ρ x_{t−1} + ε_t, ε ~ N(0, 1), replicate
// r of `seed`: its integrated autocorrelation time is (1 + ρ)/(1 − ρ).
MatrixD ar1_chains(std::uint64_t seed, std::size_t r, int m, int n, double rho) {
  MatrixD x(m, n);
  const Stream rep = Stream::derive(seed, Purpose::replicate, r);
  for (int c = 0; c < m; ++c) {
    Stream s = rep.derive(Purpose::chains, std::uint64_t(c));
    double v = s.normal() / std::sqrt(1 - rho * rho);
    for (int i = 0; i < n; ++i) {
      if (i > 0) v = rho * v + s.normal();
      x(c, i) = v;
    }
  }
  return x;
}

TEST(NormalQuantile, MatchesFiftyDigitReferences) {
  // Φ⁻¹ of the double nearest each p, from mpmath at 60 digits (findroot on log ncdf); the
  // three regions of AS 241 (|p − ½| <= 0.425, r <= 5, r > 5) are all visited.
  struct Ref {
    double p, z;
  };
  const Ref refs[] = {
      {1e-300, -37.04709629936119924},  {1e-100, -21.27345356096532429}, {1e-20, -9.26234008979840758},
      {1e-10, -6.361340902404056199},   {1e-5, -4.26489079392282461},    {0.001, -3.090232306167813535},
      {0.02425, -1.972961051311884838}, {0.05, -1.644853626951472688},   {0.075, -1.439531470938455935},
      {0.1, -1.281551565544600435},     {0.25, -0.6744897501960817432},  {0.4, -0.2533471031357997413},
      {0.6, 0.2533471031357997413},     {0.75, 0.6744897501960817432},   {0.9, 1.281551565544600593},
      {0.925, 1.439531470938456229},    {0.975, 1.959963984540053856},   {0.995, 2.575829303548900454},
      {0.999999, 4.753424308817087766},
  };
  for (const auto& r : refs) EXPECT_NEAR(normal_quantile(r.p), r.z, 1e-12 * std::fabs(r.z)) << "p = " << r.p;
  EXPECT_EQ(normal_quantile(0.5), 0.0);
}

TEST(NormalQuantile, InvertsTheNormalCdfOnAGrid) {
  // Φ(Φ⁻¹(p)) = p over 1e-300 .. 0.5, Φ by erfc (a few ulp). A relative error e in z
  // moves p by a relative φ(z)/Φ(z)·|z|·e ≈ (1 + z²)·e in the tail, so the tolerance is
  // 2e-15·(1 + z²) relative: ~10 ulp of z, and 1.4e-12 at p = 1e-300 (z ≈ −37).
  for (double lp = -300; lp <= std::log10(0.5); lp += 0.37) {
    const double p = std::pow(10.0, lp);
    const double z = normal_quantile(p);
    EXPECT_NEAR(0.5 * std::erfc(-z / std::sqrt(2.0)), p, 2e-15 * (1 + z * z) * p) << "p = " << p;
  }
  // Odd symmetry, exact where 1 − p is exact: p = 2^−k.
  for (int k = 2; k <= 52; ++k) EXPECT_EQ(normal_quantile(1 - std::ldexp(1.0, -k)), -normal_quantile(std::ldexp(1.0, -k)));
}

TEST(NormalQuantile, EdgesAndOutOfRange) {
  EXPECT_EQ(normal_quantile(0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(normal_quantile(1), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(normal_quantile(-0.1)));
  EXPECT_TRUE(std::isnan(normal_quantile(1.5)));
  EXPECT_TRUE(std::isnan(normal_quantile(std::numeric_limits<double>::quiet_NaN())));
}

TEST(StudentT, TailMatchesIntegratedDensityAndQuantilesMatchTables) {
  // The tail against Simpson's rule on the density (200,000 panels: error ~1e-15).
  auto simpson_tail = [](double t, double n) {
    const double c = std::exp(std::lgamma((n + 1) / 2) - std::lgamma(n / 2)) / std::sqrt(n * std::numbers::pi);
    auto f = [&](double x) { return c * std::pow(1 + x * x / n, -(n + 1) / 2); };
    const int panels = 200000;
    const double h = t / panels;
    double s = f(0) + f(t);
    for (int i = 1; i < panels; ++i) s += (i % 2 ? 4 : 2) * f(i * h);
    return 1 - 2 * s * h / 3;
  };
  for (double n : {1.0, 3.0, 9.0, 19.0, 100.0})
    for (double t : {0.3, 1.5, 2.2, 4.0}) EXPECT_NEAR(student_t_two_sided_tail(t, n), simpson_tail(t, n), 1e-12) << n << " " << t;
  // Closed forms: dof 1 (Cauchy) and dof 2.
  for (double t : {0.1, 1.0, 3.0, 30.0}) {
    EXPECT_NEAR(student_t_two_sided_tail(t, 1), 1 - 2 * std::atan(t) / std::numbers::pi, 1e-14);
    EXPECT_NEAR(student_t_two_sided_tail(t, 2), 1 - t / std::sqrt(2 + t * t), 1e-14);
  }
  // Quantiles: the printed tables' six decimals, and the tail inverted to 1e-13.
  const std::vector<std::tuple<double, double, double>> table = {
      {0.95, 1, 12.706205}, {0.95, 4, 2.776445}, {0.95, 9, 2.262157},
      {0.95, 19, 2.093024}, {0.95, 100, 1.983972}, {0.99, 9, 3.249836}};
  for (const auto& [level, dof, t] : table) {
    const double q = student_t_two_sided_quantile(level, dof);
    EXPECT_NEAR(q, t, 5e-7) << dof;
    EXPECT_NEAR(student_t_two_sided_tail(q, dof), 1 - level, 1e-13);
  }
  EXPECT_NEAR(student_t_two_sided_quantile(0.95, std::numeric_limits<double>::infinity()), 1.959963984540054, 1e-14);
  test::expect_error([] { student_t_two_sided_quantile(0.95, 0); }, Exit::usage,
                     "student_t_two_sided_quantile: dof must be positive, got 0");
}

TEST(Autocorrelation, ByHand) {
  // x = 1..4: centred −1.5, −0.5, 0.5, 1.5; γ0 = 5, γ1 = 1.25, γ2 = −1.5, γ3 = −2.25.
  const std::vector<double> x = {1, 2, 3, 4};
  const auto rho = autocorrelation(x);
  ASSERT_EQ(rho.size(), 4u);
  EXPECT_DOUBLE_EQ(rho[0], 1.0);
  EXPECT_DOUBLE_EQ(rho[1], 0.25);
  EXPECT_DOUBLE_EQ(rho[2], -0.3);
  EXPECT_DOUBLE_EQ(rho[3], -0.45);
  EXPECT_EQ(autocorrelation(x, 1).size(), 2u);
  const std::vector<double> flat = {2, 2, 2};
  EXPECT_TRUE(std::isnan(autocorrelation(flat)[1]));
}

TEST(Autocorrelation, OfAnAr1SeriesIsRhoToTheLag) {
  // n = 20000, ρ = 0.6: Bartlett's variance of ρ̂_t is ≈ (1/n)·[(1 + ρ²)(1 + ρ^2t)/(1 − ρ²)
  // − 2tρ^2t] <= 2.2/n; 4.5 SE per lag, 3 lags: false failure < 3·7e-6.
  const int n = 20000;
  const double rho = 0.6;
  const MatrixD x = ar1_chains(11, 0, 1, n, rho);
  const auto r = autocorrelation(std::span<const double>(x.data(), std::size_t(n)), 3);
  const double se = std::sqrt(2.2 / n);
  for (int t = 1; t <= 3; ++t) EXPECT_NEAR(r[t], std::pow(rho, t), 4.5 * se) << "lag " << t;
}

TEST(RankNormalize, ByHandWithTies) {
  // Values 3, 1, 3, 2 → ranks 3.5, 1, 3.5, 2; z = Φ⁻¹((r − 3/8) / 4.25).
  MatrixD x(1, 4);
  x << 3, 1, 3, 2;
  const MatrixD z = rank_normalize(x);
  EXPECT_DOUBLE_EQ(z(0, 0), normal_quantile(3.125 / 4.25));
  EXPECT_DOUBLE_EQ(z(0, 1), normal_quantile(0.625 / 4.25));
  EXPECT_DOUBLE_EQ(z(0, 2), z(0, 0));
  EXPECT_DOUBLE_EQ(z(0, 3), normal_quantile(1.625 / 4.25));
}

TEST(SplitRhat, ByHand) {
  // One chain 1..8 splits into 1..4 and 5..8: W = 5/3, B/n = var(2.5, 6.5) = 8,
  // var⁺ = (3/4)·(5/3) + 8 = 9.25, R̂ = √(9.25 / (5/3)) = √5.55. With N = 9 the middle
  // draw (5) is left out and the halves are 1..4 and 6..9: same spread, B/n = 12.5.
  MatrixD x(1, 8);
  x << 1, 2, 3, 4, 5, 6, 7, 8;
  EXPECT_NEAR(split_rhat(x), std::sqrt(5.55), 1e-14);
  MatrixD y(1, 9);
  y << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  EXPECT_NEAR(split_rhat(y), std::sqrt((1.25 + 12.5) / (5.0 / 3)), 1e-14);
}

TEST(EssMean, ByHand) {
  // One chain 1..8 → halves 1..4 and 5..8, both centred −1.5, −0.5, 0.5, 1.5: biased
  // autocovariances γ0..γ3 = 5/4, 1.25/4, −1.5/4, −2.25/4; W = 5/3, var⁺ = 9.25 (above).
  // ρ̂_t = 1 − (W − γ_t)/var⁺; pairs P0 = 1 + ρ̂_1, P1 = ρ̂_2 + ρ̂_3 (both > 0, P1 < P0);
  // τ̂ = −1 + 2(P0 + P1), ESS = 8/τ̂.
  MatrixD x(1, 8);
  x << 1, 2, 3, 4, 5, 6, 7, 8;
  const double w = 5.0 / 3, vp = 9.25;
  auto rho = [&](double g) { return 1 - (w - g) / vp; };
  const double p0 = 1 + rho(1.25 / 4), p1 = rho(-1.5 / 4) + rho(-2.25 / 4);
  EXPECT_NEAR(ess_mean(x), 8 / (-1 + 2 * (p0 + p1)), 1e-13);
}

TEST(EssMean, AntitheticChainIsCappedAtSLog10S) {
  // An alternating ±1 chain has ρ̂_1 < −1, so the first pair is negative and τ̂ takes its
  // floor 1/log10(S): S = 100 draws give ESS = 100·log10(100) = 200 exactly.
  MatrixD x(1, 100);
  for (int i = 0; i < 100; ++i) x(0, i) = i % 2 == 0 ? 1.0 : -1.0;
  EXPECT_NEAR(ess_mean(x), 200.0, 1e-12);
}

// Mean and SD of ess_mean / (M·N) over R replicates of AR(1) chains.
MeanVar ess_over_replicates(double rho, int m, int n, int replicates) {
  MeanVar mv;
  for (int r = 0; r < replicates; ++r) mv.add(ess_mean(ar1_chains(2024, std::size_t(r), m, n, rho)) / (m * n));
  return mv;
}

TEST(EssMean, OfAr1ChainsIsNTimesOneMinusRhoOverOnePlusRho) {
  // 4 chains × 1000 draws, 200 replicates. For ρ = 0.5 and 0.9 the mean of ESS/(M·N)
  // is tested against (1 − ρ)/(1 + ρ) within 4.5 SE of that mean (SE from the
  // replicates' own spread). The estimator's bias at this N is below 0.1 of its spread
  // (calibration runs: 0.3334 vs 1/3, 0.0527 vs 0.0526, SD 0.027 and 0.0105), i.e. below
  // 1.5 SE of the mean: false failure < 2·Φ(−3) ≈ 3e-3 per ρ in the worst case, ≈ 7e-6
  // without bias. A true ρ off by 0.05 (ρ = 0.55 → 0.290) would fail by > 20 SE.
  const int m = 4, n = 1000, reps = 200;
  for (double rho : {0.5, 0.9}) {
    const MeanVar mv = ess_over_replicates(rho, m, n, reps);
    const double truth = (1 - rho) / (1 + rho);
    EXPECT_NEAR(mv.mean, truth, 4.5 * mv.std_error()) << "rho = " << rho;
    EXPECT_GT(std::fabs(mv.mean - (1 - (rho + 0.05)) / (1 + rho + 0.05)), 4.5 * mv.std_error()) << "rho = " << rho;
  }
}

TEST(EffectiveSampleSize, OfIidChainsIsAboutMN) {
  // iid N(0,1): bulk, tail and mean ESS of one fixed-seed run are within 4.5 SD of M·N,
  // the SD of ESS/(M·N) measured over 200 replicates (0.044 for the mean and bulk ESS,
  // 0.040 tail). The estimator is biased low by ≈ 0.009 = 0.2 SD (calibration mean
  // 0.9907), so the false-failure rate is ≈ 2·Φ(−4.3) ≈ 2e-5 per number.
  const int m = 4, n = 1000;
  MeanVar sd_bulk, sd_tail, sd_mean;
  for (int r = 0; r < 200; ++r) {
    const MatrixD x = ar1_chains(99, std::size_t(r), m, n, 0.0);
    const auto e = effective_sample_size(x);
    sd_bulk.add(e.bulk / (m * n));
    sd_tail.add(e.tail / (m * n));
    sd_mean.add(ess_mean(x) / (m * n));
  }
  const MatrixD x = ar1_chains(5, 0, m, n, 0.0);
  const auto e = effective_sample_size(x);
  EXPECT_NEAR(e.bulk / (m * n), 1.0, 4.5 * std::sqrt(sd_bulk.variance()));
  EXPECT_NEAR(e.tail / (m * n), 1.0, 4.5 * std::sqrt(sd_tail.variance()));
  EXPECT_NEAR(ess_mean(x) / (m * n), 1.0, 4.5 * std::sqrt(sd_mean.variance()));
  EXPECT_LT(std::sqrt(sd_bulk.variance()), 0.1);
}

TEST(SplitRhat, OfIidChainsFollowsItsNullDistribution) {
  // For iid N(0,1) draws in M' = 2M half chains of n draws, R̂² = (n − 1)/n + F/n with
  // F = n·var(means)/W ~ F(M' − 1, M'(n − 1)), close to χ²_{M'−1}/(M' − 1) at these sizes.
  // (a) 400 replicates: the count above the 5% point is Binomial(400, ≈0.05), tested
  // within 4.5 SD of 20 (false failure ≈ 1e-5, plus the Wilson–Hilferty quantile's < 2%
  // error). (b) A fixed run is below the 1e-4 point for both R-hats (rank-normalised:
  // bulk and folded, so 2e-4 by the union bound).
  const int m = 4, n = 1000, mp = 2 * m, half = n / 2;
  const double k = mp - 1;
  auto bound = [&](double alpha) { return std::sqrt((half - 1.0) / half + chi_square_upper_quantile(k, alpha) / k / half); };
  const double b05 = bound(0.05);
  int above = 0;
  for (int r = 0; r < 400; ++r) above += split_rhat(ar1_chains(31, std::size_t(r), m, n, 0.0)) > b05;
  const double sd = std::sqrt(400 * 0.05 * 0.95);
  EXPECT_NEAR(above, 20.0, 4.5 * sd);
  const MatrixD x = ar1_chains(8, 0, m, n, 0.0);
  EXPECT_LT(split_rhat(x), bound(1e-4));
  EXPECT_LT(rank_normalized_rhat(x), bound(1e-4));
  EXPECT_LT(bound(1e-4), 1.01);  // so R̂ > 1.01 is a meaningful alarm at this size
}

TEST(SplitRhat, FlagsChainsWithShiftedMeans) {
  // Three chains at mean 0 and one at mean 1 (sd 1): R̂ ≈ √(1 + 3/16) ≈ 1.09, far above
  // the 1e-4 null bound (< 1.004) tested above, and above the usual 1.01 alarm.
  MatrixD x = ar1_chains(12, 0, 4, 1000, 0.0);
  x.row(3).array() += 1.0;
  EXPECT_GT(split_rhat(x), 1.05);
  EXPECT_GT(rank_normalized_rhat(x), 1.05);
  EXPECT_LT(effective_sample_size(x).bulk, 0.5 * 4000);
}

TEST(RankNormalizedRhat, FlagsChainsWithDifferentSpreadWhereSplitRhatDoesNot) {
  // Same mean, one chain with sd 3: the means agree, so classic split R-hat stays below
  // the 1e-4 null bound (it is insensitive to scale); the folded R-hat sees it.
  MatrixD x = ar1_chains(13, 0, 4, 1000, 0.0);
  x.row(0) *= 3.0;
  EXPECT_LT(split_rhat(x), 1.01);
  EXPECT_GT(rank_normalized_rhat(x), 1.05);
}

TEST(Diagnostics, ConstantDrawsGiveNanAndConstantChainsGiveInfiniteRhat) {
  const MatrixD flat = MatrixD::Constant(2, 10, 3.0);
  EXPECT_TRUE(std::isnan(split_rhat(flat)));
  EXPECT_TRUE(std::isnan(rank_normalized_rhat(flat)));
  EXPECT_TRUE(std::isnan(ess_mean(flat)));
  EXPECT_TRUE(std::isnan(effective_sample_size(flat).bulk));
  EXPECT_TRUE(std::isnan(effective_sample_size(flat).tail));
  EXPECT_TRUE(std::isnan(mcse_mean(flat)));
  MatrixD two(2, 10);
  two.row(0).setConstant(1.0);
  two.row(1).setConstant(2.0);
  EXPECT_EQ(split_rhat(two), std::numeric_limits<double>::infinity());
  EXPECT_EQ(rank_normalized_rhat(two), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(ess_mean(two)));
}

TEST(McseMean, IsSdOverRootEss) {
  // By definition; and for AR(1) chains with ρ = 0.5 the MCSE is close to the true
  // SE of the mean, σ/√(M·N·(1−ρ)/(1+ρ)) with σ² = 1/(1 − ρ²): within 4.5·(relative SD of
  // √ESS ≈ 0.5·0.027/0.333 = 4%) + σ̂'s own ~1.5%: a 25% band (false failure < 1e-5).
  const MatrixD x = ar1_chains(21, 0, 4, 1000, 0.5);
  const double mean = x.mean();
  const double sd = std::sqrt((x.array() - mean).square().sum() / double(x.size() - 1));
  EXPECT_DOUBLE_EQ(mcse_mean(x), sd / std::sqrt(ess_mean(x)));
  const double truth = std::sqrt(1 / (1 - 0.25)) / std::sqrt(4000.0 / 3.0);
  EXPECT_NEAR(mcse_mean(x) / truth, 1.0, 0.25);
}

TEST(Diagnostics, PinnedErrors) {
  using test::expect_error;
  const MatrixD none(0, 10), short_chains(2, 3);
  MatrixD bad = MatrixD::Zero(2, 5);
  bad(1, 2) = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { split_rhat(none); }, Exit::usage, "split_rhat: draws must have at least 1 chain (row), got 0");
  expect_error([&] { ess_mean(short_chains); }, Exit::usage,
               "ess_mean: draws must have at least 4 draws per chain (columns), got 3");
  expect_error([&] { effective_sample_size(bad); }, Exit::usage,
               "effective_sample_size: draws must be finite, got nan at chain 1, draw 2");
  bad(1, 2) = std::numeric_limits<double>::infinity();
  expect_error([&] { rank_normalized_rhat(bad); }, Exit::usage,
               "rank_normalized_rhat: draws must be finite, got inf at chain 1, draw 2");
  expect_error([&] { mcse_mean(short_chains); }, Exit::usage,
               "mcse_mean: draws must have at least 4 draws per chain (columns), got 3");
  const std::vector<double> one = {1.0}, nan1 = {1.0, std::numeric_limits<double>::quiet_NaN()};
  expect_error([&] { autocorrelation(one); }, Exit::usage, "autocorrelation: x must have at least 2 values, got 1");
  expect_error([&] { autocorrelation(nan1); }, Exit::usage, "autocorrelation: x must be finite, got nan at index 1");
}

}  // namespace
}  // namespace logz
