#pragma once
/// @file ising_ml.hpp
/// Maximum-likelihood training of Ising models (docs/ising-training.md), and the pieces
/// every Ising training objective shares.
///
/// The negative mean log-likelihood of N samples s_1..s_N under
/// p(s) ∝ exp(Σ h_i s_i + Σ_{(i,j)} J_ij s_i s_j) (models/ising.hpp) depends on the data
/// only through its moments m_i = <s_i>_data, c_ij = <s_i s_j>_data:
///   L(θ) = -Σ_i h_i m_i - Σ_(i,j) J_ij c_ij + log Z(θ) + ½ λ_h ‖h‖² + ½ λ_J ‖J‖²,
///   ∂L/∂h_i = <s_i>_θ - m_i + λ_h h_i,    ∂L/∂J_ij = <s_i s_j>_θ - c_ij + λ_J J_ij.
/// - Exact ML (n <= 30 spins): log Z and the model moments by enumeration
///   (exact/ising_exact.hpp), minimised by L-BFGS (LBFGS++, Liu & Nocedal 1989).
/// - PCD / Boltzmann learning (Ackley, Hinton & Sejnowski 1985; Younes 1989; Tieleman
///   2008): the model moments are estimated by persistent Gibbs chains, advanced by
///   SiteGibbs each update; SGD with momentum, optional averaging of the last iterates.
/// fit_ising is the façade the command line calls: data in, fitted model and trace out.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/ising.hpp"
#include "logz/optim/lbfgs.hpp"

namespace logz {

// ---- shared by the Ising objectives -------------------------------------------------

/// L2 penalty ½ λ_h ‖h‖² + ½ λ_J ‖J‖² (the gradient adds λ·θ). Both >= 0.
struct IsingL2 {
  double fields = 0.0;
  double couplings = 0.0;
};

/// Throws Error(Exit::usage) naming `who` unless `data` has n_spins columns, at least one
/// row, and every entry is a spin value of the model's convention.
void check_ising_data(const char* who, const Ising& model, const MatrixD& data);
/// Throws Error(Exit::usage) naming `who` on a negative or non-finite penalty.
void check_ising_l2(const char* who, const IsingL2& l2);

/// The penalty's value at the model's parameters; adds its gradient to `gradient`
/// (flat layout: fields, then couplings in edge order) when not null.
double ising_l2_penalty(const Ising& model, const IsingL2& l2, VectorD* gradient);


/// A fitted model and how the fit went.
struct IsingFit {
  Ising model;
  std::string method;          ///< "rm", "exact" or "pcd"
  std::string trace_name;      ///< what trace holds
  std::vector<double> trace;   ///< one value at the start and after each iteration / update
  std::size_t iterations = 0;
  bool converged = false;      ///< L-BFGS: gradient tolerance met; PCD: always false (no test)
  double gradient_norm = 0;    ///< ‖∇‖ at the returned model (PCD: of the last estimate)
};

/// Minimises objective(model, gradient or null) over the parameters of `init` by
/// minimize_lbfgs (the graph and convention of `init` are kept); the fit is labelled
/// with `method` and `trace_name`. Shared by the L-BFGS fits (exact ML, ratio matching).
IsingFit fit_ising_lbfgs(const Ising& init, const std::function<double(const Ising&, VectorD*)>& objective,
                         const LbfgsOptions& options, std::string method, std::string trace_name);

// ---- exact maximum likelihood -------------------------------------------------------

/// Moments of data (or of chains) in a model's convention: <s_i>, <s_i s_j> per edge.
struct IsingDataMoments {
  VectorD mean;
  VectorD correlation;
  std::size_t n_samples = 0;
};

/// The data's moments on the model's graph, summed over fixed row blocks in block order
/// (bit-identical for any thread count). Checks the data as check_ising_data.
IsingDataMoments ising_data_moments(const Ising& model, const MatrixD& data, const Exec& ex);

/// Exact negative mean log-likelihood L(θ) at the model's parameters (plus the L2
/// penalty) and, when `gradient` is not null, its gradient. Throws Error(Exit::usage) if
/// the model has more than 30 spins or the moments do not fit the model.
double ising_exact_nll(const Ising& model, const IsingDataMoments& data, const IsingL2& l2, VectorD* gradient,
                       const Exec& ex);

/// Exact ML by L-BFGS from the parameters of `init` (its graph and convention are kept).
/// The trace holds L(θ) per iteration.
IsingFit fit_ising_exact(const Ising& init, const IsingDataMoments& data, const IsingL2& l2,
                         const LbfgsOptions& options, const Exec& ex);

// ---- persistent contrastive divergence ----------------------------------------------

struct IsingPcdParams {
  std::size_t n_chains = 100;  ///< persistent chains, >= 1
  std::size_t sweeps = 1;      ///< systematic Gibbs sweeps per update, >= 1
};

/// The persistent chains and the gradient estimate. Chain c is advanced at each update
/// by the stream stream.derive(Purpose::gibbs, c) of that update's stream, so the chains
/// are the same for any thread count.
class IsingPcd {
 public:
  /// Chains started uniformly at random: chain c from init.derive(Purpose::chains, c).
  /// Throws Error(Exit::usage) on n_chains or sweeps of 0.
  IsingPcd(const Ising& model, IsingPcdParams params, const Stream& init);
  /// Chains given explicitly (rows; values of the model's convention).
  IsingPcd(IsingPcdParams params, MatrixD chains);

