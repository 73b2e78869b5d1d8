// The estimator façade: schedules by name or list, replicate combination with Cochran's
// test of homogeneity, JSON and the per-β CSV.
#include "logz/api/estimate.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

#include "logz/core/math.hpp"
#include "logz/core/memory.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/estimators/verdict.hpp"
#include "logz/io/atomic_file.hpp"

namespace logz::api {

const std::vector<OptionField>& common_estimate_fields() {
  static const std::vector<OptionField> fields = [] {
    std::vector<std::string> methods{"exact"};
    for (const EstimatorInfo& e : estimators()) methods.push_back(e.name);
    return std::vector<OptionField>{
        OptionField::text("method", "ais", methods, "exact or an estimator"),
        OptionField::count("chains", 100, 1,
                           "Draws (is), particles (ais; smc: per run), reverse chains (raise, one per data row), ladder "
                           "chains (bridge, ti), runs (lis)"),
        OptionField::count("betas", 10000, 1,
                           "Intermediate inverse temperatures (annealing steps); by default 10000 for is, ais, raise, "
                           "1000 for smc, 100 for bridge and ti, 300 for lis"),
        OptionField::text("schedule", "sm", {},
                          "Spacing of the betas: sm (Salakhutdinov & Murray 2008), linear, geometric, sigmoid (Grosse "
                          "et al. 2013), an explicit list:0,0.5,1, or adaptive (the betas of an adaptive SMC run at cess)"),
        OptionField::count("sweeps", 1, 1, "Gibbs sweeps (Ising / Potts) or kernel steps (continuous models) per move"),
        OptionField::count("replicates", 0, 0,
                           "Independent runs (seed, seed+1, ...) sharing the chains (smc: the runs), pooled and "
                           "compared; 0: 4, or 1 for smc, lis, bridge and ti (already the spread of independent runs or chains)"),
        OptionField::count("seed", 1, 0, "Random seed; chain r uses the stream (seed, r) for any thread count")};
  }();
  return fields;
}

OptionValue get_field(const EstimateConfig& c, const std::string& name) {
  if (name == "method") return c.method;
  if (name == "chains") return std::int64_t(c.chains);
  if (name == "betas") return std::int64_t(c.betas);
  if (name == "schedule") return c.schedule;
  if (name == "sweeps") return std::int64_t(c.sweeps);
  if (name == "replicates") return std::int64_t(c.replicates);
  if (name == "seed") return std::int64_t(c.seed);
  return c.options.get(name);
}

void set_field(EstimateConfig& c, const std::string& name, OptionValue v) {
  const auto count = [&](std::size_t& field) {
    const auto* i = std::get_if<std::int64_t>(&v);
    if (!i) throw std::logic_error("set_field: " + name + " takes an integer");
    check_config(*i >= 0, {name}, "estimate: @0 must be a non-negative integer, got {}", *i);
    field = std::size_t(*i);
  };
  if (name == "method") c.method = std::get<std::string>(v);
  else if (name == "chains") count(c.chains);
  else if (name == "betas") count(c.betas);
  else if (name == "schedule") c.schedule = std::get<std::string>(v);
  else if (name == "sweeps") count(c.sweeps);
  else if (name == "replicates") count(c.replicates);
  else if (name == "seed") {
    std::size_t seed = 0;
    count(seed);
    c.seed = seed;
  } else {
    if (!c.options.has(name)) throw std::logic_error("set_field: no estimate field '" + name + "'");
    c.options.set(name, std::move(v));
  }
}

void EstimateConfig::validate(std::string_view who) const {
  const EstimatorInfo* info = find_estimator(method);
  check_config(method == "exact" || info != nullptr, {"method"}, "{}: @0 must be exact or one of {}, got '{}'", who,
               estimator_names(), method);
  check_config(chains >= 1, {"chains"}, "{}: @0 must be at least 1, got {}", who, chains);
  check_config(sweeps >= 1, {"sweeps"}, "{}: @0 must be at least 1, got {}", who, sweeps);
  check_config(method != "exact" || replicates <= 1, {"replicates"}, "{}: @0 is for the random methods, not exact",
               who);
  options.validate(method_option_fields(), who);
  // Each chain of each replicate holds at least a state, a log-weight and a stream: a
  // lower bound known before the model's dimension (the tasks check it with it).
  const std::size_t runs = method == "exact" ? 1 : replicate_count(*this);
  if (method != "exact")
    check_memory_for({runs, chains, 4 * sizeof(double)}, fmt::format("{}: {} chains x {} replicates", who, chains, runs));
  if (info && info->uses_schedule && schedule != "adaptive") {
    check_config(betas >= 1, {"betas"}, "{}: @0 must be at least 1, got {}", who, betas);
    check_config(schedule != "sm" || betas >= 3, {"betas", "schedule"}, "{}: @0 must be at least 3 with @1 sm, got {}",
                 who, betas);
    // Each replicate keeps every step's beta and diagnostics: refuse a schedule too long
    // for memory before making it.
    check_memory_for({runs, betas, sizeof(double) + sizeof(StepDiagnostics)},
                     fmt::format("{}: {} betas x {} replicates", who, betas, runs));
    (void)make_schedule(schedule, betas);
  }
}

nlohmann::json to_json(const EstimateConfig& c) {
  nlohmann::json j;
  for (const OptionField& f : common_estimate_fields())
    std::visit([&](const auto& x) { j[f.name] = x; }, get_field(c, f.name));
  if (const EstimatorInfo* info = find_estimator(c.method)) {
    for (const OptionField& f : info->options) std::visit([&](const auto& x) { j[f.name] = x; }, c.options.get(f.name));
    if (c.schedule == "adaptive") j["cess"] = c.options.real("cess");
  }
  return j;
}

Schedule make_schedule(const std::string& spec, std::size_t betas) {
  constexpr std::string_view list = "list:";
  if (spec.rfind(list, 0) != 0) {
    try {
      return Schedule::named(spec, betas);
    } catch (const ConfigError&) {
      throw;
    } catch (const Error& e) {
      throw ConfigError(e.what(), {"schedule"});
    }
  }
  std::vector<double> b;
  std::stringstream in(spec.substr(list.size()));
  for (std::string item; std::getline(in, item, ',');) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    check_config(used > 0 && used == item.size(), {"schedule"}, "estimate: @0 list: '{}' is not a number", item);
    b.push_back(v);
  }
  return Schedule(std::move(b));
}

