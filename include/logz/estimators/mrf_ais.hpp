#pragma once
/// @file mrf_ais.hpp
/// Annealed importance sampling (Neal 2001, "Annealed importance sampling", Statistics
/// and Computing 11) for Potts and Ising models on the geometric path
///   f_β(x) = exp(-β E(x)),   β = β_0 = 0 < β_1 < ... < β_K = 1,
/// from the uniform distribution on the q^L states (Z_0 = q^L, log Z_0 = L log q) to the
/// model. Chain r starts from an exact uniform draw x_0 and accumulates
///   log w_r = Σ_{k=1..K} -(β_k − β_{k−1}) E(x_{k−1}),
/// with x_k drawn by `sweeps` systematic-scan Gibbs sweeps at β_k (PottsGibbs), which leave
/// p_{β_k} invariant. E[w] = Z / Z_0, so log Z = log Z_0 + log mean exp(log w) is a
/// stochastic lower bound on log Z (Jensen); its standard error is the delta method's on
/// the weights (summarize_log_weights). An Ising model is annealed as the Potts model of
/// Potts::from_ising (q = 2, the same energy for every state).
#include <cstddef>
#include <cstdint>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

struct MrfAisConfig {
  Schedule schedule = Schedule::linear(1000);  ///< the betas, 0 to 1
  std::size_t chains = 100;                    ///< independent AIS runs, >= 1
  std::size_t sweeps = 1;                      ///< Gibbs sweeps per intermediate β, >= 1
  std::uint64_t seed = 1;
};

/// AIS estimate of log Z of `model` (method "ais"). Chain r uses the stream
/// derive(seed, Purpose::ais, r): first L draws below(q) for x_0 (site order), then the
/// Gibbs sweeps; chains run in parallel over ex.threads() threads with bit-identical
/// results for any thread count. log_weights holds log w_r; log_z_base = L log q.
/// Throws Error(Exit::usage) on chains or sweeps of 0.
LogZEstimate mrf_ais(const Potts& model, const MrfAisConfig& config, const Exec& ex,
                     Observer& obs = silent_observer());
/// The same for an Ising model (either spin convention), annealed as Potts::from_ising(model).
LogZEstimate mrf_ais(const Ising& model, const MrfAisConfig& config, const Exec& ex,
                     Observer& obs = silent_observer());

}  // namespace logz
