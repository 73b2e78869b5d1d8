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
///
/// Chain r draws only from the stream derive(seed, ladder_stream, r), in sequence, so
/// the ladder is bit-identical for any thread count.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/options.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

/// The random stream of the equilibrium ladder chains of bridge sampling and
/// thermodynamic integration (core/rng.hpp: Purpose).
inline constexpr Purpose ladder_stream{14};

struct LadderConfig {
  std::size_t chains = 20;   ///< M independent chains, >= 1
  std::size_t burn_in = 10;  ///< moves at each β > 0 before its first collected state
  std::size_t samples = 50;  ///< S states collected per chain and β, >= 4 (the ESS splits chains in halves)
  std::size_t thin = 1;      ///< moves between collected states, >= 1
  std::uint64_t seed = 1;
};

/// What the ladder recorded at one β.
struct LadderLevel {
  double beta = 0;
  MatrixD dlog_f;          ///< M × S: ∂/∂β log f_β at the collected states
  MatrixD log_ratio_up;    ///< M × S: log f_{β_{k+1}} − log f_{β_k}; empty at the last β
  MatrixD log_ratio_down;  ///< M × S: log f_{β_{k−1}} − log f_{β_k}; empty at β_0
  /// Acceptance averaged over this β's moves, non-finite proposals summed; NaN at β_0.
  MoveInfo moves;
  bool independent = false;  ///< the draws are exact and independent (β_0)
};

struct Ladder {
  std::vector<LadderLevel> levels;  ///< one per β of the schedule, β_0 first
  double log_z_base = std::numeric_limits<double>::quiet_NaN();
  std::size_t chains = 0, samples = 0;
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

/// The per-β table of a ladder: β, level_ess of ∂ log f, the moves' acceptance, and the
/// variance chosen by `what`.
std::vector<StepDiagnostics> ladder_steps(const Ladder& ladder, LadderVariance what);

namespace detail {
inline void check_ladder_config(const LadderConfig& c, std::string_view caller) {
  check_arg(c.chains >= 1, "{}: chains must be >= 1, got {}", caller, c.chains);
  check_arg(c.samples >= 4, "{}: samples must be >= 4 per chain and beta, got {}", caller, c.samples);
  check_arg(c.thin >= 1, "{}: thin must be >= 1, got {}", caller, c.thin);
}
}  // namespace detail

/// Runs the ladder over `path` and `schedule`. Errors name `caller`: Error(Exit::usage)
/// for 0 chains, fewer than 4 samples or thin 0; Error(Exit::data) when the path gives a
/// non-finite value at a collected state.
template <AnnealingPath P>
Ladder run_ladder(const P& path, const Schedule& schedule, const LadderConfig& config, const Exec& ex,
                  Observer& obs = silent_observer(), std::string_view caller = "run_ladder") {
  detail::check_ladder_config(config, caller);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<double>& betas = schedule.betas();
  const std::size_t K = schedule.steps(), M = config.chains, S = config.samples;
  std::vector<Stream> streams = Stream::root(config.seed).children(ladder_stream, M);
  typename P::Particles x;
  std::vector<double> buf(M);
  auto record = [&](MatrixD& into, std::size_t s, double beta) {
    for (std::size_t r = 0; r < M; ++r) {
      check_data(std::isfinite(buf[r]), "{}: non-finite log density at beta = {} (chain {}, sample {})", caller, beta, r,
                 s);
      into(Eigen::Index(r), Eigen::Index(s)) = buf[r];
    }
  };

  Ladder ladder;
  ladder.log_z_base = path.log_z_base();
  ladder.chains = M;
  ladder.samples = S;
  ladder.levels.resize(K + 1);
  ProgressTicker ticker(obs, "ladder", K + 1);
  for (std::size_t k = 0; k <= K; ++k) {
    LadderLevel& level = ladder.levels[k];
    level.beta = betas[k];
    level.independent = k == 0;
    level.dlog_f.resize(Eigen::Index(M), Eigen::Index(S));
    if (k < K) level.log_ratio_up.resize(Eigen::Index(M), Eigen::Index(S));
    if (k > 0) level.log_ratio_down.resize(Eigen::Index(M), Eigen::Index(S));
    double acceptance = 0;
    std::size_t moved = 0, non_finite = 0;
    auto move = [&](std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        const MoveInfo info = path.move(ex, x, betas[k], streams);
        non_finite += info.non_finite;
        if (!std::isnan(info.acceptance)) acceptance += info.acceptance, ++moved;
      }
    };
    if (k > 0) move(config.burn_in);
    for (std::size_t s = 0; s < S; ++s) {
      if (k == 0) {
        path.draw_base(ex, x, streams);  // exact and independent: no moves at β_0
      } else if (s > 0) {
        move(config.thin);
      }
      path.dlog_f(ex, x, betas[k], buf);
      record(level.dlog_f, s, betas[k]);
      if (k < K) {
        path.log_ratio(ex, x, betas[k], betas[k + 1], buf);
        record(level.log_ratio_up, s, betas[k]);
      }
      if (k > 0) {
        path.log_ratio(ex, x, betas[k], betas[k - 1], buf);
        record(level.log_ratio_down, s, betas[k]);
      }
    }
    level.moves.acceptance = moved > 0 ? acceptance / double(moved) : std::numeric_limits<double>::quiet_NaN();
    level.moves.non_finite = non_finite;
    ticker.add(1);
  }
  ticker.finish();
  ladder.seconds = seconds_since(t0);
  return ladder;
}

/// The settings of a ladder of equilibrium chains, declared once for the methods that run
/// one (bridge, ti: estimators/method.hpp), and read back.
inline std::vector<OptionField> ladder_options() {
  return {OptionField::count("burn_in", 10, 0, "bridge, ti: moves at each beta before collecting"),
          OptionField::count("samples", 50, 4, "bridge, ti: states collected per chain and beta"),
          OptionField::count("thin", 1, 1, "bridge, ti: moves between collected states")};
}

}  // namespace logz
