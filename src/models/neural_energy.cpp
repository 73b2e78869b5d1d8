// One-hidden-layer softplus energy: validation, parameters, energy and derivatives per row
// and over a block of rows.
#include "logz/models/neural_energy.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"

namespace logz {

namespace {

/// σ(z) and its derivatives from one exp(−|z|): σ(z) and σ(−z) are 1/(1 + e) and e/(1 + e)
/// in some order, so 1 − σ never cancels and nothing overflows.
struct Unit {
  double s, d1, d2, d3;  // σ, σ', σ'', σ'''
  explicit Unit(double z) {
    const double e = std::exp(-std::abs(z)), big = 1 / (1 + e), small = e * big;
    s = z >= 0 ? big : small;
    const double m = z >= 0 ? small : big;  // σ(−z)
    d1 = s * m;
    d2 = d1 * (m - s);
    d3 = d1 * (1 - 6 * d1);
  }
};

/// softplus(z) and σ(z) from one exp(−|z|).
inline void softplus_sigmoid(double z, double& sp, double& sig) {
  const double e = std::exp(-std::abs(z)), inv = 1 / (1 + e);
  sp = std::max(z, 0.0) + std::log1p(e);
  sig = z >= 0 ? inv : e * inv;
}

void check_finite(const char* field, const VectorD& v) {
  for (Eigen::Index i = 0; i < v.size(); ++i)
    check_data(std::isfinite(v[i]), "NeuralEnergy: {}[{}] is not finite ({})", field, i, v[i]);
}

void check_g(const char* who, Eigen::Index n, std::size_t p) {
  check_arg(n == Eigen::Index(p), "{}: g has {} entries but the model has {} parameters", who, n, p);
}

}  // namespace

NeuralEnergy::NeuralEnergy(MatrixD weights, VectorD hidden_bias, VectorD output_weights, VectorD linear, double quadratic)
    : weights_(std::move(weights)),
      hidden_bias_(std::move(hidden_bias)),
      output_weights_(std::move(output_weights)),
      linear_(std::move(linear)),
      quadratic_(quadratic) {
  const Eigen::Index H = weights_.rows(), d = weights_.cols();
  check_data(H >= 1 && d >= 1, "NeuralEnergy: weights is {}x{} (need at least one hidden unit and one dimension)", H, d);
  check_data(hidden_bias_.size() == H, "NeuralEnergy: hidden_bias has {} entries but weights has {} rows (one per unit)",
             hidden_bias_.size(), H);
  check_data(output_weights_.size() == H,
             "NeuralEnergy: output_weights has {} entries but weights has {} rows (one per unit)", output_weights_.size(), H);
  check_data(linear_.size() == d, "NeuralEnergy: linear has {} entries but weights has {} columns (the dimension)",
             linear_.size(), d);
  for (Eigen::Index j = 0; j < H; ++j)
    for (Eigen::Index i = 0; i < d; ++i)
      check_data(std::isfinite(weights_(j, i)), "NeuralEnergy: weights({}, {}) is not finite ({})", j, i, weights_(j, i));
  check_finite("hidden_bias", hidden_bias_);
  check_finite("output_weights", output_weights_);
  check_finite("linear", linear_);
  check_data(std::isfinite(quadratic_) && quadratic_ > 0, "NeuralEnergy: quadratic must be finite and > 0 (got {})",
             quadratic_);
  row_norms2_ = weights_.rowwise().squaredNorm();
}

NeuralEnergy NeuralEnergy::random(std::size_t d, std::size_t H, std::uint64_t seed) {
  check_arg(d >= 1 && H >= 1, "NeuralEnergy::random: d and H must be >= 1 (got d = {}, H = {})", d, H);
  Stream rng = Stream::derive(seed, Purpose::init, 0);
  MatrixD w{Eigen::Index(H), Eigen::Index(d)};
  const double scale = 1 / std::sqrt(double(d));
  for (Eigen::Index j = 0; j < w.rows(); ++j)
    for (Eigen::Index i = 0; i < w.cols(); ++i) w(j, i) = scale * rng.normal();
  VectorD a{Eigen::Index(H)};
  for (Eigen::Index j = 0; j < a.size(); ++j) a[j] = 0.1 * rng.normal();
  return NeuralEnergy(std::move(w), VectorD::Zero(Eigen::Index(H)), std::move(a), VectorD::Zero(Eigen::Index(d)), 1.0);
}

VectorD NeuralEnergy::parameters() const {
  const Eigen::Index H = weights_.rows(), d = weights_.cols(), hd = weights_.size();
  VectorD theta{Eigen::Index(num_parameters())};
  theta.head(hd) = Eigen::Map<const VectorD>(weights_.data(), hd);
  theta.segment(hd, H) = hidden_bias_;
  theta.segment(hd + H, H) = output_weights_;
  theta.segment(hd + 2 * H, d) = linear_;
  theta[hd + 2 * H + d] = std::log(quadratic_);
  return theta;
}

void NeuralEnergy::set_parameters(const VectorD& theta) {
  const Eigen::Index H = weights_.rows(), d = weights_.cols(), hd = weights_.size();
  check_arg(theta.size() == Eigen::Index(num_parameters()),
            "NeuralEnergy::set_parameters: theta has {} entries but the model has {} parameters", theta.size(),
            num_parameters());
  for (Eigen::Index i = 0; i < theta.size(); ++i)
    check_arg(std::isfinite(theta[i]), "NeuralEnergy::set_parameters: theta[{}] is not finite ({})", i, theta[i]);
  const Eigen::Index last = hd + 2 * H + d;
  const double lambda = std::exp(theta[last]);
  check_arg(std::isfinite(lambda) && lambda > 0,
            "NeuralEnergy::set_parameters: theta[{}] = log quadratic = {} is out of range (quadratic = {})", last,
            theta[last], lambda);
  Eigen::Map<VectorD>(weights_.data(), hd) = theta.head(hd);
  hidden_bias_ = theta.segment(hd, H);
  output_weights_ = theta.segment(hd + H, H);
  linear_ = theta.segment(hd + 2 * H, d);
  quadratic_ = lambda;
  row_norms2_ = weights_.rowwise().squaredNorm();
}

void NeuralEnergy::check_x(const char* who, Eigen::Index n) const {
  check_arg(n == weights_.cols(), "{}: x has {} entries but the model has dimension {}", who, n, weights_.cols());
}

double NeuralEnergy::energy_of(const Eigen::Ref<const VectorD>& x) const {
  check_x("NeuralEnergy::energy_of", x.size());
  double e = linear_.dot(x) + 0.5 * quadratic_ * x.squaredNorm();
  for (Eigen::Index j = 0; j < weights_.rows(); ++j)
    e += output_weights_[j] * softplus(weights_.row(j).dot(x) + hidden_bias_[j]);
  return e;
}

double NeuralEnergy::energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
  check_x("NeuralEnergy::energy_and_gradient", x.size());
  check_arg(grad.size() == x.size(), "NeuralEnergy::energy_and_gradient: grad has {} entries but the model has dimension {}",
            grad.size(), x.size());
  double e = linear_.dot(x) + 0.5 * quadratic_ * x.squaredNorm();
  grad = linear_ + quadratic_ * x;
  for (Eigen::Index j = 0; j < weights_.rows(); ++j) {
    double sp, sig;
    softplus_sigmoid(weights_.row(j).dot(x) + hidden_bias_[j], sp, sig);
    e += output_weights_[j] * sp;
    grad += (output_weights_[j] * sig) * weights_.row(j).transpose();
  }
  return e;
}

