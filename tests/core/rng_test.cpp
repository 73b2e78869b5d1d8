// Philox4x32-10 streams: known answers, stream derivation, and the distributions drawn
// from them. Statistical checks use fixed seeds; each threshold is derived for a
// false-failure rate of 1e-4 (written next to it).
#include "logz/core/rng.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <set>
#include <tuple>
#include <vector>

#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using Philox = r123::Philox4x32;

/// Raw moments in long double (n up to 1e6 of O(1) values: no cancellation trouble).
struct MeanVarLocal {
  long double s1 = 0, s2 = 0, s4 = 0;
  double n = 0;
  void add(double x) {
    s1 += x;
    s2 += (long double)x * x;
    s4 += (long double)x * x * x * x;
    n += 1;
  }
  double mean() const { return double(s1 / n); }
  double var() const { return double((s2 - s1 * s1 / n) / (n - 1)); }
  double m4() const { return double(s4 / n); }
};

struct Kat {
  std::array<std::uint32_t, 4> ctr;
  std::array<std::uint32_t, 2> key;
  std::array<std::uint32_t, 4> out;
};

// Random123 kat_vectors, "philox 4 32 10" lines.
constexpr Kat kKats[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

TEST(Philox, KnownAnswerVectors) {
  for (const Kat& k : kKats) {
    const Philox::ctr_type c{{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}};
    const Philox::key_type key{{k.key[0], k.key[1]}};
    const Philox::ctr_type r = Philox{}(c, key);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r[i], k.out[i]) << "word " << i;
  }
}

TEST(Stream, RootDrawsArePhiloxBlocksAtSuccessiveCounters) {
  // Root of seed 0: key {0, 0}, id 0; the first block is counter {0, 0, 0, 0}: the first
  // known-answer vector.
  Stream s = Stream::root(0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(s.next_u32(), kKats[0].out[i]);
  EXPECT_EQ(s.position(), 1u);
  // Seed words go to the key (low word first); block b is at counter {b, 0, id, id>>32}.
  const std::uint64_t seed = 0x0123456789abcdefull;
  Stream t = Stream::root(seed);
  EXPECT_EQ(t.key()[0], 0x89abcdefu);
  EXPECT_EQ(t.key()[1], 0x01234567u);
  for (std::uint32_t b = 0; b < 3; ++b) {
    const Philox::ctr_type r = Philox{}(Philox::ctr_type{{b, 0, 0, 0}}, t.key());
    for (int i = 0; i < 4; ++i) EXPECT_EQ(t.next_u32(), r[i]);
  }
}

TEST(Stream, DeriveIsDeterministicAndDistinct) {
  // Identical (seed, purpose, index) => identical stream.
  Stream a = Stream::derive(42, Purpose::gibbs, 7), b = Stream::root(42).derive(Purpose::gibbs, 7);
  EXPECT_EQ(a.key(), b.key());
  EXPECT_EQ(a.id(), b.id());
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next_u32(), b.next_u32());

  // Distinct (purpose, index), and distinct seeds => distinct (key, id) and first draws.
  std::set<std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>> ids;
  std::set<std::uint64_t> first;
  std::size_t n = 0;
  for (std::uint64_t seed : {0ull, 1ull, 0x100000000ull}) {
    for (Purpose p : {Purpose::init, Purpose::gibbs, Purpose{5}, Purpose{6}, Purpose::user}) {
      for (std::uint64_t idx : {0ull, 1ull, 2ull, 3ull, 1000ull, 0xFFFFFFFFull, 0x100000000ull, ~0ull}) {
        Stream s = Stream::derive(seed, p, idx);
        ids.insert({s.key()[0], s.key()[1], s.id()});
        EXPECT_LT(s.id(), std::uint64_t(1) << 63);  // keeps draws away from derivation counters
        const std::uint64_t d = (std::uint64_t(s.next_u32()) << 32) | s.next_u32();
        first.insert(d);
        ++n;
      }
      for (std::uint64_t idx = 10; idx < 1000; ++idx) {
        Stream s = Stream::derive(seed, p, idx);
        ids.insert({s.key()[0], s.key()[1], s.id()});
        ++n;
      }
    }
  }
  EXPECT_EQ(ids.size(), n);
  EXPECT_EQ(first.size(), 3u * 5u * 8u);
  // A child differs from its parent, and grandchildren from children.
  Stream root = Stream::root(5), child = root.derive(Purpose{5}, 0), grandchild = child.derive(Purpose{5}, 0);
  EXPECT_NE(std::make_pair(child.key(), child.id()), std::make_pair(root.key(), root.id()));
  EXPECT_NE(std::make_pair(grandchild.key(), grandchild.id()), std::make_pair(child.key(), child.id()));
}

