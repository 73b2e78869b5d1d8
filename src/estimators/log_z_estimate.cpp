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
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void put(const std::string& v) {
    put(std::uint64_t(v.size()));
    out += v;
  }
  template <class T>
  void put(const std::vector<T>& v) {
    put(std::uint64_t(v.size()));
    if constexpr (std::is_trivially_copyable_v<T>)
      out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    else
      for (const T& x : v) put(x);
  }
  void put(const EstimateWarning& w) { put(w.name), put(w.message), put(w.advice); }
};

struct ByteReader {
  std::string_view in;
  void take(void* dst, std::size_t n) {
    if (n > in.size()) throw std::logic_error("estimate_from_bytes: the bytes end early");
    std::memcpy(dst, in.data(), n);
    in.remove_prefix(n);
  }
  template <class T>
  void get(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    take(&v, sizeof v);
  }
  std::size_t length(std::size_t item) {
    std::uint64_t n = 0;
    get(n);
    if (item > 0 && n > in.size() / item) throw std::logic_error("estimate_from_bytes: a length past the end");
    return std::size_t(n);
  }
  void get(std::string& v) {
    v.resize(length(1));
    take(v.data(), v.size());
  }
  template <class T>
  void get(std::vector<T>& v) {
    if constexpr (std::is_trivially_copyable_v<T>) {
      v.resize(length(sizeof(T)));
      take(v.data(), v.size() * sizeof(T));
    } else {
      v.resize(length(0));
      for (T& x : v) get(x);
    }
  }
  void get(EstimateWarning& w) { get(w.name), get(w.message), get(w.advice); }
};

// The fields in one order for both directions.
template <class IO, class E>
void every_field(IO& io, E& e) {
  io.put_or_get(e.method), io.put_or_get(e.log_z), io.put_or_get(e.std_error), io.put_or_get(e.error_method);
  io.put_or_get(e.ess), io.put_or_get(e.dof), io.put_or_get(e.num_samples), io.put_or_get(e.log_z_base);
  io.put_or_get(e.log_weights), io.put_or_get(e.steps), io.put_or_get(e.seconds), io.put_or_get(e.reliable);
  io.put_or_get(e.warnings);
}
struct Writing : ByteWriter {
  template <class T>
  void put_or_get(const T& v) { put(v); }
};
struct Reading : ByteReader {
  template <class T>
  void put_or_get(T& v) { get(v); }
};
}  // namespace

std::string to_bytes(const LogZEstimate& e) {
  Writing w;
  every_field(w, e);
  return std::move(w.out);
}

LogZEstimate estimate_from_bytes(std::string_view bytes) {
  Reading r;
  r.in = bytes;
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
