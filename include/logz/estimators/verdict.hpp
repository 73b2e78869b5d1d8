#pragma once
/// @file verdict.hpp
/// The verdict on a log Z estimate: the checks that decide whether its error bar can be
/// trusted, each a named warning with its evidence and what to rerun with
/// (LogZEstimate::warn). docs/error-bars.md derives every threshold below.
///
///  - low_ess (is, ais, lis: its runs' ratio estimates): the pooled Kish ESS fraction of the importance weights is below
///    min(0.5, 3/√n), n the particles of one run. Under log-normal weights the delta-method
///    interval then stops covering (P(|error| > 4 SE) above 1%; with the replicate check
///    beside it the miss rate of both stays below 0.2% at every σ). The message names the
///    β where the ESS fell most (where betas are needed).
///  - loose_bound (raise): the reverse log-weights' variance σ²/2 (the Jensen gap of a
///    log-normal r, by which log Z_0 − mean(r) sits above log Z) exceeds 2 SE.
///  - replicates_disagree: Cochran's Q of the replicates exceeds its χ²_{R−1} 0.999
///    quantile (false alarm 1e-3 per estimate when the error bars are right).
///  - rhat (bridge, ti): the rank-normalised split R-hat of ∂ log f across the ladder's
///    chains exceeds 1.1 at some β (Gelman & Rubin's limit; Vehtari et al. 2021): chains
///    that disagree are not sampling one distribution.
///  - frozen_moves (bridge, ti): the moves changed under 0.1% of the states at some β > 0.
///  - swap_collapse (tempered ladders): under 1% of the swaps between two adjacent betas
///    were accepted: the ladder is cut in two there.
///  - weight_collapse (smc): the ESS fell below max(2, 1% of the particles) in one step:
///    the incremental weights were carried by a handful of particles.
///  - sandwich (ais with a reverse check): the forward (AIS, a stochastic lower bound) and
///    reverse (RAISE from model samples, an upper bound) estimates differ by more than
///    4·√(se_f² + se_r²): log Z lies somewhere between them, not within the error bar.
///  - coarse_grid (ti; raised by thermodynamic.hpp, which holds the evidence): the
///    estimated quadrature error is over twice the Monte-Carlo error.
///  - missed_mass (ais with a base fitted to model samples): a second AIS run from the
///    uniform base lies more than 4·√(se² + se₂²) above it. Both are stochastic lower
///    bounds, so the lower one misses mass that the other path reached.
///  - below_bound: the estimate lies more than 2.5 SE below a lower bound on log Z that
///    holds with certainty (RBM: the exact masses of the modes a search found,
///    exact/rbm_modes.hpp). Only the estimate's own error enters, so with an honest error
///    bar the false alarm is at most P(z < −2.5) = 6.2e-3 (less where the bound lies below
///    log Z); the bound itself cannot be wrong. Lower than the other checks' 4 because an
///    estimate under the exact mass of a few states has missed mass for certain: AIS on a
///    PCD-trained RBM whose base missed a mode sat 2.8–3.8 SE under the bound while 5–6
///    SE under log Z (bench/hard_models, rbm15).
///  - not_finite: log Z itself is inf or NaN (energies past a double's range).
///  - no_error_bar: the estimate has no finite standard error.
#include <cstddef>
#include <span>

#include "logz/estimators/log_z_estimate.hpp"

namespace logz::verdict {

inline constexpr double ess_fraction_scale = 3.0;   ///< low_ess below min(0.5, 3/√n)
inline constexpr double loose_bound_ses = 2.0;      ///< loose_bound when σ²/2 > 2 SE
inline constexpr double cochran_alpha = 1e-3;       ///< replicates_disagree when P(χ²_{R−1} ≥ Q) < α
inline constexpr double rhat_limit = 1.1;           ///< rhat above this at any β
inline constexpr double frozen_fraction = 1e-3;     ///< frozen_moves below this acceptance
inline constexpr double swap_floor = 0.01;          ///< swap_collapse below this swap rate
inline constexpr double weight_collapse_fraction = 0.01;  ///< smc: ESS below max(2, 1% of N)
inline constexpr double sandwich_ses = 4.0;         ///< sandwich beyond 4 combined SEs
inline constexpr double bound_ses = 2.5;            ///< below_bound beyond 2.5 SEs under a certain bound

/// The ESS fraction below which IS/AIS weights of `n` particles per run are not trusted.
double ess_fraction_threshold(std::size_t n);

/// The checks one run's own evidence allows (loose_bound, rhat, frozen_moves,
/// swap_collapse, weight_collapse, no_error_bar); adds warnings to `e`.
void assess_run(LogZEstimate& e);

/// The checks over runs of one method: low_ess on the runs' pooled weights; adds warnings
/// to `combined`. (Cochran's test is in combine_replicates, api/estimate.hpp.)
void assess_weights(LogZEstimate& combined, std::span<const LogZEstimate> runs);

/// Two forward estimates from different bases (AIS: both stochastic lower bounds): adds
/// "missed_mass" to `estimate` when `second` (from `second_base`) is above it by more than
/// sandwich_ses combined SEs.
void assess_second_base(LogZEstimate& estimate, const LogZEstimate& second, const std::string& second_base);

/// Forward (AIS) against reverse (RAISE from model samples): adds "sandwich" to `forward`
/// when they differ by more than sandwich_ses combined SEs, and says which is above.
void assess_sandwich(LogZEstimate& forward, const LogZEstimate& reverse);

/// An estimate against a lower bound on log Z that holds with certainty (`how` says where
/// it came from): adds "below_bound" when log_z + bound_ses·SE < log_lower_bound.
void assess_lower_bound(LogZEstimate& estimate, double log_lower_bound, const std::string& how);

}  // namespace logz::verdict
