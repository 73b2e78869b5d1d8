// Single-site Gibbs and Metropolis on Potts models.
// Exact first: the full transition matrix of one step of each kernel on a 3-site dense
// model (q = 3, 27 states) and a 2×2 lattice (q = 3, 81 states) is built from the kernel's
// own conditional / acceptance probabilities and checked for stationarity πT = π and,
// for the random scans, detailed balance, to 1e-12 against π from enumerating exp(-β E)
// in long double from the fields and coupling blocks. Then χ² tests of step() against the
// exact distribution e_start T^K; non-finite conditionals; pinned error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "logz/kernels/potts_gibbs.hpp"
#include "support/expect_error.hpp"
#include "support/markov.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using test::Dense;
using test::multiply;
using test::stationarity_error;
using test::detailed_balance_error;
using test::zeros;

std::size_t power(std::size_t q, std::size_t n) {
  std::size_t r = 1;
  for (std::size_t i = 0; i < n; ++i) r *= q;
  return r;
}
/// State of index k: digit i in base q is x_i.
VectorD state_of(const Potts& m, std::size_t k) {
  VectorD x{Eigen::Index(m.n_sites())};
  for (std::size_t i = 0; i < m.n_sites(); ++i, k /= m.num_states()) x[Eigen::Index(i)] = double(k % m.num_states());
  return x;
}
std::size_t index_of(const Potts& m, const VectorD& x) {
  std::size_t k = 0;
  for (Eigen::Index i = x.size(); i-- > 0;) k = k * m.num_states() + std::size_t(x[i]);
  return k;
}
std::size_t with_site(const Potts& m, std::size_t k, std::size_t i, std::size_t v) {
  const std::size_t p = power(m.num_states(), i), old = (k / p) % m.num_states();
  return k - old * p + v * p;
}

/// π(k) ∝ exp(-β E(k)) from the fields and blocks in long double (not Potts::energy).
std::vector<double> exact_pi(const Potts& m, double beta) {
  const std::size_t q = m.num_states(), count = power(q, m.n_sites());
  std::vector<long double> le(count);
  for (std::size_t k = 0; k < count; ++k) {
    const VectorD x = state_of(m, k);
    auto v = [&](std::size_t i) { return std::size_t(x[Eigen::Index(i)]); };
    long double e = 0;
    for (std::size_t i = 0; i < m.n_sites(); ++i) e -= m.fields()(Eigen::Index(i), Eigen::Index(v(i)));
    for (std::size_t ed = 0; ed < m.n_edges(); ++ed) e -= m.block(ed)[v(m.edges()[ed].i) * q + v(m.edges()[ed].j)];
    le[k] = -beta * e;
  }
  return test::normalized_exp(le);
}


/// One Gibbs update of site i, from the kernel's conditional().
template <class K>
Dense gibbs_site_matrix(const K& k, const Potts& m, std::size_t i) {
  const std::size_t count = power(m.num_states(), m.n_sites());
  Dense t = zeros(count);
  std::vector<double> p(m.num_states());
  for (std::size_t a = 0; a < count; ++a) {
    EXPECT_TRUE(k.conditional(m, state_of(m, a), i, p));
    for (std::size_t v = 0; v < m.num_states(); ++v) t[a][with_site(m, a, i, v)] += p[v];
  }
  return t;
}
/// One Metropolis update of site i: b ≠ x_i proposed with 1/(q-1), accepted by the kernel's
/// accept_probability(); the rest stays.
template <class K>
Dense metropolis_site_matrix(const K& k, const Potts& m, std::size_t i) {
  const std::size_t count = power(m.num_states(), m.n_sites()), q = m.num_states();
  Dense t = zeros(count);
  for (std::size_t a = 0; a < count; ++a) {
    const VectorD x = state_of(m, a);
    const auto xi = std::size_t(x[Eigen::Index(i)]);
    double stay = 1;
    for (std::size_t b = 0; b < q; ++b) {
      if (b == xi) continue;
      const double move = k.accept_probability(m, x, i, b) / double(q - 1);
      t[a][with_site(m, a, i, b)] += move;
      stay -= move;
    }
    t[a][a] += stay;
  }
  return t;
}
/// Systematic sweep T_0 T_1 ... T_{L-1}; random scan (1/L) Σ_i T_i.
template <class Site>
Dense sweep_matrix(const Potts& m, Site&& site) {
  Dense t = site(0);
  for (std::size_t i = 1; i < m.n_sites(); ++i) t = multiply(t, site(i));
  return t;
}
template <class Site>
Dense random_scan_matrix(const Potts& m, Site&& site) {
  Dense t = site(0);
  for (std::size_t i = 1; i < m.n_sites(); ++i) {
    const Dense ti = site(i);
    for (std::size_t a = 0; a < t.size(); ++a)
      for (std::size_t b = 0; b < t.size(); ++b) t[a][b] += ti[a][b];
  }
  for (auto& row : t)
    for (double& v : row) v /= double(m.n_sites());
  return t;
}

