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

GrbmFreeEnergy::GrbmFreeEnergy(GaussianRbm model) : model_(std::move(model)) { model_.validate("GrbmFreeEnergy"); }

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
