#pragma once
/// @file pseudolikelihood.hpp
/// Pseudolikelihood fits of Potts models (Besag 1975; Ekeberg et al. 2013, PRE 87,
/// 012707; Balakrishnan et al. 2011), the estimator of plmc and CCMpred
/// (docs/pseudolikelihood.md). The objective, in plmc's definition, is
///   f(h, J) = -Σ_s w_s Σ_i log p(x_si | x_s,-i) + λh Σ_i ‖h_i‖² + λe Σ_{i<j} ‖J_ij‖²,
///   p(x_i = a | x_-i) ∝ exp(h_i(a) + Σ_{j≠i} J_ij(a, x_j)),
/// with sequence weights w_s (io::sequence_weights). Two variants:
/// - symmetric: one J_ij shared by the conditionals of i and j (plmc, CCMpred);
/// - asymmetric: each conditional i has its own couplings to every j, penalised with
///   λe each; the model's J_ij is the average of the two estimates (Ekeberg et al. 2014).
/// Sites may be "absent" in a sequence (gaps when they are not modelled, plmc -g): an
/// absent site has no conditional term and contributes nothing to its neighbours'.
///
/// The gradient is computed tile by tile: a tile is a few sites' conditionals, whose
/// potentials for a block of sequences are sums of rows of the tile's slab of the coupling
/// matrix picked by the sequences' states (a gather), and whose gradient is the matching
/// scatter. A tile expands its slab from θ and folds its gradient slab back into the
/// parameter layout itself, so no full-size coupling matrix is held (the fit's memory is
/// the optimiser's vectors). A pair's gradient block is the sum of two conditionals'
/// parts, one per tile, and a sum of two terms does not depend on which comes first: the
/// result is bit-identical for any thread count.
/// Minimised by L-BFGS (LBFGS++) from plmc's starting point, with plmc's gradient test
/// and a relative-decrease test.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/potts.hpp"

namespace logz {

/// Sequences for a Potts fit: states(s, i) in [0, q) or q for "absent".
struct PottsData {
  Matrix<std::uint8_t> states;  ///< N × L
  VectorD weights;              ///< N, finite and >= 0
  std::size_t q = 0;
  std::string alphabet;         ///< the q letters of the model's states (may be empty)
};

/// An alignment's states (sequences × columns, entries in [0, |alphabet|); io::Alignment's
/// matrix and alphabet) → PottsData. With ignore_gaps (plmc -g), the gap (state 0, the
/// alphabet starting with '-' or '.') is absent and the model has q = |alphabet| - 1
/// states; otherwise the gap is a state like the others. Throws Error(Exit::usage) if
/// ignore_gaps is asked of an alphabet without a gap, or weights has the wrong size.
PottsData potts_data(const Matrix<std::uint8_t>& states, const std::string& alphabet, const VectorD& weights,
                     bool ignore_gaps);

/// Validates PottsData: sizes, states <= q, q in [2, 255], weights finite and >= 0 with
/// a positive sum. Throws Error(Exit::data) naming the first problem.
void check_potts_data(const PottsData& data);

enum class PlVariant { symmetric, asymmetric };
/// Arithmetic of the gradient kernel. A float fit also keeps the optimiser state (θ, its
/// gradient, the L-BFGS pairs) in float, as plmc's float build; f is summed in double.
enum class PlPrecision { float64, float32 };

struct PseudolikelihoodConfig {
  PlVariant variant = PlVariant::symmetric;
  PlPrecision precision = PlPrecision::float64;
  double lambda_h = 0.01;   ///< plmc's default -lh
  double lambda_e = 100.0;  ///< plmc's default -le (its README uses 16 for proteins)
  /// Stop after this many L-BFGS iterations (0 = no limit).
  std::size_t max_iterations = 0;
  /// plmc's test: stop when ‖∇f‖ <= tolerance · max(1, ‖θ‖); > 0.
  double gradient_tolerance = 1e-3;
  /// Stop when f fell by less than relative_decrease · |f| over the last
  /// decrease_window iterations (0 turns the test off).
  double relative_decrease = 1e-5;
  std::size_t decrease_window = 5;
  std::size_t memory = 6;  ///< L-BFGS correction pairs (liblbfgs's default, as in plmc)
  /// A fit sharded over MPI ranks gathers the parameters on every rank and returns the
  /// model there; false: on rank 0 alone (the rank that writes files), the others
  /// returning a one-site placeholder, so that no rank but one ever holds all of them.
  bool model_on_every_rank = true;
  /// Throws Error(Exit::usage) naming the bad field.
  void validate() const;
};

/// Bytes a fit needs on each of `ranks` ranks (the tiles' slabs of the threads at work, the
/// rank's shard of the optimiser's 2·memory + 3 vectors in the fit's precision and, over
/// several ranks, its halo of θ and of the gradient; the data), computed without
/// overflow; Error(Exit::usage) if the count itself overflows.
std::size_t pseudolikelihood_memory_bytes(std::size_t n_sequences, std::size_t n_sites, std::size_t q,
                                          const PseudolikelihoodConfig& config, std::size_t ranks = 1);

struct PseudolikelihoodFit;

/// The objective and its gradient. Parameters: fields row-major (L·q), then couplings:
/// symmetric — one q×q block per pair i < j in Potts::dense order (the layout of
/// Potts::parameters() of a dense model); asymmetric — one block per ordered pair
/// (i, j), i != j, row-major over i then j, block(a, b) with a the state of i.
class PseudolikelihoodObjective {
 public:
  PseudolikelihoodObjective(const PottsData& data, PlVariant variant, PlPrecision precision, double lambda_h,
                            double lambda_e, const Exec& exec);
  ~PseudolikelihoodObjective();
  PseudolikelihoodObjective(PseudolikelihoodObjective&&) noexcept;

