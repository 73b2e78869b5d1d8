// The verdict's checks (estimators/verdict.hpp); thresholds derived in docs/error-bars.md.
#include "logz/estimators/verdict.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "logz/core/math.hpp"

namespace logz::verdict {

double ess_fraction_threshold(std::size_t n) {
  return n == 0 ? 0.0 : std::min(0.5, ess_fraction_scale / std::sqrt(double(n)));
}

namespace {

/// lis: low_ess below half its runs, whatever their number. A run's ratio estimate is a
/// product of per-step estimates, heavier-tailed than the log-normal AIS weights the
/// 3/√n rule is derived for: on the critical 24×24 lattice a run at ESS 33 of 100 (above
/// 3/√100 = 30%) was 4.9 SE low (docs/error-bars.md).
constexpr double lis_ess_fraction = 0.5;

bool is_ladder(const std::string& method) { return method == "bridge" || method == "ti"; }

/// The β at which the per-β ESS fell by the largest factor in one step (NaN if none fell).
double steepest_ess_drop(const std::vector<StepDiagnostics>& steps) {
  double worst = 1, at = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t k = 1; k < steps.size(); ++k) {
    const double before = steps[k - 1].ess, after = steps[k].ess;
    if (std::isfinite(before) && std::isfinite(after) && after > 0 && before / after > worst)
      worst = before / after, at = steps[k].beta;
  }
  return at;
}

}  // namespace

void assess_run(LogZEstimate& e) {
  if (e.method == "exact") return;
  if (!std::isfinite(e.log_z))
    e.warn({"not_finite", fmt::format("the estimate is {}: the model's energies overflow a double", e.log_z),
            "check the model's parameters (logz info shows their ranges)"});
  else if (!std::isfinite(e.std_error))
    e.warn({"no_error_bar", fmt::format("the estimate has no finite standard error ({})", e.error_method),
            "rerun with more chains (at least 2 per run) or more replicates"});
  if (e.method == "raise" && e.log_weights.size() > 1 && std::isfinite(e.std_error)) {
    MeanVar mv;
    for (double r : e.log_weights) mv.add(r);
    const double gap = mv.variance() / 2;
    if (gap > loose_bound_ses * e.std_error)
      e.warn({"loose_bound",
              fmt::format("the reverse log-weights vary too much (variance {:.3g}): log Z may sit up to {:.3g} nats below "
                          "this upper bound, more than {} standard errors ({:.3g})",
                          mv.variance(), gap, loose_bound_ses, e.std_error),
              "rerun with more betas or sweeps"});
  }
  double max_rhat = 1, rhat_beta = 0, min_acc = 1, acc_beta = 0, min_swap = 1, swap_beta = 0;
  std::size_t n_min = 0;
  double min_ess = std::numeric_limits<double>::infinity(), ess_beta = 0;
  for (std::size_t k = 0; k < e.steps.size(); ++k) {
    const StepDiagnostics& s = e.steps[k];
    if (std::isfinite(s.rhat) && s.rhat > max_rhat) max_rhat = s.rhat, rhat_beta = s.beta;
    if (k > 0 && std::isfinite(s.acceptance) && s.acceptance < min_acc) min_acc = s.acceptance, acc_beta = s.beta;
    if (std::isfinite(s.swap_rate) && s.swap_rate < min_swap) min_swap = s.swap_rate, swap_beta = s.beta;
    if (std::isfinite(s.ess) && s.ess < min_ess) min_ess = s.ess, ess_beta = s.beta, n_min = k;
  }
  if (is_ladder(e.method)) {
    if (max_rhat > rhat_limit)
      e.warn({"rhat",
              fmt::format("the ladder's chains disagree at beta = {:.4g} (R-hat {:.3f} > {}): they do not sample one "
                          "distribution there",
                          rhat_beta, max_rhat, rhat_limit),
              "rerun with more burn_in and samples, more betas (swaps need overlap), or a cluster kernel (--kernel sw)"});
    if (min_acc < frozen_fraction)
      e.warn({"frozen_moves",
              fmt::format("the moves changed only {:.2g} of the states at beta = {:.4g}: the chains are frozen", min_acc,
                          acc_beta),
              "rerun with tempering pt, more sweeps, or a cluster kernel (--kernel sw)"});
    if (min_swap < swap_floor)
      e.warn({"swap_collapse",
              fmt::format("only {:.2g} of the swaps from beta = {:.4g} to the next beta were accepted: the ladder is cut "
                          "there",
                          min_swap, swap_beta),
              "rerun with more betas"});
  }
  if (e.method == "smc" && std::isfinite(min_ess) && e.num_samples > 0) {
    const std::size_t runs = std::max<std::size_t>(1, e.log_weights.size());
    const double particles = double(e.num_samples) / double(runs);
    if (min_ess < std::max(2.0, weight_collapse_fraction * particles))
      e.warn({"weight_collapse",
              fmt::format("at beta = {:.4g} (step {}) the weights rested on {:.3g} of {:.0f} particles", ess_beta, n_min,
                          min_ess, particles),
              "rerun with more betas or --schedule adaptive"});
  }
}

