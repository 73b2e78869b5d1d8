// Parallel tempering. Exact first: on a 3-spin Ising model with 3 betas the transition
// matrix of one PT step on the joint space (8³ = 512 states) is built from the kernel's
// own conditionals and the ladder's swap_probability, for the even- and the odd-pair
// phase, and the product of tempered distributions Π_k p_{β_k} is checked to be
// invariant to 1e-12. Then χ² of many independent PT runs against e_start T^K (joint state
// and the β = 1 replica), the swap acceptance counts against their exact expectation,
// round-trip counting, 1 vs 2 threads, and pinned error messages.
#include "logz/tempering/parallel_tempering.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "logz/kernels/potts_gibbs.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/kernels/swendsen_wang.hpp"
#include "support/expect_error.hpp"
#include "support/markov.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using test::Dense;
using test::multiply;
using test::stationarity_error;
using test::zeros;
using PT = ParallelTempering<SystematicGibbs>;

constexpr std::size_t kSpins = 3, kStates = 8, kReplicas = 3, kJoint = 512;

VectorD spins_of(std::size_t k) {
  VectorD s{Eigen::Index(kSpins)};
  for (std::size_t i = 0; i < kSpins; ++i) s[Eigen::Index(i)] = ((k >> i) & 1) ? 1.0 : -1.0;
  return s;
}
std::size_t index_of(const VectorD& s) {
  std::size_t k = 0;
  for (Eigen::Index i = 0; i < s.size(); ++i)
    if (s[i] == 1.0) k |= std::size_t(1) << i;
  return k;
}
/// Joint index: replica k's state index in digit k (base 8).
std::size_t joint_index(const std::vector<VectorD>& r) {
  return index_of(r[0]) + kStates * index_of(r[1]) + kStates * kStates * index_of(r[2]);
}
std::size_t digit(std::size_t j, std::size_t k) { return (j >> (3 * k)) & 7; }

/// A triangle with couplings and fields of both signs.
Ising triangle() {
  return Ising(3, std::vector<IsingEdge>{{0, 1, 0.9}, {1, 2, -0.6}, {0, 2, 0.7}},
               (VectorD(3) << 0.3, -0.5, 0.2).finished());
}

/// p_β(k) ∝ exp(-β E(k)) from the edge list (not Ising::energy).
std::vector<double> tempered(const Ising& m, double beta) {
  std::vector<double> p(kStates);
  double z = 0;
  for (std::size_t k = 0; k < kStates; ++k) {
    const VectorD s = spins_of(k);
    double e = 0;
    for (std::size_t i = 0; i < kSpins; ++i) e -= m.fields()[Eigen::Index(i)] * s[Eigen::Index(i)];
    for (const IsingEdge& ed : m.edges()) e -= ed.coupling * s[Eigen::Index(ed.i)] * s[Eigen::Index(ed.j)];
    z += (p[k] = std::exp(-beta * e));
  }
  for (double& v : p) v /= z;
  return p;
}


/// One systematic Gibbs sweep of one replica (8×8) from the kernel's up_probability.
Dense sweep_matrix(const SystematicGibbs& g, const Ising& m) {
  Dense t = zeros(kStates);
  for (std::size_t a = 0; a < kStates; ++a) t[a][a] = 1;
  for (std::size_t i = 0; i < kSpins; ++i) {
    Dense site = zeros(kStates);
    for (std::size_t a = 0; a < kStates; ++a) {
      const double up = g.up_probability(m, spins_of(a), i);
      site[a][a | (std::size_t(1) << i)] += up;
      site[a][a & ~(std::size_t(1) << i)] += 1.0 - up;
    }
    t = multiply(t, site);
  }
  return t;
}
/// All replicas move: the Kronecker product of the replicas' sweeps.
Dense move_matrix(const PT& pt, const Ising& m) {
  std::vector<Dense> k;
  for (std::size_t r = 0; r < kReplicas; ++r) k.push_back(sweep_matrix(pt.kernel(r), m));
  Dense t = zeros(kJoint);
  for (std::size_t a = 0; a < kJoint; ++a)
    for (std::size_t b = 0; b < kJoint; ++b)
      t[a][b] = k[0][digit(a, 0)][digit(b, 0)] * k[1][digit(a, 1)][digit(b, 1)] * k[2][digit(a, 2)][digit(b, 2)];
  return t;
}
/// Swap of pair (k, k+1) accepted with `alpha(k, E_k, E_{k+1})`.
template <class Alpha>
Dense swap_matrix(const Ising& m, std::size_t k, Alpha&& alpha) {
  Dense t = zeros(kJoint);
  for (std::size_t a = 0; a < kJoint; ++a) {
    const std::size_t x = digit(a, k), y = digit(a, k + 1);
    const double p = alpha(k, m.energy(spins_of(x)), m.energy(spins_of(y)));
    const std::size_t b = a - (x << (3 * k)) - (y << (3 * (k + 1))) + (y << (3 * k)) + (x << (3 * (k + 1)));
    t[a][b] += p;
    t[a][a] += 1.0 - p;
  }
  return t;
}
std::vector<double> joint_pi(const Ising& m, const std::vector<double>& betas) {
  std::vector<std::vector<double>> p;
  for (double b : betas) p.push_back(tempered(m, b));
  std::vector<double> pi(kJoint);
  for (std::size_t a = 0; a < kJoint; ++a) pi[a] = p[0][digit(a, 0)] * p[1][digit(a, 1)] * p[2][digit(a, 2)];
  return pi;
}
double row_sum_error(const Dense& t) {
  double err = 0;
  for (const auto& row : t) {
    double s = 0;
    for (double v : row) s += v;
    err = std::max(err, std::abs(s - 1));
  }
  return err;
}
std::vector<double> evolve(const std::vector<double>& p, const Dense& t) {
  std::vector<double> q(p.size(), 0.0);
  for (std::size_t a = 0; a < p.size(); ++a)
    if (p[a] != 0)
      for (std::size_t b = 0; b < p.size(); ++b) q[b] += p[a] * t[a][b];
  return q;
}

