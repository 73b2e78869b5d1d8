// logz._logz: the compiled half of the Python package (python/logz/ is the other half).
// It is a front end like the CLI, on the same API by task (api/tasks.hpp):
//   arguments → io::ModelFile → a task → Python objects,
// with the same model files, the same configs and the same messages, the config fields
// written as Python keywords. Every long call releases the GIL; progress reaches Python
// through an Observer that also checks for Ctrl-C (a KeyboardInterrupt ends the call
// between two blocks of work). Library errors become the Python exceptions of
// python/logz/errors.py by their sysexits code.
#include <fmt/ranges.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>

#include "logz/api/config_fields.hpp"
#include "logz/api/continuous_train.hpp"
#include "logz/api/mrf_train.hpp"
#include "logz/api/rbm_tasks.hpp"
#include "logz/api/tasks.hpp"
#include "logz/core/check.hpp"
#include "logz/io/dataset.hpp"
#include "logz/io/model_file.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/npz.hpp"
#include "logz/tempering/batch_energy_path.hpp"

namespace py = pybind11;
using namespace logz;

namespace {

constexpr const char* kWho = "logz";

// ---------------------------------------------------------------- JSON ↔ Python

py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& e : j) out.append(to_python(e));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : j.items()) out[py::str(k)] = to_python(v);
      return out;
    }
    default: return py::none();
  }
}

// ---------------------------------------------------------------- arrays

/// A NumPy array owning a copy of `n` values of T.
template <class T>
py::array_t<T> owned_array(std::vector<py::ssize_t> shape, const T* data) {
  py::array_t<T> out(shape);
  if (out.size() > 0) std::memcpy(out.mutable_data(), data, std::size_t(out.size()) * sizeof(T));
  return out;
}

py::array to_numpy(const io::Array& a) {
  std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end());
  const auto* p = a.bytes.data();
  switch (a.dtype) {
    case io::DType::u8: return owned_array(shape, reinterpret_cast<const std::uint8_t*>(p));
    case io::DType::i32: return owned_array(shape, reinterpret_cast<const std::int32_t*>(p));
    case io::DType::i64: return owned_array(shape, reinterpret_cast<const std::int64_t*>(p));
    case io::DType::f32: return owned_array(shape, reinterpret_cast<const float*>(p));
    case io::DType::f64: return owned_array(shape, reinterpret_cast<const double*>(p));
  }
  return py::none();
}

/// An io::Array from a NumPy array of a dtype files hold (bool is read as uint8, other
/// integers as int64, other floats as float64), in C order whatever its memory order.
io::Array from_numpy(const std::string& name, py::array a) {
  const py::dtype dt = a.dtype();
  const char kind = dt.kind();
  io::DType t;
  py::array c;
  if (kind == 'b' || (kind == 'u' && dt.itemsize() == 1)) {
    t = io::DType::u8, c = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(a);
  } else if (kind == 'i' && dt.itemsize() == 4) {
    t = io::DType::i32, c = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>::ensure(a);
  } else if (kind == 'i' || kind == 'u') {
    t = io::DType::i64, c = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  } else if (kind == 'f' && dt.itemsize() == 4) {
    t = io::DType::f32, c = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  } else if (kind == 'f') {
    t = io::DType::f64, c = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  } else {
    fail(Exit::usage, "{}: array '{}' has dtype {}; expected booleans, integers or floats", kWho, name,
         std::string(py::str(static_cast<const py::handle&>(dt))));
  }
  io::Array out;
  out.dtype = t;
  for (py::ssize_t d = 0; d < c.ndim(); ++d) out.shape.push_back(std::size_t(c.shape(d)));
  out.bytes.resize(std::size_t(c.nbytes()));
  if (!out.bytes.empty()) std::memcpy(out.bytes.data(), c.data(), out.bytes.size());
  return out;
}

/// 0/1 bytes from a 2-D array of any numeric dtype, each entry checked to be 0 or 1.
MatrixU8 binary_matrix(py::array a, const std::string& field, std::string_view who) {
  const auto x = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  MatrixU8 m(x.shape(0), x.shape(1));
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    const double v = x.data()[i];
    check_config_data(v == 0.0 || v == 1.0, {field}, "{}: @0 (array): entry at row {}, column {} (0-based) is {}, not 0 or 1",
                      who, i / m.cols(), i % m.cols(), v);
    m.data()[i] = std::uint8_t(v);
  }
  return m;
}

/// The address of the rows the last task was given: the array's own buffer when it was
/// borrowed, a copy's otherwise. A test hook only (logz._logz._last_rows_address): the
/// tests read it to check that no copy was made; nothing else reads it.
std::atomic<const void*> g_last_rows{nullptr};

