#pragma once
/// @file ising.hpp
/// Ising model on an arbitrary sparse graph (docs/ising.md):
///   E(s) = -Σ_i h_i s_i - Σ_{(i,j) ∈ edges} J_ij s_i s_j,    p(s) ∝ exp(-E(s)),
/// with spins s_i ∈ {-1, +1} (the default) or s_i ∈ {0, 1}. Inverse temperature is
/// absorbed into h and J. Lattices (chain, 2-D, 3-D) and the fully connected graph are
/// conveniences that build the edge list; sites of a lattice are numbered row-major
/// (site (r, c) of an L1×L2 lattice is r·L2 + c).
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/types.hpp"

namespace logz {

/// The two values of a spin: {-1, +1} or {0, 1}. State index bit 1 is always "up" (+1 / 1).
enum class SpinConvention { plus_minus_one, zero_one };

/// Boundary condition along one lattice direction.
enum class Boundary { open, periodic };

/// One coupling J_ij between sites i and j (unordered; i != j).
struct IsingEdge {
  std::size_t i, j;
  double coupling;
};

/// The shape of a model built by Ising::lattice_2d: L1 rows of L2 sites.
struct Lattice2D {
  std::size_t rows, cols;     ///< L1, L2
  Boundary boundary_rows;     ///< along direction 1 (row r-1 to row r, and L1-1 to 0 if periodic)
  Boundary boundary_cols;     ///< along direction 2 (within a row)
};

class Ising {
 public:
  /// A model on `n_spins` sites with the given edges and fields (size n_spins).
  /// Throws Error(Exit::data) naming the edge on a self-loop, an index out of range, a
  /// duplicate edge (i,j) or (j,i), or a non-finite coupling or field.
  Ising(std::size_t n_spins, std::vector<IsingEdge> edges, VectorD fields,
        SpinConvention convention = SpinConvention::plus_minus_one);

  /// Open (or periodic, n >= 3) chain 0-1-...-(n-1) with uniform J and h.
  static Ising chain(std::size_t n, double coupling, double field, Boundary boundary = Boundary::open,
                     SpinConvention convention = SpinConvention::plus_minus_one);
  /// L1×L2 square lattice with uniform J and h; a periodic direction needs >= 3 sites.
  static Ising lattice_2d(std::size_t l1, std::size_t l2, double coupling, double field,
                          Boundary boundary_rows = Boundary::open, Boundary boundary_cols = Boundary::open,
                          SpinConvention convention = SpinConvention::plus_minus_one);
  /// L1×L2×L3 cubic lattice (site (a,b,c) = (a·L2 + b)·L3 + c) with uniform J and h.
  static Ising lattice_3d(std::size_t l1, std::size_t l2, std::size_t l3, double coupling, double field,
                          Boundary boundary = Boundary::open,
                          SpinConvention convention = SpinConvention::plus_minus_one);
  /// Every pair (i < j) coupled with J, every site with field h.
  static Ising fully_connected(std::size_t n, double coupling, double field,
                               SpinConvention convention = SpinConvention::plus_minus_one);

  std::size_t n_spins() const { return n_; }
  std::size_t dimension() const { return n_; }
  std::size_t n_edges() const { return edges_.size(); }
  const std::vector<IsingEdge>& edges() const { return edges_; }
  const VectorD& fields() const { return fields_; }
  SpinConvention convention() const { return convention_; }
  /// The shape when built by lattice_2d (kept by set_parameters), otherwise empty.
  const std::optional<Lattice2D>& lattice() const { return lattice_; }

  /// Value of a spin: up = +1; down = -1 (±1) or 0 (0/1).
  double spin_value(bool up) const { return up ? 1.0 : down_value(); }
  double down_value() const { return convention_ == SpinConvention::plus_minus_one ? -1.0 : 0.0; }

  /// E(s) in double. Throws Error(Exit::usage) if s has the wrong size or an entry that
  /// is not a spin value of the convention.
  double energy(const Eigen::Ref<const VectorD>& s) const;
  /// Same as energy (the EnergyModel concept).
  double energy_of(const Eigen::Ref<const VectorD>& s) const { return energy(s); }

