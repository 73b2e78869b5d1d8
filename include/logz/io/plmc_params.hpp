#pragma once
/// @file plmc_params.hpp
/// plmc's binary parameter file (`plmc -o FILE`; Hopf et al. 2017, Nat. Biotechnol. 35,
/// 128; github.com/debbiemarkslab/plmc, OutputParametersFull in src/plm.c, read by
/// scripts/read_params.m and by EVcouplings' CouplingsModel), so that Potts models move
/// between logz and the EVcouplings ecosystem. Written from the layout plmc documents;
/// no plmc code is used. Little-endian, no padding, in this order:
///   int32 L, q, N (sequences used), S (sequences skipped), iterations (plmc -m);
///   float32 theta, lambda_h, lambda_e, lambda_group, Neff;
///   int8 alphabet[q]                 the letters of the states;
///   float32 neighbours[N + S]        per record of the alignment: 1 / weight, 0 if skipped;
///   int8 focus[L]                    the focus sequence at the sites;
///   int32 positions[L]               each site's number (Alignment::positions);
///   float32 f_i[L][q], h_i[L][q]     site frequencies, fields;
///   float32 f_ij[P][q][q], e_ij[P][q][q]   pair frequencies, couplings, for the P =
///                                    L(L−1)/2 pairs i < j in the order (0,1), (0,2), ...
/// plmc's model is p(x) ∝ exp(Σ h_i(x_i) + Σ e_ij(x_i, x_j)), logz's sign (models/potts.hpp):
/// h and e are Potts::fields and the dense model's coupling blocks as they are.
/// Parameters are float32 in the file: a model whose parameters are float32 values
/// round-trips exactly; others are rounded to the nearest float32.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logz/core/types.hpp"
#include "logz/io/model_file.hpp"
#include "logz/io/npz.hpp"
#include "logz/models/potts.hpp"

namespace logz::io {

/// What plmc records of the fit besides the parameters; zeros when unknown.
struct PlmcFit {
  std::int32_t num_sequences = 0;   ///< N: sequences used
  std::int32_t num_skipped = 0;     ///< S: sequences left out (letters outside the alphabet)
  std::int32_t max_iterations = 0;  ///< plmc -m (0: until convergence)
  float theta = 0, lambda_h = 0, lambda_e = 0, lambda_group = 0, neff = 0;
  std::vector<float> neighbours;  ///< N + S entries, or none when N = S = 0
};

struct PlmcParams {
  Potts model = Potts::dense(1, 2);  ///< dense, L sites, q states
  std::string alphabet;              ///< q letters
  /// L letters: the focus sequence at the sites. plmc writes its alphabet's first letter
  /// L times when it had no focus.
  std::string focus;
  std::vector<std::int32_t> positions;  ///< L site numbers (1..L without a focus)
  PlmcFit fit;
  MatrixF site_frequencies;  ///< L × q (zeros when unknown)
  VectorF pair_frequencies;  ///< P·q² in the file's order (zeros when unknown)
};

/// Whether `bytes` (a whole file) has plmc's layout: a plausible header (L >= 1,
/// 2 <= q <= 255, N, S >= 0) and exactly the size it implies.
bool is_plmc_params(std::string_view bytes);

/// Reads a file in plmc's layout. Missing file: Exit::no_input; a file too short for the
/// header, a header that is not plmc's, a size other than the header implies, a field or
/// coupling that is not finite: Exit::data, the message starting with `path`.
PlmcParams read_plmc_params(const std::string& path);
/// The same from a file's bytes already read; `path` is for messages.
PlmcParams parse_plmc_params(std::string_view bytes, const std::string& path);

/// Writes the file atomically. Sizes that disagree with the model (alphabet, focus,
/// positions, frequencies, neighbours): Error(Exit::usage) naming the member; a
/// parameter beyond float32's range: Error(Exit::data).
void write_plmc_params(const std::string& path, const PlmcParams& params);

/// The arrays a Potts model file carries for its focus sequence (train potts --focus
/// writes them, plmc's file holds them; logz score --mutants reads them): `positions`
/// int64 [L], each site's number (io::Alignment::positions), and `focus_sequence` uint8
/// [L], the focus's letters at the sites.
inline constexpr std::string_view kPositionsArray = "positions";
inline constexpr std::string_view kFocusArray = "focus_sequence";
NamedArrays focus_arrays(const std::vector<std::int64_t>& positions, const std::string& letters);

/// The arrays a model file (.npz) carries for what plmc's file holds besides the model
/// and its alphabet: `positions` int64 [L], `focus_sequence` uint8 [L] (letters),
/// `site_frequencies` float32 [L, q], `pair_frequencies` float32 [P, q, q],
/// `plmc_fit` float64 [8] (N, S, iterations, theta, lambda_h, lambda_e, lambda_group,
/// Neff) and `plmc_neighbours` float32 [N + S]. A file converted from plmc's format and
/// back is the same bytes.
NamedArrays plmc_extra_arrays(const PlmcParams& params);
/// plmc's file contents for `model` (any graph: pairs off it are written as zeros), its
/// alphabet and the arrays above where `extra` has them (else 1..L, the alphabet's first
/// letter, zero frequencies, a zero fit record). A missing alphabet, or one of those
/// arrays with the wrong dtype or shape: Error(Exit::data) naming `path` and the array.
PlmcParams plmc_params_of(const Potts& model, const std::string& alphabet, const NamedArrays& extra,
                          const std::string& path);

/// load_model's way in: the model file that `path` holds when it is plmc's parameter
/// file (not a zip archive, and is_plmc_params), with plmc_extra_arrays as its `extra`;
/// nullopt for anything else (a missing file too: read_npz then says why).
std::optional<ModelFile> read_model_if_plmc(const std::string& path);

}  // namespace logz::io
