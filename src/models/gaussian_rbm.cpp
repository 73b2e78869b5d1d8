// Gaussian–Bernoulli RBM: validation, energies, free energy with its derivatives, exact
// log Z by enumerating the hidden layer, the exact hidden marginal, moments and draws.
#include "logz/models/gaussian_rbm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"
#include "logz/objectives/score_matching.hpp"

namespace logz {
namespace {

template <class M>
void check_finite(const M& m, std::string_view what, std::string_view name) {
  for (Eigen::Index i = 0; i < m.size(); ++i)
    check_data(std::isfinite(m.data()[i]), "{}: {} has a non-finite value {} at flat index {}", what, name,
               m.data()[i], i);
}

/// Σ_i log(√(2π) σ_i): the normaliser of the Gaussian factor, the same for every h.
double log_gaussian_normaliser(const GaussianRbm& m) {
  double s = 0;
  for (Eigen::Index i = 0; i < m.visible_sigma.size(); ++i)
    s += 0.5 * std::log(2 * std::numbers::pi) + std::log(m.visible_sigma[i]);
  return s;
}

/// −log ∫ exp(−E(v, h)) dv up to the normaliser above, as a function of a = W h and c·h:
/// c·h + Σ_i [(b_i + a_i)² − b_i²] / (2σ_i²) = c·h + Σ_i a_i (2 b_i + a_i) / (2σ_i²).
/// (The second form avoids cancelling two large squares when |b| ≫ |a|.)
double log_weight(const VectorD& a, double ch, const VectorD& b, const VectorD& inv_2var) {
  double s = ch;
  for (Eigen::Index i = 0; i < a.size(); ++i) s += a[i] * (2 * b[i] + a[i]) * inv_2var[i];
  return s;
}

/// A running log-sum-exp.
struct LogSum {
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;  // Σ exp(x − max)
  void add(double x) {
    if (x <= max) {
      sum += std::exp(x - max);
    } else {
      sum = sum * std::exp(max - x) + 1;
      max = x;
    }
  }
  void add(const LogSum& o) {
    if (o.sum == 0) return;
    if (sum == 0) {
      *this = o;
    } else if (o.max <= max) {
      sum += o.sum * std::exp(o.max - max);
    } else {
      sum = sum * std::exp(max - o.max) + o.sum;
      max = o.max;
    }
  }
  double value() const { return max + std::log(sum); }
};

void check_table(const GaussianRbm& m, const char* who) {
  check_arg(m.n_hidden() <= kGrbmMaxTableHidden,
            "{}: the hidden marginal is tabulated for at most {} hidden units (2^{} states), the model has {}", who,
            kGrbmMaxTableHidden, kGrbmMaxTableHidden, m.n_hidden());
}

}  // namespace

GaussianRbm::GaussianRbm(std::size_t n_visible, std::size_t n_hidden)
    : weights(MatrixD::Zero(Eigen::Index(n_visible), Eigen::Index(n_hidden))),
      visible_bias(VectorD::Zero(Eigen::Index(n_visible))),
      hidden_bias(VectorD::Zero(Eigen::Index(n_hidden))),
      visible_sigma(VectorD::Ones(Eigen::Index(n_visible))) {}

void GaussianRbm::validate(std::string_view what) const {
  check_data(weights.rows() > 0 && weights.cols() > 0, "{}: weights must be non-empty, got shape ({}, {})", what,
             weights.rows(), weights.cols());
  check_data(visible_bias.size() == weights.rows(),
             "{}: visible_bias has {} entries but weights has {} rows (n_visible)", what, visible_bias.size(),
             weights.rows());
  check_data(hidden_bias.size() == weights.cols(),
             "{}: hidden_bias has {} entries but weights has {} columns (n_hidden)", what, hidden_bias.size(),
             weights.cols());
  check_data(visible_sigma.size() == weights.rows(),
             "{}: visible_sigma has {} entries but weights has {} rows (n_visible)", what, visible_sigma.size(),
             weights.rows());
  check_finite(weights, what, "weights");
  check_finite(visible_bias, what, "visible_bias");
  check_finite(hidden_bias, what, "hidden_bias");
  check_finite(visible_sigma, what, "visible_sigma");
  for (Eigen::Index i = 0; i < visible_sigma.size(); ++i)
    check_data(visible_sigma[i] > 0, "{}: visible_sigma[{}] must be > 0, got {}", what, i, visible_sigma[i]);
}

void GaussianRbm::check_visible(const char* who, Eigen::Index n) const {
  check_arg(n == weights.rows(), "{}: v has {} entries but the model has {} visible units", who, n, weights.rows());
}

double GaussianRbm::energy(const Eigen::Ref<const VectorD>& v, const Eigen::Ref<const VectorD>& h) const {
  check_visible("GaussianRbm::energy", v.size());
  check_arg(h.size() == weights.cols(), "GaussianRbm::energy: h has {} entries but the model has {} hidden units",
            h.size(), weights.cols());
  const VectorD inv_var = visible_sigma.array().square().inverse();
  const double quad = 0.5 * ((v - visible_bias).array().square() * inv_var.array()).sum();
  const VectorD wh = weights * h;
  return quad - (v.array() * inv_var.array() * wh.array()).sum() - hidden_bias.dot(h);
}

double GaussianRbm::free_energy(const Eigen::Ref<const VectorD>& v) const {
  check_visible("GaussianRbm::free_energy", v.size());
  const VectorD scaled = v.array() / visible_sigma.array().square();  // v_i / σ_i²
  const VectorD pre = weights.transpose() * scaled + hidden_bias;
  double f = 0.5 * ((v - visible_bias).array() / visible_sigma.array()).square().sum();
  for (Eigen::Index j = 0; j < pre.size(); ++j) f -= softplus(pre[j]);
  return f;
}

double GaussianRbm::free_energy_and_gradient(const Eigen::Ref<const VectorD>& v, Eigen::Ref<VectorD> grad) const {
  check_visible("GaussianRbm::free_energy_and_gradient", v.size());
  check_arg(grad.size() == weights.rows(),
            "GaussianRbm::free_energy_and_gradient: grad has {} entries but the model has {} visible units",
            grad.size(), weights.rows());
  const VectorD inv_var = visible_sigma.array().square().inverse();
  const VectorD scaled = v.array() * inv_var.array();
  const VectorD pre = weights.transpose() * scaled + hidden_bias;
  const VectorD r = v - visible_bias;
  double f = 0.5 * (r.array().square() * inv_var.array()).sum();
  VectorD p(pre.size());
  for (Eigen::Index j = 0; j < pre.size(); ++j) {
    f -= softplus(pre[j]);
    p[j] = sigmoid(pre[j]);
  }
  grad = ((r - weights * p).array() * inv_var.array()).matrix();
  return f;
}

double GaussianRbm::free_energy_laplacian(const Eigen::Ref<const VectorD>& v) const {
  check_visible("GaussianRbm::free_energy_laplacian", v.size());
  const VectorD inv_var = visible_sigma.array().square().inverse();
  const VectorD pre = weights.transpose() * VectorD(v.array() * inv_var.array()) + hidden_bias;
  VectorD q(pre.size());  // p_j (1 − p_j)
  for (Eigen::Index j = 0; j < pre.size(); ++j) {
    const double p = sigmoid(pre[j]);
    q[j] = p * (1 - p);
  }
  const VectorD wq = weights.array().square().matrix() * q;  // Σ_j W_ij² q_j
  return (inv_var.array() - wq.array() * inv_var.array().square()).sum();
}

void GaussianRbm::hidden_probabilities(const Eigen::Ref<const VectorD>& v, Eigen::Ref<VectorD> out) const {
  check_visible("GaussianRbm::hidden_probabilities", v.size());
  check_arg(out.size() == weights.cols(),
            "GaussianRbm::hidden_probabilities: out has {} entries but the model has {} hidden units", out.size(),
            weights.cols());
  const VectorD pre = weights.transpose() * VectorD(v.array() / visible_sigma.array().square()) + hidden_bias;
  for (Eigen::Index j = 0; j < pre.size(); ++j) out[j] = sigmoid(pre[j]);
}

void GaussianRbm::visible_mean(const Eigen::Ref<const VectorD>& h, Eigen::Ref<VectorD> out) const {
  check_arg(h.size() == weights.cols(), "GaussianRbm::visible_mean: h has {} entries but the model has {} hidden units",
            h.size(), weights.cols());
  check_arg(out.size() == weights.rows(),
            "GaussianRbm::visible_mean: out has {} entries but the model has {} visible units", out.size(),
            weights.rows());
  out = visible_bias + weights * h;
}

// ---------------------------------------------------------------------------------------
// GrbmFreeEnergy. Notation of docs/gaussian-rbm.md: s_i = 1/σ_i², u_i = s_i v_i,
// pre_j = c_j + Σ_i u_i W_ij, p_j = sigmoid(pre_j), q_j = p_j (1 − p_j) = dp_j/dpre_j,
// q'_j = dq_j/dpre_j = q_j (1 − 2p_j), ρ_i = log σ_i (ds_i/dρ_i = −2 s_i).

namespace {

using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Per-thread vectors the per-point methods reuse (resizing to the same size keeps the
/// allocation), so the objectives' row loops do not allocate inside the model.
struct PointScratch {
  VectorD pre, p, q, q1, t, y, wx, wy;  // [m] ×6, [n] ×2
  void size(Eigen::Index n, Eigen::Index m) {
    pre.resize(m), p.resize(m), q.resize(m), q1.resize(m), t.resize(m), y.resize(m);
    wx.resize(n), wy.resize(n);
  }
};

PointScratch& point_scratch(Eigen::Index n, Eigen::Index m) {
  thread_local PointScratch s;
  s.size(n, m);
  return s;
}

}  // namespace

GrbmFreeEnergy::GrbmFreeEnergy(GaussianRbm model) : model_(std::move(model)) {
  model_.validate("GrbmFreeEnergy");
  refresh();
}

void GrbmFreeEnergy::refresh() {
  inv_var_ = model_.visible_sigma.array().square().inverse().matrix();
  scaled_weights_ = inv_var_.asDiagonal() * model_.weights;
  lap_weights_ = scaled_weights_.array().square().colwise().sum().transpose().matrix();
}

void GrbmFreeEnergy::check_point(const char* who, Eigen::Index v_size, Eigen::Index g_size) const {
  check_arg(v_size == inv_var_.size(), "{}: v has {} entries but the model has {} visible units", who, v_size,
            inv_var_.size());
  check_arg(g_size == Eigen::Index(num_parameters()), "{}: g has {} entries but the model has {} parameters", who,
            g_size, num_parameters());
}

VectorD GrbmFreeEnergy::parameters() const {
  const Eigen::Index n = Eigen::Index(model_.n_visible()), m = Eigen::Index(model_.n_hidden());
  VectorD theta(static_cast<Eigen::Index>(num_parameters()));
  Eigen::Map<RowMajorD>(theta.data(), n, m) = model_.weights;
  theta.segment(n * m, n) = model_.visible_bias;
  theta.segment(n * m + n, m) = model_.hidden_bias;
  if (model_.learn_sigma) theta.segment(n * m + n + m, n) = model_.visible_sigma.array().log().matrix();
  return theta;
}

void GrbmFreeEnergy::set_parameters(const VectorD& theta) {
  const Eigen::Index n = Eigen::Index(model_.n_visible()), m = Eigen::Index(model_.n_hidden());
  check_arg(theta.size() == Eigen::Index(num_parameters()),
            "GrbmFreeEnergy::set_parameters: theta has {} entries but the model has {} parameters", theta.size(),
            num_parameters());
  for (Eigen::Index k = 0; k < theta.size(); ++k)
    check_arg(std::isfinite(theta[k]), "GrbmFreeEnergy::set_parameters: theta[{}] is not finite ({})", k, theta[k]);
  VectorD sigma = model_.visible_sigma;
  if (model_.learn_sigma) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const double ls = theta[n * m + n + m + i];
      sigma[i] = std::exp(ls);
      // 1/σ² must be finite and > 0 as well, so σ within about e^±354.
      check_arg(std::abs(ls) < 354, "GrbmFreeEnergy::set_parameters: log sigma[{}] = {} is out of range", i, ls);
    }
  }
  model_.weights = Eigen::Map<const RowMajorD>(theta.data(), n, m);
  model_.visible_bias = theta.segment(n * m, n);
  model_.hidden_bias = theta.segment(n * m + n, m);
  model_.visible_sigma = sigma;
  refresh();
}

