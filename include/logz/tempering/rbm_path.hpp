#pragma once
/// @file rbm_path.hpp
/// The RBM annealing path of Salakhutdinov & Murray (2008), "On the quantitative
/// analysis of deep belief networks", ICML: a base-rate model A (visible biases a, no
/// couplings) annealed into the RBM by scaling its weights:
///   f_β(v) = exp(((1-β) a + β b)·v) Π_j (1 + exp(β (c + vᵀW)_j)),
///   log Z_0 = Σ_i softplus(a_i) + n_h log 2.
/// f_1 = exp(-F(v)); p_0 is a product of Bernoullis with exact draws.
#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include <span>
#include <string_view>

#include "logz/core/math.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/kernels/binary_product.hpp"
#include "logz/kernels/rbm_gibbs.hpp"
#include "logz/models/rbm.hpp"
#include "logz/tempering/path.hpp"

namespace logz {

template <class T>
struct RbmPath {
  const Rbm<T>& model;
  Vector<T> base_bias;  ///< a: visible biases of the base-rate model

  RbmPath(const Rbm<T>& m, Vector<T> a) : model(m), base_bias(std::move(a)) {
    check_arg(std::size_t(base_bias.size()) == m.n_visible(), "RbmPath: base visible biases have {} entries, the model has {} visible units",
              base_bias.size(), m.n_visible());
    for (Eigen::Index i = 0; i < base_bias.size(); ++i)
      check_arg(std::isfinite(double(base_bias[i])), "RbmPath: base visible bias {} is not finite", i);
  }

  double log_z_base() const {
    double s = double(model.n_hidden()) * std::numbers::ln2;
    for (Eigen::Index i = 0; i < base_bias.size(); ++i) s += softplus(double(base_bias[i]));
    return s;
  }
  /// (1-β) a + β b.
  Vector<T> visible_bias_at(double beta) const {
    return (T(1 - beta) * base_bias + T(beta) * model.visible_bias).eval();
  }
};

/// The RBM path as an AnnealingPath (tempering/path.hpp) over the visible units: particles
/// are the rows of a float matrix of 0/1 visible vectors, the move at β is one block-Gibbs
/// sweep h ~ p_β(h | v), v ~ p_β(v | h) (which leaves the v-marginal of p_β invariant and
/// is reversible), and log f_β(v) = ((1-β) a + β b)·v + Σ_j softplus(β (c + vᵀW)_j) + const.
/// Matrix products are split by output columns (column_blocks), each block packing only
/// its slice of W. A move draws n_h + n_v words from each particle's stream: the hidden
/// unit j from word j and the visible unit i from word n_h + i after the stream's position,
/// whichever thread does it; the streams then move past those words. `advance` shares the
/// product V W between the weight increment and the hidden draw.
///
/// Products: with RbmProducts::fixed_point (the default where the build has AVX-512 VNNI)
/// the distributions at 0 < β < 1 are those of the nearby RBM whose weights are W in
/// 16-bit fixed point (kernels/binary_product.hpp: twice the float product's rate, exact
/// integer sums), and β = 1 is the model itself, from float products of W. Annealing
/// estimators are unbiased for any intermediate distributions their moves leave invariant
/// (Neal 2001), so AIS, RAISE, SMC, bridge and linked IS still estimate the model's own
/// log Z: the last step's increment log f_1 − log f_{β_{K−1}} carries the difference
/// (standard deviation 9e-4 nats over test rows for a 784 × 500 RBM whose max |W| is 1,
/// growing with max |W|). Thermodynamic integration
/// differentiates along β and needs one path throughout: it takes RbmProducts::exact.
/// The path keeps working memory (mutable): one estimator at a time may use it.
enum class RbmProducts { exact, fixed_point };

class RbmAnnealingPath {
 public:
  using Particles = MatrixF;

  RbmAnnealingPath(const RbmF& model, const VectorF& base_bias, RbmProducts products = default_products());
  /// Fixed point where this build has the fast kernel (binary_products_are_fast), else exact.
  static RbmProducts default_products() {
    return binary_products_are_fast() ? RbmProducts::fixed_point : RbmProducts::exact;
  }
  /// The products an estimator method runs with: exact for thermodynamic integration
  /// ("ti"), else the default.
  static RbmProducts products_for(std::string_view method) {
    return method == "ti" ? RbmProducts::exact : default_products();
  }

