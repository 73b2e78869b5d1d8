// 2-D toy energies (ring, Gaussian mixture, banana) and UserEnergy: energies by hand,
// gradients and Laplacians against finite differences, log Z against its closed form and
// against trapezoid quadrature on a grid, log-sum-exp far from every mixture component,
// toy2d_by_name, pinned errors.
#include "logz/models/toy2d.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "logz/core/concepts.hpp"
#include "logz/core/rng.hpp"
#include "logz/models/user_energy.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

static_assert(DifferentiableEnergy<Ring>);
static_assert(DifferentiableEnergy<GaussianMixture2d>);
static_assert(DifferentiableEnergy<Banana>);
static_assert(DifferentiableEnergy<Toy2d>);
static_assert(DifferentiableEnergy<UserEnergy>);

using test::expect_error;

VectorD point(double x, double y) {
  VectorD p(2);
  p << x, y;
  return p;
}

/// A mixture with unequal weights (sum 2.5) and full covariances.
GaussianMixture2d skewed_mixture() {
  Eigen::Matrix2d s0, s1, s2;
  s0 << 1.0, 0.6, 0.6, 0.8;
  s1 << 0.3, -0.1, -0.1, 0.5;
  s2 << 2.0, 0.0, 0.0, 0.2;
  return GaussianMixture2d({0.5, 1.5, 0.5}, {{-1.5, 0.0}, {1.0, 1.0}, {0.5, -2.0}}, {s0, s1, s2});
}

/// ∫∫ exp(−E) by the trapezoid rule on [x0, x1] × [y0, y1] with n_x × n_y intervals; the
/// boxes below leave out less than e^−40 of the mass and cut the integrand where it is
/// that small, so the edge weights do not matter. For smooth integrands decaying this fast
/// the rule's error falls exponentially in 1/h (below 1e-12 at the spacings used, which
/// resolve the narrowest feature with h < σ/4).
template <class M>
double log_z_by_quadrature(const M& m, double x0, double x1, int nx, double y0, double y1, int ny) {
  const double hx = (x1 - x0) / nx, hy = (y1 - y0) / ny;
  long double z = 0;
  VectorD p(2);
  for (int i = 0; i <= nx; ++i) {
    p[0] = x0 + i * hx;
    long double row = 0;
    for (int j = 0; j <= ny; ++j) {
      p[1] = y0 + j * hy;
      row += std::exp(-m.energy(p));
    }
    z += row;
  }
  return double(std::log(z * hx * hy));
}

/// Checks ∇E and ΔE against central differences at `points` random points of N(0, scale²).
/// With h = 1e-5 the truncation error h² |E'''| / 6 is below 1e-8 for these energies in
/// the region sampled, and rounding ε_mach |E| / h below 1e-9 for |E| < 100; second
/// differences of the analytic gradient likewise. Tolerance 1e-6 (1 + |value|).
template <class M>
void expect_derivatives_match(const M& m, std::uint64_t seed, double scale, int points = 20) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  const double h = 1e-5;
  for (int k = 0; k < points; ++k) {
    const VectorD x = point(scale * rng.normal(), scale * rng.normal());
    VectorD g(2), gp(2), gm(2);
    EXPECT_DOUBLE_EQ(m.energy_and_gradient(x, g), m.energy(x));
    double lap = 0;
    for (int i = 0; i < 2; ++i) {
      VectorD xp = x, xm = x;
      xp[i] += h;
      xm[i] -= h;
      const double fd = (m.energy(xp) - m.energy(xm)) / (2 * h);
      EXPECT_NEAR(g[i], fd, 1e-6 * (1 + std::abs(fd))) << m.name() << " at (" << x[0] << ", " << x[1] << "), i = " << i;
      m.energy_and_gradient(xp, gp);
      m.energy_and_gradient(xm, gm);
      lap += (gp[i] - gm[i]) / (2 * h);
    }
    EXPECT_NEAR(m.laplacian(x), lap, 1e-6 * (1 + std::abs(lap))) << m.name() << " at (" << x[0] << ", " << x[1] << ")";
  }
}

TEST(Ring, EnergyByHandAndLogPartitionClosedForm) {
  const Ring r;
  EXPECT_EQ(r.a(), 0.1);
  EXPECT_EQ(r.energy(point(1, 0)), 0.0);
  EXPECT_DOUBLE_EQ(r.energy(point(0, 0)), 0.1);
  EXPECT_DOUBLE_EQ(r.energy(point(1, 1)), 0.1);
  EXPECT_DOUBLE_EQ(r.energy(point(2, 1)), 1.6);
  EXPECT_DOUBLE_EQ(r.laplacian(point(0, 0)), -0.8);
  // log(π^{3/2} (1 + erf √0.1) / (2 √0.1)) to 30 digits (mpmath): 2.47184173565814455984.
  EXPECT_NEAR(r.log_partition(), 2.47184173565814455984, 1e-12);
}

