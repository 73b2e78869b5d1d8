// The single-site kernels written once over SiteConditionals, on a model that is neither
// Ising nor Potts: 3 sites of 3 values with an arbitrary energy table (27 states), whose
// conditional energies come from the table by brute force. Exact: the transition matrix
// of one step of Gibbs and Metropolis, both scans, built from the kernels' own conditional
// and acceptance probabilities, leaves π ∝ exp(-β E) invariant to 1e-12 (and is in
// detailed balance for the random scans). Replay: step() draws one uniform per Gibbs
// update (inverse CDF) and one integer then one uniform per Metropolis proposal, in site
// order, from its stream. Which models take the two-state log-odds path (Ising) and which
// the q-state path (Potts, this table), and the kernels' names per model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/kernels/metropolis.hpp"
#include "logz/kernels/potts_gibbs.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "support/expect_error.hpp"
#include "support/markov.hpp"

namespace logz {
namespace {

using test::Dense;
using test::detailed_balance_error;
using test::multiply;
using test::stationarity_error;
using test::zeros;

VectorD vec(std::initializer_list<double> values) {
  VectorD x(Eigen::Index(values.size()));
  Eigen::Index k = 0;
  for (double v : values) x[k++] = v;
  return x;
}

/// Three sites of three values with E(x) read from a table of 27 arbitrary energies.
class EnergyTable {
 public:
  static constexpr std::size_t kSites = 3, kValues = 3, kStates = 27;
  explicit EnergyTable(std::uint64_t seed) {
    Stream rng = Stream::root(seed);
    for (double& e : energy_) e = 1.5 * rng.normal();
  }
  std::size_t dimension() const { return kSites; }
  std::size_t num_states() const { return kValues; }
  static std::size_t index_of(const Eigen::Ref<const VectorD>& x) {
    return std::size_t(x[0]) * 9 + std::size_t(x[1]) * 3 + std::size_t(x[2]);
  }
  static VectorD state_of(std::size_t k) { return vec({double(k / 9), double(k / 3 % 3), double(k % 3)}); }
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy_[index_of(x)]; }
  void site_energies(std::size_t i, const Eigen::Ref<const VectorD>& x, std::span<double> out) const {
    VectorD y = x;
    for (std::size_t a = 0; a < kValues; ++a) {
      y[Eigen::Index(i)] = double(a);
      out[a] = energy_of(y);
    }
  }
  static double state_value(std::size_t a) { return double(a); }
  static std::size_t state_index(double v) { return std::size_t(v); }
  void check_state(const char* who, const Eigen::Ref<const VectorD>& x) const {
    check_arg(x.size() == 3, "{}: state has {} sites but the table has 3", who, x.size());
  }

