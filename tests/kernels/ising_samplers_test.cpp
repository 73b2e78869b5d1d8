// Single-site Gibbs, single-site Metropolis and Swendsen–Wang on Ising models.
// Exact first: the full transition matrix of one step of each kernel on a 3×3 lattice
// (512 states) is built from the kernel's own conditional / acceptance probabilities
// (Swendsen–Wang: by summing over all 2^12 bond configurations, independently of the
// kernel's code; with fields, the ghost bonds summed in closed form per cluster) and
// checked for stationarity πT = π and, where it holds, detailed balance, to 1e-12 against
// π from enumerating exp(-E). Then χ² tests of the kernels' step() against the exact
// distribution after K steps (and, for Swendsen–Wang with fields, against π itself from
// exact starting draws); pinned error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "logz/kernels/metropolis.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/kernels/swendsen_wang.hpp"
#include "support/expect_error.hpp"
#include "support/markov.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using test::Dense;
using test::multiply;
using test::detailed_balance_error;
using test::zeros;

/// Spins of state index k (bit i = site i up).
VectorD spins_of(const Ising& m, std::size_t k) {
  VectorD s{Eigen::Index(m.n_spins())};
  for (std::size_t i = 0; i < m.n_spins(); ++i) s[Eigen::Index(i)] = m.spin_value((k >> i) & 1);
  return s;
}
std::size_t index_of(const VectorD& s) {
  std::size_t k = 0;
  for (Eigen::Index i = 0; i < s.size(); ++i)
    if (s[i] == 1.0) k |= std::size_t(1) << i;
  return k;
}

/// π(k) ∝ exp(-β E(k)) from the edge list in long double (no library code but the edge list).
std::vector<double> exact_pi(const Ising& m, double beta = 1.0) {
  const std::size_t count = std::size_t(1) << m.n_spins();
  const long double down = m.down_value();
  std::vector<long double> le(count);
  for (std::size_t k = 0; k < count; ++k) {
    auto x = [&](std::size_t i) { return ((k >> i) & 1) ? 1.0L : down; };
    long double e = 0;
    for (std::size_t i = 0; i < m.n_spins(); ++i) e -= (long double)m.fields()[Eigen::Index(i)] * x(i);
    for (const IsingEdge& ed : m.edges()) e -= (long double)ed.coupling * x(ed.i) * x(ed.j);
    le[k] = -beta * e;
  }
  return test::normalized_exp(le);
}

/// Single-site update matrices: row a of site i puts `stay`/`move` mass on a and a^(1<<i).
/// `move_prob(s, i)` is the probability that the update of site i ends with the spin flipped.
template <class F>
Dense site_matrix(const Ising& m, std::size_t i, F&& move_prob) {
  const std::size_t count = std::size_t(1) << m.n_spins();
  Dense t(count, std::vector<double>(count, 0.0));
  for (std::size_t a = 0; a < count; ++a) {
    const double q = move_prob(spins_of(m, a), i);
    t[a][a ^ (std::size_t(1) << i)] += q;
    t[a][a] += 1.0 - q;
  }
  return t;
}
/// Systematic sweep T_0 T_1 ... T_{n-1}; random scan (1/n) Σ_i T_i.
template <class F>
Dense sweep_matrix(const Ising& m, F&& move_prob) {
  Dense t = site_matrix(m, 0, move_prob);
  for (std::size_t i = 1; i < m.n_spins(); ++i) t = multiply(t, site_matrix(m, i, move_prob));
  return t;
}
template <class F>
Dense random_scan_matrix(const Ising& m, F&& move_prob) {
  const std::size_t count = std::size_t(1) << m.n_spins();
  Dense t(count, std::vector<double>(count, 0.0));
  for (std::size_t i = 0; i < m.n_spins(); ++i) {
    const Dense ti = site_matrix(m, i, move_prob);
    for (std::size_t a = 0; a < count; ++a)
      for (std::size_t b = 0; b < count; ++b) t[a][b] += ti[a][b] / double(m.n_spins());
  }
  return t;
}