double row_sum_error(const Dense& t) {
  double err = 0;
  for (const auto& row : t) {
    double r = 0;
    for (double v : row) {
      EXPECT_GE(v, 0.0);
      r += v;
    }
    err = std::max(err, std::abs(r - 1));
  }
  return err;
}

/// Fields and coupling entries drawn N(0, scale²) from a fixed stream.
Potts randomise(Potts m, std::uint64_t seed, double scale) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = scale * rng.normal();
  m.set_parameters(theta);
  return m;
}
Potts lattice_2x2(std::size_t q) {  // sites (r, c) = 2r + c
  const std::vector<PottsEdge> edges{{0, 1}, {2, 3}, {0, 2}, {1, 3}};
  return Potts(MatrixD::Zero(4, Eigen::Index(q)), edges, VectorD::Zero(Eigen::Index(edges.size() * q * q)));
}

struct Case {
  const char* name;
  Potts model;
};
std::vector<Case> exact_cases() {
  return {{"dense 3 sites q=3", randomise(Potts::dense(3, 3), 31, 0.8)},
          {"2x2 lattice q=3", randomise(lattice_2x2(3), 32, 0.8)}};
}

TEST(PottsSamplersExact, GibbsAndMetropolisAreStationary) {
  for (const Case& c : exact_cases()) {
    for (double beta : {1.0, 0.6}) {
      SCOPED_TRACE(testing::Message() << c.name << " beta " << beta);
      const Potts& m = c.model;
      const std::vector<double> pi = exact_pi(m, beta);
      const SystematicPottsGibbs gs({.updates = 1, .beta = beta});
      const RandomScanPottsGibbs gr({.updates = 1, .beta = beta});
      const SystematicPottsMetropolis ms({.updates = 1, .beta = beta});
      const RandomScanPottsMetropolis mr({.updates = 1, .beta = beta});
      auto gs_site = [&](std::size_t i) { return gibbs_site_matrix(gs, m, i); };
      auto gr_site = [&](std::size_t i) { return gibbs_site_matrix(gr, m, i); };
      auto ms_site = [&](std::size_t i) { return metropolis_site_matrix(ms, m, i); };
      auto mr_site = [&](std::size_t i) { return metropolis_site_matrix(mr, m, i); };
      {  // systematic sweeps: stationary, not reversible
        const Dense tg = sweep_matrix(m, gs_site), tm = sweep_matrix(m, ms_site);
        EXPECT_LE(row_sum_error(tg), 1e-12);
        EXPECT_LE(row_sum_error(tm), 1e-12);
        EXPECT_LE(stationarity_error(tg, pi), 1e-12);
        EXPECT_LE(stationarity_error(tm, pi), 1e-12);
        EXPECT_GT(detailed_balance_error(tg, pi), 1e-6);
        EXPECT_GT(detailed_balance_error(tm, pi), 1e-6);
      }
      {  // random scans: stationary and reversible
        const Dense tg = random_scan_matrix(m, gr_site), tm = random_scan_matrix(m, mr_site);
        EXPECT_LE(row_sum_error(tg), 1e-12);
        EXPECT_LE(row_sum_error(tm), 1e-12);
        EXPECT_LE(stationarity_error(tg, pi), 1e-12);
        EXPECT_LE(stationarity_error(tm, pi), 1e-12);
        EXPECT_LE(detailed_balance_error(tg, pi), 1e-12);
        EXPECT_LE(detailed_balance_error(tm, pi), 1e-12);
      }
      // The check has power: the same sweep is far from stationary for π at another β.
      EXPECT_GT(stationarity_error(sweep_matrix(m, gs_site), exact_pi(m, beta + 0.3)), 1e-4);
    }
  }
}

