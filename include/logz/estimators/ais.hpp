#pragma once
/// @file ais.hpp
/// Annealed importance sampling (Neal 2001, "Annealed importance sampling", Statistics and
/// Computing 11), its one-step special case simple importance sampling, and reverse AIS
/// (RAISE: Burda, Grosse & Salakhutdinov 2015, "Accurate and conservative estimates of MRF
/// log-likelihood using reverse annealing", AISTATS), over any AnnealingPath.
///
/// AIS: particle r starts from an exact base draw x_0 ~ p_0 and, for k = 1..K, gains
///   log w_r += log f_{β_k}(x_{k−1}) − log f_{β_{k−1}}(x_{k−1}),  then x_k ~ T_{β_k}(x_{k−1}, ·)
/// (the last move would change no weight and is skipped). E[w] = Z / Z_0, so
/// log Ẑ = log Z_0 + log mean exp(log w) is unbiased on the Z scale and a stochastic lower
/// bound on log Z (Jensen). Its standard error is the delta method's on the weights
/// (summarize_log_weights); with few particles or heavy-tailed weights it is too small
/// (docs/error-bars.md).
///
/// RAISE: from start states x_K (exact target draws, or data), x_k ~ T_{β_{k+1}}(x_{k+1}, ·)
/// for k = K−1..0 and r += log f_{β_k}(x_k) − log f_{β_{k+1}}(x_k). With exact target
/// draws E[exp r] = Z_0 / Z, so log Z_0 − mean(r) sits above log Z on average: with AIS,
/// a sandwich. From data the chains start off the model, and the bound is not guaranteed.
#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/ranks.hpp"
#include "logz/core/rng.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/estimators/method.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

/// The random streams this file's estimators own (core/rng.hpp: Purpose).
inline constexpr Purpose ais_stream{5};         ///< AIS and simple IS particles
inline constexpr Purpose raise_stream{6};       ///< reverse AIS chains
inline constexpr Purpose importance_stream{11}; ///< importance draws outside AIS (e.g. NCE's start)

struct AisConfig {
  std::size_t particles = 100;  ///< independent AIS runs, >= 1
  std::uint64_t seed = 1;
};

