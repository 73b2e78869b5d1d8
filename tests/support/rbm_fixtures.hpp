#pragma once
/// @file rbm_fixtures.hpp
/// Shared helpers for the RBM tests: random models from a Philox stream, brute-force
/// references that share no code with the library (explicit sums over every (v, h) in
/// long double), exact visible distributions of tiny models, quantiles for deriving
/// statistical tolerances; and, via temp_dir.hpp, a temporary directory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/models/rbm.hpp"
#include "support/temp_dir.hpp"

namespace logz::test {

/// A random RBM: weights ~ w_scale·N(0,1), biases ~ b_scale·N(0,1), all from `rng`.
inline RbmD random_rbm(Stream& rng, std::size_t n_visible, std::size_t n_hidden, double w_scale, double b_scale) {
  RbmD m(n_visible, n_hidden);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = w_scale * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_bias.size(); ++i) m.visible_bias[i] = b_scale * rng.normal();
  for (Eigen::Index j = 0; j < m.hidden_bias.size(); ++j) m.hidden_bias[j] = b_scale * rng.normal();
  return m;
}
/// Same, with biases on the weights' scale.
inline RbmD random_rbm(Stream& rng, std::size_t n_visible, std::size_t n_hidden, double scale) {
  return random_rbm(rng, n_visible, n_hidden, scale, scale);
}
/// Same, from a seed (stream derive(seed, Purpose::user, 0)).
inline RbmD random_rbm(std::uint64_t seed, std::size_t n_visible, std::size_t n_hidden, double w_scale, double b_scale) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  return random_rbm(rng, n_visible, n_hidden, w_scale, b_scale);
}

/// Bit i of state index k is unit i (so row k of all_states(n) is the binary expansion of k).
inline MatrixU8 all_states(std::size_t n) {
  const std::size_t count = std::size_t(1) << n;
  MatrixU8 s{Eigen::Index(count), Eigen::Index(n)};
  for (std::size_t k = 0; k < count; ++k)
    for (std::size_t i = 0; i < n; ++i) s(Eigen::Index(k), Eigen::Index(i)) = std::uint8_t((k >> i) & 1);
  return s;
}
/// Every visible configuration of `m`, one per row, in state-index order.
template <class T>
MatrixU8 all_visible_states(const Rbm<T>& m) {
  return all_states(m.n_visible());
}

/// Index of a 0/1 row (bit i = entry i).
template <class Row>
std::size_t state_index(const Row& v) {
  std::size_t k = 0;
  for (Eigen::Index i = 0; i < v.size(); ++i)
    if (v[i] != 0) k |= std::size_t(1) << i;
  return k;
}

/// Streaming log-sum-exp in long double (independent of logz::LogSumExp).
struct LogSumExpL {
  long double max = -std::numeric_limits<long double>::infinity(), sum = 0;
  void add(long double x) {
    if (x <= max) {
      sum += std::exp(x - max);
    } else {
      sum = sum * std::exp(max - x) + 1;
      max = x;
    }
  }
  long double value() const { return max + std::log(sum); }
};

/// -F(v) by brute force: log Σ_h exp(-E(v, h)) with E(v, h) = -b·v - c·h - vᵀWh summed
/// term by term over every h (Gray-code order, one update of u·h per state, long
/// double), each term exp(-E - max) in double (terms <= 1) summed in long double.
template <class T>
long double brute_neg_free_energy(const Rbm<T>& m, const std::uint64_t vbits) {
  const std::size_t nv = m.n_visible(), nh = m.n_hidden();
  long double bv = 0;
  std::vector<long double> u(nh);  // u_j = c_j + (vᵀW)_j
  for (std::size_t j = 0; j < nh; ++j) u[j] = (long double)m.hidden_bias[Eigen::Index(j)];
  for (std::size_t i = 0; i < nv; ++i) {
    if (!((vbits >> i) & 1)) continue;
    bv += (long double)m.visible_bias[Eigen::Index(i)];
    for (std::size_t j = 0; j < nh; ++j) u[j] += (long double)m.weights(Eigen::Index(i), Eigen::Index(j));
  }
  long double top = 0;  // max over h of u·h
  for (std::size_t j = 0; j < nh; ++j) top += u[j] > 0 ? u[j] : 0;
  const std::uint64_t count = std::uint64_t(1) << nh;
  thread_local std::vector<double> e;
  e.resize(count);
  long double uh = 0;  // u·h for the current h
  std::uint64_t h = 0;
  for (std::uint64_t g = 0;; ++g) {
    e[g] = double(uh - top);
    if (g + 1 == count) break;
    const unsigned j = unsigned(__builtin_ctzll(g + 1));
    uh += ((h >> j) & 1) ? -u[j] : u[j];
    h ^= std::uint64_t(1) << j;
  }
  long double sum = 0;
  for (std::uint64_t g = 0; g < count; ++g) sum += std::exp(e[g]);
  return bv + top + std::log(sum);
}

