#pragma once
/// @file rbm_file.hpp
/// RBM model files: an .npz with `weights` [n_visible, n_hidden], `visible_bias`
/// [n_visible] and `hidden_bias` [n_hidden], float32 or float64 — what
/// `np.savez(path, weights=W, visible_bias=b, hidden_bias=c)` writes. Other arrays are
/// allowed and kept; logz adds `data_marginals` [n_visible] (training-data means, the
/// AIS base rate) when it knows them, and the `logz_kind` marker "rbm" (io/model_file.hpp).
#include <map>
#include <optional>
#include <string>

#include "logz/io/array.hpp"
#include "logz/io/npz.hpp"
#include "logz/models/rbm.hpp"

namespace logz::io {

struct RbmFile {
  RbmD model;                              ///< parameters, converted to double
  DType dtype = DType::f64;                ///< dtype of `weights` in the file
  std::optional<VectorD> data_marginals;   ///< `data_marginals` if present
  NamedArrays extra;                       ///< every other array in the file but the marker
};

/// Loads and validates a model file. Missing file: Exit::no_input; a missing array, a
/// wrong shape, a non-float dtype or a non-finite value: Exit::data, naming the array.
/// A file that has the three arrays but is another kind's (a Gaussian–Bernoulli RBM's
/// `visible_sigma`, or its marker says so): Exit::data, naming the kind.
RbmFile load_rbm(const std::string& path);
/// Validates the arrays of a file already read from `path` (as load_rbm, without the
/// kind test; messages start with `path`). A `logz_kind` marker is dropped.
RbmFile parse_rbm(std::map<std::string, Array> arrays, const std::string& path);

/// Writes a model file atomically in the precision of T: the three arrays,
/// `data_marginals` if given, the marker, then the extra arrays.
template <class T>
NamedArrays rbm_arrays(const Rbm<T>& model, const std::optional<VectorD>& data_marginals = std::nullopt,
                       const NamedArrays& extra = {});
/// The arrays save_rbm writes, in order.
template <class T>
void save_rbm(const std::string& path, const Rbm<T>& model, const std::optional<VectorD>& data_marginals = std::nullopt,
              const NamedArrays& extra = {});

}  // namespace logz::io
