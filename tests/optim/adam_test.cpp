// Tests of Adam: the first two steps against values computed by hand (30-digit
// arithmetic of Algorithm 1 of Kingma & Ba), the bias correction of the first step,
// convergence on an ill-conditioned quadratic, and pinned errors.
#include "logz/optim/adam.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "support/expect_error.hpp"

namespace logz {
namespace {

// θ0 = (1, −2), g1 = (0.5, −1), g2 = (0.1, 2), α = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e-8:
//   step 1: m = (0.05, −0.1), v = (0.00025, 0.001), m̂ = g1, v̂ = g1², so
//           θ1 = θ0 − 0.1·g1/(|g1| + ε) = (0.900000002, −1.900000001) to 9 digits;
//   step 2: m = (0.055, 0.11), v = (0.00025975, 0.004999), m̂ = m/0.19, v̂ = v/0.001999,
//           θ2 = θ1 − 0.1·m̂/(√v̂ + ε) = (0.81969590638465120977, −1.9366103534720750882).
TEST(Adam, FirstTwoStepsMatchHandComputation) {
  Adam adam(2, {0.1, 0.9, 0.999, 1e-8});
  VectorD theta(2), g(2);
  theta << 1.0, -2.0;
  g << 0.5, -1.0;
  adam.step(theta, g);
  EXPECT_EQ(adam.steps(), 1u);
  // A few ulps of rounding in each of a handful of operations.
  EXPECT_NEAR(theta[0], 0.90000000199999996, 1e-15);
  EXPECT_NEAR(theta[1], -1.90000000099999999, 1e-15);
  EXPECT_NEAR(adam.first_moment()[0], 0.05, 1e-16);
  EXPECT_NEAR(adam.second_moment()[1], 0.001, 1e-18);
  g << 0.1, 2.0;
  adam.step(theta, g);
  EXPECT_NEAR(adam.first_moment()[0], 0.055, 1e-16);
  EXPECT_NEAR(adam.first_moment()[1], 0.11, 1e-16);
  EXPECT_NEAR(adam.second_moment()[0], 0.00025975, 1e-18);
  EXPECT_NEAR(adam.second_moment()[1], 0.004999, 1e-17);
  EXPECT_NEAR(theta[0], 0.81969590638465120977, 1e-14);
  EXPECT_NEAR(theta[1], -1.9366103534720750882, 1e-14);
  // Not vacuous: without the bias correction the second step would be
  // 0.1·m/(√v + ε) = (0.341.., 1.555..) instead of (0.0803.., 0.0366..).
  EXPECT_GT(std::abs(theta[0] - (0.900000002 - 0.1 * 0.055 / std::sqrt(0.00025975))), 0.1);
}

// The first step of every coordinate is ±α whatever the gradient's scale (m̂/√v̂ = sign g
// after bias correction): exactly −α·g/(|g| + ε), off ±α by α·ε/|g|, plus rounding.
TEST(Adam, FirstStepHasTheLearningRateInEveryCoordinate) {
  const double alpha = 0.01, eps = 1e-12;
  Adam adam(3, {alpha, 0.9, 0.999, eps});
  VectorD theta = VectorD::Zero(3), g(3);
  g << 1e-6, -3.0, 1e4;
  adam.step(theta, g);
  for (Eigen::Index i = 0; i < 3; ++i)
    EXPECT_NEAR(theta[i], g[i] > 0 ? -alpha : alpha, alpha * (eps / std::abs(g[i]) + 1e-15)) << i;
}

// f(θ) = ½ Σ a_i (θ_i − c_i)², condition number 1000. Adam's step is about α·m̂/√v̂,
// which shrinks as the gradient's sign starts to alternate near the minimiser.
TEST(Adam, MinimisesAnIllConditionedQuadratic) {
  VectorD a(3), c(3);
  a << 1000.0, 1.0, 10.0;
  c << 1.0, -2.0, 0.5;
  const auto f = [&](const VectorD& t) { return 0.5 * (a.array() * (t - c).array().square()).sum(); };
  VectorD theta = VectorD::Zero(3);
  const double f0 = f(theta);
  Adam adam(3, {0.2, 0.9, 0.999, 1e-8});
  for (int t = 1; t <= 5000; ++t) {
    const VectorD g = (a.array() * (theta - c).array()).matrix();
    adam.step(theta, g);
  }
  EXPECT_LT((theta - c).lpNorm<Eigen::Infinity>(), 3e-3) << theta.transpose();
  EXPECT_LT(f(theta), 1e-6 * f0);
}

TEST(Adam, RefusesBadInput) {
  test::expect_error([] { Adam(0); }, Exit::usage, "Adam: the number of parameters must be >= 1 (got 0)");
  test::expect_error([] { Adam(2, {0.0, 0.9, 0.999, 1e-8}); }, Exit::usage,
                     "Adam: learning_rate must be finite and > 0 (got 0)");
  test::expect_error([] { Adam(2, {0.1, 1.0, 0.999, 1e-8}); }, Exit::usage, "Adam: beta1 must be in [0, 1) (got 1)");
  test::expect_error([] { Adam(2, {0.1, 0.9, -0.5, 1e-8}); }, Exit::usage, "Adam: beta2 must be in [0, 1) (got -0.5)");
  test::expect_error([] { Adam(2, {0.1, 0.9, 0.999, NAN}); }, Exit::usage,
                     "Adam: epsilon must be finite and > 0 (got nan)");
  Adam adam(2);
  VectorD theta = VectorD::Zero(2), g = VectorD::Zero(3);
  test::expect_error([&] { adam.step(theta, g); }, Exit::usage,
                     "Adam::step: params has 2 entries and grad 3 but the optimizer has 2 parameters");
  g = VectorD::Zero(2);
  g[1] = INFINITY;
  test::expect_error([&] { adam.step(theta, g); }, Exit::data, "Adam::step: grad[1] is not finite (inf)");
  EXPECT_EQ(adam.steps(), 0u);
  EXPECT_EQ(theta, VectorD::Zero(2));
}

}  // namespace
}  // namespace logz
