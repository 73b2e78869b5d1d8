// Linked importance sampling against exact answers. Exact first:
//  - chain_length 1 makes no moves, so every run is one importance-sampling draw from the
//    base (bit for bit with one step; to rounding over many steps);
//  - base = target gives log r̂ = 0 exactly;
//  - on a 2-spin Ising model with 3 states per chain and 3 distributions, every outcome of
//    a run is enumerated (ν, link choices, every chain path with the exact transition
//    matrices): E[r̂] = Z_K / Z_0 to 1e-12 with a reversible move, and with a
//    non-reversible one when the backward half uses its reversal; using the forward move
//    backward, or choosing links uniformly, is biased (the enumeration shows by how much).
// Then the implementation against that enumeration: the law of log r̂ (χ² over binned
// outcomes) and the mean of r̂ within z·SE of Z / Z_0. (The bias of the systematic-scan
// path is exact but small, 0.7% here: a Monte Carlo check would need ~10^6 runs; the
// estimator refuses that path at compile time, checked by static_assert.) On a tiny
// Potts model the mean of r̂ over many runs is within z·SE of Z / Z_0; on small Potts,
// Ising and RBM models |log Ẑ − log Z| <= z·SE (false-failure rates next to z); 1 vs 2
// threads give identical bits; argument errors are pinned.
#include "logz/estimators/linked_is.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/potts_exact.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/calibration.hpp"
#include "support/expect_error.hpp"
#include "support/markov.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

// Two-sided false-failure rate 1e-4: z = 3.8906.
const double kZ = test::normal_two_sided_z(1e-4);

using test::randomise;
Ising random_ising(std::size_t rows, std::size_t cols, SpinConvention conv, std::uint64_t seed, double scale) {
  Ising m = Ising::lattice_2d(rows, cols, 0.0, 0.0, Boundary::open, Boundary::open, conv);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = scale * rng.normal();
  m.set_parameters(theta);
  return m;
}

// ---------------------------------------------------------------------------------------
// Exact enumeration of one LIS run on a tiny state space (written here from the paper's
// definitions; it shares no code with the estimator).

using test::Dense;

struct TinyLis {
  std::vector<std::vector<double>> log_f;  ///< [k][s] = log f_{β_k}(s), k = 0..K
  std::vector<Dense> forward, backward;    ///< [k] for k = 1..K: the moves at β_k ([0] unused)
  std::size_t n = 3;                       ///< chain length
  bool uniform_links = false;              ///< the wrong variant: links chosen uniformly
};

std::size_t tiny_states(const TinyLis& t) { return t.log_f[0].size(); }

/// Probabilities p_k(s) ∝ f_k(s).
std::vector<double> probabilities(const std::vector<double>& log_f) {
  return test::normalized_exp(std::vector<long double>(log_f.begin(), log_f.end()));
}

/// Every chain of n states at β_k around `link` (ν uniform, ν backward steps, n−1−ν
/// forward), with its probability.
void each_chain(const TinyLis& t, std::size_t k, std::size_t link,
                const std::function<void(const std::vector<std::size_t>&, double)>& f) {
  const std::size_t S = tiny_states(t), n = t.n;
  std::vector<std::size_t> chain;
  // Appends `left` more states by moves from `from` with matrix m, then continues with `then`.
  std::function<void(const Dense&, std::size_t, std::size_t, double, const std::function<void(double)>&)> walk =
      [&](const Dense& m, std::size_t from, std::size_t left, double p, const std::function<void(double)>& then) {
        if (left == 0) return then(p);
        for (std::size_t s = 0; s < S; ++s) {
          if (m[from][s] == 0) continue;
          chain.push_back(s);
          walk(m, s, left - 1, p * m[from][s], then);
          chain.pop_back();
        }
      };
  for (std::size_t nu = 0; nu < n; ++nu) {
    chain.assign(1, link);
    walk(t.backward[k], link, nu, 1.0 / double(n), [&](double p) {
      walk(t.forward[k], link, n - 1 - nu, p, [&](double q) { f(chain, q); });
    });
  }
}

/// log (1/n) Σ_i exp(½ (log f_to − log f_at)(c_i)): the chain's bridge mean.
double bridge_mean(const TinyLis& t, const std::vector<std::size_t>& c, std::size_t at, std::size_t to) {
  std::vector<double> v;
  for (std::size_t s : c) v.push_back(0.5 * (t.log_f[to][s] - t.log_f[at][s]));
  return log_mean_exp(v);
}

