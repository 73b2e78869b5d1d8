// Tests of exact maximum likelihood and PCD for Ising models and of the fit_ising
// façade: the negative log-likelihood against −mean log p(x) by brute force, its
// gradient against central differences, moment matching at the fitted model, PCD's
// determinism (same seed, 1 vs 2 threads), and pinned argument and data errors.
#include "logz/objectives/ising_ml.hpp"
#include "logz/training/ising_fit.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "logz/core/check.hpp"
#include "logz/exact/ising_exact.hpp"
#include "support/expect_error.hpp"
#include "support/ising_sampling.hpp"

namespace logz {
namespace {

Ising test_model(SpinConvention conv) {
  VectorD h(5);
  h << 0.3, -0.2, 0.5, 0.1, -0.4;
  return Ising(5, {{0, 1, 0.4}, {2, 1, -0.3}, {2, 3, 0.6}, {0, 3, 0.2}, {3, 4, -0.5}}, h, conv);
}

bool same_bits(const VectorD& a, const VectorD& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

TEST(IsingExactMl, NllEqualsMinusMeanLogProbability) {
  const Exec ex(1);
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising m = test_model(conv);
    const MatrixD x = test::ising_exact_samples(m, 400, Stream::root(21));
    const double log_z = ising_enumeration_log_z(m, ex);
    double want = 0;
    for (Eigen::Index r = 0; r < x.rows(); ++r) want += m.energy(x.row(r).transpose()) + log_z;
    want /= double(x.rows());
    const IsingDataMoments d = ising_data_moments(m, x, ex);
    EXPECT_EQ(d.n_samples, 400u);
    EXPECT_NEAR(ising_exact_nll(m, d, {}, nullptr, ex), want, 1e-13 * std::abs(want));
  }
}

TEST(IsingExactMl, GradientMatchesCentralDifferences) {
  const Exec ex(1);
  const IsingL2 l2{0.2, 0.5};
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising m = test_model(conv);
    const IsingDataMoments d = ising_data_moments(m, test::ising_exact_samples(m, 300, Stream::root(22)), ex);
    VectorD grad;
    ising_exact_nll(m, d, l2, &grad, ex);
    Ising work = m;
    const VectorD theta = m.parameters();
    // Step 1e-5: truncation ~h²·|f'''|/6 ~ 1e-11, rounding ~ε·|f|/h ~ 1e-10 (|f| ~ 3).
    const double h = 1e-5, tol = 1e-8;
    for (Eigen::Index k = 0; k < theta.size(); ++k) {
      VectorD tp = theta, tm = theta;
      tp[k] += h;
      tm[k] -= h;
      work.set_parameters(tp);
      const double fp = ising_exact_nll(work, d, l2, nullptr, ex);
      work.set_parameters(tm);
      const double fm = ising_exact_nll(work, d, l2, nullptr, ex);
      EXPECT_NEAR(grad[k], (fp - fm) / (2 * h), tol) << "parameter " << k;
    }
    // Not vacuous: the gradient is far from zero away from the optimum.
    EXPECT_GT(grad.norm(), 1e3 * tol);
  }
}

TEST(IsingExactMl, FittedModelMatchesDataMoments) {
  const Exec ex(1);
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising truth = test_model(conv);
    const MatrixD x = test::ising_exact_samples(truth, 2000, Stream::root(23));
    const IsingDataMoments d = ising_data_moments(truth, x, ex);
    Ising init = truth;
    init.set_parameters(VectorD::Zero(Eigen::Index(truth.num_parameters())));
    // Rounding of f floors the reachable gradient near 1e-8 |f| (optim/lbfgs.hpp): 1e-9
    // held at -O2 by luck of rounding and not at -O0; 1e-7 holds in any build.
    LbfgsOptions opt;
    opt.gradient_tolerance = 1e-7;
    const IsingFit fit = fit_ising_exact(init, d, {}, opt, ex);
    EXPECT_TRUE(fit.converged);
    EXPECT_EQ(fit.method, "exact");
    for (std::size_t t = 1; t < fit.trace.size(); ++t) EXPECT_LE(fit.trace[t], fit.trace[t - 1]);
    // The ML equations: model moments = data moments. ‖∇‖ <= 1e-7 bounds every entry.
    const IsingMoments mm = ising_enumeration_moments(fit.model, ex);
    for (Eigen::Index i = 0; i < 5; ++i) EXPECT_NEAR(mm.mean[i], d.mean[i], 1e-7) << "site " << i;
    for (Eigen::Index e = 0; e < 5; ++e) EXPECT_NEAR(mm.correlation[e], d.correlation[e], 1e-7) << "edge " << e;
    // The starting point does not match them (the check can fail).
    const IsingMoments m0 = ising_enumeration_moments(init, ex);
    EXPECT_GT((m0.mean - d.mean).cwiseAbs().maxCoeff(), 0.05);
    // With L2 the stationarity condition is moments − data + λθ = 0 instead.
    const IsingL2 l2{0.5, 0.5};
    const IsingFit pen = fit_ising_exact(init, d, l2, opt, ex);
    const IsingMoments mp = ising_enumeration_moments(pen.model, ex);
    EXPECT_NEAR(mp.mean[0] - d.mean[0] + 0.5 * pen.model.fields()[0], 0.0, 1e-7);
    EXPECT_GT(std::abs(mp.mean[0] - d.mean[0]), 1e-3);
  }
}