double GrbmFreeEnergy::energy_of(const Eigen::Ref<const VectorD>& v) const {
  check_arg(v.size() == inv_var_.size(), "GrbmFreeEnergy::energy_of: v has {} entries but the model has {} visible units",
            v.size(), inv_var_.size());
  PointScratch& sc = point_scratch(inv_var_.size(), lap_weights_.size());
  sc.pre.noalias() = scaled_weights_.transpose() * v;
  double f = 0.5 * ((v - model_.visible_bias).array().square() * inv_var_.array()).sum();
  for (Eigen::Index j = 0; j < sc.pre.size(); ++j) f -= softplus(sc.pre[j] + model_.hidden_bias[j]);
  return f;
}

double GrbmFreeEnergy::energy_and_gradient(const Eigen::Ref<const VectorD>& v, Eigen::Ref<VectorD> grad) const {
  check_arg(v.size() == inv_var_.size() && grad.size() == inv_var_.size(),
            "GrbmFreeEnergy::energy_and_gradient: v has {} and grad {} entries but the model has {} visible units",
            v.size(), grad.size(), inv_var_.size());
  PointScratch& sc = point_scratch(inv_var_.size(), lap_weights_.size());
  sc.pre.noalias() = scaled_weights_.transpose() * v;
  double f = 0.5 * ((v - model_.visible_bias).array().square() * inv_var_.array()).sum();
  for (Eigen::Index j = 0; j < sc.pre.size(); ++j) {
    const double a = sc.pre[j] + model_.hidden_bias[j];
    f -= softplus(a);
    sc.p[j] = sigmoid(a);
  }
  sc.wx.noalias() = model_.weights * sc.p;
  grad = ((v - model_.visible_bias - sc.wx).array() * inv_var_.array()).matrix();
  return f;
}

