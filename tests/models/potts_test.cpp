// Potts model: energies by hand, the Ising correspondence, the gauge, bad input.
#include "logz/models/potts.hpp"

#include "logz/core/concepts.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "logz/models/rbm.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

static_assert(SiteConditionals<Potts>);
static_assert(SiteConditionals<Ising>);
static_assert(!SiteConditionals<RbmD>);

Potts three_site_chain() {
  // Sites 0-1-2, q = 3, edges (0,1) and (2,1) (the second one stored transposed).
  MatrixD h(3, 3);
  h << 0.1, -0.2, 0.3, 0.0, 0.5, -0.4, 0.2, 0.2, -0.1;
  VectorD j(18);
  for (int k = 0; k < 18; ++k) j[k] = 0.1 * k - 0.7;
  return Potts(h, {{0, 1}, {2, 1}}, j);
}

TEST(Potts, EnergyByHand) {
  const Potts m = three_site_chain();
  VectorD x(3);
  x << 2, 0, 1;
  // -h0(2) - h1(0) - h2(1) - J01(2, 0) - J21(1, 0)
  const double j01 = 0.1 * (2 * 3 + 0) - 0.7, j21 = 0.1 * (9 + 1 * 3 + 0) - 0.7;
  EXPECT_NEAR(m.energy(x), -(0.3 + 0.0 + 0.2) - j01 - j21, 1e-14);
  EXPECT_DOUBLE_EQ(m.coupling(1, 2, 0, 1), j21);
  EXPECT_DOUBLE_EQ(m.coupling(0, 2, 0, 0), 0.0);
}

TEST(Potts, SiteEnergiesAreEnergyDifferences) {
  const Potts m = three_site_chain();
  VectorD x(3);
  x << 1, 2, 0;
  std::vector<double> e(3);
  for (std::size_t i = 0; i < 3; ++i) {
    m.site_energies(i, x, e);
    VectorD y = x;
    for (std::size_t a = 0; a < 3; ++a) {
      y[Eigen::Index(i)] = double(a);
      VectorD y0 = x;
      y0[Eigen::Index(i)] = 0;
      EXPECT_NEAR(m.energy(y) - m.energy(y0), e[a] - e[0], 1e-13) << i << " " << a;
    }
  }
}

TEST(Potts, IsingAndPottsConditionalsAgree) {
  // The SiteConditionals form of an Ising model equals its Potts image's, up to a constant.
  const Ising is(3, {{0, 1, 0.7}, {1, 2, -0.4}}, (VectorD(3) << 0.2, -0.3, 0.5).finished());
  const Potts p = Potts::from_ising(is);
  VectorD s(3), x(3);
  s << 1, -1, 1;
  x << 1, 0, 1;
  std::vector<double> a(2), b(2);
  for (std::size_t i = 0; i < 3; ++i) {
    is.site_energies(i, s, a);
    p.site_energies(i, x, b);
    EXPECT_NEAR(a[1] - a[0], b[1] - b[0], 1e-14);
  }
}

TEST(Potts, FromIsingKeepsEveryEnergy) {
  for (auto conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising is(4, {{0, 1, 0.3}, {1, 2, -0.5}, {3, 0, 0.8}}, (VectorD(4) << 0.1, -0.2, 0.4, 0.0).finished(),
                   conv);
    const Potts p = Potts::from_ising(is);
    for (int s = 0; s < 16; ++s) {
      VectorD x(4), spins(4);
      for (int i = 0; i < 4; ++i) x[i] = (s >> i) & 1, spins[i] = is.spin_value((s >> i) & 1);
      EXPECT_NEAR(p.energy(x), is.energy(spins), 1e-14);
    }
  }
}