TEST(IsingExactMl, Errors) {
  const Exec ex(1);
  const Ising big = Ising::chain(31, 0.1, 0.0);
  IsingDataMoments d{VectorD::Zero(31), VectorD::Zero(30), 1};
  test::expect_error([&] { ising_exact_nll(big, d, {}, nullptr, ex); }, Exit::usage,
                     "ising_exact_nll: the model has 31 spins; exact likelihood enumerates 2^n states, n <= 30");
  test::expect_error([&] { fit_ising_exact(big, d, {}, {}, ex); }, Exit::usage,
                     "fit_ising_exact: the model has 31 spins; exact likelihood enumerates 2^n states, n <= 30");
  const Ising m = test_model(SpinConvention::plus_minus_one);
  test::expect_error([&] { ising_exact_nll(m, d, {}, nullptr, ex); }, Exit::usage,
                     "ising_exact_nll: the data moments have 31 means and 30 correlations; the model has 5 spins and 5 edges");
  MatrixD x = MatrixD::Ones(2, 5);
  x(1, 3) = 0;
  test::expect_error([&] { ising_data_moments(m, x, ex); }, Exit::usage,
                     "ising_data_moments: data[1, 3] = 0 is not a spin value of the model (±1 spins)");
}

TEST(IsingPcd, SameBitsForSameSeedAndAnyThreadCount) {
  const Ising truth = test_model(SpinConvention::plus_minus_one);
  const IsingDataMoments d = ising_data_moments(truth, test::ising_exact_samples(truth, 500, Stream::root(24)), Exec(1));
  Ising init = truth;
  init.set_parameters(VectorD::Zero(10));
  // Chain blocks hold 2^16 / (2 states × (5 sites + 2 × 5 edges)) = 2184 chains: 7000
  // chains make 4 blocks, and their moments (70000 terms) are summed in parallel too.
  const IsingPcdParams pcd{7000, 1, {}};
  IsingSgdParams sgd;
  sgd.updates = 10;
  sgd.average_last = 4;
  const IsingFit a = fit_ising_pcd(init, d, {0.01, 0.01}, pcd, sgd, 7, Exec(1));
  const IsingFit b = fit_ising_pcd(init, d, {0.01, 0.01}, pcd, sgd, 7, Exec(2));
  const IsingFit c = fit_ising_pcd(init, d, {0.01, 0.01}, pcd, sgd, 8, Exec(2));
  EXPECT_TRUE(same_bits(a.model.parameters(), b.model.parameters()));
  EXPECT_FALSE(same_bits(a.model.parameters(), c.model.parameters()));
  EXPECT_EQ(a.trace.size(), 10u);
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(a.method, "pcd");
}

TEST(IsingPcd, ChainMomentsAndGradientLayout) {
  const Exec ex(1);
  const Ising m = test_model(SpinConvention::zero_one);
  MatrixD chains(2, 5);
  chains << 1, 0, 1, 1, 0,  //
      1, 1, 0, 1, 1;
  IsingPcd pcd({2, 1, {}}, chains);
  const IsingDataMoments cm = pcd.chain_moments(m, ex);
  VectorD mean(5);
  mean << 1, 0.5, 0.5, 1, 0.5;
  EXPECT_EQ(cm.mean, mean);
  VectorD corr(5);  // edges (0,1) (2,1) (2,3) (0,3) (3,4)
  corr << 0.5, 0, 0.5, 1, 0.5;
  EXPECT_EQ(cm.correlation, corr);
  // The gradient is chain moments (after the sweep) − data moments + λθ.
  const IsingDataMoments d{VectorD::Constant(5, 0.25), VectorD::Constant(5, 0.125), 10};
  IsingPcd again({2, 1, {}}, chains);
  const VectorD g = again.gradient(m, d, {1.0, 0.0}, Stream::root(3), ex);
  const IsingDataMoments after = again.chain_moments(m, ex);
  for (Eigen::Index i = 0; i < 5; ++i) EXPECT_EQ(g[i], after.mean[i] - 0.25 + m.fields()[i]);
  for (Eigen::Index e = 0; e < 5; ++e) EXPECT_EQ(g[5 + e], after.correlation[e] - 0.125);
}

