// The RBM annealing path from a mixture of the modes' product bases (tempering/rbm_mixture_path.hpp).
#include "logz/tempering/rbm_mixture_path.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/vecmath.hpp"
#include "logz/kernels/rbm_gibbs.hpp"
#include "logz/kernels/site_gibbs.hpp"

namespace logz {

RbmModeMixturePath::RbmModeMixturePath(const RbmD& model, const RbmModes& modes, RbmProducts products)
    : m_(model),
      weights_(model.weights.cast<float>()),
      visible_bias_(model.visible_bias.cast<float>()) {
  model.validate("RbmModeMixturePath");
  check_arg(modes.hidden_layer, "RbmModeMixturePath: needs modes of the hidden layer");
  check_arg(modes.states.rows() >= 1 && std::size_t(modes.states.cols()) == model.n_hidden(),
            "RbmModeMixturePath: needs at least one mode of {} hidden units", model.n_hidden());
  const auto K = Eigen::Index(components_of(modes));
  logits_.resize(K, Eigen::Index(model.n_visible()));
  log_mix_.resize(K);
  LogSumExp total;
  for (Eigen::Index k = 0; k < K; ++k) total.add(modes.log_weights[k]);
  double acc = 0;
  for (Eigen::Index k = 0; k < K; ++k) {
    const VectorD logit = model.visible_bias + model.weights * modes.states.row(k).transpose().cast<double>();
    logits_.row(k) = logit.transpose().cast<float>();
    double norm = 0;
    for (Eigen::Index i = 0; i < logit.size(); ++i) norm += softplus(double(logits_(k, i)));
    const double log_pi = modes.log_weights[k] - total.value();
    log_mix_[k] = log_pi - norm;
    cumulative_.push_back(acc += std::exp(log_pi));
  }
  products_.resize(logits_.cols(), K + 1);
  products_.leftCols(K) = logits_.transpose().cast<double>();
  products_.col(K) = model.visible_bias;
  if (products == RbmProducts::fixed_point) fixed_ = std::make_shared<const FixedPointWeights>(weights_);
}

std::size_t RbmModeMixturePath::components_of(const RbmModes& modes) {
  if (modes.log_weights.size() == 0) return 0;
  const double top = modes.log_weights[0];
  Eigen::Index K = 0;
  while (K < modes.log_weights.size() && std::size_t(K) < max_components && modes.log_weights[K] > top + std::log(1e-12))
    ++K;
  return std::size_t(K);
}

double RbmModeMixturePath::log_z_base() const { return double(m_.n_hidden()) * std::numbers::ln2; }

void RbmModeMixturePath::terms(const Particles& x, Eigen::Index r0, Eigen::Index n, Terms& t, bool fixed) const {
  const Eigen::Index nh = m_.weights.cols(), nk = products_.cols();
  t.pre_h.resize(n, nh);
  t.ell.resize(n, nk);
  if (fixed) {
    BinaryPairs rows;
    rows.pack(x, std::size_t(r0), std::size_t(n));
    fixed_->w.multiply(rows, 0, std::size_t(nh), 1.0, m_.hidden_bias.data(), t.pre_h.data(), std::size_t(nh));
  }
  for (Eigen::Index r = 0; r < n; ++r) {
    double* h = &t.pre_h(r, 0);
    double* e = &t.ell(r, 0);
    if (!fixed)
      for (Eigen::Index j = 0; j < nh; ++j) h[j] = m_.hidden_bias[j];
    for (Eigen::Index k = 0; k < nk; ++k) e[k] = 0;
    const float* v = &x(r0 + r, 0);
    for (Eigen::Index i = 0; i < x.cols(); ++i) {
      if (v[i] == 0.0f) continue;
      const double* p = &products_(i, 0);
      if (!fixed) {
        const double* w = &m_.weights(i, 0);
#pragma omp simd
        for (Eigen::Index j = 0; j < nh; ++j) h[j] += w[j];
      }
      for (Eigen::Index k = 0; k < nk; ++k) e[k] += p[k];
    }
  }
}

namespace {

/// LSE_k(s · (ell(r, k) + log_mix_k)) over the K components (the columns before b·v), and
/// the softmax weights into `rho` when given.
double scaled_lse(const MatrixD& ell, const VectorD& log_mix, Eigen::Index r, double s, std::vector<double>* rho = nullptr) {
  const Eigen::Index K = log_mix.size();
  double top = -std::numeric_limits<double>::infinity();
  for (Eigen::Index k = 0; k < K; ++k) top = std::max(top, s * (ell(r, k) + log_mix[k]));
  double sum = 0;
  if (rho) rho->resize(std::size_t(K));
  for (Eigen::Index k = 0; k < K; ++k) {
    const double e = std::exp(s * (ell(r, k) + log_mix[k]) - top);
    sum += e;
    if (rho) (*rho)[std::size_t(k)] = e;
  }
  if (rho)
    for (double& e : *rho) e /= sum;
  return top + std::log(sum);
}

}  // namespace

void RbmModeMixturePath::draw_base(const Exec& ex, Particles& x, std::span<Stream> streams) const {
  x.resize(Eigen::Index(streams.size()), Eigen::Index(m_.n_visible()));
  const Blocks blocks = row_blocks(streams.size());
  parallel_for(ex, blocks.count(), [&](std::size_t b) {
    GibbsScratch<float> s;
    s.u.resize(x.cols());
    for (std::size_t r = blocks.begin(b); r < blocks.end(b); ++r) {
      Stream& st = streams[r];
      const double u = st.uniform_double() * cumulative_.back();
      const auto k = Eigen::Index(std::min<std::ptrdiff_t>(
          std::lower_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin(), logits_.rows() - 1));
      st.fill_uniform(s.u.data(), std::size_t(x.cols()));
      bernoulli_logistic_row(logits_.row(k), 1.0f, s.u.data(), &x(Eigen::Index(r), 0), s);
    }
  });
}

void RbmModeMixturePath::log_ratio(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> out) const {
  check_arg(out.size() == std::size_t(x.rows()), "RbmModeMixturePath: {} particles but {} entries to fill", x.rows(),
            out.size());
  std::fill(out.begin(), out.end(), 0.0);
  advance(ex, const_cast<Particles&>(x), b0, b1, out, {}, false);  // no move: x is not written
}

void RbmModeMixturePath::dlog_f(const Exec& ex, const Particles& x, double beta, std::span<double> out) const {
  check_arg(out.size() == std::size_t(x.rows()), "RbmModeMixturePath: {} particles but {} entries to fill", x.rows(),
            out.size());
  const Blocks blocks = row_blocks(out.size());
  const double log_k = std::log(double(logits_.rows()));
  parallel_for(ex, blocks.count(), [&](std::size_t b) {
    const auto r0 = Eigen::Index(blocks.begin(b)), n = Eigen::Index(blocks.size(b));
    Terms t;
    terms(x, r0, n, t, fixed_at(beta));
    std::vector<double> rho;
    for (Eigen::Index r = 0; r < n; ++r) {
      // d/dβ: −log K − Σ_k ρ_k ℓ_k (ρ = softmax((1−β) ℓ)) + b·v + Σ_j pre_j σ(β pre_j).
      scaled_lse(t.ell, log_mix_, r, 1 - beta, &rho);
      const Eigen::Index K = log_mix_.size();
      double s = -log_k + t.ell(r, K);
      for (Eigen::Index k = 0; k < K; ++k) s -= rho[std::size_t(k)] * (t.ell(r, k) + log_mix_[k]);
      for (Eigen::Index j = 0; j < t.pre_h.cols(); ++j) s += t.pre_h(r, j) * sigmoid(beta * t.pre_h(r, j));
      out[std::size_t(r0 + r)] = s;
    }
  });
}

MoveInfo RbmModeMixturePath::move(const Exec& ex, Particles& x, double beta, std::span<Stream> streams) const {
  return advance(ex, x, beta, beta, {}, streams, true);
}

MoveInfo RbmModeMixturePath::advance(const Exec& ex, Particles& x, double b0, double b1, std::span<double> log_w,
                                     std::span<Stream> streams, bool move) const {
  check_arg(!move || streams.size() == std::size_t(x.rows()), "RbmModeMixturePath: {} particles but {} streams",
            x.rows(), streams.size());
  const Blocks blocks = row_blocks(std::size_t(x.rows()));
  const double log_k = std::log(double(logits_.rows()));
  std::vector<std::size_t> changed(blocks.count(), 0);
  parallel_for(ex, blocks.count(), [&](std::size_t b) {
    const auto r0 = Eigen::Index(blocks.begin(b)), n = Eigen::Index(blocks.size(b));
    const bool fixed0 = fixed_at(b0), fixed1 = fixed_at(b1);
    Terms t;
    terms(x, r0, n, t, fixed1);
    if (!log_w.empty()) {
      // A step to or from β = 1 leaves the fixed-point model: log f_b0's hidden term from
      // its own products (the n_h log 2 of softplus(0) cancels).
      Terms t0;
      if (fixed0 != fixed1) terms(x, r0, n, t0, fixed0);
      const auto nh = std::size_t(t.pre_h.cols());
      for (Eigen::Index r = 0; r < n; ++r) {
        const double hidden = fixed0 == fixed1 ? sum_softplus_difference(&t.pre_h(r, 0), nh, b1, b0)
                                               : sum_softplus_difference(&t.pre_h(r, 0), nh, b1, 0.0) -
                                                     sum_softplus_difference(&t0.pre_h(r, 0), nh, b0, 0.0);
        log_w[std::size_t(r0 + r)] += -(b1 - b0) * log_k + scaled_lse(t.ell, log_mix_, r, 1 - b1) -
                                      scaled_lse(t.ell, log_mix_, r, 1 - b0) + (b1 - b0) * t.ell(r, log_mix_.size()) +
                                      hidden;
      }
    }
    if (!move) return;
    // k ~ p(k | v) (one uniform double), h ~ p(h | v) (n_h floats), then v ~ p(v | h, k) (n_v floats).
    GibbsScratch<float> s;
    const MatrixF pre_h = t.pre_h.cast<float>();
    MatrixF h(n, t.pre_h.cols());
    std::vector<Eigen::Index> k_of(static_cast<std::size_t>(n));
    std::vector<double> rho;
    for (Eigen::Index r = 0; r < n; ++r) {
      Stream& st = streams[std::size_t(r0 + r)];
      scaled_lse(t.ell, log_mix_, r, 1 - b1, &rho);
      k_of[std::size_t(r)] = Eigen::Index(detail::inverse_cdf(rho, st.uniform_double()));
      s.u.resize(h.cols());
      st.fill_uniform(s.u.data(), std::size_t(h.cols()));
      bernoulli_logistic_row(pre_h.row(r), float(b1), s.u.data(), &h(r, 0), s);
    }
    if (fixed1) {
      BinaryPairs hidden;
      hidden.pack(h, 0, std::size_t(n));
      s.pre_v.resize(n, x.cols());
      fixed_->wt.multiply<float>(hidden, 0, std::size_t(x.cols()), 1.0f, nullptr, s.pre_v.data(),
                          std::size_t(x.cols()));
    } else {
      s.pre_v.noalias() = h * weights_.transpose();
    }
    const VectorF vis = (float(b1) * visible_bias_).eval();
    std::vector<float> old(std::size_t(x.cols()));
    s.u.resize(x.cols());
    for (Eigen::Index r = 0; r < n; ++r) {
      auto pre = s.pre_v.row(r);
      pre *= float(b1);
      pre += vis.transpose() + float(1 - b1) * logits_.row(k_of[std::size_t(r)]);
      Stream& st = streams[std::size_t(r0 + r)];
      st.fill_uniform(s.u.data(), std::size_t(x.cols()));
      float* row = &x(r0 + r, 0);
      std::copy(row, row + x.cols(), old.begin());
      bernoulli_logistic_row(pre, 1.0f, s.u.data(), row, s);
      for (Eigen::Index i = 0; i < x.cols(); ++i) changed[b] += row[i] != old[std::size_t(i)];
    }
  });
  if (!move) return {};
  std::size_t total = 0;
  for (std::size_t c : changed) total += c;
  return {double(total) / double(std::max<Eigen::Index>(1, x.size())), 0, double(total), double(x.size())};
}

}  // namespace logz