const std::vector<double> kBetas{0.3, 0.6, 1.0};

TEST(ParallelTemperingExact, OneStepLeavesTheProductOfTemperedDistributionsInvariant) {
  const Ising m = triangle();
  const PT pt(kBetas);
  const std::vector<double> pi = joint_pi(m, kBetas);
  const Dense move = move_matrix(pt, m);
  auto alpha = [&](std::size_t k, double ek, double ek1) { return pt.swap_probability(k, ek, ek1); };
  for (std::size_t k = 0; k + 1 < kReplicas; ++k) {  // k = 0: the even phase, k = 1: the odd phase
    SCOPED_TRACE(testing::Message() << "pair " << k);
    const Dense swap = swap_matrix(m, k, alpha);
    // The swap alone satisfies detailed balance.
    double db = 0;
    for (std::size_t a = 0; a < kJoint; ++a)
      for (std::size_t b = 0; b < kJoint; ++b) db = std::max(db, std::abs(pi[a] * swap[a][b] - pi[b] * swap[b][a]));
    EXPECT_LE(db, 1e-12);
    const Dense step = multiply(move, swap);
    EXPECT_LE(row_sum_error(step), 1e-12);
    EXPECT_LE(stationarity_error(step, pi), 1e-12);
    // The check has power: the swap exponent with the opposite sign breaks invariance.
    auto flipped = [&](std::size_t j, double ek, double ek1) { return pt.swap_probability(j, ek1, ek); };
    EXPECT_GT(stationarity_error(multiply(move, swap_matrix(m, k, flipped)), pi), 1e-3);
  }
  // swap_probability is the formula in the header.
  EXPECT_DOUBLE_EQ(pt.swap_probability(1, 2.0, 1.0), std::exp(0.4 * -1.0));
  EXPECT_EQ(pt.swap_probability(1, 1.0, 2.0), 1.0);
  EXPECT_EQ(pt.swap_probability(1, 1.0, NAN), 0.0);
}

/// χ² with cells of expected count < 5 pooled; false-failure rate 1e-4 per call
/// (Wilson–Hilferty quantile, slightly conservative).
void expect_chi_square(const std::vector<std::size_t>& counts, const std::vector<double>& p, std::size_t n,
                       std::size_t min_cells) {
  std::vector<std::size_t> pc;
  std::vector<double> pp;
  std::size_t rc = 0;
  double rp = 0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (p[k] * double(n) >= 5) {
      pc.push_back(counts[k]);
      pp.push_back(p[k]);
    } else {
      rc += counts[k];
      rp += p[k];
    }
  }
  if (rp > 0) {
    pc.push_back(rc);
    pp.push_back(rp);
  }
  ASSERT_GE(pc.size(), min_cells);
  EXPECT_LE(test::chi_square_statistic(pc, pp), test::chi_square_upper_quantile(double(pc.size() - 1), 1e-4))
      << "cells " << pc.size();
}