  std::size_t num_parameters() const;
  /// plmc's starting point: h_i(a) = log(f_i(a)·Neff + 1) centred over a (f_i the
  /// weighted frequencies among the sequences where i is present), J = 0.
  VectorD initial_parameters() const;
  /// f(θ), with ∇f written to grad (resized).
  double operator()(const VectorD& theta, VectorD& grad);
  /// The same with θ and ∇f in float (the float fit's optimiser state); f in double.
  double operator()(const VectorF& theta, VectorF& grad);
  /// The -Σ w log PL part of the last evaluation.
  double last_neg_log_pl() const;
  /// The Potts model of θ (dense; asymmetric couplings averaged).
  Potts model(const VectorD& theta) const;

 private:
  friend PseudolikelihoodFit fit_pseudolikelihood(const PottsData&, const PseudolikelihoodConfig&, const Exec&, Observer&);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct PseudolikelihoodFit {
  Potts model = Potts::dense(1, 2);
  double objective = 0;     ///< f at the end
  double neg_log_pl = 0;    ///< its -Σ w log PL part
  std::size_t iterations = 0;
  std::size_t evaluations = 0;
  std::string stopped_by;   ///< as LbfgsResult::stopped_by (optim/lbfgs.hpp)
  std::vector<double> objective_trace;  ///< f at the start and after every iteration
  double seconds = 0;
  /// This process's peak resident memory when the optimisation ended (before the model
  /// is built): what the fit held, per rank when sharded.
  std::size_t peak_memory_bytes = 0;
};

/// Fits by L-BFGS (minimize_lbfgs_lean). Under mpirun the fit is sharded over the ranks
/// (docs/scaling.md): each rank holds the parameter groups of its tiles' sites (fields and
/// about half of each site's pairs) and their shares of the optimiser's vectors, receives
/// the blocks its tiles read from the ranks that own them and sends their gradient back;
/// the sums go tile by tile in tile order, so the fit is bit-identical for any number of
/// ranks and threads. Checks the memory it needs against what the machine
/// has free before allocating (Error(Exit::unavailable) naming both). Reports each
/// iteration to `obs` as progress ("pseudolikelihood", iteration, max_iterations or 0).
PseudolikelihoodFit fit_pseudolikelihood(const PottsData& data, const PseudolikelihoodConfig& config,
                                         const Exec& exec, Observer& obs = silent_observer());

}  // namespace logz
