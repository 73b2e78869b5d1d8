#pragma once
/// @file ising_ml.hpp
/// Maximum-likelihood objectives of Ising models (docs/ising-training.md), and the pieces
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
///   2008): the model moments estimated from chain states (ising_state_moments), the
///   gradient ising_pcd_gradient; the persistent chains and the SGD loop are
///   training/mrf_pcd.hpp, the fit_ising façade training/ising_fit.hpp.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "logz/core/parallel.hpp"
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

/// Moments of data (or of chains) in a model's convention: <s_i>, <s_i s_j> per edge.
struct IsingDataMoments {
  VectorD mean;
  VectorD correlation;
  std::size_t n_samples = 0;
};

/// Throws Error(Exit::usage) naming `who` unless the moments fit the model: n_spins means
/// and n_edges correlations.
void check_ising_moments(const char* who, const Ising& model, const IsingDataMoments& moments);

/// The penalty's value at the model's parameters; adds its gradient to `gradient`
/// (flat layout: fields, then couplings in edge order) when not null.
double ising_l2_penalty(const Ising& model, const IsingL2& l2, VectorD* gradient);


/// A fitted model and how the fit went.
struct IsingFit {
  Ising model;
  std::string method;          ///< "rm", "exact", "pcd", "pt" or "pl"
  std::string trace_name;      ///< what trace holds
  std::vector<double> trace;   ///< one value at the start and after each iteration / update
  std::size_t iterations = 0;
  bool converged = false;      ///< L-BFGS: gradient tolerance met; PCD: always false (no test)
  double gradient_norm = 0;    ///< ‖∇‖ at the returned model (PCD: of the last estimate)
  std::vector<double> swap_acceptance;  ///< pt: per adjacent pair of betas, over the whole run
  std::size_t round_trips = 0;          ///< pt: over all ladders
};

/// Minimises objective(model, gradient or null) over the parameters of `init` by
/// minimize_lbfgs (the graph and convention of `init` are kept); the fit is labelled
/// with `method` and `trace_name`. Shared by the L-BFGS fits (exact ML, ratio matching).
IsingFit fit_ising_lbfgs(const Ising& init, const std::function<double(const Ising&, VectorD*)>& objective,
                         const LbfgsOptions& options, std::string method, std::string trace_name);

// ---- exact maximum likelihood -------------------------------------------------------

/// The data's moments on the model's graph, summed over fixed row blocks in block order
/// (bit-identical for any thread count). Checks the data as check_ising_data.
IsingDataMoments ising_data_moments(const Ising& model, const MatrixD& data, const Exec& ex);
/// The same for states known to hold spin values (chain states): no check of the values.
IsingDataMoments ising_state_moments(const Ising& model, const MatrixD& states, const Exec& ex);

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

/// The PCD estimate of ∇L: model moments (of the chains) − data moments + λθ, in the
/// layout of Ising::parameters(). The moments must fit the model (check_ising_moments).
VectorD ising_pcd_gradient(const Ising& model, const IsingDataMoments& data, const IsingDataMoments& chains,
                           const IsingL2& l2);

}  // namespace logz