namespace {
/// P(χ²_k >= q) by the Wilson–Hilferty cube-root normal approximation (relative error of
/// the tail probability well below 10% at the 0.001 level for k >= 1: enough for a warning).
double chi_square_upper_tail(double q, double k) {
  if (q <= 0) return 1.0;
  const double z = (std::cbrt(q / k) - (1 - 2 / (9 * k))) / std::sqrt(2 / (9 * k));
  return 0.5 * std::erfc(z / std::numbers::sqrt2);
}
bool unbiased_on_z_scale(const std::string& method) {
  const EstimatorInfo* info = find_estimator(method);
  return info && info->unbiased_z;
}
}  // namespace

std::size_t replicate_count(const EstimateConfig& c) {
  const EstimatorInfo* info = find_estimator(c.method);
  if (!info) return 1;
  const std::size_t wanted = c.replicates > 0 ? c.replicates : info->self_replicated ? 1 : default_replicates;
  const OptionValue budget = get_field(c, info->budget);
  return std::clamp<std::size_t>(wanted, 1, std::size_t(std::max<std::int64_t>(1, std::get<std::int64_t>(budget))));
}

EstimateConfig replicate_config(const EstimateConfig& c, std::size_t r, std::size_t R) {
  EstimateConfig one = c;
  one.seed = c.seed + r;
  one.replicates = 1;
  if (const EstimatorInfo* info = find_estimator(c.method); info && R > 1) {
    const std::size_t budget = std::size_t(std::get<std::int64_t>(get_field(c, info->budget)));
    set_field(one, info->budget, std::int64_t(budget / R + (r < budget % R ? 1 : 0)));
  }
  return one;
}

namespace detail {
RunsObserver::RunsObserver(Observer& out, std::size_t runs) : out_(out) {
  for (std::size_t r = 0; r < runs; ++r) {
    runs_.push_back(std::make_unique<One>());
    runs_.back()->all = this;
  }
}

void RunsObserver::One::progress(std::string_view phase, std::size_t d, std::size_t t) {
  done.store(d, std::memory_order_relaxed);
  total.store(t, std::memory_order_relaxed);
  if (logz::detail::on_worker_thread()) return;
  // Runs not yet started count as this one's size: the runs share the budget evenly.
  std::size_t sum_done = 0, sum_total = 0;
  for (const auto& one : all->runs_) {
    const std::size_t ot = one->total.load(std::memory_order_relaxed);
    sum_done += ot ? std::min(one->done.load(std::memory_order_relaxed), ot) : 0;
    sum_total += ot ? ot : t;
  }
  std::lock_guard lock(all->mutex_);
  all->out_.progress(phase, sum_done, sum_total);
}

void RunsObserver::One::message(std::string_view text) {
  std::lock_guard lock(all->mutex_);
  messages.emplace_back(text);
}

void RunsObserver::flush() {
  for (const auto& one : runs_)
    for (const std::string& m : one->messages) out_.message(m);
}
}  // namespace detail

