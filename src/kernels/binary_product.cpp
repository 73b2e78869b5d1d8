// Fixed-point products of 0/1 rows (kernels/binary_product.hpp): an AVX-512 VNNI kernel
// of 6 rows by 64 columns, and a portable loop with the same integer sums.
#include "logz/kernels/binary_product.hpp"

#include <algorithm>
#include <cmath>

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
#include <immintrin.h>
#define LOGZ_VNNI 1
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

#ifdef LOGZ_VNNI
/// MR rows by NR panels of 16 columns; `cols_last` columns of the last panel are stored.
/// The 24 accumulators are named variables (an array of them is spilled to the stack by
/// GCC); the ones a smaller tile does not use are optimised away.
/// acc += the pairwise products of a and b, in place (GCC's intrinsic copies the
/// accumulators between registers and the stack at every step).
inline void dpwssd(__m512i& acc, __m512i a, __m512i b) { asm("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b)); }

template <int MR, int NR>
void vnni_tile(const std::int32_t* a, std::size_t a_ld, const std::int32_t* b, std::size_t panel_ld, std::size_t pairs,
               float s, const float* bias, float* out, std::size_t ld, std::size_t cols_last) {
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
  const __m512 sv = _mm512_set1_ps(s);
  auto store = [&](int m, int t, __m512i acc) {
    const __mmask16 mask = t + 1 < NR ? __mmask16(0xffff) : __mmask16((1u << cols_last) - 1u);
    const __m512 bias_v = bias ? _mm512_maskz_loadu_ps(mask, bias + 16 * t) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(out + std::size_t(m) * ld + 16 * std::size_t(t), mask,
                          _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), sv, bias_v));
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

template <int MR>
void vnni_rows(int nr, const std::int32_t* a, std::size_t a_ld, const std::int32_t* b, std::size_t panel_ld,
               std::size_t pairs, float s, const float* bias, float* out, std::size_t ld, std::size_t cols_last) {
  switch (nr) {
    case 4: return vnni_tile<MR, 4>(a, a_ld, b, panel_ld, pairs, s, bias, out, ld, cols_last);
    case 3: return vnni_tile<MR, 3>(a, a_ld, b, panel_ld, pairs, s, bias, out, ld, cols_last);
    case 2: return vnni_tile<MR, 2>(a, a_ld, b, panel_ld, pairs, s, bias, out, ld, cols_last);
    default: return vnni_tile<MR, 1>(a, a_ld, b, panel_ld, pairs, s, bias, out, ld, cols_last);
  }
}
#endif

}  // namespace

void BinaryPairs::pack(const MatrixF& x, std::size_t r0, std::size_t n) {
  rows = n;
  pairs = (std::size_t(x.cols()) + 1) / 2;
  words.resize(rows * pairs);
  const std::size_t k = std::size_t(x.cols());
  for (std::size_t r = 0; r < n; ++r) {
    const float* v = &x(Eigen::Index(r0 + r), 0);
    std::int32_t* w = words.data() + r * pairs;
    for (std::size_t p = 0; p < k / 2; ++p) w[p] = pair_word(v[2 * p] != 0.0f, v[2 * p + 1] != 0.0f);
    if (k % 2) w[pairs - 1] = pair_word(v[k - 1] != 0.0f, 0);
  }
}

FixedPointMatrix::FixedPointMatrix(const MatrixF& b)
    : k_(std::size_t(b.rows())), n_(std::size_t(b.cols())), pairs_((k_ + 1) / 2), panels_((n_ + panel - 1) / panel) {
  check_arg(b.allFinite(), "FixedPointMatrix: the matrix has a non-finite entry");
  const float top = b.size() ? b.cwiseAbs().maxCoeff() : 0.0f;
  scale_ = top > 0 ? top / float(kMaxLevel) : 1.0f;
  auto level = [&](std::size_t i, std::size_t j) -> std::int32_t {
    if (i >= k_ || j >= n_) return 0;
    const float q = std::nearbyint(b(Eigen::Index(i), Eigen::Index(j)) / scale_);
    return std::int32_t(std::clamp(q, -float(kMaxLevel), float(kMaxLevel)));
  };
  packed_.assign(panels_ * pairs_ * panel, 0);
  for (std::size_t t = 0; t < panels_; ++t)
    for (std::size_t p = 0; p < pairs_; ++p)
      for (std::size_t c = 0; c < panel; ++c)
        packed_[(t * pairs_ + p) * panel + c] = pair_word(level(2 * p, t * panel + c), level(2 * p + 1, t * panel + c));
}

float FixedPointMatrix::value(std::size_t i, std::size_t j) const {
  const std::int32_t w = packed_[((j / panel) * pairs_ + i / 2) * panel + j % panel];
  return scale_ * float(i % 2 ? high_half(w) : low_half(w));
}

void FixedPointMatrix::multiply(const BinaryPairs& a, std::size_t j0, std::size_t j1, float alpha, const float* bias,
                                float* out, std::size_t ld) const {
  check_arg(a.pairs == pairs_, "FixedPointMatrix: rows of {} entries against a matrix of {} rows", 2 * a.pairs, k_);
  check_arg(j0 % panel == 0 && j0 <= j1 && j1 <= n_, "FixedPointMatrix: columns [{}, {}) of {}", j0, j1, n_);
  if (j0 == j1 || a.rows == 0) return;
  const float s = scale_ * alpha;
  const std::size_t panel_ld = pairs_ * panel;
#ifdef LOGZ_VNNI
  // Tiles of 6 rows by 4 panels: 24 accumulators, 4 loads of B and 6 broadcasts of A for
  // every 24 vpdpwssd.
  constexpr std::size_t mr = 6, nr = 4;
  for (std::size_t jp = j0; jp < j1; jp += nr * panel) {
    const std::size_t cols = std::min(nr * panel, j1 - jp);
    const int np = int((cols + panel - 1) / panel);
    const std::size_t cols_last = cols - std::size_t(np - 1) * panel;
    const std::int32_t* b = packed_.data() + (jp / panel) * panel_ld;
    const float* bias_j = bias ? bias + jp : nullptr;
    for (std::size_t r = 0; r < a.rows; r += mr) {
      const std::int32_t* ar = a.row(r);
      float* o = out + r * ld + (jp - j0);
      switch (std::min(mr, a.rows - r)) {
        case 6: vnni_rows<6>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last); break;
        case 5: vnni_rows<5>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last); break;
        case 4: vnni_rows<4>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last); break;
        case 3: vnni_rows<3>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last); break;
        case 2: vnni_rows<2>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last); break;
        default: vnni_rows<1>(np, ar, a.pairs, b, panel_ld, pairs_, s, bias_j, o, ld, cols_last); break;
      }
    }
  }
#else
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
      for (std::size_t c = 0; c < w; ++c)
        out[r * ld + (j - j0) + c] = std::fma(float(acc[c]), s, bias ? bias[j + c] : 0.0f);
    }
  }
#endif
}

}  // namespace logz
