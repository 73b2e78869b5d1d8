#pragma once
/// @file continuous_file.hpp
/// Continuous model files (docs/file-formats.md): an .npz of named parameter arrays, as
/// NumPy writes them with `np.savez`, for the four continuous models of logz.
///
/// The kind of a file is told by a marker array `logz_kind` (uint8, the bytes of the
/// kind's name) when present, and otherwise by the one array only that kind has:
///   gaussian  `precision`      — with `mean` [d], `precision` [d, d] (models/gaussian.hpp);
///   grbm      `visible_sigma`  — with `weights` [n_visible, n_hidden], `visible_bias` [n],
///                                `hidden_bias` [m], `visible_sigma` [n], and `learn_sigma`
///                                (optional integer scalar, 0 or 1; absent means 0)
///                                (models/gaussian_rbm.hpp);
///   experts   `filters`        — with `filters` [K, d], `alpha` [K], `quadratic` (scalar)
///                                (models/student_t_experts.hpp);
///   neural    `output_weights` — with `weights` [H, d], `hidden_bias` [H],
///                                `output_weights` [H], `linear` [d], `quadratic` (scalar)
///                                (models/neural_energy.hpp).
/// A binary RBM file (weights, visible_bias, hidden_bias: io/rbm_file.hpp) has none of
/// these, so it is never read as a GRBM. Parameters are float32 or float64 (written as
/// float64, so they round-trip bit for bit); a scalar is a 0-d or one-element array.
/// Every other array is kept (`extra`): training logs, a whitening transform, a log Z
/// learned by noise-contrastive estimation. Files are written atomically. The kind test
/// is io::model_kind's rule (io/model_file.hpp) narrowed to these four kinds.
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "logz/io/npz.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/neural_energy.hpp"
#include "logz/models/student_t_experts.hpp"

namespace logz::io {

using ContinuousModel = std::variant<Gaussian, GaussianRbm, StudentTExperts, NeuralEnergy>;

enum class ContinuousKind { gaussian, grbm, experts, neural };

/// "gaussian", "grbm", "experts", "neural": the value of `logz_kind`.
std::string_view kind_name(ContinuousKind kind);
/// The kind of a model held in the variant.
ContinuousKind kind_of(const ContinuousModel& model);
/// The model's dimension (d, or n_visible for a GRBM).
std::size_t dimension_of(const ContinuousModel& model);

/// A loaded file: the validated model and every array that is not one of its parameters.
struct ContinuousFile {
  ContinuousModel model;
  NamedArrays extra;  ///< in name order
};

/// Loads and validates a continuous model file. Missing file: Exit::no_input. Not a
/// continuous model file (no marker and no distinguishing array), an unknown marker, a
/// missing array, a wrong dtype or shape, a non-finite value, or parameters the model
/// refuses (σ <= 0, α <= 0, a precision that is not positive definite, ...): Exit::data,
/// messages starting with the path and naming the array.
ContinuousFile load_continuous_file(const std::string& path);
/// Validates the arrays of a file already read from `path` as a model of `kind` (as
/// load_continuous_file, without the kind test; messages start with `path`). A
/// `logz_kind` marker is dropped.
ContinuousFile parse_continuous(std::map<std::string, Array> arrays, const std::string& path, ContinuousKind kind);
/// load_continuous_file(path).model.
ContinuousModel load_continuous(const std::string& path);

/// Writes the model's arrays (float64), the `logz_kind` marker, then `extra`, atomically.
/// An extra array named like one of the file's own arrays: Error(Exit::usage). An invalid
/// GaussianRbm: Error(Exit::data) from its validate.
void save_continuous(const std::string& path, const ContinuousModel& model, const io::NamedArrays& extra = {});
/// What save_continuous writes.
NamedArrays continuous_arrays(const ContinuousModel& model, const io::NamedArrays& extra = {});

}  // namespace logz::io
