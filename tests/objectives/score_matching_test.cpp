// Tests of score matching, sliced and denoising score matching on the Gaussian energy:
// the model's derivatives against central differences, the objectives against their
// formulas, their gradients against central differences, the closed-form optima that
// L-BFGS must reach (SM: the inverse sample covariance with divisor n; DSM with finite
// noise: the solution of a Lyapunov equation built from the very noise draws), SSM
// against SM in expectation over the projections (derived z·SE), 1 vs 2 threads, and
// pinned errors.
#include "logz/objectives/score_matching.hpp"

#include <Eigen/LU>
#include <Eigen/Eigenvalues>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include "logz/core/check.hpp"
#include "support/expect_error.hpp"
#include "support/parametric_checks.hpp"
#include "support/gaussian_draws.hpp"

namespace logz {
namespace {

using test::gaussian_draws;
using test::truth3;
using test::start3;

bool same_bits(const VectorD& a, const VectorD& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}


// ---------------------------------------------------------------------------------------
// The model.

TEST(GaussianEnergy, ParametersAndClosedForms) {
  const GaussianEnergy m = start3();
  const VectorD theta = m.parameters();
  ASSERT_EQ(theta.size(), 9);
  EXPECT_EQ(theta[0], 0.3);
  EXPECT_EQ(theta[3], 1.2);  // Λ_00
  EXPECT_EQ(theta[4], 0.2);  // Λ_01
  EXPECT_EQ(theta[6], 0.9);  // Λ_11
  EXPECT_EQ(theta[8], 1.4);  // Λ_22
  GaussianEnergy other = GaussianEnergy::standard(3);
  other.set_parameters(theta);
  EXPECT_EQ(other.precision(), m.precision());
  EXPECT_EQ(other.linear(), m.linear());

  VectorD x(3);
  x << 0.7, -0.2, 1.1;
  const double e = 0.5 * x.dot(m.precision() * x) - m.linear().dot(x);
  EXPECT_DOUBLE_EQ(m.energy_of(x), e);
  VectorD grad(3);
  EXPECT_DOUBLE_EQ(m.energy_and_gradient(x, grad), e);
  EXPECT_LT((grad - (m.precision() * x - m.linear())).norm(), 1e-15);
  EXPECT_DOUBLE_EQ(m.laplacian(x), 1.2 + 0.9 + 1.4);

  // From a Gaussian and back; log Z of ½xᵀΛx − bᵀx = Gaussian's log Z + ½ μᵀΛμ.
  const Gaussian g = truth3();
  const GaussianEnergy ge = GaussianEnergy::from_gaussian(g);
  const Gaussian back = ge.to_gaussian();
  EXPECT_LT((back.mean() - g.mean()).norm(), 1e-14);
  EXPECT_LT((back.precision() - g.precision()).norm(), 1e-14);
  const double want = g.log_partition() + 0.5 * g.mean().dot(g.precision() * g.mean());
  EXPECT_NEAR(ge.log_partition(), want, 1e-14 * std::abs(want));
  // The energies differ by that constant.
  EXPECT_NEAR(ge.energy_of(x) - g.energy(x), -0.5 * g.mean().dot(g.precision() * g.mean()), 1e-14);
}

// Each add_* is the θ-derivative of its quantity: checked against central differences
// (all quantities are linear or quadratic in x and linear in θ: no truncation error).
TEST(GaussianEnergy, ParameterDerivativesMatchCentralDifferences) {
  const GaussianEnergy m = start3();
  VectorD x(3), r(3), v(3);
  x << 0.7, -0.2, 1.1;
  r << -0.4, 0.9, 0.3;
  v << 1.0, -1.0, 0.5;
  const auto check = [&](auto add, auto value) {
    VectorD g = VectorD::Zero(9);
    add(m, g);
    // θ enters linearly: central differences have no truncation error, only rounding ~1e-12.
    const VectorD fd = test::parameter_differences(m, value, 1e-4);
    EXPECT_LT((g - fd).lpNorm<Eigen::Infinity>(), 1e-10) << "analytic " << g.transpose() << "\nfd " << fd.transpose();
    EXPECT_GT(fd.norm(), 0.1);
  };
  check([&](const GaussianEnergy& mm, VectorD& g) { mm.add_energy_gradient(x, 2.0, g); },
        [&](const GaussianEnergy& mm) { return 2.0 * mm.energy_of(x); });
  check([&](const GaussianEnergy& mm, VectorD& g) { mm.add_score_vjp(x, r, -1.5, g); },
        [&](const GaussianEnergy& mm) {
          VectorD s(3);
          mm.energy_and_gradient(x, s);
          return -1.5 * r.dot(s);
        });
  check([&](const GaussianEnergy& mm, VectorD& g) { mm.add_laplacian_gradient(x, 0.5, g); },
        [&](const GaussianEnergy& mm) { return 0.5 * mm.laplacian(x); });
  check([&](const GaussianEnergy& mm, VectorD& g) { mm.add_hessian_quadratic_gradient(x, v, 3.0, g); },
        [&](const GaussianEnergy& mm) { return 3.0 * mm.hessian_quadratic(x, v); });
}

// The shared checker (tests/support/parametric_checks.hpp) passes the Gaussian energy and
// fails it when one derivative is off by a term.
struct LaplacianOffByOne : GaussianEnergy {
  using GaussianEnergy::GaussianEnergy;
  double laplacian(const Eigen::Ref<const VectorD>& x) const { return GaussianEnergy::laplacian(x) + 1; }
};

TEST(GaussianEnergy, SharedDerivativeCheckerPassesItAndCatchesAWrongTerm) {
  const GaussianEnergy m = start3();
  const VectorD x = test::normal_vector(3, 1), r = test::normal_vector(3, 2), v = test::normal_vector(3, 3);
  test::expect_derivatives_match_differences(m, x, r, v);
  const LaplacianOffByOne wrong(m.precision(), m.linear());
  EXPECT_NONFATAL_FAILURE(test::expect_derivatives_match_differences(wrong, x, r, v), "laplacian");
}

// ---------------------------------------------------------------------------------------
// Objectives against their formulas and their gradients against central differences.

TEST(ScoreMatching, ObjectivesEqualTheirFormulas) {
  const Exec ex(1);
  const GaussianEnergy m = start3();
  const MatrixD x = gaussian_draws(truth3(), 40, 1);
  const MatrixD& L = m.precision();
  const VectorD& b = m.linear();
  double sm = 0, ssm = 0, dsm = 0;
  const SlicedOptions so{3, Projection::gaussian, 5};
  const DenoisingOptions dso{{0.3, 0.05}, 2, 6};
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const VectorD xr = x.row(r).transpose();
    const VectorD s = L * xr - b;
    sm += 0.5 * s.squaredNorm() - L.trace();
    const MatrixD v = sliced_projections(so, std::size_t(r), 3);
    for (Eigen::Index k = 0; k < 3; ++k) {
      const VectorD vk = v.row(k).transpose();
      ssm += 0.5 * std::pow(vk.dot(s), 2) - vk.dot(L * vk);
    }
    for (std::size_t l = 0; l < 2; ++l) {
      const double sigma = dso.sigmas[l];
      const MatrixD eps = denoising_noise(dso, std::size_t(r), l, 3);
      for (Eigen::Index k = 0; k < 2; ++k) {
        const VectorD xt = xr + sigma * eps.row(k).transpose();
        // ½ σ² ‖∇E(x̃) − (x̃ − x)/σ²‖²
        dsm += 0.5 * sigma * sigma * (L * xt - b - (xt - xr) / (sigma * sigma)).squaredNorm();
      }
    }
  }
  EXPECT_NEAR(score_matching_objective(m, x, nullptr, ex), sm / 40, 1e-13 * std::abs(sm / 40));
  EXPECT_NEAR(sliced_score_matching_objective(m, x, so, nullptr, ex), ssm / 120, 1e-13 * std::abs(ssm / 120));
  EXPECT_NEAR(denoising_score_matching_objective(m, x, dso, nullptr, ex), dsm / 160, 1e-12 * std::abs(dsm / 160));
}

TEST(ScoreMatching, RandomPartsAreFixedPerRowAndIndex) {
  // Projection m and draw k do not depend on how many are asked for; rows and levels
  // differ; Rademacher entries are ±1.
  const MatrixD a = sliced_projections({2, Projection::rademacher, 9}, 4, 5);
  const MatrixD b = sliced_projections({5, Projection::rademacher, 9}, 4, 5);
  EXPECT_EQ(MatrixD(b.topRows(2)), a);
  EXPECT_TRUE((a.array().abs() == 1.0).all());
  EXPECT_NE(sliced_projections({2, Projection::rademacher, 9}, 5, 5), a);
  const MatrixD e1 = denoising_noise({{0.1, 0.2}, 2, 3}, 7, 1, 4);
  const MatrixD e2 = denoising_noise({{0.1, 0.2}, 4, 3}, 7, 1, 4);
  EXPECT_EQ(MatrixD(e2.topRows(2)), e1);
  EXPECT_NE(denoising_noise({{0.1, 0.2}, 2, 3}, 7, 0, 4), e1);
  EXPECT_NE(denoising_noise({{0.1, 0.2}, 2, 4}, 7, 1, 4), e1);
}

TEST(ScoreMatching, GradientsMatchCentralDifferences) {
  const Exec ex(1);
  const GaussianEnergy m = start3();
  const MatrixD x = gaussian_draws(truth3(), 60, 2);
  const auto check = [&](auto objective) {
    VectorD g;
    objective(m, &g);
    // The objectives are quadratic in θ: central differences have no truncation error.
    const VectorD fd =
        test::parameter_differences(m, [&](const GaussianEnergy& mm) { return objective(mm, nullptr); }, 1e-4);
    // Quadratic objectives of size O(10): rounding of the differences ~ 1e-15·10/1e-4.
    EXPECT_LT((g - fd).lpNorm<Eigen::Infinity>(), 1e-8) << "analytic " << g.transpose() << "\nfd " << fd.transpose();
    EXPECT_GT(fd.lpNorm<Eigen::Infinity>(), 0.1);
  };
  check([&](const GaussianEnergy& mm, VectorD* g) { return score_matching_objective(mm, x, g, ex); });
  for (Projection kind : {Projection::rademacher, Projection::gaussian})
    check([&](const GaussianEnergy& mm, VectorD* g) {
      return sliced_score_matching_objective(mm, x, {4, kind, 3}, g, ex);
    });
  check([&](const GaussianEnergy& mm, VectorD* g) {
    return denoising_score_matching_objective(mm, x, {{0.5, 0.1, 0.02}, 2, 4}, g, ex);
  });
}

TEST(ScoreMatching, SameBitsForOneAndTwoThreads) {
  const GaussianEnergy m = start3();
  const MatrixD x = gaussian_draws(truth3(), 1000, 3);  // 4 row blocks
  const auto both = [&](auto objective) {
    VectorD g1, g2;
    const double f1 = objective(&g1, Exec(1)), f2 = objective(&g2, Exec(2));
    EXPECT_EQ(std::memcmp(&f1, &f2, sizeof f1), 0);
    EXPECT_TRUE(same_bits(g1, g2));
  };
  both([&](VectorD* g, const Exec& ex) { return score_matching_objective(m, x, g, ex); });
  both([&](VectorD* g, const Exec& ex) { return sliced_score_matching_objective(m, x, {2, Projection::gaussian, 1}, g, ex); });
  both([&](VectorD* g, const Exec& ex) { return denoising_score_matching_objective(m, x, {{0.2, 0.1}, 2, 1}, g, ex); });
  const auto a = fit_denoising_score_matching(m, x, {{0.2}, 1, 1}, {}, Exec(1));
  const auto b = fit_denoising_score_matching(m, x, {{0.2}, 1, 1}, {}, Exec(2));
  EXPECT_TRUE(same_bits(a.model.parameters(), b.model.parameters()));
}

// ---------------------------------------------------------------------------------------
// Closed-form optima.

/// The objectives are quadratics in θ: ‖θ − θ*‖ <= ‖∇J(θ)‖ / λ_min(H). H is built from
/// central differences of the gradient (exact for a quadratic, up to rounding).
template <class Grad>
double distance_bound(const GaussianEnergy& at, Grad&& grad) {
  GaussianEnergy m = at;
  const VectorD theta = at.parameters();
  const Eigen::Index p = theta.size();
  Eigen::MatrixXd h(p, p);
  const double step = 1e-3;
  for (Eigen::Index k = 0; k < p; ++k) {
    VectorD tp = theta, tm = theta;
    tp[k] += step;
    tm[k] -= step;
    m.set_parameters(tp);
    const VectorD gp = grad(m);
    m.set_parameters(tm);
    h.col(k) = (gp - grad(m)) / (2 * step);
  }
  const Eigen::MatrixXd hs = 0.5 * (h + h.transpose());
  const double lmin = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(hs).eigenvalues()[0];
  EXPECT_GT(lmin, 0);
  return grad(at).norm() / lmin;
}

// J_SM = ½ tr(Λ² S) + ½(Λx̄ − b)ᵀ(Λx̄ − b) − tr Λ with S the sample covariance with
// divisor n: its minimum is b = Λx̄, ½(ΛS + SΛ) = I, i.e. Λ = S⁻¹ (divisor n), μ = x̄.
TEST(ScoreMatching, RecoversInverseSampleCovarianceWithDivisorN) {
  const Exec ex(1);
  const std::size_t n = 200;
  const MatrixD x = gaussian_draws(truth3(), n, 4);
  const VectorD mean = x.colwise().mean().transpose();
  const MatrixD c = x.rowwise() - mean.transpose();
  const MatrixD s_n = c.transpose() * c / double(n);
  const MatrixD want = s_n.inverse();
  LbfgsOptions opt;
  opt.gradient_tolerance = 1e-10;
  const auto fit = fit_score_matching(GaussianEnergy::standard(3), x, opt, ex);
  // The distance to the optimum, bounded through the Hessian, plus rounding of the
  // closed form (cond(S)·ε ~ 1e-14).
  const double tol = distance_bound(fit.model, [&](const GaussianEnergy& m) {
    VectorD g;
    score_matching_objective(m, x, &g, ex);
    return g;
  }) + 1e-12;
  // The fit got close: L-BFGS may end on its line search once the objective stops falling
  // in floating point (2.7e-7 seen on an AVX2 build); the check below is
  // held to the bound itself.
  EXPECT_LT(tol, 1e-6) << fit.stopped_by;
  const Gaussian got = fit.model.to_gaussian();
  EXPECT_LT((got.precision() - want).lpNorm<Eigen::Infinity>(), tol);
  // μ = Λ⁻¹b: its error is at most ‖Λ⁻¹‖ (‖δb‖ + ‖δΛ‖‖μ‖) ≈ 3·4·tol.
  EXPECT_LT((got.mean() - mean).lpNorm<Eigen::Infinity>(), 20 * tol);
  // Not vacuous: the divisor n − 1 differs by a factor (n − 1)/n, far beyond 1e-9.
  const MatrixD want_n1 = (c.transpose() * c / double(n - 1)).inverse();
  EXPECT_GT((got.precision() - want_n1).lpNorm<Eigen::Infinity>(), 1e-4);
  // The trace starts at the initial objective and never rises.
  ASSERT_GE(fit.trace.size(), 2u);
  for (std::size_t i = 1; i < fit.trace.size(); ++i) EXPECT_LE(fit.trace[i], fit.trace[i - 1]);
}

// Solves Λ A + A Λ = B for symmetric Λ (A symmetric positive definite) through the
// Kronecker form (I ⊗ A + A ⊗ I) vec Λ = vec B.
MatrixD lyapunov(const MatrixD& a, const MatrixD& b) {
  const Eigen::Index d = a.rows();
  const Eigen::MatrixXd id = Eigen::MatrixXd::Identity(d, d);
  Eigen::MatrixXd k(d * d, d * d);
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = 0; j < d; ++j) k.block(i * d, j * d, d, d) = id(i, j) * Eigen::MatrixXd(a) + a(i, j) * id;
  const Eigen::VectorXd vb = Eigen::Map<const Eigen::VectorXd>(Eigen::MatrixXd(b).data(), d * d);
  const Eigen::VectorXd vl = k.partialPivLu().solve(vb);
  return MatrixD(Eigen::Map<const Eigen::MatrixXd>(vl.data(), d, d));
}

