#pragma once
/// @file potts.hpp
/// Pairwise Potts model on q states (docs/potts.md):
///   E(x) = -Σ_i h_i(x_i) - Σ_{(i,j) ∈ edges} J_ij(x_i, x_j),    p(x) ∝ exp(-E(x)),
/// x_i ∈ {0, ..., q-1}. The sign is plmc's and CCMpred's (p ∝ exp(h + J)); q = 21 for
/// proteins (gap + 20 amino acids), q = 2 is an Ising model in 0/1 spins. A dense model
/// couples every pair (alignments); a sparse one takes any edge list (lattices). The
/// parameters are not identifiable (a constant can move between h_i and J_ij);
/// zero_sum_gauge() picks the gauge where every row and column of J_ij and every h_i
/// sums to zero (Weigt et al. 2009), which leaves p(x) unchanged.
#include <cstddef>
#include <span>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/types.hpp"
#include "logz/models/ising.hpp"

namespace logz {

/// One coupled pair (i, j), i != j; its q×q block J_ij(a, b) has a = state of i, b = state of j.
struct PottsEdge {
  std::size_t i, j;
};

class Potts {
 public:
  /// A model on fields.rows() sites with q = fields.cols() states, the given edges and
  /// their blocks: `couplings` holds one row-major q×q block per edge, in edge order
  /// (size edges.size()·q²). Throws Error(Exit::data) naming the edge or site on a
  /// self-loop, an index out of range, a duplicate edge, q < 2, a wrong size or a
  /// non-finite value.
  Potts(MatrixD fields, std::vector<PottsEdge> edges, VectorD couplings);

  /// Every pair i < j coupled (edge order (0,1), (0,2), ..., (L-2,L-1)), all zero.
  static Potts dense(std::size_t n_sites, std::size_t q);
  /// The same graph as `model`, q = 2, with fields and couplings giving the same p(x)
  /// as the Ising model in 0/1 spins (state 1 = up): h_i(1) = h_i', J_ij(1,1) = J_ij'
  /// where h', J' are the 0/1-convention parameters (±1 models are converted exactly).
  static Potts from_ising(const Ising& model);

  /// The Ising model with the same p(x) (state 1 = up), on the same graph, in the
  /// given convention. Throws Error(Exit::usage) unless q = 2. Exact up to a constant
  /// energy shift: log Z differs by the returned model's `shift` argument if given.
  Ising to_ising(SpinConvention convention, double* shift = nullptr) const;

  std::size_t n_sites() const { return n_; }
  std::size_t dimension() const { return n_; }
  std::size_t num_states() const { return q_; }
  std::size_t n_edges() const { return edges_.size(); }
  const std::vector<PottsEdge>& edges() const { return edges_; }
  /// True when every pair of sites is coupled (edge e between i < j in dense() order).
  bool is_dense() const { return dense_; }

  const MatrixD& fields() const { return fields_; }  ///< L × q: h_i(a)
  MatrixD& fields() { return fields_; }
  /// Block J_e(a, b) of edge e, row-major q×q, a = state of edges()[e].i.
  std::span<const double> block(std::size_t e) const { return {couplings_.data() + e * q_ * q_, q_ * q_}; }
  /// Replaces block e (q² values, row-major). Throws Error(Exit::data) on a wrong size or
  /// a non-finite value.
  void set_block(std::size_t e, std::span<const double> values);
  /// J_ij(a, b) for the edge between i and j in either orientation; 0 if not coupled.
  double coupling(std::size_t i, std::size_t j, std::size_t a, std::size_t b) const;
  /// Index of the edge between i and j (either orientation), or n_edges() if none.
  std::size_t edge_index(std::size_t i, std::size_t j) const;

  /// E(x). Throws Error(Exit::usage) if x has the wrong size or an entry that is not an
  /// integer in [0, q).
  double energy(const Eigen::Ref<const VectorD>& x) const;
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy(x); }

  /// Conditional energies of site i given the rest (SiteConditionals): out[a] is
  /// -h_i(a) - Σ_j J_ij(a, x_j), so p(x_i = a | rest) ∝ exp(-out[a]). x_i is ignored.
  /// No argument checks beyond sizes in debug builds: the samplers' hot loop.
  void site_energies(std::size_t i, const Eigen::Ref<const VectorD>& x, std::span<double> out) const;
  /// The stored value of state a, and the state of a stored value (SiteConditionals).
  static double state_value(std::size_t a) { return double(a); }
  static std::size_t state_index(double v) { return std::size_t(v); }
  /// Throws Error(Exit::usage) naming `caller` unless x has n_sites entries, each an
  /// integer in [0, q) (the conditional energies index the coupling blocks by them).
  void check_state(const char* caller, const Eigen::Ref<const VectorD>& x) const;

  /// Flat parameters: fields row-major (L·q), then the edge blocks in edge order.
  std::size_t num_parameters() const { return n_ * q_ + couplings_.size(); }
  VectorD parameters() const;
  /// Throws Error(Exit::data) on a wrong size or a non-finite value.
  void set_parameters(const Eigen::Ref<const VectorD>& theta);

  /// Moves the model to the zero-sum gauge. p(x) is unchanged; every energy shifts by
  /// the returned constant c (E_new = E_old + c), so log Z_new = log Z_old - c.
  double zero_sum_gauge();

  /// Neighbours of site i: (site, edge, whether i is the edge's second site).
  struct Neighbor {
    std::size_t site, edge;
    bool transposed;
  };
  const Neighbor* neighbors_begin(std::size_t i) const { return adjacency_.data() + offsets_[i]; }
  const Neighbor* neighbors_end(std::size_t i) const { return adjacency_.data() + offsets_[i + 1]; }

 private:
  void build_adjacency();
  void transpose_blocks();

  std::size_t n_, q_;
  MatrixD fields_;
  std::vector<PottsEdge> edges_;
  VectorD couplings_;
  VectorD transposed_;  // every block transposed, so that site_energies reads rows only
  bool dense_ = false;
  std::vector<std::size_t> offsets_;
  std::vector<Neighbor> adjacency_;
};

}  // namespace logz
