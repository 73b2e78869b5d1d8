#pragma once
/// @file tasks.hpp
/// The library by task, on the one model type (io::ModelFile: any kind logz reads, from
/// io::load_model). Every front end — the command line, the Python package — is
///   parse → io::load_model → a task below → print,
/// with no per-kind branches of its own: what differs between kinds (the annealing path
/// and its base, exact log Z, RAISE starts, the sampler, the description) lives in the
/// per-kind traits (api/kinds.hpp), and each task is one visit over them.
///
/// Tasks:
///  - exact_log_z: log Z exactly where a method exists for the model (enumeration,
///    junction tree, closed forms), or a usage error that says why not;
///  - estimate_log_z: log Z by any estimator of the registry, replicated;
///  - evaluate: the held-out log-likelihood of data, log Z's error bar carried through,
///    per row (and per site for Ising / Potts);
///  - sample: states from the model (Gibbs chains, HMC / MALA chains, exact draws);
///  - describe: what a model file holds, in words and numbers.
/// Configs speak field names (ConfigError): a front end renders them as its own options.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "logz/api/continuous_tasks.hpp"
#include "logz/api/data.hpp"
#include "logz/api/estimate.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/io/array.hpp"
#include "logz/io/model_file.hpp"

namespace logz::api {

// ---------------------------------------------------------------- exact log Z

struct ExactResult {
  double log_z = 0;
  std::string how;          ///< "exact: enumerated the 20 hidden units, 2^20 states"
  double seconds = 0;
  nlohmann::json details;   ///< the method's numbers (treewidth, enumerated layer, ...)
};

/// Exact log Z of the model. Error(Exit::usage) saying why when the model has no exact
/// method within reach (an RBM with both layers over 32 units, a junction tree too wide,
/// a neural energy); Error(Exit::data) for a model that cannot be normalised.
ExactResult exact_log_z(const io::ModelFile& model, const Exec& ex);

// ---------------------------------------------------------------- log Z by an estimator

/// What the estimators take besides the config.
struct EstimateInputs {
  /// RBM: the AIS base rate is fitted to these rows (else the file's data_marginals, else
  /// uniform); continuous models: the Gaussian base is fitted to them (base = data).
  const Dataset* base_data = nullptr;
  /// raise: the reverse chains start at `chains` rows picked from these (pick_rows).
  const Dataset* start_data = nullptr;
  ContinuousKernelConfig kernel;               ///< continuous models: the moves
  BaseChoice base = BaseChoice::model_default;  ///< continuous models: the base
};

/// An estimate with what it was made from.
struct LogZResult {
  ReplicatedEstimate estimate;
  nlohmann::json details;  ///< kind, and per kind: base, kernel, dimension
};

/// log Z of the model by `config` (method exact included), `config.replicates` runs.
/// Validates `config` (ConfigError naming the field, messages starting with `who`).
LogZResult estimate_log_z(const io::ModelFile& model, const EstimateConfig& config, const EstimateInputs& inputs,
                          const Exec& ex, Observer& obs = silent_observer(), std::string_view who = "estimate");

// ---------------------------------------------------------------- evaluation

/// The held-out log-likelihood of rows x_1..x_N: mean of log p(x) = −E(x) − log Z (E the
/// free energy for RBMs). std_error² = Var(E)/N + SE(log Z)²: the spread of the data and
/// the estimator's error, independent (the estimator's streams never see the data; for
/// raise, whose chains start at data rows, the sum is an approximation).
struct Evaluation {
  LogZEstimate log_z;
  double mean_log_likelihood = 0, std_error = 0;
  double mean_energy = 0, energy_std_error = 0;
  std::size_t rows = 0;
  VectorD per_row;   ///< log p(x_n) of each row
  /// Ising / Potts: for each site i, the mean over rows of log p(x_i | x_−i), the site's
  /// conditional log-likelihood (no log Z needed); empty for other kinds.
  VectorD per_site;
  std::string energy_name;  ///< "free_energy" (RBM) or "energy": the JSON key's stem
  nlohmann::json details;   ///< what log Z was estimated from (LogZResult::details)
};

/// The energy E(x) of each row (the free energy F(v) for an RBM): the unnormalised part
/// of evaluate, for callers that hold log Z already. `data` is checked as check_dataset
/// checks it, and read in place (borrowed rows are not copied).
VectorD energies(const io::ModelFile& model, const Dataset& data, const Exec& ex, std::string_view who = "energies");

/// Evaluates `data` under the model with log Z by `config` (replicates pooled).
Evaluation evaluate(const io::ModelFile& model, const Dataset& data, const EstimateConfig& config,
                    const EstimateInputs& inputs, const Exec& ex, Observer& obs = silent_observer(),
                    std::string_view who = "eval");

// ---------------------------------------------------------------- sampling

struct SampleConfig {
  std::size_t chains = 64;  ///< independent chains (or exact draws)
  std::size_t steps = 1000; ///< Gibbs sweeps (discrete) or kernel steps after warm-up (continuous)
  std::uint64_t seed = 1;
  bool exact = false;       ///< exact draws instead of chains (small RBMs, Gaussians, ...)
  // continuous models
  std::string kernel = "hmc";
  double step_size = 0.1;
  std::size_t leapfrog = 10, warmup = 500, thin = 1;
  double target_acceptance = 0;
  void validate(std::string_view who = "sample") const;
};

struct Samples {
  io::Array states;          ///< one sample per row, in the kind's dtype (uint8 0/1, int32 spins, states, float64)
  std::string how;           ///< "64 Gibbs sweeps each", "exact draws", "4 chains x 1000 draws (hmc, ...)"
  nlohmann::json details;    ///< per kind: diagnostics of the chains
};

Samples sample(const io::ModelFile& model, const SampleConfig& config, const Exec& ex,
               Observer& obs = silent_observer());

// ---------------------------------------------------------------- description

struct Description {
  std::string text;     ///< lines for a person
  nlohmann::json json;  ///< the same as numbers
};

/// What the file holds: kind, sizes, parameter ranges, extras; whether exact log Z is
/// feasible (and its value where cheap); normalisability of continuous models.
Description describe(const io::ModelFile& model, const Exec& ex);

}  // namespace logz::api
