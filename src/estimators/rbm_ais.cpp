// AIS and RAISE on the RBM weight-annealing path (Salakhutdinov & Murray 2008;
// Burda, Grosse & Salakhutdinov 2015).
#include "logz/estimators/rbm_ais.hpp"

#include <chrono>

#include "logz/core/rng.hpp"
#include "logz/core/vecmath.hpp"
#include "logz/kernels/rbm_gibbs.hpp"
#include "logz/tempering/rbm_path.hpp"

namespace logz {
namespace {

/// log f_{β1}(v) - log f_{β0}(v) for each row, given pre_h = V W + c and
/// vd = V (b - a):  (β1 - β0) vd + Σ_j [softplus(β1 pre_h_j) - softplus(β0 pre_h_j)].
void add_log_ratio(const MatrixF& pre_h, const VectorD& vd, double b1, double b0, double sign, double* out) {
  for (Eigen::Index r = 0; r < pre_h.rows(); ++r)
    out[r] += sign * ((b1 - b0) * vd[r] + sum_softplus_difference(pre_h.row(r).data(), std::size_t(pre_h.cols()), b1, b0));
}

/// V (b - a) in double: the visible part of every log-ratio.
template <class Block>
VectorD visible_dot(const Block& v, const VectorD& diff) {
  return v.template cast<double>() * diff;
}

struct Shared {
  const RbmF& model;
  RbmPath<float> path;
  VectorD bias_diff;  // b - a
  std::vector<VectorF> bias_at;  // (1-β_k) a + β_k b for every k
};

Shared make_shared(const RbmF& model, const VectorF& base_bias, const Schedule& schedule) {
  model.validate("rbm_ais");
  Shared s{model, RbmPath<float>(model, base_bias), (model.visible_bias.cast<double>() - base_bias.cast<double>()).eval(), {}};
  s.bias_at.reserve(schedule.betas().size());
  for (double b : schedule.betas()) s.bias_at.push_back(s.path.visible_bias_at(b));
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

LogZEstimate rbm_ais(const RbmF& model, const VectorF& base_bias, const Schedule& schedule, const RbmAisConfig& config,
                     const Exec& ex, Observer& obs) {
  check_arg(config.chains >= 1, "rbm_ais: chains must be >= 1, got {}", config.chains);
  const auto t0 = std::chrono::steady_clock::now();
  const Shared sh = make_shared(model, base_bias, schedule);
  const auto& betas = schedule.betas();
  const std::size_t K = schedule.steps();

  // Exact draws from the base: v ~ Π_i Bernoulli(σ(a_i)).
  RbmChains<float> chains = RbmChains<float>::from_bias(base_bias, config.chains, config.seed, Purpose::ais);
  std::vector<double> log_w(config.chains, 0.0);
  const Blocks blocks = row_blocks(config.chains);
  ProgressTicker ticker(obs, "AIS", K * blocks.count());
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    const auto r0 = Eigen::Index(blocks.begin(t)), n = Eigen::Index(blocks.size(t));
    auto v = chains.v.middleRows(r0, n);
    GibbsScratch<float> s;
    for (std::size_t k = 1; k <= K; ++k) {
      hidden_preactivation(model, v, s.pre_h);
      add_log_ratio(s.pre_h, visible_dot(v, sh.bias_diff), betas[k], betas[k - 1], 1.0, &log_w[std::size_t(r0)]);
      // T_k leaves p_k invariant; the last transition would not change any weight.
      if (k < K) gibbs_sweep_from_preactivation<float>(model, sh.bias_at[k], float(betas[k]), v, &chains.streams[std::size_t(r0)], s);
      if (k % 64 == 0 || k == K) ticker.add(std::min<std::size_t>(64, k % 64 == 0 ? 64 : k % 64));
    }
  });
  ticker.finish();

  const WeightSummary ws = summarize_log_weights(log_w);
  LogZEstimate e;
  e.method = "ais";
  e.log_z_base = sh.path.log_z_base();
  e.log_z = e.log_z_base + ws.log_mean;
  e.std_error = ws.std_error;
  e.error_method = config.chains > 1 ? "delta method on the importance weights: sd(w) / (sqrt(chains) mean(w))"
                                     : "none: a single chain gives no error estimate";
  e.ess = ws.ess;
  e.num_samples = config.chains;
  e.log_weights = std::move(log_w);
  e.seconds = seconds_since(t0);
  return e;
}

LogZEstimate rbm_raise(const RbmF& model, const VectorF& base_bias, const Schedule& schedule, const MatrixU8& start,
                       std::uint64_t seed, const Exec& ex, Observer& obs) {
  check_arg(start.rows() >= 1, "rbm_raise: needs at least one start vector, got {}", start.rows());
  check_arg(std::size_t(start.cols()) == model.n_visible(), "rbm_raise: start data has {} columns, the model has {} visible units",
            start.cols(), model.n_visible());
  const auto t0 = std::chrono::steady_clock::now();
  const Shared sh = make_shared(model, base_bias, schedule);
  const auto& betas = schedule.betas();
  const std::size_t K = schedule.steps(), n_chains = std::size_t(start.rows());

  MatrixF v = start.cast<float>();
  std::vector<Stream> streams;
  streams.reserve(n_chains);
  for (std::size_t r = 0; r < n_chains; ++r) streams.push_back(Stream::derive(seed, Purpose::raise, r));
  std::vector<double> r_w(n_chains, 0.0);
  const Blocks blocks = row_blocks(n_chains);
  ProgressTicker ticker(obs, "RAISE", K * blocks.count());
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    const auto r0 = Eigen::Index(blocks.begin(t)), n = Eigen::Index(blocks.size(t));
    auto vb = v.middleRows(r0, n);
    GibbsScratch<float> s;
    // x_K = v; for k = K-1 .. 0: x_k ~ T_{k+1}(· | x_{k+1}), r += log f_k(x_k) - log f_{k+1}(x_k).
    hidden_preactivation(model, vb, s.pre_h);
    for (std::size_t k = K; k-- > 0;) {
      gibbs_sweep_from_preactivation<float>(model, sh.bias_at[k + 1], float(betas[k + 1]), vb, &streams[std::size_t(r0)], s);
      hidden_preactivation(model, vb, s.pre_h);
      add_log_ratio(s.pre_h, visible_dot(vb, sh.bias_diff), betas[k + 1], betas[k], -1.0, &r_w[std::size_t(r0)]);
      const std::size_t done = K - k;
      if (done % 64 == 0 || k == 0) ticker.add(done % 64 == 0 ? 64 : done % 64);
    }
  });
  ticker.finish();

  MeanVar mv;
  for (double r : r_w) mv.add(r);
  LogZEstimate e;
  e.method = "raise";
  e.log_z_base = sh.path.log_z_base();
  e.log_z = e.log_z_base - mv.mean;
  e.std_error = n_chains > 1 ? mv.std_error() : std::numeric_limits<double>::quiet_NaN();
  e.error_method = n_chains > 1 ? "standard error of the mean reverse log-weight over chains (one per data vector)"
                                : "none: a single chain gives no error estimate";
  e.ess = double(n_chains);
  e.num_samples = n_chains;
  e.log_weights = std::move(r_w);
  e.seconds = seconds_since(t0);
  return e;
}

}  // namespace logz