// With the N·K noisy points x̃ = x + σε, the DSM objective σ²·mean ½‖Λx̃ − b − ε/σ‖² is
// minimised at b = Λ mean(x̃) − mean(ε)/σ and ΛS̃ + S̃Λ = (C + Cᵀ)/σ, where
// S̃ = mean(ũũᵀ), C = mean(ẽũᵀ), ũ = x̃ − mean(x̃), ẽ = ε − mean(ε) (divisors N·K). In
// expectation over the noise C = σI and S̃ = S + σ²I, so Λ → (S + σ²I)⁻¹; with finite
// draws the optimum is exactly the Lyapunov solution, tested here.
TEST(DenoisingScoreMatching, RecoversTheLyapunovSolutionOfItsNoisySample) {
  const Exec ex(1);
  const std::size_t n = 150, k = 3;
  const double sigma = 0.4;
  const MatrixD x = gaussian_draws(truth3(), n, 5);
  const DenoisingOptions dso{{sigma}, k, 8};
  MatrixD xt(Eigen::Index(n * k), 3), eps(Eigen::Index(n * k), 3);
  for (std::size_t r = 0; r < n; ++r) {
    const MatrixD e = denoising_noise(dso, r, 0, 3);
    for (std::size_t j = 0; j < k; ++j) {
      eps.row(Eigen::Index(r * k + j)) = e.row(Eigen::Index(j));
      xt.row(Eigen::Index(r * k + j)) = x.row(Eigen::Index(r)) + sigma * e.row(Eigen::Index(j));
    }
  }
  const VectorD xt_mean = xt.colwise().mean().transpose(), eps_mean = eps.colwise().mean().transpose();
  const MatrixD u = xt.rowwise() - xt_mean.transpose(), ec = eps.rowwise() - eps_mean.transpose();
  const double nk = double(n * k);
  const MatrixD s_tilde = u.transpose() * u / nk, cross = ec.transpose() * u / nk;
  const MatrixD want = lyapunov(s_tilde, (cross + cross.transpose()) / sigma);
  const VectorD want_b = want * xt_mean - eps_mean / sigma;

  LbfgsOptions opt;
  opt.gradient_tolerance = 1e-10;
  const auto fit = fit_denoising_score_matching(GaussianEnergy::standard(3), x, dso, opt, ex);
  const double tol = distance_bound(fit.model, [&](const GaussianEnergy& m) {
    VectorD g;
    denoising_score_matching_objective(m, x, dso, &g, ex);
    return g;
  }) + 1e-12;
  EXPECT_LT(tol, 1e-7) << fit.stopped_by;
  EXPECT_LT((fit.model.precision() - want).lpNorm<Eigen::Infinity>(), tol);
  EXPECT_LT((fit.model.linear() - want_b).lpNorm<Eigen::Infinity>(), tol);
  // Not vacuous: the noise-free expectation (S + σ²I)⁻¹ (divisor n) is a different
  // matrix at this sample size.
  const VectorD mean = x.colwise().mean().transpose();
  const MatrixD c = x.rowwise() - mean.transpose();
  const MatrixD expected = (c.transpose() * c / double(n) + sigma * sigma * MatrixD::Identity(3, 3)).inverse();
  EXPECT_GT((fit.model.precision() - expected).lpNorm<Eigen::Infinity>(), 1e-4);
}

