// The RBM model: energies by hand, free energies against brute-force sums over h,
// batched free energies against the scalar ones, validation messages.
#include "logz/models/rbm.hpp"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

RbmD two_by_two() {
  RbmD m(2, 2);
  m.weights << 1.0, -2.0,  //
      0.5, 3.0;
  m.visible_bias << 0.25, -1.0;
  m.hidden_bias << 2.0, -0.5;
  return m;
}

TEST(Rbm, ShapesAndCounts) {
  const RbmD m(5, 3);
  EXPECT_EQ(m.n_visible(), 5u);
  EXPECT_EQ(m.n_hidden(), 3u);
  EXPECT_EQ(m.num_parameters(), 5u * 3u + 5u + 3u);
  EXPECT_TRUE(m.weights.isZero());
  const RbmF f = two_by_two().cast<float>();
  EXPECT_EQ(f.weights(1, 1), 3.0f);
  EXPECT_EQ(f.visible_bias[0], 0.25f);
}

TEST(Rbm, EnergyByHand) {
  const RbmD m = two_by_two();
  VectorD v(2), h(2);
  // E(v, h) = -b·v - c·h - vᵀWh.
  v << 1, 0;
  h << 0, 0;
  EXPECT_DOUBLE_EQ(m.energy(v, h), -0.25);
  h << 1, 0;
  EXPECT_DOUBLE_EQ(m.energy(v, h), -0.25 - 2.0 - 1.0);
  v << 1, 1;
  h << 1, 1;
  // b·v = -0.75, c·h = 1.5, vᵀWh = 1 - 2 + 0.5 + 3 = 2.5.
  EXPECT_DOUBLE_EQ(m.energy(v, h), 0.75 - 1.5 - 2.5);
  v << 0, 1;
  h << 0, 1;
  EXPECT_DOUBLE_EQ(m.energy(v, h), 1.0 + 0.5 - 3.0);
  v << 0, 0;
  h << 0, 0;
  EXPECT_EQ(m.energy(v, h), 0.0);
  // F(v) for v = (1, 1): -b·v - softplus(2 + 1.5) - softplus(-0.5 + 1).
  v << 1, 1;
  EXPECT_NEAR(m.free_energy(v), 0.75 - std::log1p(std::exp(3.5)) - std::log1p(std::exp(0.5)), 1e-15);
}

TEST(Rbm, FreeEnergyIsMinusLogSumOverHidden) {
  for (double scale : {0.1, 1.0, 4.0}) {
    Stream rng = Stream::derive(1, Purpose::user, std::uint64_t(scale * 10));
    const RbmD m = test::random_rbm(rng, 6, 7, scale);
    for (std::uint64_t k = 0; k < 64; ++k) {
      VectorD v(6);
      for (int i = 0; i < 6; ++i) v[i] = double((k >> i) & 1);
      // Direct: sum over all 2^7 h of exp(-E(v, h)) with the library's energy.
      test::LogSumExpL acc;
      for (std::uint64_t hb = 0; hb < 128; ++hb) {
        VectorD h(7);
        for (int j = 0; j < 7; ++j) h[j] = double((hb >> j) & 1);
        acc.add(-m.energy(v, h));
      }
      const double brute = -double(acc.value()), indep = -double(test::brute_neg_free_energy(m, k));
      const double tol = 1e-13 * std::max(1.0, std::fabs(brute));
      EXPECT_NEAR(m.free_energy(v), brute, tol) << "scale " << scale << " v " << k;
      EXPECT_NEAR(m.free_energy(v), indep, tol) << "scale " << scale << " v " << k;
    }
  }
}

