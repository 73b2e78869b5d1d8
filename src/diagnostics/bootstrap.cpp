#include "logz/diagnostics/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"
#include "logz/diagnostics/mcmc.hpp"

namespace logz {
namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

/// Replicates per parallel task: fixed, so the split depends on the problem size only.
constexpr std::size_t replicate_block = 64;

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

/// Quantile of sorted values by linear interpolation (Hyndman & Fan type 7).
double sorted_quantile(const std::vector<double>& s, double p) {
  const double h = p * double(s.size() - 1);
  const std::size_t lo = std::size_t(std::floor(h));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (h - double(lo)) * (s[hi] - s[lo]);
}

void check_common(std::span<const double> x, double level, std::size_t replicates, std::string_view fn) {
  check_arg(x.size() >= 2, "{}: x must have at least 2 values, got {}", fn, x.size());
  check_arg(level > 0 && level < 1, "{}: level must be in (0, 1), got {}", fn, level);
  check_arg(replicates >= 2, "{}: replicates must be >= 2, got {}", fn, replicates);
}

/// BCa acceleration from the jackknife values of the statistic (Efron & Tibshirani
/// 1993, eq. 14.15); 0 when they are all equal.
double acceleration(std::span<const double> x, const SampleStatistic& statistic) {
  const std::size_t n = x.size();
  std::vector<double> jack(n), rest(n - 1);
  for (std::size_t i = 0; i < n; ++i) {
    std::copy(x.begin(), x.begin() + std::ptrdiff_t(i), rest.begin());
    std::copy(x.begin() + std::ptrdiff_t(i) + 1, x.end(), rest.begin() + std::ptrdiff_t(i));
    jack[i] = statistic(rest);
  }
  double mean = 0;
  for (double v : jack) mean += v;
  mean /= double(n);
  double s2 = 0, s3 = 0;
  for (double v : jack) {
    const double d = mean - v;
    s2 += d * d;
    s3 += d * d * d;
  }
  return s2 > 0 ? s3 / (6.0 * std::pow(s2, 1.5)) : 0.0;
}

}  // namespace

BootstrapInterval bootstrap_interval(std::span<const double> x, const SampleStatistic& statistic, double level,
                                     std::size_t replicates, std::uint64_t seed, BootstrapMethod method, const Exec& ex) {
  check_common(x, level, replicates, "bootstrap_interval");
  for (std::size_t i = 0; i < x.size(); ++i)
    check_arg(!std::isnan(x[i]), "bootstrap_interval: x must not contain NaN, got NaN at index {}", i);

  BootstrapInterval out;
  out.estimate = statistic(x);
  out.replicates = replicates;
  out.replicate_values.assign(replicates, nan_v);
  const std::size_t n = x.size();
  const Blocks blocks{replicates, replicate_block};
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    std::vector<double> resample(n);
    for (std::size_t b = blocks.begin(t); b < blocks.end(t); ++b) {
      Stream rng = Stream::derive(seed, Purpose::replicate, b);
      for (std::size_t i = 0; i < n; ++i) resample[i] = x[rng.below(n)];
      out.replicate_values[b] = statistic(resample);
    }
  });

  MeanVar mv;
  bool finite = std::isfinite(out.estimate);
  for (double v : out.replicate_values) {
    mv.add(v);
    finite = finite && std::isfinite(v);
  }
  out.bias = mv.mean - out.estimate;
  out.std_error = std::sqrt(mv.variance());
  out.lower = out.upper = nan_v;
  if (!finite) return out;

  std::vector<double> sorted = out.replicate_values;
  std::sort(sorted.begin(), sorted.end());
  double p_lo = 0.5 * (1 - level), p_hi = 0.5 * (1 + level);
  if (method == BootstrapMethod::bca) {
    // z0 from the share of replicates below the estimate (ties count half); all on
    // one side leaves no bias correction to make and the interval is NaN.
    double below = 0;
    for (double v : sorted) below += v < out.estimate ? 1.0 : v == out.estimate ? 0.5 : 0.0;
    const double share = below / double(replicates);
    if (share <= 0 || share >= 1) return out;
    const double z0 = normal_quantile(share), a = acceleration(x, statistic);
    auto adjust = [&](double p) {
      const double z = z0 + normal_quantile(p);
      return normal_cdf(z0 + z / (1 - a * z));
    };
    p_lo = adjust(p_lo);
    p_hi = adjust(p_hi);
  }
  out.lower = sorted_quantile(sorted, p_lo);
  out.upper = sorted_quantile(sorted, p_hi);
  return out;
}

BootstrapInterval bootstrap_mean(std::span<const double> x, double level, std::size_t replicates, std::uint64_t seed,
                                 BootstrapMethod method, const Exec& ex) {
  check_common(x, level, replicates, "bootstrap_mean");
  for (std::size_t i = 0; i < x.size(); ++i)
    check_arg(std::isfinite(x[i]), "bootstrap_mean: x must be finite, got {} at index {}", x[i], i);
  const auto mean = [](std::span<const double> s) {
    double sum = 0;
    for (double v : s) sum += v;
    return sum / double(s.size());
  };
  return bootstrap_interval(x, mean, level, replicates, seed, method, ex);
}

BootstrapInterval bootstrap_log_mean_exp(std::span<const double> log_weights, double level, std::size_t replicates,
                                         std::uint64_t seed, BootstrapMethod method, const Exec& ex) {
  check_common(log_weights, level, replicates, "bootstrap_log_mean_exp");
  for (std::size_t i = 0; i < log_weights.size(); ++i)
    check_arg(!std::isnan(log_weights[i]) && log_weights[i] != std::numeric_limits<double>::infinity(),
              "bootstrap_log_mean_exp: log_weights must not be NaN or +inf, got {} at index {}", log_weights[i], i);
  return bootstrap_interval(log_weights, [](std::span<const double> s) { return log_mean_exp(s); }, level, replicates,
                            seed, method, ex);
}

}  // namespace logz