/// Swendsen–Wang by summing over every bond configuration of the aligned edges, with its
/// own union-find. Fields: a site whose spin has its field's sign is bonded to a ghost spin
/// with probability 1 - exp(-2β|h_i|), so a cluster is frozen with probability
/// f_C = 1 - Π (1 - p_i) over those sites and otherwise flipped with probability 1/2; flips
/// of every subset of clusters are summed. `honour_fields = false` is the zero-field
/// kernel applied regardless (every cluster free): wrong when there are fields.
Dense sw_matrix(const Ising& m, double beta, bool honour_fields = true) {
  const std::size_t n = m.n_spins(), count = std::size_t(1) << n;
  Dense t(count, std::vector<double>(count, 0.0));
  const auto& edges = m.edges();
  for (std::size_t a = 0; a < count; ++a) {
    std::vector<std::size_t> aligned;
    for (std::size_t e = 0; e < edges.size(); ++e)
      if (((a >> edges[e].i) & 1) == ((a >> edges[e].j) & 1)) aligned.push_back(e);
    for (std::size_t b = 0; b < (std::size_t(1) << aligned.size()); ++b) {
      double w = 1;
      std::vector<std::size_t> root(n);
      std::iota(root.begin(), root.end(), 0);
      auto find = [&](std::size_t x) {
        while (root[x] != x) x = root[x];
        return x;
      };
      for (std::size_t k = 0; k < aligned.size(); ++k) {
        const IsingEdge& ed = edges[aligned[k]];
        const double p = 1.0 - std::exp(-2.0 * beta * ed.coupling);
        if ((b >> k) & 1) {
          w *= p;
          root[find(ed.i)] = find(ed.j);
        } else {
          w *= 1.0 - p;
        }
      }
      if (w == 0) continue;
      std::vector<std::size_t> mask;     // site mask of each cluster
      std::vector<double> free_prob;     // probability that the cluster is not frozen
      std::vector<std::size_t> cluster_of(n, SIZE_MAX);
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t r = find(i);
        if (cluster_of[r] == SIZE_MAX) {
          cluster_of[r] = mask.size();
          mask.push_back(0);
          free_prob.push_back(1.0);
        }
        mask[cluster_of[r]] |= std::size_t(1) << i;
        const double h = m.fields()[Eigen::Index(i)];
        const bool up = (a >> i) & 1;
        if (honour_fields && ((h > 0 && up) || (h < 0 && !up))) free_prob[cluster_of[r]] *= std::exp(-2.0 * beta * std::abs(h));
      }
      for (std::size_t f = 0; f < (std::size_t(1) << mask.size()); ++f) {
        std::size_t flip = 0;
        double pf = w;
        for (std::size_t c = 0; c < mask.size(); ++c) {
          const double p_flip = 0.5 * free_prob[c];
          if ((f >> c) & 1) {
            flip |= mask[c];
            pf *= p_flip;
          } else {
            pf *= 1.0 - p_flip;
          }
        }
        t[a][a ^ flip] += pf;
      }
    }
  }
  return t;
}

void expect_stochastic_and_stationary(const Dense& t, const std::vector<double>& pi) {
  const std::size_t n = pi.size();
  double row_err = 0, stat_err = 0;
  for (std::size_t a = 0; a < n; ++a) {
    double r = 0;
    for (double v : t[a]) {
      ASSERT_GE(v, 0.0);
      r += v;
    }
    row_err = std::max(row_err, std::abs(r - 1));
  }
  for (std::size_t b = 0; b < n; ++b) {
    long double s = 0;
    for (std::size_t a = 0; a < n; ++a) s += (long double)pi[a] * t[a][b];
    stat_err = std::max(stat_err, double(std::abs(s - pi[b])));
  }
  EXPECT_LE(row_err, 1e-12);
  EXPECT_LE(stat_err, 1e-12);
}

/// An l1×l2 open lattice with random fields and couplings (both signs), scale N(0, 0.7²);
/// or, if `zero_field_ferro`, couplings uniform in [0.1, 0.7] and fields `ferro_field_scale`
/// · N(0, 1) (zero by default).
Ising random_lattice(std::uint64_t seed, std::size_t l1, std::size_t l2, SpinConvention c, bool zero_field_ferro,
                     double ferro_field_scale = 0.0) {
  Ising m = Ising::lattice_2d(l1, l2, 0.0, 0.0, Boundary::open, Boundary::open, c);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) {
    const bool field = std::size_t(k) < m.n_spins();
    if (zero_field_ferro) theta[k] = field ? ferro_field_scale * rng.normal() : 0.1 + 0.6 * rng.uniform_double();
    else theta[k] = 0.7 * rng.normal();
  }
  m.set_parameters(theta);
  return m;
}

constexpr SpinConvention pm = SpinConvention::plus_minus_one, zo = SpinConvention::zero_one;