// ---------------------------------------------------------------------------------------
// Sliced score matching against score matching.

// Given x, for Gaussian v ~ N(0, I), with s = ∇E(x), a = vᵀs, Q = vᵀΛv:
// E[½a² − Q] = ½‖s‖² − tr Λ (the SM term) and
// Var[½a² − Q] = ¼·2‖s‖⁴ + 2 tr Λ² − 2 sᵀΛs (Isserlis: Var(a²) = 2‖s‖⁴,
// Var Q = 2 tr Λ², Cov(a², Q) = 2 sᵀΛs). So J_SSM − J_SM has mean 0 and variance
// Σ_n Var_n / (N² M) over the projections: tested at z = 4 (two-sided false-failure
// rate 6e-5; the sum over N·M independent terms is close to normal).
TEST(SlicedScoreMatching, LossEqualsScoreMatchingInExpectation) {
  const Exec ex(1);
  const GaussianEnergy m = start3();
  const std::size_t n = 100, projections = 200;
  const MatrixD x = gaussian_draws(truth3(), n, 6);
  const double sm = score_matching_objective(m, x, nullptr, ex);
  const MatrixD& L = m.precision();
  double var = 0;
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const VectorD s = L * x.row(r).transpose() - m.linear();
    var += 0.5 * std::pow(s.squaredNorm(), 2) + 2 * (L * L).trace() - 2 * s.dot(L * s);
  }
  const double se = std::sqrt(var / double(projections)) / double(n);
  for (std::uint64_t seed : {1, 2, 3}) {
    const double ssm = sliced_score_matching_objective(m, x, {projections, Projection::gaussian, seed}, nullptr, ex);
    EXPECT_LT(std::abs(ssm - sm), 4 * se) << "seed " << seed << " SM " << sm << " SSM " << ssm << " SE " << se;
  }
  // Not vacuous: projections with E[vvᵀ] = 2I (v scaled by √2) would give twice the SM
  // term, off by |SM|, well beyond the tolerance.
  EXPECT_LT(4 * se, 0.5 * std::abs(sm));
}

