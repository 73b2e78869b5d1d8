// The Ising model: energies by hand, conditional energies against energy differences,
// parameter views, lattice constructors, and every validation message.
#include "logz/models/ising.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "logz/core/concepts.hpp"
#include "logz/core/rng.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

static_assert(EnergyModel<Ising>);

VectorD vec(std::initializer_list<double> v) {
  VectorD x{Eigen::Index(v.size())};
  Eigen::Index i = 0;
  for (double a : v) x[i++] = a;
  return x;
}

Ising triangle(SpinConvention c = SpinConvention::plus_minus_one) {
  return Ising(3, {{0, 1, 1.0}, {1, 2, -2.0}, {0, 2, 0.5}}, vec({0.1, -0.2, 0.3}), c);
}

TEST(Ising, EnergyByHandTriangle) {
  const Ising m = triangle();
  // E = -(0.1 - 0.2 - 0.3) - (1·1·1 + (-2)·1·(-1) + 0.5·1·(-1)) = 0.4 - 2.5.
  EXPECT_NEAR(m.energy(vec({1, 1, -1})), -2.1, 1e-15);
  // All up: -(0.2) - (1 - 2 + 0.5) = 0.3.
  EXPECT_NEAR(m.energy(vec({1, 1, 1})), 0.3, 1e-15);
  const Ising z = triangle(SpinConvention::zero_one);
  // 0/1 spins (1, 1, 0): -(0.1 - 0.2) - 1 = -0.9.
  EXPECT_NEAR(z.energy(vec({1, 1, 0})), -0.9, 1e-15);
  EXPECT_EQ(z.energy(vec({0, 0, 0})), 0.0);
  EXPECT_EQ(m.energy_of(vec({1, 1, -1})), m.energy(vec({1, 1, -1})));
}

TEST(Ising, EnergyByHandTwoByTwo) {
  // Sites 0 1 / 2 3; bonds 0-1, 0-2, 1-3, 2-3.
  const Ising m = Ising::lattice_2d(2, 2, 1.0, 0.5);
  ASSERT_EQ(m.n_edges(), 4u);
  // Checkerboard (+ - / - +): every bond unsatisfied, magnetisation 0: E = 4.
  EXPECT_NEAR(m.energy(vec({1, -1, -1, 1})), 4.0, 1e-15);
  // All up: -0.5·4 - 4 = -6.
  EXPECT_NEAR(m.energy(vec({1, 1, 1, 1})), -6.0, 1e-15);
  // One flipped: -0.5·2 - (2 - 2) = -1.
  EXPECT_NEAR(m.energy(vec({-1, 1, 1, 1})), -1.0, 1e-15);
  // Per-edge couplings on the same graph.
  const Ising p(4, {{0, 1, 1.0}, {0, 2, 2.0}, {1, 3, -3.0}, {2, 3, 0.25}}, vec({0, 0, 0, 0}));
  // s = (+, -, +, +): -(1·(-1) + 2·1 + (-3)·(-1) + 0.25·1) = -4.25.
  EXPECT_NEAR(p.energy(vec({1, -1, 1, 1})), -4.25, 1e-15);
}

TEST(Ising, SiteEnergiesAreEnergyDifferences) {
  for (SpinConvention c : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    Ising m = Ising::lattice_2d(3, 4, 0.7, -0.3, Boundary::periodic, Boundary::open, c);
    Stream rng = Stream::derive(5, Purpose::user, 0);
    VectorD theta = m.parameters();
    for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = rng.normal();
    m.set_parameters(theta);
    VectorD s(12);
    for (Eigen::Index i = 0; i < 12; ++i) s[i] = m.spin_value(rng.uniform_double() < 0.5);
    for (std::size_t i = 0; i < 12; ++i) {
      const auto e = m.site_energies(i, s);
      VectorD up = s, down = s;
      up[Eigen::Index(i)] = 1.0;
      down[Eigen::Index(i)] = m.down_value();
      EXPECT_NEAR(e[1] - e[0], m.energy(up) - m.energy(down), 1e-12);
      EXPECT_NEAR(e[1], -m.local_field(i, s), 0.0);
    }
  }
}