TEST(Stream, DeriveDoesNotDependOnParentPosition) {
  Stream a = Stream::root(9), b = Stream::root(9);
  for (int i = 0; i < 13; ++i) b.next_u32();
  Stream ca = a.derive(Purpose::chains, 3), cb = b.derive(Purpose::chains, 3);
  EXPECT_EQ(ca.key(), cb.key());
  EXPECT_EQ(ca.id(), cb.id());
}

TEST(Stream, FillUniformEqualsRepeatedUniformFloat) {
  for (int offset = 0; offset < 6; ++offset) {
    for (std::size_t n : {0u, 1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 16u, 17u, 1000u, 1003u}) {
      Stream a = Stream::derive(3, Purpose::gibbs, std::uint64_t(offset) * 100 + n);
      Stream b = a;
      for (int i = 0; i < offset; ++i) {
        a.next_u32();
        b.next_u32();
      }
      std::vector<float> x(n + 1, -1.0f);
      a.fill_uniform(x.data(), n);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(x[i], b.uniform_float()) << "offset " << offset << " n " << n << " i " << i;
      EXPECT_EQ(x[n], -1.0f);  // nothing written past n
      // Both streams continue identically.
      for (int i = 0; i < 9; ++i) ASSERT_EQ(a.next_u32(), b.next_u32());
    }
  }
}

