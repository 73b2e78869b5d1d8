#pragma once
/// @file estimate.hpp
/// The façade over the log Z estimators: one configuration (EstimateConfig) names the
/// method and its settings, `estimate_on_path` runs it on any AnnealingPath, and
/// `replicate` runs R independent copies and says whether they agree. The CLI's
/// `logz estimate` and the model-specific façades (rbm_tasks, mrf_tasks) call these.
///
/// Replicates: run r uses seed + r, so a call with --replicates R --seed S gives the same
/// bits as R calls with --seed S, S+1, ..., S+R−1. The runs are combined on the Z scale for
/// the estimators whose Ẑ is unbiased (is, ais, smc, lis: log mean exp of the runs' log Ẑ,
/// standard error by the delta method over runs) and on the log scale for the others
/// (raise, bridge, ti: mean and sd/√R). The runs disagree when
///   Q = Σ_r (ℓ_r − ℓ̄)² / se_r²,  ℓ̄ the inverse-variance weighted mean,
/// exceeds the 0.999 quantile of χ²_{R−1} (Cochran's test of homogeneity): their own error
/// bars do not explain their spread, which is the usual symptom of an AIS/SMC run that is
/// too short (the weights' variance is underestimated) or of chains that do not mix.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/estimators/ais.hpp"
#include "logz/estimators/bridge.hpp"
#include "logz/estimators/linked_is.hpp"
#include "logz/estimators/smc.hpp"
#include "logz/estimators/thermodynamic.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz::api {

struct EstimateConfig {
  std::string method = "ais";   ///< exact or one of estimate_methods()
  /// Draws (is), particles (ais; smc: per run), reverse chains (raise), chains of the
  /// ladder (bridge, ti), independent runs (lis).
  std::size_t chains = 100;
  std::size_t betas = 10000;    ///< intermediate distributions of a named schedule
  /// A name (Schedule::named), an explicit list "list:0,0.25,...,1", or "adaptive": the
  /// betas an adaptive SMC run picks at conditional ESS `cess` (smc adapts in every run;
  /// the other methods take the schedule of one pilot run).
  std::string schedule = "sm";
  std::size_t sweeps = 1;       ///< sweeps per move (Ising / Potts paths)
  std::size_t replicates = 1;   ///< independent runs (seed, seed + 1, ...)
  std::uint64_t seed = 1;
  // smc
  std::size_t runs = 20;               ///< independent runs whose spread gives the standard error
  std::string resampling = "systematic";  ///< multinomial, systematic, stratified or residual
  double ess_threshold = 0.5;          ///< resample when ESS < threshold · N
  double cess = 0.95;                  ///< target conditional ESS / N of adaptive tempering
  // bridge, ti: the ladder of equilibrium chains
  std::size_t burn_in = 10, samples = 50, thin = 1;
  std::string quadrature = "trapezoid";  ///< ti: trapezoid or simpson
  // lis
  std::size_t chain_length = 10;       ///< states per distribution in each run
  void validate() const;
};

/// The methods estimate_on_path knows, for messages: "is, ais, raise, smc, bridge, ti, lis".
std::string estimate_methods();
/// True for a method name estimate_on_path knows.
bool is_estimate_method(const std::string& method);

/// An exact value as an estimate (method "exact", std_error 0, `how` in error_method): what
/// every model kind's `--method exact` returns.
inline LogZEstimate exact_estimate(double log_z, std::string how, double seconds) {
  LogZEstimate e;
  e.method = "exact";
  e.log_z = log_z;
  e.std_error = 0;
  e.error_method = std::move(how);
  e.seconds = seconds;
  return e;
}

/// The schedule of a config: Schedule::named(schedule, betas), or the explicit betas of
/// "list:b0,b1,...,bK". Throws Error(Exit::usage) naming what is wrong.
Schedule make_schedule(const std::string& spec, std::size_t betas);

namespace detail {
SmcConfig smc_config(const EstimateConfig& c);
}  // namespace detail

