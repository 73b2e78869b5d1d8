#pragma once
/// @file vecmath.hpp
/// Branch-free double-precision kernels that compilers vectorise: the log-domain sums
/// that dominate exact enumeration and AIS weights, the pseudolikelihood's softmax, and
/// the logarithm and sine/cosine of Box–Muller normals (Stream::fill_normal). Accurate to
/// a few ulps per term. The logarithm and sine/cosine are msun's (FreeBSD e_log.c,
/// k_sin.c, k_cos.c: minimax polynomials with errors below 2^-58 on their intervals),
/// every multiply-add a std::fma, so their bits are the same whether or not a loop is
/// vectorised; loops that call them compile with -fno-math-errno (CMakeLists.txt).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace logz {

/// exp(x) for x <= 0, branch-free so that loops over it vectorise: Cody–Waite reduction
/// x = n ln2 + r, |r| <= ln2/2, then a degree-13 Taylor polynomial (truncation error
/// below 1e-17 relative) and 2^n assembled in the exponent bits. Returns 0 below -708.
inline double exp_nonpositive(double x) {
  constexpr double log2e = 1.4426950408889634, ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  constexpr double round_magic = 0x1.8p52;  // adding and subtracting it rounds to the nearest integer
  const double xc = std::max(x, -708.0);
  const double n = (xc * log2e + round_magic) - round_magic;
  const double r = (xc - n * ln2_hi) - n * ln2_lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const double scale = std::bit_cast<double>((std::int64_t(n) + 1023) << 52);
  return x < -708.0 ? 0.0 : p * scale;
}

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

/// Σ_i [a(x_i) + log f(x_i)] for a term giving (a, f) with f in [1/2, 2]: f is multiplied
/// up over blocks of 512 terms (a vectorised product reduction; any split of a block into
/// partial products stays within 2^±512, far from overflow), and one logarithm per
/// block replaces one per term.
template <class X, class Term>
double sum_linear_plus_log(const X* x, std::size_t n, Term term) {
  constexpr std::size_t block = 512;
  double lin = 0, logs = 0;
  for (std::size_t start = 0; start < n; start += block) {
    const std::size_t end = start + block < n ? start + block : n;
    double sum = 0, prod = 1;
#pragma omp simd reduction(+ : sum) reduction(* : prod)
    for (std::size_t i = start; i < end; ++i) term(double(x[i]), sum, prod);
    lin += sum;
    logs += std::log(prod);
  }
  return lin + logs;
}

/// Σ_i softplus(s·x_i) in double, as Σ max(s·x_i, 0) + log Π (1 + exp(-|s·x_i|)).
template <class X>
double sum_softplus(const X* x, std::size_t n, double s = 1.0) {
  return sum_linear_plus_log(x, n, [s](double xi, double& sum, double& prod) {
    const double v = s * xi;
    sum += v > 0 ? v : 0.0;
    prod *= 1.0 + exp_nonpositive(-std::fabs(v));
  });
}

/// Σ_i [softplus(s1·x_i) - softplus(s0·x_i)] in double, as one product of ratios in
/// [1/2, 2]: the AIS weight increment of the RBM path, without the cancellation of two
/// large sums.
template <class X>
double sum_softplus_difference(const X* x, std::size_t n, double s1, double s0) {
  return sum_linear_plus_log(x, n, [s1, s0](double xi, double& sum, double& prod) {
    const double v1 = s1 * xi, v0 = s0 * xi;
    sum += (v1 > 0 ? v1 : 0.0) - (v0 > 0 ? v0 : 0.0);
    prod *= (1.0 + exp_nonpositive(-std::fabs(v1))) / (1.0 + exp_nonpositive(-std::fabs(v0)));
  });
}

}  // namespace logz
