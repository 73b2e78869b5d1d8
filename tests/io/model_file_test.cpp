// Tests of io/model_file: one loader for every kind. Files logz writes carry the
// `logz_kind` marker and round-trip bit for bit through save_model / load_model, extras
// kept and the marker never among them; files NumPy writes without a marker (C order,
// and Fortran order as PyTorch's `W.T` and MATLAB exports give it; float32 and float64)
// are told by their arrays and load to the exact parameters of a C-order reference; a
// Gaussian–Bernoulli RBM is never read as a binary RBM; ambiguous, unrecognisable and
// wrongly marked files get pinned messages; the per-kind loaders keep their own.
#include "logz/io/model_file.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/continuous_file.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npz.hpp"
#include "logz/io/rbm_file.hpp"
#include "logz/models/any_model.hpp"
#include "support/expect_error.hpp"
#include "support/python.hpp"
#include "support/random_arrays.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

using test::expect_error;

using test::random_matrix;
using test::random_vector;

RbmD random_rbm(Eigen::Index n, Eigen::Index m, std::uint64_t seed) {
  RbmD r;
  r.weights = random_matrix(n, m, seed);
  r.visible_bias = random_vector(n, seed + 1);
  r.hidden_bias = random_vector(m, seed + 2);
  return r;
}

GaussianRbm random_grbm(std::size_t n, std::size_t m, std::uint64_t seed) {
  GaussianRbm g(n, m);
  g.weights = random_matrix(Eigen::Index(n), Eigen::Index(m), seed);
  g.visible_bias = random_vector(Eigen::Index(n), seed + 1);
  g.hidden_bias = random_vector(Eigen::Index(m), seed + 2);
  g.visible_sigma = random_vector(Eigen::Index(n), seed + 3).array().exp();
  g.learn_sigma = true;
  return g;
}

Potts random_potts(std::size_t L, std::size_t q, std::uint64_t seed) {
  const std::vector<PottsEdge> edges = {{0, 1}, {2, 1}, {0, 3}};
  return Potts(random_matrix(Eigen::Index(L), Eigen::Index(q), seed), edges,
               random_vector(Eigen::Index(edges.size() * q * q), seed + 1));
}

Ising random_ising(std::uint64_t seed) {
  const VectorD j = random_vector(3, seed);
  return Ising(5, {{0, 3, j[0]}, {4, 1, j[1]}, {2, 3, 0.0}, {1, 2, j[2]}}, random_vector(5, seed + 1),
               SpinConvention::zero_one);
}

Gaussian random_gaussian(Eigen::Index d, std::uint64_t seed) {
  const MatrixD a = random_matrix(d, d, seed);
  return Gaussian(random_vector(d, seed + 1), a * a.transpose() + MatrixD::Identity(d, d));
}

