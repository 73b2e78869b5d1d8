#pragma once
/// @file potts_exact.hpp
/// Exact log Z and marginals of a Potts model by enumerating all q^L states
/// (docs/exact.md). The states are visited in reflected mixed-radix Gray-code order
/// (Knuth, TAOCP 7.2.1.1, "modular/reflected n-ary Gray codes"): each step changes one
/// site by ±1, so the energy is updated in O(degree). The walk is split into fixed
/// chunks of 2^12 states, each starting from an exactly evaluated energy, and the
/// per-task sums are merged in task order: bit-identical for any thread count.
/// For models beyond enumeration, see junction_tree.hpp.
#include <cstddef>
#include <cstdint>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/potts.hpp"

namespace logz {

/// Largest number of states enumerated: q^L <= 2^30.
inline constexpr std::uint64_t max_potts_enumerated_states = std::uint64_t(1) << 30;

/// log Z = log Σ_x exp(-E(x)) over all q^L states. Throws Error(Exit::usage) if
/// q^L > max_potts_enumerated_states.
double potts_enumeration_log_z(const Potts& model, const Exec& ex);

/// Exact log Z and marginals.
struct PottsMarginals {
  double log_z;
  MatrixD site;  ///< L × q: p(x_i = a)
  /// One row-major q×q block per edge, in edge order (the layout of Potts couplings):
  /// entry e·q² + a·q + b is p(x_i = a, x_j = b) for edge e = (i, j).
  VectorD edge;
};

/// log Z, site and edge marginals by enumeration (same limit as above).
PottsMarginals potts_enumeration_marginals(const Potts& model, const Exec& ex);

}  // namespace logz
