// Tests of io/continuous_file: every kind round-trips bit for bit with its extras; the
// kind is told by the marker or, in hand-written files, by the one array only that
// kind has — and a binary RBM, Ising or Potts file is never taken for a continuous one;
// every malformed file is rejected with a pinned message; nothing is left on failure.
#include "logz/io/continuous_file.hpp"
#include "logz/io/model_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npz.hpp"
#include "logz/io/rbm_file.hpp"
#include "support/expect_error.hpp"
#include "support/random_arrays.hpp"
#include "support/temp_dir.hpp"

namespace logz {
namespace {

namespace fs = std::filesystem;
using test::expect_error;
using io::ContinuousModel;

using test::random_matrix;
using test::random_vector;

Gaussian random_gaussian(Eigen::Index d, std::uint64_t seed) {
  const MatrixD a = random_matrix(d, d, seed);
  return Gaussian(random_vector(d, seed + 1), a * a.transpose() + MatrixD::Identity(d, d));
}

GaussianRbm random_grbm(std::size_t n, std::size_t m, std::uint64_t seed, bool learn_sigma) {
  GaussianRbm g(n, m);
  g.weights = random_matrix(Eigen::Index(n), Eigen::Index(m), seed);
  g.visible_bias = random_vector(Eigen::Index(n), seed + 1);
  g.hidden_bias = random_vector(Eigen::Index(m), seed + 2);
  g.visible_sigma = random_vector(Eigen::Index(n), seed + 3).array().exp();
  g.learn_sigma = learn_sigma;
  return g;
}

StudentTExperts experts_with_quadratic(std::size_t d, std::size_t k, std::uint64_t seed) {
  return StudentTExperts(random_matrix(Eigen::Index(k), Eigen::Index(d), seed),
                         random_vector(Eigen::Index(k), seed + 1).array().exp(), 0.3);
}

NeuralEnergy random_neural(std::size_t d, std::size_t h, std::uint64_t seed) {
  return NeuralEnergy(random_matrix(Eigen::Index(h), Eigen::Index(d), seed), random_vector(Eigen::Index(h), seed + 1),
                      random_vector(Eigen::Index(h), seed + 2), random_vector(Eigen::Index(d), seed + 3), 0.7);
}

void expect_same(const ContinuousModel& a, const ContinuousModel& b) {
  ASSERT_EQ(a.index(), b.index());
  if (const auto* g = std::get_if<Gaussian>(&a)) {
    const auto& h = std::get<Gaussian>(b);
    EXPECT_EQ(g->mean(), h.mean());
    EXPECT_EQ(g->precision(), h.precision());
    EXPECT_EQ(g->log_partition(), h.log_partition());
  } else if (const auto* g = std::get_if<GaussianRbm>(&a)) {
    const auto& h = std::get<GaussianRbm>(b);
    EXPECT_EQ(g->weights, h.weights);
    EXPECT_EQ(g->visible_bias, h.visible_bias);
    EXPECT_EQ(g->hidden_bias, h.hidden_bias);
    EXPECT_EQ(g->visible_sigma, h.visible_sigma);
    EXPECT_EQ(g->learn_sigma, h.learn_sigma);
  } else if (const auto* g = std::get_if<StudentTExperts>(&a)) {
    const auto& h = std::get<StudentTExperts>(b);
    EXPECT_EQ(g->filters(), h.filters());
    EXPECT_EQ(g->alpha(), h.alpha());
    EXPECT_EQ(g->quadratic(), h.quadratic());
  } else {
    const auto& g2 = std::get<NeuralEnergy>(a);
    const auto& h = std::get<NeuralEnergy>(b);
    EXPECT_EQ(g2.weights(), h.weights());
    EXPECT_EQ(g2.hidden_bias(), h.hidden_bias());
    EXPECT_EQ(g2.output_weights(), h.output_weights());
    EXPECT_EQ(g2.linear(), h.linear());
    EXPECT_EQ(g2.quadratic(), h.quadratic());
  }
}

class ContinuousFileTest : public ::testing::Test {
 protected:
  test::TempDir tmp;

