#pragma once
/// @file rng.hpp
/// Counter-based random streams: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel
/// random numbers: as easy as 1, 2, 3", SC 2011) from Random123.
///
/// Every random result in logz is a deterministic function of (seed, purpose, index, ...):
/// a Stream is identified by a key and a 64-bit stream id, and its draws are Philox blocks
/// at successive counters. `derive(purpose, index)` gives an independent child stream for
/// chain c, particle j, minibatch t, ... so that no result depends on which thread ran it.
#include <Random123/philox.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <vector>

namespace logz {

/// What a derived stream is for: distinct purposes never share a stream. A purpose is an
/// open number, not a closed list: the ones below are shared across the library, and an
/// estimator owns its own beside its code (e.g. `ais_stream` in estimators/ais.hpp), so
/// adding an estimator edits no core file; tests/api/estimator_registry_test.cpp checks
/// that no two coincide. The numbers are part of the reproducibility contract (the same
/// seed gives the same bits across versions): never renumber one.
struct Purpose {
  std::uint32_t id;
  constexpr explicit Purpose(std::uint32_t value) : id(value) {}
  friend constexpr bool operator==(Purpose, Purpose) = default;

  static const Purpose init;       ///< parameter initialisation
  static const Purpose shuffle;    ///< minibatch order
  static const Purpose gibbs;      ///< Gibbs / MCMC transitions
  static const Purpose chains;     ///< initial chain states
  static const Purpose monitor;    ///< training monitors (pseudo-likelihood bit choice, AIS monitor)
  static const Purpose sample;     ///< `logz sample`
  static const Purpose replicate;  ///< independent replicate runs
  static const Purpose data;       ///< data subsets
  static const Purpose noise;      ///< noise samples (noise-contrastive estimation, denoising, slicing)
  static const Purpose user;       ///< first value free for user code
};
inline constexpr Purpose Purpose::init{1};
inline constexpr Purpose Purpose::shuffle{2};
inline constexpr Purpose Purpose::gibbs{3};
inline constexpr Purpose Purpose::chains{4};
inline constexpr Purpose Purpose::monitor{7};
inline constexpr Purpose Purpose::sample{8};
inline constexpr Purpose Purpose::replicate{9};
inline constexpr Purpose Purpose::data{10};
inline constexpr Purpose Purpose::noise{16};
inline constexpr Purpose Purpose::user{1000};
// 5, 6, 11 to 15, 17: the estimators' own (estimators/ais.hpp, smc.hpp, ladder.hpp, linked_is.hpp).

class Stream {
 public:
  using Philox = r123::Philox4x32;
  using Key = Philox::key_type;
  using Ctr = Philox::ctr_type;

  /// The root stream of a seed.
  static Stream root(std::uint64_t seed) {
    return Stream(Key{{std::uint32_t(seed), std::uint32_t(seed >> 32)}}, 0);
  }
  /// Root stream of `seed` followed by derive(purpose, index): the common entry point.
  static Stream derive(std::uint64_t seed, Purpose purpose, std::uint64_t index) {
    return root(seed).derive(purpose, index);
  }

  /// An independent child stream. The child's key and id are Philox outputs of the
  /// parent's key at counters that ordinary draws never use (word 3 = 0xFFFFFFFF marker
  /// combined with a distinct purpose word), so children of distinct (purpose, index)
  /// are distinct streams.
  Stream derive(Purpose purpose, std::uint64_t index) const { return derive(purpose.id, index); }
  Stream derive(std::uint32_t purpose, std::uint64_t index) const {
    Philox f;
    Ctr a = f(Ctr{{std::uint32_t(id_), std::uint32_t(id_ >> 32), purpose, 0xFFFFFFFFu}}, key_);
    Ctr b = f(Ctr{{std::uint32_t(index), std::uint32_t(index >> 32), a[2], a[3]}}, Key{{a[0], a[1]}});
    return Stream(Key{{b[0], b[1]}}, (std::uint64_t(b[3] & 0x7FFFFFFFu) << 32) | b[2]);
  }

  /// Children derive(purpose, first) .. derive(purpose, first + n − 1): one stream per
  /// chain, row or particle.
  std::vector<Stream> children(Purpose purpose, std::size_t n, std::uint64_t first = 0) const {
    std::vector<Stream> out;
    out.reserve(n);
    for (std::size_t r = 0; r < n; ++r) out.push_back(derive(purpose, first + r));
    return out;
  }