// The same values, bit for bit, and the same structure.
void expect_same(const AnyModel& a, const AnyModel& b) {
  ASSERT_EQ(a.index(), b.index());
  std::visit(
      [&](const auto& x) {
        using M = std::decay_t<decltype(x)>;
        const M& y = std::get<M>(b);
        if constexpr (std::is_same_v<M, RbmD>) {
          EXPECT_EQ(x.weights, y.weights);
          EXPECT_EQ(x.visible_bias, y.visible_bias);
          EXPECT_EQ(x.hidden_bias, y.hidden_bias);
        } else if constexpr (std::is_same_v<M, GaussianRbm>) {
          EXPECT_EQ(x.weights, y.weights);
          EXPECT_EQ(x.visible_bias, y.visible_bias);
          EXPECT_EQ(x.hidden_bias, y.hidden_bias);
          EXPECT_EQ(x.visible_sigma, y.visible_sigma);
          EXPECT_EQ(x.learn_sigma, y.learn_sigma);
        } else if constexpr (std::is_same_v<M, Ising>) {
          EXPECT_EQ(x.convention(), y.convention());
          EXPECT_EQ(x.lattice().has_value(), y.lattice().has_value());
          ASSERT_EQ(x.n_edges(), y.n_edges());
          for (std::size_t e = 0; e < x.n_edges(); ++e) {
            EXPECT_EQ(x.edges()[e].i, y.edges()[e].i);
            EXPECT_EQ(x.edges()[e].j, y.edges()[e].j);
          }
          EXPECT_EQ(x.parameters(), y.parameters());
        } else if constexpr (std::is_same_v<M, Potts>) {
          EXPECT_EQ(x.num_states(), y.num_states());
          ASSERT_EQ(x.n_edges(), y.n_edges());
          for (std::size_t e = 0; e < x.n_edges(); ++e) {
            EXPECT_EQ(x.edges()[e].i, y.edges()[e].i);
            EXPECT_EQ(x.edges()[e].j, y.edges()[e].j);
          }
          EXPECT_EQ(x.parameters(), y.parameters());
        } else if constexpr (std::is_same_v<M, Gaussian>) {
          EXPECT_EQ(x.mean(), y.mean());
          EXPECT_EQ(x.precision(), y.precision());
        } else if constexpr (std::is_same_v<M, StudentTExperts>) {
          EXPECT_EQ(x.filters(), y.filters());
          EXPECT_EQ(x.alpha(), y.alpha());
          EXPECT_EQ(x.quadratic(), y.quadratic());
        } else {
          EXPECT_EQ(x.weights(), y.weights());
          EXPECT_EQ(x.hidden_bias(), y.hidden_bias());
          EXPECT_EQ(x.output_weights(), y.output_weights());
          EXPECT_EQ(x.linear(), y.linear());
          EXPECT_EQ(x.quadratic(), y.quadratic());
        }
      },
      a);
}

bool has_marker(const NamedArrays& arrays) {
  for (const auto& [name, a] : arrays)
    if (name == kKindMarker) return true;
  return false;
}

std::string write(const test::TempDir& dir, const std::string& name, const NamedArrays& arrays) {
  const std::string p = dir.file(name);
  write_npz(p, arrays);
  return p;
}

TEST(ModelKinds, NamesOrderAndDimensions) {
  const std::vector<std::string> names = {"rbm", "grbm", "ising", "potts", "gaussian", "experts", "neural"};
  ASSERT_EQ(kAllModelKinds.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(kind_name(kAllModelKinds[i]), names[i]);
    EXPECT_TRUE(kind_by_name(names[i]) == kAllModelKinds[i]);
    EXPECT_EQ(std::size_t(kAllModelKinds[i]), i);
  }
  EXPECT_FALSE(kind_by_name("RBM").has_value());
  EXPECT_FALSE(kind_by_name("").has_value());
  // The continuous kinds keep the names their files have always had.
  for (ContinuousKind k : {ContinuousKind::gaussian, ContinuousKind::grbm, ContinuousKind::experts, ContinuousKind::neural})
    EXPECT_TRUE(kind_by_name(kind_name(k)).has_value());
  EXPECT_FALSE(is_continuous(ModelKind::rbm));
  EXPECT_TRUE(is_continuous(ModelKind::grbm));
  EXPECT_FALSE(is_continuous(ModelKind::ising));
  EXPECT_FALSE(is_continuous(ModelKind::potts));
  EXPECT_TRUE(is_continuous(ModelKind::gaussian));
  EXPECT_TRUE(is_continuous(ModelKind::experts));
  EXPECT_TRUE(is_continuous(ModelKind::neural));

  const std::vector<std::pair<AnyModel, std::size_t>> models = {
      {random_rbm(5, 3, 1), 5},          {random_grbm(4, 2, 2), 4},
      {random_ising(3), 5},              {random_potts(4, 3, 4), 4},
      {random_gaussian(3, 5), 3},        {StudentTExperts::random(6, 4, 1.5, 6), 6},
      {NeuralEnergy::random(2, 7, 7), 2}};
  for (std::size_t i = 0; i < models.size(); ++i) {
    EXPECT_EQ(kind_of(models[i].first), kAllModelKinds[i]);
    EXPECT_EQ(ModelKind(models[i].first.index()), kAllModelKinds[i]);
    EXPECT_EQ(dimension_of(models[i].first), models[i].second) << names[i];
  }
}

