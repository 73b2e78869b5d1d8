#pragma once
/// @file thermodynamic.hpp
/// Thermodynamic integration (path sampling) over an annealing path: Gelman & Meng (1998),
/// "Simulating normalizing constants: from importance sampling to bridge sampling to path
/// sampling", Statistical Science 13; Friel & Pettitt (2008), "Marginal likelihood
/// estimation via power posteriors", JRSS B 70; Calderhead & Girolami (2009), "Estimating
/// Bayes factors via thermodynamic integration and population MCMC", CSDA 53.
///
///   log Z = log Z_0 + ∫_0^1 μ(β) dβ,   μ(β) = E_β[∂/∂β log f_β],
///
/// with μ(β_k) estimated by the mean of the ladder's draws at β_k (ladder.hpp) and the
/// integral by the trapezoid rule on the schedule (or Simpson's rule for non-uniform
/// grids, pairs of steps, when K is even). The estimate is linear in the means,
/// Σ_k w_k μ̂_k, so its Monte-Carlo variance is Σ_k w_k² Var(μ̂_k), each Var(μ̂_k) from the
/// ESS of that β's split chains (var/n at β_0, where the draws are exact), the betas
/// treated as independent as in bridge.hpp. On a parallel-tempering ladder the betas are
/// not independent (states swap between them): the variance is that of the mean of
/// Σ_k w_k ∂ log f_k(chain r, round t), from the ESS of its split chains.
///
/// The quadrature error is estimated separately. Trapezoid: Richardson on the half grid,
/// (I_h − I_2h)/3 with I_2h the trapezoid on β_0, β_2, β_4, ... (for odd K the last step
/// stays single and its own error is not seen), the leading h² error term of a smooth
/// grid. Simpson: |I_Simpson − I_trapezoid|, the trapezoid's error, an upper estimate of
/// Simpson's own. std_error = sqrt(MC variance + quadrature error²): the estimated bias
/// is added in quadrature as if it were a standard deviation, which errs wide. With one
/// step (K = 1) there is no half grid: std_error is NaN.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/estimators/ladder.hpp"
#include "logz/estimators/method.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

enum class TiRule { trapezoid, simpson };

struct TiConfig {
  std::size_t chains = 20;   ///< M independent chains (ladder.hpp)
  std::size_t burn_in = 10;  ///< moves at each β > 0 before collecting
  std::size_t samples = 50;  ///< states per chain and β, >= 4
  std::size_t thin = 1;      ///< moves between collected states
  std::uint64_t seed = 1;
  TiRule rule = TiRule::trapezoid;  ///< Simpson needs an even number of steps

  LadderTempering tempering = LadderTempering::pt;  ///< parallel tempering across the betas, or none (ladder.hpp)

  LadderConfig ladder() const { return {chains, burn_in, samples, thin, seed, tempering}; }
};

/// Quadrature weights w with ∫ g ≈ Σ_k w_k g(β_k) on the grid `betas` (increasing, at
/// least 2 points): the trapezoid rule.
inline std::vector<double> trapezoid_weights(std::span<const double> betas) {
  check_arg(betas.size() >= 2, "trapezoid_weights: needs at least 2 points, got {}", betas.size());
  std::vector<double> w(betas.size(), 0.0);
  for (std::size_t k = 0; k + 1 < betas.size(); ++k) {
    const double h = betas[k + 1] - betas[k];
    w[k] += 0.5 * h;
    w[k + 1] += 0.5 * h;
  }
  return w;
}