  /// h_i + Σ_j J_ij s_j over the neighbours j of i (s_i itself is ignored).
  double local_field(std::size_t i, const Eigen::Ref<const VectorD>& s) const;
  /// Conditional energies of site i given the rest (SiteConditionals): entry k is
  /// E(s with s_i = value k) minus the part that does not depend on s_i, value 0 = down,
  /// 1 = up; p(s_i = k | rest) ∝ exp(-entry k).
  std::array<double, 2> site_energies(std::size_t i, const Eigen::Ref<const VectorD>& s) const;
  /// The same written to out[0], out[1] (the SiteConditionals form Potts shares).
  void site_energies(std::size_t i, const Eigen::Ref<const VectorD>& s, std::span<double> out) const {
    const auto e = site_energies(i, s);
    out[0] = e[0], out[1] = e[1];
  }
  static constexpr std::size_t num_values() { return 2; }
  static constexpr std::size_t num_states() { return 2; }
  /// The stored value of value k (SiteConditionals): 0 = down, 1 = up.
  double state_value(std::size_t k) const { return spin_value(k == 1); }
  /// The value of a stored spin: 1 for up (1), 0 otherwise.
  static std::size_t state_index(double v) { return v == 1.0 ? 1 : 0; }
  /// β (E(s_i = down) − E(s_i = up)) = β f_i (1 − d) given the rest, f_i the local field
  /// and d the down value: log p_β(up | rest) − log p_β(down | rest)
  /// (BinarySiteConditionals). No argument checks: the samplers' hot loop.
  double up_log_odds(std::size_t i, const Eigen::Ref<const VectorD>& s, double beta) const {
    return beta * field_sum(i, s) * (1.0 - down_value());
  }
  /// Throws Error(Exit::usage) naming `who` unless s has n_spins entries (what the
  /// samplers check each step; their updates write spin values).
  void check_state(const char* who, const Eigen::Ref<const VectorD>& s) const {
    check_arg(std::size_t(s.size()) == n_, "{}: state has {} spins but the model has {}", who, s.size(), n_);
  }

  /// Flat parameters: the n fields, then the couplings in edge order.
  std::size_t num_parameters() const { return n_ + edges_.size(); }
  VectorD parameters() const;
  /// Sets fields and couplings from a flat vector (same layout); the graph is unchanged.
  /// Throws Error(Exit::data) on a wrong size or a non-finite value.
  void set_parameters(const Eigen::Ref<const VectorD>& theta);
  /// Dense symmetric n×n coupling matrix (zero diagonal): E = -h·s - ½ sᵀ J s.
  MatrixD couplings_matrix() const;

  /// Neighbours of site i as (site, edge index) pairs.
  struct Neighbor {
    std::size_t site, edge;
  };
  const Neighbor* neighbors_begin(std::size_t i) const { return adjacency_.data() + offsets_[i]; }
  const Neighbor* neighbors_end(std::size_t i) const { return adjacency_.data() + offsets_[i + 1]; }

 private:
  /// h_i + Σ_j J_ij s_j, unchecked.
  double field_sum(std::size_t i, const Eigen::Ref<const VectorD>& s) const {
    double f = fields_[Eigen::Index(i)];
    for (const Neighbor* nb = neighbors_begin(i); nb != neighbors_end(i); ++nb)
      f += edges_[nb->edge].coupling * s[Eigen::Index(nb->site)];
    return f;
  }
  void build_adjacency();
  void check_spins(std::string_view caller, const Eigen::Ref<const VectorD>& s) const;

  std::size_t n_;
  std::vector<IsingEdge> edges_;
  VectorD fields_;
  SpinConvention convention_;
  std::optional<Lattice2D> lattice_;
  std::vector<std::size_t> offsets_;  // CSR over adjacency_
  std::vector<Neighbor> adjacency_;
};

}  // namespace logz
