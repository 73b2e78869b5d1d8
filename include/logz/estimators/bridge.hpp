#pragma once
/// @file bridge.hpp
/// Bridge sampling over an annealing path: Meng & Wong (1996), "Simulating ratios of
/// normalizing constants via a simple identity: a theoretical exploration", Statistica
/// Sinica 6; Gelman & Meng (1998), Statistical Science 13; the error bar of
/// Frühwirth-Schnatter (2004), "Estimating marginal likelihoods for mixture and Markov
/// switching models using bridge sampling techniques", Econometrics Journal 7.
///
/// For two unnormalised densities f_a, f_b with draws x_i ~ p_a (i = 1..n_a) and
/// y_j ~ p_b (j = 1..n_b), and any α, Z_b / Z_a = E_a[f_b α] / E_b[f_a α]. The optimal α
/// ∝ 1 / (s_a p_a + s_b p_b), s = n / (n_a + n_b), depends on the ratio itself, so the
/// estimate is the fixed point of
///   λ ← log mean_i 1/(s_a e^{λ−u_i} + s_b) − log mean_j 1/(s_a e^λ + s_b e^{−v_j}),
/// u_i = log f_b(x_i) − log f_a(x_i), v_j = log f_a(y_j) − log f_b(y_j), λ = log Z_b/Z_a,
/// iterated in the log domain (every term is a log-sum-exp), from the geometric bridge
/// α = (f_a f_b)^{−1/2}. For autocorrelated (MCMC) draws the effective sample sizes
/// replace n_a, n_b in s_a, s_b (Frühwirth-Schnatter 2004, §3); the means stay over all
/// draws. The fixed point is the root of the estimating equation
///   mean_i σ(u_i − λ + c) = (s_b / s_a) mean_j σ(v_j + λ − c),  c = log(s_b / s_a),
/// which decreases in λ on the left and increases on the right: it has exactly one root.
/// (With s from the counts it is Bennett's acceptance ratio.) The iteration converges
/// linearly, slowly when the two densities barely overlap; after `max_iterations` the
/// root is finished by bisection on that equation.
///
/// Along a schedule 0 = β_0 < ... < β_K = 1, log Z = log Z_0 + Σ_k log(Z_{k+1} / Z_k),
/// each ratio bridged between the ladder's draws at β_k and β_{k+1} (ladder.hpp). A
/// schedule {0, 1} bridges the base (exact draws) and the target directly.
///
/// Error bar (docs/bridge-ti.md): by the delta method, log ρ̂_k − log ρ_k ≈
/// mean(A_k)/E[A_k] − mean(B_k)/E[B_k] with A_k, B_k the two sums' terms (α held fixed:
/// Frühwirth-Schnatter's relative MSE). The draws of β_k enter two ratios (the
/// denominator of ratio k−1 and the numerator of ratio k), so each level's influence
/// g = A_k/Â_k − B_{k−1}/B̂_{k−1} is formed per draw, and Var(log Ẑ) = Σ_levels Var(mean g),
/// each from the ESS of g's split chains (diagnostics/mcmc.hpp; var/n at β_0). Levels
/// are treated as independent without tempering: chains continue from one β to the next,
/// separated by burn_in moves, and the calibration test checks that this holds well
/// enough. With tempering (the default) states swap between adjacent betas and the levels
/// are correlated: each chain's population is one Markov chain, so Var(log Ẑ) is the
/// variance of the mean of Σ_levels g per chain and round, from the ESS of its split chains.
#include <cstdint>
#include <span>
#include <vector>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/estimators/ladder.hpp"
#include "logz/estimators/method.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

struct BridgeConfig {
  std::size_t chains = 20;   ///< M independent chains (ladder.hpp)
  std::size_t burn_in = 10;  ///< moves at each β > 0 before collecting
  std::size_t samples = 50;  ///< states per chain and β, >= 4
  std::size_t thin = 1;      ///< moves between collected states
  std::uint64_t seed = 1;
  double tolerance = 1e-12;           ///< stop when λ changes by at most tolerance · max(1, |λ|)
  std::size_t max_iterations = 1000;  ///< of the fixed-point iteration, then bisection

  LadderTempering tempering = LadderTempering::pt;  ///< parallel tempering across the betas, or none (ladder.hpp)

  LadderConfig ladder() const { return {chains, burn_in, samples, thin, seed, tempering}; }
};

/// The optimal bridge of one pair of arrays.
struct BridgeFixedPoint {
  double log_ratio;        ///< λ = log(Z_b / Z_a)
  std::size_t iterations;  ///< fixed-point iterations made
  bool iterated;           ///< converged by iteration (false: finished by bisection)
};

