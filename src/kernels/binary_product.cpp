// Fixed-point products of 0/1 rows (kernels/binary_product.hpp): an AVX-512 VNNI kernel
// of 6 rows by 64 columns, and a portable loop with the same integer sums.
#include "logz/kernels/binary_product.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <type_traits>

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
#include <immintrin.h>
#define LOGZ_VNNI 1
// GCC 12 reports the self-initialised _mm512_undefined_* inside its conversion intrinsics
// as uninitialised once they are inlined here (a false positive in its own header); the
// kernels are instantiated at the end of this file, so the whole file is exempt.
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "logz/core/check.hpp"

namespace logz {

namespace {

constexpr std::int32_t kMaxLevel = 32767;

std::int32_t pair_word(std::int32_t lo, std::int32_t hi) {
  return std::int32_t(std::uint32_t(std::uint16_t(std::int16_t(lo))) | (std::uint32_t(std::uint16_t(std::int16_t(hi))) << 16));
}
std::int32_t low_half(std::int32_t w) { return std::int16_t(std::uint32_t(w) & 0xffffu); }
std::int32_t high_half(std::int32_t w) { return std::int16_t(std::uint32_t(w) >> 16); }

std::int32_t binary_entry(float v, std::size_t r, std::size_t i) {
  check_arg(v == 0.0f || v == 1.0f, "binary product: entry ({}, {}) is {}, not 0 or 1", r, i, v);
  return std::int32_t(v);
}

#ifdef LOGZ_VNNI
/// acc += the pairwise products of a and b, in place (GCC's intrinsic copies the
/// accumulators between registers and the stack at every step).
inline void dpwssd(__m512i& acc, __m512i a, __m512i b) { asm("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b)); }

/// MR rows by NR panels of 16 columns; `cols_last` columns of the last panel are stored.
/// The 24 accumulators are named variables (an array of them is spilled to the stack by
/// GCC); the ones a smaller tile does not use are optimised away.
template <int MR, int NR, class T>
void vnni_tile(const std::int32_t* a, std::size_t a_ld, const std::int32_t* b, std::size_t panel_ld, std::size_t pairs,
               T s, const T* bias, T* out, std::size_t ld, std::size_t cols_last, bool accumulate) {
#define LOGZ_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define LOGZ_ZERO_ROW(m) __m512i c##m##0 = _mm512_setzero_si512(), c##m##1 = c##m##0, c##m##2 = c##m##0, c##m##3 = c##m##0;
  LOGZ_ROWS(LOGZ_ZERO_ROW)
  for (std::size_t p = 0; p < pairs; ++p) {
    const std::int32_t* bp = b + p * FixedPointMatrix::panel;
    const __m512i b0 = _mm512_loadu_si512(bp);
    const __m512i b1 = NR > 1 ? _mm512_loadu_si512(bp + panel_ld) : b0;
    const __m512i b2 = NR > 2 ? _mm512_loadu_si512(bp + 2 * panel_ld) : b0;
    const __m512i b3 = NR > 3 ? _mm512_loadu_si512(bp + 3 * panel_ld) : b0;
#define LOGZ_UPDATE_ROW(m)                                            \
    if constexpr (MR > m) {                                             \
      const __m512i am = _mm512_set1_epi32(a[std::size_t(m) * a_ld + p]); \
      dpwssd(c##m##0, am, b0);                   \
      if constexpr (NR > 1) dpwssd(c##m##1, am, b1); \
      if constexpr (NR > 2) dpwssd(c##m##2, am, b2); \
      if constexpr (NR > 3) dpwssd(c##m##3, am, b3); \
    }
    LOGZ_ROWS(LOGZ_UPDATE_ROW)
  }
  auto store = [&](int m, int t, __m512i acc) {
    const __mmask16 mask = t + 1 < NR ? __mmask16(0xffff) : __mmask16((1u << cols_last) - 1u);
    T* o = out + std::size_t(m) * ld + 16 * std::size_t(t);
    const T* add = accumulate ? o : bias ? bias + 16 * t : nullptr;
    if constexpr (std::is_same_v<T, float>) {
      const __m512 addv = add ? _mm512_maskz_loadu_ps(mask, add) : _mm512_setzero_ps();
      _mm512_mask_storeu_ps(o, mask, _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(s), addv));
    } else {
      // Two halves of 8 doubles: the integer sums convert exactly.
      const __mmask8 lo = __mmask8(mask & 0xff), hi = __mmask8(mask >> 8);
      const __m512d add_lo = add ? _mm512_maskz_loadu_pd(lo, add) : _mm512_setzero_pd();
      const __m512d add_hi = add ? _mm512_maskz_loadu_pd(hi, add + 8) : _mm512_setzero_pd();
      const __m512d sv = _mm512_set1_pd(s);
      _mm512_mask_storeu_pd(o, lo, _mm512_fmadd_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(acc)), sv, add_lo));
      _mm512_mask_storeu_pd(o + 8, hi,
                            _mm512_fmadd_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(acc, 1)), sv, add_hi));
    }
  };
#define LOGZ_STORE_ROW(m)                        \
  if constexpr (MR > m) {                        \
    store(m, 0, c##m##0);                        \
    if constexpr (NR > 1) store(m, 1, c##m##1);  \
    if constexpr (NR > 2) store(m, 2, c##m##2);  \
    if constexpr (NR > 3) store(m, 3, c##m##3);  \
  }
  LOGZ_ROWS(LOGZ_STORE_ROW)
#undef LOGZ_STORE_ROW
#undef LOGZ_UPDATE_ROW
#undef LOGZ_ZERO_ROW
#undef LOGZ_ROWS
}

template <int MR, class T>
void vnni_rows(int nr, const std::int32_t* a, std::size_t a_ld, const std::int32_t* b, std::size_t panel_ld,
               std::size_t pairs, T s, const T* bias, T* out, std::size_t ld, std::size_t cols_last,
               bool acc) {
  switch (nr) {
    case 4: return vnni_tile<MR, 4, T>(a, a_ld, b, panel_ld, pairs, s, bias, out, ld, cols_last, acc);
    case 3: return vnni_tile<MR, 3, T>(a, a_ld, b, panel_ld, pairs, s, bias, out, ld, cols_last, acc);
    case 2: return vnni_tile<MR, 2, T>(a, a_ld, b, panel_ld, pairs, s, bias, out, ld, cols_last, acc);
    default: return vnni_tile<MR, 1, T>(a, a_ld, b, panel_ld, pairs, s, bias, out, ld, cols_last, acc);
  }
}
/// 16 entries as 0/1 integers; false when one is neither 0 nor 1 (the scalar loop then
/// names it).
bool binary_lanes(__m512 v, __m512i& out) {
  const __mmask16 ok = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_EQ_OQ) |
                       _mm512_cmp_ps_mask(v, _mm512_set1_ps(1.0f), _CMP_EQ_OQ);
  out = _mm512_cvttps_epi32(v);
  return ok == __mmask16(0xffff);
}

/// Lane l of the result is l · step: scatter offsets of 16 words `step` apart.
__m512i lane_offsets(std::size_t step) {
  return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                            _mm512_set1_epi32(int(step)));
}
#endif

}  // namespace

bool binary_products_are_fast() {
#ifdef LOGZ_VNNI
  return true;
#else
  return false;
#endif
}

void BinaryPairs::pack(const MatrixF& x, std::size_t r0, std::size_t n) { pack(x, r0, n, Exec(1)); }

void BinaryPairs::pack(const MatrixF& x, std::size_t r0, std::size_t n, const Exec& ex) {
  const std::size_t k = std::size_t(x.cols());
  rows = n;
  pairs = (k + 1) / 2;
  words.resize(rows * pairs);
  // Each block keeps its own error, and the first block's is thrown: the same entry is
  // named whichever thread finds its error first.
  const Blocks blocks = row_blocks(n);
  std::vector<std::exception_ptr> errors(blocks.count());
  parallel_for(exec_for_work(ex, n * k), blocks.count(), [&](std::size_t t) {
    try {
      pack_rows(x, r0, blocks.begin(t), blocks.end(t));
    } catch (...) {
      errors[t] = std::current_exception();
    }
  });
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

void BinaryPairs::pack_rows(const MatrixF& x, std::size_t r0, std::size_t first, std::size_t last) {
  const std::size_t k = std::size_t(x.cols());
  for (std::size_t r = first; r < last; ++r) {
    const float* v = &x(Eigen::Index(r0 + r), 0);
    std::int32_t* w = words.data() + r * pairs;
    std::size_t p = 0;
#ifdef LOGZ_VNNI
    // 32 entries, narrowed to 16 bits in order, are 16 words of pairs.
    for (__m512i a, b; 2 * p + 32 <= k; p += 16) {
      if (!binary_lanes(_mm512_loadu_ps(v + 2 * p), a) || !binary_lanes(_mm512_loadu_ps(v + 2 * p + 16), b)) break;
      _mm512_storeu_si512(w + p, _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(a)),
                                                    _mm512_cvtepi32_epi16(b), 1));
    }
#endif
    for (; p < k / 2; ++p)
      w[p] = pair_word(binary_entry(v[2 * p], r0 + r, 2 * p), binary_entry(v[2 * p + 1], r0 + r, 2 * p + 1));
    if (k % 2) w[pairs - 1] = pair_word(binary_entry(v[k - 1], r0 + r, k - 1), 0);
  }
}

void BinaryPairs::pack_transposed(const MatrixF& x, std::size_t r0, std::size_t nrows, std::size_t c0, std::size_t n) {
  rows = n;
  pairs = (nrows + 1) / 2;
  words.resize(rows * pairs);
#ifdef LOGZ_VNNI
  const __m512i stride = lane_offsets(pairs);
#endif
  for (std::size_t p = 0; p < pairs; ++p) {
    const std::size_t i0 = r0 + 2 * p, i1 = i0 + 1;
    const float* v0 = &x(Eigen::Index(i0), Eigen::Index(c0));
    const float* v1 = 2 * p + 1 < nrows ? &x(Eigen::Index(i1), Eigen::Index(c0)) : nullptr;
    std::size_t c = 0;
#ifdef LOGZ_VNNI
    // 16 columns at a time: their words are `pairs` apart.
    for (__m512i a, b = _mm512_setzero_si512(); c + 16 <= n; c += 16) {
      if (!binary_lanes(_mm512_loadu_ps(v0 + c), a) || (v1 && !binary_lanes(_mm512_loadu_ps(v1 + c), b))) break;
      _mm512_i32scatter_epi32(words.data() + c * pairs + p, stride, _mm512_or_si512(a, _mm512_slli_epi32(b, 16)), 4);
    }
#endif
    for (; c < n; ++c)
      words[c * pairs + p] = pair_word(binary_entry(v0[c], i0, c0 + c), v1 ? binary_entry(v1[c], i1, c0 + c) : 0);
  }
}

void FixedPointMatrix::prepare(std::size_t k, std::size_t n, float top) {
  k_ = k;
  n_ = n;
  pairs_ = (k + 1) / 2;
  panels_ = (n + panel - 1) / panel;
  scale_ = top > 0 ? top / float(kMaxLevel) : 1.0f;
  // Zeroed only when the size changes: the padding (columns past n, the high half of an
  // odd k's last pair) is never written otherwise, and a trainer re-rounds every update.
  if (packed_.size() != panels_ * pairs_ * panel) packed_.assign(panels_ * pairs_ * panel, 0);
}

namespace {
/// The level of x: round(x / s) (to nearest, ties to even), given 1 / s, within ±32767.
std::int32_t level_of(float x, float inverse) {
  return std::int32_t(std::nearbyint(std::clamp(x * inverse, -float(kMaxLevel), float(kMaxLevel))));
}

#ifdef LOGZ_VNNI
/// level_of for 16 entries at once (the same clamp, then the default rounding mode: to
/// nearest, ties to even, as std::nearbyint).
__m512i levels_of(__m512 x, __m512 inverse) {
  const __m512 top = _mm512_set1_ps(float(kMaxLevel));
  const __m512 q = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x, inverse), _mm512_sub_ps(_mm512_setzero_ps(), top)), top);
  return _mm512_cvtps_epi32(q);
}
/// Words of 16-bit pairs (lo, hi) from two vectors of levels.
__m512i pair_words(__m512i lo, __m512i hi) {
  return _mm512_or_si512(_mm512_and_si512(lo, _mm512_set1_epi32(0xffff)), _mm512_slli_epi32(hi, 16));
}
#endif
}  // namespace

