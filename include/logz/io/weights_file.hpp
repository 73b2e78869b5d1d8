#pragma once
/// @file weights_file.hpp
/// Sequence weights as a file (docs/file-formats.md): what `logz train potts
/// --weights-out` writes and `--weights` reads back instead of computing them. Text, one
/// weight per line for every record of the alignment in file order, as plmc's
/// --save-weights writes them (github.com/debbiemarkslab/plmc, src/weights.c): a sequence
/// left out of the fit (letters outside the alphabet) has weight 0. logz adds header
/// lines starting with '#' (theta, counts); plmc reads no header, so strip them to feed
/// plmc (`grep -v '^#'`). A 1-D .npy array of weights is read too.
#include <cstddef>
#include <span>
#include <string>

#include "logz/core/types.hpp"

namespace logz::io {

/// Writes `weights` (one per record) atomically: each line of `header` prefixed with
/// "# ", then one weight per line, printed so that it reads back to the same double.
void write_weights(const std::string& path, const VectorD& weights, const std::string& header);

/// Reads the weights of the `records.size()` sequences used in a fit, where records[k]
/// is the file record (0-based, of `num_records`) of sequence k. The file holds one
/// weight per record (those of records not used are ignored, as plmc ignores them) or
/// one per sequence used. A .npy file (by extension) is a 1-D array of any numeric
/// dtype; any other file is text: '#' lines and blank lines are skipped, every other
/// line is one number. Missing file: Exit::no_input; a line that is not a number, a
/// weight that is negative or not finite, a count that matches neither, weights that
/// sum to 0: Exit::data, the message starting with the path.
VectorD read_weights(const std::string& path, std::span<const std::size_t> records, std::size_t num_records);

}  // namespace logz::io
