#pragma once
/// @file ising_fit.hpp
/// fit_ising, the façade the command line calls to train an Ising model: spins in,
/// fitted model and trace out, by any of the Ising objectives (docs/ising-training.md):
/// ratio matching (Hyvärinen 2007; objectives/ratio_matching.hpp), exact maximum
/// likelihood (objectives/ising_ml.hpp), PCD or PCD on parallel-tempering ladders
/// (Desjardins et al. 2010; training/mrf_pcd.hpp) or pseudolikelihood
/// (Besag 1975; objectives/pseudolikelihood.hpp).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/objectives/ising_ml.hpp"
#include "logz/optim/lbfgs.hpp"
#include "logz/training/mrf_pcd.hpp"

namespace logz {

/// Training objectives for Ising models. A new one is a new value here, a name in
/// ising_fit_method_name / parse_ising_fit_method and a case in fit_ising.
/// pseudolikelihood goes through the binary Potts fit (objectives/pseudolikelihood.hpp)
/// on the complete graph, with its relative gradient test and its own L-BFGS memory.
enum class IsingFitMethod { ratio_matching, exact_ml, pcd, pseudolikelihood, pt };

/// "rm", "exact", "pcd", "pl", "pt".
std::string_view ising_fit_method_name(IsingFitMethod method);
/// The method of a name; throws Error(Exit::usage) listing the names otherwise.
IsingFitMethod parse_ising_fit_method(std::string_view name);

struct IsingFitConfig {
  IsingFitMethod method = IsingFitMethod::ratio_matching;
  /// The graph; empty: every pair i < j (row-major order).
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  IsingL2 l2;
  LbfgsOptions lbfgs;   ///< rm, exact
  IsingPcdParams pcd;   ///< pcd, pt (pt with empty pcd.betas: default_tempering_ladder(10))
  IsingSgdParams sgd;   ///< pcd
  PcdCheckpointing checkpoints;  ///< pcd, pt: none by default
  std::uint64_t seed = 0;
};

/// Fits an Ising model to `spins` (one sample per row, all ±1 or all 0/1; the model
/// takes that convention, ±1 when only 1s occur) from zero parameters. Throws
/// Error(Exit::usage) on empty or non-spin data, a bad edge or bad settings, or edges
/// given to pseudolikelihood (which fits every pair).
IsingFit fit_ising(const MatrixD& spins, const IsingFitConfig& config, const Exec& ex);

}  // namespace logz
