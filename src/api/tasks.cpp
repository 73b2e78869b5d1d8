// The tasks on any model (api/tasks.hpp): one visit over the per-kind traits each.
#include "logz/api/tasks.hpp"

#include <chrono>
#include <algorithm>
#include <cmath>

#include "logz/api/kinds.hpp"
#include "logz/core/check.hpp"
#include "logz/core/memory.hpp"
#include "logz/core/math.hpp"
#include "logz/estimators/verdict.hpp"

namespace logz::api {

namespace {

/// Calls f(model, traits) with the model held by the file and its KindTraits.
template <class F>
decltype(auto) with_kind(const io::ModelFile& file, F&& f) {
  return std::visit(
      [&](const auto& m) -> decltype(auto) {
        using M = std::decay_t<decltype(m)>;
        return f(m, KindTraits<M>{});
      },
      file.model);
}

/// A checking run: one replicate's share of the budget, with the k-th seed after the
/// replicates' (k = 0, 1, ...), so checks never reuse a replicate's streams.
EstimateConfig check_run_config(const EstimateConfig& config, std::size_t k) {
  const std::size_t R = replicate_count(config);
  EstimateConfig one = replicate_config(config, 0, R);
  one.seed = config.seed + R + k;
  return one;
}

/// The forward estimate against a reverse one (estimators/verdict.hpp: sandwich): RAISE
/// with the schedule and the chains of one replicate, from rows of the model samples the
/// base was fitted to, with the seed after the replicates'.
template <class Run>
void reverse_check(LogZResult& out, const EstimateConfig& config, Run&& run, const Rows& samples, std::string_view who) {
  EstimateConfig reverse = check_run_config(config, 0);
  reverse.method = "raise";
  const Dataset rows{samples, "model samples"};
  reverse.chains = std::min(reverse.chains, rows.count());
  const Rows start = pick_rows(rows, reverse.chains, reverse.seed, who);
  LogZEstimate r = run(reverse, start);
  verdict::assess_sandwich(out.estimate.combined, r);
  out.details["reverse_check"] = {{"method", "raise"},       {"log_z", r.log_z},     {"std_error", r.std_error},
                                  {"chains", reverse.chains}, {"seed", reverse.seed}, {"start", "model samples"},
                                  {"seconds", r.seconds}};
  out.estimate.combined.seconds += r.seconds;
}

}  // namespace

ExactResult exact_log_z(const io::ModelFile& file, const Exec& ex) {
  return with_kind(file, [&](const auto& m, auto traits) {
    const std::string why = traits.no_exact(m, "continuous_exact_log_z");
    check_arg(why.empty(), "exact: no exact log Z for this model: {}", why);
    const auto t0 = std::chrono::steady_clock::now();
    ExactResult r = traits.exact(m, file, ex);
    // A finite model whose Z overflows a double (parameters near 1e308) has no log Z to
    // print: say so rather than write inf or null.
    check_data(std::isfinite(r.log_z), "exact: log Z is {}: the model's parameters are too large for a double ({})",
               r.log_z, r.how);
    r.seconds = seconds_since(t0);
    return r;
  });
}

namespace {

// What an estimate holds at once, known before any work (the steps are checked by
// EstimateConfig::validate): per replicate each chain's state; the ladder methods keep
// every chain at every beta.
void check_estimate_memory(const EstimateConfig& c, std::size_t width, std::string_view who) {
  const std::size_t replicates = replicate_count(c);
  const std::string what = fmt::format("{}: {} chains x {} betas x {} replicates", who, c.chains, c.betas, replicates);
  check_memory_for({replicates, c.chains, width + 2, sizeof(double)}, what);
  if (c.method == "bridge" || c.method == "ti") check_memory_for({replicates, c.chains, c.betas, sizeof(double)}, what);
}

}  // namespace

LogZResult estimate_log_z(const io::ModelFile& file, const EstimateConfig& config, const EstimateInputs& inputs,
                          const Exec& ex, Observer& obs, std::string_view who) {
  config.validate(who);
  if (config.method != "exact") check_estimate_memory(config, dimension_of(file.model), who);
  // The moves' kernel is checked by each kind (continuous: hmc, mala; Ising / Potts: gibbs,
  // sw, sw-gibbs; RBM: gibbs), which knows what its path can run.
  const EstimatorInfo* info = find_estimator(config.method);
  const bool needs_start = info && info->needs_start;
  check_config(!needs_start || inputs.start_data != nullptr, {"method", "data", "chains"},
               "{}: @0 {} needs @1 (RAISE starts one reverse chain from each of @2 data rows)", who, config.method);
  return with_kind(file, [&](const auto& m, auto traits) {
    LogZResult out;
    out.details = {{"kind", kind_name(kind_of(file.model))}};
    if (config.method == "exact") {
      const std::string why = traits.no_exact(m, "continuous_exact_log_z");
      check_config(why.empty(), {"method"}, "{}: @0 exact is not available: {}", who, why);
      const ExactResult e = exact_log_z(file, ex);
      out.estimate = combine_replicates({exact_estimate(e.log_z, e.how, e.seconds)});
      out.details.update(e.details);
      return out;
    }
    const auto prepared = traits.prepare(m, file, config, inputs, ex, who);
    out.estimate = replicate(config, ex, obs, [&](const EstimateConfig& one, const Exec& run_ex, Observer& run_obs) {
      // Each replicate picks its own start rows with its own seed.
      const std::optional<Rows> start =
          needs_start ? std::optional<Rows>(pick_rows(*inputs.start_data, one.chains, one.seed, who)) : std::nullopt;
      return traits.estimate(m, prepared, one, inputs, start ? &*start : nullptr, run_ex, run_obs);
    });
    out.details.update(traits.details(m, prepared, config, inputs));
    if constexpr (requires { prepared.lower_bound(); }) {
      const CertainBound bound = prepared.lower_bound();
      verdict::assess_lower_bound(out.estimate.combined, bound.log_z, bound.how);
    }
    if constexpr (requires { prepared.model_samples; })
      if (config.method == "ais" && prepared.model_samples) {
        reverse_check(out, config, [&](const EstimateConfig& reverse, const Rows& start) {
          return traits.estimate(m, prepared, reverse, inputs, &start, ex, obs);
        }, *prepared.model_samples, who);
        // A second forward run from another base: both are stochastic lower bounds, so one
        // far above the other means the other misses mass (chains stuck where the fitted
        // base put them).
        const EstimateConfig other = check_run_config(config, 1);
        const LogZEstimate second = traits.estimate(m, prepared.uniform(), other, inputs, nullptr, ex, obs);
        verdict::assess_second_base(out.estimate.combined, second, "the uniform base");
        out.details["base_check"] = {{"base", "uniform"},         {"log_z", second.log_z},
                                     {"std_error", second.std_error}, {"chains", other.chains},
                                     {"seed", other.seed},          {"seconds", second.seconds}};
        out.estimate.combined.seconds += second.seconds;
      }
    return out;
  });
}

Evaluation evaluate(const io::ModelFile& file, const Dataset& data, const EstimateConfig& config,
                    const EstimateInputs& inputs, const Exec& ex, Observer& obs, std::string_view who) {
  EstimateInputs in = inputs;
  const EstimatorInfo* info = find_estimator(config.method);
  if (in.start_data == nullptr && info && info->needs_start) in.start_data = &data;  // RAISE starts from the rows evaluated
  const LogZResult z = estimate_log_z(file, config, in, ex, obs, who);
  Evaluation ev;
  ev.log_z = z.estimate.combined;
  ev.details = z.details;
  check_config_data(std::isfinite(ev.log_z.log_z), {"method"}, "{}: log Z by @0 {} is not finite ({})", who,
                    ev.log_z.method, ev.log_z.log_z);
  const VectorD energies = with_kind(file, [&](const auto& m, auto traits) { return traits.energies(m, data.rows, ex); });
  ev.rows = std::size_t(energies.size());
  ev.energy_name = kind_of(file.model) == ModelKind::rbm ? "free_energy" : "energy";
  MeanVar mv;
  for (Eigen::Index r = 0; r < energies.size(); ++r) {
    check_config_data(std::isfinite(energies[r]), {"data"}, "{}: the {} of @0 row {} is not finite ({})", who,
                      ev.energy_name == "energy" ? "energy" : "free energy", r, energies[r]);
    mv.add(energies[r]);
  }
  ev.mean_energy = mv.mean;
  ev.energy_std_error = ev.rows > 1 ? mv.std_error() : 0.0;
  const double z_se = std::isfinite(ev.log_z.std_error) ? ev.log_z.std_error : 0.0;
  ev.mean_log_likelihood = -ev.mean_energy - ev.log_z.log_z;
  // Independent parts (see Evaluation): their variances add.
  ev.std_error = std::sqrt(ev.energy_std_error * ev.energy_std_error + z_se * z_se);
  ev.per_row = (-energies.array() - ev.log_z.log_z).matrix();
  // Ising / Potts: each site's mean conditional log-likelihood log p(x_i | x_-i).
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Ising> || std::is_same_v<M, Potts>) {
          const Eigen::Map<const MatrixD> x = real_rows(data.rows);
          const std::size_t L = m.dimension(), q = m.num_states();
          const Blocks blocks = row_blocks(std::size_t(x.rows()));
          MatrixD sums = MatrixD::Zero(Eigen::Index(blocks.count()), Eigen::Index(L));
          parallel_for(ex, blocks.count(), [&](std::size_t b) {
            std::vector<double> e(q);
            VectorD row(x.cols());
            for (std::size_t r = blocks.begin(b); r < blocks.end(b); ++r) {
              row = x.row(Eigen::Index(r)).transpose();
              for (std::size_t i = 0; i < L; ++i) {
                m.site_energies(i, row, e);
                for (double& v : e) v = -v;  // log p(x_i = a | rest) = -E_a - log sum_b exp(-E_b)
                sums(Eigen::Index(b), Eigen::Index(i)) += e[m.state_index(row[Eigen::Index(i)])] - log_sum_exp(e);
              }
            }
          });
          ev.per_site = (sums.colwise().sum() / double(x.rows())).transpose();  // block order: same bits
        }
      },
      file.model);
  return ev;
}

VectorD energies(const io::ModelFile& file, const Dataset& data, const Exec& ex, std::string_view who) {
  check_dataset(data, file, "data", who);
  return with_kind(file, [&](const auto& m, auto traits) { return traits.energies(m, data.rows, ex); });
}

void SampleConfig::validate(std::string_view who) const {
  check_config(chains >= 1, {"chains"}, "{}: @0 must be >= 1, got {}", who, chains);
  check_config(steps >= 1, {"steps"}, "{}: @0 must be >= 1, got {}", who, steps);
}

Samples sample(const io::ModelFile& file, const SampleConfig& config, const Exec& ex, Observer& obs) {
  config.validate();
  const std::size_t width = dimension_of(file.model);
  check_memory_for({config.chains, width + 2, 2 * sizeof(double)},
                   fmt::format("sample: {} chains of dimension {}", config.chains, width));
  return with_kind(file, [&](const auto& m, auto traits) { return traits.sample(m, file, config, ex, obs); });
}

Description describe(const io::ModelFile& file, const Exec& ex) {
  return with_kind(file, [&](const auto& m, auto traits) { return traits.describe(m, file, ex); });
}

}  // namespace logz::api
