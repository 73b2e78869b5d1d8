#pragma once
/// @file linked_is.hpp
/// Linked importance sampling (LIS: Neal 2005, "Estimating ratios of normalizing constants
/// using linked importance sampling", arXiv math/0511216) over any AnnealingPath.
///
/// One LIS run visits the distributions p_0 .. p_K of the schedule. At each β_k it holds a
/// chain of n states (n = chain_length): chain 0 is n independent base draws; chain k >= 1
/// contains the link state w_{k−1} (carried over from chain k−1) at a position ν_k drawn
/// uniformly from 0..n−1, with ν_k states simulated backward from it and n−1−ν_k forward,
/// all with the path's move at β_k. The link to the next distribution is one state of
/// chain k drawn with probability ∝ b_k(x) / f_k(x), where b_k = √(f_k f_{k+1}) is the
/// geometric bridge between neighbours. The run's estimate of Z_K / Z_0 is
///   r̂ = Π_{k=0}^{K−1} [ (1/n) Σ_i b_k(x_{k,i}) / f_k(x_{k,i}) ] / [ (1/n) Σ_i b_k(x_{k+1,i}) / f_{k+1}(x_{k+1,i}) ],
/// a product of bridge-sampling ratios, and E[r̂] = Z_K / Z_0 exactly whatever n, K and
/// the mixing of the moves (Neal 2005, section 3): the joint law of the run and the law of
/// the same chains built backward from p_K have density ratio r̂ Z_0 / Z_K.
///
/// The backward half of each chain needs the reversal of the move. Here it is simulated
/// with `move` itself, so the path's move must be reversible with respect to p_β
/// (detailed balance): block Gibbs on the RBM path is; systematic-scan single-site Gibbs
/// (mrf_path) is not, and would bias the estimate (such paths are refused at compile
/// time); reversible_mrf_path below gives Potts and Ising paths with random-scan Gibbs
/// moves, which are.
///
/// R independent runs (the rows of the particle matrix, simulated as one batch at each β)
/// are combined on the Z scale: log Ẑ = log Z_0 + log mean exp(log r̂), with the delta
/// method's standard error over runs (docs/linked-is.md).
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/estimators/ais.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/estimators/method.hpp"
#include "logz/kernels/metropolis.hpp"
#include "logz/kernels/potts_gibbs.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

/// The random stream of linked importance sampling's runs (core/rng.hpp: Purpose).
inline constexpr Purpose linked_stream{15};

struct LinkedIsConfig {
  std::size_t runs = 100;         ///< independent LIS runs, >= 1
  std::size_t chain_length = 10;  ///< states per distribution in each run (n), >= 1
  std::uint64_t seed = 1;
};

/// The geometric path from `base` (= uniform_base(model), kept by reference) to a Potts
/// model with a reversible move, as LIS needs: sweeps × L random-scan Gibbs updates at β.
inline auto reversible_mrf_path(const UniformStates& base, const Potts& model, std::size_t sweeps) {
  using Move = TargetKernelMove<RandomScanPottsGibbs, Potts>;
  return GeometricPath<UniformStates, Potts, Move>(base, model,
                                                   Move{model, SiteKernelParams{sweeps * model.n_sites(), 1.0}});
}
/// The same for an Ising model (either spin convention).
inline auto reversible_mrf_path(const UniformStates& base, const Ising& model, std::size_t sweeps) {
  using Move = TargetKernelMove<RandomScanGibbs, Ising>;
  return GeometricPath<UniformStates, Ising, Move>(base, model,
                                                   Move{model, SiteKernelParams{sweeps * model.n_spins(), 1.0}});
}