/// Calls f(log r̂, probability) for every outcome of a run.
void each_outcome(const TinyLis& t, const std::function<void(double, double)>& f) {
  const std::size_t K = t.log_f.size() - 1, S = tiny_states(t), n = t.n;
  std::function<void(std::size_t, const std::vector<std::size_t>&, double, double, double)> visit =
      [&](std::size_t k, const std::vector<std::size_t>& c, double log_r, double pending, double p) {
        if (k > 0) log_r += pending - bridge_mean(t, c, k, k - 1);
        if (k == K) return f(log_r, p);
        const double next_pending = bridge_mean(t, c, k, k + 1);
        std::vector<double> w(n);
        for (std::size_t i = 0; i < n; ++i) w[i] = t.uniform_links ? 0.0 : 0.5 * (t.log_f[k + 1][c[i]] - t.log_f[k][c[i]]);
        const std::vector<double> q = test::normalized_exp(std::vector<long double>(w.begin(), w.end()));
        for (std::size_t mu = 0; mu < n; ++mu)
          each_chain(t, k + 1, c[mu], [&](const std::vector<std::size_t>& next, double pc) {
            visit(k + 1, next, log_r, next_pending, p * q[mu] * pc);
          });
      };
  const std::vector<double> p0 = probabilities(t.log_f[0]);
  std::vector<std::size_t> c(n, 0);
  for (;;) {  // chain 0: n independent base draws
    double p = 1;
    for (std::size_t s : c) p *= p0[s];
    visit(0, c, 0.0, 0.0, p);
    std::size_t i = 0;
    while (i < n && ++c[i] == S) c[i++] = 0;
    if (i == n) break;
  }
}

double exact_mean_ratio(const TinyLis& t) {
  long double mean = 0, total = 0;
  each_outcome(t, [&](double log_r, double p) {
    mean += (long double)p * std::exp((long double)log_r);
    total += p;
  });
  EXPECT_NEAR(double(total), 1.0, 1e-12);
  return double(mean);
}

/// The 2-spin Ising model of the enumeration tests (±1 spins; state index bit i = spin i up).
Ising two_spins() { return Ising(2, {{0, 1, 2.5}}, (VectorD(2) << 0.8, -2.0).finished()); }
VectorD spins_of(std::size_t s) { return (VectorD(2) << ((s & 1) ? 1.0 : -1.0), ((s & 2) ? 1.0 : -1.0)).finished(); }

/// Heat-bath update of spin i at β as a 4×4 matrix.
Dense site_update(const Ising& m, double beta, std::size_t i) {
  Dense g = test::zeros(4);
  for (std::size_t x = 0; x < 4; ++x) {
    const std::size_t up = x | (std::size_t(1) << i), down = x & ~(std::size_t(1) << i);
    const std::vector<double> p = test::normalized_exp({-(long double)beta * m.energy(spins_of(down)),
                                                        -(long double)beta * m.energy(spins_of(up))});
    g[x][down] += p[0];
    g[x][up] += p[1];
  }
  return g;
}
/// Random-scan Gibbs with `updates` single-site updates (RandomScanGibbs).
Dense random_scan(const Ising& m, double beta, std::size_t updates) {
  const Dense g0 = site_update(m, beta, 0), g1 = site_update(m, beta, 1);
  Dense one = test::zeros(4);
  for (std::size_t a = 0; a < 4; ++a)
    for (std::size_t b = 0; b < 4; ++b) one[a][b] = 0.5 * (g0[a][b] + g1[a][b]);
  Dense t = one;
  for (std::size_t u = 1; u < updates; ++u) t = test::multiply(t, one);
  return t;
}
/// One systematic sweep, site 0 then site 1 (SystematicGibbs): not reversible.
Dense systematic_scan(const Ising& m, double beta) { return test::multiply(site_update(m, beta, 0), site_update(m, beta, 1)); }
/// The reversal T̃(x, y) = p(y) T(y, x) / p(x) of a p-invariant T.
Dense reversal(const Dense& t, const std::vector<double>& p) {
  Dense r = test::zeros(t.size());
  for (std::size_t x = 0; x < t.size(); ++x)
    for (std::size_t y = 0; y < t.size(); ++y) r[x][y] = p[y] * t[y][x] / p[x];
  return r;
}

