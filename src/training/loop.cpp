// The shared trainer loop: options, the epoch order and seeds, the learning-rate
// schedules, and the optimizer / averaging core with its part of the checkpoint
// (training/loop.hpp).
#include "logz/training/loop.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"

namespace logz {

void check_training_options(const char* who, const TrainingOptions& o) {
  check_arg(o.batch_size >= 1, "{}: batch_size must be >= 1 (got 0)", who);
  const double rate = o.optimizer == OptimizerKind::adam ? o.adam.learning_rate : o.sgd.learning_rate;
  check_arg(std::isfinite(rate) && rate > 0, "{}: learning_rate must be finite and > 0 (got {})", who, rate);
  check_arg(std::isfinite(o.decay_steps) && o.decay_steps > 0, "{}: decay_steps must be finite and > 0 (got {})", who,
            o.decay_steps);
  check_arg(o.schedule != LearningRateSchedule::cosine || o.cosine_epochs >= 1,
            "{}: the cosine schedule needs cosine_epochs >= 1 (got 0)", who);
}

std::vector<std::size_t> epoch_order(std::uint64_t seed, std::size_t epoch, std::size_t rows) {
  std::vector<std::size_t> order(rows);
  for (std::size_t i = 0; i < rows; ++i) order[i] = i;
  Stream s = Stream::derive(seed, Purpose::shuffle, epoch);
  for (std::size_t i = rows; i > 1; --i) std::swap(order[i - 1], order[std::size_t(s.below(i))]);
  return order;
}

std::uint64_t epoch_noise_seed(std::uint64_t seed, std::size_t epoch) {
  Stream s = Stream::derive(seed, Purpose::noise, epoch);
  const std::uint64_t lo = s.next_u32(), hi = s.next_u32();
  return (hi << 32) | lo;
}

double linear_epoch_rate(double start, double end, std::size_t epoch, std::size_t epochs) {
  if (epochs <= 1) return start;
  return start + (end - start) * double(epoch) / double(epochs - 1);
}

namespace detail {

namespace {
std::variant<Adam, Sgd> make_optimizer(std::size_t n, const TrainingOptions& o) {
  if (o.optimizer == OptimizerKind::adam) return Adam(n, o.adam);
  return Sgd(n, o.sgd);
}
}  // namespace

TrainingCore::TrainingCore(VectorD params, std::size_t rows, const TrainingOptions& options)
    : options_(options),
      rows_(rows),
      batch_(std::min(options.batch_size, rows)),
      params_(std::move(params)),
      average_(VectorD::Zero(params_.size())),
      optimizer_(make_optimizer(std::size_t(params_.size()), options)) {
  check_training_options("TrainingCore", options);
}

double TrainingCore::learning_rate() const {
  const double a0 = options_.optimizer == OptimizerKind::adam ? options_.adam.learning_rate : options_.sgd.learning_rate;
  const double t = double(updates_);
  switch (options_.schedule) {
    case LearningRateSchedule::constant: return a0;
    case LearningRateSchedule::inverse_time: return a0 / (1 + t / options_.decay_steps);
    case LearningRateSchedule::cosine: {
      const double total = double(options_.cosine_epochs) * double(batches_per_epoch());
      return a0 * 0.5 * (1 + std::cos(std::numbers::pi * std::min(t, total) / total));
    }
  }
  return a0;
}

void TrainingCore::step(const char* who, const VectorD& gradient) {
  check_data(gradient.allFinite(), "{}: the gradient of update {} is not finite (the run diverged: lower the learning rate)",
             who, updates_ + 1);
  const double rate = learning_rate();
  VectorD next = params_;
  auto optimizer = optimizer_;
  std::visit([&](auto& opt) { opt.step(next, gradient, rate); }, optimizer);
  check_data(next.allFinite(), "{}: the parameters after update {} are not finite (the run diverged: lower the learning rate)",
             who, updates_ + 1);
  params_ = std::move(next);
  optimizer_ = std::move(optimizer);
  ++updates_;
  if (options_.average_from_epoch && epoch_ >= *options_.average_from_epoch) {
    ++average_count_;
    average_ += (params_ - average_) / double(average_count_);
  }
}

void TrainingCore::save(training::Checkpoint& out) const {
  out.put("parameters", params_);
  out.put("average", average_);
  std::vector<std::uint64_t> counters{epoch_, updates_, 0, average_count_};
  if (const auto* adam = std::get_if<Adam>(&optimizer_)) {
    counters[2] = adam->steps();
    out.put("adam_m", adam->first_moment());
    out.put("adam_v", adam->second_moment());
  } else {
    const Sgd& sgd = std::get<Sgd>(optimizer_);
    counters[2] = sgd.steps();
    out.put("sgd_velocity", sgd.velocity());
  }
  out.put_counters("counters", std::move(counters));
}

void TrainingCore::load(const char* who, const training::Checkpoint& in) {
  const auto vec = [&](std::string_view name) {
    const training::CheckpointArray& a = in.array(who, name);
    check_data(a.shape.size() == 1 && a.values.size() == std::size_t(params_.size()),
               "{}: array '{}' has shape {} but this run has {} parameters", who, name, a.shape_string(), params_.size());
    return a.vector();
  };
  const std::vector<std::uint64_t>& counters = in.counter(who, "counters");
  check_data(counters.size() == 4, "{}: array 'counters' has shape ({},); expected (4,)", who, counters.size());
  VectorD params = vec("parameters"), average = vec("average");
  check_data(params.allFinite(), "{}: the parameters are not finite", who);
  if (auto* adam = std::get_if<Adam>(&optimizer_)) {
    Adam restored = *adam;
    restored.restore(vec("adam_m"), vec("adam_v"), std::size_t(counters[2]));
    *adam = restored;
  } else {
    Sgd& sgd = std::get<Sgd>(optimizer_);
    Sgd restored = sgd;
    restored.restore(vec("sgd_velocity"), std::size_t(counters[2]));
    sgd = restored;
  }
  params_ = std::move(params);
  average_ = std::move(average);
  epoch_ = std::size_t(counters[0]);
  updates_ = std::size_t(counters[1]);
  average_count_ = std::size_t(counters[3]);
}

}  // namespace detail
}  // namespace logz