namespace detail {
/// Paths whose move is known not to be reversible: single-site kernels in systematic scan
/// on a uniform-base geometric path (e.g. mrf_path). LIS rejects them at compile time.
template <class P>
struct irreversible_move : std::false_type {};
template <class B, class T, template <SiteConditionals, Scan> class Kernel, class KernelModel, class M>
struct irreversible_move<GeometricPath<B, T, TargetKernelMove<Kernel<KernelModel, Scan::systematic>, M>>>
    : std::true_type {};
/// Swendsen–Wang updates alone are reversible; followed by a systematic Gibbs sweep they are not.
template <class B, class T, class M>
struct irreversible_move<GeometricPath<B, T, SwendsenWangMove<M, true>>> : std::true_type {};
}  // namespace detail

/// LIS over `path` and `schedule` (method "lis"). Run r draws everything from the stream
/// derive(seed, linked_stream, r), in order: at β_0 its n base draws, each but the first
/// followed by a uniform for the link choice; then at each β_k (k >= 1) the position ν_k
/// (when n > 1), and n − 1 moves, each followed (for k < K) by a link uniform. The result
/// is bit-identical for any thread count. log_weights holds log r̂ of each run; `steps` has
/// one row per β_1..β_K whose ESS and log-weight variance are those of the runs' partial
/// estimates of Z_k / Z_0 (the LIS estimate of the path cut at β_k) and whose acceptance
/// is the mean over the n − 1 moves at β_k (NaN for n = 1). The path's move must be
/// reversible (see the file comment). Throws Error(Exit::usage) for 0 runs or a chain
/// length of 0.
template <AnnealingPath P>
LogZEstimate linked_importance_sampling(const P& path, const Schedule& schedule, const LinkedIsConfig& config,
                                        const Exec& ex, Observer& obs = silent_observer()) {
  static_assert(!detail::irreversible_move<P>::value,
                "linked_importance_sampling needs a reversible move: use reversible_mrf_path, not mrf_path");
  check_arg(config.runs >= 1, "linked_importance_sampling: runs must be >= 1, got {}", config.runs);
  check_arg(config.chain_length >= 1, "linked_importance_sampling: chain_length must be >= 1, got {}",
            config.chain_length);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<double>& betas = schedule.betas();
  const std::size_t K = schedule.steps(), R = config.runs, n = config.chain_length;
  const double log_n = std::log(double(n));
  std::vector<Stream> streams = Stream::root(config.seed).children(linked_stream, R);

  typename P::Particles x, link, next_link;
  std::vector<double> lr(R), log_w(R, 0.0), pending(R, 0.0);  // pending: log mean of chain k's forward terms
  // Per run, over the current chain: log Σ b_k / f_k (forward), log Σ b_{k−1} / f_k
  // (backward), and the log of the link weights seen so far (chosen).
  std::vector<LogSumExp> forward, backward, chosen(R);
  auto reset_sums = [&] {
    forward.assign(R, LogSumExp{});
    backward.assign(R, LogSumExp{});
  };
  std::vector<StepDiagnostics> steps;
  steps.reserve(K);
  ProgressTicker ticker(obs, "LIS", K + 1);

  // Adds the bridge terms of the current states x (the i-th state of chain k) and, for
  // k < K, offers them as the next link by weighted reservoir sampling: state i replaces
  // the link with probability w_i / Σ_{j<=i} w_j, so that it ends as the link with
  // probability w_i / Σ_j w_j, with one uniform per state after the first.
  auto visit = [&](std::size_t k, std::size_t i) {
    if (k > 0) {  // b_{k−1} / f_k = √(f_{k−1} / f_k)
      path.log_ratio(ex, x, betas[k], betas[k - 1], lr);
      for (std::size_t r = 0; r < R; ++r) backward[r].add(0.5 * lr[r]);
    }
    if (k < K) {  // b_k / f_k = √(f_{k+1} / f_k)
      path.log_ratio(ex, x, betas[k], betas[k + 1], lr);
      if (i == 0) {
        next_link = x;
        for (std::size_t r = 0; r < R; ++r) chosen[r] = LogSumExp{};
      }
      for (std::size_t r = 0; r < R; ++r) {
        const double w = 0.5 * lr[r];
        forward[r].add(w);
        const double before = chosen[r].value();
        chosen[r].add(w);
        if (i == 0) continue;  // the first state is taken with probability 1
        const double u = streams[r].uniform_double();
        // Replace with probability w_i / Σ_{j<=i} w_j; no replacement while every weight so
        // far is 0 keeps the first state, and a NaN weight never wins.
        if (before == -std::numeric_limits<double>::infinity() ? w > before : std::log(u) < w - chosen[r].value())
          next_link.row(Eigen::Index(r)) = x.row(Eigen::Index(r));
      }
    }
  };
  // After chain k: the ratio k−1 -> k is complete (its forward part was pending).
  auto close_chain = [&](std::size_t k) {
    for (std::size_t r = 0; r < R; ++r) {
      if (k > 0) log_w[r] += pending[r] - (backward[r].value() - log_n);
      if (k < K) pending[r] = forward[r].value() - log_n;
    }
  };

  // Chain 0: n independent base draws (an exact, reversible move at β_0).
  reset_sums();
  for (std::size_t i = 0; i < n; ++i) {
    path.draw_base(ex, x, streams);
    visit(0, i);
  }
  close_chain(0);
  ticker.add(1);

  std::vector<std::size_t> nu(R, 0);
  for (std::size_t k = 1; k <= K; ++k) {
    link.swap(next_link);
    for (std::size_t r = 0; r < R; ++r) nu[r] = n > 1 ? std::size_t(streams[r].below(n)) : 0;
    reset_sums();
    x = link;
    visit(k, 0);
    // Steps t = 1..ν_r go backward from the link, t = ν_r + 1..n−1 forward from it; with
    // a reversible move both are the move itself, so each row restarts from its link when
    // it turns, and every step moves all rows as one batch.
    double acceptance = 0;
    std::size_t moves = 0;
    for (std::size_t t = 1; t < n; ++t) {
      for (std::size_t r = 0; r < R; ++r)
        if (t == nu[r] + 1) x.row(Eigen::Index(r)) = link.row(Eigen::Index(r));
      const MoveInfo info = path.move(ex, x, betas[k], streams);
      if (!std::isnan(info.acceptance)) {
        acceptance += info.acceptance;
        ++moves;
      }
      visit(k, t);
    }
    close_chain(k);
    MoveInfo mean_move;
    if (moves > 0) mean_move.acceptance = acceptance / double(moves);
    steps.push_back(detail::weight_diagnostics(betas[k], log_w, mean_move));
    ticker.add(1);
  }
  ticker.finish();

  LogZEstimate e = ais_estimate(std::move(log_w), path.log_z_base(), seconds_since(t0));
  e.method = "lis";
  e.error_method = R > 1 ? "delta method on the runs' ratio estimates: sd(r) / (sqrt(runs) mean(r))"
                         : "none: a single run gives no error estimate";
  e.steps = std::move(steps);
  return e;
}

// ---------------------------------------------------------------- registry entry (estimators/method.hpp)

struct LisMethod : MethodDefaults {
  static constexpr std::string_view name = "lis";
  static constexpr std::size_t default_betas = 300;  // runs x chain_length x betas
  static constexpr std::string_view summary =
      "linked importance sampling (Neal 2005): chains runs, chain_length states per beta;\n"
      "needs a reversible move (Ising / Potts take random-scan sweeps for it)";
  static constexpr bool unbiased_z = true;
  static constexpr bool self_replicated = true;  // its error bar is the spread of its runs
  template <class P>
  static constexpr bool applicable = !detail::irreversible_move<P>::value;
  static std::vector<Purpose> streams() { return {linked_stream}; }
  static std::vector<OptionField> options() {
    return {OptionField::count("chain_length", 10, 1, "lis: states per distribution in each run")};
  }
  template <AnnealingPath P>
  static LogZEstimate run(const P& path, const MethodRun<P>& r, const Exec& ex, Observer& obs) {
    return linked_importance_sampling(path, *r.schedule, LinkedIsConfig{r.chains, r.options.count("chain_length"), r.seed},
                                      ex, obs);
  }
};

}  // namespace logz
