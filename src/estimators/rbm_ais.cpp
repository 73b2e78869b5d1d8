// AIS and RAISE on the RBM weight-annealing path (Salakhutdinov & Murray 2008;
// Burda, Grosse & Salakhutdinov 2015).
//
// Both walk all chains through the schedule together, one β at a time, with each matrix
// product split by output columns (column_blocks) so that a block packs only its slice
// of W. Chain r draws the words of sweep s from its own stream at [s (n_h + n_v), ...)
// (Stream::seek), so the result does not depend on the thread count.
#include "logz/estimators/rbm_ais.hpp"

#include <chrono>

#include "logz/core/rng.hpp"
#include "logz/core/vecmath.hpp"
#include "logz/kernels/rbm_gibbs.hpp"
#include "logz/tempering/rbm_path.hpp"

namespace logz {
namespace {

/// The chains on the annealing path and the two half-steps of a sweep.
class PathChains {
 public:
  PathChains(const RbmF& model, const VectorF& base_bias, const Schedule& schedule, MatrixF start, std::vector<Stream> streams)
      : m_(model),
        path_(model, base_bias),
        betas_(schedule.betas()),
        diff_((model.visible_bias.cast<double>() - base_bias.cast<double>()).eval()),
        v_(std::move(start)),
        streams_(std::move(streams)),
        hid_(column_blocks(model.n_hidden())),
        vis_(column_blocks(model.n_visible())),
        rows_(Blocks{std::size_t(v_.rows()), (std::size_t(v_.rows()) + hid_.count() - 1) / hid_.count()}),
        pre_h_(v_.rows(), Eigen::Index(model.n_hidden())),
        h_(v_.rows(), Eigen::Index(model.n_hidden())),
        partial_(std::size_t(v_.rows()) * hid_.count()),
        vd_(v_.rows()),
        scratch_(std::max(hid_.count(), vis_.count())) {}

  double log_z_base() const { return path_.log_z_base(); }
  std::size_t chains() const { return std::size_t(v_.rows()); }

  /// pre_h = V W + c for the current V. If `weights`: adds sign·[log f_{β_k1}(v) − log
  /// f_{β_k0}(v)] to weights[r] for every chain. If `sample_at` is a β index: draws
  /// h ~ p_β(h | v) with the words of sweep `sweep`.
  void hidden_half(const Exec& ex, double* weights, std::size_t k1, std::size_t k0, double sign, std::ptrdiff_t sample_at,
                   std::uint64_t sweep) {
    const std::uint64_t word0 = sweep * std::uint64_t(m_.n_hidden() + m_.n_visible());
    parallel_for(ex, hid_.count(), [&](std::size_t t) {
      const auto j0 = Eigen::Index(hid_.begin(t)), w = Eigen::Index(hid_.size(t));
      auto pre = pre_h_.middleCols(j0, w);
      pre.noalias() = v_ * m_.weights.middleCols(j0, w);
      pre.rowwise() += m_.hidden_bias.segment(j0, w).transpose();
      if (weights) {
        // Σ_j over this block's columns; the visible term for this task's rows.
        for (Eigen::Index r = 0; r < v_.rows(); ++r)
          partial_[std::size_t(r) * hid_.count() + t] =
              sum_softplus_difference(pre.row(r).data(), std::size_t(w), betas_[k1], betas_[k0]);
        for (std::size_t r = rows_.begin(t); r < rows_.end(t); ++r) vd_[Eigen::Index(r)] = visible_dot(r);
      }
      if (sample_at >= 0) {
        GibbsScratch<float>& s = scratch_[t];
        s.pre_h = pre;
        sample_logistic_columns(s.pre_h, float(betas_[std::size_t(sample_at)]), streams_.data(), word0 + std::uint64_t(j0),
                                h_.middleCols(j0, w), s);
      }
    });
    if (weights)
      for (Eigen::Index r = 0; r < v_.rows(); ++r) {
        double inc = (betas_[k1] - betas_[k0]) * vd_[r];
        for (std::size_t t = 0; t < hid_.count(); ++t) inc += partial_[std::size_t(r) * hid_.count() + t];
        weights[r] += sign * inc;
      }
  }

  /// (b − a)·v_r in double.
  double visible_dot(std::size_t r) const {
    const float* v = &v_(Eigen::Index(r), 0);
    const double* d = diff_.data();
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (Eigen::Index i = 0; i < v_.cols(); ++i) sum += double(v[i]) * d[i];
    return sum;
  }