// The SSM gradient is unbiased for the SM gradient (E[(vᵀs) v] = s, E[v vᵀ] = I) for
// Gaussian and Rademacher v. Over R = 40 seeds (one projection each), the mean gradient
// is compared component by component with the SM gradient at 4.5 standard errors of
// the mean, the standard error from the seeds' spread: with a t law of 39 degrees of
// freedom the false-failure rate is about 1e-4 per component, 1e-3 over the 9.
TEST(SlicedScoreMatching, GradientIsUnbiased) {
  const Exec ex(1);
  const GaussianEnergy m = start3();
  const MatrixD x = gaussian_draws(truth3(), 50, 7);
  VectorD g_sm;
  score_matching_objective(m, x, &g_sm, ex);
  const int reps = 40;
  for (Projection kind : {Projection::gaussian, Projection::rademacher}) {
    VectorD sum = VectorD::Zero(9), sum2 = VectorD::Zero(9), g;
    for (int s = 0; s < reps; ++s) {
      sliced_score_matching_objective(m, x, {1, kind, std::uint64_t(100 + s)}, &g, ex);
      sum += g;
      sum2 += g.cwiseAbs2();
    }
    const VectorD mean = sum / reps;
    const VectorD sd = ((sum2 - reps * mean.cwiseAbs2()) / (reps - 1)).cwiseSqrt();
    for (Eigen::Index k = 0; k < 9; ++k) {
      const double se = sd[k] / std::sqrt(double(reps));
      EXPECT_LT(std::abs(mean[k] - g_sm[k]), 4.5 * se) << "component " << k;
    }
    // Not vacuous: doubling the projections' second moment (v scaled by √2) would shift
    // the expected quadratic part by a factor 2, far beyond the tolerance.
    EXPECT_LT(4.5 * sd.maxCoeff() / std::sqrt(double(reps)), g_sm.lpNorm<Eigen::Infinity>());
  }
}

