// Product of Student-t experts: validation, parameters, energy and derivatives per row and
// over a block of rows, the closed-form log Z and exact draws.
#include "logz/models/student_t_experts.hpp"

#include <Eigen/LU>
#include <Eigen/QR>

#include <cmath>
#include <numbers>
#include <utility>

#include "logz/core/check.hpp"

namespace logz {

namespace {

// φ(u) = log(1 + ½u²) and its first three derivatives.
inline double phi(double u) { return std::log1p(0.5 * u * u); }
inline double phi1(double u) { return 2 * u / (2 + u * u); }
inline double phi2(double u) {
  const double q = 2 + u * u;
  return 2 * (2 - u * u) / (q * q);
}
inline double phi3(double u) {
  const double q = 2 + u * u;
  return 4 * u * (u * u - 6) / (q * q * q);
}

}  // namespace

StudentTExperts::StudentTExperts(MatrixD filters, VectorD alpha, double quadratic)
    : filters_(std::move(filters)), alpha_(std::move(alpha)), quadratic_(quadratic) {
  check_data(filters_.rows() >= 1 && filters_.cols() >= 1,
             "StudentTExperts: filters is {}x{} (need at least one expert and one dimension)", filters_.rows(),
             filters_.cols());
  check_data(alpha_.size() == filters_.rows(), "StudentTExperts: alpha has {} entries but filters has {} rows (one per expert)",
             alpha_.size(), filters_.rows());
  for (Eigen::Index k = 0; k < filters_.rows(); ++k)
    for (Eigen::Index i = 0; i < filters_.cols(); ++i)
      check_data(std::isfinite(filters_(k, i)), "StudentTExperts: filters({}, {}) is not finite ({})", k, i,
                 filters_(k, i));
  for (Eigen::Index k = 0; k < alpha_.size(); ++k)
    check_data(std::isfinite(alpha_[k]) && alpha_[k] > 0, "StudentTExperts: alpha[{}] must be finite and > 0 (got {})",
               k, alpha_[k]);
  check_data(std::isfinite(quadratic_) && quadratic_ >= 0,
             "StudentTExperts: quadratic must be finite and >= 0 (got {})", quadratic_);
  refresh();
}

StudentTExperts StudentTExperts::random(std::size_t d, std::size_t K, double alpha, std::uint64_t seed) {
  check_arg(d >= 1 && K >= 1, "StudentTExperts::random: d and K must be >= 1 (got d = {}, K = {})", d, K);
  check_arg(std::isfinite(alpha) && alpha > 0, "StudentTExperts::random: alpha must be finite and > 0 (got {})", alpha);
  Stream rng = Stream::derive(seed, Purpose::init, 0);
  MatrixD w{Eigen::Index(K), Eigen::Index(d)};
  const double scale = 1 / std::sqrt(double(d));
  for (Eigen::Index k = 0; k < w.rows(); ++k)
    for (Eigen::Index i = 0; i < w.cols(); ++i) w(k, i) = scale * rng.normal();
  return StudentTExperts(std::move(w), VectorD::Constant(Eigen::Index(K), alpha), 0.0);
}

void StudentTExperts::refresh() {
  row_norms2_ = filters_.rowwise().squaredNorm();
  invertible_ = false;
  log_abs_det_ = 0;
  inverse_.resize(0, 0);
  if (!has_closed_form()) return;
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu{Eigen::MatrixXd(filters_)};
  const double rcond = lu.rcond();
  if (!(std::isfinite(rcond) && rcond >= 1e-12)) return;
  invertible_ = true;
  for (Eigen::Index i = 0; i < filters_.rows(); ++i) log_abs_det_ += std::log(std::abs(lu.matrixLU()(i, i)));
  inverse_ = lu.inverse();
}

Normalisable StudentTExperts::normalisable() const {
  if (quadratic_ > 0) return Normalisable::yes;
  const auto d = filters_.cols();
  if (has_closed_form()) {
    if (!invertible_) return Normalisable::no;
    for (Eigen::Index k = 0; k < alpha_.size(); ++k)
      if (alpha_[k] <= 0.5) return Normalisable::no;
    return Normalisable::yes;
  }
  const auto rank = [](const MatrixD& m) {
    if (m.rows() == 0) return Eigen::Index(0);
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr{Eigen::MatrixXd(m)};
    qr.setThreshold(1e-12);
    return qr.rank();
  };
  if (rank(filters_) < d || alpha_.sum() <= 0.5 * double(d)) return Normalisable::no;
  MatrixD heavy(0, d);
  for (Eigen::Index k = 0; k < alpha_.size(); ++k)
    if (alpha_[k] > 0.5) {
      heavy.conservativeResize(heavy.rows() + 1, d);
      heavy.row(heavy.rows() - 1) = filters_.row(k);
    }
  return rank(heavy) == d ? Normalisable::yes : Normalisable::unknown;
}

double StudentTExperts::log_partition() const {
  check_arg(has_closed_form(),
            "StudentTExperts::log_partition: no closed form unless K = d and quadratic = 0 (this model has K = {}, d = {}, "
            "quadratic = {}); estimate log Z instead",
            filters_.rows(), filters_.cols(), quadratic_);
  for (Eigen::Index k = 0; k < alpha_.size(); ++k)
    check_data(alpha_[k] > 0.5,
               "StudentTExperts::log_partition: alpha[{}] = {} <= 1/2, so expert {}'s factor (1 + u^2/2)^-alpha is not "
               "integrable (the model is not normalisable)",
               k, alpha_[k], k);
  check_data(invertible_,
             "StudentTExperts::log_partition: the filter matrix is singular (reciprocal condition number below 1e-12; "
             "the model is not normalisable)");
  double out = -log_abs_det_;
  const double half_log_2pi = 0.5 * std::log(2 * std::numbers::pi);
  for (Eigen::Index k = 0; k < alpha_.size(); ++k)
    out += half_log_2pi + std::lgamma(alpha_[k] - 0.5) - std::lgamma(alpha_[k]);
  return out;
}

void StudentTExperts::sample(Stream& rng, Eigen::Ref<VectorD> x) const {
  check_x("StudentTExperts::sample", x.size());
  check_arg(has_closed_form(),
            "StudentTExperts::sample: exact draws need the closed-form case K = d and quadratic = 0 (this model has K = "
            "{}, d = {}, quadratic = {})",
            filters_.rows(), filters_.cols(), quadratic_);
  for (Eigen::Index k = 0; k < alpha_.size(); ++k)
    check_data(alpha_[k] > 0.5, "StudentTExperts::sample: alpha[{}] = {} <= 1/2 (the model is not normalisable)", k,
               alpha_[k]);
  check_data(invertible_,
             "StudentTExperts::sample: the filter matrix is singular (reciprocal condition number below 1e-12; the model "
             "is not normalisable)");
  x.setZero();
  for (Eigen::Index k = 0; k < alpha_.size(); ++k) {
    // Bailey's polar method: (a, b) uniform in the unit disc, ρ = a² + b²; then
    // t = a √(ν (ρ^(−2/ν) − 1) / ρ) is Student-t with ν dof, and u = t √(2/ν).
    const double nu = 2 * alpha_[k] - 1;
    double a, rho;
    do {
      a = 2 * rng.uniform_double() - 1;
      const double b = 2 * rng.uniform_double() - 1;
      rho = a * a + b * b;
    } while (rho >= 1);
    const double u = a * std::sqrt(2 * std::expm1(-2 / nu * std::log(rho)) / rho);
    x += u * inverse_.col(k);
  }
}

VectorD StudentTExperts::parameters() const {
  const Eigen::Index kd = filters_.size(), K = filters_.rows();
  VectorD theta(kd + K);
  theta.head(kd) = Eigen::Map<const VectorD>(filters_.data(), kd);
  theta.tail(K) = alpha_.array().log().matrix();
  return theta;
}

void StudentTExperts::set_parameters(const VectorD& theta) {
  const Eigen::Index kd = filters_.size(), K = filters_.rows();
  check_arg(theta.size() == Eigen::Index(num_parameters()),
            "StudentTExperts::set_parameters: theta has {} entries but the model has {} parameters", theta.size(),
            num_parameters());
  for (Eigen::Index i = 0; i < theta.size(); ++i)
    check_arg(std::isfinite(theta[i]), "StudentTExperts::set_parameters: theta[{}] is not finite ({})", i, theta[i]);
  VectorD alpha = theta.tail(K).array().exp().matrix();
  for (Eigen::Index k = 0; k < K; ++k)
    check_arg(std::isfinite(alpha[k]) && alpha[k] > 0,
              "StudentTExperts::set_parameters: theta[{}] = log alpha[{}] = {} is out of range (alpha = {})", kd + k, k,
              theta[kd + k], alpha[k]);
  Eigen::Map<VectorD>(filters_.data(), kd) = theta.head(kd);
  alpha_ = std::move(alpha);
  refresh();
}

void StudentTExperts::check_x(const char* who, Eigen::Index n) const {
  check_arg(n == filters_.cols(), "{}: x has {} entries but the model has dimension {}", who, n, filters_.cols());
}

double StudentTExperts::energy_of(const Eigen::Ref<const VectorD>& x) const {
  check_x("StudentTExperts::energy_of", x.size());
  double e = 0.5 * quadratic_ * x.squaredNorm();
  for (Eigen::Index k = 0; k < filters_.rows(); ++k) e += alpha_[k] * phi(filters_.row(k).dot(x));
  return e;
}

double StudentTExperts::energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
  check_x("StudentTExperts::energy_and_gradient", x.size());
  check_arg(grad.size() == x.size(), "StudentTExperts::energy_and_gradient: grad has {} entries but the model has dimension {}",
            grad.size(), x.size());
  double e = 0.5 * quadratic_ * x.squaredNorm();
  grad = quadratic_ * x;
  for (Eigen::Index k = 0; k < filters_.rows(); ++k) {
    const double u = filters_.row(k).dot(x);
    e += alpha_[k] * phi(u);
    grad += (alpha_[k] * phi1(u)) * filters_.row(k).transpose();
  }
  return e;
}