/// The iterative optimal bridge: `up` = log f_b − log f_a at draws from p_a, `down` =
/// log f_a − log f_b at draws from p_b, with effective sizes n_up and n_down in the
/// weights (the array sizes for independent draws). Throws Error(Exit::usage) for an
/// empty array, a non-finite value, an effective size that is not positive and finite,
/// or a tolerance that is not positive, and for max_iterations = 0.
BridgeFixedPoint optimal_bridge(std::span<const double> up, std::span<const double> down, double n_up, double n_down,
                                double tolerance = 1e-12, std::size_t max_iterations = 1000);

/// The estimating equation's residual at λ: mean_i σ(u_i − λ + c) − (s_b/s_a) mean_j
/// σ(v_j + λ − c); zero at the optimal bridge, decreasing in λ.
double bridge_score(std::span<const double> up, std::span<const double> down, double n_up, double n_down,
                    double log_ratio);

/// The log of the terms whose means form the ratio at λ: log_a[i] = −log(s_a e^{λ−u_i} + s_b),
/// log_b[j] = −log(s_a e^λ + s_b e^{−v_j}); λ̂ = log mean exp(log_a) − log mean exp(log_b).
void bridge_log_terms(std::span<const double> up, std::span<const double> down, double n_up, double n_down,
                      double log_ratio, std::span<double> log_a, std::span<double> log_b);

/// One adjacent pair of the schedule.
struct BridgePair {
  double beta0 = 0, beta1 = 0;
  double log_ratio = 0;  ///< log(Z_{β1} / Z_{β0})
  double variance = 0;   ///< Frühwirth-Schnatter's relative MSE of the ratio, from this pair's draws alone
  double ess0 = 0, ess1 = 0;  ///< effective sizes used in the weights
  std::size_t iterations = 0;
  bool iterated = true;
};

struct BridgeResult {
  LogZEstimate estimate;
  std::vector<BridgePair> pairs;  ///< K pairs, in schedule order
};

/// Bridge sampling from a ladder's draws (method "bridge"). `estimate.log_weights` holds
/// one linearised estimate per chain, log Ẑ + Σ_levels (mean of g over the chain's
/// draws): their mean is log Ẑ and their sd/√M a between-chain check of std_error.
/// `estimate.steps` is the per-β table: ESS of ∂ log f, acceptance, the variance of
/// log f_{β_{k+1}} − log f_{β_k} (at the last β, of log f_{β_{K−1}} − log f_{β_K}), the
/// R-hat of ∂ log f across chains and the swap rate to the next β (ladder.hpp).
/// `estimate.ess` is the smallest effective size used in a pair's weights.
BridgeResult bridge_from_ladder(const Ladder& ladder, double tolerance = 1e-12, std::size_t max_iterations = 1000);

/// Bridge sampling over `path` and `schedule`: runs the ladder (parallel tempering unless
/// config.tempering is none; streams per chain and level, bit-identical for any thread
/// count: ladder.hpp) and bridges every adjacent pair of betas. Throws Error(Exit::usage) as run_ladder and optimal_bridge.
template <AnnealingPath P>
LogZEstimate bridge_sampling(const P& path, const Schedule& schedule, const BridgeConfig& config, const Exec& ex,
                             Observer& obs = silent_observer()) {
  check_arg(config.tolerance > 0, "bridge_sampling: tolerance must be positive, got {}", config.tolerance);
  check_arg(config.max_iterations >= 1, "bridge_sampling: max_iterations must be >= 1, got {}", config.max_iterations);
  const Ladder ladder = run_ladder(path, schedule, config.ladder(), ex, obs, "bridge_sampling");
  LogZEstimate e = bridge_from_ladder(ladder, config.tolerance, config.max_iterations).estimate;
  e.seconds = ladder.seconds + e.seconds;
  return e;
}

// ---------------------------------------------------------------- registry entry (estimators/method.hpp)

struct BridgeMethod : MethodDefaults {
  static constexpr std::string_view name = "bridge";
  static constexpr std::size_t default_betas = 100;
  // Its error bar is the spread of its independent ladder chains, and R-hat across them at
  // every beta is its between-run check: split into replicates, 2 chains a run make both noise.
  static constexpr bool self_replicated = true;  // a ladder holds every level: 10,000 would be 100x the moves of AIS
  static constexpr std::string_view summary =
      "iterative optimal bridge sampling (Meng & Wong 1996) between adjacent betas, chains\n"
      "equilibrium chains per beta (burn_in, samples, thin), one parallel-tempering population\n"
      "unless tempering none; the error bar accounts for autocorrelation (Fruhwirth-Schnatter 2004)";
  static std::vector<Purpose> streams() { return {ladder_stream, ladder_swap_stream}; }
  static std::vector<OptionField> options() { return ladder_options(); }
  template <AnnealingPath P>
  static LogZEstimate run(const P& path, const MethodRun<P>& r, const Exec& ex, Observer& obs) {
    BridgeConfig c{r.chains, r.options.count("burn_in"), r.options.count("samples"), r.options.count("thin"), r.seed};
    c.tempering = ladder_tempering(r.options.text("tempering"));
    return bridge_sampling(path, *r.schedule, c, ex, obs);
  }
};

}  // namespace logz
