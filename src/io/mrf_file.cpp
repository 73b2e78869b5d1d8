// Ising and Potts model files (.npz with dense fields and couplings, optional edges).
//
// The dense coupling array is the interchange format (what NumPy users hold); the edge
// list, when present, pins the graph and its order so that a sparse model, zero
// couplings included, comes back exactly as it was saved.
#include "logz/io/mrf_file.hpp"

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/io/model_file.hpp"

namespace logz::io {

namespace {

using Arrays = std::map<std::string, Array>;

/// Removes array `name` from `arrays` and checks it is a float array of `ndim` dimensions.
Array take_float(Arrays& arrays, const std::string& path, const char* kind, const char* name, std::size_t ndim,
                 const char* expected_shape) {
  auto it = arrays.find(name);
  check_data(it != arrays.end(), "{}: not {} model file: array '{}' is missing (expected fields, couplings)", path, kind,
             name);
  Array a = std::move(it->second);
  arrays.erase(it);
  check_data(a.dtype == DType::f32 || a.dtype == DType::f64, "{}: array '{}' has dtype {}; expected float32 or float64",
             path, name, dtype_name(a.dtype));
  check_data(a.ndim() == ndim, "{}: array '{}' has shape {}; expected {}", path, name, a.shape_string(), expected_shape);
  return a;
}

/// Element i of an integer array, refusing values beyond 2^53, which the double that
/// Array::at returns would not hold exactly (and which no site count or index reaches).
std::int64_t integer_at(const Array& a, std::size_t i, const std::string& path, const char* name) {
  const double v = a.at(i);
  check_data(std::abs(v) <= 9007199254740992.0, "{}: array '{}' element {} = {} is out of range", path, name, i, v);
  return std::int64_t(v);
}

/// The optional `edges` array as (i, j) pairs, checked against n sites: integer dtype,
/// shape (m, 2), indices in range, no self-loop, no pair twice (in either orientation).
std::optional<std::vector<std::pair<std::size_t, std::size_t>>> take_edges(Arrays& arrays, const std::string& path,
                                                                            std::size_t n) {
  auto it = arrays.find("edges");
  if (it == arrays.end()) return std::nullopt;
  const Array a = std::move(it->second);
  arrays.erase(it);
  check_data(a.dtype == DType::u8 || a.dtype == DType::i32 || a.dtype == DType::i64,
             "{}: array 'edges' has dtype {}; expected an integer type (int64)", path, dtype_name(a.dtype));
  check_data(a.ndim() == 2 && a.shape[1] == 2, "{}: array 'edges' has shape {}; expected (m, 2)", path, a.shape_string());
  const std::size_t m = a.shape[0];
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  edges.reserve(m);
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> seen;
  for (std::size_t e = 0; e < m; ++e) {
    const std::int64_t i = integer_at(a, 2 * e, path, "edges"), j = integer_at(a, 2 * e + 1, path, "edges");
    check_data(i >= 0 && j >= 0 && std::size_t(i) < n && std::size_t(j) < n,
               "{}: edges[{}] = ({}, {}) has a site out of range [0, {})", path, e, i, j, n);
    check_data(i != j, "{}: edges[{}] = ({}, {}) is a self-loop", path, e, i, j);
    const std::pair<std::size_t, std::size_t> key{std::size_t(std::min(i, j)), std::size_t(std::max(i, j))};
    const auto [pos, fresh] = seen.emplace(key, e);
    check_data(fresh, "{}: edges[{}] = ({}, {}) repeats edges[{}]", path, e, i, j, pos->second);
    edges.emplace_back(std::size_t(i), std::size_t(j));
  }
  return edges;
}

/// on[i·n + j] (both orientations) for the pairs of `edges`.
std::vector<bool> edge_mask(const std::vector<std::pair<std::size_t, std::size_t>>& edges, std::size_t n) {
  std::vector<bool> on(n * n, false);
  for (const auto& [i, j] : edges) on[i * n + j] = on[j * n + i] = true;
  return on;
}

NamedArrays rest(Arrays& arrays) {
  NamedArrays out;
  for (auto& [name, a] : arrays) out.emplace_back(name, std::move(a));
  return out;
}

std::vector<std::int64_t> edge_values(std::size_t m, auto&& edge) {
  std::vector<std::int64_t> v;
  v.reserve(2 * m);
  for (std::size_t e = 0; e < m; ++e) {
    const auto [i, j] = edge(e);
    v.push_back(std::int64_t(i));
    v.push_back(std::int64_t(j));
  }
  return v;
}

}  // namespace

IsingFile parse_ising(std::map<std::string, Array> arrays, const std::string& path) {
  arrays.erase(std::string(kKindMarker));
  const Array fa = take_float(arrays, path, "an Ising", "fields", 1, "(n,): one field per spin");
  const std::size_t n = fa.shape[0];
  check_data(n > 0, "{}: array 'fields' is empty; the model needs at least one spin", path);
  const Array ca = take_float(arrays, path, "an Ising", "couplings", 2, "(n, n)");
  check_data(ca.shape[0] == n && ca.shape[1] == n, "{}: array 'couplings' has shape {}; expected ({}, {}) for {} spins",
             path, ca.shape_string(), n, n, n);
  const std::vector<double> h = fa.to_vector<double>(), J = ca.to_vector<double>();
  for (std::size_t i = 0; i < n; ++i) check_data(std::isfinite(h[i]), "{}: fields[{}] = {} is not finite", path, i, h[i]);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      check_data(std::isfinite(J[i * n + j]), "{}: couplings[{}, {}] = {} is not finite", path, i, j, J[i * n + j]);
  for (std::size_t i = 0; i < n; ++i)
    check_data(J[i * n + i] == 0, "{}: couplings[{}, {}] = {}; the diagonal must be zero", path, i, i, J[i * n + i]);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      check_data(J[i * n + j] == J[j * n + i], "{}: couplings are not symmetric: couplings[{}, {}] = {} but couplings[{}, {}] = {}",
                 path, i, j, J[i * n + j], j, i, J[j * n + i]);

  auto graph = take_edges(arrays, path, n);
  const bool explicit_edges = graph.has_value();
  if (graph) {
    const std::vector<bool> on = edge_mask(*graph, n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        check_data(on[i * n + j] || J[i * n + j] == 0, "{}: couplings[{}, {}] = {} but ({}, {}) is not in 'edges'", path,
                   i, j, J[i * n + j], i, j);
  } else {
    graph.emplace();
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        if (J[i * n + j] != 0) graph->emplace_back(i, j);
  }

  SpinConvention convention = SpinConvention::plus_minus_one;
  if (auto s = arrays.find("spins"); s != arrays.end()) {
    const Array a = std::move(s->second);
    arrays.erase(s);
    check_data(a.ndim() == 1 && a.shape[0] == 2, "{}: array 'spins' has shape {}; expected (2,): the values [down, up]",
               path, a.shape_string());
    const double down = a.at(0), up = a.at(1);
    check_data(up == 1 && (down == -1 || down == 0),
               "{}: array 'spins' = [{}, {}] is not a spin convention; expected [-1, 1] (±1 spins) or [0, 1] (0/1 spins)",
               path, down, up);
    if (down == 0) convention = SpinConvention::zero_one;
  }

  VectorD fields = Eigen::Map<const VectorD>(h.data(), Eigen::Index(n));
  if (auto l = arrays.find("lattice"); l != arrays.end()) {
    const Array a = std::move(l->second);
    arrays.erase(l);
    check_data(a.dtype == DType::u8 || a.dtype == DType::i32 || a.dtype == DType::i64,
               "{}: array 'lattice' has dtype {}; expected an integer type (int64)", path, dtype_name(a.dtype));
    check_data(a.ndim() == 1 && a.shape[0] == 4,
               "{}: array 'lattice' has shape {}; expected (4,): rows, cols, periodic_rows, periodic_cols", path,
               a.shape_string());
    const std::int64_t rows = integer_at(a, 0, path, "lattice"), cols = integer_at(a, 1, path, "lattice"),
                       pr = integer_at(a, 2, path, "lattice"), pc = integer_at(a, 3, path, "lattice");
    // rows · cols = n, asked without forming a product that could overflow.
    const bool spans_n = rows >= 1 && cols >= 1 && n % std::size_t(cols) == 0 && n / std::size_t(cols) == std::size_t(rows);
    check_data(spans_n && (pr == 0 || pr == 1) && (pc == 0 || pc == 1),
               "{}: array 'lattice' = [{}, {}, {}, {}] does not describe a lattice of {} spins (rows·cols = n, periodic 0 or 1)",
               path, rows, cols, pr, pc, n);
    const auto boundary = [](std::int64_t p) { return p ? Boundary::periodic : Boundary::open; };
    Ising model = [&] {
      try {
        return Ising::lattice_2d(std::size_t(rows), std::size_t(cols), 0.0, 0.0, boundary(pr), boundary(pc), convention);
      } catch (const Error& e) {
        fail(Exit::data, "{}: array 'lattice' = [{}, {}, {}, {}]: {}", path, rows, cols, pr, pc, e.what());
      }
    }();
    const auto& bonds = model.edges();
    const std::vector<bool> on = edge_mask([&] {
      std::vector<std::pair<std::size_t, std::size_t>> b;
      for (const IsingEdge& e : bonds) b.emplace_back(e.i, e.j);
      return b;
    }(), n);
    if (explicit_edges) {
      check_data(graph->size() == bonds.size(), "{}: array 'edges' has {} edges but the lattice has {} bonds", path,
                 graph->size(), bonds.size());
      for (std::size_t e = 0; e < bonds.size(); ++e)
        check_data((*graph)[e].first == bonds[e].i && (*graph)[e].second == bonds[e].j,
                   "{}: edges[{}] = ({}, {}) but bond {} of the lattice is ({}, {})", path, e, (*graph)[e].first,
                   (*graph)[e].second, e, bonds[e].i, bonds[e].j);
    }
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        check_data(on[i * n + j] || J[i * n + j] == 0, "{}: couplings[{}, {}] = {} but ({}, {}) is not a bond of the lattice",
                   path, i, j, J[i * n + j], i, j);
    VectorD theta(Eigen::Index(n + bonds.size()));
    theta.head(Eigen::Index(n)) = fields;
    for (std::size_t e = 0; e < bonds.size(); ++e) theta[Eigen::Index(n + e)] = J[bonds[e].i * n + bonds[e].j];
    model.set_parameters(theta);
    return IsingFile{std::move(model), rest(arrays)};
  }
  std::vector<IsingEdge> edges;
  edges.reserve(graph->size());
  for (const auto& [i, j] : *graph) edges.push_back({i, j, J[i * n + j]});
  return IsingFile{Ising(n, std::move(edges), std::move(fields), convention), rest(arrays)};
}

PottsFile parse_potts(std::map<std::string, Array> arrays, const std::string& path) {
  arrays.erase(std::string(kKindMarker));
  const Array fa = take_float(arrays, path, "a Potts", "fields", 2, "(L, q): one field per site and state");
  const std::size_t L = fa.shape[0], q = fa.shape[1];
  check_data(L > 0, "{}: array 'fields' has shape {}; the model needs at least one site", path, fa.shape_string());
  check_data(q >= 2, "{}: array 'fields' has shape {}; a Potts model needs q >= 2 states", path, fa.shape_string());
  const Array ca = take_float(arrays, path, "a Potts", "couplings", 4, "(L, L, q, q)");
  check_data(ca.shape[0] == L && ca.shape[1] == L && ca.shape[2] == q && ca.shape[3] == q,
             "{}: array 'couplings' has shape {}; expected ({}, {}, {}, {}) for {} sites and {} states", path,
             ca.shape_string(), L, L, q, q, L, q);
  const std::vector<double> h = fa.to_vector<double>(), J = ca.to_vector<double>();
  auto at = [&](std::size_t i, std::size_t j, std::size_t a, std::size_t b) { return J[((i * L + j) * q + a) * q + b]; };
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t a = 0; a < q; ++a)
      check_data(std::isfinite(h[i * q + a]), "{}: fields[{}, {}] = {} is not finite", path, i, a, h[i * q + a]);
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t j = 0; j < L; ++j)
      for (std::size_t a = 0; a < q; ++a)
        for (std::size_t b = 0; b < q; ++b)
          check_data(std::isfinite(at(i, j, a, b)), "{}: couplings[{}, {}, {}, {}] = {} is not finite", path, i, j, a, b,
                     at(i, j, a, b));
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t a = 0; a < q; ++a)
      for (std::size_t b = 0; b < q; ++b)
        check_data(at(i, i, a, b) == 0, "{}: couplings[{}, {}, {}, {}] = {}; the diagonal blocks couplings[i, i] must be zero",
                   path, i, i, a, b, at(i, i, a, b));
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t j = i + 1; j < L; ++j)
      for (std::size_t a = 0; a < q; ++a)
        for (std::size_t b = 0; b < q; ++b)
          check_data(at(i, j, a, b) == at(j, i, b, a),
                     "{}: couplings are not symmetric: couplings[{}, {}, {}, {}] = {} but couplings[{}, {}, {}, {}] = {}", path,
                     i, j, a, b, at(i, j, a, b), j, i, b, a, at(j, i, b, a));

  auto block_nonzero = [&](std::size_t i, std::size_t j) -> std::optional<std::pair<std::size_t, std::size_t>> {
    for (std::size_t a = 0; a < q; ++a)
      for (std::size_t b = 0; b < q; ++b)
        if (at(i, j, a, b) != 0) return std::pair{a, b};
    return std::nullopt;
  };
  auto graph = take_edges(arrays, path, L);
  if (graph) {
    const std::vector<bool> on = edge_mask(*graph, L);
    for (std::size_t i = 0; i < L; ++i)
      for (std::size_t j = i + 1; j < L; ++j)
        if (!on[i * L + j])
          if (const auto ab = block_nonzero(i, j))
            fail(Exit::data, "{}: couplings[{}, {}, {}, {}] = {} but ({}, {}) is not in 'edges'", path, i, j, ab->first,
                 ab->second, at(i, j, ab->first, ab->second), i, j);
  } else {
    graph.emplace();
    for (std::size_t i = 0; i < L; ++i)
      for (std::size_t j = i + 1; j < L; ++j)
        if (block_nonzero(i, j)) graph->emplace_back(i, j);
  }

  std::optional<std::string> alphabet;
  if (auto s = arrays.find("alphabet"); s != arrays.end()) {
    const Array a = std::move(s->second);
    arrays.erase(s);
    check_data(a.dtype == DType::u8, "{}: array 'alphabet' has dtype {}; expected uint8 (one letter per state)", path,
               dtype_name(a.dtype));
    check_data(a.ndim() == 1 && a.shape[0] == q, "{}: array 'alphabet' has shape {}; expected ({},): one letter per state",
               path, a.shape_string(), q);
    alphabet.emplace(reinterpret_cast<const char*>(a.bytes.data()), q);
    check_alphabet(*alphabet, path);
  }

  std::vector<PottsEdge> edges;
  VectorD couplings(Eigen::Index(graph->size() * q * q));
  for (std::size_t e = 0; e < graph->size(); ++e) {
    const auto [i, j] = (*graph)[e];
    edges.push_back({i, j});
    for (std::size_t a = 0; a < q; ++a)
      for (std::size_t b = 0; b < q; ++b) couplings[Eigen::Index((e * q + a) * q + b)] = at(i, j, a, b);
  }
  MatrixD fields = Eigen::Map<const MatrixD>(h.data(), Eigen::Index(L), Eigen::Index(q));
  return PottsFile{Potts(std::move(fields), std::move(edges), std::move(couplings)), std::move(alphabet), rest(arrays)};
}

