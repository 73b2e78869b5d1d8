// Shared summaries of log Z estimates (normal intervals, importance-weight statistics).
#include "logz/estimators/log_z_estimate.hpp"

#include "logz/diagnostics/mcmc.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <type_traits>

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

namespace {
// Fixed-size values as their bytes; strings and vectors of them after their length.
struct ByteWriter {
  std::string out;
  void append(const void* p, std::size_t n) {
    if (n > 0) out.append(static_cast<const char*>(p), n);  // an empty vector's data() may be null
  }
  template <class T>
  void field(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    append(&v, sizeof v);
  }
  void field(const std::string& v) {
    field(std::uint64_t(v.size()));
    append(v.data(), v.size());
  }
  template <class T>
  void field(const std::vector<T>& v) {
    field(std::uint64_t(v.size()));
    if constexpr (std::is_trivially_copyable_v<T>)
      append(v.data(), v.size() * sizeof(T));
    else
      for (const T& x : v) field(x);
  }
  void field(const EstimateWarning& w) { field(w.name), field(w.message), field(w.advice); }
};

struct ByteReader {
  std::string_view in;
  void take(void* dst, std::size_t n) {
    if (n > in.size()) throw std::logic_error("estimate_from_bytes: the bytes end early");
    if (n > 0) std::memcpy(dst, in.data(), n);  // an empty vector's data() may be null
    in.remove_prefix(n);
  }
  std::size_t length(std::size_t item) {
    std::uint64_t n = 0;
    field(n);
    if (item > 0 && n > in.size() / item) throw std::logic_error("estimate_from_bytes: a length past the end");
    return std::size_t(n);
  }
  template <class T>
  void field(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    take(&v, sizeof v);
  }
  void field(std::string& v) {
    v.resize(length(1));
    take(v.data(), v.size());
  }
  template <class T>
  void field(std::vector<T>& v) {
    if constexpr (std::is_trivially_copyable_v<T>) {
      v.resize(length(sizeof(T)));
      take(v.data(), v.size() * sizeof(T));
    } else {
      v.resize(length(0));
      for (T& x : v) field(x);
    }
  }
  void field(EstimateWarning& w) { field(w.name), field(w.message), field(w.advice); }
};

// The fields in one order for both directions (E is LogZEstimate, const when writing).
template <class IO, class E>
void every_field(IO& io, E& e) {
  io.field(e.method), io.field(e.log_z), io.field(e.std_error), io.field(e.error_method), io.field(e.ess);
  io.field(e.dof), io.field(e.num_samples), io.field(e.log_z_base), io.field(e.log_weights), io.field(e.steps);
  io.field(e.seconds), io.field(e.reliable), io.field(e.warnings);
}
}  // namespace

std::string to_bytes(const LogZEstimate& e) {
  ByteWriter w;
  every_field(w, e);
  return std::move(w.out);
}

LogZEstimate estimate_from_bytes(std::string_view bytes) {
  ByteReader r{bytes};
  LogZEstimate e;
  every_field(r, e);
  if (!r.in.empty()) throw std::logic_error("estimate_from_bytes: bytes left over");
  return e;
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
