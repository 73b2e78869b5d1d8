#pragma once
/// @file potts_pcd.hpp
/// Maximum-likelihood fits of Potts models by persistent contrastive divergence
/// (Boltzmann learning: Ackley, Hinton & Sejnowski 1985; stochastic approximation:
/// Younes 1989; persistent chains: Tieleman 2008; for protein families, "bmDCA":
/// Figliuzzi, Barrat-Charlaix & Weigt 2018). docs/potts-pcd.md.
///
/// The objective is the pseudolikelihood's (pseudolikelihood.hpp) with the full
/// likelihood in place of the pseudolikelihood, so λh and λe mean the same thing:
///   f(h, J) = -Σ_s w_s log p(x_s) + λh Σ_i ‖h_i‖² + λe Σ_{(i,j)} ‖J_ij‖²_F,
/// and the fit descends f / W, W = Σ_s w_s (the mean weighted log-likelihood plus the
/// penalty divided by W, so the learning rate does not depend on the data's size):
///   ∂(f/W)/∂h_i(a)    = p_θ(x_i = a) − f_i(a) + 2 λh h_i(a) / W,
///   ∂(f/W)/∂J_ij(a,b) = p_θ(x_i = a, x_j = b) − f_ij(a, b) + 2 λe J_ij(a, b) / W,
/// with f_i, f_ij the weighted site and pair frequencies of the data and p_θ's marginals
/// estimated by persistent chains: each update advances every chain by `sweeps`
/// systematic PottsGibbs sweeps (or one parallel-tempering step whose replicas do
/// `sweeps` sweeps each, the β = 1 replica giving the moments), then takes one momentum
/// SGD step (IsingSgdParams).
///
/// Absent sites (state q, e.g. gaps not modelled): a sequence's absent sites are left out
/// of the counts, and every frequency is normalised by the weight of the sequences where
/// its site (or both sites of its pair) is present ("available-case" frequencies). With
/// no absent site this is exactly maximum likelihood; with absent sites it is the model
/// whose marginals match the available-case frequencies, which is not the maximum of the
/// observed-data likelihood (that would need chains clamped at each sequence's present
/// sites). A site, or a pair of coupled sites, that is never present in a sequence of
/// positive weight has no data and is an error.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/kernels/potts_gibbs.hpp"
#include "logz/models/potts.hpp"
#include "logz/objectives/ising_ml.hpp"
#include "logz/objectives/pseudolikelihood.hpp"
#include "logz/tempering/parallel_tempering.hpp"

namespace logz {

/// Site and pair frequencies (of data or of chains) on a graph, in the layout of
/// Potts::parameters(): site(i, a) = f_i(a); edge[e·q² + a·q + b] = f_ij(a, b) for edge
/// e = (i, j).
struct PottsMoments {
  MatrixD site;  ///< L × q
  VectorD edge;  ///< one row-major q×q block per edge
};

/// Weighted available-case frequencies of `data` on `edges` (see the file comment),
/// edge by edge over fixed blocks of edges: bit-identical for any thread count.
/// Throws Error(Exit::data) on malformed data (the checks of check_potts_data), or a site
/// or an edge's pair never present in a sequence of positive weight; Error(Exit::usage)
/// on an edge whose site is beyond the data's.
PottsMoments potts_data_moments(const PottsData& data, const std::vector<PottsEdge>& edges, const Exec& exec);

/// The gradient of f / W (file comment) in the layout of Potts::parameters(): chain −
/// data moments + 2 λ θ / W. Throws Error(Exit::usage) if the moments do not fit the
/// model, on a negative or non-finite λ, or on total_weight <= 0.
VectorD potts_pcd_gradient(const Potts& model, const PottsMoments& data, const PottsMoments& chains, double lambda_h,
                           double lambda_e, double total_weight);

/// The persistent chains of a Potts PCD fit: `chains` single Gibbs chains, or as many
/// parallel-tempering ladders over `betas` (the last β is 1). advance(model, stream, ex)
/// moves chain c with stream.derive(Purpose::gibbs, c) — a kernel step of `sweeps`
/// systematic sweeps, or one ParallelTempering step with that many sweeps per replica —
/// over blocks of chains fixed by the problem size (about 2^16 conditional-energy terms
/// each): the chains are the same for any thread count.
class PottsPcdChains {
 public:
  using Ladder = ParallelTempering<SystematicPottsGibbs>;