double NeuralEnergy::laplacian(const Eigen::Ref<const VectorD>& x) const {
  check_x("NeuralEnergy::laplacian", x.size());
  double out = quadratic_ * double(weights_.cols());
  for (Eigen::Index j = 0; j < weights_.rows(); ++j)
    out += output_weights_[j] * Unit(weights_.row(j).dot(x) + hidden_bias_[j]).d1 * row_norms2_[j];
  return out;
}

double NeuralEnergy::hessian_quadratic(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v) const {
  check_x("NeuralEnergy::hessian_quadratic", x.size());
  check_x("NeuralEnergy::hessian_quadratic (v)", v.size());
  double out = quadratic_ * v.squaredNorm();
  for (Eigen::Index j = 0; j < weights_.rows(); ++j) {
    const double q = weights_.row(j).dot(v);
    out += output_weights_[j] * Unit(weights_.row(j).dot(x) + hidden_bias_[j]).d1 * q * q;
  }
  return out;
}

void NeuralEnergy::add_energy_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const {
  check_x("NeuralEnergy::add_energy_gradient", x.size());
  check_g("NeuralEnergy::add_energy_gradient", g.size(), num_parameters());
  const Eigen::Index H = weights_.rows(), d = weights_.cols(), hd = weights_.size();
  for (Eigen::Index j = 0; j < H; ++j) {
    double sp, sig;
    softplus_sigmoid(weights_.row(j).dot(x) + hidden_bias_[j], sp, sig);
    const double t = s * output_weights_[j] * sig;
    g.segment(j * d, d) += t * x;
    g[hd + j] += t;
    g[hd + H + j] += s * sp;
  }
  g.segment(hd + 2 * H, d) += s * x;
  g[hd + 2 * H + d] += s * 0.5 * quadratic_ * x.squaredNorm();
}