TEST(Ring, LogPartitionMatchesQuadrature) {
  // a = 0.1: exp(−E) < e^−40 beyond r = 4.7; the edges of the box ±5.5 have r >= 5.5 (E > 85).
  EXPECT_NEAR(log_z_by_quadrature(Ring(0.1), -5.5, 5.5, 1100, -5.5, 5.5, 1100), Ring(0.1).log_partition(), 1e-10);
  // A thin ring (a = 20, radial width ~ 0.1): same formula.
  EXPECT_NEAR(log_z_by_quadrature(Ring(20), -1.6, 1.6, 1600, -1.6, 1.6, 1600), Ring(20).log_partition(), 1e-10);
}

TEST(Ring, DerivativesMatchFiniteDifferences) {
  expect_derivatives_match(Ring(), 1, 1.5);
  expect_derivatives_match(Ring(3.0), 2, 1.0);
}

TEST(GaussianMixture2d, EnergyByHand) {
  // One standard component: E(x) = |x|²/2 + log 2π.
  const GaussianMixture2d one = GaussianMixture2d::isotropic({1.0}, {{0.0, 0.0}}, {1.0});
  EXPECT_NEAR(one.energy(point(0, 0)), std::log(2 * std::numbers::pi), 1e-15);
  EXPECT_NEAR(one.energy(point(1, 2)), 2.5 + std::log(2 * std::numbers::pi), 1e-14);
  EXPECT_DOUBLE_EQ(one.log_partition(), 0.0);
  // Two components, term by term: p(x) = Σ w_k exp(−|x − μ_k|² / (2 σ_k²)) / (2π σ_k²).
  const GaussianMixture2d two = GaussianMixture2d::isotropic({0.3, 0.7}, {{1.0, 0.0}, {-1.0, 2.0}}, {0.5, 2.0});
  const VectorD x = point(0.2, 0.4);
  const double p = 0.3 * std::exp(-(0.64 + 0.16) / 0.5) / (2 * std::numbers::pi * 0.25) +
                   0.7 * std::exp(-(1.44 + 2.56) / 8.0) / (2 * std::numbers::pi * 4.0);
  EXPECT_NEAR(two.energy(x), -std::log(p), 1e-14);
  EXPECT_NEAR(two.log_partition(), 0.0, 1e-15);
  EXPECT_EQ(two.num_components(), 2u);
  EXPECT_NEAR(skewed_mixture().log_partition(), std::log(2.5), 1e-15);
}

TEST(GaussianMixture2d, LogSumExpFarFromEveryComponent) {
  // At x = (300, 0) every term is below e^−20000 (0 in double); the log-sum-exp keeps the
  // energy, gradient and Laplacian finite and equal to those of the nearest component.
  const GaussianMixture2d m = GaussianMixture2d::isotropic({0.5, 0.5}, {{1.0, 0.0}, {-1.0, 0.0}}, {0.5, 0.5});
  const VectorD x = point(300, 0);
  VectorD g(2);
  const double e = m.energy_and_gradient(x, g);
  const double expect = 299.0 * 299.0 / (2 * 0.25) + std::log(2 * std::numbers::pi * 0.25) - std::log(0.5);
  EXPECT_NEAR(e, expect, 1e-12 * expect);
  EXPECT_NEAR(g[0], 299.0 / 0.25, 1e-9);
  EXPECT_EQ(g[1], 0.0);
  EXPECT_NEAR(m.laplacian(x), 8.0, 1e-9);
}

TEST(GaussianMixture2d, LogPartitionMatchesQuadrature) {
  // Eight modes σ = 0.5 on the circle of radius 3: the box ±8 is 10 σ beyond every mode.
  const GaussianMixture2d eight = GaussianMixture2d::eight_modes();
  EXPECT_EQ(eight.num_components(), 8u);
  EXPECT_NEAR(log_z_by_quadrature(eight, -8, 8, 1600, -8, 8, 1600), 0.0, 1e-10);
  // Largest marginal sd √2: the box is at least 9 sd from every mean.
  const GaussianMixture2d skew = skewed_mixture();
  EXPECT_NEAR(log_z_by_quadrature(skew, -14, 14, 1400, -15, 15, 1500), std::log(2.5), 1e-10);
}