TEST(PottsSamplersExact, ConditionalMatchesEnergyDifferences) {
  // p(x_i = a | rest) / p(x_i = b | rest) = exp(-β (E(x^a) - E(x^b))) with Potts::energy.
  const Potts m = randomise(Potts::dense(4, 5), 33, 1.0);
  const PottsGibbs<Scan::systematic> g({.updates = 1, .beta = 0.7});
  const VectorD x = state_of(m, 123);
  std::vector<double> p(5);
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(g.conditional(m, x, i, p));
    VectorD xa = x, xb = x;
    xb[Eigen::Index(i)] = 0;
    for (std::size_t a = 1; a < 5; ++a) {
      xa[Eigen::Index(i)] = double(a);
      EXPECT_NEAR(std::log(p[a] / p[0]), -0.7 * (m.energy(xa) - m.energy(xb)), 1e-12);
    }
  }
}

/// χ² of `chains` independent chains (streams derive(seed, gibbs, c)) started from state
/// `start` and run `steps` steps of `kernel`, against e_start T^steps; cells with expected
/// count < 5 pooled. False-failure rate 1e-4 per call (Wilson–Hilferty quantile, slightly
/// conservative).
template <class K>
void chi_square_against_exact(const K& kernel, const Potts& m, const Dense& t, std::size_t start, std::size_t steps,
                              std::size_t chains, std::uint64_t seed) {
  test::expect_chains_follow(
      kernel, m, t, start, steps, chains, seed, [&](std::size_t k) { return state_of(m, k); },
      [&](const VectorD& x) { return index_of(m, x); });
}

TEST(PottsSamplersStatistical, SystematicGibbsMatchesExactDistribution) {
  const Potts m = randomise(lattice_2x2(3), 41, 0.8);
  const SystematicPottsGibbs g({.updates = 1, .beta = 1.0});
  chi_square_against_exact(g, m, sweep_matrix(m, [&](std::size_t i) { return gibbs_site_matrix(g, m, i); }), 0, 2,
                           20000, 201);
}

TEST(PottsSamplersStatistical, RandomScanGibbsMatchesExactDistribution) {
  const Potts m = randomise(Potts::dense(3, 3), 42, 0.8);
  const RandomScanPottsGibbs g1({.updates = 1, .beta = 0.8});
  const Dense one = random_scan_matrix(m, [&](std::size_t i) { return gibbs_site_matrix(g1, m, i); });
  const RandomScanPottsGibbs g3({.updates = 3, .beta = 0.8});  // 3 updates per step: T^3
  chi_square_against_exact(g3, m, multiply(multiply(one, one), one), 13, 2, 20000, 202);
}

TEST(PottsSamplersStatistical, MetropolisMatchesExactDistribution) {
  const Potts m = randomise(lattice_2x2(3), 43, 0.8);
  const SystematicPottsMetropolis ms({.updates = 1, .beta = 1.0});
  chi_square_against_exact(ms, m, sweep_matrix(m, [&](std::size_t i) { return metropolis_site_matrix(ms, m, i); }), 40,
                           2, 20000, 203);
  const RandomScanPottsMetropolis mr1({.updates = 1, .beta = 1.0});
  const Dense one = random_scan_matrix(m, [&](std::size_t i) { return metropolis_site_matrix(mr1, m, i); });
  Dense t = one;
  for (int r = 1; r < 4; ++r) t = multiply(t, one);
  const RandomScanPottsMetropolis mr4({.updates = 4, .beta = 1.0});
  chi_square_against_exact(mr4, m, t, 40, 2, 20000, 204);
}

TEST(PottsSamplers, InfoCountsAndReproducibility) {
  const Potts m = randomise(lattice_2x2(4), 44, 0.5);
  VectorD a = VectorD::Zero(4), b = a;
  Stream r1 = Stream::derive(5, Purpose::gibbs, 0), r2 = r1;
  const SystematicPottsGibbs g({.updates = 3});
  const auto ig = g.step(m, a, r1);
  EXPECT_EQ(ig.updates, 12u);
  EXPECT_LE(ig.changed, 12u);
  EXPECT_EQ(ig.non_finite, 0u);
  g.step(m, b, r2);
  EXPECT_EQ(a, b);  // same stream, same state
  const RandomScanPottsMetropolis mr({.updates = 7});
  const auto im = mr.step(m, a, r1);
  EXPECT_EQ(im.proposals, 7u);
  EXPECT_LE(im.accepted, 7u);
  // β = 0: Gibbs draws every site uniformly; Metropolis accepts every proposal.
  const SystematicPottsMetropolis m0({.updates = 5, .beta = 0.0});
  const auto i0 = m0.step(m, a, r1);
  EXPECT_EQ(i0.accepted, 20u);
}