// What logz writes: the marker, the parameters bit for bit, the extras in name order;
// and writing a loaded file again gives the same bytes.
TEST(ModelFile, EveryKindRoundTripsBitForBitWithItsMarkerAndExtras) {
  test::TempDir dir;
  const NamedArrays extra = {{"history", Array::from_values<std::int64_t>({2, 2}, {1, 2, 3, 4})},
                             {"note", Array::from_values<std::uint8_t>({2}, {'o', 'k'})}};
  std::vector<ModelFile> files;
  for (DType dtype : {DType::f64, DType::f32}) {
    ModelFile f;
    f.model = dtype == DType::f32 ? AnyModel(random_rbm(6, 4, 10).cast<float>().cast<double>()) : AnyModel(random_rbm(6, 4, 10));
    f.dtype = dtype;
    f.data_marginals = (VectorD(6) << 0, 0.25, 0.5, 0.125, 1, 0.75).finished();
    files.push_back(std::move(f));
  }
  files.push_back({random_rbm(2, 3, 11), std::nullopt, std::nullopt, DType::f64, {}});
  files.push_back({random_grbm(4, 3, 12), std::nullopt, std::nullopt, DType::f64, {}});
  files.push_back({random_ising(13), std::nullopt, std::nullopt, DType::f64, {}});
  files.push_back({Ising::lattice_2d(3, 3, 0.4, -0.2, Boundary::periodic, Boundary::open), std::nullopt, std::nullopt,
                   DType::f64, {}});
  files.push_back({random_potts(4, 3, 14), std::nullopt, std::string("-AC"), DType::f64, {}});
  files.push_back({random_potts(4, 2, 15), std::nullopt, std::nullopt, DType::f64, {}});
  files.push_back({random_gaussian(3, 16), std::nullopt, std::nullopt, DType::f64, {}});
  files.push_back({StudentTExperts::random(3, 5, 1.5, 17), std::nullopt, std::nullopt, DType::f64, {}});
  files.push_back({NeuralEnergy::random(3, 4, 18), std::nullopt, std::nullopt, DType::f64, {}});
  for (ModelFile& f : files) {
    f.extra = extra;
    const ModelKind kind = kind_of(f.model);
    SCOPED_TRACE(std::string(kind_name(kind)));
    const std::string p = dir.file("m.npz");
    save_model(p, f);
    const auto arrays = read_npz(p);
    ASSERT_TRUE(arrays.count("logz_kind"));
    EXPECT_EQ(arrays.at("logz_kind").dtype, DType::u8);
    EXPECT_EQ(kind_marker(arrays, p).value_or(""), kind_name(kind));
    EXPECT_EQ(model_kind(arrays, p), kind);

    const ModelFile g = load_model(p);
    expect_same(g.model, f.model);
    EXPECT_EQ(g.dtype, f.dtype);
    EXPECT_EQ(g.data_marginals.has_value(), f.data_marginals.has_value());
    if (f.data_marginals) {
      EXPECT_EQ(*g.data_marginals, *f.data_marginals);
    }
    EXPECT_TRUE(g.alphabet == f.alphabet);
    ASSERT_EQ(g.extra.size(), extra.size());
    for (std::size_t i = 0; i < extra.size(); ++i) {
      EXPECT_EQ(g.extra[i].first, extra[i].first);
      EXPECT_EQ(g.extra[i].second.dtype, extra[i].second.dtype);
      EXPECT_EQ(g.extra[i].second.shape, extra[i].second.shape);
      EXPECT_EQ(g.extra[i].second.bytes, extra[i].second.bytes);
    }
    if (kind == ModelKind::rbm) {
      EXPECT_EQ(arrays.at("weights").dtype, f.dtype);
    }
    const std::string q = dir.file("again.npz");
    save_model(q, g);
    EXPECT_EQ(read_file(q), read_file(p)) << "the file changed on a load and a save";
  }
}