  /// Writes arrays as a hand-made file would (np.savez) and returns its path.
  std::string write(const std::string& name, const io::NamedArrays& arrays) {
    const std::string p = tmp.file(name);
    io::write_npz(p, arrays);
    return p;
  }

  /// A saved model's arrays with `name` replaced by `a` (removed when nullopt).
  std::string edited(const ContinuousModel& m, const std::string& name, const std::optional<io::Array>& a) {
    const std::string src = tmp.file("src.npz"), dst = tmp.file("edited.npz");
    io::save_continuous(src, m);
    auto arrays = io::read_npz(src);
    arrays.erase(name);
    if (a) arrays.emplace(name, *a);
    io::write_npz(dst, io::NamedArrays(arrays.begin(), arrays.end()));
    return dst;
  }
};

TEST_F(ContinuousFileTest, EveryKindRoundTripsBitForBitWithItsExtras) {
  const io::NamedArrays extra = {
      {"nce_log_z", io::Array::from_values<double>({}, {12.375})},
      {"whitening_mean", io::Array::from_vector<double>(random_vector(5, 9))},
      {"log", io::Array::from_values<std::int64_t>({2, 2}, {1, 2, 3, 4})},
  };
  const std::vector<std::pair<io::ContinuousKind, ContinuousModel>> models = {
      {io::ContinuousKind::gaussian, random_gaussian(4, 1)},
      {io::ContinuousKind::grbm, random_grbm(4, 3, 2, false)},
      {io::ContinuousKind::grbm, random_grbm(3, 5, 3, true)},
      {io::ContinuousKind::experts, StudentTExperts::random(4, 4, 1.5, 4)},
      {io::ContinuousKind::experts, experts_with_quadratic(3, 6, 5)},
      {io::ContinuousKind::neural, NeuralEnergy::random(4, 7, 6)},
      {io::ContinuousKind::neural, random_neural(2, 3, 7)},
  };
  for (const auto& [kind, m] : models) {
    SCOPED_TRACE(std::string(io::kind_name(kind)));
    EXPECT_EQ(io::kind_of(m), kind);
    const std::string p = tmp.file("m.npz");
    io::save_continuous(p, m, extra);
    EXPECT_EQ(io::kind_of(io::load_continuous(p)), kind);
    const io::ContinuousFile f = io::load_continuous_file(p);
    expect_same(f.model, m);
    expect_same(io::load_continuous(p), m);
    EXPECT_EQ(io::dimension_of(f.model), io::dimension_of(m));
    ASSERT_EQ(f.extra.size(), 3u);  // in name order
    EXPECT_EQ(f.extra[0].first, "log");
    EXPECT_EQ(f.extra[0].second.bytes, extra[2].second.bytes);
    EXPECT_EQ(f.extra[0].second.shape, extra[2].second.shape);
    EXPECT_EQ(f.extra[1].first, "nce_log_z");
    EXPECT_EQ(f.extra[1].second.at(0), 12.375);
    EXPECT_EQ(f.extra[2].first, "whitening_mean");
    EXPECT_EQ(f.extra[2].second.bytes, extra[1].second.bytes);
    // Saving the loaded file again gives the same bytes.
    const std::string q = tmp.file("again.npz");
    io::save_continuous(q, f.model, f.extra);
    EXPECT_EQ(io::read_npz(q).size(), io::read_npz(p).size());
  }
  EXPECT_EQ(io::kind_name(io::ContinuousKind::gaussian), "gaussian");
  EXPECT_EQ(io::kind_name(io::ContinuousKind::grbm), "grbm");
  EXPECT_EQ(io::kind_name(io::ContinuousKind::experts), "experts");
  EXPECT_EQ(io::kind_name(io::ContinuousKind::neural), "neural");
}

TEST_F(ContinuousFileTest, HandWrittenFilesAreToldByTheirDistinguishingArray) {
  // What np.savez(path, mean=..., precision=...) writes: no marker, float32 accepted.
  const std::string g = write("g.npz", {{"mean", io::Array::from_values<float>({2}, {1.f, -2.f})},
                                        {"precision", io::Array::from_values<float>({2, 2}, {2.f, 0.5f, 0.5f, 1.f})}});
  EXPECT_EQ(io::kind_of(io::load_continuous(g)), io::ContinuousKind::gaussian);
  const Gaussian gm = std::get<Gaussian>(io::load_continuous(g));  // a copy: the loaded variant is a temporary
  EXPECT_EQ(gm.mean(), (VectorD(2) << 1, -2).finished());
  EXPECT_NEAR(gm.log_partition(), std::log(2 * M_PI) - 0.5 * std::log(1.75), 1e-14);  // det = 2 - 0.25
  const GaussianRbm r = random_grbm(3, 2, 11, false);
  const std::string grbm = write("grbm.npz", {{"weights", io::Array::from_matrix<double>(r.weights)},
                                              {"visible_bias", io::Array::from_vector<double>(r.visible_bias)},
                                              {"hidden_bias", io::Array::from_vector<double>(r.hidden_bias)},
                                              {"visible_sigma", io::Array::from_vector<double>(r.visible_sigma)}});
  EXPECT_EQ(io::kind_of(io::load_continuous(grbm)), io::ContinuousKind::grbm);
  expect_same(io::load_continuous(grbm), r);  // no learn_sigma: fixed σ
  const std::string e = write("e.npz", {{"filters", io::Array::from_matrix<double>(MatrixD::Identity(2, 2))},
                                        {"alpha", io::Array::from_values<double>({2}, {1, 2})},
                                        {"quadratic", io::Array::from_values<double>({1}, {0})}});
  EXPECT_EQ(io::kind_of(io::load_continuous(e)), io::ContinuousKind::experts);
  const NeuralEnergy n = random_neural(2, 3, 12);
  const std::string ne = write("n.npz", {{"weights", io::Array::from_matrix<double>(n.weights())},
                                         {"hidden_bias", io::Array::from_vector<double>(n.hidden_bias())},
                                         {"output_weights", io::Array::from_vector<double>(n.output_weights())},
                                         {"linear", io::Array::from_vector<double>(n.linear())},
                                         {"quadratic", io::Array::from_values<double>({}, {n.quadratic()})}});
  EXPECT_EQ(io::kind_of(io::load_continuous(ne)), io::ContinuousKind::neural);
  expect_same(io::load_continuous(ne), n);
}

TEST_F(ContinuousFileTest, BinaryRbmIsingAndPottsFilesAreNotContinuous) {
  const std::string rbm = tmp.file("rbm.npz");
  RbmD b;
  b.weights = random_matrix(4, 3, 1);
  b.visible_bias = random_vector(4, 2);
  b.hidden_bias = random_vector(3, 3);
  io::save_rbm(rbm, b);
  EXPECT_EQ(kind_of(io::load_model(rbm).model), ModelKind::rbm);
  const std::string not_continuous =
      ": not a continuous model file: no 'logz_kind' array and none of 'precision' (gaussian), 'visible_sigma' "
      "(grbm), 'filters' (experts), 'output_weights' (neural)";
  expect_error([&] { io::load_continuous(rbm); }, Exit::data, rbm + not_continuous);
  const std::string ising = tmp.file("ising.npz");
  io::save_ising(ising, Ising::lattice_2d(2, 2, 0.3, 0.1));
  EXPECT_NE(kind_of(io::load_model(ising).model), ModelKind::grbm);
  const std::string potts = tmp.file("potts.npz");
  io::save_potts(potts, Potts::from_ising(Ising::lattice_2d(2, 2, 0.3, 0.1)));
  EXPECT_EQ(kind_of(io::load_model(potts).model), ModelKind::potts);
  const std::string missing = tmp.file("missing.npz");
  try {
    io::load_continuous(missing);
    ADD_FAILURE() << "no error";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), Exit::no_input);
  }
}