/// max |b| in one pass; NaN when b has a NaN or an infinity (x · 0 is 0 for finite x, NaN
/// otherwise).
float largest_magnitude(const Eigen::Ref<const MatrixF>& b) {
  float top = 0.0f, zero = 0.0f;
  for (Eigen::Index i = 0; i < b.rows(); ++i) {
    const float* row = b.data() + i * b.outerStride();
    Eigen::Index j = 0;
#ifdef LOGZ_VNNI
    __m512 top_v = _mm512_setzero_ps(), zero_v = _mm512_setzero_ps();
    for (; j + 16 <= b.cols(); j += 16) {
      const __m512 x = _mm512_loadu_ps(row + j);
      top_v = _mm512_max_ps(top_v, _mm512_abs_ps(x));
      zero_v = _mm512_add_ps(zero_v, _mm512_mul_ps(x, _mm512_setzero_ps()));
    }
    top = std::max(top, _mm512_reduce_max_ps(top_v));
    zero += _mm512_reduce_add_ps(zero_v);
#endif
    for (; j < b.cols(); ++j) {
      top = std::max(top, std::fabs(row[j]));
      zero += row[j] * 0.0f;
    }
  }
  return zero == 0.0f && std::isfinite(top) ? top : std::numeric_limits<float>::quiet_NaN();
}

