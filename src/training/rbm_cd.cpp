// CD-k / PCD-k training of a binary RBM: the start, the epochs and the checkpoint
// (training/rbm_cd.hpp).
#include "logz/training/rbm_cd.hpp"

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
#include "logz/kernels/rbm_gibbs.hpp"
#include "logz/training/loop.hpp"

namespace logz {
namespace {

const RbmCdOptions& checked(const RbmCdOptions& o) {
  check_arg(o.k >= 1, "RbmCdTrainer: k must be >= 1 (got 0)");
  check_arg(o.batch >= 1, "RbmCdTrainer: batch must be >= 1 (got 0)");
  check_arg(o.epochs >= 1, "RbmCdTrainer: epochs must be >= 1 (got 0)");
  return o;
}

std::size_t chain_count(const RbmCdOptions& o) { return o.persistent ? (o.chains ? o.chains : o.batch) : 0; }

RbmF initial_model(const VectorD& data_means, std::size_t n_hidden, const RbmCdOptions& o) {
  const std::size_t nv = std::size_t(data_means.size());
  RbmF m(nv, n_hidden);
  Stream init = Stream::derive(o.seed, Purpose::init, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = float(o.init_scale * init.normal());
  for (std::size_t i = 0; i < nv; ++i) {
    const double p = std::clamp(data_means[Eigen::Index(i)], 1e-3, 1 - 1e-3);
    m.visible_bias[Eigen::Index(i)] = float(std::log(p / (1 - p)));
  }
  return m;
}

MatrixF initial_chains(const RbmF& m, const RbmCdOptions& o) {
  if (!o.persistent) return {};
  return RbmChains<float>::from_bias(m.visible_bias, chain_count(o), o.seed, Purpose::chains).v;
}

}  // namespace

RbmCdTrainer::RbmCdTrainer(const RbmCdOptions& options, RbmF model, RbmF velocity, MatrixF chains, std::size_t epoch)
    : options_(checked(options)),
      model_(std::move(model)),
      velocity_(std::move(velocity)),
      cd_(CdParams(options.k, options.persistent), std::move(chains)),
      epoch_(epoch) {}

RbmCdTrainer::RbmCdTrainer(const VectorD& data_means, std::size_t n_hidden, const RbmCdOptions& options)
    : options_(checked(options)),
      model_(initial_model(data_means, n_hidden, options)),
      velocity_(std::size_t(data_means.size()), n_hidden),
      cd_(CdParams(options.k, options.persistent), initial_chains(model_, options)) {}

double RbmCdTrainer::learning_rate(std::size_t epoch) const {
  if (!options_.final_learning_rate) return options_.learning_rate;
  return linear_epoch_rate(options_.learning_rate, *options_.final_learning_rate, epoch, options_.epochs);
}

RbmCdEpoch RbmCdTrainer::run_epoch(const MatrixU8& train, const Exec& ex, Observer& obs) {
  const std::size_t n = std::size_t(train.rows()), batch = options_.batch;
  check_arg(n >= batch, "RbmCdTrainer::run_epoch: the data has {} rows, fewer than one batch of {}", n, batch);
  check_arg(std::size_t(train.cols()) == model_.n_visible(),
            "RbmCdTrainer::run_epoch: the data has {} columns but the model has {} visible units", train.cols(),
            model_.n_visible());
  const std::size_t batches = n / batch;
  const double lr = learning_rate(epoch_);
  const std::vector<std::size_t> order = epoch_order(options_.seed, epoch_, n);
  const auto t0 = std::chrono::steady_clock::now();
  MatrixF x(Eigen::Index(batch), train.cols());
  std::size_t b = 0;
  training::for_each_minibatch(std::span<const std::size_t>(order.data(), batches * batch), batch, obs,
                               fmt::format("epoch {}/{}", epoch_ + 1, options_.epochs),
                               [&](std::span<const std::size_t> rows) {
                                 for (std::size_t r = 0; r < rows.size(); ++r)
                                   x.row(Eigen::Index(r)) = train.row(Eigen::Index(rows[r])).cast<float>();
                                 cd_.step(model_, x, Stream::derive(options_.seed, Purpose::gibbs, epoch_ * batches + b),
                                          lr, options_.momentum, options_.weight_decay, velocity_, ex);
                                 ++b;
                               });
  ++epoch_;
  return RbmCdEpoch{epoch_, lr, seconds_since(t0), batches * batch};
}

training::Checkpoint RbmCdTrainer::state() const {
  training::Checkpoint out;
  out.trainer = "rbm_cd";
  out.put("weights", MatrixD(model_.weights.cast<double>()));
  out.put("visible_bias", VectorD(model_.visible_bias.cast<double>()));
  out.put("hidden_bias", VectorD(model_.hidden_bias.cast<double>()));
  out.put("velocity_weights", MatrixD(velocity_.weights.cast<double>()));
  out.put("velocity_visible_bias", VectorD(velocity_.visible_bias.cast<double>()));
  out.put("velocity_hidden_bias", VectorD(velocity_.hidden_bias.cast<double>()));
  if (options_.persistent) out.put("chains", MatrixD(cd_.chains().cast<double>()));
  out.put_counters("epoch", {epoch_});
  return out;
}

RbmCdTrainer RbmCdTrainer::resume(const RbmCdOptions& options, const training::Checkpoint& state) {
  const char* who = "RbmCdTrainer::resume";
  const auto rbm = [&](const std::string& prefix) {
    RbmF m;
    m.weights = state.array(who, prefix + "weights").matrix(who, prefix + "weights").cast<float>();
    m.visible_bias = state.array(who, prefix + "visible_bias").vector().cast<float>();
    m.hidden_bias = state.array(who, prefix + "hidden_bias").vector().cast<float>();
    m.validate(who);
    return m;
  };
  RbmF model = rbm(""), velocity = rbm("velocity_");
  check_data(velocity.n_visible() == model.n_visible() && velocity.n_hidden() == model.n_hidden(),
             "{}: the velocity is {}x{} but the model {}x{}", who, velocity.n_visible(), velocity.n_hidden(),
             model.n_visible(), model.n_hidden());
  MatrixF chains;
  if (options.persistent) {
    const training::CheckpointArray& c = state.array(who, "chains");
    check_data(c.shape.size() == 2 && c.shape[0] == chain_count(options) && c.shape[1] == model.n_visible(),
               "{}: array 'chains' has shape {} but the run has {} chains of {} visible units", who, c.shape_string(),
               chain_count(options), model.n_visible());
    chains = c.matrix(who, "chains").cast<float>();
  }
  const std::vector<std::uint64_t>& epoch = state.counter(who, "epoch");
  check_data(epoch.size() == 1, "{}: array 'epoch' has shape ({},); expected (1,)", who, epoch.size());
  return RbmCdTrainer(options, std::move(model), std::move(velocity), std::move(chains), std::size_t(epoch[0]));
}

}  // namespace logz
