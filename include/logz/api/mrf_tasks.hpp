#pragma once
/// @file mrf_tasks.hpp
/// The façade for Ising and Potts model files (used by `logz exact`, `estimate`,
/// `sample`): one call per task, whichever kind the file holds.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "logz/api/estimate.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/exact/junction_tree.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"

namespace logz::api {

using MrfModel = std::variant<Ising, Potts>;


std::size_t mrf_sites(const MrfModel& m);
std::size_t mrf_states(const MrfModel& m);  ///< q (2 for Ising)
std::string mrf_kind(const MrfModel& m);    ///< "ising" or "potts"

/// Exact log Z by the junction tree (enumeration-free; any graph of small treewidth).
JunctionTreeResult mrf_exact_log_z(const MrfModel& m, const Exec& ex);

/// The moves of the path p_β ∝ exp(-β E) (tempering/mrf_path.hpp), per β `sweeps` times:
/// a systematic-scan Gibbs sweep (random-scan for lis), a Swendsen–Wang cluster update, or
/// a Swendsen–Wang update followed by a Gibbs sweep.
enum class MrfKernel { gibbs, swendsen_wang, swendsen_wang_gibbs };

/// The kernel names a config or a command line gives: "gibbs", "sw", "sw-gibbs" ("": gibbs).
/// ConfigError naming the `kernel` field for any other name, its message starting with `who`.
MrfKernel mrf_kernel_by_name(const std::string& name, std::string_view who = "estimate");
/// The name mrf_kernel_by_name reads.
std::string mrf_kernel_name(MrfKernel kernel);

/// log Z by `config` (api/estimate.hpp): "exact" by the junction tree, the others on the
/// path p_β ∝ exp(-β E) from the uniform distribution with `sweeps` moves of `kernel` per β
/// (tempering/mrf_path.hpp). `start`: the reverse chains' start states for raise (rows of
/// spins / states), else unused. Swendsen–Wang on a model whose couplings it does not cover
/// (an antiferromagnetic or non-Potts coupling) is a ConfigError naming `kernel` and the
/// edge; lis with sw-gibbs (not reversible) one naming `kernel` and `method`.
LogZEstimate mrf_estimate(const MrfModel& m, const EstimateConfig& config, const MatrixD* start, const Exec& ex,
                          Observer& obs = silent_observer(), MrfKernel kernel = MrfKernel::gibbs);
/// The same on one kind (no copy of the model into the variant).
LogZEstimate mrf_estimate(const Ising& m, const EstimateConfig& config, const MatrixD* start, const Exec& ex,
                          Observer& obs = silent_observer(), MrfKernel kernel = MrfKernel::gibbs);
LogZEstimate mrf_estimate(const Potts& m, const EstimateConfig& config, const MatrixD* start, const Exec& ex,
                          Observer& obs = silent_observer(), MrfKernel kernel = MrfKernel::gibbs);

/// Final states of `chains` independent chains after `sweeps` systematic Gibbs sweeps from
/// uniformly random starts: chain r uses Stream::derive(seed, Purpose::sample, r), so the
/// result is the same for any thread count. Rows: spins in the model's convention
/// (Ising) or states in [0, q) (Potts).
MatrixD sample_mrf(const MrfModel& m, std::size_t chains, std::size_t sweeps, std::uint64_t seed, const Exec& ex,
                   Observer& obs = silent_observer());
/// The same on one kind.
MatrixD sample_mrf(const Ising& m, std::size_t chains, std::size_t sweeps, std::uint64_t seed, const Exec& ex,
                   Observer& obs = silent_observer());
MatrixD sample_mrf(const Potts& m, std::size_t chains, std::size_t sweeps, std::uint64_t seed, const Exec& ex,
                   Observer& obs = silent_observer());

}  // namespace logz::api
