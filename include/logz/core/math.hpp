#pragma once
/// @file math.hpp
/// Log-domain helpers. Everything that can over- or underflow is summed as
/// log-sum-exp; accumulation is in double.
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

namespace logz {

/// log(1 + exp(x)) without overflow; exact to double rounding for every x.
inline double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
inline float softplus(float x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
/// 1 / (1 + exp(-x)).
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
/// log(sigmoid(x)) = -softplus(-x).
inline double log_sigmoid(double x) { return -softplus(-x); }

/// Streaming log-sum-exp: add values one by one, read log(sum exp) at any time.
/// Rescales when a larger value arrives, so no term overflows.
class LogSumExp {
 public:
  void add(double x) {
    if (std::isnan(x)) { nan_ = true; return; }
    if (x == -std::numeric_limits<double>::infinity()) return;
    if (x <= max_) {
      sum_ += std::exp(x - max_);
    } else {
      sum_ = sum_ * std::exp(max_ - x) + 1.0;
      max_ = x;
    }
  }
  /// Merge another accumulator (as if all its values had been added here).
  void merge(const LogSumExp& o) {
    if (o.nan_) nan_ = true;
    if (o.sum_ == 0) return;
    if (o.max_ <= max_) {
      sum_ += o.sum_ * std::exp(o.max_ - max_);
    } else {
      sum_ = sum_ * std::exp(max_ - o.max_) + o.sum_;
      max_ = o.max_;
    }
  }
  double value() const {
    if (nan_) return std::numeric_limits<double>::quiet_NaN();
    return sum_ == 0 ? -std::numeric_limits<double>::infinity() : max_ + std::log(sum_);
  }

 private:
  double max_ = -std::numeric_limits<double>::infinity();
  double sum_ = 0;
  bool nan_ = false;
};

/// log(sum_i exp(x_i)).
inline double log_sum_exp(std::span<const double> x) {
  if (x.empty()) return -std::numeric_limits<double>::infinity();
  const double m = *std::max_element(x.begin(), x.end());
  if (!std::isfinite(m)) return m == -std::numeric_limits<double>::infinity() ? m : std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (double v : x) s += std::exp(v - m);
  return m + std::log(s);
}

/// log((1/n) sum_i exp(x_i)).
inline double log_mean_exp(std::span<const double> x) {
  return log_sum_exp(x) - std::log(double(x.size()));
}

/// Mean and unbiased variance in one pass (Welford), in double.
struct MeanVar {
  double mean = 0, m2 = 0;
  std::size_t n = 0;
  void add(double x) {
    ++n;
    const double d = x - mean;
    mean += d / double(n);
    m2 += d * (x - mean);
  }
  double variance() const { return n > 1 ? m2 / double(n - 1) : std::numeric_limits<double>::quiet_NaN(); }
  double std_error() const { return std::sqrt(variance() / double(n)); }
};

}  // namespace logz
