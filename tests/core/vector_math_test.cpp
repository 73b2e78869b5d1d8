// core/vector_math.hpp against the C library in long double: each function within a few
// ulp over its whole domain, at its reduction boundaries and at the ends.
#include "logz/core/vector_math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>

#include "logz/core/rng.hpp"

namespace logz {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

TEST(VectorMath, ExpOfNonPositiveArgumentsIsWithinFourUlp) {
  Stream s = Stream::derive(41, Purpose::user, 0);
  auto check = [](double x) {
    const long double exact = std::exp((long double)x);
    EXPECT_NEAR(vmath::exp_nonpositive(x), double(exact), 4 * kEps * double(exact)) << x;
  };
  for (int i = 0; i < 200000; ++i) check(-708.0 * s.uniform_double() * (i % 3 ? 1e-3 : 1.0));
  // Halfway points of the reduction (x / ln 2 = k + 1/2), 0, and the ends.
  for (int k = 0; k < 1020; k += 7) check(-(k + 0.5) * std::numbers::ln2);
  for (double x : {0.0, -0.0, -1e-300, -kEps, -0.3465, -0.3466, -707.9}) check(x);
  EXPECT_EQ(vmath::exp_nonpositive(-708.5), 0.0);
  EXPECT_EQ(vmath::exp_nonpositive(-1e6), 0.0);
  EXPECT_EQ(vmath::exp_nonpositive(0.0), 1.0);
}

TEST(VectorMath, LogOfTheUnitIntervalIsWithinFourUlp) {
  Stream s = Stream::derive(42, Purpose::user, 0);
  auto check = [](double x) {
    const long double exact = std::log((long double)x);
    EXPECT_NEAR(vmath::log_unit(x), double(exact), 4 * kEps * std::fabs(double(exact)) + 1e-300) << x;
  };
  for (int i = 0; i < 200000; ++i) check(s.uniform_double());
  for (double x : {0x1p-53, 0x1p-1022, 0.5, 0.70710678118654746, 0.70710678118654757, 1 - 0x1p-53, 1.0}) check(x);
}

TEST(VectorMath, SineAndCosineOfAnOctantAreWithinFourUlp) {
  Stream s = Stream::derive(43, Purpose::user, 0);
  auto check = [](double x) {
    double sine = 0, cosine = 0;
    vmath::sincos_octant(x, sine, cosine);
    EXPECT_NEAR(sine, double(std::sin((long double)x)), 4 * kEps * std::fabs(x)) << x;
    EXPECT_NEAR(cosine, double(std::cos((long double)x)), 4 * kEps) << x;
  };
  for (int i = 0; i < 200000; ++i) check((2 * s.uniform_double() - 1) * std::numbers::pi / 4);
  for (double x : {0.0, 1e-300, -1e-300, std::numbers::pi / 4, -std::numbers::pi / 4}) check(x);
}

}  // namespace
}  // namespace logz
