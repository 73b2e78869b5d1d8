// Swendsen–Wang for Potts models (and Ising models through the same cluster form).
// Exact first: the full transition matrix of one update on a 2×3 lattice — q = 3 Potts with
// ferromagnetic blocks written with row, column and constant terms (so the gauge extraction
// is exercised) and random fields (the cluster heat bath), 729 states; ±1 and 0/1 Ising with
// fields, 64 states — is built by summing over every bond configuration, and checked for
// stationarity and detailed balance (SW is a data-augmentation chain, hence reversible) to
// 1e-12 against π ∝ exp(−β E) enumerated from the model's own energy. Then a χ² test of
// step() itself: 200,000 exact draws from π each moved by two updates must still follow π
// (cells expected below 5 pooled; false-failure rate 1e-6). Refusals have pinned messages.
#include "logz/kernels/potts_swendsen_wang.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "support/expect_error.hpp"
#include "support/markov.hpp"

namespace logz {
namespace {

using test::Dense;

std::size_t power(std::size_t q, std::size_t n) {
  std::size_t r = 1;
  for (std::size_t i = 0; i < n; ++i) r *= q;
  return r;
}
/// State of index k (digit i in base q is the state of site i), as stored values of the form.
VectorD state_of(const SwendsenWangForm& f, std::size_t k) {
  VectorD x{Eigen::Index(f.sites)};
  for (std::size_t i = 0; i < f.sites; ++i, k /= f.states) x[Eigen::Index(i)] = f.value_of(k % f.states);
  return x;
}
std::size_t index_of(const SwendsenWangForm& f, const VectorD& x) {
  std::size_t k = 0;
  for (Eigen::Index i = x.size(); i-- > 0;) k = k * f.states + f.state_of(x[i]);
  return k;
}

/// π ∝ exp(−β E) over every state, E the model's own energy.
template <class M>
std::vector<double> exact_pi(const M& m, const SwendsenWangForm& f, double beta) {
  const std::size_t count = power(f.states, f.sites);
  std::vector<long double> lw(count);
  for (std::size_t k = 0; k < count; ++k) lw[k] = -beta * (long double)m.energy(state_of(f, k));
  return test::normalized_exp(lw);
}

/// One Swendsen–Wang update as a matrix: Σ over the bonds of aligned edges of p(bonds | x)
/// times Π over clusters of the heat bath exp(β Σ_C h(a)) / norm.
Dense transition(const SwendsenWangForm& f, double beta) {
  const std::size_t q = f.states, n = f.sites, count = power(q, n);
  Dense t = test::zeros(count);
  for (std::size_t k = 0; k < count; ++k) {
    std::vector<std::size_t> x(n);
    for (std::size_t i = 0, r = k; i < n; ++i, r /= q) x[i] = r % q;
    std::vector<std::size_t> aligned;
    for (std::size_t e = 0; e < f.bonds.size(); ++e)
      if (x[f.bonds[e].i] == x[f.bonds[e].j]) aligned.push_back(e);
    for (std::size_t mask = 0; mask < (std::size_t(1) << aligned.size()); ++mask) {
      double p_bonds = 1;
      std::vector<std::size_t> parent(n);
      for (std::size_t i = 0; i < n; ++i) parent[i] = i;
      auto find = [&](std::size_t v) {
        while (parent[v] != v) v = parent[v];
        return v;
      };
      for (std::size_t b = 0; b < aligned.size(); ++b) {
        const SwendsenWangBond& bond = f.bonds[aligned[b]];
        const double p = 1 - std::exp(-beta * bond.strength);
        if (mask >> b & 1) {
          p_bonds *= p;
          const std::size_t r1 = find(bond.i), r2 = find(bond.j);
          if (r1 != r2) parent[std::max(r1, r2)] = std::min(r1, r2);
        } else {
          p_bonds *= 1 - p;
        }
      }
      // Each cluster's state distribution.
      std::vector<std::size_t> roots;
      std::vector<std::vector<double>> colour(n);
      for (std::size_t i = 0; i < n; ++i)
        if (find(i) == i) {
          roots.push_back(i);
          std::vector<long double> lw(q, 0.0L);
          for (std::size_t j = 0; j < n; ++j)
            if (find(j) == i && f.fields.size() != 0)
              for (std::size_t a = 0; a < q; ++a) lw[a] += beta * f.fields(Eigen::Index(j), Eigen::Index(a));
          colour[i] = test::normalized_exp(lw);
        }
      // Every assignment of states to clusters.
      for (std::size_t c = 0; c < power(q, roots.size()); ++c) {
        double p = p_bonds;
        std::vector<std::size_t> state(n);
        for (std::size_t r = 0, rest = c; r < roots.size(); ++r, rest /= q) {
          state[roots[r]] = rest % q;
          p *= colour[roots[r]][rest % q];
        }
        std::size_t to = 0;
        for (std::size_t i = n; i-- > 0;) to = to * q + state[find(i)];
        t[k][to] += p;
      }
    }
  }
  return t;
}

/// A 2×3 open lattice, q = 3, whose blocks are K δ_ab plus row, column and constant terms
/// (K in [0.3, 1.3]) and random fields of scale 0.7.
Potts ferromagnetic_potts(std::uint64_t seed) {
  std::vector<PottsEdge> edges;
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t c = 0; c < 3; ++c) {
      if (c + 1 < 3) edges.push_back({r * 3 + c, r * 3 + c + 1});
      if (r + 1 < 2) edges.push_back({r * 3 + c, (r + 1) * 3 + c});
    }
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  const std::size_t q = 3;
  VectorD blocks(Eigen::Index(edges.size() * q * q));
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const double k = 0.3 + rng.uniform_double(), c = rng.normal();
    std::vector<double> u(q), v(q);
    for (std::size_t a = 0; a < q; ++a) u[a] = 0.3 * rng.normal(), v[a] = 0.3 * rng.normal();
    for (std::size_t a = 0; a < q; ++a)
      for (std::size_t b = 0; b < q; ++b) blocks[Eigen::Index(e * q * q + a * q + b)] = k * (a == b) + u[a] + v[b] + c;
  }
  MatrixD fields(6, Eigen::Index(q));
  for (Eigen::Index i = 0; i < fields.size(); ++i) fields.data()[i] = 0.7 * rng.normal();
  return Potts(fields, edges, blocks);
}

