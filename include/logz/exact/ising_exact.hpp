#pragma once
/// @file ising_exact.hpp
/// Exact log Z of Ising models (docs/ising.md):
/// - enumeration of all 2^n states (n <= 30, any graph), with exact <s_i> and <s_i s_j>;
/// - transfer matrix for L1×L2 lattices built by Ising::lattice_2d (any per-site fields
///   and per-bond couplings, open or periodic in each direction, width <= 20);
/// - Kaufman's (1949) closed form for the periodic L1×L2 lattice, uniform K, zero field;
/// - Onsager's infinite-lattice free energy per site, for finite-size checks.
/// All are bit-identical for any thread count.
#include <cstddef>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/ising.hpp"

namespace logz {

/// Largest number of spins for enumeration (2^30 states).
inline constexpr std::size_t max_ising_enumerated_spins = 30;

/// log Z by enumerating every state in Gray-code order, in fixed chunks of 2^12 states
/// (each chunk restarts from an exactly evaluated energy). Throws Error(Exit::usage)
/// if the model has more than max_ising_enumerated_spins spins.
double ising_enumeration_log_z(const Ising& model, const Exec& ex);

struct IsingMoments {
  double log_z;
  VectorD mean;         ///< <s_i>, one per site
  VectorD correlation;  ///< <s_i s_j>, one per edge in edge order
};

/// log Z, <s_i> and <s_i s_j> on edges by enumeration (same limit as above).
IsingMoments ising_enumeration_moments(const Ising& model, const Exec& ex);

/// Largest transfer state: 2^20 row configurations.
inline constexpr std::size_t max_transfer_width = 20;
/// Largest width when the transfer direction is periodic: the trace of T^L needs one
/// propagation per row-0 state, 2^W of them.
inline constexpr std::size_t max_periodic_transfer_width = 12;

/// log Z of a model built by Ising::lattice_2d (fields and couplings may since have been
/// changed by set_parameters) by a site-by-site transfer matrix. The transfer direction
/// is chosen to be the cheaper feasible one: an open direction with width W <= 20
/// costs O(L·W·2^W), a periodic one O(L·W·4^W) with W <= 12. Throws Error(Exit::usage)
/// if the model is not a 2-D lattice or no direction is narrow enough.
double ising_transfer_matrix_log_z(const Ising& model, const Exec& ex);

/// Kaufman's closed form: log Z of the L1×L2 lattice, periodic in both directions,
/// with uniform coupling K = βJ > 0, zero field, ±1 spins. Throws Error(Exit::usage)
/// unless L1, L2 >= 3 and K is finite and positive. (Beale 1996, PRL 76, 78.)
double ising_kaufman_log_z(std::size_t l1, std::size_t l2, double k);

/// Onsager's free energy per site of the infinite square lattice, -βf (i.e. the limit
/// of log Z / N), for uniform K > 0 and zero field.
double ising_onsager_log_z_per_site(double k);

/// The critical coupling of the square lattice, K_c = ln(1 + √2) / 2.
double ising_critical_coupling();

}  // namespace logz
