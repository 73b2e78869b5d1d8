// Exact log Z by Gray-code enumeration against brute force over every (v, h), and
// against an independent direct-sum implementation on a wide model.
#include "logz/exact/rbm_enumeration.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <numbers>

#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

struct Case {
  std::size_t nv, nh;
  double w_scale, b_scale;
};

TEST(RbmExactLogZ, EqualsBruteForceOverAllStates) {
  const Case cases[] = {{8, 5, 0.1, 0.1}, {8, 5, 1.0, 1.0}, {8, 5, 3.0, 1.0}, {5, 8, 0.5, 0.5}, {5, 8, 3.0, 3.0},
                        {10, 3, 2.0, 0.5}, {3, 10, 1.0, 2.0}, {1, 1, 1.0, 1.0}, {1, 7, 2.0, 1.0}, {11, 11, 0.3, 0.3},
                        {12, 12, 3.0, 1.0}, {4, 4, 0.0, 0.0},
                        // Pre-activations beyond ±80: the direct softplus form instead of the product form.
                        {10, 10, 20.0, 5.0}, {9, 12, 15.0, 3.0}};
  std::uint64_t seed = 100;
  for (const Case& c : cases) {
    const RbmD m = test::random_rbm(seed++, c.nv, c.nh, c.w_scale, c.b_scale);
    const double brute = double(test::brute_log_z(m));
    const ExactLogZ e = rbm_exact_log_z(m, Exec(2));
    EXPECT_NEAR(e.log_z, brute, 1e-10) << c.nv << "x" << c.nh << " scale " << c.w_scale;
    EXPECT_EQ(e.enumerated_hidden, c.nh <= c.nv);
    EXPECT_EQ(e.enumerated_units, std::min(c.nv, c.nh));
  }
  // All-zero parameters: Z = 2^(nv + nh).
  EXPECT_NEAR(rbm_exact_log_z(RbmD(6, 9), Exec(1)).log_z, 15 * std::numbers::ln2, 1e-13);
}

/// log Z = log Σ_h exp(c·h + Σ_i softplus(b_i + (W h)_i)), every term computed from
/// scratch in double with std::log1p/std::exp (no Gray code, no vector kernels), the
/// terms combined in long double. The pre-activations b + W h are split as
/// (b + W_lo h_lo) + W_hi h_hi over the low and high 8 bits of h, tabulated.
double slow_log_z_over_hidden(const RbmD& m) {
  const std::size_t nv = m.n_visible(), nh = m.n_hidden();
  const std::size_t lo_bits = nh / 2, hi_bits = nh - lo_bits;
  auto table = [&](std::size_t first, std::size_t bits, bool with_bias) {
    std::vector<std::vector<double>> t(std::size_t(1) << bits, std::vector<double>(nv));
    for (std::size_t k = 0; k < t.size(); ++k)
      for (std::size_t i = 0; i < nv; ++i) {
        double x = with_bias ? m.visible_bias[Eigen::Index(i)] : 0.0;
        for (std::size_t j = 0; j < bits; ++j)
          if ((k >> j) & 1) x += m.weights(Eigen::Index(i), Eigen::Index(first + j));
        t[k][i] = x;
      }
    return t;
  };
  const auto lo = table(0, lo_bits, true), hi = table(lo_bits, hi_bits, false);
  const std::int64_t count = std::int64_t(1) << nh;
  std::vector<double> terms(static_cast<std::size_t>(count));
#pragma omp parallel for schedule(static) num_threads(2)
  for (std::int64_t h = 0; h < count; ++h) {
    double s = 0;
    for (std::size_t j = 0; j < nh; ++j)
      if ((h >> j) & 1) s += m.hidden_bias[Eigen::Index(j)];
    const auto& a = lo[std::size_t(h) & ((std::size_t(1) << lo_bits) - 1)];
    const auto& b = hi[std::size_t(h) >> lo_bits];
    for (std::size_t i = 0; i < nv; ++i) {
      const double x = a[i] + b[i];
      s += x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    }
    terms[std::size_t(h)] = s;
  }
  test::LogSumExpL acc;
  for (double t : terms) acc.add(t);
  return double(acc.value());
}

