#pragma once
/// @file vector_math.hpp
/// Elementary functions that GCC inlines, and vectorises inside `#pragma omp simd` loops
/// (the C library's are calls), for the hot loops that need many of them: Box–Muller
/// normals, the pseudolikelihood's softmax. Every multiply-add is written as
/// std::fma (one rounding on any instruction set), so a value has the same bits whether
/// or not its loop is vectorised. The polynomials are the minimax ones of FreeBSD's msun
/// (e_log.c, k_sin.c, k_cos.c; errors below 2^-58 on their intervals) and the Taylor
/// series of exp on |r| ≤ ln2 / 2 to degree 13 (truncation below 2^-57): each result is
/// within a few ulp of the correctly rounded one (tests/core/vector_math_test.cpp).
/// Callers compile with -fno-math-errno (std::fma and std::sqrt otherwise may set errno,
/// which keeps GCC from vectorising the loop).
#include <bit>
#include <cmath>
#include <cstdint>

namespace logz::vmath {

/// ln x for x in (0, 1] (e.g. a uniform draw): x = 2^e m with m in [√½, √2), ln m by
/// msun's series in s = f / (2 + f), f = m − 1.
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

/// e^x for x ≤ 0 (a potential minus the largest): 2^k e^r with k the nearest integer to
/// x / ln 2 and |r| ≤ ln2 / 2; 0 below −708 (e^x < 2^-1021, nothing beside a term of 1).
inline double exp_nonpositive(double x) {
  const double k = std::floor(std::fma(x, 1.4426950408889634074, 0.5));
  const double r = std::fma(k, -1.90821492927058770002e-10, std::fma(k, -6.93147180369123816490e-01, x));
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = std::fma(p, r, 1.0 / 479001600.0);
  p = std::fma(p, r, 1.0 / 39916800.0);
  p = std::fma(p, r, 1.0 / 3628800.0);
  p = std::fma(p, r, 1.0 / 362880.0);
  p = std::fma(p, r, 1.0 / 40320.0);
  p = std::fma(p, r, 1.0 / 5040.0);
  p = std::fma(p, r, 1.0 / 720.0);
  p = std::fma(p, r, 1.0 / 120.0);
  p = std::fma(p, r, 1.0 / 24.0);
  p = std::fma(p, r, 1.0 / 6.0);
  p = std::fma(p, r, 0.5);
  p = std::fma(p, r, 1.0);
  p = std::fma(p, r, 1.0);
  const double scale = std::bit_cast<double>(std::uint64_t(std::int64_t(x < -708.0 ? 0.0 : k) + 1023) << 52);
  return x < -708.0 ? 0.0 : p * scale;
}

}  // namespace logz::vmath