double StudentTExperts::laplacian(const Eigen::Ref<const VectorD>& x) const {
  check_x("StudentTExperts::laplacian", x.size());
  double out = quadratic_ * double(filters_.cols());
  for (Eigen::Index k = 0; k < filters_.rows(); ++k) out += alpha_[k] * phi2(filters_.row(k).dot(x)) * row_norms2_[k];
  return out;
}

double StudentTExperts::hessian_quadratic(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v) const {
  check_x("StudentTExperts::hessian_quadratic", x.size());
  check_x("StudentTExperts::hessian_quadratic (v)", v.size());
  double out = quadratic_ * v.squaredNorm();
  for (Eigen::Index k = 0; k < filters_.rows(); ++k) {
    const double q = filters_.row(k).dot(v);
    out += alpha_[k] * phi2(filters_.row(k).dot(x)) * q * q;
  }
  return out;
}

namespace {

void check_g(const char* who, Eigen::Index n, std::size_t p) {
  check_arg(n == Eigen::Index(p), "{}: g has {} entries but the model has {} parameters", who, n, p);
}

/// Per-thread work matrices of the block methods, kept from call to call: a block's
/// matrices (256 rows) lie above glibc's mmap threshold, and fresh ones cost a round of
/// page faults and a TLB flush every block.
struct BlockScratch {
  MatrixD m[4];
};
BlockScratch& block_scratch() {
  thread_local BlockScratch scratch;
  return scratch;
}

}  // namespace