FixedPointMatrix::FixedPointMatrix(const Eigen::Ref<const MatrixF>& b) {
  const float top = largest_magnitude(b);
  check_arg(!std::isnan(top), "FixedPointMatrix: the matrix has a non-finite entry");
  prepare(std::size_t(b.rows()), std::size_t(b.cols()), top);
  assign_columns(b, 0, n_);
}

void FixedPointMatrix::assign_columns(const Eigen::Ref<const MatrixF>& b, std::size_t j0, std::size_t j1) {
  check_arg(std::size_t(b.rows()) == k_ && std::size_t(b.cols()) == n_ && j0 % panel == 0 && j0 <= j1 && j1 <= n_,
            "FixedPointMatrix: columns [{}, {}) of a ({}, {}) matrix, prepared for ({}, {})", j0, j1, b.rows(), b.cols(),
            k_, n_);
  const float inverse = 1.0f / scale_;
  for (std::size_t t = j0 / panel; t * panel < j1; ++t) {
    const std::size_t w = std::min(panel, j1 - t * panel);
    for (std::size_t p = 0; p < pairs_; ++p) {
      const float* a0 = b.data() + Eigen::Index(2 * p) * b.outerStride() + t * panel;
      const float* a1 = 2 * p + 1 < k_ ? a0 + b.outerStride() : nullptr;
      std::int32_t* dst = packed_.data() + (t * pairs_ + p) * panel;
#ifdef LOGZ_VNNI
      if (a1 && w == panel) {
        const __m512 inv = _mm512_set1_ps(inverse);
        _mm512_storeu_si512(dst, pair_words(levels_of(_mm512_loadu_ps(a0), inv), levels_of(_mm512_loadu_ps(a1), inv)));
        continue;
      }
#endif
      for (std::size_t c = 0; c < w; ++c) dst[c] = pair_word(level_of(a0[c], inverse), a1 ? level_of(a1[c], inverse) : 0);
    }
  }
}