/// Rows for a model from a 2-D NumPy array (any numeric dtype, either memory order),
/// checked by api::check_dataset: borrowed without a copy when the array already has the
/// layout the model reads (C order, uint8 for binary RBMs, float64 otherwise), else
/// converted. A borrowed array must outlive the Dataset (the caller's argument does).
api::Dataset dataset_from_numpy(py::array a, const io::ModelFile& model, const std::string& field, std::string_view who) {
  check_config(a.ndim() == 2, {field}, "{}: @0 must be a 2-D array (one row per sample), got {} dimensions", who,
               a.ndim());
  api::Dataset d{MatrixD(), "(array)"};
  const auto rows = Eigen::Index(a.shape(0)), cols = Eigen::Index(a.shape(1));
  const bool c_order = (a.flags() & py::array::c_style) != 0;
  if (kind_of(model.model) == ModelKind::rbm) {
    if (c_order && py::isinstance<py::array_t<std::uint8_t>>(a))
      d.rows = api::BorrowedRows<std::uint8_t>{static_cast<const std::uint8_t*>(a.data()), rows, cols};
    else
      d.rows = binary_matrix(a, field, who);
  } else if (c_order && py::isinstance<py::array_t<double>>(a)) {
    d.rows = api::BorrowedRows<double>{static_cast<const double*>(a.data()), rows, cols};
  } else {
    const auto x = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
    d.rows = MatrixD(Eigen::Map<const MatrixD>(x.data(), rows, cols));
  }
  g_last_rows = kind_of(model.model) == ModelKind::rbm ? static_cast<const void*>(api::binary_rows(d.rows).data())
                                                      : static_cast<const void*>(api::real_rows(d.rows).data());
  api::check_dataset(d, model, field, who);
  return d;
}

/// Data given as a spec (a path, "fashion-mnist:test") or as an array.
api::Dataset dataset_from(py::handle data, const io::ModelFile& model, const std::string& field, std::string_view who) {
  if (py::isinstance<py::str>(data)) return api::load_dataset(data.cast<std::string>(), model, field, who);
  return dataset_from_numpy(py::array::ensure(data), model, field, who);
}

// ---------------------------------------------------------------- progress and Ctrl-C

/// Reports progress to a Python callable and checks for signals, at most every 0.1 s,
/// from the thread that called into logz (OpenMP thread 0: ProgressTicker's rule). A
/// KeyboardInterrupt (or an exception of the callback) is thrown as error_already_set,
/// which parallel_for carries to the caller and pybind11 gives back to Python.
class PythonObserver final : public Observer {
 public:
  explicit PythonObserver(py::object callback) : callback_(std::move(callback)) {}
  void progress(std::string_view phase, std::size_t done, std::size_t total) override {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!callback_.is_none()) callback_(std::string(phase), done, total);
  }
  void message(std::string_view text) override {
    py::gil_scoped_acquire gil;
    if (!callback_.is_none() && py::hasattr(callback_, "message")) callback_.attr("message")(std::string(text));
  }

 private:
  py::object callback_;
  std::chrono::steady_clock::time_point last_{};
};

// ---------------------------------------------------------------- configs from keywords

/// Sets a config field from a Python value by the field's declared type.
OptionValue option_value(const OptionField& f, py::handle v, std::string_view who) {
  switch (f.type) {
    case OptionType::count: {
      check_config(py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v), {f.name}, "{}: @0 must be an integer, got {}",
                   who, std::string(py::repr(v)));
      const auto i = v.cast<long long>();
      return std::int64_t(i);
    }
    case OptionType::real:
      check_config(py::isinstance<py::float_>(v) || (py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v)),
                   {f.name}, "{}: @0 must be a number, got {}", who, std::string(py::repr(v)));
      return v.cast<double>();
    case OptionType::text:
      check_config(py::isinstance<py::str>(v), {f.name}, "{}: @0 must be a string, got {}", who,
                   std::string(py::repr(v)));
      return v.cast<std::string>();
  }
  return std::int64_t{0};
}

/// A training config's field from a Python value, by the member's type: a count takes a
/// non-negative integer (NumPy's too), a real any number, a flag True/False, a text a
/// string, a list of reals any sequence of numbers. ConfigError naming the field otherwise.
void assign(std::size_t& out, py::handle v, const std::string& name, std::string_view who) {
  const bool integer = PyIndex_Check(v.ptr()) && !PyBool_Check(v.ptr());
  const auto as_int = [&] { return py::int_(py::reinterpret_borrow<py::object>(v)); };
  check_config(integer && as_int().cast<long long>() >= 0, {name}, "{}: @0 must be a non-negative integer, got {}", who,
               std::string(py::repr(v)));
  out = as_int().cast<std::size_t>();
}
void assign(double& out, py::handle v, const std::string& name, std::string_view who) {
  check_config(PyNumber_Check(v.ptr()) && !PyBool_Check(v.ptr()) && !PyComplex_Check(v.ptr()), {name},
               "{}: @0 must be a number, got {}", who, std::string(py::repr(v)));
  out = py::float_(py::reinterpret_borrow<py::object>(v)).cast<double>();
}
void assign(bool& out, py::handle v, const std::string& name, std::string_view who) {
  check_config(PyBool_Check(v.ptr()) || py::isinstance(v, py::module_::import("numpy").attr("bool_")), {name},
               "{}: @0 must be True or False, got {}", who, std::string(py::repr(v)));
  out = v.cast<bool>();
}
void assign(std::string& out, py::handle v, const std::string& name, std::string_view who) {
  check_config(py::isinstance<py::str>(v), {name}, "{}: @0 must be a string, got {}", who, std::string(py::repr(v)));
  out = v.cast<std::string>();
}
void assign(std::vector<double>& out, py::handle v, const std::string& name, std::string_view who) {
  out.clear();
  check_config(py::isinstance<py::sequence>(v) || py::isinstance<py::array>(v), {name},
               "{}: @0 must be a sequence of numbers, got {}", who, std::string(py::repr(v)));
  for (py::handle e : py::iter(v)) {
    double x = 0;
    assign(x, e, name, who);
    out.push_back(x);
  }
}

