// Tests of noise-contrastive estimation with the Gaussian energy: the objective against
// its formula with the problem's own noise samples, the gradient against central
// differences, fixed noise per (seed, row, k), 1 vs 2 threads, recovery of the
// parameters and of log Z over repeated data sets within t-based error bars, a fit that
// leaves the normalisable set reported clearly, and pinned errors.
#include "logz/objectives/nce.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "logz/core/check.hpp"
#include "support/expect_error.hpp"
#include "support/gaussian_draws.hpp"

namespace logz {
namespace {

using test::gaussian_draws;
using test::truth2;
using test::start2;

double softplus_ref(double t) { return std::log(1 + std::exp(t)); }

TEST(Nce, ObjectiveEqualsItsFormula) {
  const Exec ex(1);
  const MatrixD x = gaussian_draws(truth2(), 30, 1);
  NceOptions opt;
  opt.noise_ratio = 3;
  opt.seed = 4;
  const NceProblem problem(x, opt, ex);
  ASSERT_EQ(problem.noise_samples().rows(), 90);
  // The default noise is the Gaussian fitted to the data.
  const Gaussian fitted = Gaussian::fit(x);
  EXPECT_EQ(problem.noise().precision(), fitted.precision());
  const GaussianEnergy m = start2();
  const double c = 1.3, log_nu = std::log(3.0);
  double want = 0;
  for (Eigen::Index r = 0; r < 30; ++r) {
    const VectorD xr = x.row(r).transpose();
    want += softplus_ref(-(-m.energy_of(xr) - c - fitted.log_density(xr) - log_nu));
    for (Eigen::Index k = 0; k < 3; ++k) {
      const VectorD y = problem.noise_samples().row(3 * r + k).transpose();
      want += softplus_ref(-m.energy_of(y) - c - fitted.log_density(y) - log_nu);
    }
  }
  want /= 30;
  EXPECT_NEAR(problem.objective(m, c, nullptr, ex), want, 1e-13 * want);
}

TEST(Nce, NoiseIsFixedPerSeedRowAndIndex) {
  const Gaussian q = Gaussian::isotropic(3, 2.0);
  const MatrixD a = nce_noise_samples(q, 10, 2, 7, Exec(1));
  const MatrixD b = nce_noise_samples(q, 10, 3, 7, Exec(2));
  for (Eigen::Index r = 0; r < 10; ++r) {
    EXPECT_EQ(a.row(2 * r), b.row(3 * r));
    EXPECT_EQ(a.row(2 * r + 1), b.row(3 * r + 1));
  }
  // Row r's samples come from Stream::derive(seed, Purpose::noise, r).
  Stream s = Stream::derive(7, Purpose::noise, 4);
  VectorD y(3);
  q.sample(s, y);
  EXPECT_EQ(VectorD(a.row(8).transpose()), y);
  EXPECT_NE(nce_noise_samples(q, 10, 2, 8, Exec(1)), a);
}

// The objective is smooth: central differences with h = 1e-5 have truncation error
// h²/6·|f'''| ~ 1e-11 and rounding ε·|f|/h ~ 1e-11; 1e-8 leaves a wide margin.
TEST(Nce, GradientMatchesCentralDifferences) {
  const Exec ex(1);
  const MatrixD x = gaussian_draws(truth2(), 80, 2);
  NceOptions opt;
  opt.noise_ratio = 2;
  opt.noise = Gaussian::isotropic(2, 1.5);
  const NceProblem problem(x, opt, ex);
  GaussianEnergy m = start2();
  const double c = 2.0;
  VectorD g;
  problem.objective(m, c, &g, ex);
  ASSERT_EQ(g.size(), 6);
  VectorD w(6);
  w << m.parameters(), c;
  const double h = 1e-5;
  for (Eigen::Index k = 0; k < 6; ++k) {
    VectorD wp = w, wm = w;
    wp[k] += h;
    wm[k] -= h;
    m.set_parameters(wp.head(5));
    const double fp = problem.objective(m, wp[5], nullptr, ex);
    m.set_parameters(wm.head(5));
    const double fm = problem.objective(m, wm[5], nullptr, ex);
    const double fd = (fp - fm) / (2 * h);
    EXPECT_NEAR(g[k], fd, 1e-8) << "parameter " << k;
    EXPECT_GT(std::abs(fd), 1e-3) << "parameter " << k;
  }
}

TEST(Nce, SameBitsForOneAndTwoThreads) {
  const MatrixD x = gaussian_draws(truth2(), 1000, 3);  // 4 row blocks
  NceOptions opt;
  opt.noise_ratio = 2;
  opt.seed = 5;
  const NceProblem p1(x, opt, Exec(1)), p2(x, opt, Exec(2));
  EXPECT_EQ(p1.noise_samples(), p2.noise_samples());
  VectorD g1, g2;
  const double f1 = p1.objective(start2(), 0.5, &g1, Exec(1)), f2 = p1.objective(start2(), 0.5, &g2, Exec(2));
  EXPECT_EQ(std::memcmp(&f1, &f2, sizeof f1), 0);
  EXPECT_EQ(std::memcmp(g1.data(), g2.data(), sizeof(double) * std::size_t(g1.size())), 0);
}

// NCE is consistent (Gutmann & Hyvärinen 2012, Thm 2): with data from N(μ, Λ⁻¹) the fit
// estimates Λ, b = Λμ and c = log Z(Λ, b) (log Z of ½xᵀΛx − bᵀx). The sampling spread is
// estimated by repetition: R = 12 independent data sets (n = 1000, ν = 4, noise fitted
// to each data set) and the mean of each of the 6 estimates is compared with the truth
// at 6 standard errors of the mean (sd over the R fits / √R). With a t law of 11 degrees
// of freedom P(|t| > 6) ≈ 9e-5 per estimate, ≤ 6e-4 over the 6. The O(1/n) bias of the
// estimator is about √(R/n) ≈ 0.1 standard errors here, negligible.
TEST(Nce, RecoversParametersAndLogZWithinErrorBars) {
  const Exec ex(1);
  const Gaussian g = truth2();
  const GaussianEnergy want = GaussianEnergy::from_gaussian(g);
  VectorD truth(6);
  truth << want.parameters(), want.log_partition();
  const int reps = 12;
  VectorD sum = VectorD::Zero(6), sum2 = VectorD::Zero(6);
  for (int r = 0; r < reps; ++r) {
    const MatrixD x = gaussian_draws(g, 1000, std::uint64_t(100 + r));
    NceOptions opt;
    opt.noise_ratio = 4;
    opt.seed = std::uint64_t(r);
    // Start at the noise distribution itself, with its log Z: a usual choice.
    const Gaussian q = Gaussian::fit(x);
    const GaussianEnergy init = GaussianEnergy::from_gaussian(q);
    opt.initial_log_z = init.log_partition();
    const auto fit = fit_nce(init, x, opt, {}, ex);
    ASSERT_TRUE(fit.converged) << fit.stopped_by;
    VectorD est(6);
    est << fit.model.parameters(), fit.log_z;
    sum += est;
    sum2 += est.cwiseAbs2();
  }
  const VectorD mean = sum / reps;
  const VectorD sd = ((sum2 - reps * mean.cwiseAbs2()) / (reps - 1)).cwiseSqrt();
  for (Eigen::Index k = 0; k < 6; ++k) {
    const double se = sd[k] / std::sqrt(double(reps));
    EXPECT_LT(std::abs(mean[k] - truth[k]), 6 * se) << "estimate " << k << ": " << mean[k] << " truth " << truth[k];
    // Not vacuous: the error bars are tight (a 15% error in any estimate is excluded).
    EXPECT_LT(6 * se, 0.15 * std::max(1.0, std::abs(truth[k]))) << "estimate " << k;
  }
}

// Data much wider than the noise: the best classifier makes the model wider than the
// noise in every direction, here with a negative precision. The fit is returned as is and
// the non-normalisable model is reported when it is used as a distribution.
TEST(Nce, ReportsANonNormalisableFit) {
  const Exec ex(1);
  MatrixD x(400, 1);
  Stream s = Stream::derive(1, Purpose::sample, 0);
  for (Eigen::Index r = 0; r < 400; ++r) x(r, 0) = 20 * s.uniform_double() - 10;  // U(−10, 10)
  NceOptions opt;
  opt.noise = Gaussian::isotropic(1, 2.0);
  opt.noise_ratio = 2;
  const auto fit = fit_nce(GaussianEnergy::standard(1), x, opt, {}, ex);
  EXPECT_LT(fit.model.precision()(0, 0), 0);
  test::expect_error([&] { fit.model.to_gaussian(); }, Exit::data,
                     "GaussianEnergy: the precision matrix is not positive definite (the model is not normalisable)");
}

TEST(Nce, RefusesBadInput) {
  const Exec ex(1);
  MatrixD x = gaussian_draws(truth2(), 20, 4);
  NceOptions opt;
  MatrixD bad = x;
  bad(3, 0) = std::nan("");
  test::expect_error([&] { NceProblem(bad, opt, ex); }, Exit::data, "NceProblem: data(3, 0) is not finite (nan)");
  bad = x;
  bad.col(1).setConstant(2.0);
  test::expect_error([&] { fit_nce(start2(), bad, opt, {}, ex); }, Exit::data,
                     "NceProblem: column 1 has zero variance (every sample is 2)");
  test::expect_error([&] { fit_nce(GaussianEnergy::standard(3), x, opt, {}, ex); }, Exit::usage,
                     "fit_nce: the model has dimension 3 but the data has 2 columns");
  const NceProblem problem(x, opt, ex);
  test::expect_error([&] { problem.objective(GaussianEnergy::standard(1), 0.0, nullptr, ex); }, Exit::usage,
                     "NceProblem::objective: the model has dimension 1 but the data has 2 columns");
  opt.noise_ratio = 0;
  test::expect_error([&] { NceProblem(x, opt, ex); }, Exit::usage, "NceProblem: noise_ratio must be >= 1 (got 0)");
  opt.noise_ratio = 1;
  opt.initial_log_z = INFINITY;
  test::expect_error([&] { NceProblem(x, opt, ex); }, Exit::usage, "NceProblem: initial_log_z must be finite (got inf)");
  opt.initial_log_z = 0;
  opt.noise = Gaussian::isotropic(3, 1.0);
  test::expect_error([&] { NceProblem(x, opt, ex); }, Exit::usage,
                     "NceProblem: the noise distribution has dimension 3 but the data has 2 columns");
  // Too few rows for the default noise: Gaussian::fit's own error.
  opt.noise.reset();
  test::expect_error([&] { NceProblem(MatrixD(x.topRows(2)), opt, ex); }, Exit::data,
                     "Gaussian::fit: 2 samples cannot determine a 2-dimensional covariance (need at least 3)");
}

}  // namespace
}  // namespace logz
