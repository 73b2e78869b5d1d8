#pragma once
/// @file grbm_pcd.hpp
/// The persistent-contrastive-divergence gradient of the Gaussian–Bernoulli RBM
/// (models/gaussian_rbm.hpp; PCD: Tieleman 2008, "Training restricted Boltzmann machines
/// using approximations to the likelihood gradient", ICML; the stochastic maximum
/// likelihood of Younes 1989; docs/gaussian-rbm.md, "Training").
///
/// The gradient of the mean negative log-likelihood of data x_1..x_N over the flat
/// parameters θ of GrbmFreeEnergy (θ = [W row-major, b, c, log σ if learned]) is
///   ∇θ (−(1/N) Σ_n log p(x_n)) = (1/N) Σ_n ∂F(x_n)/∂θ − E_{v∼p}[∂F(v)/∂θ],
/// F the free energy. The positive phase is the first term on a minibatch, with the
/// hidden units summed out exactly (∂F/∂θ is E[∂E(v, h)/∂θ | v], Rao–Blackwellised);
/// the negative phase is the same mean over model samples (persistent block-Gibbs
/// chains, training/grbm_pcd.hpp). An optional L2 penalty ½ λ ‖W‖² adds λ W. The exact
/// counterpart is grbm_exact_nll_gradient (exact/grbm_exact.hpp).
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/gaussian_rbm.hpp"

namespace logz {

/// grbm_mean_free_energy_gradient(positive) − grbm_mean_free_energy_gradient(negative)
/// + weight_decay · W (on the weights' entries of θ). Throws Error(Exit::usage) as
/// grbm_mean_free_energy_gradient on a column count other than n_visible or no rows.
VectorD grbm_pcd_gradient(const GrbmFreeEnergy& model, const Eigen::Ref<const MatrixD>& positive,
                          const Eigen::Ref<const MatrixD>& negative, double weight_decay, const Exec& ex);

}  // namespace logz
