#pragma once
/// @file sequence_scores.hpp
/// Scores of sequences under a Potts model fitted to a protein or RNA family: the energy
/// of each sequence, and the effect of every single substitution against a reference
/// (the focus sequence), ΔE = E(mutant) − E(reference), the statistical-energy scores of
/// EVmutation (Hopf et al. 2017, Nat. Biotechnol. 35, 128), whose sign is the opposite:
/// EVmutation reports −ΔE, so that beneficial mutations score high. Here a positive ΔE
/// makes the mutant less probable than the reference under the model.
#include <cstdint>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/potts.hpp"

namespace logz {

/// The model with a gap state in front: state 0 has zero fields and couplings, state
/// a + 1 is the model's state a. A model fitted with the gap left out (plmc -g) scores
/// aligned sequences through it: a gap takes its site out of the energy, as it takes it
/// out of -g's pseudolikelihood.
Potts with_gap_state(const Potts& model);

/// E(x) of each row of `states` (entries in [0, q)). Bit-identical for any thread count.
/// A row of the wrong length or with a state >= q: Error(Exit::usage) naming the row.
VectorD sequence_energies(const Potts& model, const Matrix<std::uint8_t>& states, const Exec& exec = Exec{});

/// L × q table of ΔE(i, a) = E(x with x_i = a) − E(x) for the reference x, from the
/// conditional energies of each site (0 where a = x_i). A reference of the wrong length
/// or with a state >= q: Error(Exit::usage).
MatrixD single_mutant_effects(const Potts& model, const Eigen::Ref<const VectorD>& reference);

}  // namespace logz
