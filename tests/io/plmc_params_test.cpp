// Tests of plmc's binary parameter file: a file laid out byte by byte as plmc writes it
// (plmc's src/plm.c, OutputParametersFull) is read member by member and written back to
// the same bytes; a Potts model goes through unchanged; load_model tells the file by its
// content and an .npz converted from it converts back to the same bytes; every bad file
// is refused with its message pinned.
#include "logz/io/plmc_params.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "logz/core/rng.hpp"
#include "logz/io/model_file.hpp"
#include "support/cli_runner.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

// Appends little-endian values as fwrite does on the machines plmc runs on.
struct Bytes {
  std::string s;
  template <class T>
  Bytes& put(T v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Bytes& text(const std::string& t) {
    s += t;
    return *this;
  }
};

std::string save(const test::TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// L = 3 sites, q = 2 states, 2 sequences used and 1 skipped: every member distinct.
// Field h_i(a) = i + a / 4; coupling of pair p, states (a, b): -(p + 1) - a / 2 - b / 8;
// frequencies: f_i(a) = 0.25 + a / 2, f_p(a, b) = 0.125 · (p + a + b).
std::string hand_made_file() {
  Bytes b;
  b.put<std::int32_t>(3).put<std::int32_t>(2).put<std::int32_t>(2).put<std::int32_t>(1).put<std::int32_t>(100);
  b.put<float>(0.2f).put<float>(0.01f).put<float>(16.0f).put<float>(0.0f).put<float>(1.5f);
  b.text("XZ");                                                      // alphabet
  b.put<float>(1.0f).put<float>(0.0f).put<float>(2.0f);              // neighbours: record 1 skipped
  b.text("ZXZ");                                                     // focus
  b.put<std::int32_t>(5).put<std::int32_t>(6).put<std::int32_t>(9);  // positions
  for (int i = 0; i < 3; ++i)
    for (int a = 0; a < 2; ++a) b.put<float>(0.25f + float(a) / 2);
  for (int i = 0; i < 3; ++i)
    for (int a = 0; a < 2; ++a) b.put<float>(float(i) + float(a) / 4);
  for (int p = 0; p < 3; ++p)
    for (int a = 0; a < 2; ++a)
      for (int c = 0; c < 2; ++c) b.put<float>(0.125f * float(p + a + c));
  for (int p = 0; p < 3; ++p)
    for (int a = 0; a < 2; ++a)
      for (int c = 0; c < 2; ++c) b.put<float>(-float(p + 1) - float(a) / 2 - float(c) / 8);
  return b.s;
}

TEST(PlmcParams, ReadsEveryMemberOfPlmcsLayout) {
  test::TempDir dir;
  const std::string bytes = hand_made_file();
  EXPECT_EQ(bytes.size(), 40u + 2 + 12 + 3 + 12 + 24 + 24 + 48 + 48);
  EXPECT_TRUE(is_plmc_params(bytes));
  const std::string path = save(dir, "hand.params", bytes);
  const PlmcParams p = read_plmc_params(path);
  EXPECT_EQ(p.model.n_sites(), 3u);
  EXPECT_EQ(p.model.num_states(), 2u);
  EXPECT_TRUE(p.model.is_dense());
  EXPECT_EQ(p.alphabet, "XZ");
  EXPECT_EQ(p.focus, "ZXZ");
  EXPECT_EQ(p.positions, (std::vector<std::int32_t>{5, 6, 9}));
  EXPECT_EQ(p.fit.num_sequences, 2);
  EXPECT_EQ(p.fit.num_skipped, 1);
  EXPECT_EQ(p.fit.max_iterations, 100);
  EXPECT_EQ(p.fit.theta, 0.2f);
  EXPECT_EQ(p.fit.lambda_h, 0.01f);
  EXPECT_EQ(p.fit.lambda_e, 16.0f);
  EXPECT_EQ(p.fit.lambda_group, 0.0f);
  EXPECT_EQ(p.fit.neff, 1.5f);
  EXPECT_EQ(p.fit.neighbours, (std::vector<float>{1.0f, 0.0f, 2.0f}));
  EXPECT_EQ(p.site_frequencies(2, 1), 0.75f);
  EXPECT_EQ(p.pair_frequencies[11], 0.125f * 4);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t a = 0; a < 2; ++a)
      EXPECT_EQ(p.model.fields()(Eigen::Index(i), Eigen::Index(a)), double(i) + a / 4.0);
  // Pairs (0,1), (0,2), (1,2) are 0, 1, 2; J_ji(b, a) = J_ij(a, b).
  EXPECT_EQ(p.model.coupling(0, 2, 1, 0), -2.0 - 0.5);
  EXPECT_EQ(p.model.coupling(2, 1, 1, 0), -3.0 - 0.125);
  // plmc's p(x) ∝ exp(h + e) is logz's exp(-E): E(0, 1, 1) = -(h_0(0) + h_1(1) + h_2(1) + e_01(0,1) + e_02(0,1) +
  // e_12(1,1)).
  const double e = -(0.0 + 1.25 + 2.25 + (-1.125) + (-2.125) + (-3.625));
  EXPECT_EQ(p.model.energy((VectorD(3) << 0, 1, 1).finished()), e);
  // And back to the same bytes.
  const std::string again = dir.file("again.params");
  write_plmc_params(again, p);
  EXPECT_EQ(test::slurp(again), bytes);
}

Potts float_valued_model(std::size_t l, std::size_t q, std::uint64_t seed) {
  Potts m = Potts::dense(l, q);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta(Eigen::Index(m.num_parameters()));
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = double(float(rng.uniform_double() * 4 - 2));
  m.set_parameters(theta);
  return m;
}

TEST(PlmcParams, APottsModelGoesThroughUnchanged) {
  test::TempDir dir;
  PlmcParams p;
  p.model = float_valued_model(6, 5, 3);
  p.alphabet = "-ACDE";
  p.focus = "ACDEAC";
  p.positions = {3, 4, 5, 9, 10, 11};
  p.site_frequencies = MatrixF::Constant(6, 5, 0.2f);
  p.pair_frequencies = VectorF::Constant(15 * 25, 0.04f);
  const std::string path = dir.file("m.params");
  write_plmc_params(path, p);
  const PlmcParams back = read_plmc_params(path);
  EXPECT_EQ(back.model.parameters(), p.model.parameters());
  EXPECT_EQ(back.alphabet, p.alphabet);
  EXPECT_EQ(back.focus, p.focus);
  EXPECT_EQ(back.positions, p.positions);
  EXPECT_EQ(back.site_frequencies, p.site_frequencies);
  EXPECT_EQ(back.pair_frequencies, p.pair_frequencies);
  EXPECT_TRUE(back.fit.neighbours.empty());

  // A double that is not a float is rounded to the nearest one; a sparse model is
  // written dense with zeros off its graph, and keeps its energies.
  Potts sparse(MatrixD::Constant(3, 2, 0.1), {{0, 2}}, (VectorD(4) << 1, 2, 3, 4).finished());
  PlmcParams s = plmc_params_of(sparse, "AB", {}, "sparse");
  write_plmc_params(path, s);
  const Potts dense = read_plmc_params(path).model;
  EXPECT_EQ(dense.fields()(1, 1), double(0.1f));
  EXPECT_EQ(dense.coupling(0, 1, 1, 1), 0.0);
  EXPECT_EQ(dense.coupling(0, 2, 1, 0), 3.0);
  const VectorD x = (VectorD(3) << 1, 0, 0).finished();
  EXPECT_NEAR(dense.energy(x), sparse.energy(x), 1e-7);
  EXPECT_EQ(s.positions, (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(s.focus, "AAA");  // plmc's convention without a focus: the alphabet's first letter
}

TEST(PlmcParams, LoadModelTellsItByContentAndAnNpzConvertsBackToTheSameBytes) {
  test::TempDir dir;
  const std::string path = save(dir, "hand.params", hand_made_file());
  const ModelFile f = load_model(path);
  ASSERT_EQ(kind_of(f.model), ModelKind::potts);
  EXPECT_EQ(f.alphabet.value_or(""), "XZ");
  EXPECT_EQ(std::get<Potts>(f.model).coupling(0, 1, 1, 1), -1.0 - 0.5 - 0.125);
  std::vector<std::string> names;
  for (const auto& [name, a] : f.extra) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"positions", "focus_sequence", "site_frequencies", "pair_frequencies",
                                             "plmc_fit", "plmc_neighbours"}));
  const std::string npz = dir.file("m.npz");
  save_model(npz, f);
  const ModelFile g = load_model(npz);
  const std::string back = dir.file("back.params");
  write_plmc_params(back, plmc_params_of(std::get<Potts>(g.model), g.alphabet.value_or(""), g.extra, npz));
  EXPECT_EQ(test::slurp(back), hand_made_file());
  EXPECT_FALSE(is_plmc_params(test::slurp(npz)));
}

