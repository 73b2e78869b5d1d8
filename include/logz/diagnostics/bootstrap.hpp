#pragma once
/// @file bootstrap.hpp
/// Nonparametric bootstrap confidence intervals (Efron & Tibshirani, "An Introduction
/// to the Bootstrap", 1993): the percentile interval (ch. 13) and the bias-corrected and
/// accelerated BCa interval (ch. 14; acceleration from the jackknife, eq. 14.15).
///
/// Replicate b resamples x with replacement using the stream
/// Stream::derive(seed, Purpose::replicate, b), so the result is a deterministic
/// function of (x, statistic, level, replicates, seed): the same bits for any thread
/// count. Needs a sample of at least 2 values without NaN (bootstrap_mean: finite;
/// bootstrap_log_mean_exp: no +inf, while −inf is a zero weight), level in (0, 1) and
/// at least 2 replicates; otherwise Error(Exit::usage).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "logz/core/parallel.hpp"

namespace logz {

/// A statistic of a sample. With Exec of more than one thread it is called from several
/// threads at once and must be safe to do so (a pure function is).
using SampleStatistic = std::function<double(std::span<const double>)>;

enum class BootstrapMethod {
  percentile,  ///< quantiles (1 ∓ level)/2 of the replicates
  bca,         ///< bias-corrected and accelerated: percentiles moved by z0 and a
};

struct BootstrapInterval {
  double estimate;   ///< the statistic of the sample itself
  double lower, upper;
  double std_error;  ///< standard deviation of the replicates
  double bias;       ///< mean of the replicates − estimate
  std::size_t replicates;
  std::vector<double> replicate_values;  ///< in replicate order, for recomputation
};

/// Bootstrap interval of statistic(x) at two-sided `level`. Replicates whose statistic
/// is not finite make the interval NaN (the estimate and replicate values stay).
BootstrapInterval bootstrap_interval(std::span<const double> x, const SampleStatistic& statistic, double level,
                                     std::size_t replicates, std::uint64_t seed,
                                     BootstrapMethod method = BootstrapMethod::percentile, const Exec& ex = Exec(1));

/// Interval for the mean of x.
BootstrapInterval bootstrap_mean(std::span<const double> x, double level, std::size_t replicates, std::uint64_t seed,
                                 BootstrapMethod method = BootstrapMethod::percentile, const Exec& ex = Exec(1));

/// Interval for log mean exp(w) of importance log-weights w (the importance-sampling
/// log Z estimate, up to log Z of the base): a check on the delta-method standard
/// error of summarize_log_weights when few weights dominate.
BootstrapInterval bootstrap_log_mean_exp(std::span<const double> log_weights, double level, std::size_t replicates,
                                         std::uint64_t seed, BootstrapMethod method = BootstrapMethod::percentile,
                                         const Exec& ex = Exec(1));

}  // namespace logz