void StudentTExperts::add_energy_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const {
  check_x("StudentTExperts::add_energy_gradient", x.size());
  check_g("StudentTExperts::add_energy_gradient", g.size(), num_parameters());
  const Eigen::Index d = filters_.cols(), kd = filters_.size();
  for (Eigen::Index k = 0; k < filters_.rows(); ++k) {
    const double u = filters_.row(k).dot(x);
    g.segment(k * d, d) += (s * alpha_[k] * phi1(u)) * x;
    g[kd + k] += s * alpha_[k] * phi(u);
  }
}

void StudentTExperts::add_score_vjp(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& r, double s,
                                    Eigen::Ref<VectorD> g) const {
  check_x("StudentTExperts::add_score_vjp", x.size());
  check_x("StudentTExperts::add_score_vjp (r)", r.size());
  check_g("StudentTExperts::add_score_vjp", g.size(), num_parameters());
  const Eigen::Index d = filters_.cols(), kd = filters_.size();
  for (Eigen::Index k = 0; k < filters_.rows(); ++k) {
    const double u = filters_.row(k).dot(x), rho = filters_.row(k).dot(r);
    const double sa = s * alpha_[k], p1 = phi1(u);
    g.segment(k * d, d) += (sa * phi2(u) * rho) * x + (sa * p1) * r;
    g[kd + k] += sa * p1 * rho;
  }
}