TEST(Stream, UniformsAreStrictlyInsideTheUnitInterval) {
  Stream s = Stream::derive(11, Purpose::user, 0);
  double sum_f = 0, sum_d = 0;
  constexpr int n = 1'000'000;
  for (int i = 0; i < n; ++i) {
    const float f = s.uniform_float();
    const double d = s.uniform_double();
    ASSERT_GT(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    ASSERT_GT(d, 0.0);
    ASSERT_LT(d, 1.0);
    sum_f += f;
    sum_d += d;
  }
  // Every one of the 2^23 float cells maps to its exact centre (k + 1/2)·2^-23, strictly
  // inside (0, 1) and strictly increasing (the extreme bits included).
  float prev = 0.0f;
  for (std::uint32_t k = 0; k < (1u << 23); ++k) {
    const float f = Stream::to_float((k << 9) | (k & 0x1FF));
    ASSERT_EQ(double(f), (double(k) + 0.5) * 0x1p-23) << k;
    ASSERT_GT(f, prev);
    prev = f;
  }
  EXPECT_EQ(Stream::to_float(0u), 0x1p-24f);
  EXPECT_EQ(Stream::to_float(0xFFFFFFFFu), 1.0f - 0x1p-24f);
  // Means: SE = sqrt(1/12 / n); |mean - 1/2| <= z·SE with z = 3.89 (two-sided 1e-4).
  const double se = std::sqrt(1.0 / 12.0 / n), z = test::normal_two_sided_z(1e-4);
  EXPECT_LE(std::fabs(sum_f / n - 0.5), z * se);
  EXPECT_LE(std::fabs(sum_d / n - 0.5), z * se);
}

TEST(Stream, BelowIsUnbiased) {
  // Pearson chi-square of N draws of below(n) against the uniform distribution on [0, n):
  // threshold at the chi-square (n-1 df) upper quantile for false-failure rate 1e-4
  // (Wilson–Hilferty, see rbm_fixtures.hpp).
  for (std::uint64_t n : {2ull, 3ull, 7ull, 10ull, 100ull}) {
    Stream s = Stream::derive(17, Purpose::user, n);
    const std::size_t draws = 2000 * n;
    std::vector<std::size_t> counts(n, 0);
    for (std::size_t i = 0; i < draws; ++i) {
      const std::uint64_t x = s.below(n);
      ASSERT_LT(x, n);
      ++counts[x];
    }
    const std::vector<double> p(n, 1.0 / double(n));
    EXPECT_LT(test::chi_square_statistic(counts, p), test::chi_square_upper_quantile(double(n - 1), 1e-4)) << "n = " << n;
  }
  // n = 3·2^30: Lemire's method without rejection would favour some residues; bucket by
  // value / 2^30 into three equal thirds. And n above 2^32 (the 64-bit path): 3·2^33.
  for (std::uint64_t n : {3ull << 30, 3ull << 33}) {
    Stream s = Stream::derive(19, Purpose::user, n);
    std::vector<std::size_t> counts(3, 0);
    for (int i = 0; i < 60000; ++i) {
      const std::uint64_t x = s.below(n);
      ASSERT_LT(x, n);
      ++counts[x / (n / 3)];
    }
    EXPECT_LT(test::chi_square_statistic(counts, {1 / 3.0, 1 / 3.0, 1 / 3.0}), test::chi_square_upper_quantile(2, 1e-4));
  }
  Stream s = Stream::root(1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(s.below(1), 0u);
}

TEST(Stream, NormalMeanAndVariance) {
  Stream s = Stream::derive(23, Purpose::user, 0);
  constexpr int n = 400'000;
  MeanVarLocal mv;
  const std::uint64_t pos0 = s.position();
  for (int i = 0; i < n; ++i) mv.add(s.normal());
  // A normal() uses a fixed number of draws: 4 words = one Philox block.
  EXPECT_EQ(s.position() - pos0, std::uint64_t(n));
  // mean ~ N(0, 1/n); sample variance ~ N(1, 2/(n-1)). z = 3.89: two-sided 1e-4 each.
  const double z = test::normal_two_sided_z(1e-4);
  EXPECT_LE(std::fabs(mv.mean()), z / std::sqrt(double(n)));
  EXPECT_LE(std::fabs(mv.var() - 1.0), z * std::sqrt(2.0 / (n - 1)));
  // Fourth moment 3: a check that it is Gaussian-shaped, not merely standardised.
  // Var(x^4) = E x^8 - 9 = 105 - 9 = 96.
  EXPECT_LE(std::fabs(mv.m4() - 3.0), z * std::sqrt(96.0 / n));
}

TEST(Stream, FillNormalIsBoxMullerOnTheNextWordsToAFewUlp) {
  // Each pair is sqrt(-2 ln u1) (cos, sin)(2 pi u2) of the next four words, against long
  // double; then u2 at the quarter-turn boundaries and u1 near 0 and 1, where the
  // reductions are least forgiving. Tolerance: 8 ulp of the radius (the polynomials are
  // good to 2^-58; the rest is a handful of roundings).
  Stream s = Stream::derive(29, Purpose::user, 0), words = s;
  constexpr std::size_t n = 20'001;  // odd: the last sine is dropped
  std::vector<double> z(n);
  s.fill_normal(z.data(), n);
  auto check = [](double u1, double u2, double z0, double z1) {
    const long double radius = std::sqrt(-2.0L * std::log((long double)u1)), angle = 2.0L * std::numbers::pi_v<long double> * u2;
    const double tol = 8 * std::numeric_limits<double>::epsilon() * double(radius);
    EXPECT_NEAR(z0, double(radius * std::cos(angle)), tol) << u1 << " " << u2;
    EXPECT_NEAR(z1, double(radius * std::sin(angle)), tol) << u1 << " " << u2;
  };
  for (std::size_t p = 0; 2 * p < n; ++p) {
    std::uint32_t w[4];
    words.fill_words(w, 4);
    const double u1 = Stream::to_double(w[0], w[1]), u2 = Stream::to_double(w[2], w[3]);
    const long double radius = std::sqrt(-2.0L * std::log((long double)u1)), angle = 2.0L * std::numbers::pi_v<long double> * u2;
    const double tol = 8 * std::numeric_limits<double>::epsilon() * double(radius);
    ASSERT_NEAR(z[2 * p], double(radius * std::cos(angle)), tol) << p;
    if (2 * p + 1 < n) ASSERT_NEAR(z[2 * p + 1], double(radius * std::sin(angle)), tol) << p;
  }
  EXPECT_EQ(s.word(), words.word());  // 4 words a pair, the dropped sine's included
  // The edges, through fill_normal's arithmetic: the smallest and largest uniforms, the
  // octant and quarter-turn boundaries, and u1 about √½ where the logarithm's reduction turns.
  for (double u2 : {0x1p-53, 0.125, 0.25 - 0x1p-53, 0.25, 0.25 + 0x1p-53, 0.375, 0.5, 0.625, 0.75, 0.875, 1 - 0x1p-53})
    for (double u1 : {0x1p-53, 0x1p-40, 0.5, 0.70710678118654746, 0.70710678118654757, 0.75, 1 - 0x1p-53}) {
      double z0 = 0, z1 = 0;
      Stream::box_muller(u1, u2, z0, z1);
      check(u1, u2, z0, z1);
    }
}

TEST(Stream, FillNormalMomentsAndCallSplits) {
  Stream s = Stream::derive(31, Purpose::user, 0);
  constexpr std::size_t n = 400'000;
  std::vector<double> z(n);
  s.fill_normal(z.data(), n);
  MeanVarLocal mv;
  for (double x : z) mv.add(x);
  // As NormalMeanAndVariance: z = 3.89, two-sided 1e-4 each.
  const double zq = test::normal_two_sided_z(1e-4);
  EXPECT_LE(std::fabs(mv.mean()), zq / std::sqrt(double(n)));
  EXPECT_LE(std::fabs(mv.var() - 1.0), zq * std::sqrt(2.0 / (n - 1)));
  EXPECT_LE(std::fabs(mv.m4() - 3.0), zq * std::sqrt(96.0 / n));
  // The cosine and sine of a pair are independent: their correlation ~ N(0, 1/(n/2)).
  long double cross = 0;
  for (std::size_t p = 0; p < n / 2; ++p) cross += (long double)z[2 * p] * z[2 * p + 1];
  EXPECT_LE(std::fabs(double(cross / (n / 2))), zq / std::sqrt(n / 2.0));
  // Calls split at even counts draw the same values as one call; an odd split moves on by
  // a whole pair.
  Stream a = Stream::derive(31, Purpose::user, 0);
  std::vector<double> x(70), y(3);
  a.fill_normal(x.data(), 32);
  a.fill_normal(x.data() + 32, 38);
  for (std::size_t i = 0; i < 70; ++i) EXPECT_EQ(x[i], z[i]) << i;
  a.fill_normal(y.data(), 1);
  a.fill_normal(y.data() + 1, 2);
  EXPECT_EQ(y[0], z[70]);
  EXPECT_EQ(y[1], z[72]);
  EXPECT_EQ(y[2], z[73]);
}

}  // namespace
}  // namespace logz

