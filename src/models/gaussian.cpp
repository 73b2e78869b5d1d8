// Gaussian energy model: validation, Cholesky factor, energies, exact draws and the fit
// to data.
#include "logz/models/gaussian.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

#include "logz/core/check.hpp"

namespace logz {

Gaussian::Gaussian(VectorD mean, MatrixD precision) : mean_(std::move(mean)), precision_(std::move(precision)) {
  const Eigen::Index d = mean_.size();
  check_data(d >= 1, "Gaussian: the model needs dimension >= 1, got a mean of size 0");
  check_data(precision_.rows() == d && precision_.cols() == d,
             "Gaussian: the precision matrix is {}x{} but the mean has {} entries", precision_.rows(),
             precision_.cols(), d);
  for (Eigen::Index i = 0; i < d; ++i) check_data(std::isfinite(mean_[i]), "Gaussian: mean[{}] is not finite ({})", i, mean_[i]);
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = 0; j < d; ++j)
      check_data(std::isfinite(precision_(i, j)), "Gaussian: precision({}, {}) is not finite ({})", i, j,
                 precision_(i, j));
  // Symmetric up to rounding (a precision computed as an inverse is rarely exactly so),
  // then symmetrised so that Cholesky, energy and gradient all see the same matrix.
  const double tol = 1e-10 * precision_.cwiseAbs().maxCoeff();
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = i + 1; j < d; ++j)
      check_data(std::abs(precision_(i, j) - precision_(j, i)) <= tol,
                 "Gaussian: precision matrix is not symmetric: precision({}, {}) = {} but precision({}, {}) = {}", i, j,
                 precision_(i, j), j, i, precision_(j, i));
  const MatrixD sym = 0.5 * (precision_ + precision_.transpose());
  precision_ = sym;
  llt_.compute(Eigen::MatrixXd(precision_));
  const auto& l = llt_.matrixLLT();
  bool ok = llt_.info() == Eigen::Success;
  for (Eigen::Index i = 0; ok && i < d; ++i) ok = std::isfinite(l(i, i)) && l(i, i) > 0;
  check_data(ok, "Gaussian: precision matrix is not positive definite (the model is not normalisable)");
  double log_det_half = 0;  // ½ log det Λ = Σ log L_ii
  for (Eigen::Index i = 0; i < d; ++i) log_det_half += std::log(l(i, i));
  log_partition_ = 0.5 * double(d) * std::log(2 * std::numbers::pi) - log_det_half;
  trace_ = precision_.trace();
}

Gaussian Gaussian::isotropic(std::size_t d, double sigma) {
  check_arg(d >= 1, "Gaussian::isotropic: dimension must be >= 1 (got {})", d);
  check_arg(std::isfinite(sigma) && sigma > 0, "Gaussian::isotropic: sigma must be finite and > 0 (got {})", sigma);
  const Eigen::Index n = Eigen::Index(d);
  MatrixD precision = MatrixD::Identity(n, n) / (sigma * sigma);
  return Gaussian(VectorD::Zero(n), std::move(precision));
}

Gaussian Gaussian::fit(const MatrixD& data) {
  const Eigen::Index n = data.rows(), d = data.cols();
  check_data(d >= 1, "Gaussian::fit: data has no columns");
  check_data(n >= 2, "Gaussian::fit: needs at least 2 samples (rows), got {}", n);
  for (Eigen::Index r = 0; r < n; ++r)
    for (Eigen::Index c = 0; c < d; ++c)
      check_data(std::isfinite(data(r, c)), "Gaussian::fit: data({}, {}) is not finite ({})", r, c, data(r, c));
  // A constant column is tested on the values themselves: its computed variance need not
  // be exactly 0 (the mean of n copies of v can differ from v in the last bit).
  for (Eigen::Index c = 0; c < d; ++c)
    check_data((data.col(c).array() != data(0, c)).any(),
               "Gaussian::fit: column {} has zero variance (every sample is {})", c, data(0, c));
  check_data(n >= d + 1, "Gaussian::fit: {} samples cannot determine a {}-dimensional covariance (need at least {})", n,
             d, d + 1);
  const VectorD mean = data.colwise().mean().transpose();
  const MatrixD centred = data.rowwise() - mean.transpose();
  Eigen::MatrixXd cov = centred.transpose() * centred / double(n - 1);
  // Singularity on the correlation matrix, so that the test does not depend on units.
  const Eigen::VectorXd inv_sd = cov.diagonal().cwiseSqrt().cwiseInverse();
  const Eigen::MatrixXd corr = inv_sd.asDiagonal() * cov * inv_sd.asDiagonal();
  const Eigen::LLT<Eigen::MatrixXd> corr_llt(corr);
  check_data(corr_llt.info() == Eigen::Success && corr_llt.rcond() >= 1e-12,
             "Gaussian::fit: the sample covariance is singular (some columns are linearly dependent)");
  const Eigen::MatrixXd corr_inv = corr_llt.solve(Eigen::MatrixXd::Identity(d, d));
  MatrixD precision = inv_sd.asDiagonal() * corr_inv * inv_sd.asDiagonal();
  precision = 0.5 * (precision + precision.transpose()).eval();
  return Gaussian(mean, std::move(precision));
}

MatrixD Gaussian::covariance() const {
  const Eigen::Index d = mean_.size();
  MatrixD cov = llt_.solve(Eigen::MatrixXd::Identity(d, d));
  return 0.5 * (cov + cov.transpose());
}

void Gaussian::check_size(const char* who, Eigen::Index n) const {
  check_arg(n == mean_.size(), "{}: x has {} entries but the model has dimension {}", who, n, mean_.size());
}

double Gaussian::energy(const Eigen::Ref<const VectorD>& x) const {
  check_size("Gaussian::energy", x.size());
  const VectorD r = x - mean_;
  return 0.5 * r.dot(precision_ * r);
}

double Gaussian::energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
  check_size("Gaussian::energy_and_gradient", x.size());
  check_arg(grad.size() == mean_.size(), "Gaussian::energy_and_gradient: grad has {} entries but the model has dimension {}",
            grad.size(), mean_.size());
  const VectorD r = x - mean_;
  grad.noalias() = precision_ * r;
  return 0.5 * r.dot(grad);
}

double Gaussian::laplacian(const Eigen::Ref<const VectorD>& x) const {
  check_size("Gaussian::laplacian", x.size());
  return trace_;
}

void Gaussian::sample(Stream& rng, Eigen::Ref<VectorD> x) const {
  check_size("Gaussian::sample", x.size());
  Eigen::VectorXd z(mean_.size());
  for (Eigen::Index i = 0; i < z.size(); ++i) z[i] = rng.normal();
  // Cov(L⁻ᵀ z) = L⁻ᵀ L⁻¹ = (L Lᵀ)⁻¹ = Λ⁻¹.
  llt_.matrixU().solveInPlace(z);
  x = mean_ + z;
}

}  // namespace logz
