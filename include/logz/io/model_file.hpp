#pragma once
/// @file model_file.hpp
/// One way in for model files (docs/file-formats.md): `load_model` reads an .npz once,
/// tells its kind by one rule, and parses it with that kind's reader; `save_model`
/// writes any kind back, with its `logz_kind` marker.
///
/// The rule (model_kind), in one place:
/// 1. A `logz_kind` array (uint8, the bytes of the kind's name: "rbm", "grbm", "ising",
///    "potts", "gaussian", "experts", "neural") decides. Every file logz writes has one.
/// 2. Without it (files written by NumPy, PyTorch, MATLAB exports), the arrays tell:
///      ising     `couplings` of 2 dimensions     potts    `couplings` of 4 dimensions
///      gaussian  `precision`                     grbm     `visible_sigma`
///      experts   `filters`                       neural   `output_weights`
///      rbm       `weights`, `visible_bias` and `hidden_bias`, and none of the above
///    (so a Gaussian–Bernoulli RBM, which has `visible_sigma`, is never read as a binary
///    RBM). Arrays that fit two kinds, or none, are an error that says what to do.
///
/// One format besides .npz: plmc's binary parameter file (io/plmc_params.hpp), told by
/// its content before the rule: a file that is not a zip archive and has exactly the
/// size plmc's header implies is a Potts model, with plmc_extra_arrays in `extra`.
///
/// The per-kind readers (io/rbm_file.hpp, io/mrf_file.hpp, io/continuous_file.hpp)
/// validate the parameters; their messages start with the path and name the array.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logz/io/array.hpp"
#include "logz/io/npz.hpp"
#include "logz/models/any_model.hpp"

namespace logz::io {

/// The name of the marker array.
inline constexpr std::string_view kKindMarker = "logz_kind";

/// A model file: the model and what the file holds besides its parameters.
struct ModelFile {
  AnyModel model;
  std::optional<VectorD> data_marginals;  ///< rbm: `data_marginals` (training-data means), if present
  std::optional<std::string> alphabet;    ///< potts: one letter per state, if present
  DType dtype = DType::f64;               ///< rbm: the dtype of `weights` in the file (written back in it)
  NamedArrays extra;                      ///< every other array, in name order; never the marker
};

/// The kind of model a file's arrays hold, by the rule above. An unknown marker, a
/// marker that is not uint8 bytes, arrays that fit more than one kind or none:
/// Error(Exit::data), the message starting with `path`.
ModelKind model_kind(const std::map<std::string, Array>& arrays, std::string_view path);

/// The kinds the arrays fit by rule 2 (the marker is not looked at), in ModelKind order.
/// The per-kind readers' own kind tests are built on it.
std::vector<ModelKind> kinds_fitting(const std::map<std::string, Array>& arrays);

/// The array that tells a file of this kind without a marker: "weights" (rbm),
/// "visible_sigma", "couplings" (ising and potts), "precision", "filters", "output_weights".
std::string_view signature_array(ModelKind kind);

/// The marker's text, nullopt if there is no marker. A marker that is not a 1-D uint8
/// array: Error(Exit::data).
std::optional<std::string> kind_marker(const std::map<std::string, Array>& arrays, std::string_view path);

/// The marker array for a kind (uint8, the bytes of kind_name(kind)).
Array kind_marker_array(ModelKind kind);

/// A model from named arrays (what an .npz holds, or what a Python caller passes), told
/// and parsed by the same rule and readers as a file; `source` stands for the path in
/// messages. Error(Exit::data) as load_model.
ModelFile model_from_arrays(std::map<std::string, Array> arrays, const std::string& source);

/// The arrays save_model writes for `file` (marker included), in the order written.
NamedArrays model_arrays(const ModelFile& file);

/// Reads a model file of any kind (one read of the file), or plmc's parameter file.
/// Missing file: Exit::no_input;
/// a file whose kind cannot be told or whose arrays are invalid: Exit::data.
ModelFile load_model(const std::string& path);

/// Writes the model's arrays, the marker, then `extra`, atomically: a binary RBM in
/// `dtype` (float32 or float64) with `data_marginals` if given, a Potts model with
/// `alphabet` if given, every other kind in float64. `data_marginals` on a model other
/// than an RBM, `alphabet` on a model other than Potts, or an extra array named like one
/// of the file's own: Error(Exit::usage).
void save_model(const std::string& path, const ModelFile& file);

}  // namespace logz::io
