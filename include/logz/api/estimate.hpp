#pragma once
/// @file estimate.hpp
/// Estimating log Z on an annealing path: one configuration (EstimateConfig) names the
/// method and its settings, `estimate_on_path` runs it on any AnnealingPath through the
/// estimator registry (api/estimator_registry.hpp), and `replicate` runs R independent
/// copies and says whether they agree. The per-kind tasks (api/tasks.hpp) build the path
/// of a model and call these.
///
/// Replicates share the budget: R runs (by default 4, or 1 for smc, lis, bridge and ti, whose error
/// bar already is the spread of their own independent runs) split the method's budget
/// (`chains`, or smc's `runs`) as evenly as it divides, run r with seed + r; so a call with
/// --replicates R --chains C --seed S gives the same bits as R calls with --replicates 1,
/// --seed S + r and the r-th share of C. The runs are combined on the Z scale for the
/// estimators whose Ẑ is unbiased (is, ais, smc, lis: log mean exp of the runs' log Ẑ,
/// standard error by the delta method over runs) and on the log scale for the others
/// (raise, bridge, ti: mean and sd/√R). The reported standard error is the larger of that
/// between-run error and the runs' own error bars pooled (√Σ se_r² / R): neither hides
/// the other, so runs that disagree widen the error bar. The runs disagree when
///   Q = Σ_r (ℓ_r − ℓ̄)² / se_r²,  ℓ̄ the inverse-variance weighted mean,
/// exceeds the 0.999 quantile of χ²_{R−1} (Cochran's test of homogeneity): their own error
/// bars do not explain their spread, which is the usual symptom of an AIS/SMC run that is
/// too short (the weights' variance is underestimated) or of chains that do not mix. That
/// and the other checks of estimators/verdict.hpp make the verdict (reliable, warnings).
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/ranks.hpp"
#include "logz/api/estimator_registry.hpp"
#include "logz/core/options.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz::api {

/// What to estimate and how. The fields every method has are members; each method's own
/// settings (smc's runs, bridge's burn_in, ...) are in `options`, declared by the method
/// (estimators/method.hpp) and present at their defaults.
struct EstimateConfig {
  std::string method = "ais";  ///< "exact" or a registered estimator (estimator_names())
  /// Draws (is), particles (ais; smc: per run), reverse chains (raise), chains of the
  /// ladder (bridge, ti), independent runs (lis).
  std::size_t chains = 100;
  std::size_t betas = 10000;  ///< intermediate distributions of a named schedule
  /// A name (Schedule::named), an explicit list "list:0,0.25,...,1", or "adaptive": the
  /// betas an adaptive SMC run picks at conditional ESS `cess` (smc adapts in every run;
  /// the other methods take the schedule of one pilot run).
  std::string schedule = "sm";
  std::size_t sweeps = 1;      ///< moves per beta (Ising / Potts sweeps, continuous kernel steps)
  /// Independent runs sharing the budget (seed, seed + 1, ...); 0 = automatic: 4, or 1 for
  /// the methods whose error bar is already the spread of independent runs (smc, lis).
  std::size_t replicates = 0;
  std::uint64_t seed = 1;
  Settings options{method_option_fields()};  ///< every registered method's own settings

  /// Throws ConfigError "<who>: <field> ..." naming the first bad field.
  void validate(std::string_view who = "estimate") const;
};

/// The fields every method has (method, chains, betas, schedule, sweeps, replicates, seed),
/// declared once: for front ends' options and help.
const std::vector<OptionField>& common_estimate_fields();
/// A field of the config by name (a common field or a method option).
OptionValue get_field(const EstimateConfig& c, const std::string& name);
/// Sets a field by name. Unknown names: std::logic_error (a front end's mistake).
void set_field(EstimateConfig& c, const std::string& name, OptionValue v);
/// The config as JSON: the common fields and the options the chosen method declares
/// (cess too with schedule adaptive).
nlohmann::json to_json(const EstimateConfig& c);

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
/// "list:b0,b1,...,bK". Throws ConfigError naming the schedule field when it is bad.
Schedule make_schedule(const std::string& spec, std::size_t betas);

namespace detail {
/// The betas a method with uses_schedule runs on: adaptive → null for SMC (it adapts in
/// every run) and the betas of one pilot SMC run for the others; else make_schedule.
template <class Method, AnnealingPath P>
std::optional<Schedule> method_schedule(const P& path, const EstimateConfig& c, const Exec& ex) {
  if (c.schedule != "adaptive") return make_schedule(c.schedule, c.betas);
  if constexpr (std::is_same_v<Method, SmcMethod>) return std::nullopt;
  else return adaptive_schedule(path, SmcMethod::config(c.chains, c.seed, c.options, nullptr), ex);
}
}  // namespace detail