TEST(PlmcParams, BadFilesAreRefusedWithTheirMessage) {
  test::TempDir dir;
  const std::string good = hand_made_file();
  auto expect = [&](const std::string& name, const std::string& bytes, const std::string& message) {
    const std::string p = save(dir, name, bytes);
    test::expect_error([&] { read_plmc_params(p); }, Exit::data, p + message);
  };
  expect("short", good.substr(0, 39), ": 39 bytes, too short for plmc's parameter header (40 bytes)");
  expect("cut", good.substr(0, good.size() - 1),
         ": 212 bytes, but plmc's layout for L = 3, q = 2 and 3 sequences needs 213 (truncated or not a plmc parameter "
         "file)");
  expect("long", good + "x",
         ": 214 bytes, but plmc's layout for L = 3, q = 2 and 3 sequences needs 213 (truncated or not a plmc parameter "
         "file)");
  std::string q1 = good;
  const std::int32_t one = 1;
  std::memcpy(q1.data() + 4, &one, 4);
  expect("q1", q1,
         ": not a plmc parameter file: its header says L = 3, q = 1, 2 sequences used and 1 skipped (expected L >= 1, "
         "2 <= q <= 255, counts >= 0)");
  std::string nan_field = good;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(nan_field.data() + 40 + 2 + 12 + 3 + 12 + 24 + 4 * 3, &nan, 4);  // h of site 2, state 1
  expect("nanh", nan_field, ": field h of site 2 state 1 is nan");
  std::string inf_coupling = good;
  const float inf = std::numeric_limits<float>::infinity();
  std::memcpy(inf_coupling.data() + good.size() - 4, &inf, 4);  // the last pair's (1, 1)
  expect("infe", inf_coupling, ": coupling e of sites 2 and 3, states 1 and 1, is inf");
  // The alphabet is checked as a .npz's is (a fuzzed file with two NUL letters was read,
  // and its .npz then refused): printable letters, one per state.
  std::string twice = good;
  twice[40] = 'Z';
  expect("twice", twice, ": alphabet letter 'Z' is given to states 0 and 1");
  std::string nul = good;
  nul[41] = '\0';
  expect("nul", nul, ": alphabet letter 0 of state 1 is not a printable character");
  EXPECT_FALSE(is_plmc_params(q1));
  EXPECT_FALSE(is_plmc_params(good.substr(0, 39)));
}