/// log Z = log Σ_{v,h} exp(-E(v, h)) by brute force over every (v, h), long double.
/// Cost 2^(n_v + n_h): keep n_v + n_h <= 24.
template <class T>
long double brute_log_z(const Rbm<T>& m) {
  LogSumExpL acc;
  const std::uint64_t count = std::uint64_t(1) << m.n_visible();
  for (std::uint64_t v = 0; v < count; ++v) acc.add(brute_neg_free_energy(m, v));
  return acc.value();
}

/// Exact visible distribution p(v) = exp(-F(v)) / Z, indexed by state_index(v).
template <class T>
std::vector<double> exact_visible_distribution(const Rbm<T>& m) {
  const std::uint64_t count = std::uint64_t(1) << m.n_visible();
  std::vector<long double> lf(count);
  LogSumExpL acc;
  for (std::uint64_t v = 0; v < count; ++v) acc.add(lf[v] = brute_neg_free_energy(m, v));
  const long double lz = acc.value();
  std::vector<double> p(count);
  for (std::uint64_t v = 0; v < count; ++v) p[v] = double(std::exp(lf[v] - lz));
  return p;
}

/// `n` exact draws from a distribution over state indices, by inverse CDF with the
/// stream's uniform doubles; returned as 0/1 rows of `n_units` columns.
inline MatrixU8 exact_samples(const std::vector<double>& p, std::size_t n_units, std::size_t n, Stream& rng) {
  std::vector<double> cdf(p.size());
  double c = 0;
  for (std::size_t k = 0; k < p.size(); ++k) cdf[k] = (c += p[k]);
  MatrixU8 out{Eigen::Index(n), Eigen::Index(n_units)};
  for (std::size_t r = 0; r < n; ++r) {
    const double u = rng.uniform_double() * c;
    std::size_t k = 0;
    while (k + 1 < cdf.size() && cdf[k] <= u) ++k;
    for (std::size_t i = 0; i < n_units; ++i) out(Eigen::Index(r), Eigen::Index(i)) = std::uint8_t((k >> i) & 1);
  }
  return out;
}

/// One-sided standard normal quantile: z with P(N(0,1) > z) = alpha (the library's
/// normal_quantile, itself checked against 50-digit reference values).
inline double normal_upper_quantile(double alpha) { return -normal_quantile(alpha); }
/// Two-sided: P(|N(0,1)| > z) = alpha.
inline double normal_two_sided_z(double alpha) { return normal_upper_quantile(alpha / 2); }

/// Upper quantile of the chi-square distribution with k degrees of freedom,
/// P(X > q) = alpha, by the Wilson–Hilferty approximation (Wilson & Hilferty 1931):
/// (X/k)^(1/3) is close to N(1 - 2/(9k), 2/(9k)), so q = k (1 - 2/(9k) + z √(2/(9k)))³.
/// For k >= 3 and alpha in [1e-6, 0.1] it overstates the exact quantile by under 2%
/// (e.g. k = 7, alpha = 1e-4: 30.4 vs 29.9; k = 15: 42.6 vs 42.3), so a test using it
/// fails falsely at a rate slightly below alpha.
inline double chi_square_upper_quantile(double k, double alpha) {
  const double z = normal_upper_quantile(alpha), a = 2.0 / (9.0 * k);
  const double t = 1.0 - a + z * std::sqrt(a);
  return k * t * t * t;
}

/// Pearson's chi-square statistic of observed counts against probabilities p (all > 0).
inline double chi_square_statistic(const std::vector<std::size_t>& counts, const std::vector<double>& p) {
  double n = 0;
  for (auto c : counts) n += double(c);
  double x2 = 0;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    const double e = n * p[k];
    x2 += (double(counts[k]) - e) * (double(counts[k]) - e) / e;
  }
  return x2;
}

}  // namespace logz::test