namespace {
/// pre, p, q (and q' when `second`) of the point v into sc.
void hidden_terms(const MatrixD& scaled_weights, const VectorD& c, const Eigen::Ref<const VectorD>& v, PointScratch& sc,
                  bool second) {
  sc.pre.noalias() = scaled_weights.transpose() * v;
  sc.pre += c;
  for (Eigen::Index j = 0; j < sc.pre.size(); ++j) {
    const double p = sigmoid(sc.pre[j]);
    sc.p[j] = p;
    sc.q[j] = p * (1 - p);
    if (second) sc.q1[j] = sc.q[j] * (1 - 2 * p);
  }
}
}  // namespace

double GrbmFreeEnergy::laplacian(const Eigen::Ref<const VectorD>& v) const {
  check_arg(v.size() == inv_var_.size(), "GrbmFreeEnergy::laplacian: v has {} entries but the model has {} visible units",
            v.size(), inv_var_.size());
  PointScratch& sc = point_scratch(inv_var_.size(), lap_weights_.size());
  hidden_terms(scaled_weights_, model_.hidden_bias, v, sc, false);
  return inv_var_.sum() - sc.q.dot(lap_weights_);
}

double GrbmFreeEnergy::hessian_quadratic(const Eigen::Ref<const VectorD>& v, const Eigen::Ref<const VectorD>& z) const {
  check_arg(v.size() == inv_var_.size() && z.size() == inv_var_.size(),
            "GrbmFreeEnergy::hessian_quadratic: v has {} and z {} entries but the model has {} visible units", v.size(),
            z.size(), inv_var_.size());
  PointScratch& sc = point_scratch(inv_var_.size(), lap_weights_.size());
  hidden_terms(scaled_weights_, model_.hidden_bias, v, sc, false);
  sc.y.noalias() = scaled_weights_.transpose() * z;
  return (z.array().square() * inv_var_.array()).sum() - (sc.q.array() * sc.y.array().square()).sum();
}

