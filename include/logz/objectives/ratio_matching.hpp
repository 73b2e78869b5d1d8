#pragma once
/// @file ratio_matching.hpp
/// Ratio matching (Hyvärinen 2007, "Some extensions of score matching", Comput. Stat.
/// Data Anal. 51) for binary Ising models, either spin convention, any graph
/// (docs/ising-training.md). With x^(i) the sample x with bit i flipped and
///   Δ_i(x) = log p(x) − log p(x^(i)) = (x_i − x̄_i)·f_i(x),   f_i = h_i + Σ_j J_ij x_j,
/// (x̄_i the flipped value) the objective is
///   J(θ) = (1/N) Σ_n Σ_i g(p(x_n)/p(x_n^(i)))²,   g(u) = 1/(1+u),
///        = (1/N) Σ_n Σ_i σ(−Δ_i(x_n))²   (+ ½ λ_h ‖h‖² + ½ λ_J ‖J‖²),
/// which needs no Z and is consistent (its population minimum is at the true θ).
/// Gradient, with r = dσ(−Δ)²/dΔ = −2 σ(−Δ)² σ(Δ) and d_i = x_i − x̄_i:
///   ∂J/∂h_i = (1/N) Σ_n r_ni d_ni,   ∂J/∂J_ij = (1/N) Σ_n (r_ni d_ni x_nj + r_nj d_nj x_ni).
/// Evaluated over fixed blocks of rows (column-wise over the block's samples), summed in
/// block order: bit-identical for any thread count.
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/ising.hpp"
#include "logz/objectives/ising_ml.hpp"

namespace logz {

/// J(θ) at the model's parameters and, when `gradient` is not null, ∇J (layout of
/// Ising::parameters()). Throws Error(Exit::usage) on data that check_ising_data
/// refuses or a bad penalty.
double ratio_matching_objective(const Ising& model, const MatrixD& data, const IsingL2& l2, VectorD* gradient,
                                const Exec& ex);

/// Minimises J by L-BFGS from the parameters of `init` (graph and convention kept).
/// The trace holds J(θ) per iteration.
IsingFit fit_ratio_matching(const Ising& init, const MatrixD& data, const IsingL2& l2, const LbfgsOptions& options,
                            const Exec& ex);

}  // namespace logz