TEST(PottsSamplers, NonFiniteConditionalIsCountedAndKeepsTheSite) {
  // Chain 0-1-2, q = 3: h_1(0) = J_01(0, 0) = 1e308, so at x = (0, 0, 0) site 1 has
  // conditional energy -1e308 - 1e308 = -inf for state 0.
  Potts m(MatrixD::Zero(3, 3), {{0, 1}, {1, 2}}, VectorD::Zero(18));
  m.fields()(1, 0) = 1e308;
  std::vector<double> blk(9, 0.0);
  blk[0] = 1e308;
  m.set_block(0, blk);
  const VectorD zero = VectorD::Zero(3);
  std::vector<double> p(3);
  EXPECT_FALSE(SystematicPottsGibbs().conditional(m, zero, 1, p));
  EXPECT_TRUE(SystematicPottsGibbs().conditional(m, zero, 0, p));
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    Stream rng = Stream::derive(seed, Purpose::gibbs, 0);
    VectorD x = zero;
    const auto info = SystematicPottsGibbs({.updates = 2, .beta = 1.0}).step(m, x, rng);
    EXPECT_EQ(info.updates, 6u);
    EXPECT_EQ(info.non_finite, 2u);
    EXPECT_EQ(x[1], 0.0);
    x = zero;
    const auto im = SystematicPottsMetropolis({.updates = 1, .beta = 1.0}).step(m, x, rng);
    EXPECT_EQ(im.proposals, 3u);
    EXPECT_EQ(x[1], 0.0);
  }
  EXPECT_EQ(SystematicPottsMetropolis().accept_probability(m, zero, 1, 2), 0.0);
  Stream rng = Stream::derive(9, Purpose::gibbs, 0);
  VectorD x = zero;
  const auto im = SystematicPottsMetropolis({.updates = 1, .beta = 1.0}).step(m, x, rng);
  EXPECT_EQ(im.non_finite, 1u);  // site 1's move: β ΔE = +inf
}

TEST(PottsSamplers, BadInputMessages) {
  using test::expect_error;
  expect_error([] { SystematicPottsGibbs({.updates = 0}); }, Exit::usage,
               "PottsGibbs<systematic>: updates must be >= 1 (got 0)");
  expect_error([] { RandomScanPottsGibbs({.updates = 1, .beta = -1}); }, Exit::usage,
               "PottsGibbs<random>: beta must be finite and >= 0 (got -1)");
  expect_error([] { RandomScanPottsMetropolis({.updates = 1, .beta = NAN}); }, Exit::usage,
               "PottsMetropolis<random>: beta must be finite and >= 0 (got nan)");
  expect_error([] { SystematicPottsMetropolis({.updates = 0}); }, Exit::usage,
               "PottsMetropolis<systematic>: updates must be >= 1 (got 0)");
  const Potts m = Potts::dense(3, 3);
  Stream rng = Stream::derive(1, Purpose::gibbs, 0);
  VectorD short_state = VectorD::Zero(2);
  expect_error([&] { SystematicPottsGibbs().step(m, short_state, rng); }, Exit::usage,
               "PottsGibbs<systematic>: state has 2 sites but the model has 3");
  VectorD bad = VectorD::Zero(3);
  bad[2] = 3;
  expect_error([&] { RandomScanPottsMetropolis().step(m, bad, rng); }, Exit::usage,
               "PottsMetropolis<random>: site 2 has value 3, not a state in [0, 3)");
  bad[2] = 0.5;
  expect_error([&] { SystematicPottsMetropolis().step(m, bad, rng); }, Exit::usage,
               "PottsMetropolis<systematic>: site 2 has value 0.5, not a state in [0, 3)");
}

}  // namespace
}  // namespace logz
