// The Gaussian energy in natural parameters: validation, the closed-form normaliser and
// the derivatives over θ (models/gaussian_energy.hpp).
#include "logz/models/gaussian_energy.hpp"

#include <Eigen/Cholesky>

#include <cmath>
#include <numbers>
#include <utility>

#include "logz/core/check.hpp"

namespace logz {

GaussianEnergy::GaussianEnergy(MatrixD precision, VectorD linear)
    : precision_(std::move(precision)), linear_(std::move(linear)) {
  const Eigen::Index d = linear_.size();
  check_arg(d >= 1, "GaussianEnergy: the model needs dimension >= 1, got a linear term of size 0");
  check_arg(precision_.rows() == d && precision_.cols() == d,
            "GaussianEnergy: the precision matrix is {}x{} but the linear term has {} entries", precision_.rows(),
            precision_.cols(), d);
  for (Eigen::Index i = 0; i < d; ++i)
    check_arg(std::isfinite(linear_[i]), "GaussianEnergy: linear[{}] is not finite ({})", i, linear_[i]);
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = 0; j < d; ++j)
      check_arg(std::isfinite(precision_(i, j)), "GaussianEnergy: precision({}, {}) is not finite ({})", i, j,
                precision_(i, j));
  const double tol = 1e-10 * precision_.cwiseAbs().maxCoeff();
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = i + 1; j < d; ++j)
      check_arg(std::abs(precision_(i, j) - precision_(j, i)) <= tol,
                "GaussianEnergy: precision matrix is not symmetric: precision({}, {}) = {} but precision({}, {}) = {}", i,
                j, precision_(i, j), j, i, precision_(j, i));
  const MatrixD sym = 0.5 * (precision_ + precision_.transpose());
  precision_ = sym;
}

GaussianEnergy GaussianEnergy::standard(std::size_t d) {
  check_arg(d >= 1, "GaussianEnergy::standard: dimension must be >= 1 (got 0)");
  const auto n = Eigen::Index(d);
  return GaussianEnergy(MatrixD::Identity(n, n), VectorD::Zero(n));
}

GaussianEnergy GaussianEnergy::from_gaussian(const Gaussian& g) {
  return GaussianEnergy(g.precision(), g.precision() * g.mean());
}

namespace {

/// The Cholesky factor of Λ, or the error of a model that is not normalisable.
Eigen::LLT<Eigen::MatrixXd> checked_llt(const MatrixD& precision) {
  Eigen::LLT<Eigen::MatrixXd> llt(precision);
  bool ok = llt.info() == Eigen::Success;
  for (Eigen::Index i = 0; ok && i < precision.rows(); ++i) ok = std::isfinite(llt.matrixLLT()(i, i)) && llt.matrixLLT()(i, i) > 0;
  check_data(ok, "GaussianEnergy: the precision matrix is not positive definite (the model is not normalisable)");
  return llt;
}

}  // namespace

Gaussian GaussianEnergy::to_gaussian() const {
  const auto llt = checked_llt(precision_);
  return Gaussian(llt.solve(Eigen::VectorXd(linear_)), precision_);
}

double GaussianEnergy::log_partition() const {
  const auto llt = checked_llt(precision_);
  const Eigen::Index d = linear_.size();
  double log_det_half = 0;
  for (Eigen::Index i = 0; i < d; ++i) log_det_half += std::log(llt.matrixLLT()(i, i));
  const Eigen::VectorXd mu = llt.solve(Eigen::VectorXd(linear_));
  return 0.5 * double(d) * std::log(2 * std::numbers::pi) - log_det_half + 0.5 * linear_.dot(mu);
}

VectorD GaussianEnergy::parameters() const {
  const Eigen::Index d = linear_.size();
  VectorD theta = VectorD::Zero(Eigen::Index(num_parameters()));
  theta.head(d) = linear_;
  Eigen::Index k = d;
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = i; j < d; ++j) theta[k++] = precision_(i, j);
  return theta;
}

void GaussianEnergy::set_parameters(const VectorD& theta) {
  const Eigen::Index d = linear_.size();
  check_arg(theta.size() == Eigen::Index(num_parameters()),
            "GaussianEnergy::set_parameters: theta has {} entries but the model has {} parameters", theta.size(),
            num_parameters());
  for (Eigen::Index i = 0; i < theta.size(); ++i)
    check_arg(std::isfinite(theta[i]), "GaussianEnergy::set_parameters: theta[{}] is not finite ({})", i, theta[i]);
  linear_ = theta.head(d);
  Eigen::Index k = d;
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = i; j < d; ++j) precision_(i, j) = precision_(j, i) = theta[k++];
}

double GaussianEnergy::energy_of(const Eigen::Ref<const VectorD>& x) const {
  check_arg(x.size() == linear_.size(), "GaussianEnergy::energy_of: x has {} entries but the model has dimension {}",
            x.size(), linear_.size());
  return 0.5 * x.dot(precision_ * x) - linear_.dot(x);
}

double GaussianEnergy::energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
  check_arg(x.size() == linear_.size() && grad.size() == linear_.size(),
            "GaussianEnergy::energy_and_gradient: x has {} and grad {} entries but the model has dimension {}", x.size(),
            grad.size(), linear_.size());
  grad.noalias() = precision_ * x;
  const double e = 0.5 * x.dot(grad) - linear_.dot(x);
  grad -= linear_;
  return e;
}

double GaussianEnergy::laplacian(const Eigen::Ref<const VectorD>&) const { return precision_.trace(); }

double GaussianEnergy::hessian_quadratic(const Eigen::Ref<const VectorD>&, const Eigen::Ref<const VectorD>& v) const {
  return v.dot(precision_ * v);
}

void GaussianEnergy::add_energy_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const {
  const Eigen::Index d = linear_.size();
  g.head(d) -= s * x;
  Eigen::Index k = d;
  for (Eigen::Index i = 0; i < d; ++i) {
    g[k++] += 0.5 * s * x[i] * x[i];
    for (Eigen::Index j = i + 1; j < d; ++j) g[k++] += s * x[i] * x[j];
  }
}

void GaussianEnergy::add_score_vjp(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& r, double s,
                                   Eigen::Ref<VectorD> g) const {
  const Eigen::Index d = linear_.size();
  g.head(d) -= s * r;
  Eigen::Index k = d;
  for (Eigen::Index i = 0; i < d; ++i) {
    g[k++] += s * r[i] * x[i];
    for (Eigen::Index j = i + 1; j < d; ++j) g[k++] += s * (r[i] * x[j] + r[j] * x[i]);
  }
}

void GaussianEnergy::add_laplacian_gradient(const Eigen::Ref<const VectorD>&, double s, Eigen::Ref<VectorD> g) const {
  const Eigen::Index d = linear_.size();
  Eigen::Index k = d;
  for (Eigen::Index i = 0; i < d; ++i) {
    g[k] += s;
    k += d - i;  // the diagonal entry of row i, then its d − i − 1 off-diagonal ones
  }
}

void GaussianEnergy::add_hessian_quadratic_gradient(const Eigen::Ref<const VectorD>&, const Eigen::Ref<const VectorD>& v,
                                                    double s, Eigen::Ref<VectorD> g) const {
  const Eigen::Index d = linear_.size();
  Eigen::Index k = d;
  for (Eigen::Index i = 0; i < d; ++i) {
    g[k++] += s * v[i] * v[i];
    for (Eigen::Index j = i + 1; j < d; ++j) g[k++] += 2 * s * v[i] * v[j];
  }
}

}  // namespace logz