// The per-kind writers put the marker in, and the per-kind readers never hand it back.
TEST(ModelFile, PerKindWritersMarkAndReadersDropTheMarker) {
  test::TempDir dir;
  const NamedArrays extra = {{"note", Array::from_values<std::int32_t>({1}, {7})}};
  const std::string rbm = dir.file("rbm.npz"), ising = dir.file("ising.npz"), potts = dir.file("potts.npz"),
                    grbm = dir.file("grbm.npz");
  save_rbm(rbm, random_rbm(3, 2, 1).cast<float>(), std::nullopt, extra);
  save_ising(ising, random_ising(2), extra);
  save_potts(potts, random_potts(4, 3, 3), std::nullopt, extra);
  save_continuous(grbm, random_grbm(3, 2, 4), extra);
  EXPECT_EQ(kind_marker(read_npz(rbm), rbm).value_or(""), "rbm");
  EXPECT_EQ(kind_marker(read_npz(ising), ising).value_or(""), "ising");
  EXPECT_EQ(kind_marker(read_npz(potts), potts).value_or(""), "potts");
  EXPECT_EQ(kind_marker(read_npz(grbm), grbm).value_or(""), "grbm");
  const RbmFile r = load_rbm(rbm);
  EXPECT_EQ(r.dtype, DType::f32);
  EXPECT_FALSE(has_marker(r.extra));
  EXPECT_EQ(r.extra.size(), 1u);
  EXPECT_FALSE(has_marker(load_ising(ising).extra));
  EXPECT_EQ(load_ising(ising).extra.size(), 1u);
  EXPECT_FALSE(has_marker(load_potts(potts).extra));
  EXPECT_EQ(load_potts(potts).extra.size(), 1u);
  EXPECT_FALSE(has_marker(std::get<IsingFile>(load_mrf(ising)).extra));
  EXPECT_FALSE(has_marker(load_continuous_file(grbm).extra));
  for (const std::string& p : {rbm, ising, potts, grbm}) {
    const ModelFile f = load_model(p);
    EXPECT_FALSE(has_marker(f.extra)) << p;
    ASSERT_EQ(f.extra.size(), 1u) << p;
    EXPECT_EQ(f.extra[0].first, "note");
  }
  // The kinds the marker names.
  EXPECT_EQ(kind_of(load_model(ising).model), ModelKind::ising);
  EXPECT_EQ(kind_of(load_model(potts).model), ModelKind::potts);
  EXPECT_EQ(kind_of(load_model(rbm).model), ModelKind::rbm);
  EXPECT_EQ(kind_of(load_model(grbm).model), ModelKind::grbm);
  // An extra named like the marker is refused, not written twice.
  expect_error([&] { save_rbm(rbm, random_rbm(3, 2, 1), std::nullopt, {{"logz_kind", kind_marker_array(ModelKind::rbm)}}); },
               Exit::usage, rbm + ": write_npz: duplicate array name 'logz_kind'");
}

