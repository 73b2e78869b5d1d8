#pragma once
/// @file rbm_tasks.hpp
/// The façade over the RBM parts of logz: each user-level task (train, estimate log Z,
/// evaluate, sample) as one call taking a validated config. The command-line tool and
/// the Python module call these and contain no algorithm logic.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "logz/api/estimate.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/models/rbm.hpp"

namespace logz::api {

// ---------------------------------------------------------------- training

struct TrainConfig {
  std::size_t hidden = 500;
  std::string method = "pcd";        ///< "cd", "pcd" or "pt" (PCD with parallel-tempering ladders)
  std::size_t k = 1;                 ///< Gibbs sweeps per update
  std::size_t epochs = 10;
  std::size_t batch = 100;
  std::size_t chains = 0;            ///< persistent chains (pcd; pt: ladders); 0 = batch
  /// pt: replicas per ladder, at betas default_tempering_ladder(replicas) (from the data's
  /// base rate at β = 0 to the model at β = 1, denser near 1); each update costs about
  /// `replicas` times PCD's negative phase.
  std::size_t replicas = 10;
  double lr = 0.05;
  std::string lr_schedule = "constant";  ///< "constant" or "linear" (decays to lr_final at the end)
  double lr_final = 0.0;
  double momentum = 0.5;
  double weight_decay = 0.0;         ///< L2 coefficient on the weights
  double init_scale = 0.01;          ///< W ~ N(0, init_scale²)
  std::uint64_t seed = 1;
  std::size_t monitor_ais_every = 0; ///< 0 = never; else AIS test log-likelihood every N epochs
  std::size_t monitor_ais_chains = 100;
  std::size_t monitor_ais_betas = 1000;
  std::size_t monitor_rows = 1000;   ///< rows of train/test data used by the cheap monitors

  /// Throws Error(Exit::usage) naming the first bad field.
  void validate() const;
  nlohmann::json to_json() const;
};

/// One line of the training log.
struct EpochReport {
  std::size_t epoch = 0;            ///< 1-based
  double lr = 0;
  double seconds = 0;               ///< wall time of the epoch's updates
  double examples_per_second = 0;
  double recon_error = 0;           ///< mean Σ_i (v_i - p(v_i | h))², h ~ p(h | v), on monitor rows of the training data
  double pseudo_log_likelihood = 0; ///< stochastic PLL (one flipped bit per row, × n_visible), training monitor rows
  std::optional<double> test_pseudo_log_likelihood;
  std::optional<double> ais_log_z, ais_log_z_std_error;
  std::optional<double> ais_test_log_likelihood, ais_test_log_likelihood_std_error;
  /// pt: per adjacent pair of betas, swaps accepted / proposed in this epoch (else empty).
  std::vector<double> swap_rates;
  nlohmann::json to_json() const;
};

struct TrainFiles {
  std::string checkpoint;   ///< written atomically after every epoch; empty = none
  std::string log;          ///< JSON-lines log, one EpochReport a line; empty = none
  bool resume = false;      ///< continue from `checkpoint` if it exists
};

struct TrainResult {
  RbmF model;
  VectorD data_marginals;   ///< training-data means: the AIS base rate
  std::vector<EpochReport> epochs;
  std::size_t resumed_from_epoch = 0;  ///< 0 if started fresh
};

/// Trains a binary RBM with CD-k, PCD-k or PCD-k on parallel-tempering ladders (pt) and
/// SGD with momentum. Every random choice is
/// a function of (seed, epoch, batch, chain), so a run resumed from its checkpoint ends
/// with the same bits as an uninterrupted one, for any thread count. `test` may be empty.
TrainResult train_rbm(const MatrixU8& train, const MatrixU8& test, const TrainConfig& config, const TrainFiles& files,
                      const Exec& ex, Observer& obs);

// ---------------------------------------------------------------- log Z and evaluation

/// AIS base rate: logit of the smoothed data means (Salakhutdinov & Murray) if `data`
/// is non-empty, else of the model file's data_marginals if given, else zeros (uniform).
VectorF choose_base_bias(const RbmD& model, const MatrixU8& data, const std::optional<VectorD>& data_marginals);

/// log Z by the configured method. "raise" starts one reverse chain from each of
/// `chains` rows of `data` picked without replacement (stream derive(seed, data, 0)).
LogZEstimate estimate_log_z(const RbmD& model, const EstimateConfig& config, const MatrixU8& data,
                            const std::optional<VectorD>& data_marginals, const Exec& ex, Observer& obs);

struct LikelihoodSummary {
  double mean_log_likelihood, std_error;  ///< std_error² = var(-F)/n + SE(log Z)²
  double mean_free_energy, free_energy_std_error;
  std::size_t rows;
};

/// Mean log-likelihood −mean F(v) − log Z of the rows of `data`, error bars carried through.
LikelihoodSummary mean_log_likelihood(const RbmD& model, const MatrixU8& data, const LogZEstimate& log_z, const Exec& ex);

/// `chains` independent chains from the model's own visible biases, `steps` Gibbs sweeps
/// each; returns the final visible states (0/1).
MatrixU8 sample_rbm(const RbmD& model, std::size_t chains, std::size_t steps, std::uint64_t seed, const Exec& ex,
                    Observer& obs);


}  // namespace logz::api
