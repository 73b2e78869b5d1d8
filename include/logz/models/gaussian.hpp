#pragma once
/// @file gaussian.hpp
/// Multivariate Gaussian as an energy model (docs/continuous.md): mean μ and full
/// precision matrix Λ (symmetric positive definite),
///   E(x) = ½ (x − μ)ᵀ Λ (x − μ),   p(x) ∝ exp(−E(x)),
///   log Z = (d/2) log 2π − ½ log det Λ,
/// with exact draws x = μ + L⁻ᵀ z (Λ = L Lᵀ, z ~ N(0, I)). It is both a target with a
/// closed-form log Z (to test estimators against) and the usual base distribution of
/// annealing and importance sampling (DifferentiableEnergy and ExactlySampleable).
#include <Eigen/Cholesky>

#include <cstddef>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"

namespace logz {

class Gaussian {
 public:
  /// N(mean, precision⁻¹). The precision must be square with the mean's size (>= 1),
  /// finite, symmetric up to 1e-10 of its largest entry (it is then symmetrised) and
  /// positive definite (checked by Cholesky). Throws Error(Exit::data) naming the
  /// problem, e.g. "Gaussian: precision matrix is not positive definite (the model is
  /// not normalisable)".
  Gaussian(VectorD mean, MatrixD precision);

  /// N(0, σ² I) in d dimensions. Throws Error(Exit::usage) unless d >= 1 and σ is finite
  /// and > 0.
  static Gaussian isotropic(std::size_t d, double sigma);

  /// The Gaussian with the sample mean and the sample covariance (divisor n − 1) of the
  /// rows of `data` (one sample per row). Throws Error(Exit::data) on an empty or
  /// non-finite matrix, fewer than 2 rows, a constant column, fewer rows than
  /// dimension + 1, or a singular covariance (reciprocal condition number of the
  /// correlation matrix below 1e-12: a column is, up to rounding, a linear combination
  /// of the others).
  static Gaussian fit(const MatrixD& data);

  std::size_t dimension() const { return std::size_t(mean_.size()); }
  const VectorD& mean() const { return mean_; }
  const MatrixD& precision() const { return precision_; }
  /// Σ = Λ⁻¹ (computed from the Cholesky factor on each call).
  MatrixD covariance() const;

  /// E(x) = ½ (x − μ)ᵀ Λ (x − μ). Throws Error(Exit::usage) if x has the wrong size.
  double energy(const Eigen::Ref<const VectorD>& x) const;
  /// Same as energy (the EnergyModel concept).
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy(x); }
  /// E(x), and ∇E(x) = Λ (x − μ) written to `grad`. Throws Error(Exit::usage) on a size
  /// mismatch of x or grad.
  double energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const;
  /// ΔE(x) = tr Λ (constant). Throws Error(Exit::usage) if x has the wrong size.
  double laplacian(const Eigen::Ref<const VectorD>& x) const;
  /// log Z = log ∫ exp(−E(x)) dx = (d/2) log 2π − ½ log det Λ.
  double log_partition() const { return log_partition_; }
  /// log p(x) = −E(x) − log Z.
  double log_density(const Eigen::Ref<const VectorD>& x) const { return -energy(x) - log_partition_; }

  /// An exact draw into x (size d): d standard normals from `rng`, in order. Throws
  /// Error(Exit::usage) if x has the wrong size.
  void sample(Stream& rng, Eigen::Ref<VectorD> x) const;

 private:
  void check_size(const char* who, Eigen::Index n) const;

  VectorD mean_;
  MatrixD precision_;
  Eigen::LLT<Eigen::MatrixXd> llt_;  // Λ = L Lᵀ
  double log_partition_ = 0;
  double trace_ = 0;
};

}  // namespace logz
