// PCD training of the Gaussian–Bernoulli RBM: the trainer, its epochs and its
// checkpoint (training/grbm_pcd.hpp).
#include "logz/training/grbm_pcd.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"
#include "logz/objectives/grbm_pcd.hpp"
#include "logz/training/loop.hpp"

namespace logz {
namespace {

void check_rows(const char* who, const GaussianRbm& m, Eigen::Index rows, Eigen::Index cols) {
  check_arg(cols == Eigen::Index(m.n_visible()), "{}: data has {} columns but the model has {} visible units", who,
            cols, m.n_visible());
  check_arg(rows >= 1, "{}: data has no rows", who);
}

GaussianRbm validated(GaussianRbm m, const MatrixD& data, const GrbmPcdOptions& options) {
  const char* who = "GrbmPcdTrainer";
  m.validate(who);
  check_grbm_pcd_options(who, options);
  check_rows(who, m, data.rows(), data.cols());
  for (Eigen::Index c = 0; c < data.cols(); ++c)
    for (Eigen::Index r = 0; r < data.rows(); ++r)
      check_data(std::isfinite(data(r, c)), "{}: data({}, {}) is not finite ({})", who, r, c, data(r, c));
  return m;
}

}  // namespace

void check_grbm_pcd_options(const char* who, const GrbmPcdOptions& o) {
  check_arg(o.batch_size >= 1, "{}: batch_size must be >= 1 (got 0)", who);
  check_arg(o.chains >= 1, "{}: chains must be >= 1 (got 0)", who);
  check_arg(o.sweeps >= 1, "{}: sweeps must be >= 1 (got 0)", who);
  check_arg(std::isfinite(o.weight_decay) && o.weight_decay >= 0, "{}: weight_decay must be finite and >= 0 (got {})",
            who, o.weight_decay);
}

GrbmPcdTrainer::GrbmPcdTrainer(GaussianRbm init, MatrixD data, const GrbmPcdOptions& options)
    : free_(validated(std::move(init), data, options)),
      data_(std::move(data)),
      options_(options),
      chains_(GrbmChains::from_visible_bias(free_.model(), options.chains, options.seed, Purpose::gibbs)),
      adam_(free_.num_parameters(), options.adam) {}

VectorD GrbmPcdTrainer::gradient(const Eigen::Ref<const MatrixD>& batch, const Exec& ex) {
  check_rows("GrbmPcdTrainer::gradient", model(), batch.rows(), batch.cols());
  grbm_gibbs_sample(model(), chains_, options_.sweeps, ex);
  return grbm_pcd_gradient(free_, batch, chains_.v, options_.weight_decay, ex);
}

GrbmPcdEpoch GrbmPcdTrainer::run_epoch(const Exec& ex, Observer& obs) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t rows = std::size_t(data_.rows());
  const std::vector<std::size_t> order = epoch_order(options_.seed, epoch_, rows);
  MatrixD x;
  double norm_sum = 0;
  const std::size_t batches = training::for_each_minibatch(
      order, std::min(options_.batch_size, rows), obs, fmt::format("pcd epoch {}", epoch_ + 1),
      [&](std::span<const std::size_t> batch_rows) {
        training::gather_rows(data_, batch_rows, x, ex);
        const VectorD g = gradient(x, ex);
        VectorD theta = free_.parameters();
        adam_.step(theta, g);
        if (model().learn_sigma) {
          // set_parameters' range for log σ (1/σ² finite and > 0), reported as the data
          // problem it is: training diverged.
          const Eigen::Index off = theta.size() - Eigen::Index(model().n_visible());
          for (Eigen::Index i = 0; i < Eigen::Index(model().n_visible()); ++i)
            check_data(std::abs(theta[off + i]) < 354,
                       "GrbmPcdTrainer::run_epoch: log sigma[{}] = {} is out of range after update {} (training "
                       "diverged; lower the learning rate)",
                       i, theta[off + i], updates_ + 1);
        }
        free_.set_parameters(theta);
        norm_sum += g.norm();
        ++updates_;
      });
  ++epoch_;
  GrbmPcdEpoch rec{epoch_, batches, norm_sum / double(batches), seconds_since(t0)};
  obs.message(fmt::format("pcd epoch {}: {} updates, mean gradient norm {:.6g}, {:.3g} s", rec.epoch, rec.updates,
                          rec.mean_gradient_norm, rec.seconds));
  return rec;
}