namespace {

// The marker when it names an MRF kind; otherwise the rank of `couplings`, with the
// messages this reader has always given.
MrfKind kind_of(const Arrays& arrays, const std::string& path) {
  if (arrays.count(std::string(kKindMarker))) {
    if (const std::optional<ModelKind> k = kind_by_name(kind_marker(arrays, path).value())) {
      if (*k == ModelKind::ising) return MrfKind::ising;
      if (*k == ModelKind::potts) return MrfKind::potts;
    }
  }
  for (ModelKind k : kinds_fitting(arrays)) {
    if (k == ModelKind::ising) return MrfKind::ising;
    if (k == ModelKind::potts) return MrfKind::potts;
  }
  auto it = arrays.find("couplings");
  check_data(it != arrays.end(), "{}: not an Ising or Potts model file: array 'couplings' is missing", path);
  fail(Exit::data, "{}: array 'couplings' has shape {}; expected 2 dimensions (Ising) or 4 (Potts)", path,
       it->second.shape_string());
}

}  // namespace

void check_alphabet(std::string_view alphabet, const std::string& path) {
  for (std::size_t x = 0; x < alphabet.size(); ++x) {
    const auto c = static_cast<unsigned char>(alphabet[x]);
    check_data(c >= '!' && c <= '~', "{}: alphabet letter {} of state {} is not a printable character", path, int(c), x);
    for (std::size_t y = x + 1; y < alphabet.size(); ++y)
      check_data(alphabet[x] != alphabet[y], "{}: alphabet letter '{}' is given to states {} and {}", path, alphabet[x],
                 x, y);
  }
}

