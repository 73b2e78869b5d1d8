// Log-domain helpers (math.hpp) and the vectorised kernels (vecmath.hpp) against long
// double references.
#include "logz/core/math.hpp"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/core/vecmath.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

long double softplus_ref(long double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

/// |a - ref| in units of the spacing of doubles at ref (ref rounded to double); the
/// subnormal spacing below DBL_MIN.
double ulps(double a, long double ref) {
  const double r = double(ref);
  const double spacing = std::max(std::fabs(std::nextafter(r, kInf) - r), std::numeric_limits<double>::denorm_min());
  return double(std::fabs((long double)a - ref)) / spacing;
}

TEST(Softplus, MatchesLongDoubleReference) {
  double worst = 0;
  for (int k = -80000; k <= 80000; ++k) {
    const double x = k * 0.01;  // [-800, 800]
    worst = std::max(worst, ulps(softplus(x), softplus_ref(x)));
  }
  Stream rng = Stream::derive(1, Purpose::user, 0);
  for (int i = 0; i < 100000; ++i) {
    const double x = (rng.uniform_double() - 0.5) * 60;
    worst = std::max(worst, ulps(softplus(x), softplus_ref(x)));
  }
  // log1p and exp are each within 1 ulp in glibc; the sum x + log1p(.) adds one rounding.
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(softplus(-800.0), 0.0);  // exp(-800) underflows: the correctly rounded answer
  EXPECT_EQ(softplus(800.0), 800.0);
  EXPECT_EQ(softplus(0.0), std::log(2.0));
  EXPECT_EQ(softplus(kInf), kInf);
  EXPECT_EQ(softplus(-kInf), 0.0);
  // float overload: within a few float ulps of the reference.
  for (int k = -800; k <= 800; ++k) {
    const float x = float(k) * 0.1f;
    const long double ref = softplus_ref(x);
    EXPECT_LE(std::fabs((long double)softplus(x) - ref), 4 * FLT_EPSILON * std::fabs(ref) + FLT_MIN) << x;
  }
  // sigmoid and log_sigmoid agree with their definitions.
  for (double x : {-30.0, -2.0, 0.0, 0.5, 7.0, 40.0}) {
    EXPECT_NEAR(sigmoid(x), double(1 / (1 + std::exp(-(long double)x))), 1e-16);
    EXPECT_NEAR(log_sigmoid(x), double(-softplus_ref(-(long double)x)), 4e-16 * std::max(1.0, std::fabs(x)));
  }
}

TEST(LogSumExp, MatchesDirectSumAndMerges) {
  Stream rng = Stream::derive(2, Purpose::user, 0);
  for (double scale : {1.0, 50.0, 1000.0}) {
    std::vector<double> x(257);
    for (double& v : x) v = scale * rng.normal();
    test::LogSumExpL ref;
    LogSumExp acc, left, right;
    for (std::size_t i = 0; i < x.size(); ++i) {
      ref.add(x[i]);
      acc.add(x[i]);
      (i < 100 ? left : right).add(x[i]);
    }
    const double r = double(ref.value());
    const double tol = 1e-14 * std::max(1.0, std::fabs(r));
    EXPECT_NEAR(acc.value(), r, tol) << scale;
    EXPECT_NEAR(log_sum_exp(x), r, tol) << scale;
    EXPECT_NEAR(log_mean_exp(x), r - std::log(257.0), tol) << scale;
    LogSumExp m1 = left, m2 = right;
    m1.merge(right);
    m2.merge(left);
    EXPECT_NEAR(m1.value(), r, tol);
    EXPECT_NEAR(m2.value(), r, tol);
  }
  // Values so large that exp overflows: still exact.
  LogSumExp big;
  big.add(1000);
  big.add(1000);
  EXPECT_DOUBLE_EQ(big.value(), 1000 + std::log(2.0));
  // Empty, -inf terms, NaN.
  EXPECT_EQ(LogSumExp().value(), -kInf);
  LogSumExp with_neg_inf;
  with_neg_inf.add(-kInf);
  EXPECT_EQ(with_neg_inf.value(), -kInf);
  with_neg_inf.add(3.0);
  EXPECT_EQ(with_neg_inf.value(), 3.0);
  LogSumExp with_nan;
  with_nan.add(1.0);
  with_nan.add(std::nan(""));
  EXPECT_TRUE(std::isnan(with_nan.value()));
  LogSumExp merged;
  merged.merge(with_nan);
  EXPECT_TRUE(std::isnan(merged.value()));
  LogSumExp e1;
  e1.merge(LogSumExp());
  EXPECT_EQ(e1.value(), -kInf);
  EXPECT_EQ(log_sum_exp(std::vector<double>{}), -kInf);
  EXPECT_EQ(log_sum_exp(std::vector<double>{-kInf, -kInf}), -kInf);
  EXPECT_TRUE(std::isnan(log_sum_exp(std::vector<double>{1.0, std::nan("")})) ||
              std::isnan(log_sum_exp(std::vector<double>{std::nan(""), 1.0})));
}

TEST(MeanVar, MatchesTwoPass) {
  Stream rng = Stream::derive(3, Purpose::user, 0);
  std::vector<double> x(1000);
  MeanVar mv;
  for (double& v : x) mv.add(v = 1e6 + rng.normal());
  long double m = 0, s = 0;
  for (double v : x) m += v;
  m /= x.size();
  for (double v : x) s += (v - m) * (v - m);
  EXPECT_NEAR(mv.mean, double(m), 1e-9);
  EXPECT_NEAR(mv.variance(), double(s / (x.size() - 1)), 1e-9);
  EXPECT_NEAR(mv.std_error(), std::sqrt(double(s / (x.size() - 1)) / 1000), 1e-12);
  MeanVar one;
  one.add(1);
  EXPECT_TRUE(std::isnan(one.variance()));
}

TEST(ExpNonpositive, WithinTwoUlpsOverItsRange) {
  double worst = 0;
  for (int k = 0; k <= 708000; ++k) {
    const double x = -k * 1e-3;  // [-708, 0] on a grid
    worst = std::max(worst, ulps(exp_nonpositive(x), std::exp((long double)x)));
  }
  Stream rng = Stream::derive(4, Purpose::user, 0);
  for (int i = 0; i < 300000; ++i) {
    const double x = -rng.uniform_double() * (i % 2 ? 708.0 : 1.0);
    worst = std::max(worst, ulps(exp_nonpositive(x), std::exp((long double)x)));
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(exp_nonpositive(0.0), 1.0);
  EXPECT_EQ(exp_nonpositive(-0.0), 1.0);
  EXPECT_EQ(exp_nonpositive(-708.5), 0.0);
  EXPECT_EQ(exp_nonpositive(-1e300), 0.0);
  EXPECT_EQ(exp_nonpositive(-kInf), 0.0);
}

/// Naive long-double references.
template <class X>
long double sum_softplus_ref(const std::vector<X>& x, double s) {
  long double r = 0;
  for (X v : x) r += softplus_ref((long double)s * (long double)v);
  return r;
}

template <class X>
void check_sums(std::uint64_t seed) {
  Stream rng = Stream::derive(seed, Purpose::user, sizeof(X));
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 100u, 511u, 512u, 513u, 1500u, 5000u}) {
    for (double scale : {0.1, 3.0, 40.0, 300.0}) {
      std::vector<X> x(n);
      for (X& v : x) v = X(scale * rng.normal());
      const long double abs_floor = 4.0L * n * DBL_EPSILON + 1e-300L;
      for (double s : {1.0, 0.37, -1.0}) {
        const long double ref = sum_softplus_ref(x, s);
        const double got = sum_softplus(x.data(), n, s);
        // 1e-13 relative (every term is positive: no cancellation), plus the design's
        // absolute error per term: the factor 1 + exp(-|v|) is rounded, multiplied into a
        // lane product and the product's log taken, about 3 roundings of a number in
        // [1, 2] per term, so terms far below eps (softplus(-40) = 4e-18) are lost: 4·n·eps.
        EXPECT_LE(std::fabs((long double)got - ref), 1e-13L * ref + abs_floor) << "n " << n << " scale " << scale << " s " << s;
      }
      // Differences: AIS-like steps (tiny s1 - s0) and large ones. The terms cancel, but
      // v1 = s1·x and v0 = s0·x are each rounded to their own magnitude, so the error is
      // bounded relative to the two softplus sums, not to their difference.
      for (auto [s1, s0] : {std::pair{0.5005, 0.5}, std::pair{1.0, 0.0}, std::pair{0.2, 0.9}, std::pair{1.0, 0.9995}}) {
        const long double r1 = sum_softplus_ref(x, s1), r0 = sum_softplus_ref(x, s0);
        const double got = sum_softplus_difference(x.data(), n, s1, s0);
        // Ratio factors in [1/2, 2]: as above, about 4 roundings per term.
        EXPECT_LE(std::fabs((long double)got - (r1 - r0)), 1e-13L * (r1 + r0) + 2.0L * abs_floor)
            << "n " << n << " scale " << scale << " s1 " << s1 << " s0 " << s0;
      }
    }
  }
}