const std::vector<double> kTinyBetas{0.0, 0.5, 1.0};

/// The run of linked_importance_sampling on two_spins() with kTinyBetas and chain length 3,
/// with forward moves from `move(β)` and backward ones from `back(T, p)`.
TinyLis tiny_lis(const Ising& m, const std::function<Dense(double)>& move,
                 const std::function<Dense(const Dense&, const std::vector<double>&)>& back) {
  TinyLis t;
  for (double beta : kTinyBetas) {
    std::vector<double> lf(4);
    for (std::size_t s = 0; s < 4; ++s) lf[s] = -beta * m.energy(spins_of(s));
    t.log_f.push_back(lf);
    const Dense fwd = move(beta);
    t.forward.push_back(fwd);
    t.backward.push_back(back(fwd, probabilities(lf)));
  }
  return t;
}
double tiny_ratio(const Ising& m) {
  std::vector<double> lf(4);
  for (std::size_t s = 0; s < 4; ++s) lf[s] = -m.energy(spins_of(s));
  return std::exp(log_sum_exp(lf) - std::log(4.0));
}

const auto kSame = [](const Dense& t, const std::vector<double>&) { return t; };

TEST(LinkedIsExact, EnumeratedRunIsUnbiasedWithAReversibleMove) {
  const Ising m = two_spins();
  const TinyLis t = tiny_lis(m, [&](double b) { return random_scan(m, b, 2); }, kSame);
  // The random-scan matrix is reversible: detailed balance to 1e-12.
  const std::vector<double> p = probabilities(t.log_f[1]);
  for (std::size_t x = 0; x < 4; ++x)
    for (std::size_t y = 0; y < 4; ++y) EXPECT_NEAR(p[x] * t.forward[1][x][y], p[y] * t.forward[1][y][x], 1e-12);
  EXPECT_NEAR(exact_mean_ratio(t) / tiny_ratio(m), 1.0, 1e-12);
}

TEST(LinkedIsExact, NonReversibleMoveNeedsItsReversalBackward) {
  const Ising m = two_spins();
  const double ratio = tiny_ratio(m);
  const auto sweep = [&](double b) { return systematic_scan(m, b); };
  // The sweep leaves p_β invariant (to 1e-12) but breaks detailed balance.
  const TinyLis t = tiny_lis(m, sweep, reversal);
  const std::vector<double> p = probabilities(t.log_f[1]);
  double imbalance = 0;
  for (std::size_t y = 0; y < 4; ++y) {
    double py = 0;
    for (std::size_t x = 0; x < 4; ++x) {
      py += p[x] * t.forward[1][x][y];
      imbalance = std::max(imbalance, std::abs(p[x] * t.forward[1][x][y] - p[y] * t.forward[1][y][x]));
    }
    EXPECT_NEAR(py, p[y], 1e-12);
  }
  EXPECT_GT(imbalance, 1e-3);
  // With the reversal for the backward half, exactly unbiased.
  EXPECT_NEAR(exact_mean_ratio(t) / ratio, 1.0, 1e-12);
  // With the sweep itself backward (what the estimator would do with mrf_path), biased.
  const double biased = exact_mean_ratio(tiny_lis(m, sweep, kSame)) / ratio;
  std::printf("systematic scan used backward: E[r] / (Z/Z0) = %.6f\n", biased);
  EXPECT_GT(std::abs(biased - 1.0), 1e-3);
}

// The systematic-scan MRF paths are refused at compile time; the random-scan ones pass.
template <class Model>
using SystematicPath = decltype(mrf_path(std::declval<const UniformStates&>(), std::declval<const Model&>(), 1));
template <class Model>
using RandomScanPath =
    decltype(reversible_mrf_path(std::declval<const UniformStates&>(), std::declval<const Model&>(), 1));
static_assert(detail::irreversible_move<SystematicPath<Potts>>::value);
static_assert(detail::irreversible_move<SystematicPath<Ising>>::value);
static_assert(!detail::irreversible_move<RandomScanPath<Potts>>::value);
static_assert(!detail::irreversible_move<RandomScanPath<Ising>>::value);
static_assert(!detail::irreversible_move<RbmAnnealingPath>::value);