  /// The next 32 random bits.
  std::uint32_t next_u32() {
    if (used_ == 4) refill();
    return buf_[used_++];
  }
  /// Uniform float in (0, 1): 23 random bits, centred in their cell, never 0 or 1.
  /// (23, not 24: k + 1/2 is exact in float only for k < 2^23; with 24 bits the top
  /// cell's centre would round up to exactly 1.)
  float uniform_float() { return to_float(next_u32()); }
  /// Uniform double in (0, 1): 52 random bits, centred in their cell, never 0 or 1.
  double uniform_double() {
    const std::uint32_t hi = next_u32();
    return to_double(hi, next_u32());
  }
  /// The uniform double of two words (as uniform_double uses them, hi first).
  static double to_double(std::uint32_t hi, std::uint32_t lo) {
    return (double(((std::uint64_t(hi) << 32) | lo) >> 12) + 0.5) * 0x1p-52;
  }
  /// The uniform float of 32 random bits (as uniform_float uses them).
  static float to_float(std::uint32_t bits) { return (float(bits >> 9) + 0.5f) * 0x1p-23f; }
  /// Standard normal (Box–Muller on two uniforms; the second value is discarded so
  /// that the number of draws per call is fixed).
  double normal() {
    double u1 = uniform_double(), u2 = uniform_double();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  /// Uniform integer in [0, n) by Lemire's multiply-shift with rejection (unbiased).
  std::uint64_t below(std::uint64_t n) {
    if (n <= 0xFFFFFFFFull) {
      std::uint32_t n32 = std::uint32_t(n);
      std::uint64_t m = std::uint64_t(next_u32()) * n32;
      if (std::uint32_t(m) < n32) {
        std::uint32_t t = std::uint32_t(-n32) % n32;
        while (std::uint32_t(m) < t) m = std::uint64_t(next_u32()) * n32;
      }
      return m >> 32;
    }
    std::uint64_t x;
    const std::uint64_t lim = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
    do x = (std::uint64_t(next_u32()) << 32) | next_u32();
    while (x >= lim);
    return x % n;
  }
  /// Fill `out` with uniform floats in (0, 1); same values as n calls of uniform_float().
  void fill_uniform(float* out, std::size_t n) {
    std::uint32_t w[64];
    for (std::size_t i = 0; i < n; i += 64) {
      const std::size_t take = n - i < 64 ? n - i : 64;
      fill_words(w, take);
#pragma omp simd
      for (std::size_t k = 0; k < take; ++k) out[i + k] = to_float(w[k]);
    }
  }
  /// The next n 32-bit words, as n calls of next_u32() would give them: Philox blocks 16
  /// at a time, vectorised; a partly used group leaves its last block in the buffer.
  void fill_words(std::uint32_t* out, std::size_t n) {
    std::size_t i = 0;
    while (i < n && used_ < 4) out[i++] = buf_[used_++];
    std::uint32_t w[64];
    while (i < n) {
      philox16_words(w);
      const std::size_t take = n - i < 64 ? n - i : 64;
      for (std::size_t k = 0; k < take; ++k) out[i + k] = w[k];
      i += take;
      pos_ += take / 4;
      if (take % 4 != 0) {
        const std::size_t b = 4 * (take / 4);
        buf_ = Ctr{{w[b], w[b + 1], w[b + 2], w[b + 3]}};
        used_ = int(take % 4);
        ++pos_;
      }
    }
  }
  /// n standard normals, both values of each Box–Muller pair (Box & Muller 1958): pair p
  /// takes the next 4 words, u1 from the first two and u2 from the last two (as
  /// uniform_double), z = sqrt(−2 ln u1) (cos 2πu2, sin 2πu2); an odd n drops the last
  /// pair's sine. Other values than n calls of normal(), which spend a block on each: half
  /// the words, and a logarithm and sine/cosine of logz's own (src/core/rng.cpp), accurate
  /// to a few ulp and vectorised, so the bits do not depend on the C library either.
  void fill_normal(double* out, std::size_t n);
  /// The pair fill_normal makes of uniforms u1, u2 in (0, 1).
  static void box_muller(double u1, double u2, double& z0, double& z1);

  /// Moves to 32-bit word `word` of the stream (word w is word w % 4 of Philox block
  /// w / 4), so that parts of one stream can be drawn in any order: block k of a
  /// column-split computation draws exactly the words it would have drawn in sequence.
  void seek(std::uint64_t word) {
    pos_ = word / 4;
    used_ = 4;
    if (word % 4 != 0) {
      refill();
      used_ = int(word % 4);
    }
  }

  /// Identity, for tests and checkpoints.
  Key key() const { return key_; }
  std::uint64_t id() const { return id_; }
  std::uint64_t position() const { return pos_; }
  /// The index of the next 32-bit word this stream will draw (the argument of seek()
  /// that would leave the stream where it is).
  std::uint64_t word() const { return pos_ * 4 + std::uint64_t(used_) - 4; }

 private:
  Stream(Key key, std::uint64_t id) : key_(key), id_(id) {}

#if defined(__AVX512F__)
  /// The 64 words of Philox blocks pos_ .. pos_ + 15, in stream order.
  void philox16_words(std::uint32_t* out) const {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i lo = _mm512_set1_epi32(int(std::uint32_t(pos_)));
    __m512i x0 = _mm512_add_epi32(lo, iota);
    // Lanes whose low word wrapped carry into the high word.
    __m512i x1 = _mm512_mask_add_epi32(_mm512_set1_epi32(int(std::uint32_t(pos_ >> 32))), _mm512_cmplt_epu32_mask(x0, lo),
                                       _mm512_set1_epi32(int(std::uint32_t(pos_ >> 32))), _mm512_set1_epi32(1));
    __m512i x2 = _mm512_set1_epi32(int(std::uint32_t(id_))), x3 = _mm512_set1_epi32(int(std::uint32_t(id_ >> 32)));
    std::uint32_t k0 = key_[0], k1 = key_[1];
    const __m512i m0 = _mm512_set1_epi64(0xD2511F53), m1 = _mm512_set1_epi64(0xCD9E8D57);
    // hi and lo 32 bits of a 32x32 product in every lane: even lanes directly, odd
    // lanes shifted down first.
    auto mulhilo = [](__m512i a, __m512i m, __m512i& hi, __m512i& lo32) {
      const __m512i even = _mm512_mul_epu32(a, m), odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
      lo32 = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
      hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    };
    for (int round = 0; round < 10; ++round) {
      __m512i hi0, lo0, hi1, lo1;
      mulhilo(x0, m0, hi0, lo0);
      mulhilo(x2, m1, hi1, lo1);
      const __m512i y0 = _mm512_ternarylogic_epi32(hi1, x1, _mm512_set1_epi32(int(k0)), 0x96);  // a ^ b ^ c
      const __m512i y2 = _mm512_ternarylogic_epi32(hi0, x3, _mm512_set1_epi32(int(k1)), 0x96);
      x0 = y0, x1 = lo1, x2 = y2, x3 = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    // Transpose the 4 x 16 words into stream order: counter l's words at 4l .. 4l+3.
    const __m512i t0 = _mm512_unpacklo_epi32(x0, x1), t1 = _mm512_unpackhi_epi32(x0, x1);
    const __m512i t2 = _mm512_unpacklo_epi32(x2, x3), t3 = _mm512_unpackhi_epi32(x2, x3);
    const __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);
    const __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);
    const __m512i a = _mm512_shuffle_i32x4(u0, u1, 0x44), b = _mm512_shuffle_i32x4(u2, u3, 0x44);
    const __m512i c = _mm512_shuffle_i32x4(u0, u1, 0xEE), d = _mm512_shuffle_i32x4(u2, u3, 0xEE);
    const __m512i v[4] = {_mm512_shuffle_i32x4(a, b, 0x88), _mm512_shuffle_i32x4(a, b, 0xDD),
                          _mm512_shuffle_i32x4(c, d, 0x88), _mm512_shuffle_i32x4(c, d, 0xDD)};
    for (int q = 0; q < 4; ++q) _mm512_storeu_si512(out + 16 * q, v[q]);
  }
#else
  /// The 64 words of Philox blocks pos_ .. pos_ + 15, in stream order.
  void philox16_words(std::uint32_t* out) const {
    constexpr std::size_t lanes = 16;
    std::uint32_t x0[lanes], x1[lanes], x2[lanes], x3[lanes];
    for (std::size_t l = 0; l < lanes; ++l) {
      const std::uint64_t c = pos_ + l;
      x0[l] = std::uint32_t(c), x1[l] = std::uint32_t(c >> 32), x2[l] = std::uint32_t(id_), x3[l] = std::uint32_t(id_ >> 32);
    }
    philox_rounds(x0, x1, x2, x3, key_[0], key_[1]);
    for (std::size_t l = 0; l < lanes; ++l) {
      out[4 * l + 0] = x0[l];
      out[4 * l + 1] = x1[l];
      out[4 * l + 2] = x2[l];
      out[4 * l + 3] = x3[l];
    }
  }
#endif

