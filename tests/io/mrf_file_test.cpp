// Tests of the Ising / Potts model files: bit-identical round trips (sparse graphs with
// zero couplings, both spin conventions, alphabets, extra arrays), files written by
// NumPy, the kind of a file, and every validation error with its message and code.
#include "logz/io/model_file.hpp"
#include "logz/io/mrf_file.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "logz/core/check.hpp"
#include "support/expect_error.hpp"
#include "support/python.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

// Bit-identical: == on doubles would accept -0.0 for 0.0.
void expect_same_bits(const VectorD& a, const VectorD& b) {
  ASSERT_EQ(a.size(), b.size());
  for (Eigen::Index k = 0; k < a.size(); ++k)
    EXPECT_EQ(std::memcmp(&a[k], &b[k], sizeof(double)), 0) << "entry " << k << ": " << a[k] << " vs " << b[k];
}

Ising sparse_ising(SpinConvention conv) {
  // Edge order not row-major, one edge reversed, one zero coupling: all must survive.
  VectorD h(5);
  h << 0.1, -0.7, 1.0 / 3.0, 0.0, 2.5e-9;
  return Ising(5, {{3, 4, -0.25}, {1, 0, 1.0 / 7.0}, {2, 4, 0.0}, {0, 2, 0.9}}, h, conv);
}

Potts sparse_potts() {
  MatrixD h(4, 3);
  h << 0.1, 0.2, 0.3, -1, 0, 1, 0.5, 0.25, 0.125, 1.0 / 3.0, 0, -2;
  VectorD J(3 * 9);
  for (Eigen::Index k = 0; k < J.size(); ++k) J[k] = std::sin(double(k + 1)) / 3.0;
  J.segment(9, 9).setZero();  // an edge whose block is zero
  return Potts(h, {{2, 0}, {1, 3}, {0, 1}}, J);
}

// Writes the named arrays as an .npz for the error tests.
std::string write(const test::TempDir& dir, const NamedArrays& arrays, const std::string& name = "m.npz") {
  const std::string path = dir.file(name);
  write_npz(path, arrays);
  return path;
}

Array dense(std::vector<std::size_t> shape, std::vector<double> v) { return Array::from_values<double>(std::move(shape), v); }

TEST(MrfFile, IsingRoundTripBitIdentical) {
  test::TempDir dir;
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising m = sparse_ising(conv);
    const std::string path = dir.file("ising.npz");
    NamedArrays extra;
    extra.emplace_back("note", Array::from_values<std::int32_t>({1}, {7}));
    save_ising(path, m, extra);
    const IsingFile f = load_ising(path);
    EXPECT_EQ(f.model.convention(), conv);
    ASSERT_EQ(f.model.n_edges(), m.n_edges());
    for (std::size_t e = 0; e < m.n_edges(); ++e) {
      EXPECT_EQ(f.model.edges()[e].i, m.edges()[e].i);
      EXPECT_EQ(f.model.edges()[e].j, m.edges()[e].j);
    }
    expect_same_bits(f.model.parameters(), m.parameters());
    ASSERT_EQ(f.extra.size(), 1u);
    EXPECT_EQ(f.extra[0].first, "note");
    EXPECT_EQ(kind_of(load_model(path).model), ModelKind::ising);
    const auto any = load_mrf(path);
    ASSERT_TRUE(std::holds_alternative<IsingFile>(any));
    expect_same_bits(std::get<IsingFile>(any).model.parameters(), m.parameters());
  }
}

