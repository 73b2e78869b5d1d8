#pragma once
/// @file gaussian_energy.hpp
/// The Gaussian energy in natural parameters (precision Λ, linear term b), with the flat
/// parameter view and every derivative over θ that the objectives of
/// objectives/score_matching.hpp and nce.hpp need: the reference parametric energy
/// (FlatParameters, ParametricEnergy, ScoreMatchable, SliceScoreMatchable of
/// core/concepts.hpp), whose fits have closed forms to test against
/// (docs/score-matching.md).
#include <cstddef>

#include "logz/core/types.hpp"
#include "logz/models/gaussian.hpp"

namespace logz {

/// E(x) = ½ xᵀΛx − bᵀx with Λ symmetric (b = Λμ for N(μ, Λ⁻¹)); it differs from
/// Gaussian's ½(x − μ)ᵀΛ(x − μ) by the constant ½ μᵀΛμ, which log_partition() includes.
/// Every objective of objectives/score_matching.hpp is a convex quadratic in these
/// parameters.
/// θ = [b_0 .. b_{d−1}, Λ_00, Λ_01, .., Λ_0,d−1, Λ_11, .., Λ_d−1,d−1] (the upper triangle
/// row by row; Λ_ij = Λ_ji is one parameter). Λ need not be positive definite (a fit may
/// leave the normalisable set); to_gaussian() and log_partition() then throw.
class GaussianEnergy {
 public:
  /// Throws Error(Exit::usage) unless precision is d×d (d >= 1), linear has d entries,
  /// all are finite and precision is symmetric up to 1e-10 of its largest entry (it is
  /// then symmetrised).
  GaussianEnergy(MatrixD precision, VectorD linear);
  /// Λ = I, b = 0 in d dimensions (d >= 1).
  static GaussianEnergy standard(std::size_t d);
  /// Λ = g.precision(), b = Λμ.
  static GaussianEnergy from_gaussian(const Gaussian& g);
  /// N(Λ⁻¹b, Λ⁻¹). Throws Error(Exit::data) "GaussianEnergy: the precision matrix is not
  /// positive definite (the model is not normalisable)" when Λ is not.
  Gaussian to_gaussian() const;

  std::size_t dimension() const { return std::size_t(linear_.size()); }
  const MatrixD& precision() const { return precision_; }
  const VectorD& linear() const { return linear_; }
  /// log ∫ exp(−E) = (d/2) log 2π − ½ log det Λ + ½ bᵀΛ⁻¹b. Throws as to_gaussian().
  double log_partition() const;

  std::size_t num_parameters() const { return dimension() + dimension() * (dimension() + 1) / 2; }
  VectorD parameters() const;
  /// Throws Error(Exit::usage) on a wrong size or a non-finite entry.
  void set_parameters(const VectorD& theta);

  double energy_of(const Eigen::Ref<const VectorD>& x) const;
  /// E(x), and ∇ₓE(x) = Λx − b into grad.
  double energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const;
  /// ΔₓE = tr Λ.
  double laplacian(const Eigen::Ref<const VectorD>& x) const;
  /// vᵀ∇²ₓE v = vᵀΛv.
  double hessian_quadratic(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v) const;

  /// g += s ∂E/∂θ: −x for b, ½x_i² for Λ_ii, x_i x_j for Λ_ij (i < j).
  void add_energy_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const;
  /// g += s ∂(rᵀ(Λx − b))/∂θ: −r for b, r_i x_i for Λ_ii, r_i x_j + r_j x_i for Λ_ij.
  void add_score_vjp(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& r, double s,
                     Eigen::Ref<VectorD> g) const;
  /// g += s ∂(tr Λ)/∂θ: 1 for each Λ_ii.
  void add_laplacian_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const;
  /// g += s ∂(vᵀΛv)/∂θ: v_i² for Λ_ii, 2 v_i v_j for Λ_ij.
  void add_hessian_quadratic_gradient(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v, double s,
                                      Eigen::Ref<VectorD> g) const;

 private:
  MatrixD precision_;
  VectorD linear_;
};

}  // namespace logz
