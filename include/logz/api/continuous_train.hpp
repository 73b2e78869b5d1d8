#pragma once
/// @file continuous_train.hpp
/// The façade for fitting continuous energy models to real-valued data (one sample per
/// row): the Gaussian, the Gaussian–Bernoulli RBM, the product of Student-t experts and
/// the one-hidden-layer neural energy, by score matching (Hyvärinen 2005), sliced score
/// matching (Song et al. 2019), denoising score matching (Vincent 2011), noise-contrastive
/// estimation (Gutmann & Hyvärinen 2010) or persistent contrastive divergence (Tieleman
/// 2008). What `logz train gaussian|grbm|experts|neural` runs (docs/continuous-training.md).
///
/// Initialisation is part of the contract (same seed ⇒ same model): every random
/// initial parameter is drawn from Stream::derive(seed, Purpose::init, 0).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/io/continuous_file.hpp"

namespace logz::api {

struct ContinuousTrainConfig {
  std::string model = "gaussian";   ///< gaussian | grbm | experts | neural
  std::string method = "sm";        ///< sm | ssm | dsm | nce | pcd
  std::string optimizer = "lbfgs";  ///< lbfgs (full batch) | adam (minibatches, Polyak-averaged over
                                    ///< the second half of the epochs; pcd always)

  // The model's size and start.
  std::size_t hidden = 0;  ///< grbm / neural hidden units, experts K; 0 = the data's dimension
  bool learn_sigma = true; ///< grbm: learn the visible σ (else fixed at the data's std)
  double alpha = 1.5;      ///< experts: initial α_k (> ½ keeps the complete model normalisable)
  double init_scale = 0.1; ///< grbm: standard deviation of the initial weights

  // Objectives' own settings.
  std::vector<double> sigmas{0.1};  ///< dsm noise levels
  std::size_t draws = 1;            ///< dsm noise draws per row and level
  std::size_t projections = 1;      ///< ssm projections per row
  std::size_t noise_ratio = 1;      ///< nce noise samples per data sample

  // Full-batch L-BFGS.
  std::size_t max_iterations = 500;
  double tolerance = 1e-6;  ///< gradient-norm stop, relative to max(1, |θ|)

  // Minibatch Adam and PCD.
  std::size_t epochs = 20, batch = 100;
  double lr = 1e-3;
  std::size_t chains = 100;      ///< pcd persistent chains
  std::size_t steps = 1;         ///< pcd kernel steps (grbm: block-Gibbs sweeps) per update
  std::string kernel = "mala";   ///< pcd chains of gaussian / experts / neural: mala | hmc | ula
  double step_size = 0.1;        ///< pcd kernel step (adapted by dual averaging during the first epoch)
  std::size_t leapfrog = 5;      ///< pcd hmc leapfrog steps

  /// Epoch-based runs (adam, pcd): the trainer's state is written here (atomically)
  /// after every epoch; with `resume` and an existing file, the run continues from it
  /// and ends bit-identical to an uninterrupted one. Empty: no checkpoints.
  std::string checkpoint;
  bool resume = false;

  std::uint64_t seed = 1;

  /// Throws Error(Exit::usage) naming the first bad field ("train <model>: ...").
  void validate() const;
};

struct ContinuousTrainResult {
  io::ContinuousModel model;
  std::string objective;       ///< what the trace holds, e.g. "score matching J_SM"
  /// L-BFGS: the objective at the start and after each iteration; adam: the mean
  /// minibatch loss of each epoch; pcd: per epoch, the mean energy gap (data − chains;
  /// gaussian / experts / neural) or the mean gradient norm (grbm).
  std::vector<double> trace;
  std::size_t iterations = 0;  ///< L-BFGS iterations or epochs
  bool converged = false;      ///< L-BFGS gradient test (false for adam / pcd)
  std::string stopped_by;      ///< L-BFGS's reason, or "epochs"
  std::vector<double> acceptance;  ///< pcd with mala / hmc: mean acceptance per epoch
  std::optional<double> nce_log_z;  ///< c learned by NCE: its estimate of log Z
  std::size_t parameters = 0;  ///< free parameters fitted (NCE's c not counted)
};

/// Fits config.model to `data` by config.method. Throws as the data checks of the
/// objectives (non-finite entries, constant columns for score matching: Exit::data),
/// Error(Exit::usage) on a bad config, and Error(Exit::data) when the fit leaves the
/// normalisable set (e.g. a Gaussian whose fitted precision is not positive definite)
/// rather than returning a model whose log Z is undefined.
ContinuousTrainResult train_continuous(const MatrixD& data, const ContinuousTrainConfig& config, const Exec& ex,
                                       Observer& obs = silent_observer());

}  // namespace logz::api