/// Sets the fields of config C that `kw` names (api/config_fields.hpp); returns the
/// keywords that are not C's fields, for the caller's other configs.
template <class C>
py::dict set_fields(C& config, const py::dict& kw, std::string_view who) {
  py::dict rest;
  for (const auto& [k, v] : kw) {
    const std::string name = py::cast<std::string>(k);
    if (const api::ConfigField<C>* f = api::find_config_field<C>(name))
      std::visit([&](auto member) { assign(config.*member, v, name, who); }, f->member);
    else
      rest[k] = v;
  }
  return rest;
}

/// Usage error for keywords no config took, listing the ones the call takes.
void reject_unknown(const py::dict& rest, std::string_view who, std::string_view call, const std::string& known) {
  for (const auto& [k, v] : rest)
    fail(Exit::usage, "{}: unknown option '{}' of {} ({})", who, k.cast<std::string>(), call, known);
}

/// The estimate config from keywords: the common fields and every method's options.
api::EstimateConfig estimate_config(const py::dict& kw, std::string_view who) {
  api::EstimateConfig c;
  std::map<std::string, OptionField> fields;  // copies: method_option_fields() returns a temporary
  for (const OptionField& f : api::common_estimate_fields()) fields.emplace(f.name, f);
  for (const OptionField& f : api::method_option_fields()) fields.emplace(f.name, f);
  for (const auto& [k, v] : kw) {
    const std::string name = k.cast<std::string>();
    const auto it = fields.find(name);
    if (it == fields.end()) {
      std::string known;
      for (const auto& [n, f] : fields) known += (known.empty() ? "" : ", ") + n;
      fail(Exit::usage, "{}: unknown option '{}' (options: {})", who, name, known);
    }
    api::set_field(c, name, option_value(it->second, v, who));
  }
  c.validate(who);
  return c;
}

/// The option fields as (name, type, default, help, range) for docstrings and the stubs.
py::list option_fields() {
  py::list out;
  const auto add = [&](const OptionField& f) {
    const char* type = f.type == OptionType::count ? "int" : f.type == OptionType::real ? "float" : "str";
    out.append(py::make_tuple(f.name, type, OptionField::format(f.default_value), f.help, f.range()));
  };
  for (const OptionField& f : api::common_estimate_fields()) add(f);
  for (const OptionField& f : api::method_option_fields()) add(f);
  return out;
}

// ---------------------------------------------------------------- results

py::dict estimate_dict(const api::EstimateConfig& c, const api::ReplicatedEstimate& r, const nlohmann::json& details) {
  nlohmann::json j = api::to_json(c);
  j.update(api::to_json(r));
  j.update(details);
  py::dict out = to_python(j);
  const LogZEstimate& first = r.runs.front();
  const std::size_t K = first.steps.size();
  std::vector<double> beta(K), ess(K), acc(K), var(K), rhat(K), swap(K), anc(K);
  std::vector<std::uint8_t> resampled(K);
  for (std::size_t k = 0; k < K; ++k) {
    const StepDiagnostics& s = first.steps[k];
    beta[k] = s.beta, ess[k] = s.ess, acc[k] = s.acceptance, var[k] = s.log_weight_variance, rhat[k] = s.rhat;
    swap[k] = s.swap_rate, anc[k] = s.unique_ancestors, resampled[k] = s.resampled;
  }
  const auto col = [&](const std::vector<double>& v) { return owned_array<double>({py::ssize_t(K)}, v.data()); };
  py::dict table;
  table["beta"] = col(beta), table["ess"] = col(ess), table["acceptance"] = col(acc);
  table["log_weight_variance"] = col(var), table["rhat"] = col(rhat), table["swap_rate"] = col(swap);
  table["unique_ancestors"] = col(anc);
  table["resampled"] = owned_array<std::uint8_t>({py::ssize_t(K)}, resampled.data()).attr("astype")("bool");
  out["steps"] = table;
  out["log_weights"] = owned_array<double>({py::ssize_t(r.combined.log_weights.size())}, r.combined.log_weights.data());
  const auto [lo, hi] = std::isfinite(r.combined.std_error) ? r.combined.interval(0.95) : std::pair<double, double>{NAN, NAN};
  out["interval_95"] = py::make_tuple(lo, hi);
  out["dof"] = r.combined.dof;
  return out;
}

// ---------------------------------------------------------------- the model object

using ModelPtr = std::shared_ptr<const io::ModelFile>;

py::dict arrays_of(const io::ModelFile& f) {
  py::dict out;
  for (const auto& [name, a] : io::model_arrays(f)) out[py::str(name)] = to_numpy(a);
  return out;
}

ModelPtr model_from_dict(const py::dict& arrays, const std::string& source) {
  std::map<std::string, io::Array> m;
  for (const auto& [k, v] : arrays) {
    const std::string name = k.cast<std::string>();
    m.emplace(name, from_numpy(name, py::array::ensure(v)));
  }
  return std::make_shared<const io::ModelFile>(io::model_from_arrays(std::move(m), source));
}

// ---------------------------------------------------------------- tasks

Exec make_exec(int threads) {
  check_config(threads >= 0, {"threads"}, "{}: @0 must be at least 0 (0 = all cores), got {}", kWho, threads);
  return Exec(threads);
}

py::dict exact(const ModelPtr& model, int threads) {
  const Exec ex = make_exec(threads);
  api::ExactResult r;
  {
    py::gil_scoped_release nogil;
    r = api::exact_log_z(*model, ex);
  }
  py::dict out = to_python(r.details.is_null() ? nlohmann::json::object() : r.details);
  out["log_z"] = r.log_z, out["how"] = r.how, out["seconds"] = r.seconds;
  return out;
}

struct Inputs {
  std::optional<api::Dataset> base_data, start_data;
  api::EstimateInputs in;
};