TEST(IsingPcd, Errors) {
  const Exec ex(1);
  const Ising m = test_model(SpinConvention::plus_minus_one);
  test::expect_error([&] { IsingPcd(m, {0, 1, {}}, Stream::root(1)); }, Exit::usage, "IsingPcd: n_chains must be >= 1 (got 0)");
  test::expect_error([&] { IsingPcd(m, {1, 0, {}}, Stream::root(1)); }, Exit::usage, "IsingPcd: sweeps must be >= 1 (got 0)");
  test::expect_error([&] { IsingPcd({3, 1, {}}, MatrixD::Ones(2, 5)); }, Exit::usage,
                     "IsingPcd: 2 chain states given for n_chains = 3");
  const IsingDataMoments d{VectorD::Zero(5), VectorD::Zero(5), 1};
  IsingSgdParams sgd;
  sgd.momentum = 1.0;
  test::expect_error([&] { fit_ising_pcd(m, d, {}, {}, sgd, 1, ex); }, Exit::usage,
                     "fit_ising_pcd: momentum must be in [0, 1) (got 1)");
  sgd = {};
  sgd.learning_rate = 0;
  test::expect_error([&] { fit_ising_pcd(m, d, {}, {}, sgd, 1, ex); }, Exit::usage,
                     "fit_ising_pcd: learning_rate must be finite and > 0 (got 0)");
  sgd = {};
  sgd.average_last = 2000;
  test::expect_error([&] { fit_ising_pcd(m, d, {}, {}, sgd, 1, ex); }, Exit::usage,
                     "fit_ising_pcd: average_last (2000) exceeds updates (1000)");
}

TEST(FitIsing, MethodsByName) {
  EXPECT_EQ(parse_ising_fit_method("rm"), IsingFitMethod::ratio_matching);
  EXPECT_EQ(parse_ising_fit_method("exact"), IsingFitMethod::exact_ml);
  EXPECT_EQ(parse_ising_fit_method("pcd"), IsingFitMethod::pcd);
  EXPECT_EQ(parse_ising_fit_method("pl"), IsingFitMethod::pseudolikelihood);
  for (auto m : {IsingFitMethod::ratio_matching, IsingFitMethod::exact_ml, IsingFitMethod::pcd,
                 IsingFitMethod::pseudolikelihood})
    EXPECT_EQ(parse_ising_fit_method(ising_fit_method_name(m)), m);
  test::expect_error([] { parse_ising_fit_method("ml"); }, Exit::usage,
                     "parse_ising_fit_method: unknown method 'ml' (expected rm, exact, pcd, pt or pl)");
}

TEST(FitIsing, EveryMethodFitsAndTakesTheDataConvention) {
  const Exec ex(1);
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    const Ising truth = test_model(conv);
    const MatrixD x = test::ising_exact_samples(truth, 1000, Stream::root(25));
    for (auto method : {IsingFitMethod::ratio_matching, IsingFitMethod::exact_ml, IsingFitMethod::pcd,
                        IsingFitMethod::pseudolikelihood}) {
      IsingFitConfig cfg;
      cfg.method = method;
      cfg.sgd.updates = 20;
      const IsingFit fit = fit_ising(x, cfg, ex);
      EXPECT_EQ(fit.model.convention(), conv);
      EXPECT_EQ(fit.model.n_edges(), 10u);  // every pair by default
      EXPECT_EQ(fit.method, ising_fit_method_name(method));
      EXPECT_FALSE(fit.trace.empty());
    }
    IsingFitConfig cfg;
    cfg.method = IsingFitMethod::exact_ml;
    cfg.edges = {{0, 1}, {1, 2}, {2, 3}, {0, 3}, {3, 4}};
    const IsingFit fit = fit_ising(x, cfg, ex);
    ASSERT_EQ(fit.model.n_edges(), 5u);
    EXPECT_EQ(fit.model.edges()[1].i, 1u);
    cfg.method = IsingFitMethod::pseudolikelihood;
    test::expect_error([&] { fit_ising(x, cfg, ex); }, Exit::usage,
                       "fit_ising: pseudolikelihood fits every pair of spins; got 5 edges");
  }
}

TEST(FitIsing, DataErrors) {
  const Exec ex(1);
  IsingFitConfig cfg;
  test::expect_error([&] { fit_ising(MatrixD(0, 3), cfg, ex); }, Exit::usage,
                     "fit_ising: spins has shape (0, 3); expected at least one row and column");
  MatrixD x = MatrixD::Ones(3, 4);
  x(1, 2) = 0.5;
  test::expect_error([&] { fit_ising(x, cfg, ex); }, Exit::usage, "fit_ising: spins[1, 2] = 0.5 is neither ±1 nor 0/1");
  x(1, 2) = 0;
  x(2, 0) = -1;
  test::expect_error([&] { fit_ising(x, cfg, ex); }, Exit::usage,
                     "fit_ising: spins mix the conventions: spins[2, 0] = -1 but spins[1, 2] = 0; use all ±1 or all 0/1");
  x(2, 0) = 1;
  cfg.edges = {{0, 1}, {1, 1}};
  test::expect_error([&] { fit_ising(x, cfg, ex); }, Exit::usage, "fit_ising: bad graph: Ising: edge 1 (1, 1) is a self-loop");
}

}  // namespace
}  // namespace logz
