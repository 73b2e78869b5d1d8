#pragma once
/// @file ladder.hpp
/// Equilibrium samples at every β of a schedule, the raw material of bridge sampling
/// (bridge.hpp) and thermodynamic integration (thermodynamic.hpp); Gelman & Meng (1998),
/// "Simulating normalizing constants: from importance sampling to bridge sampling to path
/// sampling", Statistical Science 13.
///
/// M chains (one per row) run through the schedule as in AIS: at β_0 every chain takes
/// `samples` independent exact base draws (no moves); at each later β_k it makes
/// `burn_in` moves with T_{β_k} from where β_{k−1} left it, then collects `samples` states
/// with `thin` moves before each state after the first. States are not kept: at each
/// collected state the ladder records
///   dlog_f          ∂/∂β log f_β at β_k                      (thermodynamic integration),
///   log_ratio_up    log f_{β_{k+1}} − log f_{β_k}  (k < K)    (bridge to the next β),
///   log_ratio_down  log f_{β_{k−1}} − log f_{β_k}  (k > 0)    (bridge to the previous β),
/// each as an M × S matrix (chain r in row r, its draws in order), so that the ESS and
/// MCSE of diagnostics/mcmc.hpp can account for the autocorrelation within chains.
/// That is the sequential ladder (`tempering = none`).
///
/// With `tempering = pt` (the default) the ladder is one parallel-tempering population
/// (replica exchange: Geyer 1991; Hukushima & Nemoto 1996; for path sampling, Calderhead &
/// Girolami 2009), so that chains that fell into one mode at some β can leave it. The
/// sequential pass above runs first, unchanged but recording nothing, as the
/// initialisation: chain r's state where it left β_k becomes row r of level k, so (K+1)·M
/// states are held. Then S rounds; in round t
///  1. level 0 takes fresh exact base draws, every level k ≥ 1 makes `thin` moves with
///     T_{β_k};
///  2. level 0's values are recorded (exact independent draws, as in the sequential ladder);
///  3. swaps are proposed, for every chain r, between levels k and k+1 with k even on even
///     rounds and k odd on odd rounds, and accepted with probability
///     min(1, exp(up_k(x) + down_{k+1}(y))), x the state at level k, y at level k+1,
///     up_k = log f_{β_{k+1}} − log f_{β_k}, down_{k+1} = log f_{β_k} − log f_{β_{k+1}};
///     an accepted swap exchanges the two rows (the random streams stay with the level);
///  4. the values of every level k ≥ 1 are recorded at its states after the swaps.
/// Moves and swaps leave Π_k p_{β_k} invariant, so each level samples its own β, and states
/// travel up and down the ladder: a mode found at a small β reaches β = 1. A state that
/// swapped down to level 0 is replaced by the next round's base draw (still exact).
///
/// Streams: in the sequential pass chain r draws only from derive(seed, ladder_stream, r),
/// in sequence; in the tempering rounds level k, chain r draws its moves (or base draws)
/// from derive(seed, ladder_stream, r).derive(ladder_stream, k), and chain r's swap
/// uniforms (one per proposed swap, in round and pair order) come from derive(seed,
/// ladder_swap_stream, r).
///
/// Blocks and ranks: a swap exchanges the states of one chain r at two levels, so chain r
/// with its K + 1 levels is a ladder of its own, and no number crosses chains but the
/// acceptance tallies. The chains run in blocks fixed by M (BlockwisePath:
/// path.particle_block(M); other paths: one block), each block through the whole ladder in
/// one parallel task on its own copy of the path, so the ladder is bit-identical for any
/// thread count. Under mpirun each rank runs its own range of the blocks and the recorded
/// values (3 · S doubles a chain and β), move tallies and swap counts are shared once at
/// the end (core/ranks.hpp): the bits of one process for any number of ranks.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/options.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/ranks.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