TEST(Potts, ToIsingKeepsEveryEnergyUpToTheShift) {
  Potts p(MatrixD::Zero(4, 2), {{0, 1}, {1, 2}, {3, 0}}, VectorD::Zero(12));
  VectorD th = p.parameters();
  for (Eigen::Index k = 0; k < th.size(); ++k) th[k] = 0.37 * double((k * 7) % 11) - 1.3;
  p.set_parameters(th);
  for (auto conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    double c = 0;
    const Ising is = p.to_ising(conv, &c);
    for (int s = 0; s < 16; ++s) {
      VectorD x(4), spins(4);
      for (int i = 0; i < 4; ++i) x[i] = (s >> i) & 1, spins[i] = is.spin_value((s >> i) & 1);
      EXPECT_NEAR(p.energy(x), is.energy(spins) + c, 1e-13);
    }
  }
  test::expect_error([] { (void)Potts::dense(3, 3).to_ising(SpinConvention::zero_one); }, Exit::usage,
                     "Potts::to_ising: needs q = 2, the model has q = 3");
}

TEST(Potts, ZeroSumGaugeShiftsEveryEnergyByTheSameConstant) {
  Potts m = three_site_chain();
  const Potts before = m;
  const double c = m.zero_sum_gauge();
  for (int s = 0; s < 27; ++s) {
    VectorD x(3);
    x << s % 3, (s / 3) % 3, s / 9;
    EXPECT_NEAR(m.energy(x), before.energy(x) + c, 1e-13);
  }
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(m.fields().row(Eigen::Index(i)).sum(), 0.0, 1e-14);
  for (std::size_t e = 0; e < 2; ++e)
    for (std::size_t a = 0; a < 3; ++a) {
      double row = 0, col = 0;
      for (std::size_t b = 0; b < 3; ++b) row += m.block(e)[a * 3 + b], col += m.block(e)[b * 3 + a];
      EXPECT_NEAR(row, 0.0, 1e-14);
      EXPECT_NEAR(col, 0.0, 1e-14);
    }
}

TEST(Potts, DenseEdgeIndex) {
  const Potts m = Potts::dense(5, 3);
  EXPECT_TRUE(m.is_dense());
  EXPECT_EQ(m.n_edges(), 10u);
  for (std::size_t e = 0; e < m.n_edges(); ++e) {
    EXPECT_EQ(m.edge_index(m.edges()[e].i, m.edges()[e].j), e);
    EXPECT_EQ(m.edge_index(m.edges()[e].j, m.edges()[e].i), e);
  }
  EXPECT_FALSE(three_site_chain().is_dense());
}

TEST(Potts, BadInput) {
  const MatrixD h = MatrixD::Zero(3, 2);
  test::expect_error([&] { Potts(h, {{1, 1}}, VectorD::Zero(4)); }, Exit::data, "Potts: edge 0 (1, 1) is a self-loop");
  test::expect_error([&] { Potts(h, {{0, 3}}, VectorD::Zero(4)); }, Exit::data, "Potts: edge 0 (0, 3) has a site index out of range [0, 3)");
  test::expect_error([&] { Potts(h, {{0, 1}, {1, 0}}, VectorD::Zero(8)); }, Exit::data, "Potts: edge 1 (1, 0) duplicates edge 0 (0, 1)");
  test::expect_error([&] { Potts(h, {{0, 1}}, VectorD::Zero(3)); }, Exit::data, "Potts: couplings has 3 entries but 1 edges of 2x2 blocks need 4");
  test::expect_error([&] { Potts(MatrixD::Zero(3, 1), {}, VectorD()); }, Exit::data, "Potts: the model needs q >= 2 states, got 1");
  VectorD j = VectorD::Zero(4);
  j[2] = NAN;
  test::expect_error([&] { Potts(h, {{0, 1}}, j); }, Exit::data, "Potts: edge 0 (0, 1) has a non-finite coupling nan");
  const Potts m(h, {{0, 1}}, VectorD::Zero(4));
  test::expect_error([&] { (void)m.energy((VectorD(3) << 0, 2, 1).finished()); }, Exit::usage, "Potts::energy: site 1 has value 2, not a state in [0, 2)");
  test::expect_error([&] { (void)m.energy(VectorD::Zero(2)); }, Exit::usage, "Potts::energy: state has 2 sites but the model has 3");
}

}  // namespace
}  // namespace logz
