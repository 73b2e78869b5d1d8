#pragma once
/// @file contrastive_divergence.hpp
/// Contrastive divergence CD-k (Hinton 2002, "Training products of experts by
/// minimizing contrastive divergence") and persistent CD / stochastic maximum likelihood
/// PCD-k (Tieleman 2008; Younes 1989) for binary RBMs. The negative-phase chains live
/// here, in the objective's state, never inside the model.
///
/// Likelihood gradient estimate (ascent direction), with B data rows v0 and C chain rows vk:
///   ∇W = v0ᵀ σ(v0 W + c) / B − vkᵀ σ(vk W + c) / C,
///   ∇b = mean(v0) − mean(vk),   ∇c = mean σ(v0 W + c) − mean σ(vk W + c).
#include <cstddef>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/kernels/binary_product.hpp"
#include "logz/kernels/rbm_gibbs.hpp"
#include "logz/models/rbm.hpp"

namespace logz {

struct CdParams {
  std::size_t k = 1;        ///< Gibbs sweeps per update
  bool persistent = false;  ///< PCD: chains carry over between updates
  /// Products in 16-bit fixed point (kernels/binary_product.hpp): W and Wᵀ rounded at
  /// every update to 2^-15 of max |W|, the hidden probabilities to 2^-15, times the
  /// 0/1 states in exact integer sums; the default where the build has the fast kernel.
  /// The rounding (≤ 1.5e-5 of max |W| an entry) is far below the gradient's sampling
  /// noise; float products otherwise.
  bool fixed_point = binary_products_are_fast();
  CdParams(std::size_t k_, bool persistent_) : k(k_), persistent(persistent_) {
    check_arg(k >= 1, "CdParams: k must be >= 1, got {}", k);
  }
};

/// A gradient step's by-products: what the monitors can read for free.
struct CdInfo {
  std::size_t chain_rows = 0;
};

class ContrastiveDivergence {
 public:
  /// For PCD, `chains` is the persistent chain state (rows = number of chains).
  ContrastiveDivergence(CdParams params, MatrixF chains = {}) : params_(params), chains_(std::move(chains)) {
    check_arg(!params_.persistent || chains_.rows() > 0, "ContrastiveDivergence: PCD needs at least one persistent chain");
  }

  const CdParams& params() const { return params_; }
  const MatrixF& chains() const { return chains_; }

  /// One update's negative phase and gradient, then the SGD-with-momentum step
  ///   vel ← momentum·vel + lr·(∇ − weight_decay·W) (no decay on biases),  θ ← θ + vel,
  /// fused so that each block of rows of W is updated as soon as its gradient is known.
  /// Chain r draws from stream.derive(Purpose::gibbs, r): sweep s takes words
  /// [s (n_h + n_v), s (n_h + n_v) + n_h) for h and the next n_v for v.
  CdInfo step(RbmF& m, const MatrixF& v0, const Stream& stream, double lr, double momentum, double weight_decay,
              RbmF& velocity, const Exec& ex);

  /// The same update with the negative phase given: `vk` holds the chain states (rows),
  /// used as they are (no Gibbs sweep, no persistent state touched). Parallel tempering
  /// (objectives/rbm_tempered_chains.hpp) passes its β = 1 replicas here.
  CdInfo step_with_negatives(RbmF& m, const MatrixF& v0, const MatrixF& vk, double lr, double momentum,
                             double weight_decay, RbmF& velocity, const Exec& ex);

 private:
  /// The fused gradient and momentum step on stacked_v_ = [v0; vk] (B + C rows), whose
  /// hidden pre-activations are already in rows [0, first) of stacked_p_. With fixed-point
  /// products (fixed_now_), w_fixed_.w must hold the current W.
  void fused_update(RbmF& m, Eigen::Index B, Eigen::Index C, Eigen::Index first, double lr, double momentum,
                    double weight_decay, RbmF& velocity, const Exec& ex);
  /// With fixed-point products, rows [r0, r0 + n) of x into rows_ for hidden_preactivations.
  void pack_rows(const MatrixF& x, Eigen::Index r0, Eigen::Index n, const Exec& ex);
  /// Columns [j0, j0 + w) of (rows [r0, r0 + n) of x) W + c into out (row stride ld), in
  /// fixed point from rows_ (pack_rows first) or in float: one column block's task.
  void hidden_preactivations(const RbmF& m, const MatrixF& x, Eigen::Index r0, Eigen::Index n, std::size_t j0,
                             std::size_t w, float* out, std::size_t ld) const;

  CdParams params_;
  MatrixF chains_;
  // Buffers reused across updates.
  MatrixF stacked_v_, stacked_p_, chain_h_;
  std::vector<GibbsScratch<float>> scratch_;  // one per column block
  // Fixed-point operands, rebuilt at every update: W, Wᵀ, the hidden probabilities of the
  // data and of the chains; the 0/1 rows of the current product; per visible block, the
  // transposed data and chain states of the gradient.
  FixedPointWeights w_fixed_;
  FixedPointMatrix p_data_, p_chains_;
  bool fixed_now_ = false;  // this update's products: fixed point unless W is not finite
  BinaryPairs rows_;
  std::vector<BinaryPairs> grad_rows_;
  MatrixF grad_;  // ∇W, when its blocks are spread over the ranks
};

}  // namespace logz