IsingFile load_ising(const std::string& path) { return parse_ising(read_npz(path), path); }

PottsFile load_potts(const std::string& path) { return parse_potts(read_npz(path), path); }

std::variant<IsingFile, PottsFile> load_mrf(const std::string& path) {
  Arrays arrays = read_npz(path);
  if (kind_of(arrays, path) == MrfKind::ising) return parse_ising(std::move(arrays), path);
  return parse_potts(std::move(arrays), path);
}

void save_ising(const std::string& path, const Ising& model, const NamedArrays& extra) {
  write_npz(path, ising_arrays(model, extra));
}

NamedArrays ising_arrays(const Ising& model, const NamedArrays& extra) {
  const std::size_t n = model.n_spins(), m = model.n_edges();
  MatrixD J = MatrixD::Zero(Eigen::Index(n), Eigen::Index(n));
  for (const IsingEdge& e : model.edges()) J(Eigen::Index(e.i), Eigen::Index(e.j)) = J(Eigen::Index(e.j), Eigen::Index(e.i)) = e.coupling;
  NamedArrays arrays;
  arrays.emplace_back("fields", Array::from_vector<double>(model.fields()));
  arrays.emplace_back("couplings", Array::from_matrix<double>(J));
  arrays.emplace_back("edges", Array::from_values<std::int64_t>(
                                   {m, 2}, edge_values(m, [&](std::size_t e) {
                                     return std::pair{model.edges()[e].i, model.edges()[e].j};
                                   })));
  const bool pm = model.convention() == SpinConvention::plus_minus_one;
  arrays.emplace_back("spins", Array::from_values<std::int64_t>({2}, {pm ? -1 : 0, 1}));
  if (const auto& l = model.lattice())
    arrays.emplace_back("lattice", Array::from_values<std::int64_t>(
                                       {4}, {std::int64_t(l->rows), std::int64_t(l->cols),
                                             l->boundary_rows == Boundary::periodic ? 1 : 0,
                                             l->boundary_cols == Boundary::periodic ? 1 : 0}));
  arrays.emplace_back(std::string(kKindMarker), kind_marker_array(ModelKind::ising));
  for (const auto& e : extra) arrays.push_back(e);
  return arrays;
}

