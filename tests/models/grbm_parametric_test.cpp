// GrbmFreeEnergy as a parametric energy (θ = [W row-major, b, c, log σ if learned]):
// every derivative over x and θ against central differences (tests/support/
// parametric_checks.hpp) at several points of several models, σ learned and fixed, and
// the checker shown to fail a variant that forgets σ's dependence; the flat view's
// layout by hand; the block (matrix-product) score-matching objective against the
// generic per-row one of objectives/score_matching.hpp and 1 vs 2 threads bit for bit;
// pinned errors of set_parameters.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "logz/models/gaussian_rbm.hpp"
#include "logz/objectives/nce.hpp"
#include "logz/objectives/score_matching.hpp"
#include "support/expect_error.hpp"
#include "support/parametric_checks.hpp"

namespace logz {
namespace {

using test::expect_error;

static_assert(FlatParameters<GrbmFreeEnergy>);
static_assert(ParametricEnergy<GrbmFreeEnergy>);
static_assert(ScoreMatchable<GrbmFreeEnergy>);
static_assert(SliceScoreMatchable<GrbmFreeEnergy>);

/// W ~ scale·N(0, 1), b, c ~ N(0, 0.5²), σ ∈ [0.5, 1.5] from a fixed stream.
GaussianRbm random_model(std::size_t n, std::size_t k, double scale, std::uint64_t seed, bool learn_sigma) {
  GaussianRbm m(n, k);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = scale * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_bias.size(); ++i) m.visible_bias[i] = 0.5 * rng.normal();
  for (Eigen::Index j = 0; j < m.hidden_bias.size(); ++j) m.hidden_bias[j] = 0.5 * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_sigma.size(); ++i) m.visible_sigma[i] = 0.5 + rng.uniform_double();
  m.learn_sigma = learn_sigma;
  return m;
}

TEST(GrbmParametric, FlatLayoutByHand) {
  GaussianRbm m(2, 3);
  m.weights << 1, 2, 3, 4, 5, 6;
  m.visible_bias << 7, 8;
  m.hidden_bias << 9, 10, 11;
  m.visible_sigma << 0.5, 2.0;
  const GrbmFreeEnergy fixed(m);
  ASSERT_EQ(fixed.num_parameters(), 11u);
  VectorD want(11);
  want << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;  // W row-major, then b, then c
  EXPECT_EQ(fixed.parameters(), want);
  m.learn_sigma = true;
  GrbmFreeEnergy learned(m);
  ASSERT_EQ(learned.num_parameters(), 13u);
  EXPECT_EQ(learned.parameters().head(11), want);
  EXPECT_DOUBLE_EQ(learned.parameters()[11], std::log(0.5));
  EXPECT_DOUBLE_EQ(learned.parameters()[12], std::log(2.0));
  // Round trip, and set_parameters changes what every method sees.
  VectorD theta = learned.parameters();
  theta[1] = -2;          // W(0, 1)
  theta[12] = std::log(4.0);  // σ_1
  learned.set_parameters(theta);
  EXPECT_EQ(learned.model().weights(0, 1), -2);
  EXPECT_DOUBLE_EQ(learned.model().visible_sigma[1], 4.0);
  EXPECT_DOUBLE_EQ(learned.inverse_variance()[1], 1.0 / 16);
  const VectorD v = test::normal_vector(2, 5);
  EXPECT_NEAR(learned.energy_of(v), learned.model().free_energy(v), 1e-12);
  // With σ fixed, set_parameters leaves σ alone.
  GrbmFreeEnergy f2 = fixed;
  f2.set_parameters(VectorD::Zero(11));
  EXPECT_EQ(f2.model().visible_sigma, m.visible_sigma);
  EXPECT_EQ(f2.model().weights, MatrixD::Zero(2, 3));
}

TEST(GrbmParametric, PointMethodsAgreeWithTheModel) {
  const GrbmFreeEnergy f(random_model(4, 3, 0.8, 11, true));
  for (std::uint64_t k = 0; k < 5; ++k) {
    const VectorD v = test::normal_vector(4, 100, k);
    VectorD g1(4), g2(4);
    const double e1 = f.energy_and_gradient(v, g1);
    const double e2 = f.model().free_energy_and_gradient(v, g2);
    EXPECT_NEAR(e1, e2, 1e-12 * (1 + std::abs(e2)));
    EXPECT_NEAR(f.energy_of(v), e2, 1e-12 * (1 + std::abs(e2)));
    EXPECT_LT((g1 - g2).lpNorm<Eigen::Infinity>(), 1e-12);
    EXPECT_NEAR(f.laplacian(v), f.model().free_energy_laplacian(v), 1e-12);
  }
}