namespace detail {
/// The per-β row of an importance-weighted population.
inline StepDiagnostics weight_diagnostics(double beta, std::span<const double> log_w, const MoveInfo& move) {
  StepDiagnostics d;
  d.beta = beta;
  d.ess = summarize_log_weights(log_w).ess;
  d.acceptance = move.acceptance;
  MeanVar mv;
  for (double w : log_w) mv.add(w);
  d.log_weight_variance = log_w.size() > 1 ? mv.variance() : 0.0;
  return d;
}

/// One step of an annealing run: every log-weight gains log f_to(x) − log f_from(x), then,
/// if `move`, x ← T_to(x); its diagnostics are reported at `beta`.
struct AnnealStep {
  double from, to, beta;
  bool move;
};
/// anneal's prologue argument for runs that start without a move.
inline constexpr double no_prologue = std::numeric_limits<double>::quiet_NaN();

/// Log-weights of the population kept per step while blocks of particles run through a
/// segment of steps: about 8 MB (a segment is at least one step).
inline constexpr std::size_t anneal_history_doubles = std::size_t(1) << 20;

/// Runs steps 0 .. n_steps-1 (`step(s)` gives each) over the population x, one particle
/// per row with its stream and log-weight, after moving every particle once at
/// `prologue` (unless NaN); returns one StepDiagnostics per step and reports progress as
/// `phase`. A BlockwisePath that asks for blocks runs them through segments of steps, one
/// task per block on its own copy of the path, keeping every step's log-weights for the
/// segment: the particles, weights and diagnostics are those of running the population
/// whole (blocks fixed by the problem size: the same bits for any thread count).
template <AnnealingPath P, class StepAt>
std::vector<StepDiagnostics> anneal(const P& path, const Exec& ex, typename P::Particles& x, std::span<Stream> streams,
                                    std::span<double> log_w, std::size_t n_steps, StepAt&& step, double prologue,
                                    Observer& obs, std::string_view phase) {
  const std::size_t n = log_w.size();
  std::vector<StepDiagnostics> diag;
  diag.reserve(n_steps);
  std::size_t block = 0;
  if constexpr (BlockwisePath<P>) block = std::min<std::size_t>(path.particle_block(n), n);
  if (block == 0) {
    ProgressTicker ticker(obs, std::string(phase), n_steps);
    if (!std::isnan(prologue)) path.move(ex, x, prologue, streams);
    for (std::size_t s = 0; s < n_steps; ++s) {
      const AnnealStep a = step(s);
      const MoveInfo info = advance(path, ex, x, a.from, a.to, log_w, streams, a.move);
      diag.push_back(weight_diagnostics(a.beta, log_w, info));
      ticker.add(1);
    }
    ticker.finish();
    return diag;
  }
  if constexpr (BlockwisePath<P>) {
    using Particles = typename P::Particles;
    static_assert(Particles::IsRowMajor, "a particle is a row");
    static_assert(std::is_trivially_copyable_v<Stream> && std::is_trivially_copyable_v<MoveInfo>);
    const Blocks blocks{n, block};
    const std::size_t B = blocks.count(), segment = std::max<std::size_t>(1, anneal_history_doubles / n);
    // Under mpirun this rank runs its own range of the blocks, and the kept log-weights,
    // the moves and, at the end, the particles, streams and weights are shared, so that
    // every rank holds the whole population (core/ranks.hpp). Not from inside a task: the
    // ranks must make the same calls in the same order.
    const bool spread = ranks::spreading();
    const ranks::Range mine = ranks::owned_if(spread, B);
    std::vector<P> local(mine.size(), path);  // each block's own working memory
    std::vector<std::size_t> sizes(B);
    for (std::size_t b = 0; b < B; ++b) sizes[b] = blocks.size(b);
    std::vector<double> history;  // [particle][step of the segment]
    std::vector<MoveInfo> moves;   // [block][step of the segment]
    std::vector<double> column(n);
    std::vector<MoveInfo> parts(B);
    ProgressTicker ticker(obs, std::string(phase), n_steps * mine.size(), std::max<std::size_t>(1, mine.size()));
    for (std::size_t s0 = 0; s0 < n_steps; s0 += segment) {
      const std::size_t len = std::min(segment, n_steps - s0);
      history.assign(len * n, 0.0);
      moves.assign(len * B, MoveInfo{});
      parallel_for(ex, mine.size(), [&](std::size_t i) {
        const Exec one(1);
        const std::size_t b = mine.begin + i, r0 = blocks.begin(b), m = blocks.size(b);
        Particles xb = x.middleRows(Eigen::Index(r0), Eigen::Index(m));
        const std::span<Stream> sb = streams.subspan(r0, m);
        const std::span<double> wb = log_w.subspan(r0, m);
        if (s0 == 0 && !std::isnan(prologue)) local[i].move(one, xb, prologue, sb);
        for (std::size_t s = 0; s < len; ++s) {
          const AnnealStep a = step(s0 + s);
          moves[b * len + s] = advance(local[i], one, xb, a.from, a.to, wb, sb, a.move);
          for (std::size_t k = 0; k < m; ++k) history[(r0 + k) * len + s] = wb[k];
          ticker.add(1);
        }
        x.middleRows(Eigen::Index(r0), Eigen::Index(m)) = xb;
      });
      if (spread) {
        ranks::share(history.data(), ranks::block_bounds(blocks, len * sizeof(double)));
        ranks::share(moves.data(), ranks::block_bounds(blocks, 0, len * sizeof(MoveInfo)));
      }
      for (std::size_t s = 0; s < len; ++s) {
        for (std::size_t p = 0; p < n; ++p) column[p] = history[p * len + s];
        for (std::size_t b = 0; b < B; ++b) parts[b] = moves[b * len + s];
        diag.push_back(weight_diagnostics(step(s0 + s).beta, column, merge_moves(parts, sizes)));
      }
    }
    if (spread) {
      ranks::share(x.data(), ranks::block_bounds(blocks, std::size_t(x.cols()) * sizeof(typename Particles::Scalar)));
      ranks::share(streams.data(), ranks::block_bounds(blocks, sizeof(Stream)));
      ranks::share(log_w.data(), ranks::block_bounds(blocks, sizeof(double)));
    }
    ticker.finish();
  }
  return diag;
}
}  // namespace detail

/// AIS over `path` and `schedule` (method "ais"; "is" for a schedule of one step, which is
/// simple importance sampling from the base). Particle r uses the stream
/// derive(seed, ais_stream, r) for its base draw and then its moves; bit-identical for
/// any thread count. `steps` holds the per-β table. Throws Error(Exit::usage) for 0 particles.
template <AnnealingPath P>
LogZEstimate ais(const P& path, const Schedule& schedule, const AisConfig& config, const Exec& ex,
                 Observer& obs = silent_observer()) {
  check_arg(config.particles >= 1, "ais: particles must be >= 1, got {}", config.particles);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<double>& betas = schedule.betas();
  const std::size_t K = schedule.steps();
  std::vector<Stream> streams = Stream::root(config.seed).children(ais_stream, config.particles);
  typename P::Particles x;
  path.draw_base(ex, x, streams);
  std::vector<double> log_w(config.particles, 0.0);
  // Step s (0-based) goes from β_s to β_{s+1}; the last move would change no weight.
  const auto step = [&](std::size_t s) { return detail::AnnealStep{betas[s], betas[s + 1], betas[s + 1], s + 1 < K}; };
  std::vector<StepDiagnostics> steps =
      detail::anneal(path, ex, x, streams, std::span<double>(log_w), K, step, detail::no_prologue, obs, K == 1 ? "IS" : "AIS");
  LogZEstimate e = ais_estimate(std::move(log_w), path.log_z_base(), seconds_since(t0));
  if (K == 1) {
    e.method = "is";
    e.error_method = config.particles > 1 ? "delta method on the importance weights: sd(w) / (sqrt(n) mean(w))"
                                          : "none: a single draw gives no error estimate";
  }
  e.steps = std::move(steps);
  return e;
}