void GrbmFreeEnergy::add_energy_gradient(const Eigen::Ref<const VectorD>& v, double s, Eigen::Ref<VectorD> g) const {
  check_point("GrbmFreeEnergy::add_energy_gradient", v.size(), g.size());
  const Eigen::Index n = inv_var_.size(), m = lap_weights_.size();
  PointScratch& sc = point_scratch(n, m);
  hidden_terms(scaled_weights_, model_.hidden_bias, v, sc, false);
  const auto u = v.array() * inv_var_.array();
  // ∂F/∂W_ij = −u_i p_j, ∂F/∂b_i = −s_i (v_i − b_i), ∂F/∂c_j = −p_j.
  Eigen::Map<RowMajorD>(g.data(), n, m).noalias() -= s * (u.matrix() * sc.p.transpose());
  g.segment(n * m, n).array() -= s * (v - model_.visible_bias).array() * inv_var_.array();
  g.segment(n * m + n, m) -= s * sc.p;
  if (!model_.learn_sigma) return;
  // ∂F/∂ρ_i = −s_i (v_i − b_i)² + 2 u_i (W p)_i.
  sc.wx.noalias() = model_.weights * sc.p;
  g.segment(n * m + n + m, n).array() +=
      s * (-(v - model_.visible_bias).array().square() * inv_var_.array() + 2 * u * sc.wx.array());
}