/// The random stream of the equilibrium ladder chains of bridge sampling and
/// thermodynamic integration (core/rng.hpp: Purpose).
inline constexpr Purpose ladder_stream{14};
/// The uniforms of the swaps between adjacent levels of a tempered ladder, one stream per chain.
inline constexpr Purpose ladder_swap_stream{17};

/// How the ladder's levels are sampled.
enum class LadderTempering {
  pt,    ///< one parallel-tempering population: moves at every β, swaps between adjacent betas
  none,  ///< sequential: the chains visit the betas one after another, as in AIS
};

/// The most memory a tempered ladder may hold in states ((K+1)·M of them): 2 GiB.
inline constexpr std::size_t ladder_max_held_bytes = std::size_t(2) << 30;

struct LadderConfig {
  std::size_t chains = 20;   ///< M independent chains, >= 1
  std::size_t burn_in = 10;  ///< moves at each β > 0 before its first collected state
  std::size_t samples = 50;  ///< S states collected per chain and β, >= 4 (the ESS splits chains in halves)
  std::size_t thin = 1;      ///< moves between collected states, >= 1
  std::uint64_t seed = 1;
  LadderTempering tempering = LadderTempering::pt;
};

/// What the ladder recorded at one β.
struct LadderLevel {
  double beta = 0;
  MatrixD dlog_f;          ///< M × S: ∂/∂β log f_β at the collected states
  MatrixD log_ratio_up;    ///< M × S: log f_{β_{k+1}} − log f_{β_k}; empty at the last β
  MatrixD log_ratio_down;  ///< M × S: log f_{β_{k−1}} − log f_{β_k}; empty at β_0
  /// Acceptance averaged over this β's moves, non-finite proposals summed; NaN at β_0.
  /// With tempering, over the moves of the tempering rounds only.
  MoveInfo moves;
  bool independent = false;  ///< the draws are exact and independent (β_0)
  /// Rank-normalised split R-hat of dlog_f across the M chains (diagnostics/mcmc.hpp);
  /// NaN at β_0 (exact draws), with one chain, or when every draw is the same value.
  double rhat = std::numeric_limits<double>::quiet_NaN();
  /// Tempering: fraction of the swaps proposed between this β and the next that were
  /// accepted; NaN at the last β and without tempering.
  double swap_rate = std::numeric_limits<double>::quiet_NaN();
};

struct Ladder {
  std::vector<LadderLevel> levels;  ///< one per β of the schedule, β_0 first
  double log_z_base = std::numeric_limits<double>::quiet_NaN();
  std::size_t chains = 0, samples = 0;
  LadderTempering tempering = LadderTempering::none;
  double seconds = 0;
};

/// Variance of the mean of all M·S draws of one level: var / (M·S) for independent
/// draws, mcse_mean² (ESS of the split chains, diagnostics/mcmc.hpp) otherwise; 0 when
/// every draw is the same value (there is nothing random to average).
double level_mean_variance(const MatrixD& draws, bool independent);

/// Effective sample size of the mean of one level's draws: M·S for independent draws,
/// ess_mean otherwise; NaN when every draw is the same value.
double level_ess(const MatrixD& draws, bool independent);

/// What the per-β table reports as log_weight_variance.
enum class LadderVariance {
  dlog_f,     ///< variance of ∂/∂β log f_β at β_k (thermodynamic integration)
  log_ratio,  ///< variance of log f_{β_{k+1}} − log f_{β_k}; at the last β of log f_{β_{K−1}} − log f_{β_K}
};

/// The per-β table of a ladder: β, level_ess of ∂ log f, the moves' acceptance, the
/// variance chosen by `what`, R-hat and the swap rate to the next β.
std::vector<StepDiagnostics> ladder_steps(const Ladder& ladder, LadderVariance what);

