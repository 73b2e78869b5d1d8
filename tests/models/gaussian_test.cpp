// Gaussian energy model: energy, gradient and Laplacian by hand and by finite differences,
// log Z against the formula worked by hand and against brute-force 2-D quadrature, exact
// draws against the mean and covariance within z·SE, Gaussian::fit against sample moments
// computed term by term, pinned errors for bad precisions, bad data and bad sizes.
#include "logz/models/gaussian.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>

#include "logz/core/concepts.hpp"
#include "support/expect_error.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

static_assert(DifferentiableEnergy<Gaussian>);
static_assert(ExactlySampleable<Gaussian>);

using test::expect_error;
using test::normal_two_sided_z;

/// μ = (1, −2), Λ = [[2, 0.5], [0.5, 1]].
Gaussian two_d() {
  VectorD mu(2);
  mu << 1, -2;
  MatrixD lam(2, 2);
  lam << 2, 0.5, 0.5, 1;
  return Gaussian(mu, lam);
}

/// A d-dimensional Gaussian with a random mean and Λ = A Aᵀ + I (A entries N(0, 1)).
Gaussian random_gaussian(std::uint64_t seed, int d) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  MatrixD a(d, d);
  VectorD mu(d);
  for (int i = 0; i < d; ++i) mu[i] = rng.normal();
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) a(i, j) = rng.normal();
  MatrixD lam = a * a.transpose() + MatrixD::Identity(d, d);
  return Gaussian(mu, lam);
}

TEST(Gaussian, EnergyGradientAndLaplacianByHand) {
  const Gaussian g = two_d();
  EXPECT_EQ(g.dimension(), 2u);
  // x = 0: r = x − μ = (−1, 2), Λ r = (−1, 1.5), E = ½ (1 + 3) = 2.
  VectorD x = VectorD::Zero(2), grad(2);
  EXPECT_DOUBLE_EQ(g.energy(x), 2.0);
  EXPECT_DOUBLE_EQ(g.energy_of(x), 2.0);
  EXPECT_DOUBLE_EQ(g.energy_and_gradient(x, grad), 2.0);
  EXPECT_DOUBLE_EQ(grad[0], -1.0);
  EXPECT_DOUBLE_EQ(grad[1], 1.5);
  EXPECT_DOUBLE_EQ(g.laplacian(x), 3.0);
  EXPECT_EQ(g.energy(g.mean()), 0.0);
  // log Z = log 2π − ½ log det Λ, det Λ = 2 − 0.25 = 1.75.
  const double log_z = std::log(2 * std::numbers::pi) - 0.5 * std::log(1.75);
  EXPECT_NEAR(g.log_partition(), log_z, 1e-15);
  EXPECT_NEAR(g.log_density(x), -2.0 - log_z, 1e-15);
  // Σ = Λ⁻¹ = [[1, −0.5], [−0.5, 2]] / 1.75.
  const MatrixD cov = g.covariance();
  EXPECT_NEAR(cov(0, 0), 1 / 1.75, 1e-15);
  EXPECT_NEAR(cov(0, 1), -0.5 / 1.75, 1e-15);
  EXPECT_NEAR(cov(1, 0), -0.5 / 1.75, 1e-15);
  EXPECT_NEAR(cov(1, 1), 2 / 1.75, 1e-15);
}

TEST(Gaussian, IsotropicIsStandardScaled) {
  const Gaussian g = Gaussian::isotropic(3, 2.0);
  VectorD x(3);
  x << 1, 2, 3;
  EXPECT_DOUBLE_EQ(g.energy(x), 14.0 / 8.0);
  EXPECT_NEAR(g.log_partition(), 1.5 * std::log(2 * std::numbers::pi) + 3 * std::log(2.0), 1e-14);
  EXPECT_DOUBLE_EQ(g.laplacian(x), 0.75);
}

TEST(Gaussian, GradientAndLaplacianMatchFiniteDifferences) {
  // Central differences of a quadratic have no truncation error: what is left is rounding,
  // about ε_mach |E| / h ≈ 1e-16 · 50 / 1e-4 = 5e-11 for the gradient and
  // ε_mach |E| / h² ≈ 5e-7 for second differences; tolerances are 20x those.
  const Gaussian g = random_gaussian(11, 5);
  Stream rng = Stream::derive(12, Purpose::user, 0);
  for (int trial = 0; trial < 5; ++trial) {
    VectorD x(5), grad(5);
    for (int i = 0; i < 5; ++i) x[i] = g.mean()[i] + rng.normal();
    const double e = g.energy_and_gradient(x, grad);
    EXPECT_DOUBLE_EQ(e, g.energy(x));
    const double h = 1e-4;
    double lap = 0;
    for (int i = 0; i < 5; ++i) {
      VectorD xp = x, xm = x;
      xp[i] += h;
      xm[i] -= h;
      EXPECT_NEAR(grad[i], (g.energy(xp) - g.energy(xm)) / (2 * h), 1e-9) << "coordinate " << i;
      lap += (g.energy(xp) - 2 * e + g.energy(xm)) / (h * h);
    }
    EXPECT_NEAR(g.laplacian(x), lap, 1e-5);
  }
}