void GrbmFreeEnergy::add_score_vjp(const Eigen::Ref<const VectorD>& v, const Eigen::Ref<const VectorD>& r, double s,
                                   Eigen::Ref<VectorD> g) const {
  check_point("GrbmFreeEnergy::add_score_vjp", v.size(), g.size());
  check_arg(r.size() == inv_var_.size(), "GrbmFreeEnergy::add_score_vjp: r has {} entries but the model has {} visible units",
            r.size(), inv_var_.size());
  const Eigen::Index n = inv_var_.size(), m = lap_weights_.size();
  PointScratch& sc = point_scratch(n, m);
  hidden_terms(scaled_weights_, model_.hidden_bias, v, sc, false);
  // φ = rᵀ∇F = Σ_i ψ_i (v_i − b_i − (W p)_i) with ψ = s ⊙ r; t = Wᵀψ = (W/σ²)ᵀ r.
  sc.t.noalias() = scaled_weights_.transpose() * r;
  sc.t.array() *= sc.q.array();  // q ⊙ t
  const auto u = v.array() * inv_var_.array();
  sc.wy = r.cwiseProduct(inv_var_);  // ψ
  auto gw = Eigen::Map<RowMajorD>(g.data(), n, m);
  // ∂φ/∂W_ij = −ψ_i p_j − u_i q_j t_j, ∂φ/∂b = −ψ, ∂φ/∂c_j = −q_j t_j.
  gw.noalias() -= s * (sc.wy * sc.p.transpose());
  gw.noalias() -= s * (u.matrix() * sc.t.transpose());
  g.segment(n * m, n) -= s * sc.wy;
  g.segment(n * m + n, m) -= s * sc.t;
  if (!model_.learn_sigma) return;
  // ∂φ/∂ρ_i = −2 ψ_i (v_i − b_i − (W p)_i) + 2 u_i (W (q ⊙ t))_i.
  sc.wx.noalias() = model_.weights * sc.p;
  auto gs = g.segment(n * m + n + m, n);
  gs.array() -= 2 * s * sc.wy.array() * (v - model_.visible_bias - sc.wx).array();
  sc.wx.noalias() = model_.weights * sc.t;
  gs.array() += 2 * s * u * sc.wx.array();
}

void GrbmFreeEnergy::add_laplacian_gradient(const Eigen::Ref<const VectorD>& v, double s, Eigen::Ref<VectorD> g) const {
  check_point("GrbmFreeEnergy::add_laplacian_gradient", v.size(), g.size());
  const Eigen::Index n = inv_var_.size(), m = lap_weights_.size();
  PointScratch& sc = point_scratch(n, m);
  hidden_terms(scaled_weights_, model_.hidden_bias, v, sc, true);
  // ΔF = Σ_i s_i − Σ_j q_j a_j, a_j = Σ_i s_i² W_ij²:
  // ∂/∂W_ij = −2 s_i² W_ij q_j − u_i a_j q'_j, ∂/∂b = 0, ∂/∂c_j = −a_j q'_j.
  sc.t = sc.q1.cwiseProduct(lap_weights_);  // a ⊙ q'
  const auto u = v.array() * inv_var_.array();
  auto gw = Eigen::Map<RowMajorD>(g.data(), n, m);
  gw.noalias() -= (2 * s) * (inv_var_.asDiagonal() * scaled_weights_ * sc.q.asDiagonal());
  gw.noalias() -= s * (u.matrix() * sc.t.transpose());
  g.segment(n * m + n, m) -= s * sc.t;
  if (!model_.learn_sigma) return;
  // ∂/∂ρ_i = −2 s_i + 4 s_i Σ_j (W_ij/σ_i²) W_ij q_j + 2 u_i (W (a ⊙ q'))_i.
  sc.wx.noalias() = (scaled_weights_.array() * model_.weights.array()).matrix() * sc.q;
  sc.wy.noalias() = model_.weights * sc.t;
  g.segment(n * m + n + m, n).array() +=
      s * (-2 * inv_var_.array() + 4 * inv_var_.array() * sc.wx.array() + 2 * u * sc.wy.array());
}