TEST(GaussianMixture2d, DerivativesMatchFiniteDifferences) {
  expect_derivatives_match(GaussianMixture2d::eight_modes(), 3, 3.0);
  expect_derivatives_match(skewed_mixture(), 4, 2.0);
}

TEST(Banana, EnergyByHand) {
  const Banana b(0.5, 2.0);
  // x = (1, 3): t = 3 + 0.5 (1 − 4) = 1.5, E = 1/8 + 1.125.
  EXPECT_DOUBLE_EQ(b.energy(point(1, 3)), 0.125 + 1.125);
  VectorD g(2);
  b.energy_and_gradient(point(1, 3), g);
  EXPECT_DOUBLE_EQ(g[0], 0.25 + 1.5);
  EXPECT_DOUBLE_EQ(g[1], 1.5);
  // On the curve x₂ = −b (x₁² − s²) the energy is the first coordinate's alone.
  EXPECT_DOUBLE_EQ(b.energy(point(3, -2.5)), 9.0 / 8.0);
  EXPECT_NEAR(Banana().log_partition(), std::log(20 * std::numbers::pi), 1e-15);
  EXPECT_EQ(Banana().b(), 0.03);
  EXPECT_EQ(Banana().s(), 10.0);
}

TEST(Banana, LogPartitionMatchesQuadrature) {
  // b = 0.5, s = 1: |x₁| <= 9 holds all but e^−40 of x₁'s mass; x₂ = t − b (x₁² − 1) with
  // |t| <= 9 lies in [−49, 9.5].
  EXPECT_NEAR(log_z_by_quadrature(Banana(0.5, 1.0), -9, 9, 900, -49, 9.5, 2925), Banana(0.5, 1.0).log_partition(),
              1e-10);
  // Haario's moderately twisted case: |x₁| <= 90 (9 sd), x₂ in [−252, 12].
  EXPECT_NEAR(log_z_by_quadrature(Banana(), -90, 90, 1800, -252, 12, 2640), Banana().log_partition(), 1e-10);
}

TEST(Banana, DerivativesMatchFiniteDifferences) {
  expect_derivatives_match(Banana(), 5, 5.0);
  expect_derivatives_match(Banana(0.5, 1.0), 6, 1.5);
}

TEST(Toy2d, ByNameForwardsToTheToy) {
  const VectorD x = point(0.3, -1.2);
  VectorD g(2), g_ref(2);
  for (const auto& [name, alias] : {std::pair{"ring2d", "ring"}, {"mixture2d", "mixture"}, {"banana2d", "banana"}}) {
    const Toy2d t = toy2d_by_name(name);
    EXPECT_EQ(std::string(t.name()), name);
    EXPECT_EQ(std::string(toy2d_by_name(alias).name()), name);
    EXPECT_EQ(t.dimension(), 2u);
    std::visit(
        [&](const auto& m) {
          EXPECT_EQ(t.energy(x), m.energy(x));
          EXPECT_EQ(t.energy_of(x), m.energy(x));
          EXPECT_EQ(t.energy_and_gradient(x, g), m.energy_and_gradient(x, g_ref));
          EXPECT_EQ(g, g_ref);
          EXPECT_EQ(t.laplacian(x), m.laplacian(x));
          EXPECT_EQ(t.log_partition(), m.log_partition());
        },
        t.variant());
  }
  EXPECT_EQ(toy2d_names.size(), 3u);
  EXPECT_NEAR(toy2d_by_name("ring2d").log_partition(), 2.47184173565814455984, 1e-12);
  EXPECT_NEAR(toy2d_by_name("mixture2d").log_partition(), 0.0, 1e-15);
  expect_error([] { toy2d_by_name("donut"); }, Exit::usage,
               "toy2d_by_name: unknown 2-D energy 'donut' (known: ring2d, mixture2d, banana2d)");
}