TEST_F(ContinuousFileTest, MarkerAndAmbiguityErrors) {
  const Gaussian g = random_gaussian(2, 3);
  std::string p = edited(g, "logz_kind", io::Array::from_values<std::uint8_t>({3}, {'i', 'c', 'a'}));
  expect_error([&] { io::load_continuous(p); }, Exit::data,
               p + ": array 'logz_kind' is 'ica'; expected gaussian, grbm, experts or neural");
  p = edited(g, "logz_kind", io::Array::from_values<double>({1}, {1}));
  expect_error([&] { io::load_continuous(p); }, Exit::data,
               p + ": array 'logz_kind' has dtype float64 and shape (1,); expected uint8 name bytes");
  // The marker decides: a Gaussian file marked grbm is a GRBM file with arrays missing.
  p = edited(g, "logz_kind", io::Array::from_values<std::uint8_t>({4}, {'g', 'r', 'b', 'm'}));
  expect_error([&] { io::load_continuous(p); }, Exit::data,
               p + ": not a grbm model file: array 'weights' is missing (expected weights, visible_bias, hidden_bias, "
                   "visible_sigma)");
  // Without a marker, two distinguishing arrays are ambiguous.
  const std::string both = write("both.npz", {{"precision", io::Array::from_matrix<double>(MatrixD::Identity(2, 2))},
                                              {"filters", io::Array::from_matrix<double>(MatrixD::Identity(2, 2))}});
  expect_error([&] { io::load_continuous(both); }, Exit::data,
               both + ": arrays 'precision' (gaussian) and 'filters' (experts) are both present; add a 'logz_kind' "
                      "array to say which model it is");
}