Ising ising_with_fields(SpinConvention conv, std::uint64_t seed) {
  Ising m = Ising::lattice_2d(2, 3, 0.0, 0.0, Boundary::open, Boundary::open, conv);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k)
    theta[k] = k < Eigen::Index(m.n_spins()) ? 0.5 * rng.normal() : 0.2 + 0.8 * rng.uniform_double();
  m.set_parameters(theta);
  return m;
}

template <class M>
void expect_exact_invariance(const M& m, double beta) {
  const SwendsenWangForm f = swendsen_wang_form(m);
  const std::vector<double> pi = exact_pi(m, f, beta);
  const Dense t = transition(f, beta);
  for (const auto& row : t) {
    double s = 0;
    for (double v : row) s += v;
    ASSERT_NEAR(s, 1.0, 1e-12);
  }
  EXPECT_LE(test::stationarity_error(t, pi), 1e-12);
  EXPECT_LE(test::detailed_balance_error(t, pi), 1e-12);
}

TEST(PottsSwendsenWang, ExactTransitionMatrixLeavesPottsInvariant) {
  const Potts m = ferromagnetic_potts(3);
  const SwendsenWangForm f = swendsen_wang_form(m);
  EXPECT_EQ(f.bonds.size(), m.n_edges());
  EXPECT_NE(f.fields.size(), 0);
  for (double beta : {1.0, 0.6}) {
    SCOPED_TRACE(beta);
    expect_exact_invariance(m, beta);
  }
}

TEST(PottsSwendsenWang, ExactTransitionMatrixLeavesIsingInvariantInBothConventions) {
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    SCOPED_TRACE(int(conv));
    const Ising m = ising_with_fields(conv, 4);
    expect_exact_invariance(m, 1.0);
    expect_exact_invariance(m, 0.5);
  }
}

TEST(PottsSwendsenWang, StepsFromExactDrawsStillFollowPi) {
  // Exact draws moved by two updates follow π exactly when the kernel leaves π invariant;
  // the draws are independent, so Pearson's χ² applies.
  const Potts m = ferromagnetic_potts(5);
  const SwendsenWangForm f = swendsen_wang_form(m);
  const double beta = 1.0;
  const std::vector<double> pi = exact_pi(m, f, beta);
  const PottsSwendsenWang kernel({.updates = 2, .beta = beta});
  const std::size_t draws = 200000;
  std::vector<std::size_t> counts(pi.size(), 0);
  std::size_t changed = 0, updates = 0;
  for (std::size_t c = 0; c < draws; ++c) {
    Stream rng = Stream::derive(21, Purpose::gibbs, c);
    const double u = rng.uniform_double();
    std::size_t k = 0;
    for (double cum = pi[0]; cum <= u && k + 1 < pi.size(); cum += pi[++k]) {
    }
    VectorD x = state_of(f, k);
    const auto info = kernel.step(m, x, rng);
    changed += info.changed, updates += info.updates;
    ++counts[index_of(f, x)];
  }
  EXPECT_EQ(updates, draws * 2 * 6);
  EXPECT_GT(changed, updates / 4);  // the clusters do move
  test::expect_chi_square_fits(counts, pi, draws, 100, 1e-6);
}