/// The configured estimator run on a path, through the registry. `start` holds the
/// reverse chains' start states of a method with needs_start (raise). A method that does
/// not apply to the path (lis needs a reversible move) is a ConfigError naming `method`.
template <AnnealingPath P>
LogZEstimate estimate_on_path(const P& path, const EstimateConfig& c, const typename P::Particles* start,
                              const Exec& ex, Observer& obs = silent_observer()) {
  std::optional<LogZEstimate> out;
  const auto try_method = [&]<class Method>(const Method&) {
    if (out || Method::name != c.method) return;
    if constexpr (Method::template applicable<P>) {
      std::optional<Schedule> schedule;
      if constexpr (Method::uses_schedule) schedule = detail::method_schedule<Method>(path, c, ex);
      const MethodRun<P> run{c.chains, c.seed, schedule ? &*schedule : nullptr, c.options, start};
      out = Method::run(path, run, ex, obs);
    }
  };
  std::apply([&](const auto&... method) { (try_method(method), ...); }, EstimatorMethods{});
  check_config(out.has_value(), {"method"}, "estimate: @0 {} is not available for this model (methods: exact, {})",
               c.method, estimator_names());
  return *std::move(out);
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
  std::string warning;             ///< Cochran's warning; empty when the runs agree (also in combined.warnings)
};

/// Combines runs (all of one method; at least one) as described in the file comment and
/// gives the verdict (estimators/verdict.hpp) on each run and on the whole.
ReplicatedEstimate combine_replicates(std::vector<LogZEstimate> runs);

/// Replicates when none are asked for: 4 (enough for Cochran's test to see a run that
/// disagrees; docs/error-bars.md).
inline constexpr std::size_t default_replicates = 4;

/// The number of runs a config makes: `replicates`, or the automatic count for 0, and never
/// more than the budget it shares (a run needs at least one of it).
std::size_t replicate_count(const EstimateConfig& c);

/// Run r of R: seed + r, replicates 1, and the r-th share of the budget (the first
/// budget % R runs take one more).
EstimateConfig replicate_config(const EstimateConfig& c, std::size_t r, std::size_t R);

namespace detail {
/// The observer of runs made at the same time, one per task: progress is the runs' summed,
/// passed on from the calling thread only (pool workers never call an observer:
/// core/parallel.hpp), and messages are kept and passed on in run order when the runs end.
class RunsObserver {
 public:
  RunsObserver(Observer& out, std::size_t runs);
  Observer& run(std::size_t r) { return *runs_[r]; }
  /// The kept messages, run by run.
  void flush();

 private:
  struct One : Observer {
    RunsObserver* all = nullptr;
    std::atomic<std::size_t> done{0}, total{0};
    std::vector<std::string> messages;
    void progress(std::string_view phase, std::size_t done, std::size_t total) override;
    void message(std::string_view text) override;
  };
  Observer& out_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<One>> runs_;
};
}  // namespace detail

/// The runs of `config` (replicate_count, replicate_config), each `run(one, ex, obs)`,
/// combined; `seconds` is the wall time of them all. With at least as many runs as
/// threads, the runs are the tasks of one parallel region (each run on one thread: a
/// coarse region that a busy machine's paused thread holds up for one run at most);
/// otherwise they run one after the other, each on every thread. Every run's blocks are
/// fixed by its size, so the bits are the same either way. Under mpirun, when the ranks
/// divide the runs, each rank makes its own range of them alone and the runs are then
/// shared (no messages while they run); otherwise the runs go one after the other, each
/// spreading its work over the ranks where its estimator can.
template <class Run>
ReplicatedEstimate replicate(const EstimateConfig& config, const Exec& ex, Observer& obs, Run&& run) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t R = replicate_count(config);
  std::vector<LogZEstimate> runs(R);
  const bool by_rank = ranks::spreading() && R % std::size_t(ranks::size()) == 0;
  const ranks::Range mine = ranks::owned_if(by_rank, R);
  std::optional<ranks::Alone> alone;
  if (by_rank) alone.emplace();
  if (mine.size() > 1 && ex.threads() > 1 && mine.size() >= std::size_t(ex.threads()) && !ranks::distributed()) {
    detail::RunsObserver each(obs, mine.size());
    parallel_for(ex, mine.size(), [&](std::size_t i) {
      const std::size_t r = mine.begin + i;
      runs[r] = run(replicate_config(config, r, R), ex, each.run(i));
    });
    each.flush();
  } else {
    for (std::size_t r = mine.begin; r < mine.end; ++r) runs[r] = run(replicate_config(config, r, R), ex, obs);
  }
  alone.reset();
  if (by_rank) {
    std::vector<std::string> bytes(R);
    for (std::size_t r = mine.begin; r < mine.end; ++r) bytes[r] = to_bytes(runs[r]);
    ranks::share_strings(bytes);
    for (std::size_t r = 0; r < R; ++r) runs[r] = estimate_from_bytes(bytes[r]);
  }
  ReplicatedEstimate out = combine_replicates(std::move(runs));
  out.combined.seconds = seconds_since(t0);
  return out;
}

/// JSON of one estimate: method, log_z, std_error, error_method, ess, num_samples,
/// log_z_base, seconds, the verdict (reliable, warnings: name, message, advice), and a
/// summary of its per-β table (steps, min_ess, mean_acceptance, max_rhat, min_swap_rate).
nlohmann::json to_json(const LogZEstimate& e);
/// JSON of replicated runs: the combined estimate's fields plus replicates, between_sd,
/// within_se, rhat, q_statistic, p_value, warning and the runs' log_z / std_error.
nlohmann::json to_json(const ReplicatedEstimate& r);

/// Writes the per-β table (beta, ess, acceptance, log_weight_variance, resampled) of `e`
/// as CSV to `path`, atomically (io::write_file_atomic).
void write_diagnostics_csv(const std::string& path, const LogZEstimate& e);

}  // namespace logz::api