namespace logz {
namespace {

// seek(w) lands on word w of the stream: what follows equals the sequence drawn from the start.
TEST(Stream, SeekLandsOnTheSameWordsAsSequentialDraws) {
  const Stream start = Stream::derive(21, Purpose::gibbs, 4);
  Stream seq = start;
  std::vector<std::uint32_t> words(300);
  for (auto& w : words) w = seq.next_u32();
  for (std::uint64_t at : {0u, 1u, 2u, 3u, 4u, 5u, 63u, 64u, 65u, 130u, 297u}) {
    Stream s = start;
    s.next_u32();  // any prior position is forgotten
    s.seek(at);
    for (std::uint64_t i = at; i < words.size(); ++i) ASSERT_EQ(s.next_u32(), words[i]) << "seek " << at << " word " << i;
  }
  // fill_uniform after a seek continues from that word too.
  Stream a = start, b = start;
  a.seek(7);
  b.seek(7);
  std::vector<float> x(200);
  a.fill_uniform(x.data(), x.size());
  for (float v : x) ASSERT_EQ(v, b.uniform_float());
}

}  // namespace
}  // namespace logz

namespace logz {
namespace {

// The 16-block fill carries the counter's low word into its high word like the scalar path.
TEST(Stream, FillUniformAcrossA32BitCounterWrap) {
  for (std::uint64_t block : {0xFFFFFFF0ull, 0xFFFFFFFAull, 0x1FFFFFFFFull - 3}) {
    Stream a = Stream::derive(8, Purpose::user, block);
    a.seek(4 * block + 1);
    Stream b = a;
    std::vector<float> x(300);
    a.fill_uniform(x.data(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], b.uniform_float()) << "block " << block << " i " << i;
  }
}

}  // namespace
}  // namespace logz
