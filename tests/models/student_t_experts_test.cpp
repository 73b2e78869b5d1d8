// Product of Student-t experts. Exact first: the energy by hand, every derivative over x
// and θ against central differences at several points of a complete, an overcomplete and
// an undercomplete model (and the checker catching a Laplacian without its ‖w_k‖² factor
// and a score VJP without its φ'(u) r term), the batched score-matching terms against the
// per-row sum, the closed-form log Z against numerical integration over R and R² (the
// truncated tails bounded analytically and put into the tolerance), non-normalisable
// closed-form cases refused with Exit::data. Then the exact sampler: moments and tail
// probabilities within z·SE, and the moments of the wrong degrees of freedom rejected.
// Bad input errors are pinned.
#include "logz/models/student_t_experts.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <Eigen/LU>
#include <Eigen/SVD>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "logz/core/concepts.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/objectives/score_matching.hpp"
#include "support/expect_error.hpp"
#include "support/parametric_checks.hpp"

namespace logz {
namespace {

using test::expect_error;

static_assert(DifferentiableEnergy<StudentTExperts>);
static_assert(ExactlySampleable<StudentTExperts>);
static_assert(ParametricEnergy<StudentTExperts>);
static_assert(ScoreMatchable<StudentTExperts>);
static_assert(SliceScoreMatchable<StudentTExperts>);

// Two-sided z for a per-check false-failure rate of 1e-5 (normal approximation).
constexpr double kZ = 4.42;

/// K experts on R^d with N(0, 1/d) filters (seed), α_k = 0.6 + 0.4 k, quadratic λ.
StudentTExperts varied(std::size_t d, std::size_t K, double lambda, std::uint64_t seed) {
  const StudentTExperts base = StudentTExperts::random(d, K, 1.0, seed);
  VectorD alpha{Eigen::Index(K)};
  for (Eigen::Index k = 0; k < alpha.size(); ++k) alpha[k] = 0.6 + 0.4 * double(k);
  return StudentTExperts(base.filters(), alpha, lambda);
}

TEST(StudentTExperts, EnergyByHand) {
  MatrixD w(2, 2);
  w << 1.0, 0.5, -0.3, 2.0;
  VectorD alpha(2);
  alpha << 1.5, 0.7;
  const StudentTExperts m(w, alpha, 0.25);
  VectorD x(2);
  x << 0.4, -1.1;
  const double u0 = 0.4 - 0.55, u1 = -0.12 - 2.2;
  const double e = 1.5 * std::log(1 + 0.5 * u0 * u0) + 0.7 * std::log(1 + 0.5 * u1 * u1) + 0.125 * (0.16 + 1.21);
  EXPECT_NEAR(m.energy_of(x), e, 1e-15);
  VectorD grad(2);
  EXPECT_NEAR(m.energy_and_gradient(x, grad), e, 1e-15);
  VectorD want = 0.25 * x;
  want += 1.5 * (2 * u0 / (2 + u0 * u0)) * w.row(0).transpose() + 0.7 * (2 * u1 / (2 + u1 * u1)) * w.row(1).transpose();
  EXPECT_LT((grad - want).norm(), 1e-15);
  EXPECT_EQ(m.dimension(), 2u);
  EXPECT_EQ(m.num_experts(), 2u);
  EXPECT_EQ(m.num_parameters(), 6u);
  EXPECT_FALSE(m.has_closed_form());
  EXPECT_TRUE(StudentTExperts(w, alpha).has_closed_form());
}

TEST(StudentTExperts, ParametersAreFiltersRowMajorThenLogAlpha) {
  StudentTExperts m = varied(3, 4, 0.2, 7);
  const VectorD theta = m.parameters();
  ASSERT_EQ(theta.size(), 16);
  for (Eigen::Index k = 0; k < 4; ++k) {
    for (Eigen::Index i = 0; i < 3; ++i) EXPECT_EQ(theta[3 * k + i], m.filters()(k, i));
    EXPECT_DOUBLE_EQ(theta[12 + k], std::log(m.alpha()[k]));  // a vectorised log: within 4 ulps
  }
  VectorD t2 = theta;
  t2[5] = 0.3;
  t2[13] = std::log(2.5);
  m.set_parameters(t2);
  EXPECT_EQ(m.filters()(1, 2), 0.3);
  EXPECT_NEAR(m.alpha()[1], 2.5, 1e-15);
  EXPECT_EQ(m.quadratic(), 0.2);  // fixed, not a parameter
  EXPECT_EQ(m.parameters(), t2);
}

TEST(StudentTExperts, RandomDrawsFiltersFromTheInitStream) {
  const StudentTExperts m = StudentTExperts::random(3, 2, 1.7, 11);
  Stream rng = Stream::derive(11, Purpose::init, 0);
  const double scale = 1 / std::sqrt(3.0);
  for (Eigen::Index k = 0; k < 2; ++k)
    for (Eigen::Index i = 0; i < 3; ++i) EXPECT_EQ(m.filters()(k, i), scale * rng.normal());
  EXPECT_EQ(m.alpha(), VectorD::Constant(2, 1.7));
  EXPECT_EQ(m.quadratic(), 0.0);
}

// Every derivative against central differences at several points, for complete,
// overcomplete and undercomplete models; points of scale 2 reach |u| > √6 where φ''' and
// φ'' change sign.
TEST(StudentTExperts, DerivativesMatchCentralDifferences) {
  const StudentTExperts models[] = {varied(3, 3, 0.0, 1), varied(3, 5, 0.3, 2), varied(4, 2, 0.5, 3)};
  for (const StudentTExperts& m : models) {
    const auto d = Eigen::Index(m.dimension());
    for (std::uint64_t p = 0; p < 4; ++p) {
      SCOPED_TRACE(testing::Message() << "K = " << m.num_experts() << ", point " << p);
      const VectorD x = (0.5 + 0.5 * double(p)) * test::normal_vector(d, 100 + p, 0);
      test::expect_derivatives_match_differences(m, x, test::normal_vector(d, 100 + p, 1),
                                                 test::normal_vector(d, 100 + p, 2));
    }
  }
}

/// Mistakes the checker must catch: the Laplacian without the ‖w_k‖² factor, and the score
/// VJP without its φ'(u) r term.
struct LaplacianWithoutNorms : StudentTExperts {
  using StudentTExperts::StudentTExperts;
  double laplacian(const Eigen::Ref<const VectorD>& x) const {
    double out = quadratic() * double(dimension());
    for (Eigen::Index k = 0; k < filters().rows(); ++k) {
      const double u = filters().row(k).dot(x);
      out += alpha()[k] * 2 * (2 - u * u) / ((2 + u * u) * (2 + u * u));
    }
    return out;
  }
};
struct ScoreVjpWithoutRTerm : StudentTExperts {
  using StudentTExperts::StudentTExperts;
  void add_score_vjp(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& r, double s,
                     Eigen::Ref<VectorD> g) const {
    StudentTExperts::add_score_vjp(x, r, s, g);
    const Eigen::Index d = x.size();
    for (Eigen::Index k = 0; k < filters().rows(); ++k) {
      const double u = filters().row(k).dot(x);
      g.segment(k * d, d) -= s * alpha()[k] * 2 * u / (2 + u * u) * r;
    }
  }
};

/// Runs f with its test failures intercepted; how many of them mention `what`.
template <class F>
int failures_mentioning(F&& f, const std::string& what) {
  testing::TestPartResultArray results;
  {
    testing::ScopedFakeTestPartResultReporter reporter(
        testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    f();
  }
  int n = 0;
  for (int i = 0; i < results.size(); ++i)
    n += std::string(results.GetTestPartResult(i).message()).find(what) != std::string::npos;
  return n;
}

TEST(StudentTExperts, DerivativeCheckerCatchesWrongTerms) {
  const StudentTExperts m = varied(3, 4, 0.2, 5);
  const VectorD x = test::normal_vector(3, 9, 0), r = test::normal_vector(3, 9, 1), v = test::normal_vector(3, 9, 2);
  EXPECT_GE(failures_mentioning(
                [&] {
                  test::expect_derivatives_match_differences(LaplacianWithoutNorms(m.filters(), m.alpha(), m.quadratic()),
                                                             x, r, v);
                },
                "laplacian"),
            1);
  EXPECT_GE(failures_mentioning(
                [&] {
                  test::expect_derivatives_match_differences(ScoreVjpWithoutRTerm(m.filters(), m.alpha(), m.quadratic()),
                                                             x, r, v);
                },
                "add_score_vjp"),
            1);
}

// The batched terms are the per-row terms of score matching summed (value and gradient),
// up to the rounding of a different summation order.
TEST(StudentTExperts, BatchedScoreMatchingTermsEqualThePerRowSum) {
  for (const double lambda : {0.0, 0.4}) {
    const StudentTExperts m = varied(4, 6, lambda, 21);
    MatrixD rows(37, 4);
    for (Eigen::Index n = 0; n < rows.rows(); ++n) rows.row(n) = 1.5 * test::normal_vector(4, 22, std::uint64_t(n)).transpose();
    const auto p = Eigen::Index(m.num_parameters());
    double value = 0;
    VectorD grad = VectorD::Zero(p), s(4);
    for (Eigen::Index n = 0; n < rows.rows(); ++n) {
      const VectorD x = rows.row(n).transpose();
      m.energy_and_gradient(x, s);
      value += 0.5 * s.squaredNorm() - m.laplacian(x);
      m.add_score_vjp(x, s, 1.0, grad);
      m.add_laplacian_gradient(x, -1.0, grad);
    }
    VectorD g = VectorD::Ones(p);
    const double batched = m.add_score_matching_terms(rows, g);
    EXPECT_NEAR(batched, value, 1e-12 * (1 + std::abs(value)));
    EXPECT_LT((g - VectorD::Ones(p) - grad).lpNorm<Eigen::Infinity>(), 1e-11 * (1 + grad.lpNorm<Eigen::Infinity>()));
    VectorD none(0);
    EXPECT_EQ(m.add_score_matching_terms(rows, none), batched);
    // And N times the objective of objectives/score_matching.hpp.
    EXPECT_NEAR(score_matching_objective(m, rows, nullptr, Exec(1)) * double(rows.rows()), value,
                1e-12 * (1 + std::abs(value)));
  }
}

// The objectives split rows into fixed blocks: the model adds nothing that depends on the
// thread count (300 rows: six blocks).
TEST(StudentTExperts, ScoreMatchingObjectiveIsTheSameForOneAndTwoThreads) {
  const StudentTExperts m = varied(3, 4, 0.2, 23);
  MatrixD rows(300, 3);
  for (Eigen::Index n = 0; n < rows.rows(); ++n) rows.row(n) = test::normal_vector(3, 24, std::uint64_t(n)).transpose();
  VectorD g1, g2;
  EXPECT_EQ(score_matching_objective(m, rows, &g1, Exec(1)), score_matching_objective(m, rows, &g2, Exec(2)));
  EXPECT_EQ(g1, g2);
  const SlicedOptions sliced{2, Projection::rademacher, 25};
  EXPECT_EQ(sliced_score_matching_objective(m, rows, sliced, &g1, Exec(1)),
            sliced_score_matching_objective(m, rows, sliced, &g2, Exec(2)));
  EXPECT_EQ(g1, g2);
}

// ---------------------------------------------------------------------------------------
// The closed-form log Z against quadrature.

/// ∫ f over R by the substitution x = sinh t (heavy tails decay exponentially in t) and
/// the trapezoid rule on [−T, T] with step h; the tails beyond ±sinh T are bounded by the
/// caller.
template <class F>
double sinh_trapezoid(F&& f, double T, double h) {
  const auto n = long(std::lround(T / h));
  double sum = 0;
  for (long i = -n; i <= n; ++i) {
    const double t = double(i) * h;
    sum += f(std::sinh(t)) * std::cosh(t);
  }
  return sum * h;
}

/// log ∫ (1 + ½u²)^−α du by its own formula: ½ log 2π + lgamma(α − ½) − lgamma(α).
double expert_log_integral(double alpha) {
  return 0.5 * std::log(2 * std::numbers::pi) + std::lgamma(alpha - 0.5) - std::lgamma(alpha);
}

/// 2 ∫_c^∞ (1 + ½u²)^−α du <= 2 ∫_c^∞ (½u²)^−α du = 2^(α+1) c^(1−2α) / (2α − 1).
double expert_tail_bound(double alpha, double c) {
  return std::pow(2.0, alpha + 1) * std::pow(c, 1 - 2 * alpha) / (2 * alpha - 1);
}

TEST(StudentTExperts, ClosedFormLogZByHandForAlphaOne) {
  // α = 1: ∫ (1 + ½(wx)²)^−1 dx = π√2 / |w|.
  MatrixD w(1, 1);
  w << -1.7;
  const StudentTExperts m(w, VectorD::Ones(1));
  EXPECT_NEAR(m.log_partition(), std::log(std::numbers::pi * std::sqrt(2.0) / 1.7), 1e-14);
}

TEST(StudentTExperts, ClosedFormLogZMatchesQuadratureInOneDimension) {
  for (const double alpha : {0.75, 1.0, 2.5, 6.0}) {
    MatrixD w(1, 1);
    w << 1.3;
    const StudentTExperts m(w, VectorD::Constant(1, alpha));
    const double T = 30, L = std::sinh(T);
    const double z = sinh_trapezoid([&](double x) { return std::exp(-m.energy_of(VectorD::Constant(1, x))); }, T, 0.005);
    // Beyond |x| > L: |u| > 1.3 L, bounded as above (divided by |w|).
    const double tail = expert_tail_bound(alpha, 1.3 * L) / 1.3;
    SCOPED_TRACE(testing::Message() << "alpha = " << alpha);
    // The trapezoid rule on an analytic integrand decaying exponentially is accurate to
    // ~1e-12 at this step; the rest is the tail, an upper bound on what is missing.
    EXPECT_NEAR(m.log_partition(), std::log(z), 1e-10 + tail / z);
    EXPECT_GT(m.log_partition(), std::log(z) - 1e-10);
  }
}

// In R² the ridges u_k = 0 of heavy-tailed experts get too thin for a sinh grid far out,
// so this check uses lighter tails (α = 3, 3.5) and the trapezoid rule on a uniform grid
// over the box ‖x‖∞ <= L, whose truncated mass is bounded analytically.
TEST(StudentTExperts, ClosedFormLogZMatchesQuadratureInTwoDimensions) {
  MatrixD w(2, 2);
  w << 0.9, -0.4, 0.6, 1.2;
  VectorD alpha(2);
  alpha << 3.0, 3.5;
  const StudentTExperts m(w, alpha);
  const double L = 40, h = 0.025;
  const auto n = long(std::lround(L / h));
  double z = 0;
  VectorD x(2);
  for (long i = -n; i <= n; ++i) {
    x[0] = double(i) * h;
    for (long j = -n; j <= n; ++j) {
      x[1] = double(j) * h;
      z += (std::abs(i) == n ? 0.5 : 1.0) * (std::abs(j) == n ? 0.5 : 1.0) * std::exp(-m.energy_of(x));
    }
  }
  z *= h * h;
  // Outside the box: ‖u‖∞ >= ‖u‖₂/√2 >= σ_min(W) L/√2 =: c, so the missing mass is at most
  // Σ_k [tail_k(c) · ∏_{j≠k} ∫ f_j] / |det W|. The trapezoid rule's own error on this
  // smooth integrand (bumps of width ~1, step 1/40) is far below that bound.
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd{Eigen::MatrixXd(w)};
  const double c = svd.singularValues()[1] * L / std::sqrt(2.0), det = std::abs(w.determinant());
  const double i0 = std::exp(expert_log_integral(alpha[0])), i1 = std::exp(expert_log_integral(alpha[1]));
  const double tail = (expert_tail_bound(alpha[0], c) * i1 + expert_tail_bound(alpha[1], c) * i0) / det;
  ASSERT_LT(tail / z, 1e-6);
  EXPECT_GE(m.log_partition(), std::log(z) - 1e-10);
  EXPECT_LE(m.log_partition(), std::log(z) + tail / z + 1e-10);
  // A Jacobian of det W instead of 1/det W fails by 2 log det W = 0.56.
  EXPECT_GT(std::abs(m.log_partition() + 2 * std::log(det) - std::log(z)), 0.5);
}

TEST(StudentTExperts, NonNormalisableClosedFormsAreDataErrors) {
  MatrixD w(2, 2);
  w << 1.0, 0.2, -0.3, 0.8;
  VectorD alpha(2);
  alpha << 1.0, 0.5;
  const StudentTExperts heavy(w, alpha);
  EXPECT_EQ(heavy.normalisable(), Normalisable::no);
  expect_error([&] { (void)heavy.log_partition(); }, Exit::data,
               "StudentTExperts::log_partition: alpha[1] = 0.5 <= 1/2, so expert 1's factor (1 + u^2/2)^-alpha is not "
               "integrable (the model is not normalisable)");
  Stream rng = Stream::root(1);
  VectorD x(2);
  expect_error([&] { heavy.sample(rng, x); }, Exit::data,
               "StudentTExperts::sample: alpha[1] = 0.5 <= 1/2 (the model is not normalisable)");
  MatrixD s(2, 2);
  s << 1.0, 2.0, 2.0, 4.0;
  const StudentTExperts singular(s, VectorD::Constant(2, 2.0));
  EXPECT_EQ(singular.normalisable(), Normalisable::no);
  expect_error([&] { (void)singular.log_partition(); }, Exit::data,
               "StudentTExperts::log_partition: the filter matrix is singular (reciprocal condition number below 1e-12; "
               "the model is not normalisable)");
  expect_error([&] { singular.sample(rng, x); }, Exit::data,
               "StudentTExperts::sample: the filter matrix is singular (reciprocal condition number below 1e-12; the "
               "model is not normalisable)");
  const StudentTExperts over = varied(2, 3, 0.0, 4);
  expect_error([&] { (void)over.log_partition(); }, Exit::usage,
               "StudentTExperts::log_partition: no closed form unless K = d and quadratic = 0 (this model has K = 3, "
               "d = 2, quadratic = 0); estimate log Z instead");
  expect_error([&] { over.sample(rng, x); }, Exit::usage,
               "StudentTExperts::sample: exact draws need the closed-form case K = d and quadratic = 0 (this model has "
               "K = 3, d = 2, quadratic = 0)");
}

TEST(StudentTExperts, NormalisableReportsTheConditionsThatApply) {
  const StudentTExperts base = varied(3, 5, 0.0, 8);  // α = 0.6 .. 2.2, generic filters
  EXPECT_EQ(base.normalisable(), Normalisable::yes);
  EXPECT_EQ(StudentTExperts(base.filters(), VectorD::Constant(5, 0.4), 0.0).normalisable(),
            Normalisable::unknown);  // Σα = 2 > 3/2 but no α_k > ½
  EXPECT_EQ(StudentTExperts(base.filters(), VectorD::Constant(5, 0.3), 0.0).normalisable(),
            Normalisable::no);  // Σα = 1.5 <= d/2
  EXPECT_EQ(StudentTExperts(base.filters(), VectorD::Constant(5, 0.3), 0.1).normalisable(), Normalisable::yes);
  MatrixD flat = base.filters();
  flat.col(2).setZero();  // E does not depend on x_2
  EXPECT_EQ(StudentTExperts(flat, base.alpha(), 0.0).normalisable(), Normalisable::no);
  EXPECT_EQ(varied(3, 3, 0.0, 9).normalisable(), Normalisable::yes);
}

// ---------------------------------------------------------------------------------------
// Exact draws.

/// n draws, one per row, row r from Stream::derive(seed, Purpose::sample, r).
MatrixD draws(const StudentTExperts& m, std::size_t n, std::uint64_t seed) {
  MatrixD out(Eigen::Index(n), Eigen::Index(m.dimension()));
  VectorD x(Eigen::Index(m.dimension()));
  for (std::size_t r = 0; r < n; ++r) {
    Stream rng = Stream::derive(seed, Purpose::sample, r);
    m.sample(rng, x);
    out.row(Eigen::Index(r)) = x.transpose();
  }
  return out;
}

/// Mean and standard error of the column of values.
struct MeanSe {
  double mean, se;
};
MeanSe mean_se(const VectorD& v) {
  const double n = double(v.size()), mean = v.mean();
  return {mean, std::sqrt((v.array() - mean).square().sum() / (n - 1) / n)};
}

// E[x] = 0 and E[x xᵀ] = W⁻¹ diag(2/(ν_k − 2)) W⁻ᵀ (Var u_k = (2/ν) · ν/(ν − 2)). ν = 9 and
// 11 give finite eighth moments, so the standard errors of the second moments are
// themselves well estimated. 5 checks at 1e-5 each. With ν_k = 2α_k (a wrong dof) the
// second moments are rejected.
TEST(StudentTExperts, ExactDrawsHaveTheModelsMoments) {
  MatrixD w(2, 2);
  w << 1.0, 0.5, -0.4, 0.8;
  VectorD alpha(2);
  alpha << 5.0, 6.0;
  const StudentTExperts m(w, alpha);
  const MatrixD x = draws(m, 40000, 3);
  const MatrixD winv = w.inverse();
  const auto cov_of = [&](double shift) {
    VectorD var(2);
    for (Eigen::Index k = 0; k < 2; ++k) {
      const double nu = 2 * alpha[k] - 1 + shift;
      var[k] = 2 / (nu - 2);
    }
    return MatrixD(winv * var.asDiagonal() * winv.transpose());
  };
  const MatrixD cov = cov_of(0), wrong = cov_of(1);
  int rejected = 0;
  for (Eigen::Index i = 0; i < 2; ++i) {
    const MeanSe mu = mean_se(x.col(i));
    EXPECT_NEAR(mu.mean, 0.0, kZ * mu.se) << "mean " << i;
    for (Eigen::Index j = i; j < 2; ++j) {
      const MeanSe s = mean_se(VectorD(x.col(i).array() * x.col(j).array()));
      EXPECT_NEAR(s.mean, cov(i, j), kZ * s.se) << "second moment " << i << ", " << j;
      rejected += std::abs(s.mean - wrong(i, j)) > kZ * s.se;
    }
  }
  EXPECT_GE(rejected, 2) << "the moments of the wrong dof were not rejected";
}

// Heavy tails (ν = 1, Cauchy; ν = 0.5): P(|t_k| > c) of u_k = (W x)_k, t_k = u_k √(ν_k/2),
// against Student's t tail; binomial standard error; 6 checks at 1e-5 each.
TEST(StudentTExperts, ExactDrawsHaveStudentTTails) {
  MatrixD w(2, 2);
  w << 0.7, 0.3, 0.2, -1.1;
  VectorD alpha(2);
  alpha << 1.0, 0.75;
  const StudentTExperts m(w, alpha);
  const std::size_t n = 40000;
  const MatrixD x = draws(m, n, 4);
  const MatrixD u = x * w.transpose();
  for (Eigen::Index k = 0; k < 2; ++k) {
    const double nu = 2 * alpha[k] - 1;
    for (const double c : {0.5, 2.0, 10.0}) {
      const double p = student_t_two_sided_tail(c, nu);
      double hits = 0;
      for (Eigen::Index r = 0; r < u.rows(); ++r) hits += std::abs(u(r, k)) * std::sqrt(nu / 2) > c;
      EXPECT_NEAR(hits / double(n), p, kZ * std::sqrt(p * (1 - p) / double(n))) << "expert " << k << ", c = " << c;
    }
  }
}

TEST(StudentTExperts, DrawsDependOnTheStreamOnly) {
  const StudentTExperts m = varied(3, 3, 0.0, 12);
  const MatrixD a = draws(m, 50, 9), b = draws(m, 50, 9);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(a.allFinite());
}

// ---------------------------------------------------------------------------------------
// Bad input.

TEST(StudentTExperts, ConstructorRefusesBadModels) {
  MatrixD w = MatrixD::Identity(2, 2);
  const VectorD a = VectorD::Ones(2);
  expect_error([&] { StudentTExperts(MatrixD(0, 2), VectorD(0)); }, Exit::data,
               "StudentTExperts: filters is 0x2 (need at least one expert and one dimension)");
  expect_error([&] { StudentTExperts(w, VectorD::Ones(3)); }, Exit::data,
               "StudentTExperts: alpha has 3 entries but filters has 2 rows (one per expert)");
  MatrixD bad = w;
  bad(1, 0) = std::nan("");
  expect_error([&] { StudentTExperts(bad, a); }, Exit::data, "StudentTExperts: filters(1, 0) is not finite (nan)");
  VectorD alpha(2);
  alpha << 1.0, 0.0;
  expect_error([&] { StudentTExperts(w, alpha); }, Exit::data, "StudentTExperts: alpha[1] must be finite and > 0 (got 0)");
  alpha[1] = INFINITY;
  expect_error([&] { StudentTExperts(w, alpha); }, Exit::data, "StudentTExperts: alpha[1] must be finite and > 0 (got inf)");
  expect_error([&] { StudentTExperts(w, a, -0.5); }, Exit::data,
               "StudentTExperts: quadratic must be finite and >= 0 (got -0.5)");
  expect_error([&] { StudentTExperts::random(0, 2, 1.0, 1); }, Exit::usage,
               "StudentTExperts::random: d and K must be >= 1 (got d = 0, K = 2)");
  expect_error([&] { StudentTExperts::random(2, 2, -1.0, 1); }, Exit::usage,
               "StudentTExperts::random: alpha must be finite and > 0 (got -1)");
}

TEST(StudentTExperts, MethodsRefuseBadArguments) {
  StudentTExperts m = varied(2, 3, 0.1, 13);
  expect_error([&] { m.set_parameters(VectorD::Zero(8)); }, Exit::usage,
               "StudentTExperts::set_parameters: theta has 8 entries but the model has 9 parameters");
  VectorD theta = m.parameters();
  theta[4] = std::nan("");
  expect_error([&] { m.set_parameters(theta); }, Exit::usage,
               "StudentTExperts::set_parameters: theta[4] is not finite (nan)");
  theta = m.parameters();
  theta[7] = 800;
  expect_error([&] { m.set_parameters(theta); }, Exit::usage,
               "StudentTExperts::set_parameters: theta[7] = log alpha[1] = 800 is out of range (alpha = inf)");
  EXPECT_EQ(m.alpha()[1], 1.0);  // unchanged by the refused θ
  expect_error([&] { (void)m.energy_of(VectorD::Zero(3)); }, Exit::usage,
               "StudentTExperts::energy_of: x has 3 entries but the model has dimension 2");
  VectorD g(3);
  expect_error([&] { m.add_energy_gradient(VectorD::Zero(2), 1.0, g); }, Exit::usage,
               "StudentTExperts::add_energy_gradient: g has 3 entries but the model has 9 parameters");
  expect_error([&] { (void)m.add_score_matching_terms(MatrixD::Zero(4, 3), g); }, Exit::usage,
               "StudentTExperts::add_score_matching_terms: rows has 3 columns but the model has dimension 2");
  expect_error([&] { (void)m.add_score_matching_terms(MatrixD::Zero(4, 2), g); }, Exit::usage,
               "StudentTExperts::add_score_matching_terms: g has 3 entries but the model has 9 parameters");
}

}  // namespace
}  // namespace logz
