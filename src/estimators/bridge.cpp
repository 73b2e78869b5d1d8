#include "logz/estimators/bridge.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/ranks.hpp"
#include "logz/diagnostics/mcmc.hpp"

namespace logz {

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

bool all_equal(const MatrixD& m) {
  return m.size() == 0 || (m.array() == m.data()[0]).all();
}

/// log(e^a + e^b) for finite or −inf arguments.
double log_add_exp(double a, double b) {
  const double hi = std::max(a, b), lo = std::min(a, b);
  if (lo == -std::numeric_limits<double>::infinity()) return hi;
  return hi + std::log1p(std::exp(lo - hi));
}

double sigmoid_of(double x) { return 1.0 / (1.0 + std::exp(-x)); }

std::span<const double> flat(const MatrixD& m) { return {m.data(), std::size_t(m.size())}; }

void check_bridge_input(std::span<const double> up, std::span<const double> down, double n_up, double n_down) {
  check_arg(!up.empty() && !down.empty(), "optimal_bridge: needs draws from both distributions, got {} and {}",
            up.size(), down.size());
  check_arg(std::isfinite(n_up) && n_up > 0 && std::isfinite(n_down) && n_down > 0,
            "optimal_bridge: effective sample sizes must be positive and finite, got {} and {}", n_up, n_down);
  for (std::size_t i = 0; i < up.size(); ++i)
    check_arg(std::isfinite(up[i]), "optimal_bridge: log-ratio {} of the first sample is not finite ({})", i, up[i]);
  for (std::size_t j = 0; j < down.size(); ++j)
    check_arg(std::isfinite(down[j]), "optimal_bridge: log-ratio {} of the second sample is not finite ({})", j,
              down[j]);
}

/// One step of the fixed-point map: log mean exp(log_a) − log mean exp(log_b) at λ.
double bridge_map(std::span<const double> up, std::span<const double> down, double log_sa, double log_sb, double lambda) {
  LogSumExp a, b;
  for (double u : up) a.add(-log_add_exp(log_sa + lambda - u, log_sb));
  for (double v : down) b.add(-log_add_exp(log_sa + lambda, log_sb - v));
  return (a.value() - std::log(double(up.size()))) - (b.value() - std::log(double(down.size())));
}

double score_at(std::span<const double> up, std::span<const double> down, double log_sa, double log_sb, double lambda) {
  const double c = log_sb - log_sa;
  double a = 0, b = 0;
  for (double u : up) a += sigmoid_of(u - lambda + c);
  for (double v : down) b += sigmoid_of(v + lambda - c);
  return a / double(up.size()) - std::exp(c) * b / double(down.size());
}

}  // namespace

namespace detail {
void share_ladder_blocks(Ladder& ladder, const Blocks& blocks, std::vector<MoveInfo>& moves,
                         std::vector<std::uint64_t>& swaps) {
  const std::size_t B = blocks.count(), levels = ladder.levels.size(), S = ladder.samples;
  ranks::share(moves.data(), ranks::block_bounds(blocks, 0, moves.size() / B * sizeof(MoveInfo)));
  ranks::share(swaps.data(), ranks::block_bounds(blocks, 0, swaps.size() / B * sizeof(std::uint64_t)));
  // Chain r's values, [chain][β][dlog_f, up, down][sample] (up and down absent at the ends).
  std::vector<std::pair<std::size_t, MatrixD LadderLevel::*>> columns;
  for (std::size_t k = 0; k < levels; ++k) {
    columns.emplace_back(k, &LadderLevel::dlog_f);
    if (k + 1 < levels) columns.emplace_back(k, &LadderLevel::log_ratio_up);
    if (k > 0) columns.emplace_back(k, &LadderLevel::log_ratio_down);
  }
  const std::size_t per_chain = columns.size() * S;
  std::vector<double> values(blocks.n * per_chain);
  const ranks::Range mine = ranks::owned(B);
  const auto each_value = [&](std::size_t r0, std::size_t r1, auto&& f) {
    for (std::size_t r = r0; r < r1; ++r)
      for (std::size_t c = 0; c < columns.size(); ++c) {
        MatrixD& m = ladder.levels[columns[c].first].*columns[c].second;
        for (std::size_t s = 0; s < S; ++s) f(values[(r * columns.size() + c) * S + s], m(Eigen::Index(r), Eigen::Index(s)));
      }
  };
  const std::size_t mine0 = std::min(blocks.n, blocks.begin(mine.begin)), mine1 = std::min(blocks.n, blocks.begin(mine.end));
  each_value(mine0, mine1, [](double& v, double& m) { v = m; });
  ranks::share(values.data(), ranks::block_bounds(blocks, per_chain * sizeof(double)));
  each_value(0, mine0, [](double& v, double& m) { m = v; });
  each_value(mine1, blocks.n, [](double& v, double& m) { m = v; });
}
}  // namespace detail

