// AIS and RAISE for binary RBMs: the generic estimators (estimators/ais.hpp) on the RBM
// weight-annealing path (Salakhutdinov & Murray 2008).
#include "logz/estimators/rbm_ais.hpp"

#include "logz/estimators/ais.hpp"
#include "logz/tempering/rbm_path.hpp"

namespace logz {

LogZEstimate rbm_ais(const RbmF& model, const VectorF& base_bias, const Schedule& schedule, const RbmAisConfig& config,
                     const Exec& ex, Observer& obs) {
  check_arg(config.chains >= 1, "rbm_ais: chains must be >= 1, got {}", config.chains);
  model.validate("rbm_ais");
  return ais(RbmAnnealingPath(model, base_bias), schedule, AisConfig{config.chains, config.seed}, ex, obs);
}

LogZEstimate rbm_raise(const RbmF& model, const VectorF& base_bias, const Schedule& schedule, const MatrixU8& start,
                       std::uint64_t seed, const Exec& ex, Observer& obs) {
  check_arg(start.rows() >= 1, "rbm_raise: needs at least one start vector, got {}", start.rows());
  check_arg(std::size_t(start.cols()) == model.n_visible(), "rbm_raise: start data has {} columns, the model has {} visible units",
            start.cols(), model.n_visible());
  model.validate("rbm_raise");
  return raise(RbmAnnealingPath(model, base_bias), schedule, start.cast<float>(), seed, ex, obs);
}

}  // namespace logz