TEST(Ising, ParametersAndCouplingMatrix) {
  Ising m = triangle();
  const VectorD theta = m.parameters();
  ASSERT_EQ(theta.size(), 6);
  EXPECT_EQ(theta, vec({0.1, -0.2, 0.3, 1.0, -2.0, 0.5}));
  const MatrixD j = m.couplings_matrix();
  EXPECT_EQ(j(0, 1), 1.0);
  EXPECT_EQ(j(1, 0), 1.0);
  EXPECT_EQ(j(2, 1), -2.0);
  EXPECT_EQ(j(0, 2), 0.5);
  EXPECT_EQ(j.diagonal().squaredNorm(), 0.0);
  const VectorD s = vec({1, -1, -1});
  EXPECT_NEAR(m.energy(s), -m.fields().dot(s) - 0.5 * s.dot(j * s), 1e-15);
  m.set_parameters(vec({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(m.parameters(), vec({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(m.edges()[2].coupling, 6.0);
}

TEST(Ising, ConstructorsBuildTheRightGraphs) {
  EXPECT_EQ(Ising::chain(5, 1, 0).n_edges(), 4u);
  EXPECT_EQ(Ising::chain(5, 1, 0, Boundary::periodic).n_edges(), 5u);
  EXPECT_EQ(Ising::lattice_2d(3, 4, 1, 0).n_edges(), 3u * 3 + 4u * 2);
  EXPECT_EQ(Ising::lattice_2d(3, 4, 1, 0, Boundary::periodic, Boundary::periodic).n_edges(), 24u);
  EXPECT_EQ(Ising::lattice_2d(3, 4, 1, 0, Boundary::open, Boundary::periodic).n_edges(), 12u + 8u);
  EXPECT_EQ(Ising::lattice_3d(3, 3, 3, 1, 0, Boundary::periodic).n_edges(), 81u);
  EXPECT_EQ(Ising::lattice_3d(2, 3, 4, 1, 0).n_edges(), 1u * 12 + 2u * 8 + 3u * 6);
  EXPECT_EQ(Ising::fully_connected(6, 1, 0).n_edges(), 15u);
  const Ising m = Ising::lattice_2d(3, 4, 1, 0, Boundary::periodic, Boundary::open);
  ASSERT_TRUE(m.lattice().has_value());
  EXPECT_EQ(m.lattice()->rows, 3u);
  EXPECT_EQ(m.lattice()->boundary_rows, Boundary::periodic);
  EXPECT_FALSE(Ising::chain(4, 1, 0).lattice().has_value());
  // Every site of a periodic 2-D lattice has 4 neighbours, of a periodic 3-D one 6.
  const Ising p = Ising::lattice_2d(3, 5, 1, 0, Boundary::periodic, Boundary::periodic);
  for (std::size_t i = 0; i < p.n_spins(); ++i) EXPECT_EQ(p.neighbors_end(i) - p.neighbors_begin(i), 4);
  const Ising q = Ising::lattice_3d(3, 4, 3, 1, 0, Boundary::periodic);
  for (std::size_t i = 0; i < q.n_spins(); ++i) EXPECT_EQ(q.neighbors_end(i) - q.neighbors_begin(i), 6);
}

TEST(Ising, BadInputIsRejectedWithPinnedMessages) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  using test::expect_error;
  expect_error([] { Ising(3, {{0, 1, 1.0}, {2, 2, 1.0}}, VectorD::Zero(3)); }, Exit::data,
               "Ising: edge 1 (2, 2) is a self-loop");
  expect_error([] { Ising(3, {{0, 3, 1.0}}, VectorD::Zero(3)); }, Exit::data,
               "Ising: edge 0 (0, 3) has a site index out of range [0, 3)");
  expect_error([] { Ising(3, {{0, 1, 1.0}, {1, 2, 1.0}, {1, 0, 2.0}}, VectorD::Zero(3)); }, Exit::data,
               "Ising: edge 2 (1, 0) duplicates edge 0 (0, 1)");
  expect_error([&] { Ising(3, {{0, 1, 1.0}, {1, 2, nan}}, VectorD::Zero(3)); }, Exit::data,
               "Ising: edge 1 (1, 2) has a non-finite coupling nan");
  expect_error([&] { Ising(3, {}, vec({0, nan, 0})); }, Exit::data, "Ising: field 1 is not finite (nan)");
  expect_error([] { Ising(3, {}, VectorD::Zero(2)); }, Exit::data,
               "Ising: fields has 2 entries but the model has 3 spins");
  expect_error([] { Ising(0, {}, VectorD()); }, Exit::data, "Ising: the model needs at least one spin, got 0");
  expect_error([] { Ising::lattice_2d(2, 4, 1, 0, Boundary::periodic); }, Exit::usage,
               "Ising::lattice_2d: a periodic direction needs at least 3 sites, got L1 = 2");
  expect_error([] { Ising::chain(2, 1, 0, Boundary::periodic); }, Exit::usage,
               "Ising::chain: a periodic direction needs at least 3 sites, got n = 2");
  const Ising m = triangle();
  expect_error([&] { m.energy(vec({1, 1})); }, Exit::usage,
               "Ising::energy: the state has 2 entries but the model has 3 spins");
  expect_error([&] { m.energy(vec({1, 0, 1})); }, Exit::usage,
               "Ising::energy: entry 1 of the state is 0, not a spin value (-1 or 1)");
  expect_error([&] { m.local_field(3, vec({1, 1, 1})); }, Exit::usage,
               "Ising::local_field: site 3 is out of range [0, 3)");
  Ising p = triangle();
  expect_error([&] { p.set_parameters(VectorD::Zero(5)); }, Exit::data,
               "Ising::set_parameters: theta has 5 entries but the model has 6 parameters (3 fields + 3 couplings)");
  expect_error([&] { p.set_parameters(vec({0, 0, 0, 0, nan, 0})); }, Exit::data,
               "Ising::set_parameters: entry 4 is not finite (nan)");
}

}  // namespace
}  // namespace logz
