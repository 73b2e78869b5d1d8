// RBM model files (.npz with weights, visible_bias, hidden_bias).
#include "logz/io/rbm_file.hpp"

#include <fmt/format.h>

#include "logz/core/check.hpp"
#include "logz/io/model_file.hpp"

namespace logz::io {

RbmFile parse_rbm(std::map<std::string, Array> arrays, const std::string& path) {
  arrays.erase(std::string(kKindMarker));
  auto take = [&](const char* name, std::size_t ndim) -> Array {
    auto it = arrays.find(name);
    check_data(it != arrays.end(), "{}: not an RBM model file: array '{}' is missing (expected weights, visible_bias, hidden_bias)",
               path, name);
    Array a = std::move(it->second);
    arrays.erase(it);
    check_data(a.dtype == DType::f32 || a.dtype == DType::f64, "{}: array '{}' has dtype {}; expected float32 or float64", path,
               name, dtype_name(a.dtype));
    check_data(a.ndim() == ndim, "{}: array '{}' has shape {}; expected {} dimension{}", path, name, a.shape_string(), ndim,
               ndim == 1 ? "" : "s");
    return a;
  };
  RbmFile f;
  const Array w = take("weights", 2);
  f.dtype = w.dtype;
  f.model.weights = w.to_matrix<double>("weights");
  f.model.visible_bias = take("visible_bias", 1).to_column<double>("visible_bias");
  f.model.hidden_bias = take("hidden_bias", 1).to_column<double>("hidden_bias");
  f.model.validate(path);
  if (arrays.count("data_marginals")) {
    const Array m = take("data_marginals", 1);
    f.data_marginals = m.to_column<double>("data_marginals");
    check_data(std::size_t(f.data_marginals->size()) == f.model.n_visible(),
               "{}: array 'data_marginals' has {} entries; expected {} (n_visible)", path, f.data_marginals->size(),
               f.model.n_visible());
    for (Eigen::Index i = 0; i < f.data_marginals->size(); ++i) {
      const double p = (*f.data_marginals)[i];
      check_data(p >= 0 && p <= 1, "{}: data_marginals[{}] = {} is not a probability", path, i, p);
    }
  }
  for (auto& [name, a] : arrays) f.extra.emplace_back(name, std::move(a));
  return f;
}

RbmFile load_rbm(const std::string& path) {
  auto arrays = read_npz(path);
  // A file with the RBM's three arrays that is another kind's (a Gaussian–Bernoulli RBM
  // has them too) must not be read as a binary RBM. Files whose kind cannot be told keep
  // the reader's own messages.
  if (arrays.count("weights") && arrays.count("visible_bias") && arrays.count("hidden_bias")) {
    std::optional<ModelKind> kind;
    try {
      kind = model_kind(arrays, path);
    } catch (const Error&) {
    }
    if (kind && *kind != ModelKind::rbm) {
      const bool marked = arrays.count(std::string(kKindMarker)) > 0;
      fail(Exit::data, "{}: not an RBM model file: it holds a {} model ({})", path, kind_name(*kind),
           marked ? fmt::format("array '{}' is '{}'", kKindMarker, kind_name(*kind))
                  : fmt::format("array '{}'", signature_array(*kind)));
    }
  }
  return parse_rbm(std::move(arrays), path);
}

template <class T>
void save_rbm(const std::string& path, const Rbm<T>& m, const std::optional<VectorD>& data_marginals, const NamedArrays& extra) {
  write_npz(path, rbm_arrays(m, data_marginals, extra));
}

template <class T>
NamedArrays rbm_arrays(const Rbm<T>& m, const std::optional<VectorD>& data_marginals, const NamedArrays& extra) {
  NamedArrays arrays;
  arrays.emplace_back("weights", Array::from_matrix<T>(m.weights));
  arrays.emplace_back("visible_bias", Array::from_vector<T>(m.visible_bias));
  arrays.emplace_back("hidden_bias", Array::from_vector<T>(m.hidden_bias));
  if (data_marginals) arrays.emplace_back("data_marginals", Array::from_vector<double>(*data_marginals));
  arrays.emplace_back(std::string(kKindMarker), kind_marker_array(ModelKind::rbm));
  for (const auto& e : extra) arrays.push_back(e);
  return arrays;
}

template NamedArrays rbm_arrays<float>(const Rbm<float>&, const std::optional<VectorD>&, const NamedArrays&);
template NamedArrays rbm_arrays<double>(const Rbm<double>&, const std::optional<VectorD>&, const NamedArrays&);
template void save_rbm<float>(const std::string&, const Rbm<float>&, const std::optional<VectorD>&, const NamedArrays&);
template void save_rbm<double>(const std::string&, const Rbm<double>&, const std::optional<VectorD>&, const NamedArrays&);

}  // namespace logz::io