void read_inputs(Inputs& i, const io::ModelFile& model, const py::dict& kw, std::string_view who) {
  if (kw.contains("base_data") && !kw["base_data"].is_none())
    i.base_data = dataset_from(kw["base_data"], model, "base_data", who);
  if (kw.contains("data") && !kw["data"].is_none()) i.start_data = dataset_from(kw["data"], model, "data", who);
  // An RBM's base rate comes from --data too (as the CLI does) unless base_data is given.
  if (i.start_data) i.in.start_data = &*i.start_data;
  if (i.base_data) i.in.base_data = &*i.base_data;
  if (kw.contains("kernel")) i.in.kernel.kernel = kw["kernel"].cast<std::string>();
  if (kw.contains("step_size")) i.in.kernel.step_size = kw["step_size"].cast<double>();
  if (kw.contains("leapfrog")) i.in.kernel.leapfrog = kw["leapfrog"].cast<std::size_t>();
  if (kw.contains("base")) {
    const std::string b = kw["base"].cast<std::string>();
    check_config(b == "auto" || b == "fit" || b == "data", {"base"}, "{}: @0 must be auto, fit or data, got '{}'", who, b);
    i.in.base = b == "fit" ? api::BaseChoice::fit : b == "data" ? api::BaseChoice::data : api::BaseChoice::model_default;
    check_config(b != "data" || i.base_data, {"base", "base_data"}, "{}: @0 'data' needs @1", who);
  }
}

/// Splits keywords into the config's and the inputs' (data, base_data, kernel, ...).
std::pair<py::dict, py::dict> split_keywords(const py::dict& kw) {
  static const std::vector<std::string> input_keys = {"data", "base_data", "kernel", "step_size", "leapfrog", "base"};
  py::dict config, inputs;
  for (const auto& [k, v] : kw) {
    const std::string name = k.cast<std::string>();
    if (std::find(input_keys.begin(), input_keys.end(), name) != input_keys.end()) inputs[k] = v;
    else config[k] = v;
  }
  return {config, inputs};
}

py::dict estimate(const ModelPtr& model, int threads, py::object progress, const py::dict& kw) {
  const auto [config_kw, input_kw] = split_keywords(kw);
  constexpr std::string_view who = "estimate";
  const api::EstimateConfig c = estimate_config(config_kw, who);
  const Exec ex = make_exec(threads);
  Inputs inputs;
  read_inputs(inputs, *model, input_kw, who);
  PythonObserver obs(std::move(progress));
  api::LogZResult r;
  {
    py::gil_scoped_release nogil;
    r = api::estimate_log_z(*model, c, inputs.in, ex, obs, who);
  }
  return estimate_dict(c, r.estimate, r.details);
}

py::dict evaluate(const ModelPtr& model, py::handle data, int threads, py::object progress, const py::dict& kw) {
  const auto [config_kw, input_kw] = split_keywords(kw);
  constexpr std::string_view who = "eval";
  const api::EstimateConfig c = estimate_config(config_kw, who);
  const Exec ex = make_exec(threads);
  const api::Dataset rows = dataset_from(data, *model, "data", who);
  Inputs inputs;
  read_inputs(inputs, *model, input_kw, who);
  PythonObserver obs(std::move(progress));
  api::Evaluation e;
  {
    py::gil_scoped_release nogil;
    e = api::evaluate(*model, rows, c, inputs.in, ex, obs, who);
  }
  py::dict out = to_python(e.details.is_null() ? nlohmann::json::object() : e.details);
  out["log_z"] = to_python(api::to_json(e.log_z));
  out["mean_log_likelihood"] = e.mean_log_likelihood, out["std_error"] = e.std_error;
  out[py::str("mean_" + e.energy_name)] = e.mean_energy;
  out[py::str(e.energy_name + "_std_error")] = e.energy_std_error;
  out["rows"] = e.rows;
  out["per_row"] = owned_array<double>({py::ssize_t(e.per_row.size())}, e.per_row.data());
  if (e.per_site.size() > 0) out["per_site"] = owned_array<double>({py::ssize_t(e.per_site.size())}, e.per_site.data());
  return out;
}

py::tuple sample(const ModelPtr& model, int threads, py::object progress, const py::dict& kw) {
  api::SampleConfig c;
  for (const auto& [k, v] : kw) {
    const std::string n = k.cast<std::string>();
    if (n == "chains") c.chains = v.cast<std::size_t>();
    else if (n == "steps") c.steps = v.cast<std::size_t>();
    else if (n == "seed") c.seed = v.cast<std::uint64_t>();
    else if (n == "exact") c.exact = v.cast<bool>();
    else if (n == "kernel") c.kernel = v.cast<std::string>();
    else if (n == "step_size") c.step_size = v.cast<double>();
    else if (n == "leapfrog") c.leapfrog = v.cast<std::size_t>();
    else if (n == "warmup") c.warmup = v.cast<std::size_t>();
    else if (n == "thin") c.thin = v.cast<std::size_t>();
    else if (n == "target_acceptance") c.target_acceptance = v.cast<double>();
    else
      fail(Exit::usage, "{}: unknown option '{}' of sample (chains, steps, seed, exact, kernel, step_size, leapfrog, "
                        "warmup, thin, target_acceptance)", "sample", n);
  }
  c.validate("sample");
  const Exec ex = make_exec(threads);
  PythonObserver obs(std::move(progress));
  api::Samples s;
  {
    py::gil_scoped_release nogil;
    s = api::sample(*model, c, ex, obs);
  }
  py::dict info = to_python(s.details.is_null() ? nlohmann::json::object() : s.details);
  info["how"] = s.how;
  return py::make_tuple(to_numpy(s.states), info);
}