TEST(PlmcParams, WritingRefusesWhatPlmcsLayoutCannotHold) {
  test::TempDir dir;
  const std::string path = dir.file("w.params");
  PlmcParams p = plmc_params_of(float_valued_model(3, 2, 1), "AB", {}, "m");
  p.alphabet = "ABC";
  test::expect_error([&] { write_plmc_params(path, p); }, Exit::usage,
                     "write_plmc_params: the alphabet has 3 entries; the model needs 2");
  p.alphabet = "AB";
  p.positions.pop_back();
  test::expect_error([&] { write_plmc_params(path, p); }, Exit::usage,
                     "write_plmc_params: positions has 2 entries; the model needs 3");
  p = plmc_params_of(float_valued_model(3, 2, 1), "AB", {}, "m");
  MatrixD h = p.model.fields();
  h(1, 0) = 1e300;
  p.model.fields() = h;
  test::expect_error([&] { write_plmc_params(path, p); }, Exit::data,
                     "write_plmc_params: field of site 2 is 1e+300, beyond float32's range");
  EXPECT_FALSE(std::filesystem::exists(path));
  test::expect_error([&] { plmc_params_of(float_valued_model(3, 2, 1), "", {}, "m.npz"); }, Exit::data,
                     "m.npz: the model has no alphabet; plmc's format needs one letter per state");
  const NamedArrays bad = {{"positions", Array::from_values<std::int32_t>({3}, {1, 2, 3})}};
  test::expect_error([&] { plmc_params_of(float_valued_model(3, 2, 1), "AB", bad, "m.npz"); }, Exit::data,
                     "m.npz: array 'positions' has dtype int32 and shape (3,); plmc's layout needs int64 (3,)");
}

}  // namespace
}  // namespace logz::io