TEST(RbmExactLogZ, WideModelAgainstDirectSum) {
  // 784 visible x 16 hidden (2^16 states, 16 Gray-code chunks). (The 20-hidden x 784
  // model is enumerated in estimators/rbm_ais_test.cpp as AIS's reference.)
  const RbmD m = test::random_rbm(7, 784, 16, 0.1, 1.0);
  const double slow = slow_log_z_over_hidden(m);
  const ExactLogZ e1 = rbm_exact_log_z(m, Exec(1));
  const ExactLogZ e2 = rbm_exact_log_z(m, Exec(2));
  EXPECT_NEAR(e1.log_z, slow, 1e-9);
  EXPECT_TRUE(e1.enumerated_hidden);
  EXPECT_EQ(e1.enumerated_units, 16u);
  // Same bits at 1 and 2 threads.
  EXPECT_EQ(std::bit_cast<std::uint64_t>(e1.log_z), std::bit_cast<std::uint64_t>(e2.log_z));

}

TEST(RbmExactLogZ, LogLikelihoodsNormalise) {
  const RbmD m = test::random_rbm(11, 9, 6, 1.5, 1.0);
  const double lz = rbm_exact_log_z(m, Exec(1)).log_z;
  const VectorD ll = rbm_log_likelihoods(m, test::all_visible_states(m), lz, Exec(2));
  ASSERT_EQ(ll.size(), 512);
  test::LogSumExpL acc;
  for (Eigen::Index k = 0; k < ll.size(); ++k) acc.add(ll[k]);
  EXPECT_NEAR(double(acc.value()), 0.0, 1e-12);
  const std::vector<double> p = test::exact_visible_distribution(m);
  for (Eigen::Index k = 0; k < ll.size(); ++k) EXPECT_NEAR(std::exp(ll[k]), p[std::size_t(k)], 1e-13) << k;
}

TEST(RbmExactLogZ, TooLargeModelIsRejected) {
  const RbmD m(33, 34);
  try {
    rbm_exact_log_z(m, Exec(1));
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "rbm_exact_log_z: exact log Z enumerates 2^n states of the smaller layer; the model has 33 visible and "
                 "34 hidden units, and n = 33 exceeds the limit of 32");
    EXPECT_EQ(e.code(), Exit::usage);
  }
  RbmD bad(3, 2);
  bad.weights(0, 0) = std::nan("");
  try {
    rbm_exact_log_z(bad, Exec(1));
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rbm_exact_log_z: weights has a non-finite value nan at flat index 0");
    EXPECT_EQ(e.code(), Exit::data);
  }
}

}  // namespace
}  // namespace logz

namespace logz {
namespace {

// Exact draws follow p(v): chi-square against the exact visible distribution, for a
// model enumerated through its hidden layer and one enumerated through its visible layer.
TEST(RbmExactSamples, FollowTheExactVisibleDistribution) {
  for (auto [nv, nh] : {std::pair{6, 3}, std::pair{3, 7}}) {
    const RbmD m = test::random_rbm(40 + nv, std::size_t(nv), std::size_t(nh), 1.0, 0.7);
    const std::vector<double> pi = test::exact_visible_distribution(m);
    const std::size_t n = 200000;
    const MatrixU8 x = rbm_exact_samples(m, n, 3, Exec(2));
    std::vector<std::size_t> counts(pi.size(), 0);
    for (Eigen::Index r = 0; r < x.rows(); ++r) ++counts[test::state_index(x.row(r))];
    // Pearson's statistic on 2^nv - 1 degrees of freedom; false-failure rate 1e-4.
    EXPECT_LE(test::chi_square_statistic(counts, pi), test::chi_square_upper_quantile(double(pi.size() - 1), 1e-4))
        << nv << "x" << nh;
  }
}

TEST(RbmExactSamples, SameBitsForAnyThreadCountAndRejectsLargeModels) {
  const RbmD m = test::random_rbm(5, 30, 10, 0.5, 0.5);
  EXPECT_EQ(rbm_exact_samples(m, 300, 9, Exec(1)), rbm_exact_samples(m, 300, 9, Exec(2)));
  try {
    rbm_exact_samples(RbmD(30, 25), 1, 1, Exec(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_EQ(std::string(e.what()),
              "rbm_exact_samples: exact sampling enumerates 2^n states of the smaller layer; the model has 30 visible and "
              "25 hidden units, and n = 25 exceeds the limit of 24");
  }
}

}  // namespace
}  // namespace logz
