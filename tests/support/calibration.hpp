#pragma once
/// @file calibration.hpp
/// What the coverage tests of the estimators share: small Potts models with random
/// parameters (exact log Z by enumeration), the binomial test of a coverage count, and
/// the coverage of 95% intervals (and of intervals a quarter as wide, to show a test can
/// fail) over many seeds.
#include <cmath>
#include <cstdint>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/models/potts.hpp"

namespace logz::test {

/// Every parameter of `m` replaced by scale · N(0, 1) from the stream (seed, user, 0).
inline Potts randomise(Potts m, std::uint64_t seed, double scale) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = scale * rng.normal();
  m.set_parameters(theta);
  return m;
}

/// A rows × cols open grid of q-state sites with zero parameters.
inline Potts lattice_potts(std::size_t rows, std::size_t cols, std::size_t q) {
  std::vector<PottsEdge> edges;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      if (c + 1 < cols) edges.push_back({r * cols + c, r * cols + c + 1});
      if (r + 1 < rows) edges.push_back({r * cols + c, (r + 1) * cols + c});
    }
  return Potts(MatrixD::Zero(Eigen::Index(rows * cols), Eigen::Index(q)), edges,
               VectorD::Zero(Eigen::Index(edges.size() * q * q)));
}

/// P(Bin(n, p) <= k).
inline double binomial_cdf(int k, int n, double p) {
  double s = 0;
  for (int i = 0; i <= k; ++i)
    s += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) + i * std::log(p) +
                  (n - i) * std::log1p(-p));
  return s;
}

/// The largest count c with P(Bin(n, p) <= c) < alpha: coverage counts at or below it
/// fail the test (one-sided binomial test, false-failure rate below alpha).
inline int binomial_critical(int n, double p, double alpha) {
  int c = -1;
  while (binomial_cdf(c + 1, n, p) < alpha) ++c;
  return c;
}

struct Coverage {
  int covered = 0;         ///< 95% intervals holding the exact value
  int covered_narrow = 0;  ///< intervals a quarter as wide (an error bar 4× too small) holding it
  double mean_ess = 0;     ///< mean of ess / num_samples
  double mean_error = 0, mean_se = 0;
};

/// Coverage over `seeds` estimates estimate(s), s = 0 .. seeds − 1, of `exact`.
template <class Estimate>
Coverage coverage(double exact, int seeds, Estimate&& estimate) {
  Coverage c;
  for (int s = 0; s < seeds; ++s) {
    const LogZEstimate e = estimate(s);
    const auto [lo, hi] = e.interval(0.95);
    c.covered += (lo <= exact && exact <= hi);
    c.covered_narrow += std::abs(e.log_z - exact) <= 0.25 * (hi - lo) / 2;
    c.mean_ess += e.ess / double(e.num_samples) / seeds;
    c.mean_error += (e.log_z - exact) / seeds;
    c.mean_se += e.std_error / seeds;
  }
  return c;
}

}  // namespace logz::test