TEST(IsingSamplersExact, GibbsAndMetropolisAreStationaryOn3x3) {
  for (SpinConvention c : {pm, zo}) {
    for (double beta : {1.0, 0.6}) {
      const Ising m = random_lattice(11, 3, 3, c, false);
      const std::vector<double> pi = exact_pi(m, beta);
      const SystematicGibbs gs({.updates = 1, .beta = beta});
      const RandomScanGibbs gr({.updates = 1, .beta = beta});
      const SystematicMetropolis ms({.updates = 1, .beta = beta});
      const RandomScanMetropolis mr({.updates = 1, .beta = beta});
      auto gibbs_move = [&](const VectorD& s, std::size_t i) {
        const double up = gs.up_probability(m, s, i);
        return s[Eigen::Index(i)] == 1.0 ? 1.0 - up : up;
      };
      auto metro_move = [&](const VectorD& s, std::size_t i) { return ms.accept_probability(m, s, i); };
      // Both scans of a kernel share its per-site probabilities.
      const VectorD s0 = spins_of(m, 0x5a);
      EXPECT_EQ(gs.up_probability(m, s0, 4), gr.up_probability(m, s0, 4));
      EXPECT_EQ(ms.accept_probability(m, s0, 4), mr.accept_probability(m, s0, 4));

      SCOPED_TRACE(testing::Message() << "convention " << int(c) << " beta " << beta);
      {  // systematic-scan sweeps: stationary but NOT reversible (detailed balance fails)
        const Dense tg = sweep_matrix(m, gibbs_move), tm = sweep_matrix(m, metro_move);
        expect_stochastic_and_stationary(tg, pi);
        expect_stochastic_and_stationary(tm, pi);
        EXPECT_GT(detailed_balance_error(tg, pi), 1e-6);
        EXPECT_GT(detailed_balance_error(tm, pi), 1e-6);
      }
      {  // random scan: stationary and reversible
        const Dense tg = random_scan_matrix(m, gibbs_move), tm = random_scan_matrix(m, metro_move);
        expect_stochastic_and_stationary(tg, pi);
        expect_stochastic_and_stationary(tm, pi);
        EXPECT_LE(detailed_balance_error(tg, pi), 1e-12);
        EXPECT_LE(detailed_balance_error(tm, pi), 1e-12);
      }
    }
  }
}

TEST(IsingSamplersExact, SwendsenWangIsStationaryAndReversibleOn3x3) {
  const Ising m = random_lattice(12, 3, 3, pm, true);
  ASSERT_EQ(m.n_edges(), 12u);
  for (double beta : {1.0, 0.4}) {
    const std::vector<double> pi = exact_pi(m, beta);
    const Dense t = sw_matrix(m, beta);
    expect_stochastic_and_stationary(t, pi);
    EXPECT_LE(detailed_balance_error(t, pi), 1e-12);
    // The kernel's bond probability is the one summed over here.
    const SwendsenWang sw({.updates = 1, .beta = beta});
    EXPECT_NEAR(sw.bond_probability(0.3), 1.0 - std::exp(-2.0 * beta * 0.3), 1e-15);
  }
}

TEST(IsingSamplersExact, SwendsenWangWithFieldsIsStationaryAndReversibleOn3x3) {
  const Ising m = random_lattice(13, 3, 3, pm, true, 0.5);  // fields of both signs
  double smallest = INFINITY;
  for (std::size_t i = 0; i < 9; ++i) smallest = std::min(smallest, std::abs(m.fields()[Eigen::Index(i)]));
  ASSERT_GT(smallest, 0.0);
  ASSERT_LT(m.fields().minCoeff(), 0.0);
  ASSERT_GT(m.fields().maxCoeff(), 0.0);
  for (double beta : {1.0, 0.4}) {
    SCOPED_TRACE(testing::Message() << "beta " << beta);
    const std::vector<double> pi = exact_pi(m, beta);
    const Dense t = sw_matrix(m, beta);
    expect_stochastic_and_stationary(t, pi);
    EXPECT_LE(detailed_balance_error(t, pi), 1e-12);
    // The check has power: clusters flipped as if there were no field are far from π.
    const Dense wrong = sw_matrix(m, beta, false);
    double err = 0;
    for (std::size_t b = 0; b < pi.size(); ++b) {
      double s = 0;
      for (std::size_t a = 0; a < pi.size(); ++a) s += pi[a] * wrong[a][b];
      err = std::max(err, std::abs(s - pi[b]));
    }
    EXPECT_GT(err, 1e-3);
  }
}

