// The estimator façade: schedules by name or list, replicate combination with Cochran's
// test of homogeneity, JSON and the per-β CSV.
#include "logz/api/estimate.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "logz/core/math.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/io/atomic_file.hpp"

namespace logz::api {

std::string estimate_methods() { return "is, ais, raise, smc, bridge, ti, lis"; }

bool is_estimate_method(const std::string& m) {
  return m == "is" || m == "ais" || m == "raise" || m == "smc" || m == "bridge" || m == "ti" || m == "lis";
}

void EstimateConfig::validate() const {
  check_arg(method == "exact" || is_estimate_method(method), "estimate: --method must be exact or one of {}, got '{}'",
            estimate_methods(), method);
  check_arg(chains >= 1, "estimate: --chains must be >= 1, got {}", chains);
  check_arg(sweeps >= 1, "estimate: --sweeps must be >= 1, got {}", sweeps);
  check_arg(replicates >= 1, "estimate: --replicates must be >= 1, got {}", replicates);
  check_arg(method != "exact" || replicates == 1, "estimate: --replicates is for the random methods, not exact");
  check_arg(runs >= 1, "estimate: --runs must be >= 1, got {}", runs);
  (void)resampling_by_name(resampling);
  check_arg(ess_threshold >= 0 && ess_threshold <= 1, "estimate: --ess-threshold must be in [0, 1], got {}",
            ess_threshold);
  check_arg(cess > 0 && cess < 1, "estimate: --cess must be in (0, 1), got {}", cess);
  check_arg(samples >= 4, "estimate: --samples must be >= 4, got {}", samples);
  check_arg(thin >= 1, "estimate: --thin must be >= 1, got {}", thin);
  check_arg(quadrature == "trapezoid" || quadrature == "simpson",
            "estimate: --quadrature must be trapezoid or simpson, got '{}'", quadrature);
  check_arg(chain_length >= 1, "estimate: --chain-length must be >= 1, got {}", chain_length);
  if (method != "exact" && method != "is" && schedule != "adaptive") (void)make_schedule(schedule, betas);
}

namespace detail {
SmcConfig smc_config(const EstimateConfig& c) {
  SmcConfig s;
  s.particles = c.chains;
  s.runs = c.runs;
  s.resampling = resampling_by_name(c.resampling);
  s.ess_threshold = c.ess_threshold;
  s.cess_target = c.cess;
  if (c.schedule != "adaptive") s.schedule = make_schedule(c.schedule, c.betas);
  s.seed = c.seed;
  return s;
}
}  // namespace detail

Schedule make_schedule(const std::string& spec, std::size_t betas) {
  constexpr std::string_view list = "list:";
  if (spec.rfind(list, 0) != 0) return Schedule::named(spec, betas);
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
    check_arg(used > 0 && used == item.size(), "estimate: --schedule list: '{}' is not a number", item);
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
  return method == "is" || method == "ais" || method == "smc" || method == "lis";
}
}  // namespace

ReplicatedEstimate combine_replicates(std::vector<LogZEstimate> runs) {
  check_arg(!runs.empty(), "combine_replicates: needs at least one run");
  ReplicatedEstimate out;
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
    if (out.p_value < 1e-3)
      out.warning = fmt::format(
          "the {} replicates disagree beyond their own error bars (Cochran's Q = {:.1f} on {} degrees of freedom, p = {:.2g}): "
          "their standard errors are too small; use more betas, chains or sweeps",
          R, q, R - 1, out.p_value);
  }
  // R-hat over the runs' per-particle log-weights, when they are exchangeable draws.
  const std::size_t N = first.log_weights.size();
  bool same_n = N >= 4;
  for (const LogZEstimate& e : runs) same_n &= e.log_weights.size() == N;
  if (same_n && first.method != "smc") {
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
  if (!e.steps.empty()) {
    double min_ess = std::numeric_limits<double>::infinity(), acc = 0;
    std::size_t n_acc = 0, resampled = 0;
    for (const StepDiagnostics& s : e.steps) {
      if (std::isfinite(s.ess)) min_ess = std::min(min_ess, s.ess);
      if (std::isfinite(s.acceptance)) acc += s.acceptance, ++n_acc;
      resampled += s.resampled;
    }
    j["steps"] = e.steps.size();
    j["min_ess"] = number(min_ess);
    j["mean_acceptance"] = n_acc ? nlohmann::json(acc / double(n_acc)) : nlohmann::json(nullptr);
    j["resampling_steps"] = resampled;
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
  std::string out = "beta,ess,acceptance,log_weight_variance,resampled\n";
  auto num = [](double x) { return std::isfinite(x) ? fmt::format("{:.17g}", x) : std::string("nan"); };
  for (const StepDiagnostics& s : e.steps)
    out += fmt::format("{},{},{},{},{}\n", num(s.beta), num(s.ess), num(s.acceptance), num(s.log_weight_variance),
                       s.resampled ? 1 : 0);
  io::write_file_atomic(path, out);
}

}  // namespace logz::api
