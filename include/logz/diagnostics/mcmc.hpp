#pragma once
/// @file mcmc.hpp
/// Convergence and efficiency diagnostics for Markov chains: autocorrelation, effective
/// sample size (ESS), split R-hat and the Monte-Carlo standard error of a mean.
///
/// Follows Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization,
/// folding, and localization: an improved R-hat for assessing convergence of MCMC",
/// Bayesian Analysis 16(2), 667–718: chains are split in halves, autocorrelations of
/// several chains are combined through the between- and within-chain variances, and
/// the integrated autocorrelation time is summed with Geyer's (1992, Statistical
/// Science 7, 473–483) initial positive and initial monotone sequence estimator.
///
/// Draws are an M × N matrix: one chain per row, N draws per chain in order. Every
/// function needs at least one chain and 4 draws per chain, all finite; otherwise
/// Error(Exit::usage). Splitting makes a single chain usable (it becomes two halves);
/// with N odd the middle draw is left out so that both halves have N/2 draws.
///
/// Constant draws: when every draw of the matrix is the same value, nothing can be
/// diagnosed and every function returns NaN (ESS, R-hat, MCSE). When every split chain
/// is constant but chains differ, the within-chain variance is 0: R-hat is +inf and the
/// ESS is NaN. docs/diagnostics.md says how to read each number.
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "logz/core/types.hpp"

namespace logz {

/// Φ⁻¹(p), the standard normal quantile, for p in (0, 1) (±inf at 0 and 1, NaN outside):
/// Wichura's algorithm AS 241 (PPND16, Applied Statistics 37, 477–484, 1988), rational
/// approximations with about 1e-16 relative error.
double normal_quantile(double p);

/// P(|T| > t) for Student's t with `dof` > 0 degrees of freedom: the regularised
/// incomplete beta I_{dof/(dof+t²)}(dof/2, 1/2) by its continued fraction (modified Lentz),
/// accurate to about 1e-14.
double student_t_two_sided_tail(double t, double dof);
/// The t with P(|T_dof| <= t) = level (the half-width of a level interval in SE units),
/// by bisection on student_t_two_sided_tail; the normal quantile for dof = +inf.
double student_t_two_sided_quantile(double level, double dof);

/// Autocorrelations ρ_0 = 1, ρ_1, …, ρ_L of one series, L = min(max_lag, n − 1), by the
/// direct sum with the biased (divide-by-n) autocovariance, which keeps the sequence
/// positive semi-definite. Needs n >= 2 finite values; a constant series gives NaN for
/// every lag.
std::vector<double> autocorrelation(std::span<const double> x,
                                    std::size_t max_lag = std::numeric_limits<std::size_t>::max());

/// Bulk and tail effective sample size (Vehtari et al. 2021, §3.2 and §4.3).
struct EffectiveSampleSize {
  double bulk;  ///< ESS of the rank-normalised split chains: efficiency in the centre
  double tail;  ///< min of the ESS of I(x <= q05) and I(x <= q95): efficiency in the tails
};

/// Multi-chain ESS of the raw split chains (no rank normalisation): how many independent
/// draws the estimate of the mean is worth, M·N / τ̂ with τ̂ from Geyer's initial
/// positive + monotone sequence, and τ̂ >= 1 / log10(M·N) (as Stan) so that antithetic
/// chains cannot claim an unbounded ESS.
double ess_mean(const MatrixD& draws);

/// Bulk ESS (ess_mean of the rank-normalised draws) and tail ESS.
EffectiveSampleSize effective_sample_size(const MatrixD& draws);

/// Classic split R-hat (Gelman et al., Bayesian Data Analysis 3rd ed., §11.4):
/// √(var⁺ / W) with W the mean within-chain variance of the 2M half chains and
/// var⁺ = (n − 1)/n · W + B/n. Near 1 when the chains agree.
double split_rhat(const MatrixD& draws);

/// Vehtari et al.'s R-hat: the larger of split R-hat of the rank-normalised draws (bulk)
/// and of the rank-normalised folded draws |x − median| (scale); it also detects chains
/// that differ in spread or have heavy tails.
double rank_normalized_rhat(const MatrixD& draws);

/// Monte-Carlo standard error of the mean of all draws: sd / √ess_mean(draws).
double mcse_mean(const MatrixD& draws);

/// The rank normalisation used above: z = Φ⁻¹((r − 3/8) / (S + 1/4)) with r the rank of
/// each draw among all S = M·N draws (ties get their average rank); same shape.
MatrixD rank_normalize(const MatrixD& draws);

}  // namespace logz
