#pragma once
/// @file loop.hpp
/// The trainer loop that every minibatch trainer of training/ shares
/// (docs/continuous-training.md): the epoch's row order, its consecutive minibatches with
/// progress reported to an Observer, the optimizer (Adam, Kingma & Ba 2015, or momentum
/// SGD, Robbins & Monro 1951) with its learning-rate schedule, Polyak–Ruppert averaging
/// of the iterates (Polyak & Juditsky 1992), the counters, and their part of the
/// checkpoint (training/checkpoint.hpp).
///
/// Randomness: the order of the rows in epoch e is a Fisher–Yates shuffle drawn from
/// Stream::derive(seed, Purpose::shuffle, e); batches are consecutive runs of batch_size
/// rows of it (the last may be shorter). Fresh random parts of epoch e (noise, projections)
/// come from epoch_noise_seed(seed, e). Nothing depends on the thread count.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/optim/adam.hpp"
#include "logz/training/checkpoint.hpp"

namespace logz {

enum class OptimizerKind { adam, sgd };
enum class LearningRateSchedule {
  constant,      ///< α_t = α₀
  inverse_time,  ///< α_t = α₀ / (1 + t / τ): the Robbins–Monro decay
  cosine,        ///< α_t = α₀ · ½ (1 + cos(π min(t, T) / T)), T = cosine_epochs · batches per epoch
};

/// Options of the minibatch loop (t counts the updates made before the current one).
struct TrainingOptions {
  std::size_t batch_size = 100;  ///< rows per update, >= 1 (more than the data: one batch of all rows)
  OptimizerKind optimizer = OptimizerKind::adam;
  AdamOptions adam{};  ///< α₀ = adam.learning_rate with Adam
  SgdOptions sgd{};    ///< α₀ = sgd.learning_rate with SGD
  LearningRateSchedule schedule = LearningRateSchedule::constant;
  double decay_steps = 1000;      ///< τ of inverse_time; finite and > 0
  std::size_t cosine_epochs = 0;  ///< T of cosine in epochs; >= 1 for cosine
  /// Polyak averaging: the running mean of the iterates after every update from the
  /// first update of this epoch (0-based) on; empty: no averaging.
  std::optional<std::size_t> average_from_epoch;
  std::uint64_t seed = 0;  ///< minibatch order and every fresh random part
};

/// Throws Error(Exit::usage) "<who>: ..." on batch_size 0, bad optimizer options (as
/// Adam / Sgd), a bad decay_steps or cosine without cosine_epochs.
void check_training_options(const char* who, const TrainingOptions& options);

/// The order of the rows 0..rows−1 in epoch `epoch`: a Fisher–Yates shuffle (Durstenfeld
/// 1964) drawn from Stream::derive(seed, Purpose::shuffle, epoch).
std::vector<std::size_t> epoch_order(std::uint64_t seed, std::size_t epoch, std::size_t rows);

/// The seed of the fresh random parts of epoch `epoch`: the first two words of
/// Stream::derive(seed, Purpose::noise, epoch).
std::uint64_t epoch_noise_seed(std::uint64_t seed, std::size_t epoch);

/// α₀ + (α_end − α₀) · epoch / (epochs − 1): a learning rate decayed linearly over the
/// epochs of a run, per epoch (α₀ when epochs <= 1).
double linear_epoch_rate(double start, double end, std::size_t epoch, std::size_t epochs);

namespace training {

/// The one minibatch loop: walks `order` in consecutive runs of `batch_size` rows (the
/// last may be shorter), calls update(rows) on each run in order and reports
/// (phase, batches done, batches) to `obs` after each. Returns the number of batches.
template <class Update>
std::size_t for_each_minibatch(std::span<const std::size_t> order, std::size_t batch_size, Observer& obs,
                               const std::string& phase, Update&& update) {
  const std::size_t batches = (order.size() + batch_size - 1) / batch_size;
  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t start = b * batch_size, len = std::min(batch_size, order.size() - start);
    update(order.subspan(start, len));
    obs.progress(phase, b + 1, batches);
  }
  return batches;
}

/// out = the rows `rows` of `data`, in that order, cast to out's scalar (out is resized);
/// blocks of rows on ex's threads: a minibatch drawn from a large data set is a gather of
/// rows from memory the cache does not hold.
template <class Out, class In>
void gather_rows(const In& data, std::span<const std::size_t> rows, Out& out, const Exec& ex) {
  out.resize(Eigen::Index(rows.size()), data.cols());
  const Blocks blocks = row_blocks(rows.size());
  parallel_for(exec_for_work(ex, rows.size() * std::size_t(data.cols())), blocks.count(), [&](std::size_t t) {
    for (std::size_t r = blocks.begin(t); r < blocks.end(t); ++r)
      out.row(Eigen::Index(r)) = data.row(Eigen::Index(rows[r])).template cast<typename Out::Scalar>();
  });
}

/// Asks the memory system for the rows `rows` of a row-major `data` now, so that the
/// gather_rows of the next minibatch, after this one's update, finds them in the cache
/// (a random row of a large data set otherwise costs a trip to DRAM, on the one thread
/// that runs between updates).
template <class In>
void prefetch_rows(const In& data, std::span<const std::size_t> rows) {
  static_assert(In::IsRowMajor, "prefetch_rows: rows must be contiguous");
  const std::size_t bytes = std::size_t(data.cols()) * sizeof(typename In::Scalar);
  for (const std::size_t r : rows) {
    const char* p = reinterpret_cast<const char*>(data.row(Eigen::Index(r)).data());
    for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
  }
}

}  // namespace training

namespace detail {

/// The parameter vector, the optimizer, the schedule, the average and the counters of
/// one training run, with their part of the checkpoint (arrays "parameters", "average",
/// "adam_m" and "adam_v" or "sgd_velocity"; counters "counters" = [epoch, updates,
/// optimizer steps, averaged iterates]).
class TrainingCore {
 public:
  TrainingCore(VectorD params, std::size_t rows, const TrainingOptions& options);

  std::size_t rows() const { return rows_; }
  std::size_t batch_size() const { return batch_; }
  std::size_t batches_per_epoch() const { return (rows_ + batch_ - 1) / batch_; }
  std::size_t epoch() const { return epoch_; }
  std::size_t updates() const { return updates_; }
  /// α for the next update.
  double learning_rate() const;
  const VectorD& parameters() const { return params_; }
  /// The Polyak average, or the current parameters while nothing has been averaged.
  const VectorD& averaged() const { return average_count_ > 0 ? average_ : params_; }
  std::size_t averaged_count() const { return average_count_; }

  /// One optimizer step with the gradient (then the average). Throws Error(Exit::data)
  /// "<who>: ..." when the gradient or the new parameters are not finite, changing nothing.
  void step(const char* who, const VectorD& gradient);
  void finish_epoch() { ++epoch_; }

  void save(training::Checkpoint& out) const;
  /// Reads what save() wrote. Throws Error(Exit::data) "<who>: ..." on a missing array or
  /// one whose size does not fit this run.
  void load(const char* who, const training::Checkpoint& in);

 private:
  TrainingOptions options_;
  std::size_t rows_, batch_;
  VectorD params_, average_;
  std::variant<Adam, Sgd> optimizer_;
  std::size_t epoch_ = 0, updates_ = 0, average_count_ = 0;
};

}  // namespace detail
}  // namespace logz