// The confusion this loader exists to end: a Gaussian–Bernoulli RBM has the binary RBM's
// three arrays and one more, and must never be read as a binary RBM.
TEST(ModelFile, GaussianRbmIsNeverABinaryRbm) {
  test::TempDir dir;
  const GaussianRbm g = random_grbm(4, 3, 21);
  g.validate("test");
  const std::string unmarked = write(dir, "grbm.npz",
                                     {{"weights", Array::from_matrix<double>(g.weights)},
                                      {"visible_bias", Array::from_vector<double>(g.visible_bias)},
                                      {"hidden_bias", Array::from_vector<double>(g.hidden_bias)},
                                      {"visible_sigma", Array::from_vector<double>(g.visible_sigma)}});
  EXPECT_EQ(model_kind(read_npz(unmarked), unmarked), ModelKind::grbm);
  const ModelFile f = load_model(unmarked);
  ASSERT_EQ(kind_of(f.model), ModelKind::grbm);
  EXPECT_EQ(std::get<GaussianRbm>(f.model).visible_sigma, g.visible_sigma);
  EXPECT_TRUE(f.extra.empty());
  expect_error([&] { load_rbm(unmarked); }, Exit::data,
               unmarked + ": not an RBM model file: it holds a grbm model (array 'visible_sigma')");
  const std::string marked = dir.file("marked.npz");
  save_continuous(marked, g);
  EXPECT_EQ(kind_of(load_model(marked).model), ModelKind::grbm);
  expect_error([&] { load_rbm(marked); }, Exit::data,
               marked + ": not an RBM model file: it holds a grbm model (array 'logz_kind' is 'grbm')");
  // And a binary RBM is not a GRBM.
  const std::string rbm = dir.file("rbm.npz");
  save_rbm(rbm, random_rbm(4, 3, 22));
  EXPECT_EQ(kind_of(load_model(rbm).model), ModelKind::rbm);
}

