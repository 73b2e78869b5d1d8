// The tables of api/config_fields.hpp: one line per field, in each config's order.
#include "logz/api/config_fields.hpp"

#define LOGZ_FIELD(C, name) ConfigField<C>{#name, &C::name}

namespace logz::api {

const ConfigFields<TrainConfig>& fields_of(const TrainConfig*) {
  using C = TrainConfig;
  static const ConfigFields<C> f{
      LOGZ_FIELD(C, hidden),  LOGZ_FIELD(C, method),  LOGZ_FIELD(C, k),           LOGZ_FIELD(C, epochs),
      LOGZ_FIELD(C, batch),   LOGZ_FIELD(C, chains),  LOGZ_FIELD(C, replicas),    LOGZ_FIELD(C, lr),
      LOGZ_FIELD(C, lr_schedule), LOGZ_FIELD(C, lr_final), LOGZ_FIELD(C, momentum), LOGZ_FIELD(C, weight_decay),
      LOGZ_FIELD(C, init_scale), LOGZ_FIELD(C, seed), LOGZ_FIELD(C, monitor_ais_every),
      LOGZ_FIELD(C, monitor_ais_chains), LOGZ_FIELD(C, monitor_ais_betas), LOGZ_FIELD(C, monitor_rows)};
  return f;
}

const ConfigFields<TrainFiles>& fields_of(const TrainFiles*) {
  using C = TrainFiles;
  static const ConfigFields<C> f{LOGZ_FIELD(C, checkpoint), LOGZ_FIELD(C, log), LOGZ_FIELD(C, resume)};
  return f;
}

const ConfigFields<ContinuousTrainConfig>& fields_of(const ContinuousTrainConfig*) {
  using C = ContinuousTrainConfig;
  static const ConfigFields<C> f{
      LOGZ_FIELD(C, model),       LOGZ_FIELD(C, method),      LOGZ_FIELD(C, optimizer),   LOGZ_FIELD(C, hidden),
      LOGZ_FIELD(C, learn_sigma), LOGZ_FIELD(C, alpha),       LOGZ_FIELD(C, init_scale),  LOGZ_FIELD(C, sigmas),
      LOGZ_FIELD(C, draws),       LOGZ_FIELD(C, projections), LOGZ_FIELD(C, noise_ratio), LOGZ_FIELD(C, max_iterations),
      LOGZ_FIELD(C, tolerance),   LOGZ_FIELD(C, epochs),      LOGZ_FIELD(C, batch),       LOGZ_FIELD(C, lr),
      LOGZ_FIELD(C, chains),      LOGZ_FIELD(C, steps),       LOGZ_FIELD(C, kernel),      LOGZ_FIELD(C, step_size),
      LOGZ_FIELD(C, leapfrog),    LOGZ_FIELD(C, checkpoint),  LOGZ_FIELD(C, resume),      LOGZ_FIELD(C, seed)};
  return f;
}

const ConfigFields<IsingTrainConfig>& fields_of(const IsingTrainConfig*) {
  using C = IsingTrainConfig;
  static const ConfigFields<C> f{
      LOGZ_FIELD(C, method),  LOGZ_FIELD(C, graph),        LOGZ_FIELD(C, l2_fields), LOGZ_FIELD(C, l2_couplings),
      LOGZ_FIELD(C, max_iterations), LOGZ_FIELD(C, tolerance), LOGZ_FIELD(C, chains), LOGZ_FIELD(C, sweeps),
      LOGZ_FIELD(C, updates), LOGZ_FIELD(C, average_last), LOGZ_FIELD(C, replicas), LOGZ_FIELD(C, lr),
      LOGZ_FIELD(C, momentum), LOGZ_FIELD(C, seed), LOGZ_FIELD(C, checkpoint), LOGZ_FIELD(C, checkpoint_every),
      LOGZ_FIELD(C, resume)};
  return f;
}

const ConfigFields<PottsTrainConfig>& fields_of(const PottsTrainConfig*) {
  using C = PottsTrainConfig;
  static const ConfigFields<C> f{
      LOGZ_FIELD(C, method),    LOGZ_FIELD(C, variant),  LOGZ_FIELD(C, precision),         LOGZ_FIELD(C, lambda_h),
      LOGZ_FIELD(C, lambda_e),  LOGZ_FIELD(C, tolerance), LOGZ_FIELD(C, relative_decrease), LOGZ_FIELD(C, max_iterations),
      LOGZ_FIELD(C, chains),    LOGZ_FIELD(C, sweeps),   LOGZ_FIELD(C, updates),           LOGZ_FIELD(C, average_last),
      LOGZ_FIELD(C, lr),        LOGZ_FIELD(C, momentum), LOGZ_FIELD(C, betas),             LOGZ_FIELD(C, seed),
      LOGZ_FIELD(C, checkpoint), LOGZ_FIELD(C, checkpoint_every), LOGZ_FIELD(C, resume)};
  return f;
}

const ConfigFields<PottsDataConfig>& fields_of(const PottsDataConfig*) {
  using C = PottsDataConfig;
  static const ConfigFields<C> f{LOGZ_FIELD(C, alphabet),    LOGZ_FIELD(C, focus), LOGZ_FIELD(C, unknown),
                                 LOGZ_FIELD(C, ignore_gaps), LOGZ_FIELD(C, theta), LOGZ_FIELD(C, weights),
                                 LOGZ_FIELD(C, q)};
  return f;
}

}  // namespace logz::api