void StudentTExperts::add_laplacian_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const {
  check_x("StudentTExperts::add_laplacian_gradient", x.size());
  check_g("StudentTExperts::add_laplacian_gradient", g.size(), num_parameters());
  const Eigen::Index d = filters_.cols(), kd = filters_.size();
  for (Eigen::Index k = 0; k < filters_.rows(); ++k) {
    const double u = filters_.row(k).dot(x);
    const double sa = s * alpha_[k], p2 = phi2(u), n2 = row_norms2_[k];
    g.segment(k * d, d) += (sa * phi3(u) * n2) * x + (2 * sa * p2) * filters_.row(k).transpose();
    g[kd + k] += sa * p2 * n2;
  }
}

void StudentTExperts::add_hessian_quadratic_gradient(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v,
                                                     double s, Eigen::Ref<VectorD> g) const {
  check_x("StudentTExperts::add_hessian_quadratic_gradient", x.size());
  check_x("StudentTExperts::add_hessian_quadratic_gradient (v)", v.size());
  check_g("StudentTExperts::add_hessian_quadratic_gradient", g.size(), num_parameters());
  const Eigen::Index d = filters_.cols(), kd = filters_.size();
  for (Eigen::Index k = 0; k < filters_.rows(); ++k) {
    const double u = filters_.row(k).dot(x), q = filters_.row(k).dot(v);
    const double sa = s * alpha_[k], p2 = phi2(u);
    g.segment(k * d, d) += (sa * phi3(u) * q * q) * x + (2 * sa * p2 * q) * v;
    g[kd + k] += sa * p2 * q * q;
  }
}