TEST(VecMath, SumSoftplusMatchesNaiveLongDoubleSum) {
  check_sums<double>(5);
  check_sums<float>(6);
  // Extreme arguments: exp_nonpositive underflows to 0 and the linear part dominates.
  const std::vector<double> x = {-1e6, 1e6, -800, 800, 0, -745, 745};
  EXPECT_NEAR(sum_softplus(x.data(), x.size()), double(sum_softplus_ref(x, 1.0)), 1e-13 * 1e6);
  EXPECT_NEAR(sum_softplus_difference(x.data(), x.size(), 1.0, 0.5), double(sum_softplus_ref(x, 1.0) - sum_softplus_ref(x, 0.5)),
              1e-13 * 2e6);
}

TEST(VecMath, ManyLargeFactorsDoNotOverflow) {
  // 10^5 terms at x = 0: the product of (1 + 1) factors would overflow without the
  // per-lane logarithms.
  const std::vector<double> x(100000, 0.0);
  EXPECT_NEAR(sum_softplus(x.data(), x.size()), 100000 * std::log(2.0), 1e-13 * 100000 * std::log(2.0));
  EXPECT_NEAR(sum_softplus_difference(x.data(), x.size(), 1.0, 0.0), 0.0, 1e-10);
}

// log_unit and sincos_octant (Stream::fill_normal's) against long double over their domains and at
// their reduction edges.
constexpr double kEpsilon = std::numeric_limits<double>::epsilon();