TEST(LinkedIsExact, UniformLinkChoiceIsBiased) {
  const Ising m = two_spins();
  TinyLis t = tiny_lis(m, [&](double b) { return random_scan(m, b, 2); }, kSame);
  t.uniform_links = true;
  const double biased = exact_mean_ratio(t) / tiny_ratio(m);
  std::printf("uniform links: E[r] / (Z/Z0) = %.6f\n", biased);
  EXPECT_GT(std::abs(biased - 1.0), 1e-3);
}

/// Bins of the exact law of log r̂, each of probability >= 1/30, split at midpoints
/// between distinct outcomes (outcomes within 1e-9 merged).
struct Bins {
  std::vector<double> upper;  // bin b holds values below upper[b] (the last: everything)
  std::vector<double> prob;
  std::size_t of(double v) const {
    return std::size_t(std::upper_bound(upper.begin(), upper.end() - 1, v) - upper.begin());
  }
};
Bins exact_bins(const TinyLis& t) {
  std::vector<std::pair<double, double>> atoms;
  each_outcome(t, [&](double v, double p) { atoms.push_back({v, p}); });
  std::sort(atoms.begin(), atoms.end());
  std::vector<std::pair<double, double>> merged;
  for (const auto& a : atoms) {
    if (!merged.empty() && a.first - merged.back().first < 1e-9)
      merged.back().second += a.second;
    else
      merged.push_back(a);
  }
  Bins b;
  double acc = 0;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    acc += merged[i].second;
    if (acc >= 1.0 / 30 && i + 1 < merged.size()) {
      b.upper.push_back(0.5 * (merged[i].first + merged[i + 1].first));
      b.prob.push_back(acc);
      acc = 0;
    }
  }
  b.upper.push_back(INFINITY);
  b.prob.push_back(acc);
  return b;
}

TEST(LinkedIs, TinyIsingRunsFollowTheEnumeratedLaw) {
  const Ising m = two_spins();
  const UniformStates base = uniform_base(m);
  const TinyLis t = tiny_lis(m, [&](double b) { return random_scan(m, b, 2); }, kSame);
  const std::size_t runs = 40000;
  const LogZEstimate e = linked_importance_sampling(reversible_mrf_path(base, m, 1), Schedule(kTinyBetas),
                                                    {.runs = runs, .chain_length = 3, .seed = 11}, Exec(2));
  ASSERT_EQ(e.log_weights.size(), runs);
  const Bins bins = exact_bins(t);
  std::vector<std::size_t> counts(bins.prob.size(), 0);
  for (double v : e.log_weights) ++counts[bins.of(v)];
  test::expect_chi_square_fits(counts, bins.prob, runs, 20, 1e-4);  // false-failure rate 1e-4
  // Z scale: mean r̂ within z·SE of Z/Z0 (the SE from the runs' spread; r̂ is bounded here).
  MeanVar mv;
  for (double v : e.log_weights) mv.add(std::exp(v));
  EXPECT_LE(std::abs(mv.mean - tiny_ratio(m)), kZ * mv.std_error())  // false-failure rate 1e-4
      << "mean " << mv.mean << " exact " << tiny_ratio(m) << " se " << mv.std_error();
}

// ---------------------------------------------------------------------------------------

TEST(LinkedIsExact, ChainLengthOneIsImportanceSampling) {
  const Potts m = randomise(Potts::dense(5, 4), 61, 0.5);
  const UniformStates base = uniform_base(m);
  const auto path = reversible_mrf_path(base, m, 1);
  const std::size_t runs = 9;
  // The base draws the estimator makes first from each run's stream.
  std::vector<Stream> streams = Stream::root(21).children(linked_stream, runs);
  MatrixD x;
  path.draw_base(Exec(1), x, streams);
  std::vector<double> is(runs);
  path.log_ratio(Exec(1), x, 0.0, 1.0, is);
  // One step: b/f_0 = √(f_1/f_0) and b/f_1 = √(f_0/f_1), whose ratio is f_1/f_0, bit for bit.
  const LogZEstimate one = linked_importance_sampling(path, Schedule::linear(1), {runs, 1, 21}, Exec(1));
  EXPECT_EQ(one.log_weights, is);
  EXPECT_EQ(one.method, "lis");
  EXPECT_DOUBLE_EQ(one.log_z, base.log_partition() + log_mean_exp(is));
  // Many steps: no moves, so the same draw all along; the product telescopes to f_1/f_0.
  const LogZEstimate many = linked_importance_sampling(path, Schedule::linear(7), {runs, 1, 21}, Exec(1));
  for (std::size_t r = 0; r < runs; ++r) EXPECT_NEAR(many.log_weights[r], is[r], 1e-12);
  ASSERT_EQ(many.steps.size(), 7u);
  for (const StepDiagnostics& d : many.steps) EXPECT_TRUE(std::isnan(d.acceptance));
}

