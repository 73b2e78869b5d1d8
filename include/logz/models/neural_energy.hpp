#pragma once
/// @file neural_energy.hpp
/// A one-hidden-layer neural energy on R^d with softplus units (docs/energy-models.md),
/// the kind of deep energy Hyvärinen (2005) and Song et al. (2019) fit by score matching,
/// small enough for an analytic Laplacian:
///   E(x) = Σ_j a_j softplus(w_jᵀx + b_j) + cᵀx + ½ λ ‖x‖²,
/// H hidden units (weights W, H×d, rows w_j; biases b; output weights a of any sign), a
/// linear term c and λ > 0. Every a_j softplus(·) grows at most linearly in ‖x‖, so the
/// quadratic term makes the model normalisable for every θ. With z = W x + b and σ the
/// logistic function (softplus' = σ, σ' = σ(1−σ), σ'' = σ'(1−2σ), σ''' = σ'(1−6σ+6σ²)):
///   ∇ₓE = Wᵀ(a ⊙ σ(z)) + c + λ x,
///   ∇²ₓE = Σ_j a_j σ'(z_j) w_j w_jᵀ + λ I,   ΔₓE = Σ_j a_j σ'(z_j) ‖w_j‖² + λ d.
/// Parameters θ = [W row-major (H·d), b (H), a (H), c (d), log λ].
///
/// Cost per row (z = W x + b recomputed by every call, no heap allocation), in passes over
/// W of H·d multiply-adds, plus one exp per unit: energy_of and laplacian one;
/// energy_and_gradient, hessian_quadratic and add_energy_gradient two;
/// add_laplacian_gradient three; add_score_vjp and add_hessian_quadratic_gradient four.
/// add_score_matching_terms does a block of rows with four matrix products, and
/// the score_matching_objective overload for this model (objectives/score_matching.hpp)
/// sums it over row blocks (50,000 rows of 64-d data with H = 64: about 0.11 s of one
/// core against 0.6 s for the generic per-row objective).
/// Every method is const and safe to call from several threads at once.
#include <cstddef>
#include <cstdint>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"

namespace logz {

class NeuralEnergy {
 public:
  /// Throws Error(Exit::data) naming "NeuralEnergy" and the field when weights is empty,
  /// a vector's size disagrees with weights (hidden_bias and output_weights: H, linear:
  /// d), an entry is not finite or quadratic is not finite and > 0.
  NeuralEnergy(MatrixD weights, VectorD hidden_bias, VectorD output_weights, VectorD linear, double quadratic);

  /// H units with N(0, 1/d) weights drawn row by row from Stream::derive(seed,
  /// Purpose::init, 0), then output weights a_j = 0.1 · N(0, 1) from the same stream;
  /// b = 0, c = 0, λ = 1. Throws Error(Exit::usage) unless d, H >= 1.
  static NeuralEnergy random(std::size_t d, std::size_t H, std::uint64_t seed);

  const MatrixD& weights() const { return weights_; }
  const VectorD& hidden_bias() const { return hidden_bias_; }
  const VectorD& output_weights() const { return output_weights_; }
  const VectorD& linear() const { return linear_; }
  double quadratic() const { return quadratic_; }
  std::size_t dimension() const { return std::size_t(weights_.cols()); }
  std::size_t num_hidden() const { return std::size_t(weights_.rows()); }

  // ---- flat parameters: θ = [W row-major, b, a, c, log λ] ----------------------------
  std::size_t num_parameters() const { return num_hidden() * (dimension() + 2) + dimension() + 1; }
  VectorD parameters() const;
  /// Throws Error(Exit::usage) on a wrong size, a non-finite entry, or a log λ whose exp is
  /// not a finite number > 0.
  void set_parameters(const VectorD& theta);

  // ---- energy and derivatives over x (x of size d; Error(Exit::usage) otherwise) ------
  double energy_of(const Eigen::Ref<const VectorD>& x) const;
  /// E(x), and ∇ₓE(x) into grad.
  double energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const;
  double laplacian(const Eigen::Ref<const VectorD>& x) const;
  /// vᵀ∇²ₓE(x) v = Σ_j a_j σ'(z_j) (w_jᵀv)² + λ‖v‖².
  double hessian_quadratic(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v) const;

  // ---- derivatives over θ: g (size num_parameters()) += s · ∂(...)/∂θ ----------------
  /// ∂E/∂w_j = a_j σ(z_j) x, ∂/∂b_j = a_j σ(z_j), ∂/∂a_j = softplus(z_j), ∂/∂c = x,
  /// ∂/∂log λ = ½ λ ‖x‖².
  void add_energy_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const;
  /// With ρ_j = w_jᵀr: ∂(rᵀ∇ₓE)/∂w_j = a_j [σ'(z_j) ρ_j x + σ(z_j) r], ∂/∂b_j = a_j σ'(z_j) ρ_j,
  /// ∂/∂a_j = σ(z_j) ρ_j, ∂/∂c = r, ∂/∂log λ = λ xᵀr.
  void add_score_vjp(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& r, double s,
                     Eigen::Ref<VectorD> g) const;
  /// ∂ΔₓE/∂w_j = a_j [σ''(z_j) ‖w_j‖² x + 2 σ'(z_j) w_j], ∂/∂b_j = a_j σ''(z_j) ‖w_j‖²,
  /// ∂/∂a_j = σ'(z_j) ‖w_j‖², ∂/∂c = 0, ∂/∂log λ = λ d.
  void add_laplacian_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const;
  /// With q_j = w_jᵀv: ∂(vᵀ∇²ₓE v)/∂w_j = a_j [σ''(z_j) q_j² x + 2 σ'(z_j) q_j v],
  /// ∂/∂b_j = a_j σ''(z_j) q_j², ∂/∂a_j = σ'(z_j) q_j², ∂/∂c = 0, ∂/∂log λ = λ ‖v‖².
  void add_hessian_quadratic_gradient(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v, double s,
                                      Eigen::Ref<VectorD> g) const;

  // ---- batched score matching ---------------------------------------------------------
  /// Σ_n [½‖∇ₓE(x_n)‖² − ΔₓE(x_n)] over the rows x_n of `rows` (N×d), and, when g is not
  /// empty, g (size num_parameters()) += its θ-gradient (matrix products over the block).
  /// Throws Error(Exit::usage) on a wrong number of columns or a g of another non-zero size.
  double add_score_matching_terms(const Eigen::Ref<const MatrixD>& rows, Eigen::Ref<VectorD> g) const;

 private:
  void check_x(const char* who, Eigen::Index n) const;

  MatrixD weights_;  // W, H×d
  VectorD hidden_bias_, output_weights_, linear_;
  double quadratic_;
  VectorD row_norms2_;  // ‖w_j‖²
};

}  // namespace logz
