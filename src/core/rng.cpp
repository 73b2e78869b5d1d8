// Stream::fill_normal (core/rng.hpp): Box–Muller pairs, vectorised.
//
// ln u1 and (cos, sin)(2π u2) come from polynomials here rather than from the C library:
// GCC vectorises them over a group of 16 pairs (the C library's log and cos are scalar
// calls, 80% of normal()'s time), and with every multiply-add written as std::fma (one
// rounding, on any instruction set) the bits are the same whether or not the loop is
// vectorised. The polynomials are the minimax ones of FreeBSD's msun (e_log.c, k_sin.c,
// k_cos.c), errors below 2^-58 on their intervals, so a value is within a few ulp of the
// correctly rounded one (tests/core/rng_test.cpp measures it).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "logz/core/rng.hpp"

namespace logz {
namespace {

/// ln x for x in (0, 1) (a uniform draw): x = 2^e m with m in [√½, √2), ln m = ln(1 + f)
/// by msun's s = f / (2 + f) series.
inline double log_unit(double x) {
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  std::int64_t e = std::int64_t(bits >> 52) - 1023;
  double m = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);  // [1, 2)
  const bool high = m > 1.4142135623730951;
  m = high ? 0.5 * m : m;
  e = high ? e + 1 : e;
  const double f = m - 1.0, s = f / (2.0 + f), z = s * s, w = z * z;
  const double t1 = w * std::fma(w, std::fma(w, 1.531383769920937332e-01, 2.222219843214978396e-01), 3.999999999940941908e-01);
  const double t2 = z * std::fma(w, std::fma(w, std::fma(w, 1.479819860511658591e-01, 1.818357216161805012e-01),
                                             2.857142874366239149e-01),
                                 6.666666666666735130e-01);
  const double r = t1 + t2, hfsq = 0.5 * f * f, de = double(e);
  // e ln 2 in two parts (ln2_hi has 32 trailing zero bits: e · ln2_hi is exact).
  return std::fma(de, 6.93147180369123816490e-01, f - (hfsq - std::fma(s, hfsq + r, de * 1.90821492927058770002e-10)));
}

/// sin x and cos x for |x| ≤ π/4 (msun's kernels without their tail correction).
inline void sincos_octant(double x, double& sine, double& cosine) {
  const double z = x * x, v = z * x;
  const double ps = std::fma(z, std::fma(z, std::fma(z, std::fma(z, 1.58969099521155010221e-10, -2.50507602534068634195e-08),
                                                     2.75573137070700676789e-06),
                                         -1.98412698298579493134e-04),
                             8.33333333332248946124e-03);
  sine = std::fma(v, std::fma(z, ps, -1.66666666666666324348e-01), x);
  const double pc = std::fma(z, std::fma(z, std::fma(z, std::fma(z, std::fma(z, -1.13596475577881948265e-11, 2.08757232129817482790e-09),
                                                                 -2.75573143513906633035e-07),
                                                     2.48015872894767294178e-05),
                                         -1.38888888888741095749e-03),
                             4.16666666666666019037e-02);
  const double hz = 0.5 * z, one_minus = 1.0 - hz;
  cosine = one_minus + (((1.0 - one_minus) - hz) + z * z * pc);
}

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