void GrbmFreeEnergy::add_hessian_quadratic_gradient(const Eigen::Ref<const VectorD>& v,
                                                    const Eigen::Ref<const VectorD>& z, double s,
                                                    Eigen::Ref<VectorD> g) const {
  check_point("GrbmFreeEnergy::add_hessian_quadratic_gradient", v.size(), g.size());
  check_arg(z.size() == inv_var_.size(),
            "GrbmFreeEnergy::add_hessian_quadratic_gradient: z has {} entries but the model has {} visible units",
            z.size(), inv_var_.size());
  const Eigen::Index n = inv_var_.size(), m = lap_weights_.size();
  PointScratch& sc = point_scratch(n, m);
  hidden_terms(scaled_weights_, model_.hidden_bias, v, sc, true);
  // Q = Σ_i s_i z_i² − Σ_j q_j y_j², y = (W/σ²)ᵀ z:
  // ∂Q/∂W_ij = −2 q_j y_j s_i z_i − q'_j y_j² u_i, ∂Q/∂b = 0, ∂Q/∂c_j = −q'_j y_j².
  sc.y.noalias() = scaled_weights_.transpose() * z;
  sc.t = sc.q.cwiseProduct(sc.y);                       // q ⊙ y
  sc.pre = sc.q1.cwiseProduct(sc.y.cwiseAbs2());        // q' ⊙ y² (pre is free now)
  const auto u = v.array() * inv_var_.array();
  sc.wy = z.cwiseProduct(inv_var_);                     // s ⊙ z
  auto gw = Eigen::Map<RowMajorD>(g.data(), n, m);
  gw.noalias() -= (2 * s) * (sc.wy * sc.t.transpose());
  gw.noalias() -= s * (u.matrix() * sc.pre.transpose());
  g.segment(n * m + n, m) -= s * sc.pre;
  if (!model_.learn_sigma) return;
  // ∂Q/∂ρ_i = −2 s_i z_i² + 4 s_i z_i (W (q ⊙ y))_i + 2 u_i (W (q' ⊙ y²))_i.
  sc.wx.noalias() = model_.weights * sc.t;
  auto gs = g.segment(n * m + n + m, n);
  gs.array() += s * (-2 * sc.wy.array() * z.array() + 4 * sc.wy.array() * sc.wx.array());
  sc.wx.noalias() = model_.weights * sc.pre;
  gs.array() += 2 * s * u * sc.wx.array();
}

