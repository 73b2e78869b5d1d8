// Model files of any kind: the one rule that tells a file's kind, and load_model /
// save_model on top of the per-kind readers and writers (see model_file.hpp).
#include "logz/io/model_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <type_traits>
#include <utility>

#include "logz/core/check.hpp"
#include "logz/io/continuous_file.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/plmc_params.hpp"
#include "logz/io/rbm_file.hpp"

namespace logz::io {
namespace {

using Arrays = std::map<std::string, Array>;

std::string known_kinds() {
  std::string s;
  for (ModelKind k : kAllModelKinds) s += (s.empty() ? "" : ", ") + std::string(kind_name(k));
  return s;
}

std::string arrays_found(const Arrays& arrays) {
  if (arrays.empty()) return "no arrays";
  std::string s = "arrays";
  bool first = true;
  for (const auto& [name, a] : arrays) {
    s += fmt::format("{} '{}' {}", first ? "" : ",", name, a.shape_string());
    first = false;
  }
  return s;
}

ContinuousKind continuous_kind(ModelKind k) {
  switch (k) {
    case ModelKind::gaussian: return ContinuousKind::gaussian;
    case ModelKind::grbm: return ContinuousKind::grbm;
    case ModelKind::experts: return ContinuousKind::experts;
    case ModelKind::neural: return ContinuousKind::neural;
    default: fail(Exit::software, "continuous_kind: {} is not a continuous kind", kind_name(k));
  }
}

}  // namespace

std::string_view signature_array(ModelKind kind) {
  switch (kind) {
    case ModelKind::rbm: return "weights";
    case ModelKind::grbm: return "visible_sigma";
    case ModelKind::ising:
    case ModelKind::potts: return "couplings";
    case ModelKind::gaussian: return "precision";
    case ModelKind::experts: return "filters";
    case ModelKind::neural: return "output_weights";
  }
  return {};
}

std::vector<ModelKind> kinds_fitting(const Arrays& arrays) {
  std::vector<ModelKind> kinds;
  if (const auto c = arrays.find("couplings"); c != arrays.end()) {
    if (c->second.ndim() == 2) kinds.push_back(ModelKind::ising);
    if (c->second.ndim() == 4) kinds.push_back(ModelKind::potts);
  }
  for (ModelKind k : {ModelKind::grbm, ModelKind::gaussian, ModelKind::experts, ModelKind::neural})
    if (arrays.count(std::string(signature_array(k)))) kinds.push_back(k);
  // A binary RBM has no array of its own: it is what is left when the three common
  // arrays are there and nothing of another kind is.
  if (kinds.empty() && !arrays.count("couplings") && arrays.count("weights") && arrays.count("visible_bias") &&
      arrays.count("hidden_bias"))
    kinds.push_back(ModelKind::rbm);
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

std::optional<std::string> kind_marker(const Arrays& arrays, std::string_view path) {
  const auto it = arrays.find(std::string(kKindMarker));
  if (it == arrays.end()) return std::nullopt;
  const Array& m = it->second;
  check_data(m.dtype == DType::u8 && m.ndim() == 1, "{}: array '{}' has dtype {} and shape {}; expected uint8 name bytes",
             path, kKindMarker, dtype_name(m.dtype), m.shape_string());
  return std::string(reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size());
}

Array kind_marker_array(ModelKind kind) {
  const std::string_view name = kind_name(kind);
  return Array::from_values<std::uint8_t>({name.size()}, std::vector<std::uint8_t>(name.begin(), name.end()));
}

ModelKind model_kind(const Arrays& arrays, std::string_view path) {
  if (const std::optional<std::string> marker = kind_marker(arrays, path)) {
    const std::optional<ModelKind> kind = kind_by_name(*marker);
    check_data(kind.has_value(), "{}: array '{}' is '{}'; expected one of {}", path, kKindMarker, *marker, known_kinds());
    return *kind;
  }
  const std::vector<ModelKind> kinds = kinds_fitting(arrays);
  if (kinds.size() == 1) return kinds.front();
  // Part of a binary RBM and nothing else: its reader names the array that is missing.
  if (kinds.empty() && !arrays.count("couplings") &&
      (arrays.count("weights") || arrays.count("visible_bias") || arrays.count("hidden_bias")))
    return ModelKind::rbm;
  if (kinds.empty())
    fail(Exit::data,
         "{}: cannot tell the kind of model: the file has {} and no '{}' array; expected 'weights', 'visible_bias', "
         "'hidden_bias' (rbm, and with 'visible_sigma': grbm), 'fields' and 'couplings' of 2 dimensions (ising) or 4 "
         "(potts), 'mean' and 'precision' (gaussian), 'filters', 'alpha', 'quadratic' (experts), or 'weights', "
         "'hidden_bias', 'output_weights', 'linear', 'quadratic' (neural)",
         path, arrays_found(arrays), kKindMarker);
  std::string candidates;
  for (ModelKind k : kinds)
    candidates += fmt::format("{}{} ('{}')", candidates.empty() ? "" : ", ", kind_name(k), signature_array(k));
  fail(Exit::data,
       "{}: the arrays fit more than one kind of model: {}; add a '{}' array naming the kind, e.g. "
       "np.savez(..., {}=np.frombuffer(b\"{}\", np.uint8))",
       path, candidates, kKindMarker, kKindMarker, kind_name(kinds.front()));
}

ModelFile load_model(const std::string& path) {
  if (std::optional<ModelFile> plmc = read_model_if_plmc(path)) return std::move(*plmc);  // told by its content
  return model_from_arrays(read_npz(path), path);
}

ModelFile model_from_arrays(Arrays arrays, const std::string& path) {
  const ModelKind kind = model_kind(arrays, path);
  ModelFile f;
  switch (kind) {
    case ModelKind::rbm: {
      RbmFile r = parse_rbm(std::move(arrays), path);
      f.model = std::move(r.model);
      f.dtype = r.dtype;
      f.data_marginals = std::move(r.data_marginals);
      f.extra = std::move(r.extra);
      break;
    }
    case ModelKind::ising: {
      IsingFile r = parse_ising(std::move(arrays), path);
      f.model = std::move(r.model);
      f.extra = std::move(r.extra);
      break;
    }
    case ModelKind::potts: {
      PottsFile r = parse_potts(std::move(arrays), path);
      f.model = std::move(r.model);
      f.alphabet = std::move(r.alphabet);
      f.extra = std::move(r.extra);
      break;
    }
    case ModelKind::grbm:
    case ModelKind::gaussian:
    case ModelKind::experts:
    case ModelKind::neural: {
      ContinuousFile r = parse_continuous(std::move(arrays), path, continuous_kind(kind));
      f.model = std::visit([](auto&& m) { return AnyModel(std::move(m)); }, std::move(r.model));
      f.extra = std::move(r.extra);
      break;
    }
  }
  return f;
}

NamedArrays model_arrays(const ModelFile& file) {
  const ModelKind kind = kind_of(file.model);
  check_arg(!file.data_marginals || kind == ModelKind::rbm, "save_model: data_marginals given for a {} model; only an rbm has them",
            kind_name(kind));
  check_arg(!file.alphabet || kind == ModelKind::potts, "save_model: alphabet given for a {} model; only a potts model has one",
            kind_name(kind));
  check_arg(kind != ModelKind::rbm || file.dtype == DType::f32 || file.dtype == DType::f64,
            "save_model: dtype {} for an rbm; expected float32 or float64", dtype_name(file.dtype));
  return std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, RbmD>) {
          if (file.dtype == DType::f32) return rbm_arrays<float>(m.template cast<float>(), file.data_marginals, file.extra);
          return rbm_arrays<double>(m, file.data_marginals, file.extra);
        } else if constexpr (std::is_same_v<M, Ising>) {
          return ising_arrays(m, file.extra);
        } else if constexpr (std::is_same_v<M, Potts>) {
          return potts_arrays(m, file.alphabet, file.extra);
        } else {
          return continuous_arrays(ContinuousModel(m), file.extra);
        }
      },
      file.model);
}

void save_model(const std::string& path, const ModelFile& file) { write_npz(path, model_arrays(file)); }

}  // namespace logz::io