/// Simpson's rule for a non-uniform grid, on the pairs of steps (β_{2i}, β_{2i+1},
/// β_{2i+2}): exact for quadratics on each pair. Needs an odd number of points (>= 3).
inline std::vector<double> simpson_weights(std::span<const double> betas) {
  check_arg(betas.size() >= 3 && betas.size() % 2 == 1,
            "simpson_weights: needs an even number of steps (odd number of points >= 3), got {} points", betas.size());
  std::vector<double> w(betas.size(), 0.0);
  for (std::size_t k = 0; k + 2 < betas.size(); k += 2) {
    const double h0 = betas[k + 1] - betas[k], h1 = betas[k + 2] - betas[k + 1], s = (h0 + h1) / 6.0;
    w[k] += s * (2.0 - h1 / h0);
    w[k + 1] += s * (h0 + h1) * (h0 + h1) / (h0 * h1);
    w[k + 2] += s * (2.0 - h0 / h1);
  }
  return w;
}

/// The quadratures of TI on grid values g_k = μ(β_k).
struct TiQuadrature {
  double trapezoid = std::numeric_limits<double>::quiet_NaN();
  double trapezoid_half = std::numeric_limits<double>::quiet_NaN();  ///< on β_0, β_2, ... (and β_K); NaN for K = 1
  double simpson = std::numeric_limits<double>::quiet_NaN();         ///< NaN for odd K
  /// Estimate of (integral − trapezoid): (trapezoid − trapezoid_half) / 3; NaN for K = 1.
  double trapezoid_error = std::numeric_limits<double>::quiet_NaN();
};

/// The even-indexed points of a grid, plus the last point when it is odd-indexed.
inline std::vector<double> half_grid(std::span<const double> betas) {
  std::vector<double> h;
  for (std::size_t k = 0; k < betas.size(); k += 2) h.push_back(betas[k]);
  if ((betas.size() - 1) % 2 == 1) h.push_back(betas.back());
  return h;
}

inline TiQuadrature ti_quadrature(std::span<const double> betas, std::span<const double> values) {
  check_arg(betas.size() == values.size(), "ti_quadrature: {} betas but {} values", betas.size(), values.size());
  auto apply = [](const std::vector<double>& w, auto&& value) {
    double s = 0;
    for (std::size_t k = 0; k < w.size(); ++k) s += w[k] * value(k);
    return s;
  };
  TiQuadrature q;
  q.trapezoid = apply(trapezoid_weights(betas), [&](std::size_t k) { return values[k]; });
  if (betas.size() >= 3) {
    const std::vector<double> hb = half_grid(betas);
    std::vector<double> hv;
    for (std::size_t k = 0; k < betas.size(); k += 2) hv.push_back(values[k]);
    if ((betas.size() - 1) % 2 == 1) hv.push_back(values.back());
    q.trapezoid_half = apply(trapezoid_weights(hb), [&](std::size_t k) { return hv[k]; });
    q.trapezoid_error = (q.trapezoid - q.trapezoid_half) / 3.0;
  }
  if (betas.size() >= 3 && betas.size() % 2 == 1)
    q.simpson = apply(simpson_weights(betas), [&](std::size_t k) { return values[k]; });
  return q;
}

/// Everything TI computed: the estimate and its two error parts, stated separately.
struct TiResult {
  LogZEstimate estimate;
  double mc_std_error = std::numeric_limits<double>::quiet_NaN();  ///< of the chosen rule (betas independent unless tempered)
  /// Estimated (integral − chosen rule): trapezoid_error of ti_quadrature for the trapezoid,
  /// simpson − trapezoid for Simpson; NaN for K = 1.
  double quadrature_error = std::numeric_limits<double>::quiet_NaN();
  TiQuadrature quadrature;        ///< log Z − log Z_0 by every rule
  std::vector<double> means;      ///< μ̂(β_k)
  std::vector<double> mean_std_errors;  ///< √Var(μ̂(β_k)), ESS-based
};