void FixedPointMatrix::assign_columns_transposed(const Eigen::Ref<const MatrixF>& a, std::size_t j0, std::size_t j1) {
  // B(i, j) = a(j, i): B's pair p of column j is a(j, 2p), a(j, 2p + 1), adjacent in a's row j.
  check_arg(std::size_t(a.cols()) == k_ && std::size_t(a.rows()) == n_ && j0 % panel == 0 && j0 <= j1 && j1 <= n_,
            "FixedPointMatrix: rows [{}, {}) of a ({}, {}) matrix, prepared for its ({}, {}) transpose", j0, j1,
            a.rows(), a.cols(), k_, n_);
  const float inverse = 1.0f / scale_;
#ifdef LOGZ_VNNI
  const __m512 inv = _mm512_set1_ps(inverse);
  const __m512i stride = lane_offsets(panel);
#endif
  for (std::size_t j = j0; j < j1; ++j) {
    const float* row = a.data() + Eigen::Index(j) * a.outerStride();
    std::int32_t* dst = packed_.data() + (j / panel) * pairs_ * panel + j % panel;
    std::size_t p = 0;
#ifdef LOGZ_VNNI
    // 16 pairs at a time: 32 entries of the row, levels narrowed to 16 bits in order
    // (entry 2p low, 2p + 1 high), stored every `panel` words.
    for (; 2 * p + 32 <= k_; p += 16) {
      const __m256i lo = _mm512_cvtepi32_epi16(levels_of(_mm512_loadu_ps(row + 2 * p), inv));
      const __m256i hi = _mm512_cvtepi32_epi16(levels_of(_mm512_loadu_ps(row + 2 * p + 16), inv));
      const __m512i words = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      _mm512_i32scatter_epi32(dst + p * panel, stride, words, 4);
    }
#endif
    for (; p < k_ / 2; ++p)
      dst[p * panel] = pair_word(level_of(row[2 * p], inverse), level_of(row[2 * p + 1], inverse));
    if (k_ % 2) dst[(pairs_ - 1) * panel] = pair_word(level_of(row[k_ - 1], inverse), 0);
  }
}