TEST(LinkedIsExact, BaseEqualsTargetGivesExactlyOne) {
  const Potts m = Potts::dense(4, 3);  // all parameters 0: f_β = 1 for every β
  const UniformStates base = uniform_base(m);
  const LogZEstimate e =
      linked_importance_sampling(reversible_mrf_path(base, m, 1), Schedule::linear(4), {20, 5, 3}, Exec(2));
  for (double w : e.log_weights) EXPECT_EQ(w, 0.0);
  EXPECT_EQ(e.log_z, 4 * std::log(3.0));
  EXPECT_EQ(e.std_error, 0.0);
  EXPECT_EQ(e.ess, 20.0);
}

TEST(LinkedIs, StepTableFollowsThePartialEstimates) {
  const Potts m = randomise(test::lattice_potts(3, 3, 3), 62, 0.5);
  const UniformStates base = uniform_base(m);
  const LogZEstimate e =
      linked_importance_sampling(reversible_mrf_path(base, m, 1), Schedule::linear(6), {50, 4, 8}, Exec(2));
  ASSERT_EQ(e.steps.size(), 6u);
  for (std::size_t k = 0; k < 6; ++k) {
    EXPECT_DOUBLE_EQ(e.steps[k].beta, double(k + 1) / 6);
    EXPECT_GT(e.steps[k].acceptance, 0.0);
    EXPECT_LE(e.steps[k].acceptance, 1.0);
    EXPECT_GT(e.steps[k].ess, 0.0);
    EXPECT_LE(e.steps[k].ess, 50.0 + 1e-9);
  }
  // The last row is the whole estimate.
  MeanVar mv;
  for (double w : e.log_weights) mv.add(w);
  EXPECT_DOUBLE_EQ(e.steps.back().log_weight_variance, mv.variance());
  EXPECT_DOUBLE_EQ(e.steps.back().ess, e.ess);
  EXPECT_EQ(e.num_samples, 50u);
  EXPECT_EQ(e.error_method, "delta method on the runs' ratio estimates: sd(r) / (sqrt(runs) mean(r))");
}

TEST(LinkedIs, TinyPottsIsUnbiasedOnTheZScale) {
  const Potts m = randomise(Potts::dense(3, 3), 63, 0.8);
  const UniformStates base = uniform_base(m);
  const double ratio = std::exp(potts_enumeration_log_z(m, Exec(1)) - base.log_partition());
  const LogZEstimate e = linked_importance_sampling(reversible_mrf_path(base, m, 1), Schedule::linear(2),
                                                    {.runs = 100000, .chain_length = 3, .seed = 13}, Exec(2));
  MeanVar mv;
  for (double v : e.log_weights) mv.add(std::exp(v));
  EXPECT_LE(std::abs(mv.mean - ratio), kZ * mv.std_error())  // false-failure rate 1e-4
      << "mean " << mv.mean << " exact " << ratio << " se " << mv.std_error();
}

void expect_agrees(const LogZEstimate& e, double exact, std::size_t runs) {
  EXPECT_EQ(e.method, "lis");
  EXPECT_EQ(e.num_samples, runs);
  EXPECT_EQ(e.log_weights.size(), runs);
  ASSERT_GT(e.ess, 0.3 * double(runs));  // nearly equal weights: the delta-method SE holds
  ASSERT_TRUE(std::isfinite(e.std_error));
  // The test has power: an error of a tenth of a nat would fail.
  EXPECT_LT(kZ * e.std_error, 0.1);
  EXPECT_LE(std::abs(e.log_z - exact), kZ * e.std_error)  // false-failure rate 1e-4
      << "estimate " << e.log_z << " exact " << exact << " se " << e.std_error;
}