TEST(ParallelTemperingStatistical, MatchesExactDistributionAndAcceptanceRates) {
  const Ising m = triangle();
  const PT pt(kBetas);
  const Dense move = move_matrix(pt, m);
  auto alpha = [&](std::size_t k, double ek, double ek1) { return pt.swap_probability(k, ek, ek1); };
  const Dense swap0 = swap_matrix(m, 0, alpha), swap1 = swap_matrix(m, 1, alpha);
  const Dense even = multiply(move, swap0), odd = multiply(move, swap1);
  // Start: replica k in state index 0, 5, 3.
  std::vector<VectorD> start{spins_of(0), spins_of(5), spins_of(3)};
  std::vector<double> p(kJoint, 0.0);
  p[joint_index(start)] = 1;
  // Exact expected acceptances: of pair (0, 1) in step 1 and of pair (1, 2) in step 2.
  auto expected_acceptance = [&](const std::vector<double>& before_swap, std::size_t k) {
    double e = 0;
    for (std::size_t a = 0; a < kJoint; ++a)
      e += before_swap[a] * alpha(k, m.energy(spins_of(digit(a, k))), m.energy(spins_of(digit(a, k + 1))));
    return e;
  };
  const std::vector<double> p1 = evolve(p, even), p2 = evolve(p1, odd), p3 = evolve(p2, even);
  const double acc0 = expected_acceptance(evolve(p, move), 0), acc1 = expected_acceptance(evolve(p1, move), 1);

  const std::size_t chains = 20000;
  std::vector<std::size_t> joint(kJoint, 0), cold(kStates, 0);
  std::size_t accepted0 = 0, accepted1 = 0;
  for (std::size_t c = 0; c < chains; ++c) {
    Stream rng = Stream::derive(301, Purpose::gibbs, c);
    PT::State s = pt.start(start);
    const auto i1 = pt.step(m, s, rng);
    const auto i2 = pt.step(m, s, rng);
    pt.step(m, s, rng);
    ASSERT_EQ(i1.attempts, (std::vector<std::size_t>{1, 0}));  // even pairs first
    ASSERT_EQ(i2.attempts, (std::vector<std::size_t>{0, 1}));
    accepted0 += i1.accepted[0];
    accepted1 += i2.accepted[1];
    ++joint[joint_index(s.replicas)];
    ++cold[index_of(s.replicas[2])];
  }
  expect_chi_square(joint, p3, chains, 100);  // joint state after 3 steps: false-failure rate 1e-4
  std::vector<double> cold_p(kStates, 0.0);
  for (std::size_t a = 0; a < kJoint; ++a) cold_p[digit(a, 2)] += p3[a];
  expect_chi_square(cold, cold_p, chains, 8);  // the β = 1 replica: false-failure rate 1e-4
  // Acceptances over independent chains are Binomial(chains, exact rate): |count − n p| ≤
  // z √(n p (1 − p)) with z = 4.42, two-sided false-failure rate 1e-5 each.
  for (auto [count, rate] : {std::pair{accepted0, acc0}, std::pair{accepted1, acc1}}) {
    const double n = double(chains), sd = std::sqrt(n * rate * (1 - rate));
    EXPECT_GT(rate, 0.05);
    EXPECT_LT(rate, 0.95);
    EXPECT_LE(std::abs(double(count) - n * rate), 4.42 * sd) << "rate " << rate;
  }
}

