// Exact quantities of the Gaussian–Bernoulli RBM by enumerating the hidden layer:
// log Z, the hidden marginal, moments, exact draws and the exact likelihood gradient
// (exact/grbm_exact.hpp).
#include "logz/exact/grbm_exact.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <span>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/ranks.hpp"

namespace logz {
namespace {

using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

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
  const LogSum total = ranks::spread_reduce(
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

VectorD grbm_exact_model_gradient(const GrbmFreeEnergy& model) {
  const GaussianRbm& rbm = model.model();
  const VectorD logp = grbm_hidden_log_marginal(rbm);  // checks n_hidden <= 20
  const Eigen::Index n = Eigen::Index(rbm.n_visible()), m = Eigen::Index(rbm.n_hidden());
  const VectorD& sv = model.inverse_variance();
  MatrixD vh = MatrixD::Zero(n, m);  // E[v_i h_j] = Σ_h p(h) (b + W h)_i h_j
  VectorD wh_mean = VectorD::Zero(n), h_mean = VectorD::Zero(m), rho = VectorD::Zero(n);
  VectorD h(m);
  for (Eigen::Index s = 0; s < logp.size(); ++s) {
    for (Eigen::Index j = 0; j < m; ++j) h[j] = double((std::uint64_t(s) >> j) & 1);
    const double w = std::exp(logp[s]);
    const VectorD a = rbm.weights * h;
    vh.noalias() += w * (rbm.visible_bias + a) * h.transpose();
    wh_mean += w * a;
    h_mean += w * h;
    rho += w * (a.array() * (a.array() + 2 * rbm.visible_bias.array())).matrix();
  }
  VectorD g(Eigen::Index(model.num_parameters()));
  Eigen::Map<RowMajorD>(g.data(), n, m) = -(sv.asDiagonal() * vh);
  g.segment(n * m, n) = -(sv.array() * wh_mean.array()).matrix();
  g.segment(n * m + n, m) = -h_mean;
  if (rbm.learn_sigma) g.segment(n * m + n + m, n) = (sv.array() * rho.array() - 1).matrix();
  return g;
}

VectorD grbm_exact_nll_gradient(const GrbmFreeEnergy& model, const MatrixD& data, const Exec& ex) {
  check_arg(data.cols() == Eigen::Index(model.model().n_visible()),
            "grbm_exact_nll_gradient: data has {} columns but the model has {} visible units", data.cols(),
            model.model().n_visible());
  check_arg(data.rows() >= 1, "grbm_exact_nll_gradient: data has no rows");
  return grbm_mean_free_energy_gradient(model, data, ex) - grbm_exact_model_gradient(model);
}

VectorD grbm_exact_log_likelihoods(const GaussianRbm& model, const MatrixD& data, const Exec& ex) {
  const double log_z = grbm_exact_log_z(model, ex);  // validates
  check_arg(data.cols() == Eigen::Index(model.n_visible()),
            "grbm_exact_log_likelihoods: data has {} columns but the model has {} visible units", data.cols(),
            model.n_visible());
  const GrbmFreeEnergy f(model);
  VectorD out(data.rows());
  const Blocks blocks = row_blocks(std::size_t(data.rows()));
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    for (std::size_t r = blocks.begin(t); r < blocks.end(t); ++r)
      out[Eigen::Index(r)] = -f.energy_of(data.row(Eigen::Index(r)).transpose()) - log_z;
  });
  return out;
}

}  // namespace logz
