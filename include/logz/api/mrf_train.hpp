#pragma once
/// @file mrf_train.hpp
/// The façade for fitting Ising and Potts models: what `logz train ising` and `logz train
/// potts` run, and what the Python classes logz.Ising and logz.Potts call, with the same
/// settings, messages and bits.
///
/// Ising (docs/ising-training.md): pseudolikelihood (Besag 1975), ratio matching
/// (Hyvärinen 2007), exact maximum likelihood, PCD (Tieleman 2008) and PCD on
/// parallel-tempering ladders (Desjardins et al. 2010), on the complete graph or a lattice.
/// Potts (docs/pseudolikelihood.md, docs/potts-pcd.md): plmc's weighted pseudolikelihood
/// (Ekeberg et al. 2013) by L-BFGS, or PCD, from an alignment (FASTA / A2M, sequence
/// weights by identity) or from integer states.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/diagnostics/contact_scores.hpp"
#include "logz/io/alignment.hpp"
#include "logz/io/model_file.hpp"
#include "logz/objectives/pseudolikelihood.hpp"
#include "logz/training/checkpoint.hpp"
#include "logz/training/ising_fit.hpp"
#include "logz/training/mrf_pcd.hpp"

namespace logz::api {

// ---------------------------------------------------------------- Ising

struct IsingTrainConfig {
  std::string method = "pl";        ///< pl | rm | exact | pcd | pt
  std::string graph = "complete";   ///< complete | chain | ring | lattice:RxC | torus:RxC
  double l2_fields = 0.0, l2_couplings = 0.0;
  std::size_t max_iterations = 1000;  ///< L-BFGS (pl, rm, exact)
  double tolerance = 1e-6;            ///< L-BFGS gradient-norm stop
  std::size_t chains = 100, sweeps = 1, updates = 1000, average_last = 0;  ///< pcd, pt
  std::size_t replicas = 10;                                               ///< pt ladder length
  double lr = 0.05, momentum = 0.9;
  std::uint64_t seed = 1;
  /// pcd, pt: the fit's state, written every checkpoint_every updates and after the last
  /// (api::pcd_checkpoints); empty: none.
  std::string checkpoint;
  std::size_t checkpoint_every = 100;
  bool resume = false;  ///< continue from `checkpoint` if it exists
  /// ConfigError(Exit::usage) naming the first bad field ("train ising: @0 ...").
  void validate() const;
};

/// The edges of `graph` for n spins (empty for complete: every pair). ConfigError naming
/// `graph` for an unknown name, a lattice whose size is not n, a ring of fewer than 3.
std::vector<std::pair<std::size_t, std::size_t>> ising_graph_edges(const std::string& graph, std::size_t n);

/// Fits an Ising model to `spins` (one configuration per row, all -1/1 or all 0/1; the
/// model takes that convention). `source` names the data in messages. ConfigError(Exit::data)
/// naming `data` for an empty array or an entry that is not a spin.
IsingFit train_ising(const MatrixD& spins, const IsingTrainConfig& config, const Exec& ex,
                     std::string_view source = "(array)");

/// The checkpoints of a PCD fit of `train ising` or `train potts` at `path` (empty: none),
/// every `every` updates: each written atomically (on rank 0 under mpirun) with the
/// trainer's name and `fingerprint` (every setting and the data's checksum, but the
/// number of updates). With `resume` and a checkpoint at `path`, `from` receives it and
/// the run continues from it; ConfigError(Exit::usage) naming `resume` when another
/// trainer or other settings wrote it.
PcdCheckpointing pcd_checkpoints(const std::string& path, std::size_t every, bool resume, std::string_view trainer,
                                 const nlohmann::json& fingerprint, std::optional<training::Checkpoint>& from,
                                 Observer& obs);

// ---------------------------------------------------------------- Potts

/// How the sequences of a Potts fit are read and weighted.
struct PottsDataConfig {
  std::string alphabet = io::kProteinAlphabet;  ///< states, gap first
  std::string focus;            ///< plmc -f: keep the columns where this sequence is upper-case
  std::string unknown = "error";  ///< letters outside the alphabet: error | skip | gap
  bool ignore_gaps = false;     ///< plmc -g: the gap is absent, q = |alphabet| - 1
  double theta = 0.8;           ///< identity threshold of the sequence weights
  std::string weights;          ///< weights to read instead of computing them (file)
  std::size_t q = 0;            ///< integer states: number of states (0 = largest + 1)
  void validate() const;
};

/// The sequences of a fit with where they came from.
struct PottsTrainingData {
  PottsData data;
  io::Alignment alignment;      ///< records (all rows, in order, for integer states), focus, positions
  double neff = 0;              ///< Σ weights
  std::string weights_source;   ///< "theta 0.8", "read from F", "none (...)"
  std::string source;           ///< what the data was named
};

/// Reads `path`: a FASTA / A2M alignment, or a .npy of integer states.
PottsTrainingData load_potts_training_data(const std::string& path, const PottsDataConfig& config, const Exec& ex);
/// Integer states a front end holds (entries in [0, 255), q from config.q or largest + 1),
/// every row weighted 1 unless config.weights names a file.
PottsTrainingData potts_training_data(const MatrixD& states, const PottsDataConfig& config,
                                      std::string_view source = "(array)");

struct PottsTrainConfig {
  std::string method = "pl";          ///< pl | pcd
  std::string variant = "symmetric";  ///< pl: symmetric | asymmetric
  std::string precision = "double";   ///< pl: double | float
  double lambda_h = 0.01, lambda_e = 100.0;
  double tolerance = 1e-3, relative_decrease = 1e-5;  ///< pl stop tests
  std::size_t max_iterations = 0;                     ///< pl: 0 = until a stop test holds
  std::size_t chains = 100, sweeps = 1, updates = 1000, average_last = 0;  ///< pcd
  double lr = 0.05, momentum = 0.9;                                        ///< pcd
  std::vector<double> betas;                                               ///< pcd tempering ladder
  std::uint64_t seed = 1;                                                  ///< pcd
  /// pcd: the fit's state, written every checkpoint_every updates and after the last
  /// (api::pcd_checkpoints); empty: none.
  std::string checkpoint;
  std::size_t checkpoint_every = 100;
  bool resume = false;  ///< continue from `checkpoint` if it exists
  void validate() const;
};

struct PottsTrainResult {
  /// The model with its alphabet (when the data had one of q letters) and, with a focus,
  /// its positions and letters (io::focus_arrays): what `train potts --out` writes.
  io::ModelFile file;
  std::string summary;      ///< one line: how the fit ended
  std::vector<double> trace;  ///< pl: objective per iteration; pcd: moment mismatch per update
  nlohmann::json details;   ///< the fit's figures, as `train potts --json` reports them
};

/// Fits by config.method (progress to `obs`); same seed ⇒ same bits for any thread count,
/// and a run resumed from its checkpoint ends with the bits of an uninterrupted one.
PottsTrainResult train_potts(const PottsTrainingData& data, const PottsTrainConfig& config, const Exec& ex,
                             Observer& obs = silent_observer());

/// The weights a fit used, one per record of the data (0 for sequences left out), as
/// text with a '#' header saying where they came from (`train potts --weights-out`).
void write_potts_weights(const std::string& path, const PottsTrainingData& data);

/// The contact scores of a Potts model file (diagnostics/contact_scores.hpp) with each
/// site's number and letter: the file's `positions` and `focus_sequence` when it has
/// them (plmc's numbering), else 1..L and '-'.
struct ContactTable {
  std::vector<ContactScore> scores;
  std::vector<long> positions;
  std::string letters;
  std::string text() const;  ///< "i ai j aj frobenius apc" lines (train potts --contacts)
};
ContactTable contact_table(const io::ModelFile& file);

}  // namespace logz::api
