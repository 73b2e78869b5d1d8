// Continuous model files (.npz of named parameter arrays; see continuous_file.hpp).
//
// The kind is read from the `logz_kind` marker that logz writes, or, for files written
// by hand with np.savez, from the one array that only that kind has: the rule of
// io::model_kind, narrowed to the four continuous kinds, with this reader's own
// messages. Every parameter array is checked here for presence, dtype, rank, shape and
// finiteness (naming the file and the array); the models' own constructors then check
// what only they know (σ > 0, α > 0, a positive-definite precision), their messages
// prefixed with the path.
#include "logz/io/continuous_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <type_traits>
#include <utility>

#include "logz/core/check.hpp"
#include "logz/io/model_file.hpp"

namespace logz::io {
namespace {

using Arrays = std::map<std::string, Array>;

constexpr std::string_view kMarker = kKindMarker;

struct KindInfo {
  ContinuousKind kind;
  ModelKind model_kind;
  std::string_view name;
  const char* distinguishing;  ///< the array only this kind has
  std::string_view expected;   ///< its arrays, for messages
};

constexpr std::array<KindInfo, 4> kKinds = {{
    {ContinuousKind::gaussian, ModelKind::gaussian, "gaussian", "precision", "mean, precision"},
    {ContinuousKind::grbm, ModelKind::grbm, "grbm", "visible_sigma", "weights, visible_bias, hidden_bias, visible_sigma"},
    {ContinuousKind::experts, ModelKind::experts, "experts", "filters", "filters, alpha, quadratic"},
    {ContinuousKind::neural, ModelKind::neural, "neural", "output_weights",
     "weights, hidden_bias, output_weights, linear, quadratic"},
}};

const KindInfo& info(ContinuousKind k) { return kKinds[std::size_t(k)]; }

// The arrays a file of each kind owns (everything else is extra).
std::vector<std::string_view> own_arrays(ContinuousKind k) {
  switch (k) {
    case ContinuousKind::gaussian: return {"mean", "precision"};
    case ContinuousKind::grbm: return {"weights", "visible_bias", "hidden_bias", "visible_sigma", "learn_sigma"};
    case ContinuousKind::experts: return {"filters", "alpha", "quadratic"};
    case ContinuousKind::neural: return {"weights", "hidden_bias", "output_weights", "linear", "quadratic"};
  }
  return {};
}

// The kind of a file's arrays; nullopt when they are not a continuous model's (no
// marker and no distinguishing array, or a marker naming a discrete kind).
std::optional<ContinuousKind> kind_from(const Arrays& arrays, const std::string& path) {
  if (const std::optional<std::string> marker = kind_marker(arrays, path)) {
    const std::optional<ModelKind> kind = kind_by_name(*marker);
    check_data(kind.has_value(), "{}: array '{}' is '{}'; expected gaussian, grbm, experts or neural", path, kMarker,
               *marker);
    for (const KindInfo& k : kKinds)
      if (k.model_kind == *kind) return k.kind;
    return std::nullopt;
  }
  const std::vector<ModelKind> fits = kinds_fitting(arrays);
  std::optional<ContinuousKind> found;
  for (const KindInfo& k : kKinds) {
    if (std::find(fits.begin(), fits.end(), k.model_kind) == fits.end()) continue;
    if (found)  // (a branch, not check_data: its message would read *found while it is empty)
      fail(Exit::data, "{}: arrays '{}' ({}) and '{}' ({}) are both present; add a '{}' array to say which model it is",
           path, info(*found).distinguishing, info(*found).name, k.distinguishing, k.name, kMarker);
    found = k.kind;
  }
  return found;
}

[[noreturn]] void not_continuous(const std::string& path) {
  fail(Exit::data,
       "{}: not a continuous model file: no '{}' array and none of 'precision' (gaussian), 'visible_sigma' (grbm), "
       "'filters' (experts), 'output_weights' (neural)",
       path, kMarker);
}

// Reads the arrays of one kind, checking each as it is taken.
class Reader {
 public:
  Reader(Arrays& arrays, const std::string& path, ContinuousKind kind) : arrays_(arrays), path_(path), kind_(kind) {}

  bool has(const char* name) const { return arrays_.count(name) > 0; }

  Array take(const char* name) {
    auto it = arrays_.find(name);
    check_data(it != arrays_.end(), "{}: not a {} model file: array '{}' is missing (expected {})", path_,
               info(kind_).name, name, info(kind_).expected);
    Array a = std::move(it->second);
    arrays_.erase(it);
    return a;
  }