double StudentTExperts::add_score_matching_terms(const Eigen::Ref<const MatrixD>& rows, Eigen::Ref<VectorD> g) const {
  check_arg(rows.cols() == filters_.cols(),
            "StudentTExperts::add_score_matching_terms: rows has {} columns but the model has dimension {}", rows.cols(),
            filters_.cols());
  const bool want = g.size() != 0;
  if (want) check_g("StudentTExperts::add_score_matching_terms", g.size(), num_parameters());
  const Eigen::Index n = rows.rows(), K = filters_.rows(), d = filters_.cols();
  if (n == 0) return 0;
  // U = X Wᵀ; D = α ⊙ φ'(U); S = D W + λX (the scores, one per row).
  BlockScratch& sc = block_scratch();
  MatrixD &u = sc.m[0], &dmat = sc.m[1], &score = sc.m[2], &rho = sc.m[3];
  u.resize(n, K);
  u.noalias() = rows * filters_.transpose();
  dmat.resize(n, K);
  double lap = 0;
  VectorD h = VectorD::Zero(K);  // Σ_n α_k φ''(u_nk)
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index k = 0; k < K; ++k) {
      const double a = alpha_[k], uk = u(i, k);
      dmat(i, k) = a * phi1(uk);
      h[k] += a * phi2(uk);
    }
  for (Eigen::Index k = 0; k < K; ++k) lap += h[k] * row_norms2_[k];
  score.resize(n, d);
  score.noalias() = dmat * filters_;
  if (quadratic_ != 0) score += quadratic_ * rows;
  const double value = 0.5 * score.squaredNorm() - lap - double(n) * quadratic_ * double(d);
  if (!want) return value;
  // ρ = S Wᵀ; C = α ⊙ (φ''(U) ⊙ ρ − φ'''(U) ‖w‖²); ∂/∂W = Cᵀ X + Dᵀ S − 2 diag(h) W;
  // ∂/∂log α_k = Σ_n [D_nk ρ_nk − α_k φ''(u_nk) ‖w_k‖²].
  rho.resize(n, K);
  rho.noalias() = score * filters_.transpose();
  const Eigen::Index kd = filters_.size();
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index k = 0; k < K; ++k) {
      const double a = alpha_[k], uk = u(i, k), r = rho(i, k);
      g[kd + k] += dmat(i, k) * r;
      u(i, k) = a * (phi2(uk) * r - phi3(uk) * row_norms2_[k]);  // C, in U's place
    }
  for (Eigen::Index k = 0; k < K; ++k) g[kd + k] -= h[k] * row_norms2_[k];
  Eigen::Map<MatrixD> gw(g.data(), K, d);
  gw.noalias() += u.transpose() * rows;
  gw.noalias() += dmat.transpose() * score;
  gw -= 2 * (h.asDiagonal() * filters_);
  return value;
}


double StudentTExperts::add_sliced_score_matching_terms(const Eigen::Ref<const MatrixD>& rows,
                                                        const Eigen::Ref<const MatrixD>& projections,
                                                        Eigen::Ref<VectorD> g) const {
  const Eigen::Index n = rows.rows(), K = filters_.rows(), d = filters_.cols(), nv = projections.rows();
  check_arg(rows.cols() == d && projections.cols() == d,
            "StudentTExperts::add_sliced_score_matching_terms: rows has {} and projections {} columns but the model has "
            "dimension {}",
            rows.cols(), projections.cols(), d);
  check_arg(n == 0 ? nv == 0 : nv % n == 0,
            "StudentTExperts::add_sliced_score_matching_terms: {} projections for {} rows (need a whole number per row)",
            nv, n);
  const bool want = g.size() != 0;
  if (want) check_g("StudentTExperts::add_sliced_score_matching_terms", g.size(), num_parameters());
  if (n == 0) return 0;
  const Eigen::Index per_row = nv / n, kd = filters_.size();
  // U = X Wᵀ, Q = V Wᵀ (q_k = w_kᵀv). Per (row, projection): a = vᵀ∇ₓE = Σ_k D_k q_k + λ xᵀv
  // with D = α ⊙ φ'(u), and vᵀ∇²ₓE v = Σ_k α_k φ''(u_k) q_k² + λ‖v‖².
  BlockScratch& sc = block_scratch();
  MatrixD &u = sc.m[0], &q = sc.m[1];
  u.resize(n, K);
  q.resize(nv, K);
  u.noalias() = rows * filters_.transpose();
  q.noalias() = projections * filters_.transpose();
  VectorD d1(K), d2(K), d3(K);  // α φ'(u), α φ''(u), α φ'''(u) of the current row
  double value = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index k = 0; k < K; ++k) {
      const double a = alpha_[k], uk = u(i, k);
      d1[k] = a * phi1(uk);
      d2[k] = a * phi2(uk);
      if (want) d3[k] = a * phi3(uk);
    }
    if (want) u.row(i).setZero();  // becomes A, the coefficients of x_n in ∂/∂W
    for (Eigen::Index m = i * per_row; m < (i + 1) * per_row; ++m) {
      double a = 0, h = 0;
      for (Eigen::Index k = 0; k < K; ++k) {
        const double qk = q(m, k);
        a += d1[k] * qk;
        h += d2[k] * qk * qk;
      }
      if (quadratic_ != 0) {
        a += quadratic_ * rows.row(i).dot(projections.row(m));
        h += quadratic_ * projections.row(m).squaredNorm();
      }
      value += 0.5 * a * a - h;
      if (!want) continue;
      // ∂/∂w_k = α_k [a φ''(u_k) q_k − φ'''(u_k) q_k²] x + α_k [a φ'(u_k) − 2 φ''(u_k) q_k] v,
      // ∂/∂log α_k = α_k [a φ'(u_k) q_k − φ''(u_k) q_k²].
      for (Eigen::Index k = 0; k < K; ++k) {
        const double qk = q(m, k);
        u(i, k) += (a * d2[k] - d3[k] * qk) * qk;
        g[kd + k] += (a * d1[k] - d2[k] * qk) * qk;
        q(m, k) = a * d1[k] - 2 * d2[k] * qk;  // B, in Q's place
      }
    }
  }
  if (!want) return value;
  Eigen::Map<MatrixD> gw(g.data(), K, d);
  gw.noalias() += u.transpose() * rows;
  gw.noalias() += q.transpose() * projections;
  return value;
}