namespace detail {
inline void check_ladder_config(const LadderConfig& c, std::string_view caller) {
  check_arg(c.chains >= 1, "{}: chains must be >= 1, got {}", caller, c.chains);
  check_arg(c.samples >= 4, "{}: samples must be >= 4 per chain and beta, got {}", caller, c.samples);
  check_arg(c.thin >= 1, "{}: thin must be >= 1, got {}", caller, c.thin);
}

/// Under mpirun, after each rank ran its own blocks of chains: the recorded values of
/// those chains (rows of every level's matrices), the blocks' moves ([block][β][move]) and
/// swap counts ([block][pair][2]) sent to every rank, so that each holds the whole ladder.
void share_ladder_blocks(Ladder& ladder, const Blocks& blocks, std::vector<MoveInfo>& moves,
                         std::vector<std::uint64_t>& swaps);

/// Acceptance of a level's moves, averaged over the moves that proposed anything.
struct MoveTally {
  double acceptance = 0;
  std::size_t moved = 0, non_finite = 0;
  void add(const MoveInfo& info) {
    non_finite += info.non_finite;
    if (!std::isnan(info.acceptance)) acceptance += info.acceptance, ++moved;
  }
  MoveInfo info() const {
    MoveInfo m;
    m.acceptance = moved > 0 ? acceptance / double(moved) : std::numeric_limits<double>::quiet_NaN();
    m.non_finite = non_finite;
    return m;
  }
};
}  // namespace detail

