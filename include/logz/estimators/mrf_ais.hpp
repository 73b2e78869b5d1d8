#pragma once
/// @file mrf_ais.hpp
/// Annealed importance sampling (Neal 2001, "Annealed importance sampling", Statistics
/// and Computing 11) for Potts and Ising models: the generic ais() (estimators/ais.hpp) on
/// the path p_β ∝ exp(-β E) from the uniform distribution on the q^L states
/// (log Z_0 = L log q; tempering/mrf_path.hpp), with `sweeps` systematic-scan Gibbs sweeps
/// at each intermediate β as moves. log Z = log Z_0 + log mean exp(log w) is a stochastic
/// lower bound on log Z; its standard error is the delta method's on the weights.
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
/// derive(seed, ais_stream, r): first L draws below(q) for x_0 (site order), then the
/// Gibbs sweeps; bit-identical results for any thread count. log_weights holds log w_r;
/// log_z_base = L log q.
/// Throws Error(Exit::usage) on chains or sweeps of 0.
LogZEstimate mrf_ais(const Potts& model, const MrfAisConfig& config, const Exec& ex,
                     Observer& obs = silent_observer());
/// The same for an Ising model (either spin convention), with Ising Gibbs sweeps.
LogZEstimate mrf_ais(const Ising& model, const MrfAisConfig& config, const Exec& ex,
                     Observer& obs = silent_observer());

}  // namespace logz
