// Stream::fill_normal (core/rng.hpp): Box–Muller pairs, vectorised.
//
// ln u1 and (cos, sin)(2π u2) come from core/vecmath.hpp rather than from the C
// library, whose log and cos are scalar calls (80% of normal()'s time): GCC vectorises the
// pairs of a group of 16, and the bits are the same whether or not it does.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "logz/core/rng.hpp"
#include "logz/core/vecmath.hpp"

namespace logz {
namespace {

/// One Box–Muller pair from uniforms u1, u2 in (0, 1).
inline void box_muller_pair(double u1, double u2, double& z0, double& z1) {
  const double radius = std::sqrt(-2.0 * log_unit(u1));
  // 2π u2 = (π/2)(k + r), k the nearest integer to 4 u2 (r = 4 u2 − k in [−½, ½] exactly),
  // then a quarter turn k times.
  const double t = 4.0 * u2;
  const std::int64_t k = std::int64_t(t + 0.5);
  double s, c;
  sincos_octant((t - double(k)) * 1.57079632679489661923, s, c);
  const int q = int(k & 3);
  const double cos2pi = q == 0 ? c : q == 1 ? -s : q == 2 ? -c : s;
  const double sin2pi = q == 0 ? s : q == 1 ? c : q == 2 ? -s : -c;
  z0 = radius * cos2pi;
  z1 = radius * sin2pi;
}

}  // namespace

void Stream::box_muller(double u1, double u2, double& z0, double& z1) { box_muller_pair(u1, u2, z0, z1); }

void Stream::fill_normal(double* out, std::size_t n) {
  constexpr std::size_t group = 16;  // pairs per group: 64 words, one Philox16 call
  std::uint32_t w[4 * group] = {};
  double u1[group], u2[group], z0[group], z1[group];
  for (std::size_t i = 0; i < n; i += 2 * group) {
    const std::size_t values = std::min(2 * group, n - i), pairs = (values + 1) / 2;
    fill_words(w, 4 * pairs);
    for (std::size_t p = 0; p < group; ++p) {
      u1[p] = to_double(w[4 * p], w[4 * p + 1]);
      u2[p] = to_double(w[4 * p + 2], w[4 * p + 3]);
    }
#pragma omp simd
    for (std::size_t p = 0; p < group; ++p) box_muller_pair(u1[p], u2[p], z0[p], z1[p]);
    for (std::size_t p = 0; p < values / 2; ++p) {
      out[i + 2 * p] = z0[p];
      out[i + 2 * p + 1] = z1[p];
    }
    if (values % 2) out[i + values - 1] = z0[values / 2];
  }
}

}  // namespace logz