  /// Philox4x32-10 on 16 counters at once (Salmon et al. 2011; constants as Random123).
  static void philox_rounds(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::uint32_t k0,
                            std::uint32_t k1) {
    constexpr std::uint64_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
    for (int round = 0; round < 10; ++round) {
#pragma omp simd
      for (std::size_t l = 0; l < 16; ++l) {
        const std::uint64_t p0 = m0 * x0[l], p1 = m1 * x2[l];
        const std::uint32_t y0 = std::uint32_t(p1 >> 32) ^ x1[l] ^ k0, y1 = std::uint32_t(p1);
        const std::uint32_t y2 = std::uint32_t(p0 >> 32) ^ x3[l] ^ k1, y3 = std::uint32_t(p0);
        x0[l] = y0, x1[l] = y1, x2[l] = y2, x3[l] = y3;
      }
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
  }
  void refill() {
    buf_ = Philox{}(Ctr{{std::uint32_t(pos_), std::uint32_t(pos_ >> 32), std::uint32_t(id_), std::uint32_t(id_ >> 32)}}, key_);
    ++pos_;
    used_ = 0;
  }

  Key key_;
  std::uint64_t id_ = 0;
  std::uint64_t pos_ = 0;  // next Philox block; ids stay below 2^63, so word 3 of a draw's
                           // counter is never 0xFFFFFFFF and draws never meet derivations
  Ctr buf_{};
  int used_ = 4;
};

}  // namespace logz