TEST(ParallelTempering, RoundTripsOnAFlatEnergy) {
  // E ≡ 0: every swap is accepted, so the labels move deterministically.
  const Ising flat(3, {}, VectorD::Zero(3));
  Stream rng = Stream::derive(1, Purpose::gibbs, 0);
  {
    const PT pt({0.5, 1.0});
    PT::State s = pt.start(VectorD::Ones(3));
    // Swaps on odd-numbered steps only (the odd phase has no pair). Label 1: bottom at
    // step 1, top at 3, bottom at 5; label 0: top at 1, bottom at 3, top at 5, bottom at 7.
    for (int t = 0; t < 5; ++t) pt.step(flat, s, rng);
    EXPECT_EQ(s.round_trips, 2u);  // label 0 at step 3, label 1 at step 5
    EXPECT_EQ(s.labels, (std::vector<std::size_t>{1, 0}));
    pt.step(flat, s, rng);
    EXPECT_EQ(s.round_trips, 2u);
    const auto info = pt.step(flat, s, rng);  // step 7: label 0 back at the bottom
    EXPECT_EQ(info.round_trips, 1u);
    EXPECT_EQ(s.round_trips, 3u);
    EXPECT_EQ(s.attempts, (std::vector<std::size_t>{4}));
    EXPECT_EQ(s.accepted, (std::vector<std::size_t>{4}));
  }
  {
    const PT pt({0.2, 0.5, 1.0});
    PT::State s = pt.start(VectorD::Ones(3));
    // Labels cycle with period 6: [A B C] -> [B A C] -> [B C A] -> [C B A] -> [C A B] -> [A C B] -> [A B C].
    for (int t = 0; t < 6; ++t) pt.step(flat, s, rng);
    EXPECT_EQ(s.labels, (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(s.round_trips, 1u);  // A: top at step 2, bottom at step 5
    for (int t = 0; t < 3; ++t) pt.step(flat, s, rng);
    EXPECT_EQ(s.round_trips, 3u);  // B at step 7 (top at 4), C at step 9 (bottom at 3, top at 6)
    EXPECT_EQ(s.attempts, (std::vector<std::size_t>{5, 4}));
    EXPECT_EQ(s.accepted, s.attempts);
  }
}

TEST(ParallelTempering, OneAndTwoThreadsGiveIdenticalBits) {
  {
    const Ising m = Ising::lattice_2d(8, 8, 0.4, 0.1);
    for (int kind = 0; kind < 2; ++kind) {
      auto run = [&](int threads) {
        std::vector<VectorD> out;
        Stream rng = Stream::derive(7, Purpose::gibbs, 0);
        auto go = [&](const auto& pt) {
          auto s = pt.start(VectorD::Ones(64));
          for (int t = 0; t < 20; ++t) pt.step(m, s, rng, Exec(threads));
          out = s.replicas;
          out.push_back(Eigen::Map<const Eigen::Matrix<std::size_t, -1, 1>>(s.accepted.data(), 3).cast<double>());
        };
        if (kind == 0) go(ParallelTempering<SystematicGibbs>({0.1, 0.3, 0.6, 1.0}));
        else go(ParallelTempering<SwendsenWang>({0.1, 0.3, 0.6, 1.0}));
        return out;
      };
      const auto a = run(1), b = run(2);
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k], b[k]) << "kernel " << kind << " row " << k;
    }
  }
  {  // any kernel with Params::beta: Potts Gibbs on a Potts model
    Potts m = Potts::dense(6, 4);
    VectorD theta = m.parameters();
    Stream init = Stream::derive(3, Purpose::user, 0);
    for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = 0.5 * init.normal();
    m.set_parameters(theta);
    const ParallelTempering<SystematicPottsGibbs> pt(Schedule::linear(4));
    auto run = [&](int threads) {
      Stream rng = Stream::derive(8, Purpose::gibbs, 0);
      auto s = pt.start(VectorD::Zero(6));
      for (int t = 0; t < 30; ++t) pt.step(m, s, rng, Exec(threads));
      return s;
    };
    const auto a = run(1), b = run(2);
    EXPECT_EQ(a.replicas, b.replicas);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_EQ(a.accepted, b.accepted);
    EXPECT_EQ(pt.betas().front(), 0.0);
    EXPECT_EQ(pt.num_replicas(), 5u);
  }
}

TEST(ParallelTempering, BadInputMessages) {
  using test::expect_error;
  expect_error([] { PT({1.0}); }, Exit::usage, "ParallelTempering: needs at least 2 betas, got 1");
  expect_error([] { PT({0.5, NAN}); }, Exit::usage, "ParallelTempering: beta[1] must be finite and >= 0 (got nan)");
  expect_error([] { PT({-0.5, 1}); }, Exit::usage, "ParallelTempering: beta[0] must be finite and >= 0 (got -0.5)");
  expect_error([] { PT({0.2, 0.5, 0.5}); }, Exit::usage,
               "ParallelTempering: betas must increase strictly; beta[2] = 0.5 follows beta[1] = 0.5");
  expect_error([] { PT({0.5, 1.0}, {.updates = 0}); }, Exit::usage,
               "SiteGibbs<systematic>: updates must be >= 1 (got 0)");
  const PT pt(kBetas);
  expect_error([&] { pt.start(std::vector<VectorD>(2, VectorD::Ones(3))); }, Exit::usage,
               "ParallelTempering: got 2 replica states for 3 betas");
  PT::State s = PT({0.5, 1.0}).start(VectorD::Ones(3));
  Stream rng = Stream::derive(1, Purpose::gibbs, 0);
  expect_error([&] { pt.step(triangle(), s, rng); }, Exit::usage,
               "ParallelTempering: the state has 2 replicas but the ladder has 3 betas (use start())");
  PT::State wrong = pt.start(VectorD::Ones(2));
  expect_error([&] { pt.step(triangle(), wrong, rng, Exec(2)); }, Exit::usage,
               "SiteGibbs<systematic>: state has 2 spins but the model has 3");
}

}  // namespace
}  // namespace logz