TEST(LinkedIs, PottsModelsAgreeWithEnumeration) {
  struct Case {
    const char* name;
    Potts model;
  };
  const std::vector<Case> cases{{"dense 5 sites q=4", randomise(Potts::dense(5, 4), 64, 0.6)},
                                {"3x3 lattice q=3", randomise(test::lattice_potts(3, 3, 3), 65, 0.6)}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const UniformStates base = uniform_base(c.model);
    const std::size_t runs = 200;
    const LogZEstimate e = linked_importance_sampling(reversible_mrf_path(base, c.model, 1), Schedule::linear(40),
                                                      {.runs = runs, .chain_length = 10, .seed = 3}, Exec(2));
    expect_agrees(e, potts_enumeration_log_z(c.model, Exec(2)), runs);
    EXPECT_DOUBLE_EQ(e.log_z_base, base.log_partition());
  }
}

TEST(LinkedIs, IsingModelsAgreeWithEnumeration) {
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    SCOPED_TRACE(int(conv));
    const Ising m = random_ising(3, 4, conv, 66, 0.4);
    const UniformStates base = uniform_base(m);
    const std::size_t runs = 200;
    const LogZEstimate e = linked_importance_sampling(reversible_mrf_path(base, m, 1), Schedule::linear(40),
                                                      {.runs = runs, .chain_length = 10, .seed = 4}, Exec(2));
    expect_agrees(e, ising_enumeration_log_z(m, Exec(2)), runs);
    EXPECT_DOUBLE_EQ(e.log_z_base, 12 * std::log(2.0));
  }
}

TEST(LinkedIs, RbmAgreesWithExact) {
  const RbmF model = test::random_rbm(67, 10, 8, 1.0, 1.0).cast<float>();
  const RbmAnnealingPath path(model, VectorF::Zero(10));
  const std::size_t runs = 200;
  const LogZEstimate e =
      linked_importance_sampling(path, Schedule::linear(40), {.runs = runs, .chain_length = 10, .seed = 5}, Exec(2));
  expect_agrees(e, rbm_exact_log_z(model.cast<double>(), Exec(2)).log_z, runs);
  EXPECT_DOUBLE_EQ(e.log_z_base, path.log_z_base());
}

TEST(LinkedIs, OneAndTwoThreadsGiveIdenticalBits) {
  // 2053 runs of 16 sites: enough particle-sites that the geometric path splits its rows
  // over threads.
  const Potts m = randomise(test::lattice_potts(4, 4, 3), 68, 0.5);
  const UniformStates base = uniform_base(m);
  const auto path = reversible_mrf_path(base, m, 1);
  const LinkedIsConfig config{.runs = 2053, .chain_length = 3, .seed = 6};
  const LogZEstimate a = linked_importance_sampling(path, Schedule::linear(4), config, Exec(1));
  const LogZEstimate b = linked_importance_sampling(path, Schedule::linear(4), config, Exec(2));
  EXPECT_EQ(a.log_weights, b.log_weights);
  EXPECT_EQ(a.log_z, b.log_z);
  EXPECT_EQ(a.std_error, b.std_error);
  // An RBM with 130 hidden units: its matrix products are split into column blocks.
  const RbmF rbm = test::random_rbm(69, 12, 130, 0.1, 1.0).cast<float>();
  const RbmAnnealingPath rpath(rbm, VectorF::Zero(12));
  const LinkedIsConfig small{.runs = 37, .chain_length = 5, .seed = 6};
  EXPECT_EQ(linked_importance_sampling(rpath, Schedule::linear(10), small, Exec(1)).log_weights,
            linked_importance_sampling(rpath, Schedule::linear(10), small, Exec(2)).log_weights);
}

TEST(LinkedIs, BadInputMessages) {
  const Potts m = Potts::dense(3, 3);
  const UniformStates base = uniform_base(m);
  const auto path = reversible_mrf_path(base, m, 1);
  test::expect_error([&] { linked_importance_sampling(path, Schedule::linear(2), {.runs = 0}, Exec(1)); }, Exit::usage,
                     "linked_importance_sampling: runs must be >= 1, got 0");
  test::expect_error([&] { linked_importance_sampling(path, Schedule::linear(2), {.chain_length = 0}, Exec(1)); },
                     Exit::usage, "linked_importance_sampling: chain_length must be >= 1, got 0");
  const LogZEstimate one = linked_importance_sampling(path, Schedule::linear(3), {.runs = 1}, Exec(1));
  EXPECT_TRUE(std::isnan(one.std_error));
  EXPECT_EQ(one.error_method, "none: a single run gives no error estimate");
}

}  // namespace
}  // namespace logz