TEST(Toy2d, BadParametersAndSizes) {
  expect_error([] { Ring(0.0); }, Exit::data, "Ring: a must be finite and > 0 (got 0)");
  expect_error([] { Ring(std::numeric_limits<double>::quiet_NaN()); }, Exit::data,
               "Ring: a must be finite and > 0 (got nan)");
  expect_error([] { Banana(std::numeric_limits<double>::infinity()); }, Exit::data, "Banana: b must be finite (got inf)");
  expect_error([] { Banana(0.1, -1.0); }, Exit::data, "Banana: s must be finite and > 0 (got -1)");
  expect_error([] { GaussianMixture2d({}, {}, {}); }, Exit::data, "GaussianMixture2d: needs at least one component");
  expect_error([] { GaussianMixture2d::isotropic({1.0, 1.0}, {{0.0, 0.0}}, {1.0, 1.0}); }, Exit::data,
               "GaussianMixture2d: 2 weights, 1 means and 2 covariances; the counts must agree");
  expect_error([] { GaussianMixture2d::isotropic({1.0, 0.0}, {{0.0, 0.0}, {1.0, 1.0}}, {1.0, 1.0}); }, Exit::data,
               "GaussianMixture2d: weight 1 must be finite and > 0 (got 0)");
  expect_error([] { GaussianMixture2d::isotropic({1.0}, {{0.0, std::nan("")}}, {1.0}); }, Exit::data,
               "GaussianMixture2d: mean 0 is not finite (0, nan)");
  expect_error([] { GaussianMixture2d::isotropic({1.0}, {{0.0, 0.0}}, {0.0}); }, Exit::data,
               "GaussianMixture2d: sigma 0 must be finite and > 0 (got 0)");
  Eigen::Matrix2d asym, indefinite;
  asym << 1, 0.5, 0.4, 1;
  indefinite << 1, 2, 2, 1;
  expect_error([&] { GaussianMixture2d({1.0}, {{0.0, 0.0}}, {asym}); }, Exit::data,
               "GaussianMixture2d: covariance 0 is not symmetric (0.5 vs 0.4)");
  expect_error([&] { GaussianMixture2d({1.0}, {{0.0, 0.0}}, {indefinite}); }, Exit::data,
               "GaussianMixture2d: covariance 0 is not positive definite");
  const VectorD x3 = VectorD::Zero(3);
  VectorD g2(2), g3(3);
  expect_error([&] { Ring().energy(x3); }, Exit::usage, "Ring::energy: x has 3 entries but the model has dimension 2");
  expect_error([&] { Banana().laplacian(x3); }, Exit::usage,
               "Banana::laplacian: x has 3 entries but the model has dimension 2");
  expect_error([&] { GaussianMixture2d::eight_modes().energy_and_gradient(point(0, 0), g3); }, Exit::usage,
               "GaussianMixture2d::energy_and_gradient: grad has 3 entries but the model has dimension 2");
  expect_error([&] { toy2d_by_name("ring2d").energy_and_gradient(x3, g2); }, Exit::usage,
               "Ring::energy_and_gradient: x has 3 entries but the model has dimension 2");
}

TEST(UserEnergy, WrapsCallables) {
  const Ring ring(0.5);
  const UserEnergy u(
      2, [&](const Eigen::Ref<const VectorD>& x) { return ring.energy(x); },
      [&](const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> g) { ring.energy_and_gradient(x, g); });
  EXPECT_EQ(u.dimension(), 2u);
  const VectorD x = point(0.7, -0.4);
  VectorD g(2), g_ref(2);
  EXPECT_EQ(u.energy(x), ring.energy(x));
  EXPECT_EQ(u.energy_of(x), ring.energy(x));
  EXPECT_EQ(u.energy_and_gradient(x, g), ring.energy_and_gradient(x, g_ref));
  EXPECT_EQ(g, g_ref);
  // Non-finite values are passed through (a kernel turns them into rejections).
  const UserEnergy nan(
      1, [](const Eigen::Ref<const VectorD>&) { return std::numeric_limits<double>::quiet_NaN(); },
      [](const Eigen::Ref<const VectorD>&, Eigen::Ref<VectorD> g) { g.setConstant(1.0); });
  EXPECT_TRUE(std::isnan(nan.energy(VectorD::Zero(1))));
}

TEST(UserEnergy, BadArguments) {
  auto e = [](const Eigen::Ref<const VectorD>& x) { return x.squaredNorm(); };
  auto g = [](const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> out) { out = 2 * x; };
  expect_error([&] { UserEnergy(0, e, g); }, Exit::usage, "UserEnergy: dimension must be >= 1 (got 0)");
  expect_error([&] { UserEnergy(2, nullptr, g); }, Exit::usage, "UserEnergy: the energy function is empty");
  expect_error([&] { UserEnergy(2, e, nullptr); }, Exit::usage, "UserEnergy: the gradient function is empty");
  const UserEnergy u(2, e, g);
  VectorD x3 = VectorD::Zero(3), x2 = VectorD::Zero(2), g3(3);
  expect_error([&] { u.energy(x3); }, Exit::usage, "UserEnergy::energy: x has 3 entries but the model has dimension 2");
  expect_error([&] { u.energy_and_gradient(x2, g3); }, Exit::usage,
               "UserEnergy::energy_and_gradient: grad has 3 entries but the model has dimension 2");
}

}  // namespace
}  // namespace logz