  Array take_float(const char* name) {
    Array a = take(name);
    check_data(a.dtype == DType::f32 || a.dtype == DType::f64, "{}: array '{}' has dtype {}; expected float32 or float64",
               path_, name, dtype_name(a.dtype));
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double v = a.at(i);
      if (std::isfinite(v)) [[likely]]
        continue;
      if (a.ndim() == 2)
        fail(Exit::data, "{}: array '{}' entry ({}, {}) is {}; expected a finite number", path_, name, i / a.shape[1],
             i % a.shape[1], v);
      fail(Exit::data, "{}: array '{}' entry {} is {}; expected a finite number", path_, name, i, v);
    }
    return a;
  }

  MatrixD matrix(const char* name, std::optional<std::size_t> rows, std::optional<std::size_t> cols) {
    const Array a = take_float(name);
    check_data(a.ndim() == 2, "{}: array '{}' has shape {}; expected 2 dimensions", path_, name, a.shape_string());
    check_data((!rows || a.shape[0] == *rows) && (!cols || a.shape[1] == *cols),
               "{}: array '{}' has shape {}; expected ({}, {})", path_, name, a.shape_string(),
               rows ? std::to_string(*rows) : std::string("*"), cols ? std::to_string(*cols) : std::string("*"));
    return a.to_matrix<double>(name);
  }

  VectorD vector(const char* name, std::optional<std::size_t> size) {
    const Array a = take_float(name);
    check_data(a.ndim() == 1, "{}: array '{}' has shape {}; expected 1 dimension", path_, name, a.shape_string());
    check_data(!size || a.shape[0] == *size, "{}: array '{}' has shape {}; expected ({},)", path_, name, a.shape_string(),
               size ? *size : 0);
    return a.to_column<double>(name);
  }

  double scalar(const char* name) {
    const Array a = take_float(name);
    check_data(a.size() == 1 && a.ndim() <= 1, "{}: array '{}' has shape {}; expected a scalar", path_, name,
               a.shape_string());
    return a.at(0);
  }

  /// An optional integer flag, 0 or 1 (absent: false).
  bool flag(const char* name) {
    if (!has(name)) return false;
    const Array a = take(name);
    check_data(a.dtype == DType::u8 || a.dtype == DType::i32 || a.dtype == DType::i64,
               "{}: array '{}' has dtype {}; expected an integer 0 or 1 (uint8)", path_, name, dtype_name(a.dtype));
    check_data(a.size() == 1 && a.ndim() <= 1, "{}: array '{}' has shape {}; expected a scalar", path_, name,
               a.shape_string());
    check_data(a.at(0) == 0 || a.at(0) == 1, "{}: array '{}' is {}; expected 0 or 1", path_, name, a.at(0));
    return a.at(0) == 1;
  }

  /// Builds a model, prefixing its constructor's message with the path.
  template <class F>
  auto build(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const Error& e) {
      throw Error(Exit::data, fmt::format("{}: {}", path_, e.what()));
    }
  }

 private:
  Arrays& arrays_;
  const std::string& path_;
  ContinuousKind kind_;
};

ContinuousModel read_model(Arrays& arrays, const std::string& path, ContinuousKind kind) {
  Reader r(arrays, path, kind);
  switch (kind) {
    case ContinuousKind::gaussian: {
      VectorD mean = r.vector("mean", std::nullopt);
      const auto d = std::size_t(mean.size());
      MatrixD precision = r.matrix("precision", d, d);
      return r.build([&] { return Gaussian(std::move(mean), std::move(precision)); });
    }
    case ContinuousKind::grbm: {
      GaussianRbm m;
      m.weights = r.matrix("weights", std::nullopt, std::nullopt);
      m.visible_bias = r.vector("visible_bias", m.n_visible());
      m.hidden_bias = r.vector("hidden_bias", m.n_hidden());
      m.visible_sigma = r.vector("visible_sigma", m.n_visible());
      m.learn_sigma = r.flag("learn_sigma");
      m.validate(path);
      return m;
    }
    case ContinuousKind::experts: {
      MatrixD filters = r.matrix("filters", std::nullopt, std::nullopt);
      VectorD alpha = r.vector("alpha", std::size_t(filters.rows()));
      const double quadratic = r.scalar("quadratic");
      return r.build([&] { return StudentTExperts(std::move(filters), std::move(alpha), quadratic); });
    }
    case ContinuousKind::neural: {
      MatrixD weights = r.matrix("weights", std::nullopt, std::nullopt);
      const auto h = std::size_t(weights.rows()), d = std::size_t(weights.cols());
      VectorD hidden_bias = r.vector("hidden_bias", h);
      VectorD output_weights = r.vector("output_weights", h);
      VectorD linear = r.vector("linear", d);
      const double quadratic = r.scalar("quadratic");
      return r.build([&] {
        return NeuralEnergy(std::move(weights), std::move(hidden_bias), std::move(output_weights), std::move(linear),
                            quadratic);
      });
    }
  }
  fail(Exit::software, "read_model: unknown kind");
}

