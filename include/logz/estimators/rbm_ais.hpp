#pragma once
/// @file rbm_ais.hpp
/// Annealed importance sampling (Neal 2001, "Annealed importance sampling", Statistics
/// and Computing 11) on the RBM path of Salakhutdinov & Murray (2008), and reverse AIS
/// started from data (RAISE: Burda, Grosse & Salakhutdinov 2015, "Accurate and
/// conservative estimates of MRF log-likelihood using reverse annealing", AISTATS).
///
/// AIS: E[Ẑ] = Z, so log Ẑ is a stochastic lower bound on log Z. RAISE estimates, for
/// each data vector v, the likelihood q(v) of the annealing chain read backwards; its
/// log is a stochastic lower bound on log q(v), so the implied log Z = -F(v) - log q̂(v)
/// sits above the truth on average. Together they sandwich log Z.
#include <cstdint>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/models/rbm.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

struct RbmAisConfig {
  std::size_t chains = 100;
  std::uint64_t seed = 1;
};

/// AIS from the base-rate model with visible biases `base_bias` to `model`, one Gibbs
/// sweep per intermediate β. log Z = log Z_0 + log mean exp(log w); standard error by
/// the delta method on the weights. Chain r uses stream derive(seed, ais_stream, r).
LogZEstimate rbm_ais(const RbmF& model, const VectorF& base_bias, const Schedule& schedule,
                     const RbmAisConfig& config, const Exec& ex, Observer& obs = silent_observer());

/// RAISE from the rows of `start` (data vectors; one reverse chain each). With r_v the
/// reverse log-weight Σ_k [log f_k(x_k) - log f_{k+1}(x_k)] of the chain from v,
/// log q̂(v) = -F(v) + r_v - log Z_0, and the implied log Z = log Z_0 - mean_v r_v, with
/// standard error sd(r)/√n over chains. log_weights holds r_v. Chain r uses stream
/// derive(seed, raise_stream, r).
LogZEstimate rbm_raise(const RbmF& model, const VectorF& base_bias, const Schedule& schedule, const MatrixU8& start,
                       std::uint64_t seed, const Exec& ex, Observer& obs = silent_observer());

}  // namespace logz
