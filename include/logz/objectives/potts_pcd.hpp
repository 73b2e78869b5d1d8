#pragma once
/// @file potts_pcd.hpp
/// The objective of maximum-likelihood fits of Potts models by persistent contrastive
/// divergence (Boltzmann learning: Ackley, Hinton & Sejnowski 1985; stochastic
/// approximation: Younes 1989; persistent chains: Tieleman 2008; for protein families,
/// "bmDCA": Figliuzzi, Barrat-Charlaix & Weigt 2018): data and chain frequencies and the
/// gradient from them. The chains and the fit itself are training/mrf_pcd.hpp.
/// docs/potts-pcd.md.
///
/// The objective is the pseudolikelihood's (pseudolikelihood.hpp) with the full
/// likelihood in place of the pseudolikelihood, so λh and λe mean the same thing:
///   f(h, J) = -Σ_s w_s log p(x_s) + λh Σ_i ‖h_i‖² + λe Σ_{(i,j)} ‖J_ij‖²_F,
/// and the fit descends f / W, W = Σ_s w_s (the mean weighted log-likelihood plus the
/// penalty divided by W, so the learning rate does not depend on the data's size):
///   ∂(f/W)/∂h_i(a)    = p_θ(x_i = a) − f_i(a) + 2 λh h_i(a) / W,
///   ∂(f/W)/∂J_ij(a,b) = p_θ(x_i = a, x_j = b) − f_ij(a, b) + 2 λe J_ij(a, b) / W,
/// with f_i, f_ij the weighted site and pair frequencies of the data and p_θ's marginals
/// estimated by persistent chains (training/mrf_pcd.hpp: PottsPcdChains, fit_potts_pcd).
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
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/potts.hpp"
#include "logz/objectives/pseudolikelihood.hpp"

namespace logz {

/// Site and pair frequencies (of data or of chains) on a graph, in the layout of
/// Potts::parameters(): site(i, a) = f_i(a); edge[e·q² + a·q + b] = f_ij(a, b) for edge
/// e = (i, j).
struct PottsMoments {
  MatrixD site;  ///< L × q
  VectorD edge;  ///< one row-major q×q block per edge
};

/// Throws Error(Exit::data) naming `who` on malformed data: q outside [2, 255], no
/// sequence or site, weights of the wrong count, negative, non-finite or summing to 0, a
/// state beyond q.
void check_potts_pcd_data(const char* who, const PottsData& data);
/// Throws Error(Exit::usage) naming `who` on an edge with a site beyond `n_sites`.
void check_potts_pcd_edges(const char* who, const std::vector<PottsEdge>& edges, std::size_t n_sites);
/// Throws Error(Exit::usage) naming `who` on a negative or non-finite λ.
void check_potts_pcd_penalty(const char* who, double lambda_h, double lambda_e);

/// Weighted available-case frequencies of `data` on `edges` (see the file comment),
/// edge by edge over fixed blocks of edges: bit-identical for any thread count.
/// Throws Error(Exit::data) on malformed data (check_potts_pcd_data), or a site or an
/// edge's pair never present in a sequence of positive weight; Error(Exit::usage) on an
/// edge whose site is beyond the data's. `who` names the caller in the messages.
PottsMoments potts_data_moments(const PottsData& data, const std::vector<PottsEdge>& edges, const Exec& exec,
                                const char* who = "potts_data_moments");

/// Site and pair frequencies of `states` (one per row, L columns of states in [0, q),
/// each row weighing 1, e.g. chain states) on the model's graph, into `out` (its storage
/// reused). Throws Error(Exit::usage) if the states do not have the model's L columns.
void potts_state_moments(const Potts& model, const MatrixD& states, const Exec& exec, PottsMoments& out);

/// The gradient of f / W (file comment) in the layout of Potts::parameters(): chain −
/// data moments + 2 λ θ / W. Throws Error(Exit::usage) if the moments do not fit the
/// model, on a negative or non-finite λ, or on total_weight <= 0.
VectorD potts_pcd_gradient(const Potts& model, const PottsMoments& data, const PottsMoments& chains, double lambda_h,
                           double lambda_e, double total_weight);
/// The same into `g` from the parameters θ (its first n_fields entries the fields), no
/// checks (a fit's inner loop); returns max |chain − data| over all entries before the
/// penalty (the largest moment mismatch).
double potts_pcd_gradient(const VectorD& theta, std::size_t n_fields, const PottsMoments& data,
                          const PottsMoments& chains, double lambda_h, double lambda_e, double total_weight, VectorD& g);

}  // namespace logz