TEST_F(ContinuousFileTest, MalformedArraysArePinned) {
  const GaussianRbm r = random_grbm(3, 2, 5, true);
  std::string p = edited(r, "hidden_bias", std::nullopt);
  expect_error([&] { io::load_continuous(p); }, Exit::data,
               p + ": not a grbm model file: array 'hidden_bias' is missing (expected weights, visible_bias, "
                   "hidden_bias, visible_sigma)");
  p = edited(r, "weights", io::Array::from_values<std::int32_t>({3, 2}, {1, 2, 3, 4, 5, 6}));
  expect_error([&] { io::load_continuous(p); }, Exit::data,
               p + ": array 'weights' has dtype int32; expected float32 or float64");
  p = edited(r, "hidden_bias", io::Array::from_vector<double>(random_vector(3, 1)));
  expect_error([&] { io::load_continuous(p); }, Exit::data, p + ": array 'hidden_bias' has shape (3,); expected (2,)");
  MatrixD w = r.weights;
  w(2, 1) = std::numeric_limits<double>::quiet_NaN();
  p = edited(r, "weights", io::Array::from_matrix<double>(w));
  expect_error([&] { io::load_continuous(p); }, Exit::data,
               p + ": array 'weights' entry (2, 1) is nan; expected a finite number");
  VectorD s = r.visible_sigma;
  s(1) = -1;
  p = edited(r, "visible_sigma", io::Array::from_vector<double>(s));
  expect_error([&] { io::load_continuous(p); }, Exit::data, p + ": visible_sigma[1] must be > 0, got -1");
  p = edited(r, "learn_sigma", io::Array::from_values<std::uint8_t>({}, {2}));
  expect_error([&] { io::load_continuous(p); }, Exit::data, p + ": array 'learn_sigma' is 2; expected 0 or 1");
  p = edited(r, "visible_bias", io::Array::from_matrix<double>(MatrixD::Zero(3, 1)));
  expect_error([&] { io::load_continuous(p); }, Exit::data,
               p + ": array 'visible_bias' has shape (3, 1); expected 1 dimension");

  const Gaussian g = random_gaussian(2, 8);
  p = edited(g, "precision", io::Array::from_values<double>({2, 2}, {1, 2, 2, 1}));  // eigenvalues 3, -1
  expect_error([&] { io::load_continuous(p); }, Exit::data,
               p + ": Gaussian: precision matrix is not positive definite (the model is not normalisable)");
  p = edited(g, "precision", io::Array::from_matrix<double>(MatrixD::Identity(3, 3)));
  expect_error([&] { io::load_continuous(p); }, Exit::data, p + ": array 'precision' has shape (3, 3); expected (2, 2)");

  const StudentTExperts e = experts_with_quadratic(2, 3, 4);
  p = edited(e, "quadratic", io::Array::from_values<double>({2}, {0, 1}));
  expect_error([&] { io::load_continuous(p); }, Exit::data, p + ": array 'quadratic' has shape (2,); expected a scalar");
  p = edited(e, "alpha", io::Array::from_values<double>({3}, {1, std::numeric_limits<double>::infinity(), 1}));
  expect_error([&] { io::load_continuous(p); }, Exit::data, p + ": array 'alpha' entry 1 is inf; expected a finite number");
  p = edited(e, "alpha", io::Array::from_values<double>({3}, {1, 0, 1}));
  try {  // the model's own check, its message prefixed with the path
    io::load_continuous(p);
    ADD_FAILURE() << "no error";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), Exit::data);
    EXPECT_THAT(err.what(), ::testing::StartsWith(p + ": StudentTExperts: "));
  }
  const NeuralEnergy n = random_neural(2, 3, 4);
  p = edited(n, "quadratic", io::Array::from_values<double>({}, {0}));
  try {
    io::load_continuous(p);
    ADD_FAILURE() << "no error";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), Exit::data);
    EXPECT_THAT(err.what(), ::testing::StartsWith(p + ": NeuralEnergy: "));
  }
  p = edited(n, "linear", io::Array::from_vector<double>(random_vector(3, 1)));
  expect_error([&] { io::load_continuous(p); }, Exit::data, p + ": array 'linear' has shape (3,); expected (2,)");
}

