#pragma once
/// @file grbm_exact.hpp
/// Exact quantities of the Gaussian–Bernoulli RBM (models/gaussian_rbm.hpp) by
/// enumerating its hidden layer, the visible integral in closed form (docs/gaussian-rbm.md):
/// log Z, the hidden marginal, the moments of the visible marginal, independent exact
/// draws, and the exact likelihood gradient that checks PCD training on small models.
///   log Z = log Σ_h exp(c·h + Σ_i [(b_i + (W h)_i)² − b_i²] / (2σ_i²)) + Σ_i log(√(2π) σ_i).
#include <cstddef>
#include <cstdint>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/gaussian_rbm.hpp"

namespace logz {

/// Largest hidden layer that grbm_exact_log_z enumerates (2^30 terms).
inline constexpr std::size_t kGrbmMaxExactHidden = 30;
/// Largest hidden layer for which the exact hidden marginal is tabulated (2^20 entries):
/// grbm_hidden_log_marginal, grbm_exact_moments, grbm_exact_samples.
inline constexpr std::size_t kGrbmMaxTableHidden = 20;

/// Exact log Z by enumerating the hidden layer, the visible integral in closed form (see
/// the file comment). The 2^m states are split into blocks by their top bits (a fixed
/// split depending on m only), each walked in Gray-code order with W h updated by one
/// column per step, and the blocks' log-sum-exps are combined in block order: the result
/// is the same for any thread count. Throws Error(Exit::data) from validate and
/// Error(Exit::usage) if n_hidden > 30.
double grbm_exact_log_z(const GaussianRbm& model, const Exec& ex = Exec(1));

/// log p(h) for every hidden state, h's bit j = bit j of the index (2^m entries), exact:
/// log p(h) = c·h + Σ_i [(b_i + (W h)_i)² − b_i²] / (2σ_i²) + Σ_i log(√(2π) σ_i) − log Z.
/// Throws Error(Exit::usage) if n_hidden > 20.
VectorD grbm_hidden_log_marginal(const GaussianRbm& model);

/// Exact moments of the visible marginal (a mixture of 2^m Gaussians N(b + W h, diag σ²)
/// weighted by p(h)): E[v], Cov[v] = Σ_h p(h) (b + W h − E v)(b + W h − E v)ᵀ + diag σ²,
/// and E[h]. Same limits as grbm_hidden_log_marginal.
struct GrbmMoments {
  VectorD mean;        ///< E[v]
  MatrixD covariance;  ///< Cov[v]
  VectorD hidden_mean; ///< E[h]
};
GrbmMoments grbm_exact_moments(const GaussianRbm& model);

/// Independent exact draws of (v, h), one per row.
struct GrbmSamples {
  MatrixD visible;  ///< [count, n_visible]
  MatrixD hidden;   ///< [count, n_hidden], entries 0/1
};
/// `count` exact draws: h from its exact marginal (one uniform double, inverted on the
/// cumulative table of p(h)), then v = b + W h + σ ⊙ z with n_visible standard normals.
/// Row r uses stream derive(seed, Purpose::sample, r) only, so the draws do not depend
/// on the thread count. Throws Error(Exit::usage) if n_hidden > 20.
GrbmSamples grbm_exact_samples(const GaussianRbm& model, std::size_t count, std::uint64_t seed,
                               const Exec& ex = Exec(1));

/// E_{v∼p}[∂F(v)/∂θ] exactly, by enumerating the hidden layer (n_hidden <= 20):
/// E[∂F/∂W_ij] = −s_i E[v_i h_j], E[∂F/∂b_i] = −s_i E[(W h)_i], E[∂F/∂c_j] = −E[h_j],
/// E[∂F/∂log σ_i] = s_i E[(W h)_i² + 2 b_i (W h)_i] − 1, each E over h ∼ p(h) with
/// v | h ∼ N(b + W h, diag σ²) integrated in closed form. It is −∇θ log Z.
/// Throws Error(Exit::usage) if n_hidden > 20.
VectorD grbm_exact_model_gradient(const GrbmFreeEnergy& model);

/// The exact gradient of the mean negative log-likelihood of `data` (rows):
/// grbm_mean_free_energy_gradient(data) − grbm_exact_model_gradient. Same limits.
VectorD grbm_exact_nll_gradient(const GrbmFreeEnergy& model, const MatrixD& data, const Exec& ex);

/// log p(v) = −F(v) − log Z of every row, log Z by grbm_exact_log_z (n_hidden <= 30).
/// Throws Error(Exit::usage) on a column count other than n_visible.
VectorD grbm_exact_log_likelihoods(const GaussianRbm& model, const MatrixD& data, const Exec& ex);

}  // namespace logz