FixedPointWeights::FixedPointWeights(const MatrixF& weights) {
  check_arg(try_assign(weights, Exec(1)), "FixedPointMatrix: the matrix has a non-finite entry");
}

bool FixedPointWeights::try_assign(const MatrixF& weights, const Exec& ex) {
  const auto nv = std::size_t(weights.rows()), nh = std::size_t(weights.cols());
  // The largest magnitude by blocks of rows (max is exact: any split gives the same
  // scale), then W's panels and Wᵀ's panels as the tasks of one region.
  const Blocks rows = row_blocks(nv);
  const float top = parallel_reduce(
      ex, rows.count(), 0.0f,
      [&](std::size_t t) { return largest_magnitude(weights.middleRows(Eigen::Index(rows.begin(t)), Eigen::Index(rows.size(t)))); },
      [](float a, float b) { return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::max(a, b); });
  if (std::isnan(top)) return false;
  w.prepare(nv, nh, top);
  wt.prepare(nh, nv, top);
  const Blocks wb = panel_blocks(column_blocks(nh)), wtb = panel_blocks(column_blocks(nv));
  parallel_for(ex, wb.count() + wtb.count(), [&](std::size_t t) {
    if (t < wb.count()) w.assign_columns(weights, wb.begin(t), wb.end(t));
    else wt.assign_columns_transposed(weights, wtb.begin(t - wb.count()), wtb.end(t - wb.count()));
  });
  return true;
}

float FixedPointMatrix::value(std::size_t i, std::size_t j) const {
  const std::int32_t w = packed_[((j / panel) * pairs_ + i / 2) * panel + j % panel];
  return scale_ * float(i % 2 ? high_half(w) : low_half(w));
}

void FixedPointMatrix::check_operands(const BinaryPairs& a, std::size_t j0, std::size_t j1) const {
  check_arg(a.pairs == pairs_, "FixedPointMatrix: rows of {} entries against a matrix of {} rows", 2 * a.pairs, k_);
  check_arg(j0 % panel == 0 && j0 <= j1 && j1 <= n_, "FixedPointMatrix: columns [{}, {}) of {}", j0, j1, n_);
}

