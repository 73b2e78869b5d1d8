#pragma once
/// @file rbm_cd.hpp
/// Training of a binary RBM by contrastive divergence CD-k (Hinton 2002), persistent
/// CD / stochastic maximum likelihood PCD-k (Tieleman 2008; Younes 1989), or PCD whose
/// chains are parallel-tempering ladders (Desjardins et al. 2010;
/// objectives/rbm_tempered_chains.hpp) with SGD and momentum, the gradient and fused update of objectives/contrastive_divergence.hpp, in
/// the loop of training/loop.hpp.
///
/// Start: W ~ N(0, init_scale²) from Stream::derive(seed, Purpose::init, 0), b the logit
/// of the data means clamped to [1e-3, 1 − 1e-3], c = 0; PCD chains from the visible bias
/// (RbmChains::from_bias with Purpose::chains); with tempering every replica of ladder c
/// starts at PCD's chain c, and the base of the ladder is a = logit((m + 0.05) / 1.05)
/// of the data means m (the AIS base rate of Salakhutdinov & Murray 2008). Epoch e visits the rows in the order
/// epoch_order(seed, e) in ⌊N / batch⌋ full batches (the rest of the order is left out);
/// batch t of epoch e runs its Gibbs sweeps on Stream::derive(seed, Purpose::gibbs,
/// e · batches + t) (with tempering: the update's stream of the ladders, whose swaps
/// alternate even and odd pairs with the parity of e · batches + t). The learning rate is constant or decays linearly per epoch to
/// final_learning_rate (linear_epoch_rate). So every random choice is a function of
/// (seed, epoch, batch, chain), and a run resumed from state() continues with the same
/// bits as an uninterrupted one, for any thread count.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/rbm.hpp"
#include "logz/objectives/contrastive_divergence.hpp"
#include "logz/objectives/rbm_tempered_chains.hpp"
#include "logz/training/checkpoint.hpp"

namespace logz {

struct RbmCdOptions {
  std::size_t k = 1;                ///< Gibbs sweeps per update, >= 1
  bool persistent = true;           ///< PCD (chains carry over) or CD
  std::size_t epochs = 10;          ///< the run's length (the linear schedule and the progress phase)
  std::size_t batch = 100;          ///< rows per update, >= 1
  std::size_t chains = 0;           ///< persistent chains; 0 = batch
  /// Parallel tempering: each persistent chain is a ladder of replicas at these betas
  /// (check_tempering_ladder: >= 2, increasing in [0, 1], the last 1); needs persistent.
  /// Empty: plain PCD.
  std::vector<double> tempering_betas;
  double learning_rate = 0.05;
  /// Linear decay per epoch to this rate at the last epoch; empty: constant.
  std::optional<double> final_learning_rate;
  double momentum = 0.5;
  double weight_decay = 0.0;        ///< L2 coefficient on the weights
  double init_scale = 0.01;         ///< W ~ N(0, init_scale²)
  std::uint64_t seed = 1;
};

/// What one epoch did.
struct RbmCdEpoch {
  std::size_t epoch = 0;       ///< epochs finished, this one included
  double learning_rate = 0;
  double seconds = 0;          ///< wall time of the epoch's updates
  std::size_t examples = 0;    ///< rows visited
  /// Tempering: per adjacent pair of betas, swaps accepted / proposed in this epoch.
  std::vector<double> swap_rates;
};

class RbmCdTrainer {
 public:
  /// A fresh start (file comment) for data with these column means (n_visible entries).
  /// Throws Error(Exit::usage) "RbmCdTrainer: ..." on k, batch or epochs 0, or a bad
  /// tempering ladder (or one without persistent chains).
  RbmCdTrainer(const VectorD& data_means, std::size_t n_hidden, const RbmCdOptions& options);

  /// One epoch over `train` (rows = examples, n_visible columns, at least one batch),
  /// progress "epoch E/epochs" to `obs`.
  RbmCdEpoch run_epoch(const MatrixU8& train, const Exec& ex, Observer& obs = silent_observer());

  const RbmF& model() const { return model_; }
  std::size_t epoch() const { return epoch_; }
  const RbmCdOptions& options() const { return options_; }
  /// The negative-phase chains (with tempering: the β = 1 replicas), one per row; empty for CD.
  const MatrixF& chains() const { return tempered_ ? tempered_->model_chains() : cd_.chains(); }
  /// The tempering ladders, if any.
  const RbmTemperedChains* tempered_chains() const { return tempered_ ? &*tempered_ : nullptr; }
  /// α of epoch `epoch` (0-based).
  double learning_rate(std::size_t epoch) const;

  /// A checkpoint (trainer "rbm_cd"): the arrays "weights", "visible_bias", "hidden_bias",
  /// "velocity_weights", "velocity_visible_bias", "velocity_hidden_bias", "chains" (PCD;
  /// floats kept exactly as doubles) or, with tempering, "replicas" (R, chains, n_visible)
  /// and "tempering_base_bias", and the counters "epoch".
  training::Checkpoint state() const;
  /// The trainer saved in `state`, with these options (more epochs allowed). Throws
  /// Error(Exit::data) "RbmCdTrainer::resume: ..." on a missing array, shapes that do not
  /// fit each other and the options, or a non-finite parameter.
  static RbmCdTrainer resume(const RbmCdOptions& options, const training::Checkpoint& state);

 private:
  RbmCdTrainer(const RbmCdOptions& options, RbmF model, RbmF velocity, MatrixF chains,
               std::optional<RbmTemperedChains> tempered, std::size_t epoch);

  RbmCdOptions options_;
  RbmF model_, velocity_;
  ContrastiveDivergence cd_;
  std::optional<RbmTemperedChains> tempered_;
  std::size_t epoch_ = 0;
};

}  // namespace logz