ReplicatedEstimate combine_replicates(std::vector<LogZEstimate> runs) {
  check_arg(!runs.empty(), "combine_replicates: needs at least one run");
  ReplicatedEstimate out;
  for (LogZEstimate& run : runs) verdict::assess_run(run);
  const std::size_t R = runs.size();
  const LogZEstimate& first = runs.front();
  std::vector<double> ell(R);
  MeanVar mv;
  double se2 = 0, seconds = 0, ess = 0;
  std::size_t n = 0;
  for (std::size_t r = 0; r < R; ++r) {
    ell[r] = runs[r].log_z;
    mv.add(ell[r]);
    se2 += runs[r].std_error * runs[r].std_error;
    seconds += runs[r].seconds;
    ess += runs[r].ess;
    n += runs[r].num_samples;
  }
  out.within_se = std::sqrt(se2 / double(R));
  LogZEstimate& c = out.combined;
  c.method = first.method;
  c.log_z_base = first.log_z_base;
  c.num_samples = n;
  c.ess = ess;
  c.seconds = seconds;
  c.steps = first.steps;
  if (R == 1) {
    c = first;
    verdict::assess_weights(c, runs);
    out.runs = std::move(runs);
    return out;
  }
  out.between_sd = std::sqrt(mv.variance());
  c.dof = double(R - 1);
  if (unbiased_on_z_scale(first.method)) {
    const WeightSummary ws = summarize_log_weights(ell);
    c.log_z = ws.log_mean;
    c.std_error = ws.std_error;
    c.error_method = fmt::format("between {} replicates: delta method on their Z-hat (each unbiased for Z)", R);
  } else {
    c.log_z = mv.mean;
    c.std_error = mv.std_error();
    c.error_method = fmt::format("between {} replicates: sd of their log Z / sqrt({})", R, R);
  }
  c.log_weights = ell;
  // The runs' own error bars pooled: when they are wider than the spread of the runs, the
  // spread (3 degrees of freedom for 4 runs) is too noisy to be the error bar alone.
  const double pooled = std::sqrt(se2) / double(R);
  if (std::isfinite(pooled) && !(c.std_error >= pooled)) {
    c.std_error = pooled;
    c.dof = std::numeric_limits<double>::infinity();
    for (const LogZEstimate& e : runs) c.dof = std::min(c.dof, e.dof);
    c.error_method = fmt::format("the {} replicates' own error bars pooled (sqrt(sum se^2) / {}), wider than their spread",
                                 R, R);
  }
  // Each run's warnings, once per name, with how many runs raised it.
  for (const LogZEstimate& e : runs)
    for (const EstimateWarning& w : e.warnings) {
      std::size_t n_runs = 0;
      for (const LogZEstimate& other : runs)
        for (const EstimateWarning& v : other.warnings) n_runs += v.name == w.name;
      c.warn({w.name, fmt::format("{} (in {} of {} replicates)", w.message, n_runs, R), w.advice});
    }
  verdict::assess_weights(c, runs);

  // Cochran's Q about the inverse-variance weighted mean, where every run has an error bar.
  double sw = 0, swl = 0;
  bool all_se = true;
  for (const LogZEstimate& e : runs) all_se &= std::isfinite(e.std_error) && e.std_error > 0;
  if (all_se) {
    for (const LogZEstimate& e : runs) {
      const double w = 1 / (e.std_error * e.std_error);
      sw += w;
      swl += w * e.log_z;
    }
    const double mean = swl / sw;
    double q = 0;
    for (const LogZEstimate& e : runs) q += (e.log_z - mean) * (e.log_z - mean) / (e.std_error * e.std_error);
    out.q_statistic = q;
    out.p_value = chi_square_upper_tail(q, double(R - 1));
    if (out.p_value < verdict::cochran_alpha) {
      out.warning = fmt::format(
          "the {} replicates disagree beyond their own error bars (Cochran's Q = {:.1f} on {} degrees of freedom, p = {:.2g}): "
          "their standard errors are too small",
          R, q, R - 1, out.p_value);
      c.warn({"replicates_disagree", out.warning, "rerun with more betas, chains or sweeps"});
    }
  }
  // R-hat over the runs' per-particle log-weights, when they are exchangeable draws (runs
  // that shared an uneven budget are cut to the shortest).
  std::size_t N = first.log_weights.size();
  for (const LogZEstimate& e : runs) N = std::min(N, e.log_weights.size());
  if (N >= 4 && first.method != "smc") {
    MatrixD draws(static_cast<Eigen::Index>(R), static_cast<Eigen::Index>(N));
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t i = 0; i < N; ++i) draws(Eigen::Index(r), Eigen::Index(i)) = runs[r].log_weights[i];
    if (draws.allFinite()) out.rhat = rank_normalized_rhat(draws);
  }
  out.runs = std::move(runs);
  return out;
}

