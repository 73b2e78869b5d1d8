#pragma once
/// @file log_z_estimate.hpp
/// The result every log Z estimator returns: the estimate, its standard error and how
/// that was computed, the effective sample size of the weights, and the raw
/// log-weights so that anything here can be recomputed.
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logz {

/// One row of an estimator's per-β table (`logz estimate --diagnostics out.csv`).
struct StepDiagnostics {
  double beta = 0;
  double ess = std::numeric_limits<double>::quiet_NaN();         ///< Kish ESS of the weights after this step
  double acceptance = std::numeric_limits<double>::quiet_NaN();  ///< of the moves at this β (path.hpp MoveInfo)
  double log_weight_variance = std::numeric_limits<double>::quiet_NaN();  ///< variance of the log-weights
  bool resampled = false;                                        ///< SMC: resampled at this step
  /// Bridge / TI: rank-normalised split R-hat of ∂ log f across the ladder's chains at this β
  /// (diagnostics/mcmc.hpp); NaN where there is none (β_0's exact draws, one chain).
  double rhat = std::numeric_limits<double>::quiet_NaN();
  /// Parallel-tempering ladders: fraction of proposed swaps between this β and the next one
  /// that were accepted; NaN at the last β or without swaps.
  double swap_rate = std::numeric_limits<double>::quiet_NaN();
  /// SMC: distinct time-0 ancestors among the particles after this step (particle
  /// degeneracy); NaN for the estimators that do not resample.
  double unique_ancestors = std::numeric_limits<double>::quiet_NaN();
};

/// One named reason not to trust an estimate (estimators/verdict.hpp, docs/error-bars.md).
struct EstimateWarning {
  std::string name;     ///< stable identifier, e.g. "low_ess", "replicates_disagree", "rhat"
  std::string message;  ///< what was seen, with its numbers and the threshold
  std::string advice;   ///< what to rerun with
};

struct LogZEstimate {
  std::string method;        ///< "exact", "ais", "raise", ...
  double log_z = std::numeric_limits<double>::quiet_NaN();
  double std_error = std::numeric_limits<double>::quiet_NaN();  ///< NaN when none can be given
  std::string error_method;  ///< how std_error was computed, or why it is NaN
  double ess = std::numeric_limits<double>::quiet_NaN();        ///< effective sample size of the weights
  /// Degrees of freedom of std_error when it comes from the spread of a few independent
  /// runs (SMC runs, replicates: runs − 1); +inf otherwise. interval() then uses Student's t.
  double dof = std::numeric_limits<double>::infinity();
  std::size_t num_samples = 0;
  double log_z_base = std::numeric_limits<double>::quiet_NaN(); ///< log Z of the base distribution, if any
  std::vector<double> log_weights;                              ///< one per chain / sample
  std::vector<StepDiagnostics> steps;                           ///< per-β table, where the estimator has one
  double seconds = 0;
  /// The verdict (estimators/verdict.hpp): false when any check failed; `warnings` says
  /// which and why. An estimate nobody assessed is reliable with no warnings.
  bool reliable = true;
  std::vector<EstimateWarning> warnings;

  /// Records a failed check: reliable becomes false. A warning of the same name replaces
  /// the earlier one (one line per reason).
  void warn(EstimateWarning w);

  /// The interval log_z ± q·std_error at the two-sided `level`: q the normal quantile, or
  /// Student's t quantile with `dof` degrees of freedom when dof is finite.
  std::pair<double, double> interval(double level = 0.95) const;
};

/// Every field of an estimate as bytes, and back (bit for bit): how a run made on one rank
/// reaches the others (api/estimate.hpp replicate). The bytes are for this build only.
std::string to_bytes(const LogZEstimate& e);
/// Throws std::logic_error for bytes that to_bytes did not make.
LogZEstimate estimate_from_bytes(std::string_view bytes);

/// Two-sided standard normal quantile: z with P(|N(0,1)| <= z) = level.
double normal_two_sided_quantile(double level);

/// Importance-sampling summary of log-weights: log mean exp(w) and, by the delta method,
/// its standard error sd(w̃) / (√n · mean(w̃)) with w̃ = exp(w - max w); Kish's ESS
/// (Σw)² / Σw². NaN standard error for fewer than 2 weights.
struct WeightSummary {
  double log_mean, std_error, ess;
};
WeightSummary summarize_log_weights(std::span<const double> log_weights);

/// The AIS estimate from its chains' log-weights: log Z = log_z_base + log mean exp(w),
/// delta-method standard error (NaN for one chain), Kish's ESS; method "ais".
LogZEstimate ais_estimate(std::vector<double> log_weights, double log_z_base, double seconds);

}  // namespace logz
