#pragma once
/// @file grbm_pcd.hpp
/// Maximum-likelihood training of the Gaussian–Bernoulli RBM (models/gaussian_rbm.hpp)
/// by persistent contrastive divergence (PCD; Tieleman 2008; Younes 1989) with the
/// gradient of objectives/grbm_pcd.hpp (docs/gaussian-rbm.md, "Training"): the negative
/// phase over persistent block-Gibbs chains (kernels/grbm_gibbs.hpp) advanced `sweeps`
/// sweeps per update and never restarted; Adam (optim/adam.hpp) steps on θ.
///
/// Randomness: the row order of epoch e is epoch_order(seed, e) (training/loop.hpp:
/// Stream::derive(seed, Purpose::shuffle, e); batches are consecutive runs of it, the
/// last may be shorter); chain r runs on Stream::root(seed).derive(Purpose::gibbs, r)
/// and starts from N(b, diag σ²) of the initial model (GrbmChains::from_visible_bias).
/// Every reduction is over row blocks fixed by the sizes: the same bits for any thread
/// count. The trainer runs epoch by epoch (a command-line tool reports between epochs),
/// and state() / resume() checkpoint it (training/checkpoint.hpp): a resumed run
/// continues bit for bit.
#include <cstddef>
#include <cstdint>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/kernels/grbm_gibbs.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/optim/adam.hpp"
#include "logz/training/checkpoint.hpp"

namespace logz {

struct GrbmPcdOptions {
  std::size_t batch_size = 100;  ///< data rows per update, >= 1 (more than the data: all rows)
  std::size_t chains = 100;      ///< persistent chains of the negative phase, >= 1
  std::size_t sweeps = 1;        ///< block-Gibbs sweeps of every chain per update, >= 1
  AdamOptions adam{};            ///< the optimizer (learning_rate α)
  double weight_decay = 0;       ///< λ of ½ λ ‖W‖², finite and >= 0
  std::uint64_t seed = 0;        ///< row order and chains (file comment)
};

/// Throws Error(Exit::usage) "<who>: ..." on batch_size, chains or sweeps 0, a
/// weight_decay that is not finite and >= 0, and as Adam on bad Adam options.
void check_grbm_pcd_options(const char* who, const GrbmPcdOptions& options);

/// What one epoch did.
struct GrbmPcdEpoch {
  std::size_t epoch = 0;             ///< epochs finished, this one included
  std::size_t updates = 0;           ///< parameter updates in this epoch
  double mean_gradient_norm = 0;     ///< mean ‖PCD gradient‖₂ over its updates
  double seconds = 0;                ///< wall time of the epoch
};

class GrbmPcdTrainer {
 public:
  /// Takes the data (rows = samples; moved in to avoid a copy) and the initial model
  /// (its learn_sigma decides whether σ is trained). Throws Error(Exit::data) as
  /// GaussianRbm::validate("GrbmPcdTrainer") and "GrbmPcdTrainer: data(r, c) is not
  /// finite (x)", Error(Exit::usage) "GrbmPcdTrainer: data has C columns but the model
  /// has N visible units" / "GrbmPcdTrainer: data has no rows", and as
  /// check_grbm_pcd_options.
  GrbmPcdTrainer(GaussianRbm init, MatrixD data, const GrbmPcdOptions& options);

  /// One pass over the data in the epoch's shuffled order (epoch_order), one update per
  /// minibatch (training::for_each_minibatch). Reports progress ("pcd epoch E", batches done of total) to `obs` and a one-line
  /// summary as a message. Throws Error(Exit::data) when a gradient is not finite
  /// (Adam::step) or a step sends log σ out of range; the epoch is then not counted.
  GrbmPcdEpoch run_epoch(const Exec& ex, Observer& obs = silent_observer());

  /// The PCD gradient estimate for one minibatch `batch` at the current model: advances
  /// every chain `sweeps` sweeps, then returns grbm_pcd_gradient (positive − negative
  /// phase + λ W). Does not step; run_epoch is this plus Adam. Throws Error(Exit::usage) on a column count
  /// other than n_visible or no rows.
  VectorD gradient(const Eigen::Ref<const MatrixD>& batch, const Exec& ex);

  const GaussianRbm& model() const { return free_.model(); }
  const GrbmFreeEnergy& free_energy() const { return free_; }
  const GrbmChains& chains() const { return chains_; }
  const MatrixD& data() const { return data_; }
  const GrbmPcdOptions& options() const { return options_; }
  std::size_t epoch() const { return epoch_; }
  std::size_t updates() const { return updates_; }

  /// A checkpoint (trainer "grbm_pcd"): the arrays "weights", "visible_bias",
  /// "hidden_bias", "visible_sigma" (the model), "adam_m", "adam_v", "chains_v",
  /// "chains_h", and the counters "learn_sigma", "counters" = [epoch, updates, Adam
  /// steps] and "chain_words" (each chain stream's position).
  training::Checkpoint state() const;
  /// The trainer saved in `state`, on the same data and options: its later epochs are
  /// bit-identical to the uninterrupted run's. Throws Error(Exit::data)
  /// "GrbmPcdTrainer::resume: ..." on a missing array or one whose shape does not fit the
  /// data and options, and as the constructor.
  static GrbmPcdTrainer resume(MatrixD data, const GrbmPcdOptions& options, const training::Checkpoint& state);

 private:
  GrbmFreeEnergy free_;
  MatrixD data_;
  GrbmPcdOptions options_;
  GrbmChains chains_;
  Adam adam_;
  std::size_t epoch_ = 0, updates_ = 0;
};

}  // namespace logz
