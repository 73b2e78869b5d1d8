#pragma once
/// @file alignment.hpp
/// Multiple sequence alignments (protein or RNA families) in FASTA / A2M format, read
/// into a matrix of state indices for Potts models, and the sequence reweighting of
/// Morcos et al. (2011) / Ekeberg et al. (2013) as plmc computes it. See
/// docs/alignments.md for the formats, the options and the definitions.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"

namespace logz::io {

/// The 20 amino acids with the gap first (state 0), as plmc and CCMpred order them: q = 21.
inline constexpr const char* kProteinAlphabet = "-ACDEFGHIKLMNPQRSTVWY";

/// What to do with a character that is not in the alphabet (upper- or lower-case).
enum class UnknownLetters {
  error,  ///< throw Error(Exit::data) naming the sequence, the column and the letter (default)
  gap,    ///< read it as the gap state 0
  skip,   ///< leave the whole sequence out, as plmc does (any position of the row counts,
          ///< insert columns included); `Alignment::skipped` lists the names left out
};
/// The UnknownLetters named "error", "gap" or "skip"; Error(Exit::usage) for any other name.
UnknownLetters unknown_letters_by_name(std::string_view name);

struct AlignmentOptions {
  /// The states, one character each, upper-case letters or symbols; state i is
  /// alphabet[i]. When alphabet[0] is '-' or '.', it is the gap: '-' and '.' both read
  /// as state 0. For RNA use ".ACGU" or "-ACGU".
  std::string alphabet = kProteinAlphabet;
  /// Focus mode (plmc -f): the first sequence whose name starts with this string; only
  /// the columns where it has an upper-case letter are kept (its gaps and inserts are
  /// dropped), and every row must have the same length as written. Without a focus, the
  /// A2M rule applies: lower-case letters and '.' (when '.' is not the gap of the
  /// alphabet) are inserts, removed from each row, and the rows left must have equal
  /// lengths.
  std::optional<std::string> focus;
  UnknownLetters unknown = UnknownLetters::error;
};

/// An alignment as state indices: matrix(s, i) in [0, alphabet.size()) is the state of
/// sequence s at kept column i; letters are upper-cased.
struct Alignment {
  std::vector<std::string> names;  ///< first word of each header, without the '>'
  Matrix<std::uint8_t> matrix;     ///< rows = sequences, columns = kept columns
  std::string alphabet;            ///< q = alphabet.size()
  /// For each kept column, its 0-based index in the rows: in focus mode the column of
  /// the rows as written in the file, otherwise the match column (inserts removed).
  std::vector<std::size_t> columns;
  /// Focus mode only (else empty): for each kept column, its number as plmc gives it in
  /// its contact table (-c) and parameter file: START + the column's 0-based index in the
  /// rows as written, START from the focus's NAME/START-END name (1 if absent). This is
  /// the focus's residue number when the focus has no gap ('-', '.') before the column,
  /// as in alignments built around the focus (EVcouplings); plmc counts gap columns too.
  std::vector<long> positions;
  std::optional<std::size_t> focus;  ///< row of the focus sequence, if any
  std::vector<std::string> skipped;  ///< sequences left out (UnknownLetters::skip)
  /// For each row of `matrix`, its 0-based record number in the file (skipped ones count).
  std::vector<std::size_t> records;
  std::size_t num_records = 0;  ///< records in the file: rows + skipped

  std::size_t num_sequences() const { return std::size_t(matrix.rows()); }
  std::size_t num_columns() const { return std::size_t(matrix.cols()); }
  std::size_t num_states() const { return alphabet.size(); }
};

/// Reads a FASTA or A2M alignment: records start with a '>' header line, the sequence
/// may span several lines; blank lines and trailing '\r' are ignored. Errors are
/// logz::Error with messages starting with the path: Exit::no_input for a missing or
/// unreadable file, Exit::data for an empty file, no sequences, text before the first
/// header, a sequence of length 0, ragged rows, an unknown letter, a focus that is not
/// found; Exit::usage for a bad alphabet.
Alignment read_alignment(const std::string& path, const AlignmentOptions& options = {});

/// Writes sequences as FASTA (also valid A2M: every column a match state): one record
/// per row, ">name" then the row on one line, state a written as alphabet[a] and the
/// gap state (alphabet[0] when it is '-' or '.') as '-', so that read_alignment with the
/// same alphabet reads the same states back. Atomic (io::write_file_atomic). Names that
/// are empty or hold whitespace, a count of names other than the rows, or a state
/// outside the alphabet: Error(Exit::usage) naming write_alignment and the row.
void write_alignment(const std::string& path, const std::vector<std::string>& names,
                     const Matrix<std::uint8_t>& states, const std::string& alphabet);

/// Sequence weights: w_s = 1 / #{t : id(s, t) >= theta · L}, where id(s, t) counts the
/// kept columns where s and t have the same state (gaps included) and L is the number
/// of kept columns; the count includes s itself. This is plmc's rule (plmc's -t is the
/// divergence 1 − theta). theta outside [0, 1] is Error(Exit::usage). Bit-identical for
/// any thread count.
VectorD sequence_weights(const Alignment& alignment, double theta, const Exec& exec = Exec{});

/// Σ_s w_s, the effective number of sequences (Neff).
double effective_count(const VectorD& weights);

}  // namespace logz::io