double StudentTExperts::add_denoising_score_matching_terms(const Eigen::Ref<const MatrixD>& noisy,
                                                           const Eigen::Ref<const MatrixD>& noise, double sigma,
                                                           Eigen::Ref<VectorD> g) const {
  const Eigen::Index n = noisy.rows(), K = filters_.rows(), d = filters_.cols();
  check_arg(noisy.cols() == d && noise.cols() == d && noise.rows() == n,
            "StudentTExperts::add_denoising_score_matching_terms: noisy is {}x{} and noise {}x{} (need the same shape, "
            "{} columns)",
            noisy.rows(), noisy.cols(), noise.rows(), noise.cols(), d);
  const bool want = g.size() != 0;
  if (want) check_g("StudentTExperts::add_denoising_score_matching_terms", g.size(), num_parameters());
  if (n == 0) return 0;
  // U = X̃ Wᵀ; D = α ⊙ φ'(U); R = σ (D W + λX̃) − E, the residuals σ∇ₓE(x̃) − ε.
  BlockScratch& sc = block_scratch();
  MatrixD &u = sc.m[0], &dmat = sc.m[1], &resid = sc.m[2], &rho = sc.m[3];
  u.resize(n, K);
  dmat.resize(n, K);
  u.noalias() = noisy * filters_.transpose();
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index k = 0; k < K; ++k) dmat(i, k) = alpha_[k] * phi1(u(i, k));
  resid.resize(n, d);
  resid.noalias() = dmat * filters_;
  if (quadratic_ != 0) resid += quadratic_ * noisy;
  resid = sigma * resid - noise;
  const double value = 0.5 * resid.squaredNorm();
  if (!want) return value;
  // ρ = R Wᵀ; ∂/∂W = Cᵀ X̃ + σ Dᵀ R with C = σ α ⊙ φ''(U) ⊙ ρ; ∂/∂log α_k = σ Σ_n D_nk ρ_nk.
  rho.resize(n, K);
  rho.noalias() = resid * filters_.transpose();
  const Eigen::Index kd = filters_.size();
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index k = 0; k < K; ++k) {
      const double r = rho(i, k);
      g[kd + k] += sigma * dmat(i, k) * r;
      u(i, k) = sigma * alpha_[k] * phi2(u(i, k)) * r;  // C, in U's place
      dmat(i, k) *= sigma;
    }
  Eigen::Map<MatrixD> gw(g.data(), K, d);
  gw.noalias() += u.transpose() * noisy;
  gw.noalias() += dmat.transpose() * resid;
  return value;
}

}  // namespace logz
