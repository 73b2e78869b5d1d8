// The data loader of the tasks and RAISE's start rows (api/data.hpp).
#include "logz/api/data.hpp"

#include <cmath>
#include <numeric>

#include "logz/core/check.hpp"
#include "logz/io/alignment.hpp"
#include "logz/io/dataset.hpp"
#include "logz/io/npy.hpp"

namespace logz::api {

namespace {

bool is_alignment(const std::string& spec) {
  for (const char* ext : {".fasta", ".fa", ".a2m", ".afa", ".aln"})
    if (spec.size() > std::string_view(ext).size() && spec.ends_with(ext)) return true;
  return false;
}

}  // namespace

MatrixD load_real_rows(const std::string& spec, const std::string& field, std::string_view who, std::size_t columns) {
  check_config(!spec.empty(), {field}, "{}: @0 must not be empty", who);
  const io::Array a = io::read_npy(spec);
  check_config_data(a.ndim() == 2, {field}, "{}: @0 {}: expected a 2-D array (one sample per row), got shape {}", who,
                    spec, a.shape_string());
  check_config_data(a.shape[0] > 0, {field}, "{}: @0 {} has no rows", who, spec);
  check_config_data(a.shape[1] > 0, {field}, "{}: @0 {} has no columns (shape {})", who, spec, a.shape_string());
  check_config_data(columns == 0 || a.shape[1] == columns, {field},
                    "{}: @0 {} has {} columns but the model has dimension {}", who, spec, a.shape[1], columns);
  MatrixD x = a.to_matrix<double>(spec);  // integers convert exactly up to 2^53
  const Eigen::Index cols = x.cols();
  const double* p = x.data();
  for (Eigen::Index i = 0; i < x.size(); ++i)
    check_config_data(std::isfinite(p[i]), {field},
                      "{}: @0 {}: entry at row {}, column {} (0-based) is {}; data must be finite", who, spec, i / cols,
                      i % cols, p[i]);
  return x;
}

namespace {

/// "20 visible units", "9 sites", "dimension 3": the width a model takes.
std::string width_words(ModelKind kind, std::size_t width) {
  switch (kind) {
    case ModelKind::rbm:
    case ModelKind::grbm: return fmt::format("{} visible units", width);
    case ModelKind::ising:
    case ModelKind::potts: return fmt::format("{} sites", width);
    default: return fmt::format("dimension {}", width);
  }
}

}  // namespace

void check_dataset(const Dataset& data, const io::ModelFile& model, const std::string& field, std::string_view who) {
  const ModelKind kind = kind_of(model.model);
  const std::size_t width = dimension_of(model.model);
  const std::size_t n = data.count();
  const std::size_t cols = data.width();
  check_config_data(n > 0, {field}, "{}: @0 {} has no rows", who, data.spec);
  check_config_data(cols == width, {field}, "{}: @0 {} has {} columns but the model has {}", who, data.spec, cols,
                    width_words(kind, width));
  // Values the model can take.
  if (const Ising* is = std::get_if<Ising>(&model.model)) {
    const Eigen::Map<const MatrixD> x = real_rows(data.rows);
    const double down = is->spin_value(false);
    for (Eigen::Index r = 0; r < x.rows(); ++r)
      for (Eigen::Index c = 0; c < x.cols(); ++c)
        check_config_data(x(r, c) == down || x(r, c) == 1.0, {field},
                          "{}: @0 {}: entry at row {}, column {} (0-based) is {}, not a spin of the model ({} or 1)", who,
                          data.spec, r, c, x(r, c), down);
  } else if (const Potts* p = std::get_if<Potts>(&model.model)) {
    const Eigen::Map<const MatrixD> x = real_rows(data.rows);
    const double q = double(p->num_states());
    for (Eigen::Index r = 0; r < x.rows(); ++r)
      for (Eigen::Index c = 0; c < x.cols(); ++c)
        check_config_data(x(r, c) >= 0 && x(r, c) < q && x(r, c) == std::floor(x(r, c)), {field},
                          "{}: @0 {}: entry at row {}, column {} (0-based) is {}, not a state in [0, {})", who, data.spec, r,
                          c, x(r, c), p->num_states());
  }
  if (kind == ModelKind::rbm) {
    const Eigen::Map<const MatrixU8> b = binary_rows(data.rows);
    for (Eigen::Index r = 0; r < b.rows(); ++r)
      for (Eigen::Index c = 0; c < b.cols(); ++c)
        check_config_data(b(r, c) <= 1, {field}, "{}: @0 {}: entry at row {}, column {} (0-based) is {}, not 0 or 1",
                          who, data.spec, r, c, int(b(r, c)));
  } else if (kind != ModelKind::ising && kind != ModelKind::potts) {
    const Eigen::Map<const MatrixD> x = real_rows(data.rows);
    for (Eigen::Index r = 0; r < x.rows(); ++r)
      for (Eigen::Index c = 0; c < x.cols(); ++c)
        check_config_data(std::isfinite(x(r, c)), {field}, "{}: @0 {}: entry at row {}, column {} (0-based) is {}", who,
                          data.spec, r, c, x(r, c));
  }
}

Dataset load_dataset(const std::string& spec, const io::ModelFile& model, const std::string& field,
                     std::string_view who) {
  const ModelKind kind = kind_of(model.model);
  Dataset d{MatrixD(), spec};
  if (kind == ModelKind::rbm) {
    d.rows = io::load_binary_data(spec);
  } else if (kind == ModelKind::potts && is_alignment(spec)) {
    const Potts& p = std::get<Potts>(model.model);
    io::AlignmentOptions opt;
    if (model.alphabet) opt.alphabet = *model.alphabet;
    check_config(opt.alphabet.size() == p.num_states(), {field},
                 "{}: @0 {}: the model has q = {} states but no alphabet of that length to read an alignment with; "
                 "give the states as a .npy", who, spec, p.num_states());
    d.rows = MatrixD(io::read_alignment(spec, opt).matrix.cast<double>());
  } else {
    d.rows = load_real_rows(spec, field, who);
  }
  check_dataset(d, model, field, who);
  return d;
}

Rows pick_rows(const Dataset& data, std::size_t n, std::uint64_t seed, std::string_view who, const std::string& field) {
  const std::size_t N = data.count();
  check_config(N >= n, {"chains", field},
                    "{}: @0 {} exceeds the {} rows of @1 {} (RAISE starts each chain from a different row)", who, n, N,
                    data.spec);
  std::vector<Eigen::Index> order(N);
  std::iota(order.begin(), order.end(), Eigen::Index(0));
  Stream rng = Stream::derive(seed, Purpose::data, 0);
  for (std::size_t i = 0; i < n; ++i) std::swap(order[i], order[i + rng.below(N - i)]);
  const auto picked = [&](const auto& m) {
    Matrix<typename std::decay_t<decltype(m)>::Scalar> out(Eigen::Index(n), m.cols());
    for (std::size_t i = 0; i < n; ++i) out.row(Eigen::Index(i)) = m.row(order[i]);
    return out;
  };
  if (std::holds_alternative<MatrixU8>(data.rows) || std::holds_alternative<BorrowedRows<std::uint8_t>>(data.rows))
    return picked(binary_rows(data.rows));
  return picked(real_rows(data.rows));
}

namespace {
template <class T>
Eigen::Map<const Matrix<T>> rows_map(const Rows& rows) {
  if (const auto* b = std::get_if<BorrowedRows<T>>(&rows)) return {b->data, b->n_rows, b->n_cols};
  const Matrix<T>& m = std::get<Matrix<T>>(rows);
  return {m.data(), m.rows(), m.cols()};
}
}  // namespace

Eigen::Map<const MatrixD> real_rows(const Rows& rows) { return rows_map<double>(rows); }
Eigen::Map<const MatrixU8> binary_rows(const Rows& rows) { return rows_map<std::uint8_t>(rows); }

}  // namespace logz::api
