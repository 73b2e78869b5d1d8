#pragma once
/// @file rbm_modes.hpp
/// Modes of a binary RBM and the certified lower bound on log Z they give. The smaller
/// layer's marginal is exact up to Z,
///   log p~(h) = c·h + Σ_i softplus(b_i + (W h)_i)   (or the same over v, layers exchanged),
/// so for any set S of distinct states  log Z ≥ log Σ_{h ∈ S} p~(h)  with certainty. Trained
/// RBMs are often sharp: on PCD-trained Fashion-MNIST RBMs a handful of hidden states
/// carry all of Z but 1e-7 nats, in modes that annealing chains never reach (the hard-model
/// suite, docs/error-bars.md), so an estimate below the bound is wrong beyond doubt. The
/// modes are found by greedy single-unit ascent of log p~ (iterated conditional modes on
/// the marginal, Besag 1986) from random states and from given visible rows; the bound
/// adds the modes' one-flip neighbours. Draws from the modes (a mode with probability
/// ∝ p~, then the other layer from its conditional) give Gibbs chains starting points in
/// the right modes with the right weights between them.
#include <cstddef>
#include <cstdint>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/rbm.hpp"

namespace logz {

/// The random starts of the search: start k draws its bits from derive(seed, this, k).
inline constexpr Purpose mode_search_stream{18};

struct RbmModes {
  bool hidden_layer = true;      ///< the searched layer (the smaller one)
  MatrixU8 states;               ///< distinct local maxima of log p~, best first [modes, layer units]
  VectorD log_weights;           ///< log p~ of each mode
  double log_lower_bound = 0;    ///< log Σ p~ over the modes and their one-flip neighbours: log Z ≥ this
  std::size_t states_counted = 0;  ///< distinct states in that sum
  std::size_t starts = 0;        ///< ascents run
};

/// Greedy ascents of the smaller layer's marginal from `random_starts` uniform states and
/// from each row of `visible_starts` (searching the hidden layer: h = 1{c + vW > 0}).
/// Bit-identical for any thread count.
RbmModes rbm_mode_search(const RbmD& m, const MatrixU8& visible_starts, std::size_t random_starts,
                         std::uint64_t seed, const Exec& ex);

/// `n` visible rows drawn from the modes: row r picks mode k with probability
/// p~(k) / Σ p~ and (hidden modes) draws v ~ p(v | h_k), from stream derive(seed, purpose, r).
MatrixU8 rbm_mode_draws(const RbmD& m, const RbmModes& modes, std::size_t n, std::uint64_t seed, Purpose purpose);

/// Random starts for a search whose ascents cost about n_visible·n_hidden per sweep:
/// up to 200, fewer for large models (about 2e7 unit updates in all), at least 16.
std::size_t default_mode_starts(const RbmD& m);

}  // namespace logz