double level_mean_variance(const MatrixD& draws, bool independent) {
  if (all_equal(draws)) return 0.0;
  if (!independent) {
    const double se = mcse_mean(draws);
    return se * se;
  }
  const double n = double(draws.size()), mean = draws.mean();
  return (draws.array() - mean).square().sum() / (n - 1) / n;
}

double level_ess(const MatrixD& draws, bool independent) {
  if (all_equal(draws)) return nan_v;
  return independent ? double(draws.size()) : ess_mean(draws);
}

std::vector<StepDiagnostics> ladder_steps(const Ladder& ladder, LadderVariance what) {
  std::vector<StepDiagnostics> steps;
  for (std::size_t k = 0; k < ladder.levels.size(); ++k) {
    const LadderLevel& l = ladder.levels[k];
    StepDiagnostics d;
    d.beta = l.beta;
    d.ess = level_ess(l.dlog_f, l.independent);
    d.acceptance = l.moves.acceptance;
    d.rhat = l.rhat;
    d.swap_rate = l.swap_rate;
    const MatrixD& v = what == LadderVariance::dlog_f ? l.dlog_f
                       : l.log_ratio_up.size() > 0      ? l.log_ratio_up
                                                        : l.log_ratio_down;
    const double mean = v.mean();
    d.log_weight_variance = v.size() > 1 ? (v.array() - mean).square().sum() / double(v.size() - 1) : 0.0;
    steps.push_back(d);
  }
  return steps;
}