void NeuralEnergy::add_score_vjp(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& r, double s,
                                 Eigen::Ref<VectorD> g) const {
  check_x("NeuralEnergy::add_score_vjp", x.size());
  check_x("NeuralEnergy::add_score_vjp (r)", r.size());
  check_g("NeuralEnergy::add_score_vjp", g.size(), num_parameters());
  const Eigen::Index H = weights_.rows(), d = weights_.cols(), hd = weights_.size();
  for (Eigen::Index j = 0; j < H; ++j) {
    const Unit f(weights_.row(j).dot(x) + hidden_bias_[j]);
    const double rho = weights_.row(j).dot(r), sa = s * output_weights_[j];
    g.segment(j * d, d) += (sa * f.d1 * rho) * x + (sa * f.s) * r;
    g[hd + j] += sa * f.d1 * rho;
    g[hd + H + j] += s * f.s * rho;
  }
  g.segment(hd + 2 * H, d) += s * r;
  g[hd + 2 * H + d] += s * quadratic_ * x.dot(r);
}

void NeuralEnergy::add_laplacian_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const {
  check_x("NeuralEnergy::add_laplacian_gradient", x.size());
  check_g("NeuralEnergy::add_laplacian_gradient", g.size(), num_parameters());
  const Eigen::Index H = weights_.rows(), d = weights_.cols(), hd = weights_.size();
  for (Eigen::Index j = 0; j < H; ++j) {
    const Unit f(weights_.row(j).dot(x) + hidden_bias_[j]);
    const double sa = s * output_weights_[j], n2 = row_norms2_[j];
    g.segment(j * d, d) += (sa * f.d2 * n2) * x + (2 * sa * f.d1) * weights_.row(j).transpose();
    g[hd + j] += sa * f.d2 * n2;
    g[hd + H + j] += s * f.d1 * n2;
  }
  g[hd + 2 * H + d] += s * quadratic_ * double(d);
}