namespace {
nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json to_json(const LogZEstimate& e) {
  nlohmann::json j = {{"method", e.method},         {"log_z", number(e.log_z)},
                      {"std_error", number(e.std_error)}, {"error_method", e.error_method},
                      {"ess", number(e.ess)},       {"num_samples", e.num_samples},
                      {"log_z_base", number(e.log_z_base)}, {"seconds", e.seconds}};
  if (std::isfinite(e.std_error)) {
    const auto [lo, hi] = e.interval(0.95);
    j["interval_95"] = {lo, hi};
  }
  j["dof"] = number(e.dof);  // null: the normal approximation
  j["reliable"] = e.reliable;
  nlohmann::json warnings = nlohmann::json::array();
  for (const EstimateWarning& w : e.warnings)
    warnings.push_back({{"name", w.name}, {"message", w.message}, {"advice", w.advice}});
  j["warnings"] = warnings;
  if (!e.steps.empty()) {
    const double inf = std::numeric_limits<double>::infinity();
    double min_ess = inf, acc = 0, max_rhat = -inf, min_swap = inf, min_ancestors = inf;
    std::size_t n_acc = 0, resampled = 0;
    for (const StepDiagnostics& s : e.steps) {
      if (std::isfinite(s.ess)) min_ess = std::min(min_ess, s.ess);
      if (std::isfinite(s.rhat)) max_rhat = std::max(max_rhat, s.rhat);
      if (std::isfinite(s.swap_rate)) min_swap = std::min(min_swap, s.swap_rate);
      if (std::isfinite(s.unique_ancestors)) min_ancestors = std::min(min_ancestors, s.unique_ancestors);
      if (std::isfinite(s.acceptance)) acc += s.acceptance, ++n_acc;
      resampled += s.resampled;
    }
    j["steps"] = e.steps.size();
    j["min_ess"] = number(min_ess);
    j["mean_acceptance"] = n_acc ? nlohmann::json(acc / double(n_acc)) : nlohmann::json(nullptr);
    j["resampling_steps"] = resampled;
    j["max_rhat"] = number(max_rhat);
    j["min_swap_rate"] = number(min_swap);
    j["min_unique_ancestors"] = number(min_ancestors);
  }
  return j;
}

nlohmann::json to_json(const ReplicatedEstimate& r) {
  nlohmann::json j = to_json(r.combined);
  j["replicates"] = r.runs.size();
  j["between_sd"] = number(r.between_sd);
  j["within_se"] = number(r.within_se);
  j["rhat"] = number(r.rhat);
  j["q_statistic"] = number(r.q_statistic);
  j["p_value"] = number(r.p_value);
  j["warning"] = r.warning.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.warning);
  nlohmann::json runs = nlohmann::json::array();
  for (const LogZEstimate& e : r.runs)
    runs.push_back({{"log_z", number(e.log_z)}, {"std_error", number(e.std_error)}, {"ess", number(e.ess)},
                    {"seconds", e.seconds}});
  j["runs"] = runs;
  return j;
}

void write_diagnostics_csv(const std::string& path, const LogZEstimate& e) {
  std::string out = "beta,ess,acceptance,log_weight_variance,resampled,rhat,swap_rate,unique_ancestors\n";
  auto num = [](double x) { return std::isfinite(x) ? fmt::format("{:.17g}", x) : std::string("nan"); };
  for (const StepDiagnostics& s : e.steps)
    out += fmt::format("{},{},{},{},{},{},{},{}\n", num(s.beta), num(s.ess), num(s.acceptance),
                       num(s.log_weight_variance), s.resampled ? 1 : 0, num(s.rhat), num(s.swap_rate),
                       num(s.unique_ancestors));
  io::write_file_atomic(path, out);
}

}  // namespace logz::api
