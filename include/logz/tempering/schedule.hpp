#pragma once
/// @file schedule.hpp
/// A validated sequence of inverse temperatures 0 = β_0 < β_1 < ... < β_K = 1.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "logz/core/check.hpp"

namespace logz {

class Schedule {
 public:
  /// Checks: at least two values, first 0, last 1, strictly increasing, all finite.
  explicit Schedule(std::vector<double> betas) : betas_(std::move(betas)) {
    check_arg(betas_.size() >= 2, "Schedule: needs at least 2 betas (0 and 1), got {}", betas_.size());
    check_arg(betas_.front() == 0.0 && betas_.back() == 1.0, "Schedule: must start at beta = 0 and end at beta = 1, got {} .. {}",
              betas_.front(), betas_.back());
    for (std::size_t k = 1; k < betas_.size(); ++k)
      check_arg(std::isfinite(betas_[k]) && betas_[k] > betas_[k - 1],
                "Schedule: betas must increase strictly; beta[{}] = {} follows beta[{}] = {}", k, betas_[k], k - 1,
                betas_[k - 1]);
  }

  /// K equal steps.
  static Schedule linear(std::size_t steps) {
    check_arg(steps >= 1, "Schedule::linear: steps must be >= 1, got {}", steps);
    std::vector<double> b(steps + 1);
    for (std::size_t k = 0; k <= steps; ++k) b[k] = double(k) / double(steps);
    b.back() = 1.0;
    return Schedule(std::move(b));
  }

  /// Salakhutdinov & Murray (2008): K steps split 500 : 4000 : 10000 over
  /// [0, 0.5), [0.5, 0.9) and [0.9, 1], each piece linear. Needs K >= 3.
  static Schedule salakhutdinov_murray(std::size_t steps) {
    check_arg(steps >= 3, "Schedule::salakhutdinov_murray: steps must be >= 3, got {}", steps);
    const std::size_t n1 = std::max<std::size_t>(1, std::size_t(std::llround(double(steps) * 500.0 / 14500.0)));
    const std::size_t n2 = std::max<std::size_t>(1, std::size_t(std::llround(double(steps) * 4000.0 / 14500.0)));
    const std::size_t n3 = steps - n1 - n2;
    std::vector<double> b;
    b.reserve(steps + 1);
    for (std::size_t k = 0; k < n1; ++k) b.push_back(0.5 * double(k) / double(n1));
    for (std::size_t k = 0; k < n2; ++k) b.push_back(0.5 + 0.4 * double(k) / double(n2));
    for (std::size_t k = 0; k <= n3; ++k) b.push_back(0.9 + 0.1 * double(k) / double(n3));
    b.back() = 1.0;
    return Schedule(std::move(b));
  }

  /// Sigmoid spacing (Grosse, Maddison & Salakhutdinov 2013): β_k ∝ σ(δ(2k/K - 1)),
  /// rescaled to [0, 1]; dense near both ends. δ = 4 by default.
  static Schedule sigmoid(std::size_t steps, double delta = 4.0) {
    check_arg(steps >= 1, "Schedule::sigmoid: steps must be >= 1, got {}", steps);
    check_arg(delta > 0 && std::isfinite(delta), "Schedule::sigmoid: delta must be positive, got {}", delta);
    auto s = [&](double t) { return 1.0 / (1.0 + std::exp(-delta * (2.0 * t - 1.0))); };
    const double lo = s(0), hi = s(1);
    std::vector<double> b(steps + 1);
    for (std::size_t k = 0; k <= steps; ++k) b[k] = (s(double(k) / double(steps)) - lo) / (hi - lo);
    b.front() = 0.0;
    b.back() = 1.0;
    return Schedule(std::move(b));
  }

  /// Geometric spacing: β_0 = 0 and β_k = first^{(K−k)/(K−1)} for k = 1..K, so that
  /// β_1 = first and the ratios β_{k+1}/β_k are equal; suits paths whose log f_β changes
  /// fastest near β = 0 (e.g. the geometric path from a broad base). Needs K >= 2 and
  /// 0 < first < 1.
  static Schedule geometric(std::size_t steps, double first = 1e-3) {
    check_arg(steps >= 2, "Schedule::geometric: steps must be >= 2, got {}", steps);
    check_arg(first > 0 && first < 1, "Schedule::geometric: the first positive beta must be in (0, 1), got {}", first);
    std::vector<double> b(steps + 1);
    b[0] = 0.0;
    for (std::size_t k = 1; k <= steps; ++k) b[k] = std::pow(first, double(steps - k) / double(steps - 1));
    b.back() = 1.0;
    return Schedule(std::move(b));
  }

  /// By name: "linear", "geometric", "sm" (Salakhutdinov–Murray) or "sigmoid".
  static Schedule named(const std::string& name, std::size_t steps) {
    if (name == "linear") return linear(steps);
    if (name == "geometric") return geometric(steps);
    if (name == "sm") return salakhutdinov_murray(steps);
    if (name == "sigmoid") return sigmoid(steps);
    fail(Exit::usage, "Schedule: unknown schedule '{}' (expected linear, geometric, sm or sigmoid)", name);
  }

  const std::vector<double>& betas() const { return betas_; }
  std::size_t steps() const { return betas_.size() - 1; }
  double operator[](std::size_t k) const { return betas_[k]; }

 private:
  std::vector<double> betas_;
};

}  // namespace logz