TEST(MrfFile, IsingFileStoresDenseSymmetricCouplings) {
  test::TempDir dir;
  const Ising m = sparse_ising(SpinConvention::zero_one);
  const std::string path = dir.file("ising.npz");
  save_ising(path, m);
  const auto arrays = read_npz(path);
  const MatrixD J = arrays.at("couplings").to_matrix<double>("couplings");
  EXPECT_EQ(J, m.couplings_matrix());
  EXPECT_EQ(arrays.at("spins").to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(arrays.at("edges").shape, (std::vector<std::size_t>{4, 2}));
  EXPECT_EQ(arrays.at("edges").dtype, DType::i64);
}

TEST(MrfFile, IsingWithoutEdgesTakesNonzeroPairs) {
  test::TempDir dir;
  NamedArrays a;
  a.emplace_back("fields", dense({3}, {1, 2, 3}));
  a.emplace_back("couplings", Array::from_values<float>({3, 3}, {0, 0, 0.5f, 0, 0, 0, 0.5f, 0, 0}));
  const IsingFile f = load_ising(write(dir, a));
  ASSERT_EQ(f.model.n_edges(), 1u);
  EXPECT_EQ(f.model.edges()[0].i, 0u);
  EXPECT_EQ(f.model.edges()[0].j, 2u);
  EXPECT_EQ(f.model.edges()[0].coupling, 0.5);
  EXPECT_EQ(f.model.convention(), SpinConvention::plus_minus_one);
}

void expect_ising_error(const NamedArrays& arrays, const std::string& tail);  // below

TEST(MrfFile, LatticeShapeSurvives) {
  test::TempDir dir;
  Ising m = Ising::lattice_2d(3, 4, 0.0, 0.0, Boundary::open, Boundary::periodic, SpinConvention::zero_one);
  VectorD theta(Eigen::Index(m.num_parameters()));
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = std::cos(double(k)) / 3.0;
  theta[15] = 0.0;  // a zero bond stays a bond
  m.set_parameters(theta);
  const std::string path = dir.file("lattice.npz");
  save_ising(path, m);
  const IsingFile f = load_ising(path);
  ASSERT_TRUE(f.model.lattice().has_value());
  EXPECT_EQ(f.model.lattice()->rows, 3u);
  EXPECT_EQ(f.model.lattice()->cols, 4u);
  EXPECT_EQ(f.model.lattice()->boundary_rows, Boundary::open);
  EXPECT_EQ(f.model.lattice()->boundary_cols, Boundary::periodic);
  expect_same_bits(f.model.parameters(), m.parameters());
  // Without `edges`, the lattice alone fixes the graph (zero bonds included).
  NamedArrays a;
  a.emplace_back("fields", Array::from_vector<double>(m.fields()));
  a.emplace_back("couplings", Array::from_matrix<double>(m.couplings_matrix()));
  a.emplace_back("spins", Array::from_values<std::int64_t>({2}, {0, 1}));
  a.emplace_back("lattice", Array::from_values<std::int64_t>({4}, {3, 4, 0, 1}));
  const IsingFile g = load_ising(write(dir, a, "nolist.npz"));
  ASSERT_TRUE(g.model.lattice().has_value());
  expect_same_bits(g.model.parameters(), m.parameters());
}

Array lattice_array(std::int64_t rows, std::int64_t cols, std::int64_t periodic_rows, std::int64_t periodic_cols) {
  std::vector<std::int64_t> v;
  for (std::int64_t x : {rows, cols, periodic_rows, periodic_cols}) v.push_back(x);
  return Array::from_values<std::int64_t>({4}, v);
}

TEST(MrfFile, LatticeErrors) {
  test::TempDir dir;
  const Ising m = Ising::lattice_2d(2, 3, 0.5, 0.1);
  const std::string good = dir.file("good.npz");
  save_ising(good, m);
  auto arrays = [&] {
    auto map = read_npz(good);
    NamedArrays out;
    for (auto& [k, v] : map) out.emplace_back(k, v);
    return out;
  };
  auto replace = [&](NamedArrays a, const std::string& name, Array v) {
    for (auto& [k, x] : a)
      if (k == name) x = std::move(v);
    return a;
  };
  using V = std::vector<std::int64_t>;
  expect_ising_error(replace(arrays(), "lattice", Array::from_values<std::int64_t>({3}, V{2, 3, 0})),
                     "array 'lattice' has shape (3,); expected (4,): rows, cols, periodic_rows, periodic_cols");
  expect_ising_error(replace(arrays(), "lattice", Array::from_values<double>({4}, {2, 3, 0, 0})),
                     "array 'lattice' has dtype float64; expected an integer type (int64)");
  expect_ising_error(replace(arrays(), "lattice", lattice_array(3, 3, 0, 0)),
                     "array 'lattice' = [3, 3, 0, 0] does not describe a lattice of 6 spins (rows·cols = n, periodic 0 or 1)");
  expect_ising_error(replace(arrays(), "lattice", lattice_array(2, 3, 2, 0)),
                     "array 'lattice' = [2, 3, 2, 0] does not describe a lattice of 6 spins (rows·cols = n, periodic 0 or 1)");
  expect_ising_error(replace(arrays(), "lattice", lattice_array(2, 3, 1, 0)),
                     "array 'lattice' = [2, 3, 1, 0]: Ising::lattice_2d: a periodic direction needs at least 3 sites, got L1 = 2");
  expect_ising_error(replace(arrays(), "lattice", lattice_array(3, 2, 0, 0)),
                     "edges[1] = (0, 3) but bond 1 of the lattice is (0, 2)");
  // Without `edges`: a coupling between sites that are not neighbours on the lattice.
  NamedArrays a;
  for (auto& [k, v] : arrays())
    if (k != "edges") a.emplace_back(k, v);
  MatrixD J = m.couplings_matrix();
  J(0, 4) = J(4, 0) = 0.25;
  a = replace(a, "couplings", Array::from_matrix<double>(J));
  expect_ising_error(a, "couplings[0, 4] = 0.25 but (0, 4) is not a bond of the lattice");
  // ... and one edge fewer than the lattice has bonds, with `edges`.
  NamedArrays b = replace(arrays(), "lattice", lattice_array(2, 3, 0, 1));
  expect_ising_error(b, "array 'edges' has 7 edges but the lattice has 9 bonds");
}

TEST(MrfFile, PottsRoundTripBitIdentical) {
  test::TempDir dir;
  const Potts m = sparse_potts();
  const std::string path = dir.file("potts.npz");
  save_potts(path, m, std::string("-AC"));
  const PottsFile f = load_potts(path);
  ASSERT_EQ(f.model.n_edges(), m.n_edges());
  for (std::size_t e = 0; e < m.n_edges(); ++e) {
    EXPECT_EQ(f.model.edges()[e].i, m.edges()[e].i);
    EXPECT_EQ(f.model.edges()[e].j, m.edges()[e].j);
  }
  expect_same_bits(f.model.parameters(), m.parameters());
  ASSERT_TRUE(f.alphabet.has_value());
  EXPECT_EQ(*f.alphabet, "-AC");
  EXPECT_EQ(kind_of(load_model(path).model), ModelKind::potts);
  EXPECT_TRUE(std::holds_alternative<PottsFile>(load_mrf(path)));
  // couplings[i, j, a, b] = J_ij(a, b) = couplings[j, i, b, a].
  const auto arrays = read_npz(path);
  const std::vector<double> J = arrays.at("couplings").to_vector<double>();
  auto at = [&](std::size_t i, std::size_t j, std::size_t a, std::size_t b) { return J[((i * 4 + j) * 3 + a) * 3 + b]; };
  for (std::size_t a = 0; a < 3; ++a)
    for (std::size_t b = 0; b < 3; ++b) {
      EXPECT_EQ(at(2, 0, a, b), m.coupling(2, 0, a, b));
      EXPECT_EQ(at(0, 2, b, a), m.coupling(2, 0, a, b));
    }
  test::expect_error([&] { save_potts(path, m, std::string("AB")); }, Exit::usage,
                     "save_potts: alphabet \"AB\" has 2 letters; the model has 3 states");
}

TEST(MrfFile, DensePottsStaysDense) {
  test::TempDir dir;
  Potts m = Potts::dense(4, 3);  // all blocks zero: the graph comes back from `edges`
  m.fields()(1, 2) = 0.5;
  const std::string path = dir.file("dense.npz");
  save_potts(path, m);
  const PottsFile f = load_potts(path);
  EXPECT_TRUE(f.model.is_dense());
  EXPECT_EQ(f.model.n_edges(), 6u);
  expect_same_bits(f.model.parameters(), m.parameters());
}

TEST(MrfFile, PottsFromIsingKeepsEnergies) {
  test::TempDir dir;
  const Ising ising = sparse_ising(SpinConvention::plus_minus_one);
  const Potts p = Potts::from_ising(ising);
  const std::string path = dir.file("p.npz");
  save_potts(path, p);
  const PottsFile f = load_potts(path);
  VectorD x(5);
  x << 1, 0, 1, 1, 0;
  EXPECT_EQ(f.model.energy(x), p.energy(x));
  EXPECT_FALSE(f.alphabet.has_value());
}

TEST(MrfFile, NumpySavezLoads) {
  if (!test::have_numpy()) GTEST_SKIP() << "python3 with numpy is not installed";
  test::TempDir dir;
  const std::string script = R"(
import sys, numpy as np
d = sys.argv[1]
h = np.array([0.5, -0.25, 0.125])
J = np.zeros((3, 3)); J[0, 1] = J[1, 0] = 0.75; J[1, 2] = J[2, 1] = -1.5
np.savez(f'{d}/ising.npz', fields=h, couplings=J)
np.savez(f'{d}/ising01.npz', fields=h, couplings=J, spins=np.array([0, 1]), edges=np.array([[1, 2], [0, 1], [0, 2]]))
hp = np.arange(6.0).reshape(3, 2) / 8
Jp = np.zeros((3, 3, 2, 2)); B = np.array([[0.5, -1.0], [0.25, 2.0]])
Jp[0, 2] = B; Jp[2, 0] = B.T
np.savez_compressed(f'{d}/potts.npz', fields=hp, couplings=Jp, alphabet=np.frombuffer(b'ab', dtype=np.uint8))
)";
  ASSERT_EQ(test::run_python(dir, script), 0);
  const IsingFile a = load_ising(dir.file("ising.npz"));
  ASSERT_EQ(a.model.n_edges(), 2u);
  EXPECT_EQ(a.model.edges()[0].coupling, 0.75);
  EXPECT_EQ(a.model.edges()[1].coupling, -1.5);
  EXPECT_EQ(a.model.fields()[1], -0.25);
  const IsingFile b = load_ising(dir.file("ising01.npz"));
  EXPECT_EQ(b.model.convention(), SpinConvention::zero_one);
  ASSERT_EQ(b.model.n_edges(), 3u);
  EXPECT_EQ(b.model.edges()[0].i, 1u);
  EXPECT_EQ(b.model.edges()[0].coupling, -1.5);
  EXPECT_EQ(b.model.edges()[2].coupling, 0.0);
  const PottsFile p = load_potts(dir.file("potts.npz"));
  ASSERT_EQ(p.model.n_edges(), 1u);
  EXPECT_EQ(p.model.coupling(0, 2, 0, 1), -1.0);
  EXPECT_EQ(p.model.coupling(2, 0, 1, 0), -1.0);
  EXPECT_EQ(p.model.fields()(2, 1), 5.0 / 8);
  EXPECT_EQ(*p.alphabet, "ab");
}

