// Sliced (Song, Garg, Shi & Ermon 2019, UAI) and denoising (Vincent 2011, Neural
// Computation 23) score matching through the models' matrix-product paths (the Student-t
// experts and the GRBM: add_sliced_score_matching_terms, add_denoising_score_matching_terms)
// against the generic per-row objectives of objectives/score_matching.hpp, called as
// templates: the same projections and noise draws, so the value agrees within 1e-12 and
// the gradient within 1e-11, each relative to (1 + its magnitude). Rademacher and Gaussian
// projections, one and several per row, one and several noise levels and draws, the
// experts with and without the quadratic term, the GRBM with σ learned and fixed, rows
// that fill several blocks and a partial last one. Then, bit for bit: 1 vs 2 threads, the
// value without a gradient, the projections and noise drawn beforehand, the fits
// evaluating the block path; the drawing functions against the matrices they replace, and
// pinned errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/student_t_experts.hpp"
#include "logz/objectives/score_matching.hpp"
#include "support/expect_error.hpp"
#include "support/parametric_checks.hpp"

namespace logz {
namespace {

using test::expect_error;

constexpr double kValueTolerance = 1e-12, kGradientTolerance = 1e-11;

MatrixD normal_rows(Eigen::Index n, Eigen::Index d, std::uint64_t seed) {
  MatrixD x(n, d);
  for (Eigen::Index r = 0; r < n; ++r) x.row(r) = test::normal_vector(d, seed, std::uint64_t(r)).transpose();
  return x;
}

StudentTExperts experts(std::size_t d, std::size_t K, double lambda, std::uint64_t seed) {
  const StudentTExperts base = StudentTExperts::random(d, K, 1.0, seed);
  VectorD alpha{Eigen::Index(K)};
  for (Eigen::Index k = 0; k < alpha.size(); ++k) alpha[k] = 0.6 + 0.4 * double(k);
  return StudentTExperts(base.filters(), alpha, lambda);
}

GrbmFreeEnergy grbm(std::size_t n, std::size_t k, bool learn_sigma, std::uint64_t seed) {
  GaussianRbm m(n, k);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = 0.7 * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_bias.size(); ++i) m.visible_bias[i] = 0.5 * rng.normal();
  for (Eigen::Index j = 0; j < m.hidden_bias.size(); ++j) m.hidden_bias[j] = 0.5 * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_sigma.size(); ++i) m.visible_sigma[i] = 0.5 + rng.uniform_double();
  m.learn_sigma = learn_sigma;
  return GrbmFreeEnergy(m);
}

void expect_close(double block, const VectorD& gb, double generic, const VectorD& gg) {
  EXPECT_NEAR(block, generic, kValueTolerance * (1 + std::abs(generic)));
  ASSERT_EQ(gb.size(), gg.size());
  EXPECT_LE((gb - gg).lpNorm<Eigen::Infinity>(), kGradientTolerance * (1 + gg.lpNorm<Eigen::Infinity>()));
}

std::vector<SlicedOptions> sliced_cases() {
  return {{1, Projection::rademacher, 3}, {3, Projection::rademacher, 4}, {1, Projection::gaussian, 5},
          {2, Projection::gaussian, 6}};
}

std::vector<DenoisingOptions> denoising_cases() {
  return {{{0.1}, 1, 3}, {{0.05, 0.5}, 1, 4}, {{0.3}, 3, 5}, {{1.0, 0.2, 0.02}, 2, 6}};
}

template <class M>
void check_sliced(const M& m, const MatrixD& x) {
  for (const SlicedOptions& o : sliced_cases()) {
    SCOPED_TRACE(testing::Message() << "projections " << o.projections << " gaussian "
                                    << (o.kind == Projection::gaussian));
    VectorD gb, gg, g2;
    const double block = sliced_score_matching_objective(m, x, o, &gb, Exec(1));
    const double generic = sliced_score_matching_objective<M>(m, x, o, &gg, Exec(1));
    expect_close(block, gb, generic, gg);
    EXPECT_EQ(sliced_score_matching_objective(m, x, o, &g2, Exec(2)), block);
    EXPECT_EQ(g2, gb);
    EXPECT_EQ(sliced_score_matching_objective(m, x, o, nullptr, Exec(1)), block);
    const MatrixD drawn = sliced_projections_all(o, std::size_t(x.rows()), std::size_t(x.cols()), Exec(2));
    EXPECT_EQ(sliced_score_matching_objective(m, x, o, drawn, &g2, Exec(1)), block);
    EXPECT_EQ(g2, gb);
  }
}

