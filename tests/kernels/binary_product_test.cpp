// Fixed-point products of 0/1 rows (kernels/binary_product.hpp): the integer sums against
// a 64-bit reference bit for bit for every tile shape and remainder, the rounding of the
// matrix, and the same bits for any split of rows or columns.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"
#include "logz/kernels/binary_product.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

MatrixF random_binary(Stream& rng, Eigen::Index rows, Eigen::Index cols, double p) {
  MatrixF a(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index i = 0; i < cols; ++i) a(r, i) = rng.uniform_double() < p ? 1.0f : 0.0f;
  return a;
}

MatrixF random_real(Stream& rng, Eigen::Index rows, Eigen::Index cols, double scale) {
  MatrixF b(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index i = 0; i < cols; ++i) b(r, i) = float(scale * (2 * rng.uniform_double() - 1));
  return b;
}

/// The defined result: fma(float(Σ_i a(r, i) B_q(i, j)), s · alpha, bias[j]), the sum in 64 bits.
float reference(const FixedPointMatrix& f, const MatrixF& a, Eigen::Index r, std::size_t j, float alpha, const float* bias) {
  long long sum = 0;
  for (std::size_t i = 0; i < f.rows(); ++i)
    if (a(r, Eigen::Index(i)) != 0.0f) sum += std::llround(double(f.value(i, j)) / double(f.scale()));
  return std::fma(float(sum), f.scale() * alpha, bias ? bias[j] : 0.0f);
}

bool same_bits(float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0; }

TEST(BinaryProduct, EqualsTheIntegerSumsBitForBitForEveryShape) {
  Stream rng = Stream::root(11);
  std::size_t checked = 0;
  // Rows 1..13 cover every tile height (6) and remainder; columns every panel count and
  // partial panel; odd k a half-filled last pair.
  for (int trial = 0; trial < 60; ++trial) {
    const auto k = Eigen::Index(1 + rng.below(90)), n = Eigen::Index(1 + rng.below(150));
    const auto m = Eigen::Index(1 + rng.below(13));
    const MatrixF b = random_real(rng, k, n, 3.0), a = random_binary(rng, m, k, 0.4);
    const VectorF bias = random_real(rng, n, 1, 1.0);
    const FixedPointMatrix f(b);
    BinaryPairs pairs;
    pairs.pack(a, 0, std::size_t(m));
    const float alpha = trial % 2 ? 0.37f : 1.0f;
    // The kernel of this build and the portable loop, plain and accumulating into a start value.
    const float* bias_or_null = trial % 3 ? bias.data() : nullptr;
    MatrixF out(m, n), portable(m, n), accumulated = MatrixF::Constant(m, n, 0.25f);
    f.multiply(pairs, 0, std::size_t(n), alpha, bias_or_null, out.data(), std::size_t(n));
    f.multiply_portable(pairs, 0, std::size_t(n), alpha, bias_or_null, portable.data(), std::size_t(n));
    f.multiply<float>(pairs, 0, std::size_t(n), alpha, nullptr, accumulated.data(), std::size_t(n), true);
    const VectorF quarter = VectorF::Constant(n, 0.25f);
    for (Eigen::Index r = 0; r < m; ++r)
      for (Eigen::Index j = 0; j < n; ++j, ++checked) {
        const float want = reference(f, a, r, std::size_t(j), alpha, bias_or_null);
        ASSERT_TRUE(same_bits(out(r, j), want)) << "k " << k << " n " << n << " m " << m << " at " << r << ", " << j;
        ASSERT_TRUE(same_bits(portable(r, j), want)) << "portable, k " << k << " n " << n << " at " << r << ", " << j;
        ASSERT_TRUE(same_bits(accumulated(r, j), reference(f, a, r, std::size_t(j), alpha, quarter.data())))
            << "accumulating, k " << k << " n " << n << " at " << r << ", " << j;
      }
  }
  EXPECT_GT(checked, 10000u);
}

TEST(BinaryProduct, DoubleOutputsAreTheIntegerSumsInOneDoubleRounding) {
  Stream rng = Stream::root(15);
  for (int trial = 0; trial < 20; ++trial) {
    const auto k = Eigen::Index(1 + rng.below(90)), n = Eigen::Index(1 + rng.below(150));
    const auto m = Eigen::Index(1 + rng.below(13));
    const MatrixF b = random_real(rng, k, n, 3.0), a = random_binary(rng, m, k, 0.4);
    const VectorD bias = random_real(rng, n, 1, 1.0).cast<double>();
    const FixedPointMatrix f(b);
    BinaryPairs pairs;
    pairs.pack(a, 0, std::size_t(m));
    MatrixD out(m, n), portable(m, n);
    f.multiply(pairs, 0, std::size_t(n), 0.5, bias.data(), out.data(), std::size_t(n));
    f.multiply_portable(pairs, 0, std::size_t(n), 0.5, bias.data(), portable.data(), std::size_t(n));
    for (Eigen::Index r = 0; r < m; ++r)
      for (Eigen::Index j = 0; j < n; ++j) {
        long long sum = 0;
        for (Eigen::Index i = 0; i < k; ++i)
          if (a(r, i) != 0.0f) sum += std::llround(double(f.value(std::size_t(i), std::size_t(j))) / double(f.scale()));
        const double want = std::fma(double(sum), double(f.scale()) * 0.5, bias[j]);
        ASSERT_EQ(out(r, j), want) << "k " << k << " n " << n << " at " << r << ", " << j;
        ASSERT_EQ(portable(r, j), want) << "portable, k " << k << " n " << n << " at " << r << ", " << j;
      }
  }
}