// ---- errors -------------------------------------------------------------------------

struct IsingArrays {
  std::vector<double> h{0.5, -0.5, 1.0};
  std::vector<double> J{0, 1, 0, 1, 0, 2, 0, 2, 0};
  NamedArrays arrays() const {
    NamedArrays a;
    a.emplace_back("fields", dense({3}, h));
    a.emplace_back("couplings", dense({3, 3}, J));
    return a;
  }
};

void expect_ising_error(const NamedArrays& arrays, const std::string& tail) {
  test::TempDir dir;
  const std::string path = write(dir, arrays);
  test::expect_error([&] { load_ising(path); }, Exit::data, path + ": " + tail);
}

TEST(MrfFile, IsingErrors) {
  const IsingArrays ok;
  {
    NamedArrays a = ok.arrays();
    a.erase(a.begin());
    expect_ising_error(a, "not an Ising model file: array 'fields' is missing (expected fields, couplings)");
    a = ok.arrays();
    a.pop_back();
    expect_ising_error(a, "not an Ising model file: array 'couplings' is missing (expected fields, couplings)");
  }
  {
    NamedArrays a = ok.arrays();
    a[0].second = Array::from_values<std::int32_t>({3}, {1, 2, 3});
    expect_ising_error(a, "array 'fields' has dtype int32; expected float32 or float64");
    a = ok.arrays();
    a[0].second = dense({3, 1}, ok.h);
    expect_ising_error(a, "array 'fields' has shape (3, 1); expected (n,): one field per spin");
    a = ok.arrays();
    a[1].second = dense({9}, ok.J);
    expect_ising_error(a, "array 'couplings' has shape (9,); expected (n, n)");
    a = ok.arrays();
    a[1].second = dense({3, 2}, {0, 1, 1, 0, 0, 0});
    expect_ising_error(a, "array 'couplings' has shape (3, 2); expected (3, 3) for 3 spins");
    a = ok.arrays();
    a[0].second = dense({0}, {});
    a[1].second = dense({0, 0}, {});
    expect_ising_error(a, "array 'fields' is empty; the model needs at least one spin");
  }
  {
    IsingArrays bad = ok;
    bad.h[1] = std::numeric_limits<double>::quiet_NaN();
    expect_ising_error(bad.arrays(), "fields[1] = nan is not finite");
    bad = ok;
    bad.J[5] = bad.J[7] = std::numeric_limits<double>::infinity();
    expect_ising_error(bad.arrays(), "couplings[1, 2] = inf is not finite");
    bad = ok;
    bad.J[4] = 0.3;
    expect_ising_error(bad.arrays(), "couplings[1, 1] = 0.3; the diagonal must be zero");
    bad = ok;
    bad.J[5] = 2.5;
    expect_ising_error(bad.arrays(), "couplings are not symmetric: couplings[1, 2] = 2.5 but couplings[2, 1] = 2");
  }
  {
    auto with = [&](Array edges) {
      NamedArrays a = ok.arrays();
      a.emplace_back("edges", std::move(edges));
      return a;
    };
    using V = std::vector<std::int64_t>;
    expect_ising_error(with(dense({2, 2}, {0, 1, 1, 2})), "array 'edges' has dtype float64; expected an integer type (int64)");
    expect_ising_error(with(Array::from_values<std::int64_t>({2, 3}, V{0, 1, 2, 1, 2, 0})),
                       "array 'edges' has shape (2, 3); expected (m, 2)");
    expect_ising_error(with(Array::from_values<std::int64_t>({2, 2}, V{0, 1, 1, 3})),
                       "edges[1] = (1, 3) has a site out of range [0, 3)");
    expect_ising_error(with(Array::from_values<std::int64_t>({2, 2}, V{0, 1, -1, 2})),
                       "edges[1] = (-1, 2) has a site out of range [0, 3)");
    expect_ising_error(with(Array::from_values<std::int64_t>({3, 2}, V{0, 1, 2, 2, 1, 2})), "edges[1] = (2, 2) is a self-loop");
    expect_ising_error(with(Array::from_values<std::int64_t>({3, 2}, V{0, 1, 1, 2, 1, 0})),
                       "edges[2] = (1, 0) repeats edges[0]");
    expect_ising_error(with(Array::from_values<std::int64_t>({1, 2}, V{2, 1})),
                       "couplings[0, 1] = 1 but (0, 1) is not in 'edges'");
  }
  {
    auto with = [&](Array spins) {
      NamedArrays a = ok.arrays();
      a.emplace_back("spins", std::move(spins));
      return a;
    };
    expect_ising_error(with(Array::from_values<std::int64_t>({}, {1})),
                       "array 'spins' has shape (); expected (2,): the values [down, up]");
    expect_ising_error(with(Array::from_values<std::int64_t>({2}, {1, 2})),
                       "array 'spins' = [1, 2] is not a spin convention; expected [-1, 1] (±1 spins) or [0, 1] (0/1 spins)");
  }
  {
    // A Potts file is not an Ising file.
    NamedArrays a;
    a.emplace_back("fields", dense({2, 2}, {0, 0, 0, 0}));
    a.emplace_back("couplings", dense({2, 2, 2, 2}, std::vector<double>(16, 0.0)));
    expect_ising_error(a, "array 'fields' has shape (2, 2); expected (n,): one field per spin");
  }
  test::TempDir dir;
  test::expect_error([&] { load_ising(dir.file("none.npz")); }, Exit::no_input,
                     dir.file("none.npz") + ": cannot open: No such file or directory");
}

