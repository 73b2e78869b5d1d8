#pragma once
/// @file contact_scores.hpp
/// Contact scores of a Potts model fitted to a protein or RNA family: the Frobenius
/// norm of each coupling block in the zero-sum gauge, corrected by the average product
/// (APC; Dunn et al. 2008, Bioinformatics 24, 333; used so by Ekeberg et al. 2013 and
/// CCMpred). High APC scores predict residues in contact (docs/pseudolikelihood.md).
#include <cstddef>
#include <string>
#include <vector>

#include "logz/models/potts.hpp"

namespace logz {

struct ContactScore {
  std::size_t i, j;  ///< sites, i < j
  double frobenius;  ///< ‖J_ij‖_F in the zero-sum gauge
  double apc;        ///< frobenius − F_i· F_·j / F_··
};

/// One score per pair i < j in Potts::dense order. The model's couplings are read in
/// the zero-sum gauge (a copy is gauged; the model is unchanged). Needs >= 3 sites
/// (the APC averages over the other pairs); Error(Exit::usage) otherwise.
std::vector<ContactScore> contact_scores(const Potts& model);

/// The scores as a text table, one pair per line: "i ai j aj frobenius apc", where i, j
/// are `positions` (1-based site numbers when empty) and ai, aj the letters of `reference`
/// at the two sites ('-' when empty), after a header line starting with '#'.
std::string format_contact_scores(const std::vector<ContactScore>& scores, const std::vector<long>& positions,
                                  const std::string& reference);

}  // namespace logz