/// χ² of `chains` independent chains (streams derive(seed, gibbs, c)), each started from
/// state `start` and run `steps` steps of `kernel`, against the exact distribution
/// e_start T^steps. Cells with expected count < 5 are pooled into one cell.
/// False-failure rate 1e-4 per call (Wilson–Hilferty quantile, slightly conservative).
template <class K>
void chi_square_against_exact(const K& kernel, const Ising& m, const Dense& t, std::size_t start, std::size_t steps,
                              std::size_t chains, std::uint64_t seed) {
  test::expect_chains_follow(
      kernel, m, t, start, steps, chains, seed, [&](std::size_t k) { return spins_of(m, k); },
      [&](const VectorD& s) { return index_of(s); });
}

TEST(IsingSamplersStatistical, SwendsenWangMatchesExactDistribution) {
  const Ising m = random_lattice(21, 2, 3, pm, true);  // 64 states, 7 bonds
  const SwendsenWang sw({.updates = 1, .beta = 1.0});
  chi_square_against_exact(sw, m, sw_matrix(m, 1.0), 0, 3, 20000, 101);
}

TEST(IsingSamplersStatistical, SwendsenWangWithFieldsMatchesExactDistributionOn3x3) {
  const Ising m = random_lattice(24, 3, 3, pm, true, 0.5);  // 512 states, 12 bonds, 9 fields
  const SwendsenWang sw({.updates = 1, .beta = 1.0});
  chi_square_against_exact(sw, m, sw_matrix(m, 1.0), 0, 3, 20000, 104);
}

TEST(IsingSamplersStatistical, SwendsenWangWithFieldsKeepsExactDrawsExact) {
  // Chains started from exact draws of π and run 3 steps of step() are still distributed
  // as π: Pearson's χ² of the 512 state counts (cells with expected count < 5 pooled)
  // against π. False-failure rate 1e-4 (Wilson–Hilferty quantile, slightly conservative).
  const Ising m = random_lattice(25, 3, 3, pm, true, 0.5);
  const std::vector<double> pi = exact_pi(m, 1.0);
  std::vector<double> cdf(pi.size());
  std::partial_sum(pi.begin(), pi.end(), cdf.begin());
  const SwendsenWang sw({.updates = 3, .beta = 1.0});
  const std::size_t chains = 30000;
  std::vector<std::size_t> counts(pi.size(), 0);
  for (std::size_t c = 0; c < chains; ++c) {
    Stream rng = Stream::derive(105, Purpose::gibbs, c);
    const double u = rng.uniform_double() * cdf.back();
    const std::size_t start = std::size_t(std::upper_bound(cdf.begin(), cdf.end() - 1, u) - cdf.begin());
    VectorD s = spins_of(m, start);
    sw.step(m, s, rng);
    ++counts[index_of(s)];
  }
  test::expect_chi_square_fits(counts, pi, chains, 50, 1e-4);  // false-failure rate 1e-4
}

TEST(IsingSamplersStatistical, SystematicGibbsMatchesExactDistribution) {
  const Ising m = random_lattice(22, 2, 3, pm, false);
  const SystematicGibbs g({.updates = 1, .beta = 1.0});
  auto move = [&](const VectorD& s, std::size_t i) {
    const double up = g.up_probability(m, s, i);
    return s[Eigen::Index(i)] == 1.0 ? 1.0 - up : up;
  };
  chi_square_against_exact(g, m, sweep_matrix(m, move), 0, 2, 20000, 102);
}

TEST(IsingSamplersStatistical, RandomScanMetropolisMatchesExactDistribution) {
  const Ising m = random_lattice(23, 2, 3, zo, false);
  const RandomScanMetropolis k({.updates = 1, .beta = 1.0});
  auto move = [&](const VectorD& s, std::size_t i) { return k.accept_probability(m, s, i); };
  const Dense one = random_scan_matrix(m, move);
  // 8 proposals per step: T^8 as the step matrix.
  const RandomScanMetropolis k8({.updates = 8, .beta = 1.0});
  Dense t = one;
  for (int r = 1; r < 8; ++r) t = multiply(t, one);
  chi_square_against_exact(k8, m, t, 5, 2, 20000, 103);
}

