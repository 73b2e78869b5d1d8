#pragma once
/// @file markov.hpp
/// Exact transition matrices of samplers on tiny state spaces, and the χ² check of
/// sampled states against exact probabilities, shared by the kernel tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz::test {

/// A dense transition matrix: T[a][b] = P(a -> b).
using Dense = std::vector<std::vector<double>>;

inline Dense zeros(std::size_t n) { return Dense(n, std::vector<double>(n, 0.0)); }

/// Probabilities ∝ exp(log_weights), normalised in long double after subtracting the
/// largest log-weight.
inline std::vector<double> normalized_exp(const std::vector<long double>& log_weights) {
  long double top = -INFINITY;
  for (long double v : log_weights) top = std::max(top, v);
  long double z = 0;
  for (long double v : log_weights) z += std::exp(v - top);
  std::vector<double> p(log_weights.size());
  for (std::size_t k = 0; k < p.size(); ++k) p[k] = double(std::exp(log_weights[k] - top) / z);
  return p;
}

/// a · b, skipping the zero entries of a (single-site kernels are sparse).
inline Dense multiply(const Dense& a, const Dense& b) {
  const std::size_t n = a.size();
  Dense c = zeros(n);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t k = 0; k < n; ++k)
      if (a[r][k] != 0)
        for (std::size_t j = 0; j < n; ++j) c[r][j] += a[r][k] * b[k][j];
  return c;
}

/// max_b |(πT)_b − π_b|, the sums in long double: stationarity of π under T.
inline double stationarity_error(const Dense& t, const std::vector<double>& pi) {
  double err = 0;
  for (std::size_t b = 0; b < pi.size(); ++b) {
    long double s = 0;
    for (std::size_t a = 0; a < pi.size(); ++a) s += (long double)pi[a] * t[a][b];
    err = std::max(err, double(std::abs(s - pi[b])));
  }
  return err;
}

/// max |π_a T_ab − π_b T_ba|: detailed balance of T with respect to π.
inline double detailed_balance_error(const Dense& t, const std::vector<double>& pi) {
  double err = 0;
  for (std::size_t a = 0; a < pi.size(); ++a)
    for (std::size_t b = 0; b < pi.size(); ++b) err = std::max(err, std::abs(pi[a] * t[a][b] - pi[b] * t[b][a]));
  return err;
}

/// Pearson's χ² of `counts` (from `draws` draws) against probabilities `p`, after pooling
/// every cell expected below 5 into one: expects at least `min_cells` cells and the
/// statistic below the upper quantile whose false-failure rate is `rate`.
inline void expect_chi_square_fits(const std::vector<std::size_t>& counts, const std::vector<double>& p,
                                   std::size_t draws, std::size_t min_cells, double rate) {
  std::vector<std::size_t> pooled_counts;
  std::vector<double> pooled_p;
  std::size_t rest_count = 0;
  double rest_p = 0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (p[k] * double(draws) >= 5) {
      pooled_counts.push_back(counts[k]);
      pooled_p.push_back(p[k]);
    } else {
      rest_count += counts[k];
      rest_p += p[k];
    }
  }
  if (rest_p > 0) {
    pooled_counts.push_back(rest_count);
    pooled_p.push_back(rest_p);
  }
  ASSERT_GE(pooled_counts.size(), min_cells);
  const double x2 = chi_square_statistic(pooled_counts, pooled_p);
  EXPECT_LE(x2, chi_square_upper_quantile(double(pooled_counts.size() - 1), rate)) << "cells " << pooled_counts.size();
}

/// χ² of `chains` independent chains (streams derive(seed, gibbs, c)), each started from
/// state index `start` (state_of(index) gives the state) and run `steps` steps of
/// `kernel`, against the exact distribution e_start T^steps (index_of(state) gives the
/// index). Cells expected below 5 pooled. False-failure rate 1e-4 per call.
template <class Kernel, class Model, class StateOf, class IndexOf>
void expect_chains_follow(const Kernel& kernel, const Model& m, const Dense& t, std::size_t start, std::size_t steps,
                          std::size_t chains, std::uint64_t seed, StateOf&& state_of, IndexOf&& index_of) {
  const std::size_t count = t.size();
  std::vector<double> p(count, 0.0);
  p[start] = 1;
  for (std::size_t k = 0; k < steps; ++k) {
    std::vector<double> q(count, 0.0);
    for (std::size_t a = 0; a < count; ++a)
      if (p[a] != 0)
        for (std::size_t b = 0; b < count; ++b) q[b] += p[a] * t[a][b];
    p = q;
  }
  std::vector<std::size_t> counts(count, 0);
  for (std::size_t c = 0; c < chains; ++c) {
    Stream rng = Stream::derive(seed, Purpose::gibbs, c);
    VectorD x = state_of(start);
    for (std::size_t k = 0; k < steps; ++k) kernel.step(m, x, rng);
    ++counts[index_of(x)];
  }
  expect_chi_square_fits(counts, p, chains, 10, 1e-4);  // false-failure rate 1e-4
}

}  // namespace logz::test