TEST(BinaryProduct, RoundsTheMatrixToTheNearestLevel) {
  Stream rng = Stream::root(12);
  const MatrixF b = random_real(rng, 37, 41, 2.5);
  const FixedPointMatrix f(b);
  EXPECT_EQ(f.rows(), 37u);
  EXPECT_EQ(f.cols(), 41u);
  EXPECT_FLOAT_EQ(f.scale(), b.cwiseAbs().maxCoeff() / 32767.0f);
  for (Eigen::Index i = 0; i < b.rows(); ++i)
    for (Eigen::Index j = 0; j < b.cols(); ++j)
      // Half a level, and the float rounding of b / s and of s · level.
      EXPECT_LE(std::fabs(f.value(std::size_t(i), std::size_t(j)) - b(i, j)), 0.5f * f.scale() + 1e-6f * std::fabs(b(i, j)));
  // The largest entry is a level exactly: ±32767 s.
  Eigen::Index ti = 0, tj = 0;
  b.cwiseAbs().maxCoeff(&ti, &tj);
  EXPECT_FLOAT_EQ(std::fabs(f.value(std::size_t(ti), std::size_t(tj))), 32767.0f * f.scale());
  // An all-zero matrix has scale 1 and zero products.
  const FixedPointMatrix zero(MatrixF::Zero(3, 5));
  EXPECT_EQ(zero.scale(), 1.0f);
  EXPECT_EQ(zero.value(2, 4), 0.0f);
  MatrixF bad = b;
  bad(3, 4) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(FixedPointMatrix{bad}, Error);
}

TEST(BinaryProduct, AnySplitOfRowsOrColumnsGivesTheSameBits) {
  Stream rng = Stream::root(13);
  const MatrixF b = random_real(rng, 784, 500, 0.8), a = random_binary(rng, 100, 784, 0.3);
  const VectorF bias = random_real(rng, 500, 1, 1.0);
  const FixedPointMatrix f(b);
  BinaryPairs all;
  all.pack(a, 0, 100);
  MatrixF whole(100, 500);
  f.multiply(all, 0, 500, 1.0f, bias.data(), whole.data(), 500);
  // Rows in blocks of 7 (not a tile multiple), columns at 256 (a panel boundary).
  MatrixF parts(100, 500);
  for (std::size_t r0 = 0; r0 < 100; r0 += 7) {
    BinaryPairs some;
    const std::size_t n = std::min<std::size_t>(7, 100 - r0);
    some.pack(a, r0, n);
    f.multiply(some, 0, 256, 1.0f, bias.data(), &parts(Eigen::Index(r0), 0), 500);
    f.multiply(some, 256, 500, 1.0f, bias.data(), &parts(Eigen::Index(r0), 256), 500);
  }
  EXPECT_TRUE(whole == parts);
  // And the float product of the same rows with B itself differs by the rounding of B only.
  const MatrixF exact = (a * b).rowwise() + bias.transpose();
  EXPECT_LT((whole - exact).cwiseAbs().maxCoeff(), 0.5f * f.scale() * 784 + 1e-3f);
}

TEST(BinaryProduct, TransposedPackingEqualsPackingTheTranspose) {
  Stream rng = Stream::root(14);
  const MatrixF x = random_binary(rng, 71, 90, 0.5);
  for (auto [r0, nrows, c0, n] : {std::array<std::size_t, 4>{3, 30, 5, 40}, {0, 71, 0, 90}, {10, 7, 33, 1}}) {
    BinaryPairs direct, transposed;
    transposed.pack_transposed(x, r0, nrows, c0, n);
    const MatrixF xt = x.block(Eigen::Index(r0), Eigen::Index(c0), Eigen::Index(nrows), Eigen::Index(n)).transpose();
    direct.pack(xt, 0, n);
    EXPECT_EQ(transposed.rows, direct.rows);
    EXPECT_EQ(transposed.pairs, direct.pairs);
    EXPECT_EQ(transposed.words, direct.words) << r0 << " " << nrows << " " << c0 << " " << n;
  }
}

TEST(BinaryProduct, RowsThatAreNotZeroOrOneAreRefusedByName) {
  // In the 32-entry vector part and in the tail, in rows and in transposed columns.
  for (auto [r, i] : {std::pair<Eigen::Index, Eigen::Index>{2, 7}, {4, 68}}) {
    MatrixF x = MatrixF::Ones(6, 69);
    x(r, i) = 0.5f;
    BinaryPairs a;
    test::expect_error([&] { a.pack(x, 0, 6); }, Exit::usage,
                       fmt::format("binary product: entry ({}, {}) is 0.5, not 0 or 1", r, i));
    const MatrixF xt = x.transpose();
    test::expect_error([&] { a.pack_transposed(xt, 0, 69, 0, 6); }, Exit::usage,
                       fmt::format("binary product: entry ({}, {}) is 0.5, not 0 or 1", i, r));
  }
}

