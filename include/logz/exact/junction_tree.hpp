#pragma once
/// @file junction_tree.hpp
/// Exact log Z and marginals of a Potts (or Ising) model on any graph by variable
/// elimination along an elimination order, i.e. sum-product on the junction tree that
/// the order induces (Lauritzen & Spiegelhalter 1988; Koller & Friedman 2009, ch. 9-10;
/// docs/exact.md). Eliminating site v with current neighbours N(v) forms the clique
/// {v} ∪ N(v) and sends a message over N(v) to the clique of the first-eliminated site of
/// N(v). The cost is Σ_v q^{|N(v)|+1}: exponential in the treewidth of the order, linear
/// in the number of sites.
///
/// Order: greedy min-fill (ties: fewer neighbours, then lower site index) and, when the
/// graph is a 2-D grid (a subgraph of an R×C lattice numbered row-major, open or
/// periodic, as Ising::lattice_2d builds), the order that sweeps the grid line by line
/// across its narrower dimension (width min(R, C)); the one with the smaller total table
/// size is used. Messages are tables of log values, summed over the eliminated site by
/// log-sum-exp, so neither overflow nor underflow can occur for any finite couplings.
/// Results are bit-identical for any thread count. Under mpirun each rank computes its own
/// range of every message's blocks of entries and receives the rest (8 bytes an entry:
/// docs/scaling.md); the marginals' downward pass runs whole on every rank.
#include <cstddef>
#include <string>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"

namespace logz {

struct JunctionTreeOptions {
  /// Largest clique table allowed, in entries (q^{clique size}); a model whose best
  /// order needs more is refused with Error(Exit::usage) before any table is allocated.
  std::size_t max_table_entries = std::size_t(1) << 26;
  /// Also compute exact site and edge marginals (a second, downward pass; it keeps every
  /// message, Σ_v q^{|N(v)|} doubles, instead of only the live ones).
  bool marginals = false;
  /// A user-chosen elimination order (a permutation of the sites); empty = choose.
  std::vector<std::size_t> elimination_order;
};

struct JunctionTreeResult {
  double log_z;
  /// Treewidth of the order used: the largest clique has treewidth + 1 sites.
  std::size_t treewidth;
  /// The order used, and where it came from: "min-fill", "grid rows", "grid columns"
  /// or "user".
  std::vector<std::size_t> elimination_order;
  std::string order_method;
  std::size_t largest_table_entries;  ///< q^{treewidth + 1}
  double total_table_entries;         ///< Σ_v q^{|clique of v|}: the work of one pass
  /// Largest memory held by tables (messages, plus marginal-pass tables) at any time.
  std::size_t peak_table_bytes;
  /// Filled when options.marginals: L × q site marginals p(x_i = a), and the edge
  /// marginals p(x_i = a, x_j = b) as one row-major q×q block per edge in edge order.
  MatrixD site_marginals;
  VectorD edge_marginals;
};

/// Exact log Z (and optionally marginals) of a Potts model. Throws Error(Exit::usage)
/// when the largest clique table exceeds options.max_table_entries (naming the treewidth
/// and the table size), or when options.elimination_order is not a permutation of the
/// sites.
JunctionTreeResult junction_tree(const Potts& model, const JunctionTreeOptions& options, const Exec& ex);

/// The same for an Ising model, through Potts::from_ising (q = 2, state 1 = up): site
/// marginals are (p(down), p(up)) and edge blocks are indexed (down, up) in both sites.
JunctionTreeResult junction_tree(const Ising& model, const JunctionTreeOptions& options, const Exec& ex);

/// The elimination order junction_tree would choose, with its treewidth and cost
/// (log_z and the marginals left empty; nothing is computed). Same errors.
JunctionTreeResult junction_tree_plan(const Potts& model, const JunctionTreeOptions& options);

}  // namespace logz
