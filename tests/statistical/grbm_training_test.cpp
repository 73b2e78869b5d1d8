// Training the Gaussian–Bernoulli RBM on exact draws (grbm_exact_samples) of a small
// random model, every check against exact quantities of the tiny model (log Z by
// enumeration, exact log-likelihoods, the exact ML gradient) with tolerances derived
// from the sample sizes:
//  (a) NCE (fit_nce) learns log Z: the learned c against grbm_exact_log_z of the fitted
//      model over independent data seeds (Student's t), and the fitted model's exact
//      test log-likelihood agrees with the truth's;
//  (b) score matching (fit_score_matching) fits the data: the same log-likelihood check,
//      far above the initial model's; with σ learned, log σ̂ agrees with log σ over seeds
//      and has moved from its start;
//  (c) PCD raises the exact log-likelihood (paired test), and its gradient estimate
//      matches the exact ML gradient within its Monte-Carlo standard error, which the
//      exact gradient of a shifted model fails; PCD with σ learned moves σ toward the
//      truth; 1 vs 2 threads and a resumed run give the same bits;
//  (d) bad input gets pinned errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "logz/diagnostics/mcmc.hpp"
#include "logz/exact/grbm_exact.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/training/grbm_pcd.hpp"
#include "logz/objectives/nce.hpp"
#include "logz/objectives/score_matching.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

using test::expect_error;

// Two-sided normal z for a per-check false-failure rate of 1e-5.
constexpr double kZ = 4.42;

/// The true model: 3 visible, 2 hidden units, weights large enough for a bimodal
/// visible marginal, unequal σ.
GaussianRbm truth(bool learn_sigma = false) {
  GaussianRbm m(3, 2);
  m.weights << 1.2, -0.8, -0.9, 0.7, 0.5, 1.1;
  m.visible_bias << 0.3, -0.2, 0.5;
  m.hidden_bias << -0.4, 0.3;
  m.visible_sigma << 0.6, 1.0, 1.5;
  m.learn_sigma = learn_sigma;
  return m;
}