TEST(IsingSamplers, InfoCountsAndReproducibility) {
  const Ising m = Ising::lattice_2d(4, 4, 0.4, 0.0);
  VectorD a = VectorD::Ones(16), b = a;
  Stream r1 = Stream::derive(5, Purpose::gibbs, 0), r2 = r1;
  const SystematicGibbs g({.updates = 3});
  const auto ig = g.step(m, a, r1);
  EXPECT_EQ(ig.updates, 48u);
  EXPECT_EQ(ig.non_finite, 0u);
  g.step(m, b, r2);
  EXPECT_EQ(a, b);  // same stream, same state
  const RandomScanMetropolis mr({.updates = 7});
  const auto im = mr.step(m, a, r1);
  EXPECT_EQ(im.proposals, 7u);
  EXPECT_LE(im.accepted, 7u);
  const SwendsenWang sw({.updates = 2});
  const auto is = sw.step(m, a, r1);
  EXPECT_EQ(is.updates, 2u);
  EXPECT_GE(is.clusters, 2u);
  EXPECT_LE(is.flipped, is.clusters);
  EXPECT_EQ(is.frozen, 0u);  // no field, no ghost bonds
  // A strong field: every up spin is bonded to the ghost (1 - e^-100 rounds to 1), so from
  // all-up every cluster is frozen and nothing moves.
  const Ising hm = Ising::lattice_2d(4, 4, 0.4, 50.0);
  VectorD up = VectorD::Ones(16);
  const auto ih = sw.step(hm, up, r1);
  EXPECT_EQ(ih.frozen, ih.clusters);
  EXPECT_EQ(ih.flipped, 0u);
  EXPECT_EQ(up, VectorD::Ones(16));
}

TEST(IsingSamplers, NonFiniteDeltaEnergyIsACountedRejection) {
  // Chain 0-1-2, J = 6e307: flipping site 1 of (+,+,+) has ΔE = 2·1.2e308 = inf.
  const Ising m = Ising::chain(3, 6e307, 0.0);
  VectorD s = VectorD::Ones(3);
  Stream rng = Stream::derive(1, Purpose::gibbs, 0);
  const auto info = SystematicMetropolis().step(m, s, rng);
  EXPECT_EQ(info.proposals, 3u);
  EXPECT_EQ(info.accepted, 0u);
  EXPECT_EQ(info.non_finite, 1u);
  EXPECT_EQ(s, VectorD::Ones(3));
}

TEST(IsingSamplers, BadInputMessages) {
  using test::expect_error;
  expect_error([] { SystematicGibbs({.updates = 0}); }, Exit::usage,
               "SiteGibbs<systematic>: updates must be >= 1 (got 0)");
  expect_error([] { RandomScanGibbs({.updates = 1, .beta = -1}); }, Exit::usage,
               "SiteGibbs<random>: beta must be finite and >= 0 (got -1)");
  expect_error([] { RandomScanMetropolis({.updates = 1, .beta = NAN}); }, Exit::usage,
               "SiteMetropolis<random>: beta must be finite and >= 0 (got nan)");
  expect_error([] { SystematicMetropolis({.updates = 0}); }, Exit::usage,
               "SiteMetropolis<systematic>: updates must be >= 1 (got 0)");
  expect_error([] { SwendsenWang({.updates = 0}); }, Exit::usage, "SwendsenWang: updates must be >= 1 (got 0)");
  expect_error([] { SwendsenWang({.updates = 1, .beta = INFINITY}); }, Exit::usage,
               "SwendsenWang: beta must be finite and >= 0 (got inf)");

  Stream rng = Stream::derive(1, Purpose::gibbs, 0);
  VectorD s = VectorD::Ones(3);
  expect_error([&] { SwendsenWang().step(Ising(3, std::vector<IsingEdge>{{0, 1, 0.5}, {1, 2, -0.25}}, VectorD::Zero(3)), s, rng); },
               Exit::usage, "SwendsenWang: coupling 1 (sites 1, 2) is -0.25; Swendsen-Wang needs couplings >= 0");
  EXPECT_NO_THROW(SwendsenWang().step(Ising::chain(3, 0.5, -0.1), s, rng));  // fields are allowed
  expect_error([&] { SwendsenWang().step(Ising::chain(3, 0.5, 0.0, Boundary::open, zo), s, rng); }, Exit::usage,
               "SwendsenWang: the model has 0/1 spins; Swendsen-Wang needs +-1 spins");
  VectorD short_state = VectorD::Ones(2);
  expect_error([&] { SystematicGibbs().step(Ising::chain(3, 0.5, 0.1), short_state, rng); }, Exit::usage,
               "SiteGibbs<systematic>: state has 2 spins but the model has 3");
}

}  // namespace
}  // namespace logz