BridgeFixedPoint optimal_bridge(std::span<const double> up, std::span<const double> down, double n_up, double n_down,
                                double tolerance, std::size_t max_iterations) {
  check_bridge_input(up, down, n_up, n_down);
  check_arg(tolerance > 0, "optimal_bridge: tolerance must be positive, got {}", tolerance);
  check_arg(max_iterations >= 1, "optimal_bridge: max_iterations must be >= 1, got {}", max_iterations);
  const double log_sa = std::log(n_up / (n_up + n_down)), log_sb = std::log(n_down / (n_up + n_down));
  // Start from the geometric bridge α = (f_a f_b)^{−1/2}.
  LogSumExp gu, gv;
  for (double u : up) gu.add(0.5 * u);
  for (double v : down) gv.add(0.5 * v);
  double lambda = (gu.value() - std::log(double(up.size()))) - (gv.value() - std::log(double(down.size())));
  for (std::size_t t = 1; t <= max_iterations; ++t) {
    const double next = bridge_map(up, down, log_sa, log_sb, lambda);
    const bool done = std::abs(next - lambda) <= tolerance * std::max(1.0, std::abs(lambda));
    lambda = next;
    if (done) return {lambda, t, true};
  }
  // Not converged (densities that barely overlap): bisection on the estimating equation,
  // whose residual decreases in λ, from a bracket grown around the last iterate.
  double lo = lambda, hi = lambda, step = 1.0;
  while (score_at(up, down, log_sa, log_sb, lo) < 0) lo -= step, step *= 2;
  step = 1.0;
  while (score_at(up, down, log_sa, log_sb, hi) > 0) hi += step, step *= 2;
  for (int i = 0; i < 400 && hi - lo > tolerance * std::max(1.0, std::abs(lo)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (score_at(up, down, log_sa, log_sb, mid) > 0 ? lo : hi) = mid;
  }
  return {0.5 * (lo + hi), max_iterations, false};
}

double bridge_score(std::span<const double> up, std::span<const double> down, double n_up, double n_down,
                    double log_ratio) {
  check_bridge_input(up, down, n_up, n_down);
  return score_at(up, down, std::log(n_up / (n_up + n_down)), std::log(n_down / (n_up + n_down)), log_ratio);
}

void bridge_log_terms(std::span<const double> up, std::span<const double> down, double n_up, double n_down,
                      double log_ratio, std::span<double> log_a, std::span<double> log_b) {
  check_bridge_input(up, down, n_up, n_down);
  check_arg(log_a.size() == up.size() && log_b.size() == down.size(),
            "bridge_log_terms: outputs have {} and {} entries, the inputs {} and {}", log_a.size(), log_b.size(),
            up.size(), down.size());
  const double log_sa = std::log(n_up / (n_up + n_down)), log_sb = std::log(n_down / (n_up + n_down));
  for (std::size_t i = 0; i < up.size(); ++i) log_a[i] = -log_add_exp(log_sa + log_ratio - up[i], log_sb);
  for (std::size_t j = 0; j < down.size(); ++j) log_b[j] = -log_add_exp(log_sa + log_ratio, log_sb - down[j]);
}

BridgeResult bridge_from_ladder(const Ladder& ladder, double tolerance, std::size_t max_iterations) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t L = ladder.levels.size();
  check_arg(L >= 2, "bridge_from_ladder: needs at least 2 betas, got {}", L);
  const Eigen::Index M = Eigen::Index(ladder.chains), S = Eigen::Index(ladder.samples);
  // influence[ℓ]: each draw's first-order effect on log Ẑ through the ratios it enters.
  std::vector<MatrixD> influence(L, MatrixD::Zero(M, S));
  BridgeResult out;
  double log_z = ladder.log_z_base, min_ess = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k + 1 < L; ++k) {
    const LadderLevel &a = ladder.levels[k], &b = ladder.levels[k + 1];
    const double n = double(M * S);
    // Effective sizes for the weights, at most the draw count; all equal draws (e.g. base
    // = target) carry no autocorrelation to discount.
    auto weight_size = [n](double ess) { return std::isnan(ess) ? n : std::min(ess, n); };
    const double ess_a = weight_size(level_ess(a.log_ratio_up, a.independent));
    const double ess_b = weight_size(level_ess(b.log_ratio_down, b.independent));
    const BridgeFixedPoint fp = optimal_bridge(flat(a.log_ratio_up), flat(b.log_ratio_down), ess_a, ess_b, tolerance,
                                               max_iterations);
    MatrixD log_a(M, S), log_b(M, S);
    bridge_log_terms(flat(a.log_ratio_up), flat(b.log_ratio_down), ess_a, ess_b, fp.log_ratio,
                     {log_a.data(), std::size_t(log_a.size())}, {log_b.data(), std::size_t(log_b.size())});
    // Terms divided by their means (log-sum-exp: no overflow), so each has mean 1.
    const MatrixD ta = (log_a.array() - log_sum_exp(flat(log_a)) + std::log(n)).exp().matrix();
    const MatrixD tb = (log_b.array() - log_sum_exp(flat(log_b)) + std::log(n)).exp().matrix();
    influence[k] += ta;
    influence[k + 1] -= tb;
    BridgePair p;
    p.beta0 = a.beta;
    p.beta1 = b.beta;
    p.log_ratio = fp.log_ratio;
    p.variance = level_mean_variance(ta, a.independent) + level_mean_variance(tb, b.independent);
    p.ess0 = ess_a;
    p.ess1 = ess_b;
    p.iterations = fp.iterations;
    p.iterated = fp.iterated;
    out.pairs.push_back(p);
    log_z += fp.log_ratio;
    min_ess = std::min({min_ess, ess_a, ess_b});
  }
  double variance = 0;
  VectorD per_chain = VectorD::Zero(M);
  const bool tempered = ladder.tempering == LadderTempering::pt;
  MatrixD total = MatrixD::Zero(M, S);
  for (std::size_t l = 0; l < L; ++l) {
    if (tempered) {
      total += influence[l];
    } else {
      variance += level_mean_variance(influence[l], ladder.levels[l].independent);
    }
    per_chain += influence[l].rowwise().mean();
  }
  // Tempered: states move between betas, so the levels' means are correlated. Chain r's
  // population (all its levels) is one Markov chain, and the error of log Ẑ is the mean
  // of the influences summed over levels: one series per chain and round.
  if (tempered) variance = level_mean_variance(total, false);
  LogZEstimate& e = out.estimate;
  e.method = "bridge";
  e.log_z = log_z;
  e.std_error = std::sqrt(variance);
  e.error_method =
      tempered ? "Fruhwirth-Schnatter relative MSE (delta method, optimal weights held fixed): the influences of "
                 "every beta's draws summed per chain and round of the parallel-tempering ladder, the variance of "
                 "their mean from the ESS of the split chains (states move between betas, so the betas are not "
                 "independent)"
               : "Fruhwirth-Schnatter relative MSE (delta method, optimal weights held fixed): each beta's draws "
                 "enter the ratios to both neighbours through one influence series, the variance of its mean from "
                 "the ESS of the split chains (independent draws at beta 0); betas treated as independent";
  if (std::isnan(e.std_error))
    e.error_method = "none: at some beta every chain kept one value while chains differ, so no ESS can be estimated";
  e.ess = min_ess;
  e.num_samples = std::size_t(M * S) * L;
  e.log_z_base = ladder.log_z_base;
  e.log_weights.resize(std::size_t(M));
  for (Eigen::Index r = 0; r < M; ++r) e.log_weights[std::size_t(r)] = log_z + per_chain[r];
  e.steps = ladder_steps(ladder, LadderVariance::log_ratio);
  e.seconds = seconds_since(t0);
  return out;
}

}  // namespace logz