  const IsingPcdParams& params() const { return params_; }
  const MatrixD& chains() const { return chains_; }

  /// Advances every chain by `sweeps` sweeps, then returns the estimate of ∇L: chain
  /// moments − data moments + λθ (same layout as Ising::parameters()).
  VectorD gradient(const Ising& model, const IsingDataMoments& data, const IsingL2& l2, const Stream& stream,
                   const Exec& ex);
  /// Moments of the current chain states (no step), over fixed chain blocks.
  IsingDataMoments chain_moments(const Ising& model, const Exec& ex) const;
  /// Advances every chain by `sweeps` sweeps (as gradient() does).
  void advance(const Ising& model, const Stream& stream, const Exec& ex);

 private:
  IsingPcdParams params_;
  MatrixD chains_;
};

/// SGD with momentum for PCD: v ← momentum·v − lr_t·g, θ ← θ + v, with
/// lr_t = learning_rate / (1 + t / decay_updates) (no decay when decay_updates is 0).
/// The fitted model is the mean of the last `average_last` iterates (Polyak–Ruppert
/// averaging; 0 or 1: the last iterate).
struct IsingSgdParams {
  std::size_t updates = 1000;     ///< >= 1
  double learning_rate = 0.05;    ///< > 0
  double momentum = 0.9;          ///< in [0, 1)
  std::size_t decay_updates = 0;  ///< 0: constant rate
  std::size_t average_last = 0;   ///< <= updates
};

/// PCD from the parameters of `init`: update t draws from Stream::derive(seed,
/// Purpose::gibbs, t); chains start from Stream::derive(seed, Purpose::chains, 0). The
/// trace holds ‖g‖ of each update's gradient estimate.
IsingFit fit_ising_pcd(const Ising& init, const IsingDataMoments& data, const IsingL2& l2, const IsingPcdParams& pcd,
                       const IsingSgdParams& sgd, std::uint64_t seed, const Exec& ex);

// ---- the façade ---------------------------------------------------------------------

/// Training objectives for Ising models. A new one is a new value here, a name in
/// ising_fit_method_name / parse_ising_fit_method and a case in fit_ising.
/// pseudolikelihood goes through the binary Potts fit (objectives/pseudolikelihood.hpp)
/// on the complete graph, with its relative gradient test and its own L-BFGS memory.
enum class IsingFitMethod { ratio_matching, exact_ml, pcd, pseudolikelihood };

/// "rm", "exact", "pcd", "pl".
std::string_view ising_fit_method_name(IsingFitMethod method);
/// The method of a name; throws Error(Exit::usage) listing the names otherwise.
IsingFitMethod parse_ising_fit_method(std::string_view name);

struct IsingFitConfig {
  IsingFitMethod method = IsingFitMethod::ratio_matching;
  /// The graph; empty: every pair i < j (row-major order).
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  IsingL2 l2;
  LbfgsOptions lbfgs;   ///< rm, exact
  IsingPcdParams pcd;   ///< pcd
  IsingSgdParams sgd;   ///< pcd
  std::uint64_t seed = 0;
};

/// Fits an Ising model to `spins` (one sample per row, all ±1 or all 0/1; the model
/// takes that convention, ±1 when only 1s occur) from zero parameters. Throws
/// Error(Exit::usage) on empty or non-spin data, a bad edge or bad settings, or edges
/// given to pseudolikelihood (which fits every pair).
IsingFit fit_ising(const MatrixD& spins, const IsingFitConfig& config, const Exec& ex);

}  // namespace logz
