#pragma once
/// @file rbm_enumeration.hpp
/// Exact log Z of a binary RBM by enumerating the smaller layer and summing the other
/// analytically:  log Z = log Σ_h exp(c·h + Σ_i softplus(b_i + (W h)_i))  (or the same
/// with the roles of the layers exchanged). States are visited in Gray-code order, so
/// each step updates the pre-activations by one column of W (O(n) instead of O(n·m)).
#include <cstddef>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/rbm.hpp"

namespace logz {

/// Largest number of units in the enumerated layer (2^32 states).
inline constexpr std::size_t max_enumerated_units = 32;

struct ExactLogZ {
  double log_z;
  std::size_t enumerated_units;  ///< size of the layer that was enumerated
  bool enumerated_hidden;        ///< true if the hidden layer was enumerated
};

/// Exact log Z. Throws Error(Exit::usage) if both layers have more than
/// max_enumerated_units units. Bit-identical for any thread count.
ExactLogZ rbm_exact_log_z(const RbmD& model, const Exec& ex);

/// Largest enumerated layer for exact sampling, which stores one weight per state.
inline constexpr std::size_t max_sampled_units = 24;

/// n exact draws of the visible layer: the smaller layer is drawn from its exact marginal
/// by inverse CDF over all its states, the visible layer (if it is the other one) from
/// p(v | h). Draw r uses stream derive(seed, Purpose::sample, r). For ground truth in
/// tests and for reverse AIS started from exact samples.
MatrixU8 rbm_exact_samples(const RbmD& model, std::size_t n, std::uint64_t seed, const Exec& ex);

/// log p(v) for every row: -F(v) - log Z.
VectorD rbm_log_likelihoods(const RbmD& model, const MatrixU8& data, double log_z, const Exec& ex);

}  // namespace logz
