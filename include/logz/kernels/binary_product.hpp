#pragma once
/// @file binary_product.hpp
/// Products of 0/1 matrices with a 16-bit fixed-point copy of a real matrix B [k, n]:
///   A B ≈ s · (A B_q),  B_q = round(B / s) ∈ [−32767, 32767],  s = max|B| / 32767,
/// with the sums A B_q taken in exact 32-bit integer arithmetic (|A B_q| ≤ k · 32767).
///
/// Why: a binary RBM's Gibbs sweeps multiply 0/1 states by W. With AVX-512 VNNI one
/// vpdpwssd does 32 multiply-adds of 16-bit integers where one float FMA does 16, so the
/// product runs at up to twice the float rate (the float GEMM is what bounds the sweep,
/// bench/RESULTS.md); and integer sums do not depend on their order, so the result is the
/// same bits for any blocking, thread count or instruction set (the portable loop gives
/// the VNNI kernel's bits). The rounding of B (at most s/2 an entry) makes s·B_q a nearby
/// model, not the same one: callers use it only where any model serves as long as every
/// use agrees, such as the intermediate distributions of an annealing path (Neal 2001:
/// AIS is unbiased for any intermediate distributions whose moves leave them invariant;
/// tempering/rbm_path.hpp keeps the endpoint exact).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"

namespace logz {

/// Whether this build has the AVX-512 VNNI kernel. Without it the products run a portable
/// loop (the same bits, slower than Eigen's float product), so callers choose them by
/// default only when this is true.
bool binary_products_are_fast();

/// 0/1 rows packed two entries to a 32-bit word (16-bit integers, entry 2p low, 2p+1
/// high): the left operand of FixedPointMatrix::multiply.
struct BinaryPairs {
  std::size_t rows = 0, pairs = 0;
  std::vector<std::int32_t> words;  ///< [row][pair]

  /// Packs rows [r0, r0 + n) of a 0/1 matrix. Throws Error(Exit::usage) naming the first
  /// entry that is neither 0 nor 1.
  void pack(const MatrixF& x, std::size_t r0, std::size_t n);
  /// The same, blocks of rows spread over ex's threads (the error names the entry the
  /// one-thread call names).
  void pack(const MatrixF& x, std::size_t r0, std::size_t n, const Exec& ex);
  /// Packs the transpose: row c of the result is column c0 + c of x, over x's rows
  /// [r0, r0 + nrows), for c < n (the left operand of a product such as xᵀ P).
  void pack_transposed(const MatrixF& x, std::size_t r0, std::size_t nrows, std::size_t c0, std::size_t n);
  const std::int32_t* row(std::size_t r) const { return words.data() + r * pairs; }

 private:
  /// Rows [first, last) of this object from rows r0 + first ... of x.
  void pack_rows(const MatrixF& x, std::size_t r0, std::size_t first, std::size_t last);
};

class FixedPointMatrix {
 public:
  /// Columns per panel of the packed copy: one 512-bit register of 32-bit sums.
  static constexpr std::size_t panel = 16;

  FixedPointMatrix() = default;
  /// B_q and s from B [k, n]; s = 1 when B is all zeros. Throws Error(Exit::usage) when
  /// B has a non-finite entry.
  explicit FixedPointMatrix(const Eigen::Ref<const MatrixF>& b);

  /// In parts, reusing this object's storage (a trainer re-rounds at every update) and so
  /// that blocks of columns can be rounded on several threads: sizes for a [k, n] matrix
  /// and s = top / 32767, where top ≥ max|B| (1 for probabilities) ...
  void prepare(std::size_t k, std::size_t n, float top);
  /// ... then columns [j0, j1) of B (j0 at a panel), each block once.
  void assign_columns(const Eigen::Ref<const MatrixF>& b, std::size_t j0, std::size_t j1);
  /// ... or of B = aᵀ: rows [j0, j1) of a [n, k].
  void assign_columns_transposed(const Eigen::Ref<const MatrixF>& a, std::size_t j0, std::size_t j1);

  std::size_t rows() const { return k_; }
  std::size_t cols() const { return n_; }
  float scale() const { return scale_; }
  /// The value the products use for B(i, j): s · B_q(i, j).
  float value(std::size_t i, std::size_t j) const;

  /// out[r · ld + (j − j0)] = fma(T(Σ_i a(r, i) B_q(i, j)), T(s) · alpha, bias[j]) for
  /// r < a.rows and j in [j0, j1), T float or double; bias may be null (zero); with
  /// `accumulate` the addend is the output's own value instead of bias. j0 must be a
  /// multiple of `panel`. The sum is exact and the rounding is one fused multiply-add, so
  /// every blocking of rows and columns gives the same bits.
  template <class T>
  void multiply(const BinaryPairs& a, std::size_t j0, std::size_t j1, T alpha, const T* bias, T* out, std::size_t ld,
                bool accumulate = false) const;
  /// The same with the portable loop that builds without AVX-512 VNNI run (public so that
  /// tests hold it to the kernel's bits).
  template <class T>
  void multiply_portable(const BinaryPairs& a, std::size_t j0, std::size_t j1, T alpha, const T* bias, T* out,
                         std::size_t ld, bool accumulate = false) const;

 private:
  /// Error(Exit::usage) unless `a` has this matrix's rows and [j0, j1) starts at a panel.
  void check_operands(const BinaryPairs& a, std::size_t j0, std::size_t j1) const;

  std::size_t k_ = 0, n_ = 0, pairs_ = 0, panels_ = 0;
  float scale_ = 1;
  std::vector<std::int32_t> packed_;  ///< [panel][pair][16 columns], pairs as in BinaryPairs
};

/// max |b| over b's entries, or NaN when one is not finite.
float largest_magnitude(const Eigen::Ref<const MatrixF>& b);

/// An RBM's W [n_v, n_h] and Wᵀ in fixed point (one scale): the two products of a
/// block-Gibbs sweep, shared by the copies of a path that run blocks of particles.
struct FixedPointWeights {
  FixedPointMatrix w, wt;
  FixedPointWeights() = default;
  /// Throws Error(Exit::usage) when W has a non-finite entry.
  explicit FixedPointWeights(const MatrixF& weights);
  /// Rounds W and Wᵀ (a trainer does at every update), blocks of rows and columns spread
  /// over ex's threads (the bits do not depend on how); false, and this object unusable,
  /// when W has a non-finite entry.
  bool try_assign(const MatrixF& weights, const Exec& ex);
};

/// The blocks of `b` grown to whole panels, so that every block starts at a panel: how a
/// product split by output columns runs on a FixedPointMatrix.
inline Blocks panel_blocks(Blocks b) {
  constexpr std::size_t p = FixedPointMatrix::panel;
  return Blocks{b.n, std::max<std::size_t>(p, (b.block + p - 1) / p * p)};
}

}  // namespace logz