void NeuralEnergy::add_hessian_quadratic_gradient(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v,
                                                  double s, Eigen::Ref<VectorD> g) const {
  check_x("NeuralEnergy::add_hessian_quadratic_gradient", x.size());
  check_x("NeuralEnergy::add_hessian_quadratic_gradient (v)", v.size());
  check_g("NeuralEnergy::add_hessian_quadratic_gradient", g.size(), num_parameters());
  const Eigen::Index H = weights_.rows(), d = weights_.cols(), hd = weights_.size();
  for (Eigen::Index j = 0; j < H; ++j) {
    const Unit f(weights_.row(j).dot(x) + hidden_bias_[j]);
    const double q = weights_.row(j).dot(v), sa = s * output_weights_[j];
    g.segment(j * d, d) += (sa * f.d2 * q * q) * x + (2 * sa * f.d1 * q) * v;
    g[hd + j] += sa * f.d2 * q * q;
    g[hd + H + j] += s * f.d1 * q * q;
  }
  g[hd + 2 * H + d] += s * quadratic_ * v.squaredNorm();
}

double NeuralEnergy::add_score_matching_terms(const Eigen::Ref<const MatrixD>& rows, Eigen::Ref<VectorD> g) const {
  check_arg(rows.cols() == weights_.cols(),
            "NeuralEnergy::add_score_matching_terms: rows has {} columns but the model has dimension {}", rows.cols(),
            weights_.cols());
  const bool want = g.size() != 0;
  if (want) check_g("NeuralEnergy::add_score_matching_terms", g.size(), num_parameters());
  const Eigen::Index n = rows.rows(), H = weights_.rows(), d = weights_.cols(), hd = weights_.size();
  if (n == 0) return 0;
  // Z = X Wᵀ + b; D = a ⊙ σ(Z); S = D W + c + λX (the scores, one per row).
  MatrixD z(n, H);
  z.noalias() = rows * weights_.transpose();
  MatrixD sig(n, H), dmat(n, H), d1(n, H);
  VectorD h = VectorD::Zero(H);  // Σ_n a_j σ'(z_nj)
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < H; ++j) {
      const Unit f(z(i, j) + hidden_bias_[j]);
      sig(i, j) = f.s;
      dmat(i, j) = output_weights_[j] * f.s;
      d1(i, j) = f.d1;
      z(i, j) = f.d2;  // σ'' in Z's place
      h[j] += output_weights_[j] * f.d1;
    }
  MatrixD score(n, d);
  score.noalias() = dmat * weights_;
  score.rowwise() += linear_.transpose();
  score += quadratic_ * rows;
  const double lap = h.dot(row_norms2_) + double(n) * quadratic_ * double(d);
  const double value = 0.5 * score.squaredNorm() - lap;
  if (!want) return value;
  // ρ = S Wᵀ; C = a ⊙ (σ' ⊙ ρ − σ'' ‖w‖²); ∂/∂W = Cᵀ X + Dᵀ S − 2 diag(h) W; ∂/∂b = Σ_n C;
  // ∂/∂a_j = Σ_n [σ(z_nj) ρ_nj − σ'(z_nj) ‖w_j‖²]; ∂/∂c = Σ_n s_n; ∂/∂log λ = λ Σ_n (x_nᵀs_n − d).
  MatrixD rho(n, H);
  rho.noalias() = score * weights_.transpose();
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < H; ++j) {
      const double a = output_weights_[j], r = rho(i, j), n2 = row_norms2_[j];
      g[hd + H + j] += sig(i, j) * r - d1(i, j) * n2;
      const double c = a * (d1(i, j) * r - z(i, j) * n2);
      g[hd + j] += c;
      z(i, j) = c;  // C, in Z's place
    }
  Eigen::Map<MatrixD> gw(g.data(), H, d);
  gw.noalias() += z.transpose() * rows;
  gw.noalias() += dmat.transpose() * score;
  gw -= 2 * (h.asDiagonal() * weights_);
  g.segment(hd + 2 * H, d) += score.colwise().sum().transpose();
  g[hd + 2 * H + d] += quadratic_ * ((rows.array() * score.array()).sum() - double(n) * double(d));
  return value;
}

}  // namespace logz
