#pragma once
/// @file rbm_tempered_chains.hpp
/// The negative phase of parallel-tempering training of a binary RBM (Desjardins,
/// Courville, Bengio, Vincent & Delalleau 2010, "Tempered Markov chain Monte Carlo for
/// training of restricted Boltzmann machines", AISTATS; Salakhutdinov 2009): every
/// persistent chain of PCD becomes a ladder of R replicas at β_0 < ... < β_{R-1} = 1 of
///   p_β(v, h) ∝ exp(((1-β) a + β b)·v + β (c·h + vᵀ W h)),
/// the RBM annealing path of tempering/rbm_path.hpp from a base of independent visible
/// units with biases a (the data's base rate) to the model (β = 1). Replicas at low β
/// mix freely (β = 0 draws the base exactly) and hand their states up the ladder by
/// swaps, so the β = 1 replicas, the negative phase, do not stay stuck in a mode that
/// the learning has left.
///
/// One advance(): every replica makes k block-Gibbs sweeps at its β, then each ladder
/// proposes swaps of adjacent pairs, the even pairs (0,1), (2,3), ... on even updates and
/// the odd pairs on odd ones (Lingenheil et al. 2009), each accepted with probability
///   min(1, exp([log f_{k+1}(x_k) − log f_k(x_k)] − [log f_{k+1}(x_{k+1}) − log f_k(x_{k+1})])),
/// log f_β(v) = ((1-β) a + β b)·v + Σ_j softplus(β (c + vᵀW)_j) the v-marginal of p_β up to
/// a constant (a non-finite exponent is a rejection). Moves and swaps leave Π_k p_{β_k}
/// invariant, so the β = 1 replicas sample the model (tests/objectives).
///
/// Streams, from the update's stream u: replica r of chain c moves with
/// u.derive(Purpose::gibbs, r·C + c) (C chains); chain c's swaps draw one uniform per
/// proposed pair, in pair order, from u.derive(Purpose::chains, c). Rows are moved in
/// blocks fixed by the chain count, so the bits do not depend on the thread count.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/rbm.hpp"

namespace logz {

/// The default ladder of R >= 2 replicas: β_r = 1 − (1 − r / (R − 1))^{3/2}, from the base
/// (β = 0, exact independent draws) to the model (β = 1), a little denser near β = 1
/// where the model is sharpest: on Fashion-MNIST RBMs it keeps the swap rates of all
/// pairs within a factor of about 2 of each other, where an even spacing starves the top
/// pair and a quadratic one the bottom pairs (docs/training-pt.md).
std::vector<double> default_tempering_ladder(std::size_t replicas);

/// Throws Error(Exit::usage) "<who>: ..." unless `betas` has at least 2 entries, finite,
/// in [0, 1], strictly increasing, the last exactly 1.
void check_tempering_ladder(const char* who, const std::vector<double>& betas);

class RbmTemperedChains {
 public:
  /// `replicas[r]` holds the C chain states at betas[r] (rows, 0/1, n_visible columns);
  /// `base_bias` is a (n_visible entries, finite). Throws Error(Exit::usage) naming the
  /// constructor on a bad ladder, mismatched shapes or a non-finite base bias.
  RbmTemperedChains(std::vector<double> betas, VectorF base_bias, std::vector<MatrixF> replicas);
  /// Every replica of chain c starts at row c of `starts`.
  static RbmTemperedChains from_starts(std::vector<double> betas, VectorF base_bias, const MatrixF& starts);

  const std::vector<double>& betas() const { return betas_; }
  const VectorF& base_bias() const { return base_bias_; }
  std::size_t num_replicas() const { return betas_.size(); }
  std::size_t num_chains() const { return std::size_t(replicas_.front().rows()); }
  /// The states at betas()[r], one chain per row.
  const MatrixF& replicas(std::size_t r) const { return replicas_[r]; }
  /// The β = 1 states: the negative phase.
  const MatrixF& model_chains() const { return replicas_.back(); }

  /// k block-Gibbs sweeps of every replica under `model`, then the swaps of the pairs of
  /// update `update`'s parity (file comment). Throws Error(Exit::usage) on a model whose
  /// visible units do not match the chains.
  void advance(const RbmF& model, std::size_t k, const Stream& update_stream, std::uint64_t update, const Exec& ex);

  /// Per adjacent pair (r, r+1): swaps proposed and accepted since the last reset.
  const std::vector<std::uint64_t>& swap_attempts() const { return attempts_; }
  const std::vector<std::uint64_t>& swaps_accepted() const { return accepted_; }
  /// accepted / proposed per pair (NaN for a pair not proposed yet).
  std::vector<double> swap_rates() const;
  void reset_swap_counts();

 private:
  std::vector<double> betas_;
  VectorF base_bias_;
  std::vector<MatrixF> replicas_;
  std::vector<std::uint64_t> attempts_, accepted_;
  // Per replica and chain: log f_{β_{r+1}}(x) − log f_{β_r}(x) and log f_{β_r}(x) − log f_{β_{r−1}}(x).
  std::vector<std::vector<double>> up_, down_;
};

}  // namespace logz