  /// Chain c starts with site i drawn from p(x_i = a) ∝ exp(h_i(a)) of model's fields
  /// (an exact draw of the model when J = 0), sites in order, from
  /// init.derive(Purpose::chains, c); every replica of a ladder starts there. Throws
  /// Error(Exit::usage) on chains or sweeps of 0 and on a bad ladder (its messages).
  PottsPcdChains(const Potts& model, std::size_t chains, std::size_t sweeps, std::vector<double> betas,
                 const Stream& init);

  std::size_t size() const { return states_.size(); }
  bool tempered() const { return ladder_.has_value(); }
  /// The β = 1 state of each chain, one per row (C × L, states as doubles).
  MatrixD states() const;

  void advance(const Potts& model, const Stream& stream, const Exec& ex);
  /// Site and pair frequencies of the β = 1 states (each chain weighs 1), edge by edge.
  PottsMoments moments(const Potts& model, const Exec& ex) const;
  /// The same into `out`, reusing its storage.
  void moments(const Potts& model, const Exec& ex, PottsMoments& out) const;

  /// Per adjacent pair of the ladder: swaps accepted / proposed over all chains and all
  /// steps so far (empty without tempering).
  std::vector<double> swap_acceptance() const;
  /// Round trips over all chains (0 without tempering).
  std::size_t round_trips() const;

 private:
  std::size_t sweeps_;
  std::optional<Ladder> ladder_;
  std::vector<VectorD> states_;            // plain chains
  std::vector<Ladder::State> ladders_;     // tempered chains
};

/// Settings of fit_potts_pcd; the defaults are the ones documented per field.
struct PottsPcdConfig {
  std::size_t chains = 100;  ///< persistent chains (ladders with tempering), >= 1
  std::size_t sweeps = 1;    ///< systematic Gibbs sweeps per update (per replica with tempering), >= 1
  /// Empty: plain Gibbs chains. Otherwise each chain is a parallel-tempering ladder over
  /// these betas: at least 2, finite, >= 0, strictly increasing, the last exactly 1.
  std::vector<double> betas;
  double lambda_h = 0.01;   ///< as the pseudolikelihood's (plmc's -lh); >= 0
  double lambda_e = 100.0;  ///< as the pseudolikelihood's (plmc's -le); >= 0
  /// updates 1000, learning_rate 0.05, momentum 0.9, no decay, no averaging (its defaults).
  IsingSgdParams sgd;
  /// The graph: empty means every pair i < j (Potts::dense order). Ignored when init is set.
  std::vector<PottsEdge> edges;
  /// Starting model (its sites, q and graph are the fit's). Empty: J = 0 and plmc's start
  /// h_i(a) = log(f_i(a)·W + 1) centred over a (f_i the available-case frequencies).
  std::optional<Potts> init;
  std::uint64_t seed = 0;
  /// Throws Error(Exit::usage) naming the first bad field.
  void validate() const;
};

struct PottsPcdFit {
  Potts model = Potts::dense(1, 2);
  /// Per update, before its SGD step: max over sites, pairs and states of |chain − data
  /// frequency| (the largest moment mismatch; it falls to the chains' noise level,
  /// about sqrt(f/chains), as the fit converges).
  std::vector<double> trace;
  std::size_t updates = 0;
  std::vector<double> swap_acceptance;  ///< tempering: per adjacent pair of betas
  std::size_t round_trips = 0;          ///< tempering: over all ladders
  double seconds = 0;
};

/// PCD fit of a Potts model to `data` (sequence weights and absent sites as in the file
/// comment). Update t advances the chains with Stream::derive(seed, Purpose::gibbs, t);
/// the chains start from Stream::derive(seed, Purpose::chains, 0). Same seed ⇒ the same
/// bits for any exec.threads(). Reports progress ("pcd", update, updates) to `obs`.
/// Throws Error(Exit::usage) on bad settings (PottsPcdConfig::validate), an init model
/// that does not fit the data, or parameters that stop being finite (too large a
/// learning rate); Error(Exit::data) on bad data (potts_data_moments).
PottsPcdFit fit_potts_pcd(const PottsData& data, const PottsPcdConfig& config, const Exec& exec,
                          Observer& obs = silent_observer());

}  // namespace logz