TEST(GrbmParametric, DerivativesMatchCentralDifferences) {
  struct Case {
    std::size_t n, k;
    double scale;
    std::uint64_t seed;
  };
  for (const Case c : {Case{1, 1, 1.0, 1}, Case{3, 2, 0.7, 2}, Case{4, 5, 1.2, 3}, Case{6, 3, 0.5, 4}}) {
    for (const bool learn : {false, true}) {
      const GrbmFreeEnergy f(random_model(c.n, c.k, c.scale, c.seed, learn));
      for (std::uint64_t point = 0; point < 3; ++point) {
        SCOPED_TRACE(testing::Message() << "n=" << c.n << " k=" << c.k << " learn_sigma=" << learn << " point=" << point);
        const auto n = Eigen::Index(c.n);
        const VectorD x = 1.5 * test::normal_vector(n, 10 + c.seed, point);
        const VectorD r = test::normal_vector(n, 20 + c.seed, point);
        const VectorD v = test::normal_vector(n, 30 + c.seed, point);
        test::expect_derivatives_match_differences(f, x, r, v);
      }
    }
  }
}

/// A wrong variant: the Laplacian's gradient without its log σ part (σ treated as fixed
/// in ΔF although it is a parameter).
struct LaplacianSigmaDropped : GrbmFreeEnergy {
  using GrbmFreeEnergy::GrbmFreeEnergy;
  void add_laplacian_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const {
    VectorD full = VectorD::Zero(g.size());
    GrbmFreeEnergy::add_laplacian_gradient(x, s, full);
    full.tail(Eigen::Index(dimension())).setZero();
    g += full;
  }
};

/// A wrong variant: the score's vector-Jacobian product without the path through p(h|v)
/// on c (the hidden units' curvature forgotten).
struct ScoreVjpCTermDropped : GrbmFreeEnergy {
  using GrbmFreeEnergy::GrbmFreeEnergy;
  void add_score_vjp(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& r, double s,
                     Eigen::Ref<VectorD> g) const {
    VectorD full = VectorD::Zero(g.size());
    GrbmFreeEnergy::add_score_vjp(x, r, s, full);
    const auto n = Eigen::Index(model().n_visible()), m = Eigen::Index(model().n_hidden());
    full.segment(n * m + n, m).setZero();
    g += full;
  }
};