/// Whether two copies hold the same levels and scale.
bool same_levels(const FixedPointMatrix& x, const FixedPointMatrix& y) {
  if (x.rows() != y.rows() || x.cols() != y.cols() || x.scale() != y.scale()) return false;
  for (std::size_t i = 0; i < x.rows(); ++i)
    for (std::size_t j = 0; j < x.cols(); ++j)
      if (!same_bits(x.value(i, j), y.value(i, j))) return false;
  return true;
}

TEST(BinaryProduct, WeightsRoundedOnSeveralThreadsAreTheOneThreadCopies) {
  // W and Wᵀ of an RBM shape with partial panels and an odd dimension, rounded by blocks on
  // 2 and 3 threads, then again into the same storage (a trainer's next update): the
  // levels of FixedPointMatrix(W) and of FixedPointMatrix(Wᵀ), one scale.
  Stream rng = Stream::root(15);
  for (auto [nv, nh] : {std::pair<Eigen::Index, Eigen::Index>{784, 500}, {97, 33}, {5, 1}}) {
    FixedPointWeights rounded;
    for (int update = 0; update < 2; ++update) {
      const MatrixF w = random_real(rng, nv, nh, update ? 0.3 : 2.0);
      const FixedPointMatrix whole(w), transposed(MatrixF(w.transpose()));
      for (int threads : {1, 2, 3}) {
        ASSERT_TRUE(rounded.try_assign(w, Exec(threads)));
        EXPECT_TRUE(same_levels(rounded.w, whole)) << nv << "x" << nh << " on " << threads;
        EXPECT_TRUE(same_levels(rounded.wt, transposed)) << nv << "x" << nh << " on " << threads;
      }
    }
  }
  MatrixF bad = MatrixF::Ones(40, 20);
  bad(37, 3) = std::numeric_limits<float>::quiet_NaN();
  FixedPointWeights rounded;
  EXPECT_FALSE(rounded.try_assign(bad, Exec(2)));
  EXPECT_THROW(FixedPointWeights{bad}, Error);
}

TEST(BinaryProduct, ColumnsRoundedInBlocksWithAGivenScale) {
  // Probabilities with the scale of 1 known in advance, rounded a panel-aligned block at a
  // time: the levels round(p · 32767); a block that does not start at a panel is refused.
  Stream rng = Stream::root(16);
  MatrixF p = random_real(rng, 9, 70, 0.5);
  p.array() += 0.5f;
  FixedPointMatrix f;
  f.prepare(9, 70, 1.0f);
  f.assign_columns(p, 32, 70);
  f.assign_columns(p, 0, 32);
  EXPECT_EQ(f.scale(), 1.0f / 32767.0f);
  for (Eigen::Index i = 0; i < p.rows(); ++i)
    for (Eigen::Index j = 0; j < p.cols(); ++j)
      EXPECT_EQ(f.value(std::size_t(i), std::size_t(j)), f.scale() * std::nearbyint(p(i, j) * 32767.0f)) << i << " " << j;
  EXPECT_THROW(f.assign_columns(p, 8, 70), Error);
  EXPECT_THROW(f.assign_columns(p.leftCols(60), 0, 60), Error);
}

TEST(BinaryProduct, PackingOnSeveralThreadsNamesTheFirstBadEntry) {
  // 400 rows are several row blocks: the same words on 2 threads, and with bad entries in
  // two blocks the error names the first, as on one thread.
  Stream rng = Stream::root(17);
  MatrixF x = random_binary(rng, 400, 784, 0.3);
  BinaryPairs one, two;
  one.pack(x, 0, 400);
  two.pack(x, 0, 400, Exec(2));
  EXPECT_EQ(one.words, two.words);
  x(390, 5) = 2.0f;
  x(20, 700) = 0.5f;
  test::expect_error([&] { two.pack(x, 0, 400, Exec(2)); }, Exit::usage,
                     "binary product: entry (20, 700) is 0.5, not 0 or 1");
}

TEST(BinaryProduct, RefusesMismatchedOperands) {
  const FixedPointMatrix f(MatrixF::Ones(6, 40));
  BinaryPairs a;
  a.pack(MatrixF::Ones(2, 8), 0, 2);
  MatrixF out(2, 40);
  EXPECT_THROW(f.multiply<float>(a, 0, 40, 1.0f, nullptr, out.data(), 40), Error);
  a.pack(MatrixF::Ones(2, 6), 0, 2);
  EXPECT_THROW(f.multiply<float>(a, 8, 40, 1.0f, nullptr, out.data(), 40), Error);  // not a panel start
  EXPECT_THROW(f.multiply<float>(a, 16, 41, 1.0f, nullptr, out.data(), 40), Error);
}

}  // namespace
}  // namespace logz