/// An estimator run on a path. `start` (raise only) holds the reverse chains' start states.
/// lis needs a path whose move is reversible (mrf_tasks builds one for Ising / Potts; the
/// RBM's block-Gibbs sweep is).
template <AnnealingPath P>
LogZEstimate estimate_on_path(const P& path, const EstimateConfig& c, const typename P::Particles* start,
                              const Exec& ex, Observer& obs = silent_observer()) {
  if (c.method == "is") return importance_sampling(path, c.chains, c.seed, ex, obs);
  if (c.method == "smc") return smc(path, detail::smc_config(c), ex, obs);
  const Schedule schedule = c.schedule == "adaptive" ? adaptive_schedule(path, detail::smc_config(c), ex)
                                                     : make_schedule(c.schedule, c.betas);
  if (c.method == "ais") return ais(path, schedule, AisConfig{c.chains, c.seed}, ex, obs);
  if (c.method == "raise") {
    check_arg(start != nullptr && start->rows() > 0, "estimate: --method raise needs start states (--data)");
    return raise(path, schedule, *start, c.seed, ex, obs);
  }
  if (c.method == "bridge")
    return bridge_sampling(path, schedule, BridgeConfig{c.chains, c.burn_in, c.samples, c.thin, c.seed}, ex, obs);
  if (c.method == "ti") {
    TiConfig t{c.chains, c.burn_in, c.samples, c.thin, c.seed};
    t.rule = c.quadrature == "simpson" ? TiRule::simpson : TiRule::trapezoid;
    return thermodynamic_integration(path, schedule, t, ex, obs);
  }
  if constexpr (!logz::detail::irreversible_move<P>::value)
    if (c.method == "lis")
      return linked_importance_sampling(path, schedule, LinkedIsConfig{c.chains, c.chain_length, c.seed}, ex, obs);
  fail(Exit::usage, "estimate: --method {} is not available for this model (methods: exact, {})", c.method,
       estimate_methods());
}

/// R independent runs and their agreement.
struct ReplicatedEstimate {
  LogZEstimate combined;           ///< the runs pooled (see the file comment); log_weights: the runs' log Z
  std::vector<LogZEstimate> runs;  ///< run r with seed + r
  double between_sd = std::numeric_limits<double>::quiet_NaN();   ///< sd of the runs' log Z
  double within_se = std::numeric_limits<double>::quiet_NaN();    ///< root mean square of the runs' own SEs
  double rhat = std::numeric_limits<double>::quiet_NaN();         ///< rank-normalised split R-hat of the runs' log-weights
  double q_statistic = std::numeric_limits<double>::quiet_NaN();  ///< Cochran's Q
  double p_value = std::numeric_limits<double>::quiet_NaN();      ///< P(χ²_{R−1} >= Q)
  std::string warning;             ///< empty when the runs agree
};

/// Combines runs (all of one method; at least one) as described in the file comment.
ReplicatedEstimate combine_replicates(std::vector<LogZEstimate> runs);

/// `config.replicates` runs of `run(config with seed + r)`, combined.
template <class Run>
ReplicatedEstimate replicate(const EstimateConfig& config, Run&& run) {
  config.validate();
  std::vector<LogZEstimate> runs;
  for (std::size_t r = 0; r < config.replicates; ++r) {
    EstimateConfig c = config;
    c.seed = config.seed + r;
    c.replicates = 1;
    runs.push_back(run(c));
  }
  return combine_replicates(std::move(runs));
}

/// JSON of one estimate: method, log_z, std_error, error_method, ess, num_samples,
/// log_z_base, seconds, and a summary of its per-β table (steps, min_ess, mean_acceptance).
nlohmann::json to_json(const LogZEstimate& e);
/// JSON of replicated runs: the combined estimate's fields plus replicates, between_sd,
/// within_se, rhat, q_statistic, p_value, warning and the runs' log_z / std_error.
nlohmann::json to_json(const ReplicatedEstimate& r);

/// Writes the per-β table (beta, ess, acceptance, log_weight_variance, resampled) of `e`
/// as CSV to `path`, atomically (io::write_file_atomic).
void write_diagnostics_csv(const std::string& path, const LogZEstimate& e);

}  // namespace logz::api