  /// v ~ p_β(v | h) at β index k, with the words of sweep `sweep`.
  void visible_half(const Exec& ex, std::size_t k, std::uint64_t sweep) {
    const std::uint64_t word0 = sweep * std::uint64_t(m_.n_hidden() + m_.n_visible()) + m_.n_hidden();
    const float beta = float(betas_[k]);
    bias_ = path_.visible_bias_at(betas_[k]);
    const VectorF& bias = bias_;
    parallel_for(ex, vis_.count(), [&](std::size_t t) {
      const auto i0 = Eigen::Index(vis_.begin(t)), w = Eigen::Index(vis_.size(t));
      GibbsScratch<float>& s = scratch_[t];
      s.pre_v.noalias() = h_ * m_.weights.middleRows(i0, w).transpose();
      if (beta != 1.0f) s.pre_v *= beta;
      s.pre_v.rowwise() += bias.segment(i0, w).transpose();
      sample_logistic_columns(s.pre_v, 1.0f, streams_.data(), word0 + std::uint64_t(i0), v_.middleCols(i0, w), s);
    });
  }

 private:
  const RbmF& m_;
  RbmPath<float> path_;
  const std::vector<double>& betas_;
  VectorD diff_;  // b − a
  MatrixF v_;
  std::vector<Stream> streams_;
  Blocks hid_, vis_, rows_;
  MatrixF pre_h_, h_;
  std::vector<double> partial_;  // [chain][hidden block] softplus-difference sums
  VectorD vd_;                   // V (b − a)
  VectorF bias_;                 // visible biases at the current β
  std::vector<GibbsScratch<float>> scratch_;  // one per block, reused: no allocation per step
};

}  // namespace

LogZEstimate rbm_ais(const RbmF& model, const VectorF& base_bias, const Schedule& schedule, const RbmAisConfig& config,
                     const Exec& ex, Observer& obs) {
  check_arg(config.chains >= 1, "rbm_ais: chains must be >= 1, got {}", config.chains);
  model.validate("rbm_ais");
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t K = schedule.steps();

  // Exact draws from the base: v ~ Π_i Bernoulli(σ(a_i)), chain r on derive(seed, ais, r).
  RbmChains<float> start = RbmChains<float>::from_bias(base_bias, config.chains, config.seed, Purpose::ais);
  PathChains c(model, base_bias, schedule, std::move(start.v), std::move(start.streams));
  std::vector<double> log_w(config.chains, 0.0);
  ProgressTicker ticker(obs, "AIS", K);
  // Step k: weight by f_k / f_{k−1} at x_{k−1}, then x_k ~ T_k (which leaves p_k
  // invariant); the last transition would change no weight and is skipped.
  for (std::size_t k = 1; k <= K; ++k) {
    const bool move = k < K;
    c.hidden_half(ex, log_w.data(), k, k - 1, 1.0, move ? std::ptrdiff_t(k) : -1, k - 1);
    if (move) c.visible_half(ex, k, k - 1);
    if (k % 64 == 0) ticker.add(64);
  }
  ticker.finish();

  return ais_estimate(std::move(log_w), c.log_z_base(), seconds_since(t0));
}

LogZEstimate rbm_raise(const RbmF& model, const VectorF& base_bias, const Schedule& schedule, const MatrixU8& start,
                       std::uint64_t seed, const Exec& ex, Observer& obs) {
  check_arg(start.rows() >= 1, "rbm_raise: needs at least one start vector, got {}", start.rows());
  check_arg(std::size_t(start.cols()) == model.n_visible(), "rbm_raise: start data has {} columns, the model has {} visible units",
            start.cols(), model.n_visible());
  model.validate("rbm_raise");
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t K = schedule.steps(), n_chains = std::size_t(start.rows());

  PathChains c(model, base_bias, schedule, start.cast<float>(), Stream::root(seed).children(Purpose::raise, n_chains));
  std::vector<double> r_w(n_chains, 0.0);
  ProgressTicker ticker(obs, "RAISE", K);
  // x_K = v; for k = K−1 .. 0: x_k ~ T_{k+1}(· | x_{k+1}), r += log f_k(x_k) − log f_{k+1}(x_k).
  // Sweep s = K−1−k; each hidden half also draws h for the next sweep, at β_k.
  c.hidden_half(ex, nullptr, 0, 0, 0.0, std::ptrdiff_t(K), 0);
  for (std::size_t k = K; k-- > 0;) {
    const std::uint64_t sweep = K - 1 - k;
    c.visible_half(ex, k + 1, sweep);
    c.hidden_half(ex, r_w.data(), k + 1, k, -1.0, k > 0 ? std::ptrdiff_t(k) : -1, sweep + 1);
    if ((sweep + 1) % 64 == 0) ticker.add(64);
  }
  ticker.finish();

  MeanVar mv;
  for (double r : r_w) mv.add(r);
  LogZEstimate e;
  e.method = "raise";
  e.log_z_base = c.log_z_base();
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