/// Thermodynamic integration from a ladder's draws (method "ti"). `estimate.log_weights`
/// holds one estimate per chain (the rule applied to that chain's means; their mean is
/// log Ẑ, their sd/√M a between-chain check of the MC error). `estimate.steps` is the
/// per-β table with the variance of ∂ log f (whose β-derivative drives the trapezoid
/// error on geometric paths, Friel & Pettitt 2008). `estimate.ess` is the smallest ESS
/// over the betas. Throws Error(Exit::usage) for Simpson with an odd number of steps.
inline TiResult ti_from_ladder(const Ladder& ladder, TiRule rule = TiRule::trapezoid) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t L = ladder.levels.size();
  check_arg(L >= 2, "thermodynamic_integration: needs at least 2 betas, got {}", L);
  check_arg(rule == TiRule::trapezoid || L % 2 == 1,
            "thermodynamic_integration: Simpson's rule needs an even number of steps, got {}", L - 1);
  std::vector<double> betas(L);
  TiResult out;
  out.means.resize(L);
  out.mean_std_errors.resize(L);
  double min_ess = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < L; ++k) {
    const LadderLevel& l = ladder.levels[k];
    betas[k] = l.beta;
    out.means[k] = l.dlog_f.mean();
    out.mean_std_errors[k] = std::sqrt(level_mean_variance(l.dlog_f, l.independent));
    const double ess = level_ess(l.dlog_f, l.independent);
    if (!std::isnan(ess)) min_ess = std::min(min_ess, ess);
  }
  out.quadrature = ti_quadrature(betas, out.means);
  const std::vector<double> w = rule == TiRule::trapezoid ? trapezoid_weights(betas) : simpson_weights(betas);
  double variance = 0;
  if (ladder.tempering == LadderTempering::pt) {
    // States move between betas, so the means are correlated: the variance of the mean of
    // Σ_k w_k ∂ log f_k, one series per chain and round (each chain's levels are one
    // Markov chain; chains are independent).
    MatrixD weighted = MatrixD::Zero(Eigen::Index(ladder.chains), Eigen::Index(ladder.samples));
    for (std::size_t k = 0; k < L; ++k) weighted += w[k] * ladder.levels[k].dlog_f;
    variance = level_mean_variance(weighted, false);
  } else {
    for (std::size_t k = 0; k < L; ++k) variance += w[k] * w[k] * out.mean_std_errors[k] * out.mean_std_errors[k];
  }
  out.mc_std_error = std::sqrt(variance);
  out.quadrature_error = rule == TiRule::trapezoid ? out.quadrature.trapezoid_error
                                                   : out.quadrature.simpson - out.quadrature.trapezoid;
  LogZEstimate& e = out.estimate;
  e.method = "ti";
  e.log_z_base = ladder.log_z_base;
  e.log_z = ladder.log_z_base + (rule == TiRule::trapezoid ? out.quadrature.trapezoid : out.quadrature.simpson);
  if (std::isnan(out.quadrature_error)) {
    e.std_error = std::numeric_limits<double>::quiet_NaN();
    e.error_method = "none: one step gives no estimate of the quadrature error (Monte-Carlo SE in mc_std_error)";
  } else {
    e.std_error = std::sqrt(variance + out.quadrature_error * out.quadrature_error);
    const std::string mc =
        ladder.tempering == LadderTempering::pt
            ? "Monte-Carlo SE (MCSE of the weighted sum over betas per chain and round of the parallel-tempering "
              "ladder, from the ESS of the split chains)"
            : "Monte-Carlo SE (per-beta MCSE from the ESS of the split chains, betas independent)";
    e.error_method = rule == TiRule::trapezoid
                         ? mc + " combined in quadrature with the trapezoid error estimated by Richardson on the half "
                                "grid, |I_h - I_2h| / 3"
                         : mc + " combined in quadrature with |Simpson - trapezoid|, an upper estimate of Simpson's error";
    if (std::isnan(e.std_error))
      e.error_method = "none: at some beta every chain kept one value while chains differ, so no ESS can be estimated";
    // The quadrature error estimate holds only where the grid resolves the integrand (the
    // rule's error then shrinks by its order when the grid halves); when it outweighs the
    // Monte-Carlo error twice over the grid is too coarse for it (estimators/verdict.hpp).
    const double mc_se = std::sqrt(variance);
    if (std::abs(out.quadrature_error) > 2 * mc_se)
      e.warn({"coarse_grid",
              fmt::format("the estimated quadrature error ({:.3g}) is over twice the Monte-Carlo error ({:.3g}): the "
                          "grid of betas does not resolve the integrand, and its error estimate cannot be trusted",
                          std::abs(out.quadrature_error), mc_se),
              "rerun with more betas (--betas), or --method bridge on the same ladder"});
  }
  e.ess = std::isinf(min_ess) ? std::numeric_limits<double>::quiet_NaN() : min_ess;
  e.num_samples = ladder.chains * ladder.samples * L;
  e.log_weights.assign(ladder.chains, ladder.log_z_base);
  for (std::size_t k = 0; k < L; ++k) {
    const VectorD chain_means = ladder.levels[k].dlog_f.rowwise().mean();
    for (std::size_t r = 0; r < ladder.chains; ++r) e.log_weights[r] += w[k] * chain_means[Eigen::Index(r)];
  }
  e.steps = ladder_steps(ladder, LadderVariance::dlog_f);
  e.seconds = seconds_since(t0);
  return out;
}

