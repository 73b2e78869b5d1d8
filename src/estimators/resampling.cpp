// Resampling schemes for SMC: multinomial, stratified, systematic and residual.
#include "logz/estimators/resampling.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "logz/core/check.hpp"

namespace logz {

Resampling resampling_by_name(std::string_view name) {
  if (name == "multinomial") return Resampling::multinomial;
  if (name == "systematic") return Resampling::systematic;
  if (name == "stratified") return Resampling::stratified;
  if (name == "residual") return Resampling::residual;
  fail(Exit::usage, "resampling_by_name: unknown resampling scheme '{}' (expected multinomial, systematic, stratified or residual)",
       std::string(name));
}

std::string_view resampling_name(Resampling scheme) {
  switch (scheme) {
    case Resampling::multinomial: return "multinomial";
    case Resampling::systematic: return "systematic";
    case Resampling::stratified: return "stratified";
    case Resampling::residual: return "residual";
  }
  fail(Exit::usage, "resampling_name: unknown scheme {}", int(scheme));
}

namespace {

/// The cumulative sums of `w` and the last index of positive weight.
struct Cdf {
  std::vector<double> c;
  std::size_t last = 0;
  double total() const { return c.back(); }
  explicit Cdf(std::span<const double> w) : c(w.size()) {
    double s = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      s += w[i];
      c[i] = s;
      if (w[i] > 0) last = i;
    }
  }
};

/// For non-decreasing targets t_k in [0, total): out[k] = the first i with c_i > t_k,
/// never past the last positive weight (a target that rounding puts at or beyond the
/// total lands there), so an index of weight 0 is never chosen.
template <class Target>
void walk(const Cdf& cdf, std::size_t m, Target&& target, std::size_t* out) {
  std::size_t i = 0;
  for (std::size_t k = 0; k < m; ++k) {
    const double t = target(k);
    while (i < cdf.last && cdf.c[i] <= t) ++i;
    out[k] = i;
  }
}

/// m sorted uniforms on (0, 1) scaled by `scale`, through m + 1 exponential spacings:
/// with E_0..E_m iid Exp(1), the partial sums (E_0 + ... + E_k) / Σ E are the order
/// statistics of m uniforms.
std::vector<double> sorted_uniforms(std::size_t m, double scale, Stream& rng) {
  std::vector<double> u(m);
  double s = 0;
  for (std::size_t k = 0; k < m; ++k) u[k] = (s += -std::log(rng.uniform_double()));
  s += -std::log(rng.uniform_double());
  const double f = scale / s;
  for (double& v : u) v *= f;
  return u;
}

void multinomial(const Cdf& cdf, Stream& rng, std::span<std::size_t> out) {
  const std::vector<double> u = sorted_uniforms(out.size(), cdf.total(), rng);
  walk(cdf, out.size(), [&](std::size_t k) { return u[k]; }, out.data());
}

void residual(std::span<const double> w, const Cdf& cdf, Stream& rng, std::span<std::size_t> out) {
  const std::size_t n = w.size(), m = out.size();
  const double scale = double(m) / cdf.total();
  std::vector<std::size_t> count(n);
  std::vector<double> frac(n);
  std::size_t fixed = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = w[i] * scale;
    count[i] = std::size_t(std::floor(x));
    frac[i] = x - double(count[i]);
    fixed += count[i];
  }
  // Rounding could in principle push Σ floor(M W_i) past M; take the excess from the
  // largest counts (never happens for weights that sum to 1 exactly).
  while (fixed > m) {
    std::size_t big = 0;
    for (std::size_t i = 1; i < n; ++i)
      if (count[i] > count[big]) big = i;
    --count[big];
    --fixed;
  }
  const std::size_t rest = m - fixed;
  if (rest > 0) {
    Cdf rcdf(frac);
    const Cdf& use = rcdf.total() > 0 ? rcdf : cdf;
    std::vector<std::size_t> extra(rest);
    multinomial(use, rng, extra);
    for (std::size_t a : extra) ++count[a];
  }
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < count[i]; ++c) out[k++] = i;
}

}  // namespace

void resample(Resampling scheme, std::span<const double> w, Stream& rng, std::span<std::size_t> ancestors) {
  check_arg(!w.empty(), "resample: no weights");
  check_arg(!ancestors.empty(), "resample: no ancestors to draw");
  for (std::size_t i = 0; i < w.size(); ++i)
    check_data(std::isfinite(w[i]) && w[i] >= 0, "resample: weight {} is {} (weights must be finite and >= 0)", i, w[i]);
  const Cdf cdf(w);
  check_data(std::abs(cdf.total() - 1.0) <= 1e-8, "resample: the weights sum to {}, not 1", cdf.total());
  const std::size_t m = ancestors.size();
  const double total = cdf.total(), step = total / double(m);
  switch (scheme) {
    case Resampling::multinomial:
      multinomial(cdf, rng, ancestors);
      return;
    case Resampling::stratified:
      walk(cdf, m, [&](std::size_t k) { return (double(k) + rng.uniform_double()) * step; }, ancestors.data());
      return;
    case Resampling::systematic: {
      const double u = rng.uniform_double();
      walk(cdf, m, [&](std::size_t k) { return (double(k) + u) * step; }, ancestors.data());
      return;
    }
    case Resampling::residual:
      residual(w, cdf, rng, ancestors);
      return;
  }
  fail(Exit::usage, "resample: unknown scheme {}", int(scheme));
}

}  // namespace logz
