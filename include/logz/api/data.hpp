#pragma once
/// @file data.hpp
/// The one data loader of the tasks: rows of states for a model, read from what a user
/// names — `fashion-mnist:train|test` or a .npy of 0/1 rows for binary RBMs, a .npy of
/// spins (Ising) or of states 0..q−1 (Potts) or a FASTA / A2M alignment read with the
/// model's alphabet (Potts), a float .npy for continuous models (NumPy's C or Fortran
/// order) — checked against the model (width, values) with messages that name the
/// config field the data came through. And the one way RAISE picks its start rows.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/io/model_file.hpp"

namespace logz::api {

/// Rows a caller holds in row-major (C) order, e.g. a NumPy array: read in place, never
/// copied; the caller keeps the memory alive while the Dataset is in use.
template <class T>
struct BorrowedRows {
  const T* data = nullptr;
  Eigen::Index n_rows = 0, n_cols = 0;
  Eigen::Index rows() const { return n_rows; }
  Eigen::Index cols() const { return n_cols; }
};

/// Rows of states, one sample per row: 0/1 bytes for binary RBMs, doubles otherwise;
/// owned (read from a file) or borrowed.
using Rows = std::variant<MatrixU8, MatrixD, BorrowedRows<std::uint8_t>, BorrowedRows<double>>;

/// The rows as a matrix, owned or borrowed, without a copy. Doubles asked of byte rows
/// (or the reverse) is a programming error (std::bad_variant_access).
Eigen::Map<const MatrixD> real_rows(const Rows& rows);
Eigen::Map<const MatrixU8> binary_rows(const Rows& rows);

struct Dataset {
  Rows rows;
  std::string spec;  ///< what the user named
  std::size_t count() const {
    return std::visit([](const auto& m) { return std::size_t(m.rows()); }, rows);
  }
  std::size_t width() const {
    return std::visit([](const auto& m) { return std::size_t(m.cols()); }, rows);
  }
};

/// Reads `spec` as data for `model`. `field` is the config field it came through ("data",
/// "base_data"), named in the errors: ConfigError(Exit::data) for no rows, the wrong
/// width, a value the model cannot take (a spin outside the model's convention, a state
/// outside [0, q), a non-finite real) naming the first bad entry; the readers' own
/// errors (Exit::no_input for a missing file) pass through.
Dataset load_dataset(const std::string& spec, const io::ModelFile& model, const std::string& field,
                     std::string_view who);

/// Checks rows a front end already holds (NumPy arrays from Python) against the model as
/// load_dataset checks what it reads: at least one row, the model's width, values the
/// model can take (0/1 for binary RBMs, spins, states in [0, q), finite reals), with the
/// same messages, `spec` standing for the data's name.
void check_dataset(const Dataset& data, const io::ModelFile& model, const std::string& field, std::string_view who);

/// Real-valued rows from a 2-D .npy array (any dtype, either memory order) as doubles.
/// ConfigError naming `field`: an empty path (Exit::usage); not 2-D, no rows, another
/// number of columns than `columns` (when > 0: "... but the model has dimension d"), an
/// entry that is NaN or infinite, its row and column 0-based (Exit::data).
MatrixD load_real_rows(const std::string& spec, const std::string& field, std::string_view who,
                       std::size_t columns = 0);

/// RAISE's start rows: `n` rows of `rows` picked without replacement by a partial
/// Fisher–Yates shuffle on Stream::derive(seed, Purpose::data, 0). ConfigError(Exit::data)
/// naming `field` and `chains_field` when there are fewer than n rows.
Rows pick_rows(const Dataset& data, std::size_t n, std::uint64_t seed, std::string_view who,
               const std::string& field = "data");

}  // namespace logz::api