TEST(SlicedScoreMatching, FitReachesItsMinimiser) {
  const Exec ex(1);
  const MatrixD x = gaussian_draws(truth3(), 300, 9);
  const SlicedOptions so{4, Projection::rademacher, 2};
  LbfgsOptions opt;
  opt.gradient_tolerance = 1e-9;
  const auto fit = fit_sliced_score_matching(GaussianEnergy::standard(3), x, so, opt, ex);
  VectorD g;
  EXPECT_EQ(sliced_score_matching_objective(fit.model, x, so, &g, ex), fit.trace.back());
  // J_SSM is a convex quadratic too: the fit is within ‖∇J‖/λ_min(H) of its minimiser.
  const double dist = distance_bound(fit.model, [&](const GaussianEnergy& m) {
    VectorD gg;
    sliced_score_matching_objective(m, x, so, &gg, ex);
    return gg;
  });
  EXPECT_LT(dist, 1e-6) << fit.stopped_by << ", gradient norm " << g.norm();
  EXPECT_NO_THROW(fit.model.to_gaussian());
}

// ---------------------------------------------------------------------------------------
// Bad input.

TEST(ScoreMatching, RefusesBadInput) {
  const Exec ex(1);
  const GaussianEnergy m = start3();
  MatrixD x = gaussian_draws(truth3(), 20, 10);
  test::expect_error([&] { score_matching_objective(m, MatrixD(x.leftCols(2)), nullptr, ex); }, Exit::usage,
                     "score_matching_objective: data has 2 columns but the model has dimension 3");
  test::expect_error([&] { score_matching_objective(m, MatrixD(0, 3), nullptr, ex); }, Exit::usage,
                     "score_matching_objective: data has no rows");
  MatrixD bad = x;
  bad(4, 1) = std::nan("");
  test::expect_error([&] { fit_score_matching(m, bad, {}, ex); }, Exit::data,
                     "fit_score_matching: data(4, 1) is not finite (nan)");
  bad(4, 1) = INFINITY;
  test::expect_error([&] { denoising_score_matching_objective(m, bad, {}, nullptr, ex); }, Exit::data,
                     "denoising_score_matching_objective: data(4, 1) is not finite (inf)");
  MatrixD flat = x;
  flat.col(2).setConstant(1.5);
  test::expect_error([&] { fit_sliced_score_matching(m, flat, {}, {}, ex); }, Exit::data,
                     "fit_sliced_score_matching: column 2 has zero variance (every sample is 1.5)");
  test::expect_error([&] { score_matching_objective(m, flat, nullptr, ex); }, Exit::data,
                     "score_matching_objective: column 2 has zero variance (every sample is 1.5)");
  // Denoising accepts a constant column (the noise keeps the objective bounded).
  EXPECT_NO_THROW(denoising_score_matching_objective(m, flat, {}, nullptr, ex));

  test::expect_error([&] { sliced_score_matching_objective(m, x, {0, Projection::gaussian, 1}, nullptr, ex); },
                     Exit::usage, "sliced_score_matching_objective: projections must be >= 1 (got 0)");
  test::expect_error([&] { fit_denoising_score_matching(m, x, {{}, 1, 1}, {}, ex); }, Exit::usage,
                     "fit_denoising_score_matching: sigmas must hold at least one noise level");
  test::expect_error([&] { denoising_score_matching_objective(m, x, {{0.1, -0.2}, 1, 1}, nullptr, ex); },
                     Exit::usage, "denoising_score_matching_objective: sigmas[1] must be finite and > 0 (got -0.2)");
  test::expect_error([&] { denoising_score_matching_objective(m, x, {{0.1}, 0, 1}, nullptr, ex); }, Exit::usage,
                     "denoising_score_matching_objective: draws must be >= 1 (got 0)");
}