template <class M>
void check_denoising(const M& m, const MatrixD& x) {
  for (const DenoisingOptions& o : denoising_cases()) {
    SCOPED_TRACE(testing::Message() << "levels " << o.sigmas.size() << " draws " << o.draws);
    VectorD gb, gg, g2;
    const double block = denoising_score_matching_objective(m, x, o, &gb, Exec(1));
    const double generic = denoising_score_matching_objective<M>(m, x, o, &gg, Exec(1));
    expect_close(block, gb, generic, gg);
    EXPECT_EQ(denoising_score_matching_objective(m, x, o, &g2, Exec(2)), block);
    EXPECT_EQ(g2, gb);
    EXPECT_EQ(denoising_score_matching_objective(m, x, o, nullptr, Exec(1)), block);
    const MatrixD drawn = denoising_noise_all(o, std::size_t(x.rows()), std::size_t(x.cols()), Exec(2));
    EXPECT_EQ(denoising_score_matching_objective(m, x, o, drawn, &g2, Exec(1)), block);
    EXPECT_EQ(g2, gb);
  }
}

// 601 rows: four blocks of 151 and a last of 148.
TEST(ScoreMatchingBlocks, ExpertsSlicedEqualsThePerRowObjective) {
  const MatrixD x = normal_rows(601, 5, 11);
  for (double lambda : {0.0, 0.3}) {
    SCOPED_TRACE(testing::Message() << "lambda " << lambda);
    check_sliced(experts(5, 7, lambda, 12), x);
  }
}

TEST(ScoreMatchingBlocks, ExpertsDenoisingEqualsThePerRowObjective) {
  const MatrixD x = normal_rows(601, 5, 13);
  for (double lambda : {0.0, 0.3}) {
    SCOPED_TRACE(testing::Message() << "lambda " << lambda);
    check_denoising(experts(5, 7, lambda, 14), x);
  }
}

TEST(ScoreMatchingBlocks, GrbmSlicedEqualsThePerRowObjective) {
  const MatrixD x = normal_rows(601, 5, 15);
  for (bool learn : {false, true}) {
    SCOPED_TRACE(testing::Message() << "learn_sigma " << learn);
    check_sliced(grbm(5, 4, learn, 16), x);
  }
}

TEST(ScoreMatchingBlocks, GrbmDenoisingEqualsThePerRowObjective) {
  const MatrixD x = normal_rows(601, 5, 17);
  for (bool learn : {false, true}) {
    SCOPED_TRACE(testing::Message() << "learn_sigma " << learn);
    check_denoising(grbm(5, 4, learn, 18), x);
  }
}

// Few rows: one block, fewer rows than the model has parameters.
TEST(ScoreMatchingBlocks, OneShortBlock) {
  const MatrixD x = normal_rows(3, 4, 19);
  check_sliced(experts(4, 6, 0.1, 20), x);
  check_denoising(experts(4, 6, 0.1, 20), x);
  check_sliced(grbm(4, 3, true, 21), x);
  check_denoising(grbm(4, 3, true, 21), x);
}

// The fits evaluate the block path: their first trace entry is its value bit for bit.
TEST(ScoreMatchingBlocks, FitsEvaluateTheBlockPath) {
  const MatrixD x = normal_rows(300, 3, 22);
  LbfgsOptions lb;
  lb.max_iterations = 2;
  const SlicedOptions so{2, Projection::rademacher, 23};
  const DenoisingOptions dso{{0.1, 0.4}, 1, 24};
  const StudentTExperts e = experts(3, 4, 0.0, 25);
  const GrbmFreeEnergy r = grbm(3, 2, true, 26);
  EXPECT_EQ(fit_sliced_score_matching(e, x, so, lb, Exec(1)).trace.at(0),
            sliced_score_matching_objective(e, x, so, nullptr, Exec(1)));
  EXPECT_EQ(fit_denoising_score_matching(e, x, dso, lb, Exec(1)).trace.at(0),
            denoising_score_matching_objective(e, x, dso, nullptr, Exec(1)));
  EXPECT_EQ(fit_sliced_score_matching(r, x, so, lb, Exec(1)).trace.at(0),
            sliced_score_matching_objective(r, x, so, nullptr, Exec(1)));
  EXPECT_EQ(fit_denoising_score_matching(r, x, dso, lb, Exec(1)).trace.at(0),
            denoising_score_matching_objective(r, x, dso, nullptr, Exec(1)));
}

TEST(ScoreMatchingBlocks, DrawingIntoASliceGivesTheSameDraws) {
  const SlicedOptions so{3, Projection::gaussian, 27};
  MatrixD v = MatrixD::Zero(7, 4);
  sliced_projections_into(so, 5, v.middleRows(2, 3));
  EXPECT_EQ(MatrixD(v.middleRows(2, 3)), sliced_projections(so, 5, 4));
  const DenoisingOptions dso{{0.1, 0.2}, 2, 28};
  MatrixD e = MatrixD::Zero(5, 4);
  denoising_noise_into(dso, 9, 1, e.middleRows(1, 2));
  EXPECT_EQ(MatrixD(e.middleRows(1, 2)), denoising_noise(dso, 9, 1, 4));
  const MatrixD all = sliced_projections_all(so, 8, 4, Exec(1));
  EXPECT_EQ(MatrixD(all.middleRows(15, 3)), sliced_projections(so, 5, 4));
  const MatrixD noise = denoising_noise_all(dso, 10, 4, Exec(1));  // (level·rows + row)·draws + draw
  EXPECT_EQ(MatrixD(noise.middleRows((10 + 9) * 2, 2)), denoising_noise(dso, 9, 1, 4));
  EXPECT_EQ(MatrixD(noise.middleRows(3 * 2, 2)), denoising_noise(dso, 3, 0, 4));
  expect_error([&] { sliced_projections_into(so, 0, v.middleRows(0, 2)); }, Exit::usage,
               "sliced_projections_into: out has 2 rows for 3 projections");
  expect_error([&] { denoising_noise_into(dso, 0, 0, e.middleRows(0, 3)); }, Exit::usage,
               "denoising_noise_into: out has 3 rows for 2 draws");
}

