// AIS from the uniform distribution to a Potts (or Ising) model: the generic estimator
// (estimators/ais.hpp) on the geometric path with Gibbs sweeps as moves.
#include "logz/estimators/mrf_ais.hpp"

#include "logz/estimators/ais.hpp"
#include "logz/kernels/potts_gibbs.hpp"
#include "logz/tempering/mrf_path.hpp"

namespace logz {

namespace {
template <class Model>
LogZEstimate mrf_ais_on(const Model& model, const MrfAisConfig& config, const Exec& ex, Observer& obs) {
  check_arg(config.chains >= 1, "mrf_ais: chains must be >= 1, got {}", config.chains);
  check_arg(config.sweeps >= 1, "mrf_ais: sweeps must be >= 1, got {}", config.sweeps);
  const UniformStates base = uniform_base(model);
  return ais(mrf_path(base, model, config.sweeps), config.schedule, AisConfig{config.chains, config.seed}, ex, obs);
}
}  // namespace

LogZEstimate mrf_ais(const Potts& model, const MrfAisConfig& config, const Exec& ex, Observer& obs) {
  return mrf_ais_on(model, config, ex, obs);
}
LogZEstimate mrf_ais(const Ising& model, const MrfAisConfig& config, const Exec& ex, Observer& obs) {
  return mrf_ais_on(model, config, ex, obs);
}

}  // namespace logz