void save_potts(const std::string& path, const Potts& model, const std::optional<std::string>& alphabet,
                const NamedArrays& extra) {
  write_npz(path, potts_arrays(model, alphabet, extra));
}

NamedArrays potts_arrays(const Potts& model, const std::optional<std::string>& alphabet, const NamedArrays& extra) {
  const std::size_t L = model.n_sites(), q = model.num_states(), m = model.n_edges();
  check_arg(!alphabet || alphabet->size() == q, "save_potts: alphabet \"{}\" has {} letters; the model has {} states",
            alphabet.value_or(""), alphabet.value_or("").size(), q);
  std::vector<double> J(L * L * q * q, 0.0);
  for (std::size_t e = 0; e < m; ++e) {
    const auto [i, j] = model.edges()[e];
    const auto blk = model.block(e);
    for (std::size_t a = 0; a < q; ++a)
      for (std::size_t b = 0; b < q; ++b) {
        J[((i * L + j) * q + a) * q + b] = blk[a * q + b];
        J[((j * L + i) * q + b) * q + a] = blk[a * q + b];
      }
  }
  NamedArrays arrays;
  arrays.emplace_back("fields", Array::from_matrix<double>(model.fields()));
  arrays.emplace_back("couplings", Array::from_values<double>({L, L, q, q}, J));
  arrays.emplace_back("edges", Array::from_values<std::int64_t>({m, 2}, edge_values(m, [&](std::size_t e) {
                                                                   return std::pair{model.edges()[e].i, model.edges()[e].j};
                                                                 })));
  if (alphabet) {
    std::vector<std::uint8_t> letters(alphabet->begin(), alphabet->end());
    arrays.emplace_back("alphabet", Array::from_values<std::uint8_t>({q}, letters));
  }
  arrays.emplace_back(std::string(kKindMarker), kind_marker_array(ModelKind::potts));
  for (const auto& e : extra) arrays.push_back(e);
  return arrays;
}

}  // namespace logz::io