TEST(ScoreMatchingBlocks, BatchMethodsRefuseBadShapes) {
  const StudentTExperts e = experts(2, 3, 0.0, 29);
  const GrbmFreeEnergy r = grbm(2, 3, false, 30);
  VectorD g(4), none(0);
  const MatrixD x = MatrixD::Zero(4, 2);
  expect_error([&] { (void)e.add_sliced_score_matching_terms(x, MatrixD::Zero(6, 2), none); }, Exit::usage,
               "StudentTExperts::add_sliced_score_matching_terms: 6 projections for 4 rows (need a whole number per row)");
  expect_error([&] { (void)e.add_sliced_score_matching_terms(x, MatrixD::Zero(4, 3), none); }, Exit::usage,
               "StudentTExperts::add_sliced_score_matching_terms: rows has 2 and projections 3 columns but the model has "
               "dimension 2");
  expect_error([&] { (void)e.add_sliced_score_matching_terms(x, x, g); }, Exit::usage,
               "StudentTExperts::add_sliced_score_matching_terms: g has 4 entries but the model has 9 parameters");
  expect_error([&] { (void)e.add_denoising_score_matching_terms(x, MatrixD::Zero(3, 2), 0.1, none); }, Exit::usage,
               "StudentTExperts::add_denoising_score_matching_terms: noisy is 4x2 and noise 3x2 (need the same shape, 2 "
               "columns)");
  expect_error([&] { (void)e.add_denoising_score_matching_terms(x, x, 0.1, g); }, Exit::usage,
               "StudentTExperts::add_denoising_score_matching_terms: g has 4 entries but the model has 9 parameters");
  expect_error([&] { (void)r.add_sliced_score_matching_terms(x, MatrixD::Zero(5, 2), none); }, Exit::usage,
               "GrbmFreeEnergy::add_sliced_score_matching_terms: 5 projections for 4 rows (need a whole number per row)");
  expect_error([&] { (void)r.add_sliced_score_matching_terms(x, x, g); }, Exit::usage,
               "GrbmFreeEnergy::add_sliced_score_matching_terms: g has 4 entries but the model has 11 parameters");
  expect_error([&] { (void)r.add_denoising_score_matching_terms(x, MatrixD::Zero(4, 3), 0.1, none); }, Exit::usage,
               "GrbmFreeEnergy::add_denoising_score_matching_terms: noisy is 4x2 and noise 4x3 (need the same shape, 2 "
               "columns)");
  expect_error([&] { (void)r.add_denoising_score_matching_terms(x, x, 0.1, g); }, Exit::usage,
               "GrbmFreeEnergy::add_denoising_score_matching_terms: g has 4 entries but the model has 11 parameters");
  // No rows: nothing to add.
  EXPECT_EQ(e.add_sliced_score_matching_terms(MatrixD(0, 2), MatrixD(0, 2), none), 0.0);
  EXPECT_EQ(r.add_denoising_score_matching_terms(MatrixD(0, 2), MatrixD(0, 2), 0.1, none), 0.0);
}

// The objectives' own checks run before any block.
TEST(ScoreMatchingBlocks, ObjectivesRefuseBadInputAsTheGenericOnes) {
  const StudentTExperts e = experts(2, 3, 0.0, 31);
  const MatrixD x = normal_rows(10, 2, 32);
  expect_error([&] { (void)sliced_score_matching_objective(e, x, SlicedOptions{0, Projection::rademacher, 1}, nullptr, Exec(1)); },
               Exit::usage, "sliced_score_matching_objective: projections must be >= 1 (got 0)");
  expect_error([&] { (void)denoising_score_matching_objective(e, MatrixD::Zero(3, 3), DenoisingOptions{}, nullptr, Exec(1)); },
               Exit::usage, "denoising_score_matching_objective: data has 3 columns but the model has dimension 2");
  const SlicedOptions so{2, Projection::rademacher, 1};
  expect_error([&] { (void)sliced_score_matching_objective(e, x, so, MatrixD::Zero(10, 2), nullptr, Exec(1)); },
               Exit::usage, "sliced_score_matching_objective: the drawn projections are 10x2 but the data need 20x2");
  const DenoisingOptions dso{{0.1, 0.2}, 1, 1};
  expect_error([&] { (void)denoising_score_matching_objective(e, x, dso, MatrixD::Zero(10, 2), nullptr, Exec(1)); },
               Exit::usage, "denoising_score_matching_objective: the drawn noise is 10x2 but the data need 20x2");
}

}  // namespace
}  // namespace logz
