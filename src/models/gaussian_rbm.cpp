// Gaussian–Bernoulli RBM: validation, energies, the free energy with its derivatives over
// v and over θ.
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

namespace logz {
namespace {

template <class M>
void check_finite(const M& m, std::string_view what, std::string_view name) {
  for (Eigen::Index i = 0; i < m.size(); ++i)
    check_data(std::isfinite(m.data()[i]), "{}: {} has a non-finite value {} at flat index {}", what, name,
               m.data()[i], i);
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

namespace {
/// Per-thread work matrices of the block methods, kept from call to call: a block's
/// matrices (256 rows) lie above glibc's mmap threshold, and fresh ones cost a round of
/// page faults and a TLB flush every block.
struct BlockScratch {
  MatrixD p, q, q1, resid, y, zs, a, b, qy, u, wqy, wa;
};
BlockScratch& block_scratch() {
  thread_local BlockScratch scratch;
  return scratch;
}

/// The hidden terms of a block of rows X: P = sigmoid(X (W/σ²) + c), Q = P ⊙ (1 − P) and,
/// when q1 is not null, Q' = Q ⊙ (1 − 2P), each N×m.
void block_hidden_terms(const MatrixD& scaled_weights, const VectorD& c, const Eigen::Ref<const MatrixD>& x,
                        MatrixD& p, MatrixD& q, MatrixD* q1) {
  const Eigen::Index n = x.rows(), m = scaled_weights.cols();
  p.resize(n, m);
  q.resize(n, m);
  if (q1) q1->resize(n, m);
  p.noalias() = x * scaled_weights;
  for (Eigen::Index r = 0; r < n; ++r)
    for (Eigen::Index j = 0; j < m; ++j) {
      const double pj = sigmoid(p(r, j) + c[j]);
      p(r, j) = pj;
      q(r, j) = pj * (1 - pj);
      if (q1) (*q1)(r, j) = q(r, j) * (1 - 2 * pj);
    }
}
}  // namespace

double GrbmFreeEnergy::add_sliced_score_matching_terms(const Eigen::Ref<const MatrixD>& rows,
                                                       const Eigen::Ref<const MatrixD>& projections,
                                                       Eigen::Ref<VectorD> g) const {
  const Eigen::Index n = inv_var_.size(), m = lap_weights_.size(), nr = rows.rows(), nz = projections.rows();
  check_arg(rows.cols() == n && projections.cols() == n,
            "GrbmFreeEnergy::add_sliced_score_matching_terms: rows has {} and projections {} columns but the model has {} "
            "visible units",
            rows.cols(), projections.cols(), n);
  check_arg(nr == 0 ? nz == 0 : nz % nr == 0,
            "GrbmFreeEnergy::add_sliced_score_matching_terms: {} projections for {} rows (need a whole number per row)", nz,
            nr);
  const bool want = g.size() != 0, learn = model_.learn_sigma;
  if (want)
    check_arg(g.size() == Eigen::Index(num_parameters()),
              "GrbmFreeEnergy::add_sliced_score_matching_terms: g has {} entries but the model has {} parameters",
              g.size(), num_parameters());
  if (nr == 0) return 0;
  const Eigen::Index per_row = nz / nr;
  const VectorD& s = inv_var_;
  BlockScratch& sc = block_scratch();
  MatrixD &p = sc.p, &q = sc.q, &q1 = sc.q1, &resid = sc.resid, &y = sc.y;
  block_hidden_terms(scaled_weights_, model_.hidden_bias, rows, p, q, want ? &q1 : nullptr);
  resid.resize(nr, n);  // X − b − P Wᵀ; the scores are resid ⊙ s
  resid.noalias() = -p * model_.weights.transpose();
  resid += rows;
  resid.rowwise() -= model_.visible_bias.transpose();
  y.resize(nz, m);  // Y = Z (W/σ²)
  y.noalias() = projections * scaled_weights_;
  // Per (row, projection): a = zᵀ∇F = Σ_i z_i s_i resid_i, zᵀ∇²F z = Σ_i s_i z_i² − Σ_j q_j y_j².
  VectorD a(nz);
  double value = 0;
  for (Eigen::Index r = 0; r < nr; ++r)
    for (Eigen::Index k = r * per_row; k < (r + 1) * per_row; ++k) {
      double ak = 0, h = 0;
      for (Eigen::Index i = 0; i < n; ++i) {
        const double zs = projections(k, i) * s[i];
        ak += zs * resid(r, i);
        h += zs * projections(k, i);
      }
      for (Eigen::Index j = 0; j < m; ++j) h -= q(r, j) * y(k, j) * y(k, j);
      a[k] = ak;
      value += 0.5 * ak * ak - h;
    }
  if (!want) return value;
  // With Zs = Z diag(s), U = X diag(s), per (row n, projection k):
  //   ∂/∂W = Zs_k (2 q_n ⊙ y_k − a_k p_n)ᵀ + U_n (q'_n ⊙ y_k² − a_k q_n ⊙ y_k)ᵀ,
  //   ∂/∂b = −a_k Zs_k, ∂/∂c = q'_n ⊙ y_k² − a_k q_n ⊙ y_k;
  // B (rows k) and A (rows n, summed over the row's projections) collect the two factors.
  MatrixD &zs = sc.zs, &amat = sc.a, &bmat = sc.b, &qy = sc.qy, &u = sc.u;
  zs = projections * s.asDiagonal();
  amat.setZero(nr, m);
  bmat.resize(nz, m);
  if (learn) qy.resize(nz, m);
  for (Eigen::Index r = 0; r < nr; ++r)
    for (Eigen::Index k = r * per_row; k < (r + 1) * per_row; ++k)
      for (Eigen::Index j = 0; j < m; ++j) {
        const double yk = y(k, j), t = q(r, j) * yk;
        bmat(k, j) = 2 * t - a[k] * p(r, j);
        amat(r, j) += (q1(r, j) * yk - a[k] * q(r, j)) * yk;
        if (learn) qy(k, j) = t;
      }
  u = rows * s.asDiagonal();
  Eigen::Map<MatrixD> gw(g.data(), n, m);
  gw.noalias() += zs.transpose() * bmat;
  gw.noalias() += u.transpose() * amat;
  g.segment(n * m, n).noalias() -= zs.transpose() * a;
  g.segment(n * m + n, m) += amat.colwise().sum().transpose();
  if (!learn) return value;
  // ∂/∂log σ = Σ_k Zs_k ⊙ (2 z_k − 2 a_k resid_n − 4 (W (q_n ⊙ y_k))) − 2 Σ_n U_n ⊙ (W A_n).
  MatrixD &wqy = sc.wqy, &wa = sc.wa;
  wqy.resize(nz, n);
  wa.resize(nr, n);
  wqy.noalias() = qy * model_.weights.transpose();
  wa.noalias() = amat * model_.weights.transpose();
  auto gs = g.segment(n * m + n + m, n);
  for (Eigen::Index r = 0; r < nr; ++r) {
    for (Eigen::Index k = r * per_row; k < (r + 1) * per_row; ++k)
      gs.array() += zs.row(k).transpose().array() *
                    (2 * projections.row(k).transpose().array() - 2 * a[k] * resid.row(r).transpose().array() -
                     4 * wqy.row(k).transpose().array());
    gs.array() -= 2 * u.row(r).transpose().array() * wa.row(r).transpose().array();
  }
  return value;
}

double GrbmFreeEnergy::add_denoising_score_matching_terms(const Eigen::Ref<const MatrixD>& noisy,
                                                          const Eigen::Ref<const MatrixD>& noise, double sigma,
                                                          Eigen::Ref<VectorD> g) const {
  const Eigen::Index n = inv_var_.size(), m = lap_weights_.size(), nr = noisy.rows();
  check_arg(noisy.cols() == n && noise.cols() == n && noise.rows() == nr,
            "GrbmFreeEnergy::add_denoising_score_matching_terms: noisy is {}x{} and noise {}x{} (need the same shape, {} "
            "columns)",
            noisy.rows(), noisy.cols(), noise.rows(), noise.cols(), n);
  const bool want = g.size() != 0, learn = model_.learn_sigma;
  if (want)
    check_arg(g.size() == Eigen::Index(num_parameters()),
              "GrbmFreeEnergy::add_denoising_score_matching_terms: g has {} entries but the model has {} parameters",
              g.size(), num_parameters());
  if (nr == 0) return 0;
  const VectorD& s = inv_var_;
  BlockScratch& sc = block_scratch();
  MatrixD &p = sc.p, &q = sc.q, &resid = sc.resid, &r = sc.y, &psi = sc.zs, &t = sc.a, &u = sc.u, &wt = sc.wa;
  block_hidden_terms(scaled_weights_, model_.hidden_bias, noisy, p, q, nullptr);
  resid.resize(nr, n);  // X̃ − b − P Wᵀ
  resid.noalias() = -p * model_.weights.transpose();
  resid += noisy;
  resid.rowwise() -= model_.visible_bias.transpose();
  // R = σ ∇F(x̃) − ε = σ (resid ⊙ s) − ε.
  r = sigma * (resid * s.asDiagonal()) - noise;
  const double value = 0.5 * r.squaredNorm();
  if (!want) return value;
  // Ψ = R diag(s), T = Q ⊙ (R (W/σ²)), U = X̃ diag(s):
  //   ∂/∂W = −σ (Ψᵀ P + Uᵀ T), ∂/∂b = −σ Σ Ψ, ∂/∂c = −σ Σ T,
  //   ∂/∂log σ = σ Σ [−2 Ψ ⊙ resid + 2 U ⊙ (T Wᵀ)].
  psi = r * s.asDiagonal();
  t.resize(nr, m);
  t.noalias() = r * scaled_weights_;
  t.array() *= q.array();
  u = noisy * s.asDiagonal();
  Eigen::Map<MatrixD> gw(g.data(), n, m);
  gw.noalias() -= sigma * (psi.transpose() * p);
  gw.noalias() -= sigma * (u.transpose() * t);
  g.segment(n * m, n) -= sigma * psi.colwise().sum().transpose();
  g.segment(n * m + n, m) -= sigma * t.colwise().sum().transpose();
  if (!learn) return value;
  wt.resize(nr, n);
  wt.noalias() = t * model_.weights.transpose();
  g.segment(n * m + n + m, n) +=
      sigma * (-2 * (psi.array() * resid.array()) + 2 * (u.array() * wt.array())).colwise().sum().transpose().matrix();
  return value;
}


VectorD grbm_mean_free_energy_gradient(const GrbmFreeEnergy& model, const Eigen::Ref<const MatrixD>& rows,
                                       const Exec& ex) {
  const GaussianRbm& rbm = model.model();
  check_arg(rows.cols() == Eigen::Index(rbm.n_visible()),
            "grbm_mean_free_energy_gradient: data has {} columns but the model has {} visible units", rows.cols(),
            rbm.n_visible());
  check_arg(rows.rows() >= 1, "grbm_mean_free_energy_gradient: data has no rows");
  const Eigen::Index n = Eigen::Index(rbm.n_visible()), m = Eigen::Index(rbm.n_hidden());
  const Eigen::Index p = Eigen::Index(model.num_parameters());
  const VectorD& sv = model.inverse_variance();
  const Blocks blocks = row_blocks(std::size_t(rows.rows()));
  const std::size_t work = 3 * std::size_t(rows.rows()) * std::size_t(n) * std::size_t(m);
  const VectorD sum = parallel_reduce(
      exec_for_work(ex, work), blocks.count(), VectorD(VectorD::Zero(p)),
      [&](std::size_t t) {
        VectorD g = VectorD::Zero(p);
        const Eigen::Index r0 = Eigen::Index(blocks.begin(t)), nr = Eigen::Index(blocks.size(t));
        const auto x = rows.middleRows(r0, nr);
        MatrixD pr(nr, m);
        pr.noalias() = x * model.scaled_weights();
        pr.rowwise() += rbm.hidden_bias.transpose();
        pr = pr.unaryExpr([](double a) { return sigmoid(a); });
        const MatrixD u = x * sv.asDiagonal();
        MatrixD dev = x;  // v − b
        dev.rowwise() -= rbm.visible_bias.transpose();
        Eigen::Map<RowMajorD>(g.data(), n, m).noalias() = -u.transpose() * pr;
        g.segment(n * m, n) = -(dev.colwise().sum().transpose().array() * sv.array()).matrix();
        g.segment(n * m + n, m) = -pr.colwise().sum().transpose();
        if (rbm.learn_sigma) {
          MatrixD wp(nr, n);
          wp.noalias() = pr * rbm.weights.transpose();
          g.segment(n * m + n + m, n) =
              (-(dev.array().square().rowwise() * sv.transpose().array()) + 2 * (u.array() * wp.array()))
                  .colwise()
                  .sum()
                  .transpose()
                  .matrix();
        }
        return g;
      },
      [](VectorD acc, const VectorD& part) { return VectorD(acc + part); });
  return sum / double(rows.rows());
}

}  // namespace logz
