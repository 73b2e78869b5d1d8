#pragma once
/// @file continuous_tasks.hpp
/// The façade for continuous energies (models on R^d with an energy gradient): log Z by
/// any estimator of the suite on the geometric path from a Gaussian base N(μ_0, Σ_0),
/// whose normaliser log Z_0 = (d/2) log 2π + ½ log det Σ_0 is part of the estimate (a
/// path from an improper flat base would be wrong), moved by HMC or MALA on the tempered
/// energy (1−β) E_0 + β E_1 (tempering/path.hpp).
#include <string>

#include "logz/api/estimate.hpp"
#include "logz/kernels/hmc.hpp"
#include "logz/kernels/langevin.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/tempering/path.hpp"

namespace logz::api {

/// The kernel of the moves: "hmc" (step_size, leapfrog steps) or "mala" (step_size);
/// EstimateConfig::sweeps kernel steps per move.
struct ContinuousKernelConfig {
  std::string kernel = "hmc";
  double step_size = 0.1;
  std::size_t leapfrog = 10;
  void validate() const;
};

/// log Z of `target` by `config` from the base `base`; "exact" needs a closed form
/// (targets with log_partition(), e.g. Gaussian and the 2-D toys). `start` holds the
/// reverse chains' start states for raise.
template <DifferentiableEnergy Target>
LogZEstimate continuous_estimate(const Target& target, const Gaussian& base, const EstimateConfig& config,
                                 const ContinuousKernelConfig& kernel, const MatrixD* start, const Exec& ex,
                                 Observer& obs = silent_observer()) {
  config.validate();
  kernel.validate();
  if (config.method == "exact") {
    if constexpr (requires { target.log_partition(); }) {
      return exact_estimate(target.log_partition(), "exact (closed form)", 0.0);
    } else {
      fail(Exit::usage, "estimate: --method exact needs a closed form for log Z, which this energy has not");
    }
  }
  if (kernel.kernel == "mala") {
    using Move = TemperedKernelMove<Mala, Gaussian, Target>;
    const GeometricPath<Gaussian, Target, Move> path(base, target, Move{base, target, {kernel.step_size, 1, 1.0}, config.sweeps});
    return estimate_on_path(path, config, start, ex, obs);
  }
  using Move = TemperedKernelMove<Hmc, Gaussian, Target>;
  const GeometricPath<Gaussian, Target, Move> path(base, target,
                                                   Move{base, target, {kernel.step_size, kernel.leapfrog, 1.0}, config.sweeps});
  return estimate_on_path(path, config, start, ex, obs);
}

}  // namespace logz::api