training::Checkpoint GrbmPcdTrainer::state() const {
  const GaussianRbm& m = model();
  training::Checkpoint out;
  out.trainer = "grbm_pcd";
  out.put("weights", m.weights);
  out.put("visible_bias", m.visible_bias);
  out.put("hidden_bias", m.hidden_bias);
  out.put("visible_sigma", m.visible_sigma);
  out.put_counters("learn_sigma", {m.learn_sigma ? 1u : 0u});
  out.put_counters("counters", {epoch_, updates_, adam_.steps()});
  out.put("adam_m", adam_.first_moment());
  out.put("adam_v", adam_.second_moment());
  out.put("chains_v", chains_.v);
  out.put("chains_h", chains_.h);
  out.put_streams("chain_words", chains_.streams);
  return out;
}

namespace {
const char* const kResume = "GrbmPcdTrainer::resume";

const training::CheckpointArray& shaped(const training::Checkpoint& state, const char* name,
                                        std::vector<std::size_t> shape) {
  const training::CheckpointArray& a = state.array(kResume, name);
  check_data(a.shape == shape, "{}: array '{}' has shape {} but {} was expected", kResume, name, a.shape_string(),
             training::CheckpointArray{shape, {}}.shape_string());
  return a;
}

const std::vector<std::uint64_t>& counted(const training::Checkpoint& state, const char* name, std::size_t size) {
  const std::vector<std::uint64_t>& c = state.counter(kResume, name);
  check_data(c.size() == size, "{}: array '{}' has shape ({},) but ({},) was expected", kResume, name, c.size(), size);
  return c;
}
}  // namespace

GrbmPcdTrainer GrbmPcdTrainer::resume(MatrixD data, const GrbmPcdOptions& options, const training::Checkpoint& state) {
  const training::CheckpointArray& w = state.array(kResume, "weights");
  const MatrixD weights = w.matrix(kResume, "weights");
  const std::size_t n = w.shape[0], k = w.shape[1];
  GaussianRbm m;
  m.weights = weights;
  m.visible_bias = shaped(state, "visible_bias", {n}).vector();
  m.hidden_bias = shaped(state, "hidden_bias", {k}).vector();
  m.visible_sigma = shaped(state, "visible_sigma", {n}).vector();
  m.learn_sigma = counted(state, "learn_sigma", 1)[0] != 0;
  GrbmPcdTrainer t(std::move(m), std::move(data), options);

  const std::vector<std::uint64_t>& cnt = counted(state, "counters", 3);
  const std::size_t p = t.free_.num_parameters();
  const VectorD am = shaped(state, "adam_m", {p}).vector();
  const VectorD av = shaped(state, "adam_v", {p}).vector();
  t.adam_.restore(am, av, std::size_t(cnt[2]));
  t.epoch_ = std::size_t(cnt[0]);
  t.updates_ = std::size_t(cnt[1]);

  t.chains_.v = shaped(state, "chains_v", {options.chains, n}).matrix(kResume, "chains_v");
  t.chains_.h = shaped(state, "chains_h", {options.chains, k}).matrix(kResume, "chains_h");
  check_data(t.chains_.v.allFinite(), "{}: array 'chains_v' has a non-finite value", kResume);
  counted(state, "chain_words", options.chains);
  state.seek_streams(kResume, "chain_words", t.chains_.streams);
  return t;
}

}  // namespace logz