 private:
  double energy_[kStates];
};

static_assert(SiteConditionals<EnergyTable> && !BinarySiteConditionals<EnergyTable>);
static_assert(BinarySiteConditionals<Ising> && !BinarySiteConditionals<Potts>);

std::vector<double> exact_pi(const EnergyTable& m, double beta) {
  std::vector<long double> lw(EnergyTable::kStates);
  for (std::size_t k = 0; k < lw.size(); ++k) lw[k] = -(long double)beta * m.energy_of(EnergyTable::state_of(k));
  return test::normalized_exp(lw);
}

std::size_t with_site(std::size_t k, std::size_t i, std::size_t v) {
  VectorD x = EnergyTable::state_of(k);
  x[Eigen::Index(i)] = double(v);
  return EnergyTable::index_of(x);
}

template <class K>
Dense gibbs_site(const K& k, const EnergyTable& m, std::size_t i) {
  Dense t = zeros(EnergyTable::kStates);
  std::vector<double> p(3);
  for (std::size_t a = 0; a < EnergyTable::kStates; ++a) {
    EXPECT_TRUE(k.conditional(m, EnergyTable::state_of(a), i, p));
    for (std::size_t v = 0; v < 3; ++v) t[a][with_site(a, i, v)] += p[v];
  }
  return t;
}

template <class K>
Dense metropolis_site(const K& k, const EnergyTable& m, std::size_t i) {
  Dense t = zeros(EnergyTable::kStates);
  for (std::size_t a = 0; a < EnergyTable::kStates; ++a) {
    const VectorD x = EnergyTable::state_of(a);
    double stay = 1;
    for (std::size_t b = 0; b < 3; ++b) {
      if (b == std::size_t(x[Eigen::Index(i)])) continue;
      const double move = k.accept_probability(m, x, i, b) / 2;
      t[a][with_site(a, i, b)] += move;
      stay -= move;
    }
    t[a][a] += stay;
  }
  return t;
}

/// One systematic sweep (sites 0, 1, 2) and one random-scan update (site uniform).
template <class Site>
std::pair<Dense, Dense> step_matrices(Site&& site) {
  Dense sweep = site(0), random = zeros(EnergyTable::kStates);
  for (std::size_t i = 1; i < 3; ++i) sweep = multiply(sweep, site(i));
  for (std::size_t i = 0; i < 3; ++i) {
    const Dense t = site(i);
    for (std::size_t a = 0; a < t.size(); ++a)
      for (std::size_t b = 0; b < t.size(); ++b) random[a][b] += t[a][b] / 3;
  }
  return {sweep, random};
}

TEST(SiteKernelsExact, GibbsAndMetropolisLeaveAnyTableInvariant) {
  for (std::uint64_t seed : {1u, 2u})
    for (double beta : {0.0, 0.6, 1.0, 2.5}) {
      const EnergyTable m(seed);
      const std::vector<double> pi = exact_pi(m, beta);
      const SiteGibbsKernel<EnergyTable, Scan::systematic> gibbs({1, beta});
      const SiteMetropolisKernel<EnergyTable, Scan::systematic> metropolis({1, beta});
      const auto [gibbs_sweep, gibbs_random] = step_matrices([&](std::size_t i) { return gibbs_site(gibbs, m, i); });
      const auto [metro_sweep, metro_random] =
          step_matrices([&](std::size_t i) { return metropolis_site(metropolis, m, i); });
      for (const Dense* t : {&gibbs_sweep, &gibbs_random, &metro_sweep, &metro_random})
        EXPECT_LT(stationarity_error(*t, pi), 1e-12) << "seed " << seed << " beta " << beta;
      EXPECT_LT(detailed_balance_error(gibbs_random, pi), 1e-12);
      EXPECT_LT(detailed_balance_error(metro_random, pi), 1e-12);
    }
}

TEST(SiteKernelsReplay, StepDrawsTheDocumentedNumbersInSiteOrder) {
  const EnergyTable m(3);
  const double beta = 0.8;
  const SiteGibbsKernel<EnergyTable, Scan::systematic> gibbs({2, beta});
  const SiteMetropolisKernel<EnergyTable, Scan::systematic> metropolis({2, beta});
  VectorD x = vec({0.0, 2.0, 1.0}), y = x;
  Stream rng = Stream::root(7), replay = Stream::root(7);
  const SiteGibbsInfo info = gibbs.step(m, x, rng);
  EXPECT_EQ(info.updates, 6u);
  std::vector<double> p(3);
  for (std::size_t sweep = 0; sweep < 2; ++sweep)
    for (std::size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(gibbs.conditional(m, y, i, p));
      const double u = replay.uniform_double();
      y[Eigen::Index(i)] = double(detail::inverse_cdf(p, u));
    }
  EXPECT_EQ(x, y);
  const SiteMetropolisInfo minfo = metropolis.step(m, x, rng);
  EXPECT_EQ(minfo.proposals, 6u);
  for (std::size_t sweep = 0; sweep < 2; ++sweep)
    for (std::size_t i = 0; i < 3; ++i) {
      const auto a = std::size_t(y[Eigen::Index(i)]);
      std::size_t b = std::size_t(replay.below(2));
      if (b >= a) ++b;
      const double u = replay.uniform_double();
      if (u < metropolis.accept_probability(m, y, i, b)) y[Eigen::Index(i)] = double(b);
    }
  EXPECT_EQ(x, y);
  EXPECT_EQ(rng.next_u32(), replay.next_u32());  // the same number of draws
}

TEST(SiteKernelsNames, PerModelNamesInMessages) {
  EXPECT_EQ(std::string(SystematicGibbs::name()), "SiteGibbs<systematic>");
  EXPECT_EQ(std::string(RandomScanMetropolis::name()), "SiteMetropolis<random>");
  EXPECT_EQ(std::string(RandomScanPottsGibbs::name()), "PottsGibbs<random>");
  EXPECT_EQ(std::string(SystematicPottsMetropolis::name()), "PottsMetropolis<systematic>");
  EXPECT_EQ(std::string(SiteGibbsKernel<EnergyTable, Scan::random>::name()), "SiteGibbs<random>");
  const EnergyTable m(1);
  VectorD short_state = vec({0.0, 1.0});
  Stream rng = Stream::root(1);
  test::expect_error([&] { SiteMetropolisKernel<EnergyTable, Scan::random>().step(m, short_state, rng); },
                     Exit::usage, "SiteMetropolis<random>: state has 2 sites but the table has 3");
}

}  // namespace
}  // namespace logz
