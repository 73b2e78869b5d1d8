// Shared summaries of log Z estimates (normal intervals, importance-weight statistics).
#include "logz/estimators/log_z_estimate.hpp"

#include "logz/diagnostics/mcmc.hpp"

#include <algorithm>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"

namespace logz {

double normal_two_sided_quantile(double level) {
  check_arg(level > 0 && level < 1, "interval: level must be in (0, 1), got {}", level);
  return -normal_quantile((1 - level) / 2);  // the lower tail keeps full precision as level -> 1
}

void LogZEstimate::warn(EstimateWarning w) {
  reliable = false;
  for (EstimateWarning& old : warnings)
    if (old.name == w.name) {
      old = std::move(w);
      return;
    }
  warnings.push_back(std::move(w));
}

std::pair<double, double> LogZEstimate::interval(double level) const {
  const double z = std::isinf(dof) ? normal_two_sided_quantile(level) : student_t_two_sided_quantile(level, dof);
  return {log_z - z * std_error, log_z + z * std_error};
}

WeightSummary summarize_log_weights(std::span<const double> lw) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (lw.empty()) return {nan, nan, nan};
  const double m = *std::max_element(lw.begin(), lw.end());
  MeanVar mv;
  double s = 0, s2 = 0;
  for (double x : lw) {
    const double w = std::exp(x - m);
    mv.add(w);
    s += w;
    s2 += w * w;
  }
  const double n = double(lw.size());
  const double se = lw.size() > 1 ? std::sqrt(mv.variance() / n) / mv.mean : nan;
  return {m + std::log(s / n), se, s * s / s2};
}

LogZEstimate ais_estimate(std::vector<double> log_weights, double log_z_base, double seconds) {
  const WeightSummary ws = summarize_log_weights(log_weights);
  LogZEstimate e;
  e.method = "ais";
  e.log_z_base = log_z_base;
  e.log_z = log_z_base + ws.log_mean;
  e.std_error = ws.std_error;
  e.error_method = log_weights.size() > 1 ? "delta method on the importance weights: sd(w) / (sqrt(chains) mean(w))"
                                          : "none: a single chain gives no error estimate";
  e.ess = ws.ess;
  e.num_samples = log_weights.size();
  e.log_weights = std::move(log_weights);
  e.seconds = seconds;
  return e;
}

}  // namespace logz