py::tuple describe(const ModelPtr& model, int threads) {
  const Exec ex = make_exec(threads);
  api::Description d;
  {
    py::gil_scoped_release nogil;
    d = api::describe(*model, ex);
  }
  return py::make_tuple(d.text, to_python(d.json));
}

// ---------------------------------------------------------------- user energies

/// A NumPy-vectorised Python energy: energy(X) → n energies for an [n, d] array X, and
/// optionally grad(X) → an [n, d] array of gradients. Called with the GIL held, on copies
/// of the particles (the callable may keep or change what it is given).
class PythonEnergy final : public BatchEnergy {
 public:
  PythonEnergy(py::object energy, py::object grad, std::size_t d) : energy_(std::move(energy)), grad_(std::move(grad)), d_(d) {}
  std::size_t dimension() const override { return d_; }
  bool has_gradient() const override { return !grad_.is_none(); }
  void energies(const MatrixD& x, std::span<double> out) const override {
    py::gil_scoped_acquire gil;
    read(energy_(as_array(x)), "energy", x, false, out.data());
  }
  void energies_and_gradients(const MatrixD& x, std::span<double> out, MatrixD& grad) const override {
    py::gil_scoped_acquire gil;
    const py::array arg = as_array(x);
    read(energy_(arg), "energy", x, false, out.data());
    grad.resize(x.rows(), x.cols());
    read(grad_(arg), "grad", x, true, grad.data());
  }

 private:
  static py::array as_array(const MatrixD& x) { return owned_array<double>({x.rows(), x.cols()}, x.data()); }
  /// Copies a callable's result of the expected shape (n,) or (n, d) into `out` (C order).
  void read(const py::object& result, const char* what, const MatrixD& x, bool matrix, double* out) const {
    const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(result);
    const bool ok = a && a.ndim() == (matrix ? 2 : 1) && a.shape(0) == x.rows() && (!matrix || a.shape(1) == x.cols());
    if (!ok) {
      const std::string want = matrix ? fmt::format("({}, {})", x.rows(), x.cols()) : fmt::format("({},)", x.rows());
      const std::string got = a ? fmt::format("an array of shape ({})", fmt::join(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()), ", "))
                                : std::string(py::repr(py::type::of(result)));
      fail(Exit::data, "estimate: {}(X) for X of shape ({}, {}) returned {}; expected an array of shape {}", what, x.rows(),
           x.cols(), got, want);
    }
    std::memcpy(out, a.data(), std::size_t(a.size()) * sizeof(double));
  }

  py::object energy_, grad_;
  std::size_t d_;
};

/// The Gaussian base of a user energy: N(0, base_sigma² I), or fitted to `base_data` rows.
Gaussian energy_base(std::size_t d, const py::dict& kw) {
  if (kw.contains("base_data") && !kw["base_data"].is_none()) {
    const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(kw["base_data"]);
    check_config(a && a.ndim() == 2 && std::size_t(a.shape(1)) == d, {"base_data"},
                 "{}: @0 must be an [n, {}] array", "estimate", d);
    return Gaussian::fit(MatrixD(Eigen::Map<const MatrixD>(a.data(), a.shape(0), a.shape(1))));
  }
  const double sigma = kw.contains("base_sigma") ? kw["base_sigma"].cast<double>() : 2.0;
  check_config(std::isfinite(sigma) && sigma > 0, {"base_sigma"}, "{}: @0 must be positive, got {}", "estimate", sigma);
  return Gaussian::isotropic(d, sigma);
}

BatchEnergyPath::Moves energy_moves(const py::dict& kw, bool has_grad, std::size_t sweeps) {
  BatchEnergyPath::Moves m;
  m.kernel = kw.contains("kernel") ? kw["kernel"].cast<std::string>() : has_grad ? "mala" : "rwm";
  if (kw.contains("step_size")) m.step_size = kw["step_size"].cast<double>();
  m.sweeps = sweeps;
  return m;
}

py::dict estimate_energy(py::object energy, py::object grad, std::size_t d, int threads, py::object progress,
                         const py::dict& kw) {
  check_config(d >= 1, {"dim"}, "{}: @0 must be >= 1, got {}", "estimate", d);
  py::dict config_kw, path_kw;
  for (const auto& [k, v] : kw) {
    const std::string n = k.cast<std::string>();
    if (n == "kernel" || n == "step_size" || n == "base_sigma" || n == "base_data" || n == "data") path_kw[k] = v;
    else config_kw[k] = v;
  }
  const api::EstimateConfig c = estimate_config(config_kw, "estimate");
  const Exec ex = make_exec(threads);
  const PythonEnergy target(std::move(energy), std::move(grad), d);
  const Gaussian base = energy_base(d, path_kw);
  const BatchEnergyPath::Moves moves = energy_moves(path_kw, target.has_gradient(), c.sweeps);
  const BatchEnergyPath path(base, target, moves);
  std::optional<MatrixD> start;
  if (path_kw.contains("data") && !path_kw["data"].is_none()) {
    const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(path_kw["data"]);
    check_config(a && a.ndim() == 2 && std::size_t(a.shape(1)) == d, {"data"}, "{}: @0 must be an [n, {}] array", "estimate", d);
    start = MatrixD(Eigen::Map<const MatrixD>(a.data(), a.shape(0), a.shape(1)));
  }
  check_config(c.method != "raise" || start, {"method", "data"}, "{}: @0 raise needs @1: the reverse chains' start rows",
               "estimate");
  check_config(c.method != "exact", {"method"}, "{}: @0 exact needs a closed form, which a Python energy has not", "estimate");
  PythonObserver obs(std::move(progress));
  api::ReplicatedEstimate r;
  {
    py::gil_scoped_release nogil;  // the energy takes it back for each call
    r = api::replicate(c, ex, obs, [&](const api::EstimateConfig& one, const Exec& run_ex, Observer& run_obs) {
      check_config(!start || std::size_t(start->rows()) >= one.chains, {"chains", "data"},
                   "{}: @0 {} exceeds the {} rows of @1", "estimate", one.chains, start ? start->rows() : 0);
      const MatrixD* s = nullptr;
      MatrixD rows;
      if (start) rows = start->topRows(Eigen::Index(one.chains)), s = &rows;
      return api::estimate_on_path(path, one, s, run_ex, run_obs);
    });
  }
  const nlohmann::json details = {
      {"kind", "energy"}, {"dimension", d}, {"kernel", moves.kernel}, {"step_size", moves.step_size},
      {"base", path_kw.contains("base_data") ? "a Gaussian fitted to base_data" : "an isotropic Gaussian (base_sigma)"}};
  return estimate_dict(c, r, details);
}