TEST(Gaussian, LogPartitionMatchesTwoDimensionalQuadrature) {
  // Trapezoid rule over a box of ±12 marginal standard deviations: outside it exp(−E) is
  // below exp(−72), and for a smooth integrand decaying this fast the rule's error is
  // exponentially small in 1/h (far below 1e-12 at h = 0.02 σ).
  const Gaussian g = two_d();
  const MatrixD cov = g.covariance();
  const double s0 = std::sqrt(cov(0, 0)), s1 = std::sqrt(cov(1, 1));
  const int n = 1200;
  const double h0 = 24 * s0 / n, h1 = 24 * s1 / n;
  long double z = 0;
  VectorD x(2);
  for (int i = 0; i <= n; ++i)
    for (int j = 0; j <= n; ++j) {
      x << g.mean()[0] - 12 * s0 + i * h0, g.mean()[1] - 12 * s1 + j * h1;
      z += std::exp(-g.energy(x));  // edge weights ½ are irrelevant: the edges are < e^-72
    }
  EXPECT_NEAR(g.log_partition(), double(std::log(z * h0 * h1)), 1e-12);
}

TEST(Gaussian, ExactDrawsHaveTheMeanAndCovariance) {
  // n iid draws: the mean of coordinate i has SE √(Σ_ii / n); with the true mean known,
  // mean of (x_i − μ_i)(x_j − μ_j) estimates Σ_ij with variance (Σ_ii Σ_jj + Σ_ij²) / n.
  // z for a two-sided rate of 1e-5 per check: 9 checks fail falsely at < 1e-4 together.
  const Gaussian g = random_gaussian(21, 3);
  const MatrixD cov = g.covariance();
  const int n = 20000;
  Stream rng = Stream::derive(22, Purpose::sample, 0);
  VectorD sum = VectorD::Zero(3);
  MatrixD sum2 = MatrixD::Zero(3, 3);
  VectorD x(3);
  for (int k = 0; k < n; ++k) {
    g.sample(rng, x);
    const VectorD r = x - g.mean();
    sum += r;
    sum2 += r * r.transpose();
  }
  const double z = normal_two_sided_z(1e-5);
  for (int i = 0; i < 3; ++i) {
    EXPECT_LE(std::abs(sum[i] / n), z * std::sqrt(cov(i, i) / n)) << "mean " << i;
    for (int j = i; j < 3; ++j) {
      const double se = std::sqrt((cov(i, i) * cov(j, j) + cov(i, j) * cov(i, j)) / n);
      EXPECT_LE(std::abs(sum2(i, j) / n - cov(i, j)), z * se) << "covariance " << i << ", " << j;
    }
  }
  // Same stream, same draws.
  Stream a = Stream::derive(5, Purpose::sample, 0), b = Stream::derive(5, Purpose::sample, 0);
  VectorD xa(3), xb(3);
  g.sample(a, xa);
  g.sample(b, xb);
  EXPECT_EQ(xa, xb);
}

