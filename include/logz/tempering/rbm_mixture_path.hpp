#pragma once
/// @file rbm_mixture_path.hpp
/// The RBM annealing path from a mixture of product-Bernoulli bases, one per mode of the
/// hidden layer (exact/rbm_modes.hpp). With the component k as an auxiliary variable,
///   f_β(v, h, k) = K^{−β} (π_k q_k(v))^{1−β} exp(β (b·v + c·h + vᵀW h)),
/// q_k(v) = Π_i Bernoulli(v_i; σ(L_ki)) with L_k = b + W h_k (the mode's own p(v | h_k)) and
/// π_k ∝ p~(h_k): a geometric path in (v, h, k) (Neal 2001) from Σ_k π_k q_k(v) × uniform h
/// (log Z_0 = n_h log 2) to the RBM (f_1 summed over k is exp(−F(v))). Summed over h and k,
///   log f_β(v) = −β log K + LSE_k((1−β) ℓ_k(v)) + β b·v + Σ_j softplus(β (c + vᵀW)_j),
///   ℓ_k(v) = log π_k + L_k·v − Σ_i softplus(L_ki).
/// The move at β is a Gibbs sweep of the blocks k ~ p_β(k | v), h ~ p_β(h | v) (independent
/// given v), v ~ p_β(v | h, k) = Π_i Bernoulli(σ((1−β) L_ki + β (b + W h)_i)); k is drawn
/// afresh every sweep, so a particle is its visible vector alone.
///
/// Why: a sharp trained RBM keeps its mass in a few hidden states that block-Gibbs chains
/// cannot move between. A single product base (the modes' average) sends every chain into
/// whichever mode the path makes reachable first, and AIS, SMC and bridge sampling then
/// agree on a log Z that misses the others; this base starts the chains in every mode by
/// its exact mass (the hard-model suite, docs/error-bars.md).
///
/// Particle r draws from its own stream (draw: 1 + n_v uniforms; move: 1 + n_h + n_v),
/// and rows are processed in blocks fixed by the number of particles, so results do not
/// depend on the thread count.
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/exact/rbm_modes.hpp"
#include "logz/kernels/binary_product.hpp"
#include "logz/models/rbm.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/rbm_path.hpp"

namespace logz {

class RbmModeMixturePath {
 public:
  using Particles = MatrixF;

  /// Components: the best modes of `modes` (hidden-layer modes), at most max_components,
  /// dropping those under 1e-12 of the best one's mass. Throws Error(Exit::usage) when
  /// the modes are of the visible layer or there are none. `products` as for the weight
  /// path (tempering/rbm_path.hpp): with fixed_point the distributions at β < 1 take W
  /// rounded to 16-bit fixed point (their v W + c from exact integer sums, in double), and
  /// β = 1 is the model itself in double.
  RbmModeMixturePath(const RbmD& model, const RbmModes& modes,
                     RbmProducts products = RbmAnnealingPath::default_products());

  /// Components kept at most: each costs a product with the particles' visible vectors per step.
  static constexpr std::size_t max_components = 16;
  /// How many of the (best-first) modes the path keeps: at most max_components, those
  /// within a factor 1e-12 of the best one's mass.
  static std::size_t components_of(const RbmModes& modes);

  double log_z_base() const;
  std::size_t dimension() const { return std::size_t(m_.n_visible()); }
  std::size_t components() const { return std::size_t(logits_.rows()); }

  /// Particles move independently and every row's products are its own, so the
  /// population runs in its row blocks (BlockwisePath), each through every step in one
  /// task; one row block (fewer than 100 particles) keeps the per-step region (0).
  std::size_t particle_block(std::size_t n) const {
    const Blocks b = row_blocks(n);
    return b.count() > 1 ? b.block : 0;
  }

  void draw_base(const Exec& ex, Particles& x, std::span<Stream> streams) const;
  void log_ratio(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> out) const;
  void dlog_f(const Exec& ex, const Particles& x, double beta, std::span<double> out) const;
  MoveInfo move(const Exec& ex, Particles& x, double beta, std::span<Stream> streams) const;
  /// The increment log f_{b1} − log f_{b0} into log_w (when not empty), then, if `move`,
  /// the sweep at b1, sharing one pass of products over the particles.
  MoveInfo advance(const Exec& ex, Particles& x, double b0, double b1, std::span<double> log_w,
                   std::span<Stream> streams, bool move) const;

 private:
  /// The per-row products of a block of particles, in double (the log-weights of a sharp
  /// model are thousands of nats, and its error bars can be 1e-5: float sums of 784 terms
  /// would leave a bias of 1e-4): pre_h = v W + c, and ell(r, k) = L_k·v_r for k < K and
  /// ell(r, K) = b·v_r, as sums of the rows of W and of [L; bᵀ]ᵀ over the units that are
  /// on (v is 0/1), in unit order.
  struct Terms {
    MatrixD pre_h, ell;
  };
  void terms(const Particles& x, Eigen::Index r0, Eigen::Index n, Terms& t, bool fixed) const;
  bool fixed_at(double beta) const { return fixed_ && beta < 1.0; }

  const RbmD& m_;
  MatrixF weights_;       ///< W in float, [n_v, n_h], for the visible draw's product
  MatrixF logits_;        ///< L, [K, n_v]
  MatrixD products_;      ///< [L; bᵀ]ᵀ, [n_v, K + 1]: row i is what unit i adds to ell
  VectorF visible_bias_;
  VectorD log_mix_;       ///< log π_k − Σ_i softplus(L_ki)
  std::vector<double> cumulative_;  ///< of π, for drawing k at β = 0
  std::shared_ptr<const FixedPointWeights> fixed_;  ///< null: exact products at every β
};

}  // namespace logz
