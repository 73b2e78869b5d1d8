#pragma once
/// @file markov.hpp
/// Exact transition matrices of samplers on tiny state spaces, and the χ² check of
/// sampled states against exact probabilities, shared by the kernel tests.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "support/rbm_fixtures.hpp"

namespace logz::test {

/// A dense transition matrix: T[a][b] = P(a -> b).
using Dense = std::vector<std::vector<double>>;

inline Dense zeros(std::size_t n) { return Dense(n, std::vector<double>(n, 0.0)); }

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

}  // namespace logz::test