/// Simple importance sampling from the base of `path`: `draws` exact base draws weighted
/// by f_1 / f_0 (AIS with the one-step schedule {0, 1}; method "is").
template <AnnealingPath P>
LogZEstimate importance_sampling(const P& path, std::size_t draws, std::uint64_t seed, const Exec& ex,
                                 Observer& obs = silent_observer()) {
  return ais(path, Schedule({0.0, 1.0}), AisConfig{draws, seed}, ex, obs);
}

/// RAISE from the rows of `start` (one reverse chain each), method "raise": log Z =
/// log Z_0 − mean(r) with standard error sd(r)/√n; log_weights holds r. Chain r uses the
/// stream derive(seed, raise_stream, r). Throws Error(Exit::usage) for no start rows or
/// a start of the wrong width.
template <AnnealingPath P>
LogZEstimate raise(const P& path, const Schedule& schedule, typename P::Particles start, std::uint64_t seed,
                   const Exec& ex, Observer& obs = silent_observer()) {
  check_arg(start.rows() >= 1, "raise: needs at least one start state, got {}", start.rows());
  check_arg(std::size_t(start.cols()) == path.dimension(), "raise: start states have {} columns, the model has {}",
            start.cols(), path.dimension());
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<double>& betas = schedule.betas();
  const std::size_t K = schedule.steps(), n = std::size_t(start.rows());
  std::vector<Stream> streams = Stream::root(seed).children(raise_stream, n);
  std::vector<double> r(n, 0.0);
  // x_{K-1} ~ T_K(x_K) first; then step s goes from β_{K−s} to β_{K−s−1}:
  // r += log f_{K−s−1} − log f_{K−s} at x_{K−s−1}, then x ~ T_{K−s−1} while K−s−1 > 0.
  const auto step = [&](std::size_t s) {
    const std::size_t k = K - s - 1;
    return detail::AnnealStep{betas[k + 1], betas[k], betas[k], k > 0};
  };
  std::vector<StepDiagnostics> steps =
      detail::anneal(path, ex, start, streams, std::span<double>(r), K, step, betas[K], obs, "RAISE");
  MeanVar mv;
  for (double v : r) mv.add(v);
  LogZEstimate e;
  e.method = "raise";
  e.log_z_base = path.log_z_base();
  e.log_z = e.log_z_base - mv.mean;
  e.std_error = n > 1 ? mv.std_error() : std::numeric_limits<double>::quiet_NaN();
  e.error_method = n > 1 ? "standard error of the mean reverse log-weight over chains"
                         : "none: a single chain gives no error estimate";
  e.ess = double(n);
  e.num_samples = n;
  e.log_weights = std::move(r);
  e.steps = std::move(steps);
  e.seconds = seconds_since(t0);
  return e;
}

// ---------------------------------------------------------------- registry entries (estimators/method.hpp)

struct IsMethod : MethodDefaults {
  static constexpr std::string_view name = "is";
  static constexpr std::string_view summary = "simple importance sampling from the base (chains: draws)";
  static constexpr bool unbiased_z = true, uses_schedule = false;
  static std::vector<Purpose> streams() { return {ais_stream}; }
  template <AnnealingPath P>
  static LogZEstimate run(const P& path, const MethodRun<P>& r, const Exec& ex, Observer& obs) {
    return importance_sampling(path, r.chains, r.seed, ex, obs);
  }
};

struct AisMethod : MethodDefaults {
  static constexpr std::string_view name = "ais";
  static constexpr std::string_view summary =
      "annealed importance sampling (Neal 2001): chains particles through betas distributions;\n"
      "E[Z-hat] = Z, so log Z-hat is a stochastic lower bound";
  static constexpr bool unbiased_z = true;
  static std::vector<Purpose> streams() { return {ais_stream}; }
  template <AnnealingPath P>
  static LogZEstimate run(const P& path, const MethodRun<P>& r, const Exec& ex, Observer& obs) {
    return ais(path, *r.schedule, AisConfig{r.chains, r.seed}, ex, obs);
  }
};

struct RaiseMethod : MethodDefaults {
  static constexpr std::string_view name = "raise";
  static constexpr std::string_view summary =
      "reverse AIS from data rows (Burda et al. 2015): a stochastic upper bound when the rows\n"
      "are exact samples; with ais, a sandwich (chains: reverse chains, one per start row)";
  static constexpr bool needs_start = true;
  static std::vector<Purpose> streams() { return {raise_stream}; }
  template <AnnealingPath P>
  static LogZEstimate run(const P& path, const MethodRun<P>& r, const Exec& ex, Observer& obs) {
    check_config(r.start != nullptr && r.start->rows() > 0, {"method", "data"},
                 "estimate: @0 raise needs start states (@1)");
    return raise(path, *r.schedule, *r.start, r.seed, ex, obs);
  }
};

}  // namespace logz