template <class T>
void FixedPointMatrix::multiply(const BinaryPairs& a, std::size_t j0, std::size_t j1, T alpha, const T* bias, T* out,
                                std::size_t ld, bool accumulate) const {
  check_operands(a, j0, j1);
  if (j0 == j1 || a.rows == 0) return;
#ifndef LOGZ_VNNI
  multiply_portable(a, j0, j1, alpha, bias, out, ld, accumulate);
#else
  const T s = T(scale_) * alpha;
  const std::size_t panel_ld = pairs_ * panel;
  // Tiles of 6 rows by 4 panels: 24 accumulators, 4 loads of B and 6 broadcasts of A for
  // every 24 vpdpwssd.
  constexpr std::size_t mr = 6, nr = 4;
  for (std::size_t jp = j0; jp < j1; jp += nr * panel) {
    const std::size_t cols = std::min(nr * panel, j1 - jp);
    const int np = int((cols + panel - 1) / panel);
    const std::size_t cols_last = cols - std::size_t(np - 1) * panel;
    const std::int32_t* b = packed_.data() + (jp / panel) * panel_ld;
    const T* bias_j = bias ? bias + jp : nullptr;
    for (std::size_t r = 0; r < a.rows; r += mr) {
      const std::int32_t* ar = a.row(r);
      T* o = out + r * ld + (jp - j0);
      switch (std::min(mr, a.rows - r)) {
        case 6: vnni_rows<6>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last, accumulate); break;
        case 5: vnni_rows<5>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last, accumulate); break;
        case 4: vnni_rows<4>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last, accumulate); break;
        case 3: vnni_rows<3>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last, accumulate); break;
        case 2: vnni_rows<2>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last, accumulate); break;
        default: vnni_rows<1>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last, accumulate); break;
      }
    }
  }
#endif
}

template <class T>
void FixedPointMatrix::multiply_portable(const BinaryPairs& a, std::size_t j0, std::size_t j1, T alpha, const T* bias,
                                         T* out, std::size_t ld, bool accumulate) const {
  check_operands(a, j0, j1);
  const T s = T(scale_) * alpha;
  const std::size_t panel_ld = pairs_ * panel;
  // The same integer sums, a panel at a time, skipping pairs of zeros.
  std::int32_t acc[panel];
  for (std::size_t r = 0; r < a.rows; ++r) {
    const std::int32_t* ar = a.row(r);
    for (std::size_t j = j0; j < j1; j += panel) {
      std::fill(acc, acc + panel, 0);
      const std::int32_t* b = packed_.data() + (j / panel) * panel_ld;
      for (std::size_t p = 0; p < pairs_; ++p) {
        const std::int32_t lo = low_half(ar[p]), hi = high_half(ar[p]);
        if ((lo | hi) == 0) continue;
        const std::int32_t* bp = b + p * panel;
        for (std::size_t c = 0; c < panel; ++c) acc[c] += lo * low_half(bp[c]) + hi * high_half(bp[c]);
      }
      const std::size_t w = std::min(panel, j1 - j);
      for (std::size_t c = 0; c < w; ++c) {
        T& o = out[r * ld + (j - j0) + c];
        o = std::fma(T(acc[c]), s, accumulate ? o : bias ? bias[j + c] : T(0));
      }
    }
  }
}

template void FixedPointMatrix::multiply<float>(const BinaryPairs&, std::size_t, std::size_t, float, const float*,
                                                float*, std::size_t, bool) const;
template void FixedPointMatrix::multiply<double>(const BinaryPairs&, std::size_t, std::size_t, double, const double*,
                                                 double*, std::size_t, bool) const;
template void FixedPointMatrix::multiply_portable<float>(const BinaryPairs&, std::size_t, std::size_t, float,
                                                         const float*, float*, std::size_t, bool) const;
template void FixedPointMatrix::multiply_portable<double>(const BinaryPairs&, std::size_t, std::size_t, double,
                                                          const double*, double*, std::size_t, bool) const;

}  // namespace logz