/// Runs the ladder over `path` and `schedule`. Errors name `caller`: Error(Exit::usage)
/// for 0 chains, fewer than 4 samples or thin 0, and with tempering when the (K+1)·M held
/// states would take more than ladder_max_held_bytes; Error(Exit::data) when the path
/// gives a non-finite value at a collected state.
template <AnnealingPath P>
Ladder run_ladder(const P& path, const Schedule& schedule, const LadderConfig& config, const Exec& ex,
                  Observer& obs = silent_observer(), std::string_view caller = "run_ladder") {
  detail::check_ladder_config(config, caller);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<double>& betas = schedule.betas();
  const std::size_t K = schedule.steps(), M = config.chains, S = config.samples;
  const bool tempered = config.tempering == LadderTempering::pt;
  using Particles = typename P::Particles;
  if (tempered) {
    const double bytes =
        double(K + 1) * double(M) * double(path.dimension()) * double(sizeof(typename Particles::Scalar));
    check_arg(bytes <= double(ladder_max_held_bytes),
              "{}: tempering pt holds the states of {} betas x {} chains ({} values each), {:.1f} GiB, more than the "
              "{} GiB allowed; use tempering none, or fewer betas or chains",
              caller, K + 1, M, path.dimension(), bytes / double(std::size_t(1) << 30),
              ladder_max_held_bytes >> 30);
  }
  Ladder ladder;
  ladder.log_z_base = path.log_z_base();
  ladder.chains = M;
  ladder.samples = S;
  ladder.tempering = config.tempering;
  ladder.levels.resize(K + 1);
  for (std::size_t k = 0; k <= K; ++k) {
    LadderLevel& level = ladder.levels[k];
    level.beta = betas[k];
    level.independent = k == 0;
    level.dlog_f.resize(Eigen::Index(M), Eigen::Index(S));
    if (k < K) level.log_ratio_up.resize(Eigen::Index(M), Eigen::Index(S));
    if (k > 0) level.log_ratio_down.resize(Eigen::Index(M), Eigen::Index(S));
  }

  std::size_t block = M;
  if constexpr (BlockwisePath<P>) block = std::clamp<std::size_t>(path.particle_block(M), 1, M);
  const Blocks blocks{M, block};
  const std::size_t B = blocks.count();
  const bool spread = ranks::spreading();
  const ranks::Range mine = ranks::owned_if(spread, B);
  // Each block's MoveInfo of every move at every β ([block][β][move]: tallied in order at the
  // end), and its swaps proposed and accepted per pair of adjacent betas ([block][pair][2]).
  const std::size_t moves_per_level = tempered ? S * config.thin : config.burn_in + (S - 1) * config.thin;
  std::vector<MoveInfo> moves(B * (K + 1) * moves_per_level);
  std::vector<std::uint64_t> swaps(B * K * 2, 0);
  const std::vector<Stream> streams = Stream::root(config.seed).children(ladder_stream, M);
  const std::vector<Stream> swap_streams = Stream::root(config.seed).children(ladder_swap_stream, M);
  ProgressTicker ticker(obs, "ladder", (tempered ? K + 1 + S : K + 1) * mine.size(), std::max<std::size_t>(1, mine.size()));

  // Block b of chains through the whole ladder on path p.
  const auto run_block = [&](std::size_t b, const P& p, const Exec& e) {
    const std::size_t r0 = blocks.begin(b), m = blocks.size(b);
    std::vector<Stream> chain_streams(streams.begin() + std::ptrdiff_t(r0), streams.begin() + std::ptrdiff_t(r0 + m));
    MoveInfo* const block_moves = moves.data() + b * (K + 1) * moves_per_level;
    std::vector<double> buf(m);
    auto record = [&](MatrixD& into, std::size_t s, double beta) {
      for (std::size_t i = 0; i < m; ++i) {
        check_data(std::isfinite(buf[i]), "{}: non-finite log density at beta = {} (chain {}, sample {})", caller, beta,
                   r0 + i, s);
        into(Eigen::Index(r0 + i), Eigen::Index(s)) = buf[i];
      }
    };
    // Records ∂ log f and the ratios to both neighbours at the states `at` as draw s of level k.
    auto record_level = [&](const Particles& at, std::size_t k, std::size_t s) {
      LadderLevel& level = ladder.levels[k];
      p.dlog_f(e, at, betas[k], buf);
      record(level.dlog_f, s, betas[k]);
      if (k < K) {
        p.log_ratio(e, at, betas[k], betas[k + 1], buf);
        record(level.log_ratio_up, s, betas[k]);
      }
      if (k > 0) {
        p.log_ratio(e, at, betas[k], betas[k - 1], buf);
        record(level.log_ratio_down, s, betas[k]);
      }
    };

    // The sequential pass: the whole ladder without tempering, the initialisation with it.
    Particles x;
    std::vector<Particles> held(tempered ? K + 1 : 0);
    for (std::size_t k = 0; k <= K; ++k) {
      MoveInfo* level_moves = block_moves + k * moves_per_level;
      auto move = [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          const MoveInfo info = p.move(e, x, betas[k], chain_streams);
          if (!tempered) *level_moves++ = info;
        }
      };
      if (k > 0) move(config.burn_in);
      for (std::size_t s = 0; s < S; ++s) {
        if (k == 0) {
          p.draw_base(e, x, chain_streams);  // exact and independent: no moves at β_0
        } else if (s > 0) {
          move(config.thin);
        }
        if (!tempered) record_level(x, k, s);
      }
      if (tempered) held[k] = x;
      ticker.add(1);
    }
    if (!tempered) return;

    // One stream per (level, chain) slot for moves and base draws, one per chain for swaps.
    std::vector<std::vector<Stream>> slot_streams(K + 1);
    for (std::size_t k = 0; k <= K; ++k)
      for (std::size_t i = 0; i < m; ++i)
        slot_streams[k].push_back(Stream::derive(config.seed, ladder_stream, r0 + i).derive(ladder_stream, k));
    std::vector<Stream> chain_swaps(swap_streams.begin() + std::ptrdiff_t(r0),
                                    swap_streams.begin() + std::ptrdiff_t(r0 + m));
    std::uint64_t* const block_swaps = swaps.data() + b * K * 2;
    std::vector<double> up(m), down(m);
    for (std::size_t t = 0; t < S; ++t) {
      p.draw_base(e, held[0], slot_streams[0]);
      for (std::size_t k = 1; k <= K; ++k)
        for (std::size_t i = 0; i < config.thin; ++i)
          block_moves[k * moves_per_level + t * config.thin + i] = p.move(e, held[k], betas[k], slot_streams[k]);
      // β_0 is recorded before its draws can swap up: its values stay exact and independent.
      record_level(held[0], 0, t);
      for (std::size_t k = t % 2; k < K; k += 2) {
        p.log_ratio(e, held[k], betas[k], betas[k + 1], up);
        p.log_ratio(e, held[k + 1], betas[k + 1], betas[k], down);
        for (std::size_t i = 0; i < m; ++i) {
          // A non-finite exponent (NaN) compares false: a rejection.
          const double log_u = std::log(chain_swaps[i].uniform_double());
          ++block_swaps[2 * k];
          if (log_u < up[i] + down[i]) {
            held[k].row(Eigen::Index(i)).swap(held[k + 1].row(Eigen::Index(i)));
            ++block_swaps[2 * k + 1];
          }
        }
      }
      for (std::size_t k = 1; k <= K; ++k) record_level(held[k], k, t);
      ticker.add(1);
    }
  };
  if constexpr (BlockwisePath<P>) {
    std::vector<P> local;  // each block's own working memory
    local.reserve(mine.size());
    for (std::size_t i = 0; i < mine.size(); ++i) local.push_back(path);
    if (mine.size() == 1)
      run_block(mine.begin, local[0], ex);
    else
      parallel_for(ex, mine.size(), [&](std::size_t i) { run_block(mine.begin + i, local[i], Exec(1)); });
  } else {
    run_block(0, path, ex);  // one block: every rank runs it
  }
  if (spread) detail::share_ladder_blocks(ladder, blocks, moves, swaps);

  // The tallies of every β in move order, each move's blocks merged (merge_moves).
  std::vector<MoveInfo> parts(B);
  std::vector<std::size_t> sizes(B);
  for (std::size_t b = 0; b < B; ++b) sizes[b] = blocks.size(b);
  for (std::size_t k = 1; k <= K; ++k) {
    detail::MoveTally tally;
    for (std::size_t j = 0; j < moves_per_level; ++j) {
      for (std::size_t b = 0; b < B; ++b) parts[b] = moves[(b * (K + 1) + k) * moves_per_level + j];
      tally.add(B == 1 ? parts[0] : merge_moves(parts, sizes));
    }
    ladder.levels[k].moves = tally.info();
  }
  if (tempered) {
    for (std::size_t k = 0; k < K; ++k) {
      std::uint64_t proposed = 0, accepted = 0;
      for (std::size_t b = 0; b < B; ++b) proposed += swaps[(b * K + k) * 2], accepted += swaps[(b * K + k) * 2 + 1];
      if (proposed > 0) ladder.levels[k].swap_rate = double(accepted) / double(proposed);
    }
  }
  for (std::size_t k = 1; k <= K && M >= 2; ++k) ladder.levels[k].rhat = rank_normalized_rhat(ladder.levels[k].dlog_f);
  ticker.finish();
  ladder.seconds = seconds_since(t0);
  return ladder;
}

/// "pt" or "none" (the ladder option `tempering`).
inline LadderTempering ladder_tempering(std::string_view name) {
  check_arg(name == "pt" || name == "none", "ladder: tempering must be pt or none, got '{}'", name);
  return name == "pt" ? LadderTempering::pt : LadderTempering::none;
}

/// The settings of a ladder of equilibrium chains, declared once for the methods that run
/// one (bridge, ti: estimators/method.hpp), and read back.
inline std::vector<OptionField> ladder_options() {
  return {OptionField::count("burn_in", 10, 0, "bridge, ti: moves at each beta before collecting"),
          OptionField::count("samples", 50, 4, "bridge, ti: states collected per chain and beta"),
          OptionField::count("thin", 1, 1, "bridge, ti: moves between collected states"),
          OptionField::text("tempering", "pt", {"pt", "none"},
                            "bridge, ti: pt (one parallel-tempering population, swaps between adjacent betas) or none "
                            "(chains visit the betas one after another)")};
}

}  // namespace logz