/// Draws from a Python energy: `chains` independent chains started from the base (as in
/// estimate_energy), each moved `steps` times by the path's kernel at β = 1; chain c draws
/// only from Stream::derive(seed, sample, c), so the draws do not depend on the thread count.
py::tuple sample_energy(py::object energy, py::object grad, std::size_t d, py::object progress, const py::dict& kw) {
  check_config(d >= 1, {"dim"}, "sample: @0 must be >= 1, got {}", d);
  std::size_t chains = 64, steps = 1000, sweeps = 1;
  std::uint64_t seed = 1;
  py::dict path_kw;
  for (const auto& [k, v] : kw) {
    const std::string n = k.cast<std::string>();
    if (n == "chains") chains = v.cast<std::size_t>();
    else if (n == "steps") steps = v.cast<std::size_t>();
    else if (n == "seed") seed = v.cast<std::uint64_t>();
    else if (n == "kernel" || n == "step_size" || n == "base_sigma" || n == "base_data") path_kw[k] = v;
    else
      fail(Exit::usage, "sample: unknown option '{}' for a Python energy (chains, steps, seed, kernel, step_size, "
                        "base_sigma, base_data)", n);
  }
  check_config(chains >= 1, {"chains"}, "sample: @0 must be >= 1, got {}", chains);
  check_config(steps >= 1, {"steps"}, "sample: @0 must be >= 1, got {}", steps);
  const PythonEnergy target(std::move(energy), std::move(grad), d);
  const Gaussian base = energy_base(d, path_kw);
  // Random-walk Metropolis unless asked for MALA: chains start in the base's tails, where
  // MALA on an energy growing faster than quadratically rejects nearly every move (it is not
  // geometrically ergodic there, Roberts & Tweedie 1996): on the ring, 300 MALA steps left
  // E|x|^2 at 5.6 against 2.2.
  if (!path_kw.contains("kernel")) path_kw["kernel"] = "rwm";
  const BatchEnergyPath::Moves moves = energy_moves(path_kw, target.has_gradient(), sweeps);
  const BatchEnergyPath path(base, target, moves);
  std::vector<Stream> streams = Stream::root(seed).children(Purpose::sample, chains);
  PythonObserver obs(std::move(progress));
  MatrixD x;
  double accepted = 0;
  {
    py::gil_scoped_release nogil;
    const Exec one(1);
    path.draw_base(one, x, streams);
    for (std::size_t t = 0; t < steps; ++t) {
      accepted += path.move(one, x, 1.0, streams).acceptance;
      obs.progress("sample", t + 1, steps);
    }
  }
  py::dict info;
  info["acceptance_rate"] = accepted / double(steps);
  info["how"] = fmt::format("{} chains x {} steps ({})", chains, steps, moves.kernel);
  return py::make_tuple(owned_array<double>({x.rows(), x.cols()}, x.data()), info);
}

// ---------------------------------------------------------------- training

/// Binary rows for RBM training: a spec (fashion-mnist:train, a .npy) or an array of 0/1.
MatrixU8 binary_rows(py::handle data, const std::string& field) {
  if (py::isinstance<py::str>(data)) return io::load_binary_data(data.cast<std::string>());
  const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(data);
  check_config(a && a.ndim() == 2 && a.shape(0) > 0 && a.shape(1) > 0, {field},
               "{}: @0 must be a non-empty 2-D array of 0/1 (one row per sample)", "train");
  return binary_matrix(a, field, "train");
}

py::tuple train_rbm(py::handle data, py::handle test_data, int threads, py::object progress, const py::dict& kw) {
  api::TrainConfig c;
  api::TrainFiles files;
  reject_unknown(set_fields(files, set_fields(c, kw, "train"), "train"), "train", "train_rbm",
                 api::config_field_names<api::TrainConfig>() + ", " + api::config_field_names<api::TrainFiles>());
  c.validate();
  const Exec ex = make_exec(threads);
  const MatrixU8 train = binary_rows(data, "data");
  const MatrixU8 test = test_data.is_none() ? MatrixU8() : binary_rows(test_data, "test_data");
  check_config_data(test.size() == 0 || test.cols() == train.cols(), {"test_data", "data"},
                    "{}: @0 has {} columns but @1 has {}", "train", test.cols(), train.cols());
  PythonObserver obs(std::move(progress));
  api::TrainResult r;
  {
    py::gil_scoped_release nogil;
    r = api::train_rbm(train, test, c, files, ex, obs);
  }
  auto file = std::make_shared<io::ModelFile>();
  file->model = r.model.template cast<double>();
  file->data_marginals = r.data_marginals;
  file->dtype = io::DType::f32;  // trained in float32, written back in it
  py::list epochs;
  for (const api::EpochReport& e : r.epochs) epochs.append(to_python(e.to_json()));
  return py::make_tuple(ModelPtr(std::move(file)), epochs);
}