TEST(PottsSwendsenWang, PlainPottsCouplingsHaveNoFieldsAndUniformClusters) {
  // K δ_ab blocks: no field after the extraction. At β = 0 no bond is placed and every site
  // is its own cluster, uniform on q states: χ² over 5 states of one site.
  std::vector<PottsEdge> edges{{0, 1}, {1, 2}};
  const std::size_t q = 5;
  VectorD blocks = VectorD::Zero(Eigen::Index(2 * q * q));
  for (std::size_t e = 0; e < 2; ++e)
    for (std::size_t a = 0; a < q; ++a) blocks[Eigen::Index(e * q * q + a * q + a)] = 0.8;
  const Potts m(MatrixD::Zero(3, Eigen::Index(q)), edges, blocks);
  const SwendsenWangForm f = swendsen_wang_form(m);
  EXPECT_EQ(f.fields.size(), 0);
  ASSERT_EQ(f.bonds.size(), 2u);
  EXPECT_NEAR(f.bonds[0].strength, 0.8, 1e-15);
  const PottsSwendsenWang kernel({.updates = 1, .beta = 0.0});
  std::vector<std::size_t> counts(q, 0);
  Stream rng = Stream::derive(22, Purpose::gibbs, 0);
  VectorD x = VectorD::Zero(3);
  const std::size_t draws = 50000;
  for (std::size_t k = 0; k < draws; ++k) {
    kernel.step(m, x, rng);
    ++counts[std::size_t(x[1])];
  }
  test::expect_chi_square_fits(counts, std::vector<double>(q, 1.0 / double(q)), draws, q, 1e-6);
}

TEST(PottsSwendsenWang, AnyTwoStateBlockWithNonNegativeKIsCovered) {
  // q = 2: every block is K δ plus one-site terms; K = (J00 + J11 − J01 − J10) / 2.
  const Potts p = Potts::from_ising(Ising::lattice_2d(2, 2, 0.4, 0.1));
  const SwendsenWangForm f = swendsen_wang_form(p);
  ASSERT_EQ(f.bonds.size(), p.n_edges());
  for (const SwendsenWangBond& b : f.bonds) EXPECT_NEAR(b.strength, 0.8, 1e-12);  // 2J for ±1 spins
  expect_exact_invariance(p, 1.0);
}

TEST(PottsSwendsenWang, RefusesWhatItDoesNotCover) {
  const std::size_t q = 3;
  const std::vector<PottsEdge> edges{{0, 1}, {1, 2}};
  VectorD blocks = VectorD::Zero(Eigen::Index(2 * q * q));
  for (std::size_t a = 0; a < q; ++a) blocks[Eigen::Index(a * q + a)] = 0.5;
  for (std::size_t a = 0; a < q; ++a) blocks[Eigen::Index(q * q + a * q + a)] = -0.25;  // antiferromagnetic
  const Potts anti(MatrixD::Zero(3, Eigen::Index(q)), edges, blocks);
  test::expect_error([&] { swendsen_wang_form(anti); }, Exit::usage,
                     "PottsSwendsenWang: edge 1 (sites 1, 2) has J = -0.25 < 0 (antiferromagnetic); Swendsen-Wang "
                     "needs J >= 0 on every edge");
  blocks.setZero();
  blocks[Eigen::Index(q * q + 0 * q + 1)] = 1.0;  // favours (0, 1): not J δ plus one-site terms
  const Potts general(MatrixD::Zero(3, Eigen::Index(q)), edges, blocks);
  test::expect_error([&] { swendsen_wang_form(general); }, Exit::usage,
                     "PottsSwendsenWang: the coupling block of edge 1 (sites 1, 2) is not J*delta(a, b) plus terms of "
                     "one site (entry (0, 1) is off by 0.333); Swendsen-Wang covers ferromagnetic Potts couplings "
                     "only");
  Ising ising = Ising::chain(4, 0.5, 0.0);
  VectorD theta = ising.parameters();
  theta[4 + 2] = -0.1;
  ising.set_parameters(theta);
  test::expect_error([&] { swendsen_wang_form(ising); }, Exit::usage,
                     "PottsSwendsenWang: coupling 2 (sites 2, 3) is -0.1; Swendsen-Wang needs couplings >= 0");
  test::expect_error([] { PottsSwendsenWang({.updates = 0, .beta = 1.0}); }, Exit::usage,
                     "PottsSwendsenWang: updates must be >= 1 (got 0)");
  VectorD x = VectorD::Zero(2);
  Stream rng = Stream::derive(1, Purpose::gibbs, 0);
  test::expect_error([&] { PottsSwendsenWang().step(ising, x, rng); }, Exit::usage,
                     "PottsSwendsenWang: state has 2 spins but the model has 4");
}

}  // namespace
}  // namespace logz