/// The messages of the failures `f` reports (intercepted, so they do not fail the test).
template <class F>
std::vector<std::string> failures_of(F&& f) {
  testing::TestPartResultArray results;
  {
    testing::ScopedFakeTestPartResultReporter reporter(
        testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    f();
  }
  std::vector<std::string> out;
  for (int i = 0; i < results.size(); ++i) out.emplace_back(results.GetTestPartResult(i).message());
  return out;
}

/// Each failure names `what` and there is at least one.
void expect_only_failures_of(const std::vector<std::string>& failures, const std::string& what) {
  EXPECT_FALSE(failures.empty()) << what << ": the wrong variant passed";
  for (const std::string& f : failures) EXPECT_NE(f.find(what), std::string::npos) << f;
}

TEST(GrbmParametric, CheckerCatchesWrongVariants) {
  const GaussianRbm m = random_model(3, 2, 0.9, 7, true);
  const VectorD x = test::normal_vector(3, 1), r = test::normal_vector(3, 2), v = test::normal_vector(3, 3);
  test::expect_derivatives_match_differences(GrbmFreeEnergy(m), x, r, v);
  expect_only_failures_of(
      failures_of([&] { test::expect_derivatives_match_differences(LaplacianSigmaDropped(m), x, r, v); }),
      "add_laplacian_gradient");
  expect_only_failures_of(
      failures_of([&] { test::expect_derivatives_match_differences(ScoreVjpCTermDropped(m), x, r, v); }),
      "add_score_vjp");
}

MatrixD random_data(Eigen::Index rows, Eigen::Index n, std::uint64_t seed) {
  MatrixD x(rows, n);
  for (Eigen::Index r = 0; r < rows; ++r) x.row(r) = 1.3 * test::normal_vector(n, seed, std::uint64_t(r)).transpose();
  return x;
}

TEST(GrbmParametric, BlockScoreMatchingEqualsTheGenericPerRowObjective) {
  for (const bool learn : {false, true}) {
    SCOPED_TRACE(learn ? "sigma learned" : "sigma fixed");
    const GrbmFreeEnergy f(random_model(5, 4, 0.8, 9, learn));
    const MatrixD data = random_data(700, 5, 4);  // several row blocks, the last one short
    VectorD g_block, g_generic;
    const double j_block = score_matching_objective(f, data, &g_block, Exec(1));
    // Explicit template arguments: the generic template of score_matching.hpp.
    const double j_generic = score_matching_objective<GrbmFreeEnergy>(f, data, &g_generic, Exec(1));
    EXPECT_NEAR(j_block, j_generic, 1e-12 * (1 + std::abs(j_generic)));
    ASSERT_EQ(g_block.size(), g_generic.size());
    EXPECT_LT((g_block - g_generic).lpNorm<Eigen::Infinity>(), 1e-12 * (1 + g_generic.lpNorm<Eigen::Infinity>()));
    EXPECT_EQ(score_matching_objective(f, data, nullptr, Exec(1)), j_block);
    // 1 vs 2 threads: the same bits.
    VectorD g2;
    EXPECT_EQ(score_matching_objective(f, data, &g2, Exec(2)), j_block);
    EXPECT_EQ(g2, g_block);
  }
}

TEST(GrbmParametric, ObjectivesRunOnItUnchanged) {
  // Each objective of score_matching.hpp / nce.hpp accepts the model and gives a finite
  // value and a gradient of the parameter count (their values are checked against the
  // generic sums above and in tests/statistical/grbm_training_test.cpp).
  const GrbmFreeEnergy f(random_model(3, 2, 0.8, 5, true));
  const MatrixD data = random_data(60, 3, 8);
  VectorD g;
  EXPECT_TRUE(std::isfinite(sliced_score_matching_objective(f, data, SlicedOptions{}, &g, Exec(1))));
  EXPECT_EQ(g.size(), Eigen::Index(f.num_parameters()));
  EXPECT_TRUE(std::isfinite(denoising_score_matching_objective(f, data, DenoisingOptions{}, &g, Exec(1))));
  EXPECT_EQ(g.size(), Eigen::Index(f.num_parameters()));
  const NceProblem nce(data, NceOptions{}, Exec(1));
  EXPECT_TRUE(std::isfinite(nce.objective(f, 1.0, &g, Exec(1))));
  EXPECT_EQ(g.size(), Eigen::Index(f.num_parameters() + 1));
}

TEST(GrbmParametric, SetParametersErrors) {
  GrbmFreeEnergy f(random_model(2, 2, 1.0, 3, true));
  const VectorD before = f.parameters();
  expect_error([&] { f.set_parameters(VectorD::Zero(3)); }, Exit::usage,
               "GrbmFreeEnergy::set_parameters: theta has 3 entries but the model has 10 parameters");
  VectorD bad = before;
  bad[4] = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { f.set_parameters(bad); }, Exit::usage, "GrbmFreeEnergy::set_parameters: theta[4] is not finite (nan)");
  bad = before;
  bad[9] = 400;
  expect_error([&] { f.set_parameters(bad); }, Exit::usage,
               "GrbmFreeEnergy::set_parameters: log sigma[1] = 400 is out of range");
  EXPECT_EQ(f.parameters(), before);  // unchanged after a throw
  VectorD g(3);
  expect_error([&] { f.add_energy_gradient(VectorD::Zero(2), 1.0, g); }, Exit::usage,
               "GrbmFreeEnergy::add_energy_gradient: g has 3 entries but the model has 10 parameters");
  expect_error([&] { (void)f.energy_of(VectorD::Zero(3)); }, Exit::usage,
               "GrbmFreeEnergy::energy_of: v has 3 entries but the model has 2 visible units");
  MatrixD data = random_data(10, 2, 1);
  data(3, 1) = std::numeric_limits<double>::infinity();
  expect_error([&] { (void)score_matching_objective(f, data, nullptr, Exec(1)); }, Exit::data,
               "score_matching_objective: data(3, 1) is not finite (inf)");
  data(3, 1) = 0;
  data.col(0).setConstant(2.5);
  expect_error([&] { (void)score_matching_objective(f, data, nullptr, Exec(1)); }, Exit::data,
               "score_matching_objective: column 0 has zero variance (every sample is 2.5)");
}

}  // namespace
}  // namespace logz