double score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data, VectorD* gradient, const Exec& ex) {
  check_continuous_data("score_matching_objective", data, model.dimension(), true);
  const GaussianRbm& rbm = model.model();
  const Eigen::Index n = Eigen::Index(rbm.n_visible()), m = Eigen::Index(rbm.n_hidden());
  const Eigen::Index p = Eigen::Index(model.num_parameters());
  const bool want = gradient != nullptr, learn = rbm.learn_sigma;
  const VectorD& sv = model.inverse_variance();
  const MatrixD& sw = model.scaled_weights();
  const VectorD a = sw.array().square().colwise().sum().transpose().matrix();  // Σ_i W_ij² / σ_i⁴
  const double trace = sv.sum();
  // Per block (rows X): Pre = X (W/σ²) + c, P, Q, Q' elementwise; the score
  // G = (X − b − P Wᵀ) diag(s); Ψ = G diag(s); D = Q ⊙ (Ψ W) − Q' diag(a); then
  // (docs/gaussian-rbm.md) ∂J/∂W = −ΨᵀP − UᵀD + 2 diag(s) (W/σ²) diag(Σ_r Q_r) with
  // U = X diag(s), and the other blocks by column sums.
  return detail::sum_block_terms(
      std::size_t(data.rows()), std::size_t(p), want, double(data.rows()), gradient, ex,
      [&](Eigen::Index r0, Eigen::Index nr, VectorD& out) {
        const auto x = data.middleRows(r0, nr);
        MatrixD pre(nr, m);
        pre.noalias() = x * sw;
        pre.rowwise() += rbm.hidden_bias.transpose();
        MatrixD pr(nr, m), q(nr, m), q1(nr, m);
        for (Eigen::Index j = 0; j < m; ++j)
          for (Eigen::Index r = 0; r < nr; ++r) {
            const double pj = sigmoid(pre(r, j));
            pr(r, j) = pj;
            q(r, j) = pj * (1 - pj);
            q1(r, j) = q(r, j) * (1 - 2 * pj);
          }
        MatrixD resid(nr, n);  // X − b − P Wᵀ
        resid.noalias() = -pr * rbm.weights.transpose();
        resid += x;
        resid.rowwise() -= rbm.visible_bias.transpose();
        const MatrixD score = resid * sv.asDiagonal();
        const VectorD lap = trace - (q * a).array();
        out[0] = 0.5 * score.squaredNorm() - lap.sum();
        if (!want) return;
        const MatrixD psi = score * sv.asDiagonal();
        MatrixD dd(nr, m);
        dd.noalias() = psi * rbm.weights;
        dd = (dd.array() * q.array()).matrix() - q1 * a.asDiagonal();
        const MatrixD u = x * sv.asDiagonal();
        const VectorD qsum = q.colwise().sum().transpose();
        auto g = out.tail(p);
        auto gw = Eigen::Map<RowMajorD>(g.data(), n, m);
        gw.noalias() = -psi.transpose() * pr;
        gw.noalias() -= u.transpose() * dd;
        gw += 2 * sv.asDiagonal() * sw * qsum.asDiagonal();
        g.segment(n * m, n) = -psi.colwise().sum().transpose();
        g.segment(n * m + n, m) = -dd.colwise().sum().transpose();
        if (learn) {
          // Σ_r [−2 Ψ ⊙ R + 2 U ⊙ (D Wᵀ)] + 2 N s − 4 s ⊙ ((W/σ² ⊙ W) Σ_r Q_r).
          MatrixD dw(nr, n);
          dw.noalias() = dd * rbm.weights.transpose();
          g.segment(n * m + n + m, n) =
              (-2 * (psi.array() * resid.array()) + 2 * (u.array() * dw.array())).colwise().sum().transpose().matrix() +
              (2 * double(nr) * sv.array() -
               4 * sv.array() * ((sw.array() * rbm.weights.array()).matrix() * qsum).array())
                  .matrix();
        }
      });
}

double grbm_exact_log_z(const GaussianRbm& model, const Exec& ex) {
  model.validate("grbm_exact_log_z");
  const std::size_t m = model.n_hidden();
  check_arg(m <= kGrbmMaxExactHidden, "grbm_exact_log_z: enumeration is limited to {} hidden units, the model has {}",
            kGrbmMaxExactHidden, m);
  const VectorD& b = model.visible_bias;
  const VectorD inv_2var = (2 * model.visible_sigma.array().square()).inverse();
  // 2^k blocks by the top k bits (k depends on m only); each walks its 2^(m−k) low bits
  // in Gray-code order, so consecutive states differ in one unit: a ± one column of W.
  const std::size_t k = std::min<std::size_t>(m, 6);
  const std::size_t low = m - k;
  const std::uint64_t per_block = std::uint64_t(1) << low;
  const LogSum total = parallel_reduce(
      ex, std::size_t(1) << k, LogSum{},
      [&](std::size_t t) {
        VectorD h = VectorD::Zero(Eigen::Index(m));
        for (std::size_t j = 0; j < k; ++j) h[Eigen::Index(low + j)] = double((t >> j) & 1);
        VectorD a = model.weights * h;
        double ch = model.hidden_bias.dot(h);
        LogSum s;
        s.add(log_weight(a, ch, b, inv_2var));
        for (std::uint64_t g = 1; g < per_block; ++g) {
          const auto j = Eigen::Index(std::countr_zero(g));  // the bit that flips from Gray(g−1) to Gray(g)
          const double sign = h[j] == 0 ? 1.0 : -1.0;
          h[j] += sign;
          a += sign * model.weights.col(j);
          ch += sign * model.hidden_bias[j];
          s.add(log_weight(a, ch, b, inv_2var));
        }
        return s;
      },
      [](LogSum acc, const LogSum& part) {
        acc.add(part);
        return acc;
      });
  return total.value() + log_gaussian_normaliser(model);
}