TEST(GaussianEnergy, RefusesBadInputAndReportsNonNormalisableModels) {
  MatrixD prec(2, 2);
  prec << 1.0, 2.0, 2.0, 1.0;  // eigenvalues 3 and −1
  const GaussianEnergy m(prec, VectorD::Zero(2));
  test::expect_error([&] { m.to_gaussian(); }, Exit::data,
                     "GaussianEnergy: the precision matrix is not positive definite (the model is not normalisable)");
  test::expect_error([&] { m.log_partition(); }, Exit::data,
                     "GaussianEnergy: the precision matrix is not positive definite (the model is not normalisable)");
  prec(0, 1) = 0.5;
  test::expect_error([&] { GaussianEnergy(prec, VectorD::Zero(2)); }, Exit::usage,
                     "GaussianEnergy: precision matrix is not symmetric: precision(0, 1) = 0.5 but precision(1, 0) = 2");
  test::expect_error([&] { GaussianEnergy(MatrixD::Identity(2, 2), VectorD::Zero(3)); }, Exit::usage,
                     "GaussianEnergy: the precision matrix is 2x2 but the linear term has 3 entries");
  test::expect_error([&] { GaussianEnergy(MatrixD::Identity(2, 2), VectorD::Constant(2, NAN)); }, Exit::usage,
                     "GaussianEnergy: linear[0] is not finite (nan)");
  GaussianEnergy s = GaussianEnergy::standard(2);
  test::expect_error([&] { s.set_parameters(VectorD::Zero(4)); }, Exit::usage,
                     "GaussianEnergy::set_parameters: theta has 4 entries but the model has 5 parameters");
  test::expect_error([&] { GaussianEnergy::standard(0); }, Exit::usage,
                     "GaussianEnergy::standard: dimension must be >= 1 (got 0)");
}

}  // namespace
}  // namespace logz