TEST(ModelFile, AmbiguousUnrecognisedAndWronglyMarkedFiles) {
  test::TempDir dir;
  const Array eye = Array::from_matrix<double>(MatrixD::Identity(2, 2));
  const Array two = Array::from_values<double>({2}, {1, 2});
  // Arrays of two kinds and no marker: the candidates, and how to say which.
  const std::string both = write(dir, "both.npz", {{"couplings", eye}, {"fields", two}, {"mean", two}, {"precision", eye}});
  const std::string ambiguous =
      both +
      ": the arrays fit more than one kind of model: ising ('couplings'), gaussian ('precision'); add a 'logz_kind' "
      "array naming the kind, e.g. np.savez(..., logz_kind=np.frombuffer(b\"ising\", np.uint8))";
  expect_error([&] { load_model(both); }, Exit::data, ambiguous);
  expect_error([&] { model_kind(read_npz(both), both); }, Exit::data, ambiguous);
  EXPECT_EQ(kinds_fitting(read_npz(both)), (std::vector<ModelKind>{ModelKind::ising, ModelKind::gaussian}));
  // With the marker the file is one model, the other arrays extras.
  const std::string marked = write(dir, "marked.npz",
                                   {{"couplings", eye}, {"fields", two}, {"mean", two}, {"precision", eye},
                                    {"logz_kind", kind_marker_array(ModelKind::gaussian)}});
  const ModelFile g = load_model(marked);
  ASSERT_EQ(kind_of(g.model), ModelKind::gaussian);
  ASSERT_EQ(g.extra.size(), 2u);
  EXPECT_EQ(g.extra[0].first, "couplings");
  EXPECT_EQ(g.extra[1].first, "fields");
  const std::string grbm_and_filters =
      write(dir, "gf.npz", {{"weights", eye}, {"visible_bias", two}, {"hidden_bias", two}, {"visible_sigma", two},
                            {"filters", eye}});
  expect_error([&] { load_model(grbm_and_filters); }, Exit::data,
               grbm_and_filters +
                   ": the arrays fit more than one kind of model: grbm ('visible_sigma'), experts ('filters'); add a "
                   "'logz_kind' array naming the kind, e.g. np.savez(..., logz_kind=np.frombuffer(b\"grbm\", np.uint8))");

  // Nothing recognisable: the arrays found and what each kind needs.
  const std::string needs =
      " and no 'logz_kind' array; expected 'weights', 'visible_bias', 'hidden_bias' (rbm, and with 'visible_sigma': "
      "grbm), 'fields' and 'couplings' of 2 dimensions (ising) or 4 (potts), 'mean' and 'precision' (gaussian), "
      "'filters', 'alpha', 'quadratic' (experts), or 'weights', 'hidden_bias', 'output_weights', 'linear', 'quadratic' "
      "(neural)";
  const std::string none = write(dir, "none.npz", {{"w", eye}, {"mu", two}, {"bias", two}});
  expect_error([&] { load_model(none); }, Exit::data,
               none + ": cannot tell the kind of model: the file has arrays 'bias' (2,), 'mu' (2,), 'w' (2, 2)" + needs);
  // Part of a binary RBM: its reader says which array is missing.
  const std::string partial = write(dir, "partial.npz", {{"weights", eye}, {"visible_bias", two}, {"bias", two}});
  expect_error([&] { load_model(partial); }, Exit::data,
               partial + ": not an RBM model file: array 'hidden_bias' is missing (expected weights, visible_bias, "
                         "hidden_bias)");
  const std::string rank3 = write(dir, "rank3.npz", {{"couplings", Array::from_values<double>({1, 1, 1}, {0})}});
  expect_error([&] { load_model(rank3); }, Exit::data,
               rank3 + ": cannot tell the kind of model: the file has arrays 'couplings' (1, 1, 1)" + needs);
  const std::string empty = write(dir, "empty.npz", {});
  expect_error([&] { load_model(empty); }, Exit::data,
               empty + ": cannot tell the kind of model: the file has no arrays" + needs);

  // Markers: unknown, not bytes, and one the arrays contradict.
  const std::string unknown = write(dir, "unknown.npz", {{"fields", two}, {"logz_kind", Array::from_values<std::uint8_t>({3}, {'i', 'c', 'a'})}});
  expect_error([&] { load_model(unknown); }, Exit::data,
               unknown + ": array 'logz_kind' is 'ica'; expected one of rbm, grbm, ising, potts, gaussian, experts, "
                         "neural");
  const std::string not_bytes = write(dir, "float.npz", {{"fields", two}, {"logz_kind", two}});
  expect_error([&] { load_model(not_bytes); }, Exit::data,
               not_bytes + ": array 'logz_kind' has dtype float64 and shape (2,); expected uint8 name bytes");
  const std::string contradicted =
      write(dir, "contradicted.npz", {{"couplings", eye}, {"fields", two}, {"logz_kind", kind_marker_array(ModelKind::rbm)}});
  expect_error([&] { load_model(contradicted); }, Exit::data,
               contradicted +
                   ": not an RBM model file: array 'weights' is missing (expected weights, visible_bias, hidden_bias)");
  const std::string potts_marked_ising =
      write(dir, "pi.npz", {{"couplings", eye}, {"fields", two}, {"logz_kind", kind_marker_array(ModelKind::potts)}});
  expect_error([&] { load_model(potts_marked_ising); }, Exit::data,
               potts_marked_ising + ": array 'fields' has shape (2,); expected (L, q): one field per site and state");

  // A missing file is no input.
  try {
    load_model(dir.file("missing.npz"));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::no_input);
  }
}

// Wrong-kind files given to the per-kind loaders keep the messages they always had.
TEST(ModelFile, PerKindLoadersKeepTheirMessages) {
  test::TempDir dir;
  const std::string rbm = dir.file("rbm.npz"), ising = dir.file("ising.npz"), potts = dir.file("potts.npz"),
                    gauss = dir.file("gauss.npz");
  save_rbm(rbm, random_rbm(3, 2, 1));
  save_ising(ising, random_ising(2));
  save_potts(potts, random_potts(4, 3, 3));
  save_continuous(gauss, random_gaussian(2, 4));
  expect_error([&] { load_rbm(ising); }, Exit::data,
               ising + ": not an RBM model file: array 'weights' is missing (expected weights, visible_bias, hidden_bias)");
  expect_error([&] { load_rbm(gauss); }, Exit::data,
               gauss + ": not an RBM model file: array 'weights' is missing (expected weights, visible_bias, hidden_bias)");
  expect_error([&] { load_mrf(rbm); }, Exit::data, rbm + ": not an Ising or Potts model file: array 'couplings' is missing");
  expect_error([&] { load_mrf(gauss); }, Exit::data, gauss + ": not an Ising or Potts model file: array 'couplings' is missing");
  expect_error([&] { load_ising(potts); }, Exit::data,
               potts + ": array 'fields' has shape (4, 3); expected (n,): one field per spin");
  expect_error([&] { load_potts(ising); }, Exit::data,
               ising + ": array 'fields' has shape (5,); expected (L, q): one field per site and state");
  const std::string not_continuous =
      ": not a continuous model file: no 'logz_kind' array and none of 'precision' (gaussian), 'visible_sigma' "
      "(grbm), 'filters' (experts), 'output_weights' (neural)";
  for (const std::string& p : {rbm, ising, potts}) expect_error([&] { load_continuous(p); }, Exit::data, p + not_continuous);
}