/// A start away from the truth: small weights from a fixed stream, b at the data mean,
/// c = 0, σ as given.
GaussianRbm start(const MatrixD& data, const VectorD& sigma, bool learn_sigma, std::uint64_t seed) {
  GaussianRbm m(std::size_t(data.cols()), 2);
  Stream rng = Stream::derive(seed, Purpose::init, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = 0.3 * rng.normal();
  m.visible_bias = data.colwise().mean().transpose();
  m.visible_sigma = sigma;
  m.learn_sigma = learn_sigma;
  return m;
}

MatrixD draws(const GaussianRbm& m, std::size_t n, std::uint64_t seed) {
  return grbm_exact_samples(m, n, seed).visible;
}

struct MeanSe {
  double mean, se;
};
MeanSe mean_se(const VectorD& x) {
  const double mu = x.mean();
  const double var = (x.array() - mu).square().sum() / double(x.size() - 1);
  return {mu, std::sqrt(var / double(x.size()))};
}

/// The fitted model's exact mean test log-likelihood on test set A against the truth's
/// on an independent test set B of the same size T: their difference has standard error
/// √(SE_A² + SE_B²) ≈ √2 · 1.3 / √T ≈ 0.013 for T = 20000, while the expected excess
/// risk of a √N-consistent fit is of order p / (2N) ≈ 0.007 for p = 13 parameters and
/// N = 1000 (twice that for an estimator of half the efficiency) — well below one SE,
/// so the check's false-failure rate stays within a factor of a few of the nominal 1e-5.
void expect_log_likelihood_matches_truth(const GaussianRbm& fitted, const char* what) {
  const MatrixD test_a = draws(truth(), 20000, 901), test_b = draws(truth(), 20000, 902);
  const MeanSe fit = mean_se(grbm_exact_log_likelihoods(fitted, test_a, Exec(1)));
  const MeanSe tru = mean_se(grbm_exact_log_likelihoods(truth(), test_b, Exec(1)));
  EXPECT_LE(std::abs(fit.mean - tru.mean), kZ * std::hypot(fit.se, tru.se))
      << what << ": fitted " << fit.mean << " truth " << tru.mean;
}

LbfgsOptions tight() {
  LbfgsOptions o;
  o.max_iterations = 500;
  o.gradient_tolerance = 1e-7;
  return o;
}

// ---------------------------------------------------------------------------------------
// (a) NCE.

TEST(GrbmTraining, NceLearnsLogZAndTheDensity) {
  // K independent data sets of N draws; per seed the error d = c − log Z(θ̂) of the
  // learned normaliser, exact for the fitted model. NCE is consistent for (θ, c), so
  // mean d is 0 up to O(1/N) (negligible against its O(1/√N) spread); the check is
  // |mean d| <= t_{K−1}(1e-4) · SE over the seeds (false-failure rate 1e-4).
  constexpr int kSeeds = 10;
  constexpr std::size_t kN = 1000;
  VectorD d(kSeeds);
  for (int k = 0; k < kSeeds; ++k) {
    const MatrixD data = draws(truth(), kN, 100 + std::uint64_t(k));
    const GrbmFreeEnergy init(start(data, truth().visible_sigma, false, 7));
    NceOptions nce;
    nce.seed = 200 + std::uint64_t(k);
    const NceFit<GrbmFreeEnergy> fit = fit_nce(init, data, nce, tight(), Exec(1));
    d[k] = fit.log_z - grbm_exact_log_z(fit.model.model());
    if (k == 0) expect_log_likelihood_matches_truth(fit.model.model(), "NCE");
  }
  const MeanSe e = mean_se(d);
  EXPECT_LE(std::abs(e.mean), student_t_two_sided_quantile(1 - 1e-4, kSeeds - 1) * e.se)
      << "c − log Z: " << d.transpose();
  // The learned c is an estimate: its spread is that of a √N-consistent estimator, not 0.
  EXPECT_GT(e.se, 0);
}

// ---------------------------------------------------------------------------------------
// (b) Score matching.

TEST(GrbmTraining, ScoreMatchingFitsTheData) {
  const MatrixD data = draws(truth(), 1000, 300);
  const GaussianRbm init = start(data, truth().visible_sigma, false, 8);
  const ScoreFit<GrbmFreeEnergy> fit = fit_score_matching(GrbmFreeEnergy(init), data, tight(), Exec(1));
  EXPECT_LT(fit.trace.back(), fit.trace.front());
  expect_log_likelihood_matches_truth(fit.model.model(), "SM");
  // Far above the start: paired difference on one test set, its SE from the per-point
  // differences; the start is worse by many SE (a one-sided z = 4.42 check).
  const MatrixD test = draws(truth(), 20000, 903);
  const VectorD gain =
      grbm_exact_log_likelihoods(fit.model.model(), test, Exec(1)) - grbm_exact_log_likelihoods(init, test, Exec(1));
  const MeanSe g = mean_se(gain);
  EXPECT_GT(g.mean, kZ * g.se) << "gain " << g.mean << " ± " << g.se;
}

TEST(GrbmTraining, ScoreMatchingLearnsSigma) {
  // σ learned from σ = 1 everywhere. Over K seeds, mean log σ̂_i − log σ_i within
  // t_{K−1}(1e-4) SE (false-failure 1e-4 per unit; 3 units), and the start's error is
  // many times that SE, so "moved toward the truth" is not noise.
  constexpr int kSeeds = 10;
  const VectorD ones = VectorD::Ones(3);
  MatrixD log_sigma(kSeeds, 3);
  for (int k = 0; k < kSeeds; ++k) {
    const MatrixD data = draws(truth(), 2000, 400 + std::uint64_t(k));
    const ScoreFit<GrbmFreeEnergy> fit =
        fit_score_matching(GrbmFreeEnergy(start(data, ones, true, 9)), data, tight(), Exec(1));
    log_sigma.row(k) = fit.model.model().visible_sigma.array().log().matrix().transpose();
  }
  const double t = student_t_two_sided_quantile(1 - 1e-4, kSeeds - 1);
  for (Eigen::Index i = 0; i < 3; ++i) {
    const MeanSe e = mean_se(log_sigma.col(i));
    const double target = std::log(truth().visible_sigma[i]);
    EXPECT_LE(std::abs(e.mean - target), t * e.se) << "unit " << i << ": " << log_sigma.col(i).transpose();
    if (target != 0) EXPECT_GT(std::abs(target), 2 * t * e.se) << "unit " << i << ": SE " << e.se;
  }
}

// ---------------------------------------------------------------------------------------
// (c) PCD.

GrbmPcdOptions pcd_options() {
  GrbmPcdOptions o;
  o.batch_size = 100;
  o.chains = 100;
  o.sweeps = 1;
  o.adam.learning_rate = 0.02;
  o.seed = 11;
  return o;
}

TEST(GrbmTraining, PcdRaisesTheExactLikelihood) {
  const MatrixD data = draws(truth(), 1000, 500);
  const GaussianRbm init = start(data, truth().visible_sigma, false, 10);
  GrbmPcdTrainer trainer(init, data, pcd_options());
  for (int e = 0; e < 20; ++e) trainer.run_epoch(Exec(1));
  EXPECT_EQ(trainer.epoch(), 20u);
  EXPECT_EQ(trainer.updates(), 200u);
  // Paired: per-point gain of the exact log-likelihood on one test set, one-sided
  // z = 4.42 (false-failure 1e-5).
  const MatrixD test = draws(truth(), 20000, 904);
  const VectorD gain =
      grbm_exact_log_likelihoods(trainer.model(), test, Exec(1)) - grbm_exact_log_likelihoods(init, test, Exec(1));
  const MeanSe g = mean_se(gain);
  EXPECT_GT(g.mean, kZ * g.se) << "gain " << g.mean << " ± " << g.se;
}

TEST(GrbmTraining, PcdGradientMatchesTheExactGradientWithinMcse) {
  // At the true model, chains that have run 200 sweeps are (to far below the MCSE)
  // independent stationary draws. The PCD gradient's positive phase is the exact one, so
  // PCD − exact = E_p[∂F/∂θ] − mean over C chains of ∂F(v_c)/∂θ, a mean of C independent
  // terms: per component |PCD − exact| <= z · sd / √C (z = 4.42, 1e-5 per component, 14
  // components: family rate 1.4e-4).
  const GaussianRbm model = truth(true);
  const MatrixD batch = draws(model, 200, 600);
  GrbmPcdOptions o = pcd_options();
  o.chains = 4000;
  o.sweeps = 100;
  GrbmPcdTrainer trainer(model, batch, o);
  (void)trainer.gradient(batch, Exec(2));  // 100 sweeps of burn-in
  const VectorD pcd = trainer.gradient(batch, Exec(2));
  const GrbmFreeEnergy f(model);
  const VectorD exact = grbm_exact_nll_gradient(f, batch, Exec(1));
  // Per-chain terms for the standard error.
  const Eigen::Index p = Eigen::Index(f.num_parameters()), C = Eigen::Index(o.chains);
  MatrixD terms(C, p);
  for (Eigen::Index c = 0; c < C; ++c) {
    VectorD g = VectorD::Zero(p);
    f.add_energy_gradient(trainer.chains().v.row(c).transpose(), 1.0, g);
    terms.row(c) = g.transpose();
  }
  const VectorD neg_mean = terms.colwise().mean().transpose();
  const VectorD sd = ((terms.rowwise() - neg_mean.transpose()).array().square().colwise().sum() / double(C - 1))
                         .sqrt()
                         .transpose()
                         .matrix();
  const VectorD se = sd / std::sqrt(double(C));
  // The trainer's negative phase is this mean (the positive phase is shared).
  EXPECT_LT((pcd - (grbm_mean_free_energy_gradient(f, batch, Exec(1)) - neg_mean)).lpNorm<Eigen::Infinity>(), 1e-12);
  for (Eigen::Index k = 0; k < p; ++k) EXPECT_LE(std::abs(pcd[k] - exact[k]), kZ * se[k]) << "component " << k;
  // Able to fail: a negative phase of the wrong distribution (the exact expectation of
  // the model with c shifted by 0.3, as chains that target it would give) is many SE away.
  GaussianRbm shifted = model;
  shifted.hidden_bias.array() += 0.3;
  const VectorD wrong =
      grbm_mean_free_energy_gradient(f, batch, Exec(1)) - grbm_exact_model_gradient(GrbmFreeEnergy(shifted));
  int outside = 0;
  for (Eigen::Index k = 0; k < p; ++k) outside += std::abs(pcd[k] - wrong[k]) > kZ * se[k];
  EXPECT_GT(outside, 0);
}

TEST(GrbmTraining, ExactModelGradientIsMinusTheGradientOfLogZ) {
  // −∂ log Z/∂θ by central differences of grbm_exact_log_z (step 1e-5, error far below
  // 1e-7), σ learned.
  const GrbmFreeEnergy f(truth(true));
  const VectorD g = grbm_exact_model_gradient(f);
  const VectorD theta = f.parameters();
  GrbmFreeEnergy m = f;
  for (Eigen::Index k = 0; k < theta.size(); ++k) {
    VectorD tp = theta, tm = theta;
    tp[k] += 1e-5;
    tm[k] -= 1e-5;
    m.set_parameters(tp);
    const double zp = grbm_exact_log_z(m.model());
    m.set_parameters(tm);
    const double zm = grbm_exact_log_z(m.model());
    EXPECT_NEAR(g[k], -(zp - zm) / 2e-5, 1e-7) << "component " << k;
  }
}

TEST(GrbmTraining, PcdMovesSigmaTowardTheTruth) {
  const MatrixD data = draws(truth(), 1000, 700);
  const GaussianRbm init = start(data, VectorD::Ones(3), true, 12);
  GrbmPcdTrainer trainer(init, data, pcd_options());
  for (int e = 0; e < 60; ++e) trainer.run_epoch(Exec(1));
  // Units 0 and 2 start 0.51 and 0.41 away in log σ; SM's spread of log σ̂ at N = 1000 is
  // about 0.02 (ScoreMatchingLearnsSigma), so halving the distance is far beyond noise.
  for (const Eigen::Index i : {0, 2}) {
    const double before = std::abs(std::log(init.visible_sigma[i] / truth().visible_sigma[i]));
    const double after = std::abs(std::log(trainer.model().visible_sigma[i] / truth().visible_sigma[i]));
    EXPECT_LT(after, 0.5 * before) << "unit " << i << ": σ = " << trainer.model().visible_sigma[i];
  }
}

TEST(GrbmTraining, PcdSameBitsForOneAndTwoThreadsAndAfterResume) {
  const MatrixD data = draws(truth(), 700, 800);
  const GaussianRbm init = start(data, VectorD::Ones(3), true, 13);
  GrbmPcdOptions o = pcd_options();
  o.batch_size = 300;  // 3 updates an epoch, the last one short
  o.chains = 300;      // several row blocks
  GrbmPcdTrainer one(init, data, o), two(init, data, o);
  for (int e = 0; e < 3; ++e) {
    one.run_epoch(Exec(1));
    two.run_epoch(Exec(2));
  }
  EXPECT_EQ(one.model().weights, two.model().weights);
  EXPECT_EQ(one.model().visible_sigma, two.model().visible_sigma);
  EXPECT_EQ(one.chains().v, two.chains().v);
  // Checkpoint after 1 epoch, resume, run 2 more: the same bits as 3 uninterrupted.
  GrbmPcdTrainer first(init, data, o);
  first.run_epoch(Exec(1));
  GrbmPcdTrainer resumed = GrbmPcdTrainer::resume(data, o, first.state());
  EXPECT_EQ(resumed.epoch(), 1u);
  resumed.run_epoch(Exec(2));
  resumed.run_epoch(Exec(1));
  EXPECT_EQ(resumed.model().weights, one.model().weights);
  EXPECT_EQ(resumed.model().hidden_bias, one.model().hidden_bias);
  EXPECT_EQ(resumed.model().visible_sigma, one.model().visible_sigma);
  EXPECT_EQ(resumed.chains().v, one.chains().v);
  EXPECT_EQ(resumed.updates(), one.updates());
}

// ---------------------------------------------------------------------------------------
// (d) Bad input.

TEST(GrbmTraining, BadInputErrors) {
  MatrixD data = draws(truth(), 50, 1);
  const GaussianRbm init = truth();
  data(7, 2) = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { GrbmPcdTrainer(init, data, pcd_options()); }, Exit::data,
               "GrbmPcdTrainer: data(7, 2) is not finite (nan)");
  expect_error([&] { (void)fit_score_matching(GrbmFreeEnergy(init), data, tight(), Exec(1)); }, Exit::data,
               "fit_score_matching: data(7, 2) is not finite (nan)");
  data(7, 2) = 0;
  MatrixD constant = data;
  constant.col(1).setConstant(-0.5);
  expect_error([&] { (void)fit_score_matching(GrbmFreeEnergy(init), constant, tight(), Exec(1)); }, Exit::data,
               "fit_score_matching: column 1 has zero variance (every sample is -0.5)");
  expect_error([&] { GrbmPcdTrainer(init, MatrixD::Zero(5, 4), pcd_options()); }, Exit::usage,
               "GrbmPcdTrainer: data has 4 columns but the model has 3 visible units");
  expect_error([&] { GrbmPcdTrainer(init, MatrixD::Zero(0, 3), pcd_options()); }, Exit::usage,
               "GrbmPcdTrainer: data has no rows");
  GrbmPcdOptions o = pcd_options();
  o.chains = 0;
  expect_error([&] { GrbmPcdTrainer(init, data, o); }, Exit::usage, "GrbmPcdTrainer: chains must be >= 1 (got 0)");
  o = pcd_options();
  o.weight_decay = -1;
  expect_error([&] { GrbmPcdTrainer(init, data, o); }, Exit::usage,
               "GrbmPcdTrainer: weight_decay must be finite and >= 0 (got -1)");
  GaussianRbm bad = init;
  bad.visible_sigma[0] = 0;
  expect_error([&] { GrbmPcdTrainer(bad, data, pcd_options()); }, Exit::data,
               "GrbmPcdTrainer: visible_sigma[0] must be > 0, got 0");
  GrbmPcdTrainer t(init, data, pcd_options());
  training::Checkpoint state = t.state();
  state.erase("adam_m");
  expect_error([&] { (void)GrbmPcdTrainer::resume(data, pcd_options(), state); }, Exit::data,
               "GrbmPcdTrainer::resume: the state has no array 'adam_m'");
  o = pcd_options();
  o.chains = 10;
  expect_error([&] { (void)GrbmPcdTrainer::resume(data, o, t.state()); }, Exit::data,
               "GrbmPcdTrainer::resume: array 'chains_v' has shape (100, 3) but (10, 3) was expected");
}

}  // namespace
}  // namespace logz