TEST(Rbm, BatchedFreeEnergiesEqualScalar) {
  Stream rng = Stream::derive(2, Purpose::user, 0);
  const RbmD md = test::random_rbm(rng, 40, 13, 0.7);
  const RbmF mf = md.cast<float>();
  MatrixU8 data(333, 40);
  for (Eigen::Index i = 0; i < data.size(); ++i) data.data()[i] = std::uint8_t(rng.below(2));
  const MatrixD data_d = data.cast<double>();
  for (int threads : {1, 2}) {
    const VectorD fd = free_energies(md, data, Exec(threads));
    const VectorD fd2 = free_energies(md, data_d, Exec(threads));
    const VectorD ff = free_energies(mf, data, Exec(threads));
    ASSERT_EQ(fd.size(), 333);
    ASSERT_EQ(ff.size(), 333);
    for (Eigen::Index r = 0; r < data.rows(); ++r) {
      const VectorD v = data_d.row(r).transpose();
      const double ref = md.free_energy(v);
      // Double model: the same sums in a different order (GEMM vs GEMV): a few ulps of
      // the magnitudes involved.
      double mag = 0;
      for (Eigen::Index j = 0; j < 13; ++j) mag += std::fabs(md.hidden_bias[j]) + md.weights.col(j).cwiseAbs().sum();
      mag += md.visible_bias.cwiseAbs().sum();
      EXPECT_NEAR(fd[r], ref, 64 * DBL_EPSILON * mag) << r;
      EXPECT_EQ(fd[r], fd2[r]) << r;
      // Float model: the pre-activations (c + vᵀW)_j are summed in float, each within
      // γ_41 Σ_i |terms| (Higham's bound, γ_n = n u / (1 - n u), u = 2^-24), and softplus is
      // 1-Lipschitz, so |ΔF| <= γ_41 Σ_j (|c_j| + Σ_i v_i |W_ij|) (<= γ_41 · mag).
      const double ref_f = mf.free_energy(v);
      const double u = 0x1p-24, gamma = 41 * u / (1 - 41 * u);
      EXPECT_NEAR(ff[r], ref_f, gamma * mag + 64 * DBL_EPSILON * mag) << r;
    }
  }
}

TEST(Rbm, FreeEnergiesRejectsWrongWidth) {
  const RbmD m(4, 2);
  const MatrixU8 data = MatrixU8::Zero(3, 5);
  try {
    free_energies(m, data, Exec(1));
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "free_energies: data has 5 columns, the model has 4 visible units");
    EXPECT_EQ(e.code(), Exit::usage);
  }
}

TEST(Rbm, RowBlocksDependOnRowCountOnly) {
  EXPECT_EQ(row_blocks(0).count(), 0u);
  EXPECT_EQ(row_blocks(1).count(), 1u);
  EXPECT_EQ(row_blocks(100).count(), 2u);
  for (std::size_t n : {1u, 49u, 50u, 100u, 257u, 1000u, 10000u}) {
    const Blocks b = row_blocks(n);
    EXPECT_LE(b.block, 256u) << n;
    EXPECT_EQ(b.end(b.count() - 1), n);
  }
}

std::string validate_message(const RbmD& m) {
  try {
    m.validate("load model.npz");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::data);
    return e.what();
  }
  return "(no error)";
}

TEST(Rbm, ValidateMessages) {
  RbmD ok(3, 2);
  EXPECT_EQ(validate_message(ok), "(no error)");

  RbmD empty;
  EXPECT_EQ(validate_message(empty), "load model.npz: weights must be non-empty, got shape (0, 0)");

  RbmD vb = ok;
  vb.visible_bias = VectorD::Zero(4);
  EXPECT_EQ(validate_message(vb), "load model.npz: visible_bias has 4 entries but weights has 3 rows (n_visible)");

  RbmD hb = ok;
  hb.hidden_bias = VectorD::Zero(1);
  EXPECT_EQ(validate_message(hb), "load model.npz: hidden_bias has 1 entries but weights has 2 columns (n_hidden)");

  RbmD nan_w = ok;
  nan_w.weights(1, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(validate_message(nan_w), "load model.npz: weights has a non-finite value nan at flat index 2");

  RbmD inf_b = ok;
  inf_b.visible_bias[2] = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(validate_message(inf_b), "load model.npz: visible_bias has a non-finite value -inf at flat index 2");

  RbmD nan_c = ok;
  nan_c.hidden_bias[0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(validate_message(nan_c), "load model.npz: hidden_bias has a non-finite value nan at flat index 0");
}

}  // namespace
}  // namespace logz