// Files as NumPy, PyTorch and MATLAB users write them: no marker, float32 or float64,
// matrices in C order or in Fortran order. Each loads to the parameters of its C-order
// twin, the binary RBM also to values computed here.
TEST(ModelFileNumPy, UnmarkedFilesOfEveryKindInBothOrders) {
  if (!test::have_numpy()) GTEST_SKIP() << "python3 with numpy is not installed";
  test::TempDir dir;
  const std::string script = R"(
import sys, numpy as np
d = sys.argv[1]
F = np.asfortranarray
def save(name, dtype, **arrays):
    c = {k: np.ascontiguousarray(v.astype(dtype) if v.dtype.kind == 'f' else v) for k, v in arrays.items()}
    np.savez(f'{d}/{name}_{np.dtype(dtype).name}_c.npz', **c)
    np.savez(f'{d}/{name}_{np.dtype(dtype).name}_f.npz', **{k: F(v) if v.ndim else v for k, v in c.items()})
rng = np.random.default_rng(5)
nv, nh = 5, 3
W_hv = ((np.arange(nh)[:, None] * nv + np.arange(nv)[None, :]) * 7 % 11 - 5) * 0.125  # PyTorch: [hidden, visible]
b = (np.arange(nv) - 2) * 0.5
c = np.arange(nh) * 0.25 - 0.375
for t in [np.float32, np.float64]:
    # PyTorch's W is [hidden, visible]; W.T is the [visible, hidden] logz reads, Fortran-ordered.
    np.savez(f'{d}/torch_{np.dtype(t).name}.npz', weights=W_hv.astype(t).T, visible_bias=b.astype(t), hidden_bias=c.astype(t))
    save('rbm', t, weights=W_hv.T.copy(), visible_bias=b, hidden_bias=c)
    save('grbm', t, weights=rng.normal(size=(4, 3)), visible_bias=rng.normal(size=4), hidden_bias=rng.normal(size=3),
         visible_sigma=np.exp(rng.normal(size=4)))
    n = 5
    J = np.zeros((n, n)); J[0, 3] = J[3, 0] = 0.5; J[1, 4] = J[4, 1] = -0.75; J[1, 2] = J[2, 1] = 0.25
    save('ising', t, fields=rng.normal(size=n), couplings=J, edges=np.array([[3, 0], [2, 3], [1, 4], [1, 2]], np.int64))
    L, q = 4, 3
    Jp = np.zeros((L, L, q, q))
    for i, j in [(0, 1), (2, 1), (0, 3)]:
        blk = rng.normal(size=(q, q)); Jp[i, j] = blk; Jp[j, i] = blk.T
    save('potts', t, fields=rng.normal(size=(L, q)), couplings=Jp, alphabet=np.frombuffer(b'-AC', np.uint8))
    A = rng.normal(size=(3, 3))
    P = A @ A.T + np.eye(3)
    save('gaussian', t, mean=rng.normal(size=3), precision=(P + P.T) / 2)  # symmetric to the last bit
    save('experts', t, filters=rng.normal(size=(4, 3)), alpha=np.exp(rng.normal(size=4)), quadratic=np.array(0.5))
    save('neural', t, weights=rng.normal(size=(6, 2)), hidden_bias=rng.normal(size=6), output_weights=rng.normal(size=6),
         linear=rng.normal(size=2), quadratic=np.array(0.25))
)";
  ASSERT_EQ(test::run_python(dir, script), 0);

  const std::vector<std::pair<std::string, ModelKind>> kinds = {
      {"rbm", ModelKind::rbm},           {"grbm", ModelKind::grbm},       {"ising", ModelKind::ising},
      {"potts", ModelKind::potts},       {"gaussian", ModelKind::gaussian}, {"experts", ModelKind::experts},
      {"neural", ModelKind::neural}};
  for (const std::string dtype : {"float32", "float64"}) {
    for (const auto& [name, kind] : kinds) {
      const std::string c = dir.file(name + "_" + dtype + "_c.npz"), f = dir.file(name + "_" + dtype + "_f.npz");
      SCOPED_TRACE(f);
      // The Fortran file really holds Fortran-ordered members (np.savez stores them raw).
      EXPECT_NE(read_file(f).find("'fortran_order': True"), std::string::npos);
      EXPECT_EQ(read_file(c).find("'fortran_order': True"), std::string::npos);
      const ModelFile mc = load_model(c), mf = load_model(f);
      EXPECT_EQ(kind_of(mc.model), kind);
      EXPECT_EQ(kind_of(mf.model), kind);
      expect_same(mf.model, mc.model);
      EXPECT_TRUE(mf.extra.empty());
      EXPECT_TRUE(mf.alphabet == (kind == ModelKind::potts ? std::optional<std::string>("-AC") : std::nullopt));
      if (kind == ModelKind::rbm) {
        EXPECT_EQ(mf.dtype, dtype == "float32" ? DType::f32 : DType::f64);
        expect_same(mf.model, load_rbm(c).model);
      }
      // The same parameters as the per-kind loaders give for the C-order file.
      if (kind == ModelKind::ising) expect_same(mf.model, load_ising(c).model);
      if (kind == ModelKind::potts) expect_same(mf.model, load_potts(c).model);
      if (is_continuous(kind)) {
        const ContinuousModel cm = load_continuous(c);
        expect_same(mf.model, std::visit([](const auto& m) { return AnyModel(m); }, cm));
      }
    }
    // The PyTorch export, against the values computed here.
    RbmD want;
    want.weights.resize(5, 3);
    for (int h = 0; h < 3; ++h)
      for (int v = 0; v < 5; ++v) want.weights(v, h) = double(((h * 5 + v) * 7 % 11) - 5) * 0.125;
    want.visible_bias.resize(5);
    for (int v = 0; v < 5; ++v) want.visible_bias[v] = (v - 2) * 0.5;
    want.hidden_bias.resize(3);
    for (int h = 0; h < 3; ++h) want.hidden_bias[h] = h * 0.25 - 0.375;
    const std::string torch = dir.file("torch_" + dtype + ".npz");
    EXPECT_NE(read_file(torch).find("'fortran_order': True"), std::string::npos);
    const ModelFile t = load_model(torch);
    expect_same(t.model, want);
    expect_same(load_model(dir.file("rbm_" + dtype + "_f.npz")).model, want);
    // The Ising edge list (an int64 matrix) kept its order through the transpose.
    const ModelFile ising_file = load_model(dir.file("ising_" + dtype + "_f.npz"));
    const Ising& is = std::get<Ising>(ising_file.model);
    ASSERT_EQ(is.n_edges(), 4u);
    EXPECT_EQ(is.edges()[0].i, 3u);
    EXPECT_EQ(is.edges()[0].j, 0u);
    EXPECT_EQ(is.edges()[1].coupling, 0.0);
  }
}

}  // namespace
}  // namespace logz::io