void assess_weights(LogZEstimate& combined, std::span<const LogZEstimate> runs) {
  // lis: its runs' r̂ are unbiased estimates of Z's ratio like AIS's weights, and as
  // heavy-tailed (32×32 critical Ising: ESS 16 of 100 runs, 4.5 SE off).
  const std::string& m = combined.method;
  if (runs.empty() || (m != "ais" && m != "is" && m != "lis")) return;
  double ess = 0;
  std::size_t n = 0;
  for (const LogZEstimate& r : runs) {
    if (!std::isfinite(r.ess)) return;
    ess += r.ess;
    n += r.log_weights.size();
  }
  const std::size_t per_run = n / runs.size();
  if (per_run < 2) return;
  const double fraction = ess / double(n);
  const double threshold = m == "lis" ? lis_ess_fraction : ess_fraction_threshold(per_run);
  if (fraction >= threshold) return;
  const double drop = steepest_ess_drop(runs.front().steps);
  combined.warn(
      {"low_ess",
       fmt::format("the importance weights are carried by few particles (ESS {:.3g} of {}, {:.1f}% < {:.1f}% for {} per "
                   "run){}: the error bar is not trustworthy",
                   ess, n, 100 * fraction, 100 * threshold, per_run,
                   std::isfinite(drop) ? fmt::format("; the ESS fell most at beta = {:.4g}", drop) : std::string()),
       m == "is"    ? "rerun with --method ais or smc, or a base closer to the model (--data)"
       : m == "lis" ? "rerun with more runs (--chains) and betas, or --method smc"
                    : "rerun with more betas (--betas) or a base closer to the model (--data)"});
}

void assess_second_base(LogZEstimate& estimate, const LogZEstimate& second, const std::string& second_base) {
  if (!std::isfinite(estimate.log_z) || !std::isfinite(second.log_z)) return;
  const double se1 = std::isfinite(estimate.std_error) ? estimate.std_error : 0.0;
  const double se2 = std::isfinite(second.std_error) ? second.std_error : 0.0;
  const double gap = second.log_z - estimate.log_z, se = std::sqrt(se1 * se1 + se2 * se2);
  if (gap <= sandwich_ses * se) return;
  estimate.warn({"missed_mass",
                 fmt::format("AIS from {} reaches {:.4f} +/- {:.2g}, {:.3g} nats above this estimate (beyond {} combined "
                             "standard errors): both are lower bounds, so this one misses mass its chains never reached",
                             second_base, second.log_z, se2, gap, sandwich_ses),
                 "rerun with --data (a base from the data) and more betas, or a tempered method (bridge)"});
}

void assess_sandwich(LogZEstimate& forward, const LogZEstimate& reverse) {
  if (!std::isfinite(forward.log_z) || !std::isfinite(reverse.log_z)) return;
  const double fse = std::isfinite(forward.std_error) ? forward.std_error : 0.0;
  const double rse = std::isfinite(reverse.std_error) ? reverse.std_error : 0.0;
  const double se = std::sqrt(fse * fse + rse * rse), gap = reverse.log_z - forward.log_z;
  if (std::abs(gap) <= sandwich_ses * se) return;
  forward.warn(
      {"sandwich",
       gap > 0 ? fmt::format("the reverse estimate (RAISE from model samples, {:.4f} +/- {:.2g}) is {:.3g} nats above this "
                             "one, beyond {} combined standard errors: log Z is likely between them",
                             reverse.log_z, rse, gap, sandwich_ses)
               : fmt::format("this forward estimate is {:.3g} nats above the reverse one (RAISE from model samples, "
                             "{:.4f} +/- {:.2g}), beyond {} combined standard errors: a lower bound above an upper "
                             "bound means the chains do not mix",
                             -gap, reverse.log_z, rse, sandwich_ses),
       "rerun with more betas and chains, or --method smc / bridge with tempering"});
}

void assess_lower_bound(LogZEstimate& e, double log_lower_bound, const std::string& how) {
  if (e.method == "exact" || !std::isfinite(log_lower_bound) || std::isnan(e.log_z)) return;
  const double se = std::isfinite(e.std_error) ? e.std_error : 0.0, gap = log_lower_bound - e.log_z;
  if (gap <= bound_ses * se) return;
  e.warn({"below_bound",
          fmt::format("log Z >= {:.4f} for certain ({}), {:.3g} nats above this estimate (beyond {} standard errors): "
                      "the chains missed states that the search found",
                      log_lower_bound, how, gap, bound_ses),
          "take the bound as a floor; the mass sits in a few sharp modes that Gibbs moves do not reach. Rerun with "
          "more betas and chains, or --method exact when the smaller layer has at most 32 units"});
}

}  // namespace logz::verdict