/// Fits a continuous model (gaussian, grbm, experts, neural) as `logz train MODEL` does.
py::tuple train_continuous(py::handle data, int threads, py::object progress, const py::dict& kw) {
  api::ContinuousTrainConfig c;
  reject_unknown(set_fields(c, kw, "train"), "train", "train_continuous", api::config_field_names<api::ContinuousTrainConfig>());
  c.validate();
  const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(data);
  check_config(a && a.ndim() == 2 && a.shape(0) > 0 && a.shape(1) > 0, {"data"},
               "train: @0 must be a non-empty 2-D array of reals (one row per sample)");
  const MatrixD x = Eigen::Map<const MatrixD>(a.data(), a.shape(0), a.shape(1));
  const Exec ex = make_exec(threads);
  PythonObserver obs(std::move(progress));
  std::optional<api::ContinuousTrainResult> fitted;  // no default model to construct
  {
    py::gil_scoped_release nogil;
    fitted.emplace(api::train_continuous(x, c, ex, obs));
  }
  api::ContinuousTrainResult& r = *fitted;
  auto file = std::make_shared<io::ModelFile>();
  file->model = std::visit([](auto&& m) { return AnyModel(std::move(m)); }, std::move(r.model));
  py::dict info;
  info["objective"] = r.objective;
  info["trace"] = owned_array<double>({py::ssize_t(r.trace.size())}, r.trace.data());
  info["iterations"] = r.iterations, info["converged"] = r.converged, info["stopped_by"] = r.stopped_by;
  info["acceptance"] = r.acceptance;
  info["nce_log_z"] = r.nce_log_z ? py::object(py::float_(*r.nce_log_z)) : py::none();
  info["parameters"] = r.parameters;
  return py::make_tuple(ModelPtr(std::move(file)), info);
}

/// Fits an Ising model as `logz train ising` does; data: a .npy path or an array of spins.
py::tuple train_ising(py::handle data, int threads, const py::dict& kw) {
  api::IsingTrainConfig c;
  reject_unknown(set_fields(c, kw, "train ising"), "train ising", "Ising", api::config_field_names<api::IsingTrainConfig>());
  c.validate();
  MatrixD spins;
  std::string source = "(array)";
  if (py::isinstance<py::str>(data)) {
    source = data.cast<std::string>();
    spins = io::read_npy(source).to_matrix<double>(source);
  } else {
    const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(data);
    check_config(a && a.ndim() == 2, {"data"}, "train ising: @0 must be a 2-D array of spins (one row per sample)");
    spins = Eigen::Map<const MatrixD>(a.data(), a.shape(0), a.shape(1));
  }
  const Exec ex = make_exec(threads);
  std::optional<IsingFit> fit;  // no default model to construct
  {
    py::gil_scoped_release nogil;
    fit.emplace(api::train_ising(spins, c, ex, source));
  }
  auto file = std::make_shared<io::ModelFile>();
  file->model = fit->model;
  py::dict info;
  info["method"] = std::string(fit->method);
  info["iterations"] = fit->iterations, info["converged"] = fit->converged, info["trace_name"] = fit->trace_name;
  info["trace"] = owned_array<double>({py::ssize_t(fit->trace.size())}, fit->trace.data());
  info["swap_rates"] = fit->swap_acceptance, info["round_trips"] = fit->round_trips;
  return py::make_tuple(ModelPtr(std::move(file)), info);
}

/// Fits a Potts model as `logz train potts` does; data: an alignment or .npy path, or an
/// array of integer states. Returns the model file and the fit's figures (with the
/// weights used, one per sequence kept).
py::tuple train_potts(py::handle data, int threads, py::object progress, const py::dict& kw) {
  api::PottsTrainConfig c;
  api::PottsDataConfig in;
  reject_unknown(set_fields(in, set_fields(c, kw, "train potts"), "train potts"), "train potts", "Potts",
                 api::config_field_names<api::PottsTrainConfig>() + ", " + api::config_field_names<api::PottsDataConfig>());
  c.validate();
  in.validate();
  const Exec ex = make_exec(threads);
  PythonObserver obs(std::move(progress));
  std::optional<api::PottsTrainingData> d;
  std::optional<api::PottsTrainResult> r;
  MatrixD states;
  if (!py::isinstance<py::str>(data)) {
    const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(data);
    check_config(a && a.ndim() == 2, {"data"}, "train potts: @0 must be a 2-D array of states (one row per sequence)");
    states = Eigen::Map<const MatrixD>(a.data(), a.shape(0), a.shape(1));
  }
  const std::string path = py::isinstance<py::str>(data) ? data.cast<std::string>() : std::string();
  {
    py::gil_scoped_release nogil;
    d.emplace(path.empty() ? api::potts_training_data(states, in) : api::load_potts_training_data(path, in, ex));
    r.emplace(api::train_potts(*d, c, ex, obs));
  }
  py::dict info = to_python(r->details);
  info["summary"] = r->summary;
  info["trace"] = owned_array<double>({py::ssize_t(r->trace.size())}, r->trace.data());
  info["weights"] = owned_array<double>({py::ssize_t(d->data.weights.size())}, d->data.weights.data());
  info["weights_source"] = d->weights_source;
  info["skipped"] = d->alignment.skipped;
  return py::make_tuple(std::make_shared<const io::ModelFile>(std::move(r->file)), info);
}

