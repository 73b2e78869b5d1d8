#pragma once
/// @file mrf_file.hpp
/// Pairwise MRF model files (docs/ising-training.md): an .npz of dense parameter arrays,
/// what NumPy writes with `np.savez(path, fields=h, couplings=J)`.
///
/// Ising (E(s) = -Σ h_i s_i - Σ_{i<j} J_ij s_i s_j, see models/ising.hpp):
/// - `fields`    [n] float: h_i;
/// - `couplings` [n, n] float: J_ij, symmetric, zero diagonal, 0 off the graph;
/// - `edges`     [m, 2] integer, optional: the graph, in the model's edge order (kept
///               exactly, zero couplings included). Without it the graph is every pair
///               i < j with J_ij != 0, in row-major order;
/// - `spins`     [2] integer, optional: the spin values (down, up), [-1, 1] for ±1 spins
///               or [0, 1] for 0/1 spins; absent means [-1, 1];
/// - `lattice`   [4] integer, optional: (rows, cols, periodic_rows, periodic_cols) of a
///               model built by Ising::lattice_2d (periodic_* 0 or 1), so that the loaded
///               model is a lattice again (the transfer matrix needs it). The graph must
///               then be that lattice's bonds (in its order when `edges` is given).
/// Potts (E(x) = -Σ h_i(x_i) - Σ_{i<j} J_ij(x_i, x_j), see models/potts.hpp):
/// - `fields`    [L, q] float: h_i(a);
/// - `couplings` [L, L, q, q] float: couplings[i, j, a, b] = J_ij(a, b) =
///               couplings[j, i, b, a], zero diagonal blocks, 0 off the graph;
/// - `edges`     [m, 2] integer, optional, as for Ising (a pair is on the graph without
///               it when its block has a nonzero entry);
/// - `alphabet`  [q] uint8, optional: the letter of each state (e.g. "-ACDEFGHIKLMNPQRSTVWY").
/// Files logz writes carry the `logz_kind` marker "ising" or "potts" (io/model_file.hpp);
/// without it the kind is read from the rank of `couplings` (2: Ising, 4: Potts). Other
/// arrays are allowed and kept in `extra`. Files are written atomically; parameters
/// round-trip bit for bit (float64).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "logz/io/npz.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"

namespace logz::io {

struct IsingFile {
  Ising model;
  NamedArrays extra;  ///< every array other than fields, couplings, edges, spins, lattice and the marker
};

struct PottsFile {
  Potts model;
  std::optional<std::string> alphabet;  ///< `alphabet` if present, one letter per state
  NamedArrays extra;                    ///< every array other than fields, couplings, edges, alphabet and the marker
};

enum class MrfKind { ising, potts };

/// Error(Exit::data) naming `path` unless every letter of a Potts alphabet is a printable
/// ASCII character ('!' to '~': letters are written to FASTA and to messages) and no two
/// states share one. Every reader of an alphabet (.npz, plmc's file) checks it.
void check_alphabet(std::string_view alphabet, const std::string& path);

/// Loads and validates an Ising model file. Missing file: Exit::no_input; a missing
/// array, a wrong dtype, rank or shape, a non-finite value, asymmetric couplings, a
/// nonzero diagonal, a coupling off the given graph, a bad edge or spin convention,
/// or a Potts file: Exit::data, naming the array and the first offending entry.
IsingFile load_ising(const std::string& path);
/// Loads and validates a Potts model file (errors as load_ising; also a bad alphabet).
PottsFile load_potts(const std::string& path);
/// Validate the arrays of a file already read from `path` (as load_ising / load_potts;
/// messages start with `path`). A `logz_kind` marker is dropped.
IsingFile parse_ising(std::map<std::string, Array> arrays, const std::string& path);
PottsFile parse_potts(std::map<std::string, Array> arrays, const std::string& path);
/// Loads a file of either kind (one read).
std::variant<IsingFile, PottsFile> load_mrf(const std::string& path);

/// Writes fields, couplings (float64), edges (int64), spins and, for a model built by
/// lattice_2d, lattice; the marker; then `extra`, atomically.
void save_ising(const std::string& path, const Ising& model, const NamedArrays& extra = {});
NamedArrays ising_arrays(const Ising& model, const NamedArrays& extra = {});  ///< what save_ising writes
/// Writes fields, couplings (float64), edges (int64) and the alphabet if given (its
/// length must be q: Exit::usage otherwise), the marker, then `extra`, atomically.
void save_potts(const std::string& path, const Potts& model, const std::optional<std::string>& alphabet = std::nullopt,
                const NamedArrays& extra = {});
/// What save_potts writes.
NamedArrays potts_arrays(const Potts& model, const std::optional<std::string>& alphabet = std::nullopt,
                         const NamedArrays& extra = {});

}  // namespace logz::io