VectorD grbm_hidden_log_marginal(const GaussianRbm& model) {
  model.validate("grbm_hidden_log_marginal");
  check_table(model, "grbm_hidden_log_marginal");
  const std::size_t m = model.n_hidden();
  const VectorD inv_2var = (2 * model.visible_sigma.array().square()).inverse();
  const std::uint64_t states = std::uint64_t(1) << m;
  VectorD out = VectorD::Zero(Eigen::Index(states));
  VectorD h = VectorD::Zero(Eigen::Index(m));
  for (std::uint64_t s = 0; s < states; ++s) {
    for (std::size_t j = 0; j < m; ++j) h[Eigen::Index(j)] = double((s >> j) & 1);
    out[Eigen::Index(s)] = log_weight(model.weights * h, model.hidden_bias.dot(h), model.visible_bias, inv_2var);
  }
  const double lse = log_sum_exp(std::span<const double>(out.data(), std::size_t(out.size())));
  out.array() -= lse;
  return out;
}

GrbmMoments grbm_exact_moments(const GaussianRbm& model) {
  model.validate("grbm_exact_moments");
  check_table(model, "grbm_exact_moments");
  const VectorD logp = grbm_hidden_log_marginal(model);
  const std::size_t m = model.n_hidden();
  const Eigen::Index n = Eigen::Index(model.n_visible());
  GrbmMoments r;
  r.mean = VectorD::Zero(n);
  r.hidden_mean = VectorD::Zero(Eigen::Index(m));
  MatrixD second = MatrixD::Zero(n, n);
  VectorD h = VectorD::Zero(Eigen::Index(m));
  for (Eigen::Index s = 0; s < logp.size(); ++s) {
    for (std::size_t j = 0; j < m; ++j) h[Eigen::Index(j)] = double((std::uint64_t(s) >> j) & 1);
    const double p = std::exp(logp[s]);
    const VectorD mu = model.visible_bias + model.weights * h;
    r.mean += p * mu;
    r.hidden_mean += p * h;
    second += p * mu * mu.transpose();
  }
  r.covariance = second - r.mean * r.mean.transpose();
  r.covariance.diagonal() += model.visible_sigma.array().square().matrix();
  return r;
}

GrbmSamples grbm_exact_samples(const GaussianRbm& model, std::size_t count, std::uint64_t seed, const Exec& ex) {
  model.validate("grbm_exact_samples");
  check_table(model, "grbm_exact_samples");
  const VectorD logp = grbm_hidden_log_marginal(model);
  // Cumulative table of p(h); the last entry is set to 1 so rounding cannot leave a gap.
  std::vector<double> cdf(std::size_t(logp.size()));
  double acc = 0;
  for (Eigen::Index s = 0; s < logp.size(); ++s) cdf[std::size_t(s)] = acc += std::exp(logp[s]);
  cdf.back() = 1.0;
  const std::size_t m = model.n_hidden();
  const Eigen::Index n = Eigen::Index(model.n_visible());
  GrbmSamples out;
  out.visible.resize(Eigen::Index(count), n);
  out.hidden.resize(Eigen::Index(count), Eigen::Index(m));
  const Blocks blocks = row_blocks(count);
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    VectorD h = VectorD::Zero(Eigen::Index(m));
    for (std::size_t r = blocks.begin(t); r < blocks.begin(t) + blocks.size(t); ++r) {
      Stream rng = Stream::derive(seed, Purpose::sample, r);
      const double u = rng.uniform_double();
      const auto s = std::uint64_t(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
      for (std::size_t j = 0; j < m; ++j) h[Eigen::Index(j)] = double((s >> j) & 1);
      out.hidden.row(Eigen::Index(r)) = h.transpose();
      VectorD v = model.visible_bias + model.weights * h;
      for (Eigen::Index i = 0; i < n; ++i) v[i] += model.visible_sigma[i] * rng.normal();
      out.visible.row(Eigen::Index(r)) = v.transpose();
    }
  });
  return out;
}

}  // namespace logz
