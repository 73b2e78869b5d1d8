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
  if (!o.tempering_betas.empty()) {
    check_arg(o.persistent, "RbmCdTrainer: tempering needs persistent chains");
    check_tempering_ladder("RbmCdTrainer", o.tempering_betas);
  }
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

bool tempered(const RbmCdOptions& o) { return !o.tempering_betas.empty(); }

/// The ladder's base: logit((m + 0.05) / 1.05) of the data means (as choose_base_bias).
VectorF tempering_base(const VectorD& data_means) {
  VectorF a(data_means.size());
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    const double p = (std::clamp(data_means[i], 0.0, 1.0) + 0.05) / 1.05;
    a[i] = float(std::log(p / (1 - p)));
  }
  return a;
}

/// PCD's chains, or none when tempering holds them.
MatrixF plain_chains(const RbmF& m, const RbmCdOptions& o) { return tempered(o) ? MatrixF() : initial_chains(m, o); }

std::optional<RbmTemperedChains> initial_ladders(const RbmF& m, const VectorD& data_means, const RbmCdOptions& o) {
  if (!tempered(o)) return std::nullopt;
  return RbmTemperedChains::from_starts(o.tempering_betas, tempering_base(data_means), initial_chains(m, o));
}

}  // namespace

RbmCdTrainer::RbmCdTrainer(const RbmCdOptions& options, RbmF model, RbmF velocity, MatrixF chains,
                           std::optional<RbmTemperedChains> tempered_chains, std::size_t epoch)
    : options_(checked(options)),
      model_(std::move(model)),
      velocity_(std::move(velocity)),
      cd_(CdParams(options.k, options.persistent && !tempered(options)), std::move(chains)),
      tempered_(std::move(tempered_chains)),
      epoch_(epoch) {}

RbmCdTrainer::RbmCdTrainer(const VectorD& data_means, std::size_t n_hidden, const RbmCdOptions& options)
    : options_(checked(options)),
      model_(initial_model(data_means, n_hidden, options)),
      velocity_(std::size_t(data_means.size()), n_hidden),
      cd_(CdParams(options.k, options.persistent && !tempered(options)), plain_chains(model_, options)),
      tempered_(initial_ladders(model_, data_means, options_)) {}

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
  if (tempered_) tempered_->reset_swap_counts();
  MatrixF x(Eigen::Index(batch), train.cols());
  std::size_t b = 0;
  training::for_each_minibatch(std::span<const std::size_t>(order.data(), batches * batch), batch, obs,
                               fmt::format("epoch {}/{}", epoch_ + 1, options_.epochs),
                               [&](std::span<const std::size_t> rows) {
                                 training::gather_rows(train, rows, x, ex);
                                 const std::size_t next = (b + 1) * batch;
                                 if (next < batches * batch)
                                   training::prefetch_rows(train, std::span(order).subspan(next, batch));
                                 const std::uint64_t update = epoch_ * batches + b;
                                 const Stream stream = Stream::derive(options_.seed, Purpose::gibbs, update);
                                 if (tempered_) {
                                   tempered_->advance(model_, options_.k, stream, update, ex);
                                   cd_.step_with_negatives(model_, x, tempered_->model_chains(), lr, options_.momentum,
                                                           options_.weight_decay, velocity_, ex);
                                 } else {
                                   cd_.step(model_, x, stream, lr, options_.momentum, options_.weight_decay, velocity_, ex);
                                 }
                                 ++b;
                               });
  ++epoch_;
  RbmCdEpoch done{epoch_, lr, seconds_since(t0), batches * batch, {}};
  if (tempered_) done.swap_rates = tempered_->swap_rates();
  return done;
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
  if (tempered_) {
    const std::size_t R = tempered_->num_replicas(), C = tempered_->num_chains(), nv = model_.n_visible();
    std::vector<double> values;
    values.reserve(R * C * nv);
    for (std::size_t r = 0; r < R; ++r) {
      const MatrixF& x = tempered_->replicas(r);  // row-major: rows follow each other
      values.insert(values.end(), x.data(), x.data() + x.size());
    }
    out.put("replicas", {R, C, nv}, std::move(values));
    out.put("tempering_base_bias", VectorD(tempered_->base_bias().cast<double>()));
  } else if (options_.persistent) {
    out.put("chains", MatrixD(cd_.chains().cast<double>()));
  }
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
  std::optional<RbmTemperedChains> ladders;
  if (tempered(options)) {
    const std::size_t R = options.tempering_betas.size(), C = chain_count(options), nv = model.n_visible();
    const training::CheckpointArray& c = state.array(who, "replicas");
    check_data(c.shape == std::vector<std::size_t>{R, C, nv},
               "{}: array 'replicas' has shape {} but the run has {} replicas of {} chains of {} visible units", who,
               c.shape_string(), R, C, nv);
    std::vector<MatrixF> replicas(R, MatrixF(Eigen::Index(C), Eigen::Index(nv)));
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t i = 0; i < C * nv; ++i) replicas[r].data()[i] = float(c.values[r * C * nv + i]);
    const VectorD base = state.array(who, "tempering_base_bias").vector();
    check_data(std::size_t(base.size()) == nv && base.allFinite(),
               "{}: array 'tempering_base_bias' must hold {} finite values (got {})", who, nv, base.size());
    ladders.emplace(options.tempering_betas, VectorF(base.cast<float>()), std::move(replicas));
  } else if (options.persistent) {
    const training::CheckpointArray& c = state.array(who, "chains");
    check_data(c.shape.size() == 2 && c.shape[0] == chain_count(options) && c.shape[1] == model.n_visible(),
               "{}: array 'chains' has shape {} but the run has {} chains of {} visible units", who, c.shape_string(),
               chain_count(options), model.n_visible());
    chains = c.matrix(who, "chains").cast<float>();
  }
  const std::vector<std::uint64_t>& epoch = state.counter(who, "epoch");
  check_data(epoch.size() == 1, "{}: array 'epoch' has shape ({},); expected (1,)", who, epoch.size());
  return RbmCdTrainer(options, std::move(model), std::move(velocity), std::move(chains), std::move(ladders),
                      std::size_t(epoch[0]));
}

}  // namespace logz