TEST(Gaussian, CovarianceInvertsThePrecision) {
  const Gaussian g = random_gaussian(31, 6);
  const MatrixD prod = g.covariance() * g.precision();
  EXPECT_LE((prod - MatrixD::Identity(6, 6)).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(Gaussian, SymmetrisesAPrecisionThatIsSymmetricUpToRounding) {
  MatrixD lam(2, 2);
  lam << 2, 0.5, 0.5 + 1e-15, 1;
  const Gaussian g(VectorD::Zero(2), lam);
  EXPECT_EQ(g.precision()(0, 1), g.precision()(1, 0));
}

TEST(Gaussian, FitMatchesSampleMoments) {
  // Sample mean and covariance (divisor n − 1) summed term by term.
  Stream rng = Stream::derive(41, Purpose::data, 0);
  const int n = 50, d = 3;
  MatrixD data(n, d);
  for (int r = 0; r < n; ++r) {
    const double u = rng.normal();
    data(r, 0) = 1 + u;
    data(r, 1) = -2 + 0.5 * u + rng.normal();
    data(r, 2) = 3 * rng.normal();
  }
  const Gaussian g = Gaussian::fit(data);
  const MatrixD cov = g.covariance();
  for (int i = 0; i < d; ++i) {
    long double m = 0;
    for (int r = 0; r < n; ++r) m += data(r, i);
    m /= n;
    EXPECT_NEAR(g.mean()[i], double(m), 1e-14);
    for (int j = 0; j < d; ++j) {
      long double mj = 0, c = 0;
      for (int r = 0; r < n; ++r) mj += data(r, j);
      mj /= n;
      for (int r = 0; r < n; ++r) c += (data(r, i) - m) * (data(r, j) - mj);
      EXPECT_NEAR(cov(i, j), double(c / (n - 1)), 1e-12) << i << ", " << j;
    }
  }
}

TEST(Gaussian, BadPrecisionIsADataError) {
  MatrixD indefinite(2, 2);
  indefinite << 1, 2, 2, 1;
  expect_error([&] { Gaussian(VectorD::Zero(2), indefinite); }, Exit::data,
               "Gaussian: precision matrix is not positive definite (the model is not normalisable)");
  expect_error([&] { Gaussian(VectorD::Zero(2), MatrixD::Zero(2, 2)); }, Exit::data,
               "Gaussian: precision matrix is not positive definite (the model is not normalisable)");
  MatrixD asym(2, 2);
  asym << 2, 0.5, 0.4, 1;
  expect_error([&] { Gaussian(VectorD::Zero(2), asym); }, Exit::data,
               "Gaussian: precision matrix is not symmetric: precision(0, 1) = 0.5 but precision(1, 0) = 0.4");
  MatrixD nan = MatrixD::Identity(2, 2);
  nan(1, 1) = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { Gaussian(VectorD::Zero(2), nan); }, Exit::data, "Gaussian: precision(1, 1) is not finite (nan)");
  VectorD mu = VectorD::Zero(2);
  mu[0] = std::numeric_limits<double>::infinity();
  expect_error([&] { Gaussian(mu, MatrixD::Identity(2, 2)); }, Exit::data, "Gaussian: mean[0] is not finite (inf)");
  expect_error([&] { Gaussian(VectorD::Zero(3), MatrixD::Identity(2, 2)); }, Exit::data,
               "Gaussian: the precision matrix is 2x2 but the mean has 3 entries");
  expect_error([&] { Gaussian(VectorD::Zero(2), MatrixD::Identity(2, 3)); }, Exit::data,
               "Gaussian: the precision matrix is 2x3 but the mean has 2 entries");
  expect_error([&] { Gaussian(VectorD(), MatrixD()); }, Exit::data,
               "Gaussian: the model needs dimension >= 1, got a mean of size 0");
}

TEST(Gaussian, BadArgumentsAreUsageErrors) {
  expect_error([] { Gaussian::isotropic(0, 1.0); }, Exit::usage, "Gaussian::isotropic: dimension must be >= 1 (got 0)");
  expect_error([] { Gaussian::isotropic(2, 0.0); }, Exit::usage,
               "Gaussian::isotropic: sigma must be finite and > 0 (got 0)");
  expect_error([] { Gaussian::isotropic(2, std::numeric_limits<double>::infinity()); }, Exit::usage,
               "Gaussian::isotropic: sigma must be finite and > 0 (got inf)");
  const Gaussian g = two_d();
  VectorD x3 = VectorD::Zero(3), g2(2), g3(3);
  VectorD x2 = VectorD::Zero(2);
  expect_error([&] { g.energy(x3); }, Exit::usage, "Gaussian::energy: x has 3 entries but the model has dimension 2");
  expect_error([&] { g.energy_and_gradient(x3, g2); }, Exit::usage,
               "Gaussian::energy_and_gradient: x has 3 entries but the model has dimension 2");
  expect_error([&] { g.energy_and_gradient(x2, g3); }, Exit::usage,
               "Gaussian::energy_and_gradient: grad has 3 entries but the model has dimension 2");
  expect_error([&] { g.laplacian(x3); }, Exit::usage, "Gaussian::laplacian: x has 3 entries but the model has dimension 2");
  Stream rng = Stream::root(1);
  expect_error([&] { g.sample(rng, x3); }, Exit::usage, "Gaussian::sample: x has 3 entries but the model has dimension 2");
}

TEST(Gaussian, FitRejectsBadData) {
  expect_error([] { Gaussian::fit(MatrixD(1, 2)); }, Exit::data, "Gaussian::fit: needs at least 2 samples (rows), got 1");
  expect_error([] { Gaussian::fit(MatrixD(5, 0)); }, Exit::data, "Gaussian::fit: data has no columns");
  MatrixD data(4, 2);
  data << 0, 1, 1, 0, 2, 3, 5, 1;
  MatrixD nan = data;
  nan(2, 1) = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { Gaussian::fit(nan); }, Exit::data, "Gaussian::fit: data(2, 1) is not finite (nan)");
  MatrixD constant = data;
  constant.col(1).setConstant(0.1);
  expect_error([&] { Gaussian::fit(constant); }, Exit::data,
               "Gaussian::fit: column 1 has zero variance (every sample is 0.1)");
  expect_error([&] { Gaussian::fit(data.topRows(2)); }, Exit::data,
               "Gaussian::fit: 2 samples cannot determine a 2-dimensional covariance (need at least 3)");
  MatrixD collinear(4, 3);
  collinear.leftCols(2) = data;
  collinear.col(2) = 0.1 * data.col(0) - 3.0 * data.col(1);  // linearly dependent up to rounding
  expect_error([&] { Gaussian::fit(collinear); }, Exit::data,
               "Gaussian::fit: the sample covariance is singular (some columns are linearly dependent)");
  EXPECT_NO_THROW(Gaussian::fit(data));
}

}  // namespace
}  // namespace logz
