#pragma once
/// @file ising_sampling.hpp
/// Exact draws from a small Ising model (n <= 20) for the training tests: the 2^n
/// probabilities by enumeration, then inverse-CDF draws; state index bit i is spin i up.
/// Also the exact population quantities the tests derive their error bars from.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/ising.hpp"

namespace logz::test {

/// Spin vector of state index k in the model's convention.
inline VectorD ising_state(const Ising& m, std::uint64_t k) {
  VectorD s(Eigen::Index(m.n_spins()));
  for (std::size_t i = 0; i < m.n_spins(); ++i) s[Eigen::Index(i)] = m.spin_value((k >> i) & 1u);
  return s;
}

/// p(state k) for every k, by enumeration (log-sum-exp normalised).
inline std::vector<double> ising_probabilities(const Ising& m) {
  const std::uint64_t K = std::uint64_t(1) << m.n_spins();
  std::vector<double> logp(K);
  for (std::uint64_t k = 0; k < K; ++k) logp[k] = -m.energy(ising_state(m, k));
  const double mx = *std::max_element(logp.begin(), logp.end());
  double z = 0;
  for (double& v : logp) z += (v = std::exp(v - mx));
  for (double& v : logp) v /= z;
  return logp;
}

/// N exact independent draws, one per row; draw r uses stream.derive(Purpose::data, r).
inline MatrixD ising_exact_samples(const Ising& m, std::size_t N, const Stream& stream) {
  const std::vector<double> p = ising_probabilities(m);
  std::vector<double> cdf(p.size());
  double acc = 0;
  for (std::size_t k = 0; k < p.size(); ++k) cdf[k] = (acc += p[k]);
  MatrixD x(Eigen::Index(N), Eigen::Index(m.n_spins()));
  for (std::size_t r = 0; r < N; ++r) {
    Stream rng = stream.derive(Purpose::data, r);
    const double u = rng.uniform_double() * acc;
    const auto k = std::size_t(std::lower_bound(cdf.begin(), cdf.end() - 1, u) - cdf.begin());
    x.row(Eigen::Index(r)) = ising_state(m, k).transpose();
  }
  return x;
}

/// Sufficient statistics T(s) = (s_1..s_n, s_i s_j per edge), the gradient layout.
inline VectorD ising_statistics(const Ising& m, const VectorD& s) {
  const auto n = Eigen::Index(m.n_spins());
  VectorD t(n + Eigen::Index(m.n_edges()));
  t.head(n) = s;
  for (std::size_t e = 0; e < m.n_edges(); ++e)
    t[n + Eigen::Index(e)] = s[Eigen::Index(m.edges()[e].i)] * s[Eigen::Index(m.edges()[e].j)];
  return t;
}

/// Exact Fisher information per sample, Cov_θ(T): the MLE's covariance is I⁻¹ / N.
inline MatrixD ising_fisher_information(const Ising& m) {
  const std::vector<double> p = ising_probabilities(m);
  const auto P = Eigen::Index(m.num_parameters());
  VectorD mean = VectorD::Zero(P);
  MatrixD second = MatrixD::Zero(P, P);
  for (std::uint64_t k = 0; k < p.size(); ++k) {
    const VectorD t = ising_statistics(m, ising_state(m, k));
    mean += p[k] * t;
    second += p[k] * t * t.transpose();
  }
  return second - mean * mean.transpose();
}

}  // namespace logz::test