struct PottsArrays {
  // L = 3, q = 2; edge (0, 1) with block [[1, 2], [3, 4]].
  std::vector<double> h{0, 1, 2, 3, 4, 5};
  std::vector<double> J = [] {
    std::vector<double> j(36, 0.0);
    const double B[2][2] = {{1, 2}, {3, 4}};
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        j[((0 * 3 + 1) * 2 + a) * 2 + b] = B[a][b];
        j[((1 * 3 + 0) * 2 + b) * 2 + a] = B[a][b];
      }
    return j;
  }();
  NamedArrays arrays() const {
    NamedArrays a;
    a.emplace_back("fields", dense({3, 2}, h));
    a.emplace_back("couplings", dense({3, 3, 2, 2}, J));
    return a;
  }
};

void expect_potts_error(const NamedArrays& arrays, const std::string& tail) {
  test::TempDir dir;
  const std::string path = write(dir, arrays);
  test::expect_error([&] { load_potts(path); }, Exit::data, path + ": " + tail);
}

TEST(MrfFile, PottsErrors) {
  const PottsArrays ok;
  {
    test::TempDir dir;
    const PottsFile f = load_potts(write(dir, ok.arrays()));
    ASSERT_EQ(f.model.n_edges(), 1u);
    EXPECT_EQ(f.model.coupling(1, 0, 1, 0), 2.0);
  }
  {
    NamedArrays a = ok.arrays();
    a.pop_back();
    expect_potts_error(a, "not a Potts model file: array 'couplings' is missing (expected fields, couplings)");
    a = ok.arrays();
    a[0].second = dense({3}, {0, 1, 2});
    expect_potts_error(a, "array 'fields' has shape (3,); expected (L, q): one field per site and state");
    a = ok.arrays();
    a[0].second = dense({3, 1}, {0, 1, 2});
    expect_potts_error(a, "array 'fields' has shape (3, 1); a Potts model needs q >= 2 states");
    a = ok.arrays();
    a[1].second = dense({3, 3, 4}, ok.J);
    expect_potts_error(a, "array 'couplings' has shape (3, 3, 4); expected (L, L, q, q)");
    a = ok.arrays();
    a[1].second = dense({3, 2, 2, 3}, ok.J);
    expect_potts_error(a, "array 'couplings' has shape (3, 2, 2, 3); expected (3, 3, 2, 2) for 3 sites and 2 states");
  }
  {
    PottsArrays bad = ok;
    bad.h[3] = -std::numeric_limits<double>::infinity();
    expect_potts_error(bad.arrays(), "fields[1, 1] = -inf is not finite");
    bad = ok;
    bad.J[((2 * 3 + 0) * 2 + 1) * 2 + 0] = std::numeric_limits<double>::quiet_NaN();
    expect_potts_error(bad.arrays(), "couplings[2, 0, 1, 0] = nan is not finite");
    bad = ok;
    bad.J[((1 * 3 + 1) * 2 + 0) * 2 + 1] = 0.5;
    expect_potts_error(bad.arrays(), "couplings[1, 1, 0, 1] = 0.5; the diagonal blocks couplings[i, i] must be zero");
    bad = ok;
    bad.J[((1 * 3 + 0) * 2 + 0) * 2 + 1] = 9;  // should be J_01(1, 0) = 3
    expect_potts_error(bad.arrays(),
                       "couplings are not symmetric: couplings[0, 1, 1, 0] = 3 but couplings[1, 0, 0, 1] = 9");
  }
  {
    NamedArrays a = ok.arrays();
    a.emplace_back("edges", Array::from_values<std::int32_t>({1, 2}, {1, 2}));
    expect_potts_error(a, "couplings[0, 1, 0, 0] = 1 but (0, 1) is not in 'edges'");
    a = ok.arrays();
    a.emplace_back("edges", Array::from_values<std::int32_t>({1, 2}, {0, 3}));
    expect_potts_error(a, "edges[0] = (0, 3) has a site out of range [0, 3)");
  }
  {
    auto with = [&](Array alphabet) {
      NamedArrays a = ok.arrays();
      a.emplace_back("alphabet", std::move(alphabet));
      return a;
    };
    expect_potts_error(with(Array::from_values<std::int32_t>({2}, {65, 66})),
                       "array 'alphabet' has dtype int32; expected uint8 (one letter per state)");
    expect_potts_error(with(Array::from_values<std::uint8_t>({3}, {65, 66, 67})),
                       "array 'alphabet' has shape (3,); expected (2,): one letter per state");
    expect_potts_error(with(Array::from_values<std::uint8_t>({2}, {65, 65})),
                       "alphabet letter 'A' is given to states 0 and 1");
  }
}

TEST(MrfFile, KindErrors) {
  test::TempDir dir;
  NamedArrays a;
  a.emplace_back("fields", dense({2}, {0, 0}));
  const std::string p1 = write(dir, a, "a.npz");
  test::expect_error([&] { load_mrf(p1); }, Exit::data,
                     p1 + ": not an Ising or Potts model file: array 'couplings' is missing");
  a.emplace_back("couplings", dense({2, 2, 1}, {0, 0, 0, 0}));
  const std::string p2 = write(dir, a, "b.npz");
  test::expect_error([&] { load_mrf(p2); }, Exit::data,
                     p2 + ": array 'couplings' has shape (2, 2, 1); expected 2 dimensions (Ising) or 4 (Potts)");
}

}  // namespace
}  // namespace logz::io