TEST_F(ContinuousFileTest, NothingIsWrittenOnFailure) {
  const Gaussian g = random_gaussian(2, 1);
  const std::string p = tmp.file("g.npz");
  expect_error([&] { io::save_continuous(p, g, {{"precision", io::Array::from_values<double>({}, {1})}}); }, Exit::usage,
               "save_continuous: extra array 'precision' has the name of one of the gaussian model's own arrays");
  expect_error([&] { io::save_continuous(p, g, {{"logz_kind", io::Array::from_values<double>({}, {1})}}); }, Exit::usage,
               "save_continuous: extra array 'logz_kind' has the name of one of the gaussian model's own arrays");
  GaussianRbm bad = random_grbm(2, 2, 1, false);
  bad.visible_sigma(0) = 0;
  expect_error([&] { io::save_continuous(p, bad); }, Exit::data, "save_continuous: visible_sigma[0] must be > 0, got 0");
  EXPECT_TRUE(fs::is_empty(tmp.path()));
  // An existing file survives a failed save untouched.
  io::save_continuous(p, g);
  const auto before = io::read_npz(p).at("mean").bytes;
  EXPECT_THROW(io::save_continuous(p, bad), Error);
  EXPECT_EQ(io::read_npz(p).at("mean").bytes, before);
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
  try {
    io::save_continuous(tmp.file("no/such/dir/g.npz"), g);
    ADD_FAILURE() << "no error";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), Exit::cant_create);
  }
}

}  // namespace
}  // namespace logz