  double log_z_base() const { return path_.log_z_base(); }
  std::size_t dimension() const { return m_.n_visible(); }
  const RbmF& model() const { return m_; }
  /// Particles move independently, so the population runs in blocks of particles
  /// (BlockwisePath), each block through every step in one task: no parallel region per
  /// step, which is what a thread paused by a busy machine stalls. Every block packs W
  /// for its own products at every step, so blocks are few and large. A model whose
  /// hidden layer is a single column block (fewer than 64 units) runs in four blocks of
  /// 16 to 256 particles (measured: 15 blocks of 7 particles took 2.1x the CPU time of the
  /// whole population). A wider model runs in a power of two of blocks of at least
  /// wide_block_rows particles (measured on 784x500 with 100 particles: 2 blocks of 50 cost
  /// 0-5% at 1 thread; with one busy competitor 2 threads took 0.79x of 1, where the
  /// per-step column split took 1.1x); a population under 2 x wide_block_rows splits each
  /// step's products by output columns instead (0: no blocks).
  static constexpr std::size_t wide_block_rows = 50;
  std::size_t particle_block(std::size_t n) const;

  void draw_base(const Exec& ex, Particles& x, std::span<Stream> streams) const;
  void log_ratio(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> out) const;
  void dlog_f(const Exec& ex, const Particles& x, double beta, std::span<double> out) const;
  MoveInfo move(const Exec& ex, Particles& x, double beta, std::span<Stream> streams) const;
  MoveInfo advance(const Exec& ex, Particles& x, double b0, double b1, std::span<double> log_w,
                   std::span<Stream> streams, bool move) const;

 private:
  /// pre_h = X W + c (X W_q s + c when `fixed`); then per row r: out[r] = weight(r) (if
  /// out), and h ~ σ(β_h pre_h) (if sample_h) from the words [0, n_h) of each stream.
  template <class RowTerm>
  void hidden_pass(const Exec& ex, const Particles& x, std::span<double> out, RowTerm&& row_term, const Stream* streams,
                   double beta_h, bool fixed) const;
  /// out[r] = log f_b1(x_r) − log f_b0(x_r) less the visible term (b1 − b0)(b − a)·x_r
  /// (out may be empty), and h ~ p_b1(h | x) when `streams` is given.
  void weight_increment(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> out,
                        const Stream* streams) const;
  /// x ~ p_β(v | h) from the words [n_h, n_h + n_v) of each stream, then every stream moves
  /// past the n_h + n_v words of the sweep.
  void visible_pass(const Exec& ex, Particles& x, double beta, std::span<Stream> streams, bool fixed) const;
  /// Whether the distribution at β is the fixed-point model's.
  bool fixed_at(double beta) const { return fixed_ && beta < 1.0; }

  const RbmF& m_;
  RbmPath<float> path_;
  VectorD diff_;  // b − a
  Blocks hid_, vis_;
  Blocks hid_fixed_, vis_fixed_;  // column blocks starting at whole panels of 16
  std::shared_ptr<const FixedPointWeights> fixed_;  // null: float products at every β
  mutable BinaryPairs pairs_;
  mutable MatrixF pre_h_, h_;
  mutable std::vector<double> partial_;  // [particle][hidden block] sums
  mutable std::vector<GibbsScratch<float>> scratch_;
};

/// Base-rate visible biases from data marginals with Salakhutdinov & Murray's smoothing:
/// a_i = logit((count_i + 0.05 N) / (1.05 N)).
inline VectorD base_rate_bias(const MatrixU8& data) {
  check_arg(data.rows() > 0, "base_rate_bias: data has no rows");
  const double n = double(data.rows());
  // Counts row by row: the data are row-major (a column walk misses the cache).
  std::vector<double> count(std::size_t(data.cols()), 0.0);
  for (Eigen::Index r = 0; r < data.rows(); ++r)
    for (Eigen::Index i = 0; i < data.cols(); ++i) count[std::size_t(i)] += data(r, i);
  VectorD a(data.cols());
  for (Eigen::Index i = 0; i < data.cols(); ++i) {
    const double p = (count[std::size_t(i)] + 0.05 * n) / (1.05 * n);
    a[i] = std::log(p) - std::log1p(-p);
  }
  return a;
}

}  // namespace logz