/// Thermodynamic integration over `path` and `schedule` (method "ti"): runs the ladder
/// (parallel tempering unless config.tempering is none; streams per chain and level,
/// bit-identical for any thread count: ladder.hpp) and integrates. Throws Error(Exit::usage) as run_ladder and ti_from_ladder.
template <AnnealingPath P>
LogZEstimate thermodynamic_integration(const P& path, const Schedule& schedule, const TiConfig& config, const Exec& ex,
                                       Observer& obs = silent_observer()) {
  check_arg(config.rule == TiRule::trapezoid || schedule.steps() % 2 == 0,
            "thermodynamic_integration: Simpson's rule needs an even number of steps, got {}", schedule.steps());
  const Ladder ladder = run_ladder(path, schedule, config.ladder(), ex, obs, "thermodynamic_integration");
  LogZEstimate e = ti_from_ladder(ladder, config.rule).estimate;
  e.seconds += ladder.seconds;
  return e;
}

// ---------------------------------------------------------------- registry entry (estimators/method.hpp)

struct TiMethod : MethodDefaults {
  static constexpr std::string_view name = "ti";
  static constexpr std::size_t default_betas = 100;
  // Its error bar is the spread of its independent ladder chains, and R-hat across them at
  // every beta is its between-run check: split into replicates, 2 chains a run make both noise.
  static constexpr bool self_replicated = true;  // a ladder holds every level: 10,000 would be 100x the moves of AIS
  static constexpr std::string_view summary =
      "thermodynamic integration of the mean of d log f / d beta over the same chains as\n"
      "bridge (quadrature trapezoid|simpson; the quadrature error is reported apart)";
  static std::vector<Purpose> streams() { return {ladder_stream, ladder_swap_stream}; }
  static std::vector<OptionField> options() {
    std::vector<OptionField> o = ladder_options();
    o.push_back(OptionField::text("quadrature", "trapezoid", {"trapezoid", "simpson"}, "ti: trapezoid or simpson"));
    return o;
  }
  template <AnnealingPath P>
  static LogZEstimate run(const P& path, const MethodRun<P>& r, const Exec& ex, Observer& obs) {
    TiConfig t{r.chains, r.options.count("burn_in"), r.options.count("samples"), r.options.count("thin"), r.seed};
    t.tempering = ladder_tempering(r.options.text("tempering"));
    t.rule = r.options.text("quadrature") == "simpson" ? TiRule::simpson : TiRule::trapezoid;
    return thermodynamic_integration(path, *r.schedule, t, ex, obs);
  }
};

}  // namespace logz