Array scalar_array(double v) { return Array::from_values<double>({}, {v}); }

}  // namespace

std::string_view kind_name(ContinuousKind kind) { return info(kind).name; }

ContinuousKind kind_of(const ContinuousModel& model) {
  return std::visit(
      [](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Gaussian>) return ContinuousKind::gaussian;
        else if constexpr (std::is_same_v<M, GaussianRbm>) return ContinuousKind::grbm;
        else if constexpr (std::is_same_v<M, StudentTExperts>) return ContinuousKind::experts;
        else return ContinuousKind::neural;
      },
      model);
}

std::size_t dimension_of(const ContinuousModel& model) {
  return std::visit(
      [](const auto& m) {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, GaussianRbm>) return m.n_visible();
        else return m.dimension();
      },
      model);
}

ContinuousFile parse_continuous(std::map<std::string, Array> arrays, const std::string& path, ContinuousKind kind) {
  arrays.erase(std::string(kMarker));
  ContinuousFile f{read_model(arrays, path, kind), {}};
  for (auto& [name, a] : arrays) f.extra.emplace_back(name, std::move(a));
  return f;
}

ContinuousFile load_continuous_file(const std::string& path) {
  Arrays arrays = read_npz(path);
  const std::optional<ContinuousKind> kind = kind_from(arrays, path);
  if (!kind) not_continuous(path);
  return parse_continuous(std::move(arrays), path, *kind);
}

ContinuousModel load_continuous(const std::string& path) { return load_continuous_file(path).model; }


void save_continuous(const std::string& path, const ContinuousModel& model, const NamedArrays& extra) {
  write_npz(path, continuous_arrays(model, extra));
}

NamedArrays continuous_arrays(const ContinuousModel& model, const NamedArrays& extra) {
  const ContinuousKind kind = kind_of(model);
  NamedArrays arrays;
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Gaussian>) {
          arrays.emplace_back("mean", Array::from_vector<double>(m.mean()));
          arrays.emplace_back("precision", Array::from_matrix<double>(m.precision()));
        } else if constexpr (std::is_same_v<M, GaussianRbm>) {
          m.validate("save_continuous");
          arrays.emplace_back("weights", Array::from_matrix<double>(m.weights));
          arrays.emplace_back("visible_bias", Array::from_vector<double>(m.visible_bias));
          arrays.emplace_back("hidden_bias", Array::from_vector<double>(m.hidden_bias));
          arrays.emplace_back("visible_sigma", Array::from_vector<double>(m.visible_sigma));
          arrays.emplace_back("learn_sigma", Array::from_values<std::uint8_t>({}, {std::uint8_t(m.learn_sigma ? 1 : 0)}));
        } else if constexpr (std::is_same_v<M, StudentTExperts>) {
          arrays.emplace_back("filters", Array::from_matrix<double>(m.filters()));
          arrays.emplace_back("alpha", Array::from_vector<double>(m.alpha()));
          arrays.emplace_back("quadratic", scalar_array(m.quadratic()));
        } else {
          arrays.emplace_back("weights", Array::from_matrix<double>(m.weights()));
          arrays.emplace_back("hidden_bias", Array::from_vector<double>(m.hidden_bias()));
          arrays.emplace_back("output_weights", Array::from_vector<double>(m.output_weights()));
          arrays.emplace_back("linear", Array::from_vector<double>(m.linear()));
          arrays.emplace_back("quadratic", scalar_array(m.quadratic()));
        }
      },
      model);
  const std::string_view name = kind_name(kind);
  arrays.emplace_back(std::string(kMarker), kind_marker_array(info(kind).model_kind));
  const std::vector<std::string_view> own = own_arrays(kind);
  for (const auto& [n, a] : extra) {
    check_arg(n != kMarker && std::find(own.begin(), own.end(), n) == own.end(),
              "save_continuous: extra array '{}' has the name of one of the {} model's own arrays", n, name);
    arrays.emplace_back(n, a);
  }
  return arrays;
}

}  // namespace logz::io