TEST(VecMath, LogOfTheUnitIntervalIsWithinFourUlp) {
  Stream s = Stream::derive(42, Purpose::user, 0);
  auto check = [](double x) {
    const long double exact = std::log((long double)x);
    EXPECT_NEAR(log_unit(x), double(exact), 4 * kEpsilon * std::fabs(double(exact)) + 1e-300) << x;
  };
  for (int i = 0; i < 200000; ++i) check(s.uniform_double());
  for (double x : {0x1p-53, 0x1p-1022, 0.5, 0.70710678118654746, 0.70710678118654757, 1 - 0x1p-53, 1.0}) check(x);
}

TEST(VecMath, SineAndCosineOfAnOctantAreWithinFourUlp) {
  Stream s = Stream::derive(43, Purpose::user, 0);
  auto check = [](double x) {
    double sine = 0, cosine = 0;
    sincos_octant(x, sine, cosine);
    EXPECT_NEAR(sine, double(std::sin((long double)x)), 4 * kEpsilon * std::fabs(x)) << x;
    EXPECT_NEAR(cosine, double(std::cos((long double)x)), 4 * kEpsilon) << x;
  };
  for (int i = 0; i < 200000; ++i) check((2 * s.uniform_double() - 1) * std::numbers::pi / 4);
  for (double x : {0.0, 1e-300, -1e-300, std::numbers::pi / 4, -std::numbers::pi / 4}) check(x);
}

}  // namespace
}  // namespace logz