/// The contact scores of a Potts model, numbered as `train potts --contacts` numbers them.
py::dict contacts(const ModelPtr& model) {
  const api::ContactTable t = api::contact_table(*model);
  const std::size_t n = t.scores.size();
  std::vector<std::int64_t> i(n), j(n);
  std::vector<double> f(n), apc(n);
  std::string ai(n, '-'), aj(n, '-');
  for (std::size_t k = 0; k < n; ++k) {
    const ContactScore& c = t.scores[k];
    i[k] = t.positions.empty() ? std::int64_t(c.i + 1) : t.positions[c.i];
    j[k] = t.positions.empty() ? std::int64_t(c.j + 1) : t.positions[c.j];
    if (!t.letters.empty()) ai[k] = t.letters[c.i], aj[k] = t.letters[c.j];
    f[k] = c.frobenius, apc[k] = c.apc;
  }
  const auto ints = [&](const std::vector<std::int64_t>& v) { return owned_array<std::int64_t>({py::ssize_t(n)}, v.data()); };
  const auto reals = [&](const std::vector<double>& v) { return owned_array<double>({py::ssize_t(n)}, v.data()); };
  const auto letters = [&](const std::string& v) {
    return owned_array<std::uint8_t>({py::ssize_t(n)}, reinterpret_cast<const std::uint8_t*>(v.data())).attr("view")("S1");
  };
  py::dict out;
  out["i"] = ints(i), out["ai"] = letters(ai), out["j"] = ints(j), out["aj"] = letters(aj);
  out["frobenius"] = reals(f), out["apc"] = reals(apc);
  out["text"] = t.text();
  return out;
}

/// E(x) of each row (F(v) for an RBM), the rows read in place when their layout allows.
py::array energies(const ModelPtr& model, py::handle data, int threads) {
  const api::Dataset d = dataset_from(data, *model, "data", "energies");
  const Exec ex = make_exec(threads);
  VectorD e;
  {
    py::gil_scoped_release nogil;
    e = api::energies(*model, d, ex);
  }
  return owned_array<double>({e.size()}, e.data());
}

}  // namespace

PYBIND11_MODULE(_logz, m) {
  m.doc() = "The compiled core of logz (use the logz package, not this module).";

  // Library errors by sysexits code: the classes of logz/errors.py (ValueError, OSError and
  // MemoryError subclasses), looked up when an error happens.
  py::register_exception_translator([](std::exception_ptr p) {
    const auto raise = [](int code, const char* fallback, const std::string& message) {
      py::object cls = py::module_::import("builtins").attr(fallback);
      try {
        cls = py::module_::import("logz.errors").attr("error_class")(code);
      } catch (const py::error_already_set&) {  // the package's Python half is missing: builtins
      }
      PyErr_SetObject(cls.ptr(), py::str(message).ptr());
    };
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      raise(int(e.code()), "ValueError", e.render([](std::string_view f) { return std::string(f); }));
    } catch (const Error& e) {
      raise(int(e.code()), "RuntimeError", e.what());
    } catch (const std::bad_alloc&) {
      raise(int(Exit::unavailable), "MemoryError", "logz: out of memory");
    }
  });

  py::class_<io::ModelFile, std::shared_ptr<io::ModelFile>>(m, "_ModelFile");
  m.def("load", [](const std::string& path) -> ModelPtr {
    py::gil_scoped_release nogil;
    return std::make_shared<const io::ModelFile>(io::load_model(path));
  });
  m.def("save", [](const ModelPtr& model, const std::string& path) {
    py::gil_scoped_release nogil;
    io::save_model(path, *model);
  });
  m.def("from_arrays", &model_from_dict);
  m.def("arrays", [](const ModelPtr& model) { return arrays_of(*model); });
  m.def("kind", [](const ModelPtr& model) { return std::string(kind_name(kind_of(model->model))); });
  m.def("dimension", [](const ModelPtr& model) { return dimension_of(model->model); });
  m.def("describe", &describe);
  m.def("exact", &exact);
  m.def("estimate", &estimate);
  m.def("evaluate", &evaluate);
  m.def("sample", &sample);
  m.def("option_fields", &option_fields);
  m.def("interval", [](double log_z, double std_error, double dof, double level) {
    check_config(level > 0 && level < 1, {"level"}, "{}: @0 must be in (0, 1), got {}", kWho, level);
    LogZEstimate e;
    e.log_z = log_z, e.std_error = std_error, e.dof = dof;
    return e.interval(level);
  });
  m.def("estimate_energy", &estimate_energy);
  m.def("train_rbm", &train_rbm);
  m.def("sample_energy", &sample_energy);
  m.def("train_continuous", &train_continuous);
  m.def("train_ising", &train_ising);
  m.def("train_potts", &train_potts);
  m.def("contacts", &contacts);
  m.def("energies", &energies);
  m.def("_last_rows_address", [] { return reinterpret_cast<std::uintptr_t>(g_last_rows.load()); });
  m.def("estimator_names", [] { return api::estimator_names(); });
}
