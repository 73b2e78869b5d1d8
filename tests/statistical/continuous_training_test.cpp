// Statistical tests of minibatch training and PCD on the Gaussian energy, against closed
// forms. Fixed data (n = 400 draws of a correlated 2-D Gaussian); S the sample covariance
// with divisor n and x̄ the sample mean:
//   SM and SSM (fresh projections):       Λ = S⁻¹,                 b = Λ x̄;
//   DSM at one level σ (fresh noise):     Λ = (S + σ² I)⁻¹,         b = Λ x̄;
//   DSM at levels σ_l (weights σ_l²):     Λ = (S + (Σσ⁴/Σσ²) I)⁻¹,  b = Λ x̄
// (the minimisers of the objectives' expectations over their random parts:
// docs/continuous-training.md); PCD with MALA or HMC chains: the maximum-likelihood
// estimate Λ = S⁻¹, b = Λ x̄. Each is run R = 10 times with different training seeds on
// the same data (Adam, α decaying as 1/t to α_final = 0.0027); the mean of the R
// Polyak-averaged estimates is compared with the closed form at t·SE + α_final,
// SE = sd / √R, t the t(9) quantile of a two-sided tail of 2e-5 per coordinate (8.9):
// 5 coordinates × 6 runs, ≤ 6e-4 false failures for the file. The α_final term is the
// optimizer's tolerance: Adam scales each coordinate by its running gradient spread,
// which correlates with the noise and leaves an O(α) offset (3e-4 to 5e-4 measured for
// SM, whose only randomness is the row order, so that its replicate spread is 1e-5);
// an Adam step moves a coordinate by about α at most. Each check also requires its
// tolerance to be tight (below 5% of the parameter's scale, 10% for PCD, whose chain
// moments are noisy) and, for DSM, rejects a wrong target (S⁻¹; the one-level answer
// for two levels) at the same tolerance.
// NCE (fresh noise every epoch): the truth is the generating model and its log Z, and
// the R = 12 replicates use independent data sets (the error of NCE is mostly the
// data's); t(11) quantile at 2e-5 per coordinate, 6 coordinates.
#include <gtest/gtest.h>

#include <Eigen/LU>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "logz/diagnostics/mcmc.hpp"
#include "logz/training/continuous_pcd.hpp"
#include "logz/training/stochastic_fit.hpp"
#include "support/gaussian_draws.hpp"

namespace logz {
namespace {

using test::gaussian_draws;
using test::truth2;
using test::start2;

/// θ of the Gaussian energy with precision Λ and linear term Λ x̄.
VectorD closed_form(const MatrixD& data, double shift) {
  const VectorD mean = data.colwise().mean().transpose();
  const MatrixD c = data.rowwise() - mean.transpose();
  const MatrixD s = c.transpose() * c / double(data.rows());
  const MatrixD prec = (s + shift * MatrixD::Identity(2, 2)).inverse();
  return GaussianEnergy(prec, prec * mean).parameters();
}

struct Summary {
  VectorD mean, se;
};

constexpr int kReps = 10;
constexpr std::size_t kEpochs = 200;
/// The final learning rate α₀ / (1 + t/τ) after 200 epochs of 10 updates (schedule()).
constexpr double kFinalRate = 0.03 / (1 + 2000.0 / 200);

Summary summarise(const std::vector<VectorD>& est) {
  const auto r = double(est.size());
  VectorD sum = VectorD::Zero(est[0].size()), sum2 = sum;
  for (const auto& e : est) {
    sum += e;
    sum2 += e.cwiseAbs2();
  }
  const VectorD mean = sum / r;
  return {mean, ((sum2 - r * mean.cwiseAbs2()) / (r - 1) / r).cwiseSqrt()};
}

/// mean within t·SE of `want` in every coordinate, and the tolerance tight.
void expect_recovers(const Summary& s, const VectorD& want, double t, const std::string& what, double tight = 0.05) {
  for (Eigen::Index k = 0; k < want.size(); ++k) {
    EXPECT_LT(std::abs(s.mean[k] - want[k]), t * s.se[k] + kFinalRate)
        << what << " coordinate " << k << ": " << s.mean[k] << " want " << want[k] << " se " << s.se[k];
    EXPECT_LT(t * s.se[k], tight * std::max(1.0, std::abs(want[k]))) << what << " coordinate " << k << ": loose";
  }
}

bool rejects(const Summary& s, const VectorD& wrong, double t) {
  for (Eigen::Index k = 0; k < wrong.size(); ++k)
    if (std::abs(s.mean[k] - wrong[k]) > t * s.se[k] + kFinalRate) return true;
  return false;
}

TrainingOptions schedule(std::uint64_t seed) {
  TrainingOptions t;
  t.batch_size = 40;  // 10 updates an epoch
  t.adam.learning_rate = 0.03;
  t.schedule = LearningRateSchedule::inverse_time;
  t.decay_steps = 200;
  t.average_from_epoch = 100;  // α has decayed to α₀/6: the transient is over
  t.seed = seed;
  return t;
}


std::vector<VectorD> run_score(const MatrixD& x, StochasticOptions o) {
  std::vector<VectorD> est;
  const Exec ex(1);
  for (int r = 0; r < kReps; ++r) {
    o.training = schedule(std::uint64_t(100 + r));
    StochasticTrainer<GaussianEnergy> t(start2(), x, o);
    for (std::size_t e = 0; e < kEpochs; ++e) t.run_epoch(ex);
    est.push_back(t.averaged_model().parameters());
  }
  return est;
}

TEST(ContinuousTraining, MinibatchScoreMatchingReachesTheClosedFormOptima) {
  const MatrixD x = gaussian_draws(truth2(), 400, 1);
  const double t = student_t_two_sided_quantile(1 - 2e-5, kReps - 1);
  StochasticOptions o;
  o.objective = StochasticObjective::sm;
  expect_recovers(summarise(run_score(x, o)), closed_form(x, 0), t, "sm");
  o.objective = StochasticObjective::ssm;
  expect_recovers(summarise(run_score(x, o)), closed_form(x, 0), t, "ssm");
  o.objective = StochasticObjective::dsm;
  o.denoising.sigmas = {0.5};
  const Summary one = summarise(run_score(x, o));
  expect_recovers(one, closed_form(x, 0.25), t, "dsm");
  EXPECT_TRUE(rejects(one, closed_form(x, 0), t)) << "dsm: S⁻¹ not rejected";
  o.denoising.sigmas = {0.3, 0.6};
  const double shift = (std::pow(0.3, 4) + std::pow(0.6, 4)) / (0.09 + 0.36);
  const Summary two = summarise(run_score(x, o));
  expect_recovers(two, closed_form(x, shift), t, "dsm, two levels");
  EXPECT_TRUE(rejects(two, closed_form(x, 0.25), t)) << "dsm, two levels: the one-level answer not rejected";
}

TEST(ContinuousTraining, PcdWithMalaAndHmcChainsReachesMaximumLikelihood) {
  const MatrixD x = gaussian_draws(truth2(), 400, 1);
  const double t = student_t_two_sided_quantile(1 - 2e-5, kReps - 1);
  const Exec ex(1);
  for (auto kernel : {PcdKernel::mala, PcdKernel::hmc}) {
    std::vector<VectorD> est;
    for (int r = 0; r < kReps; ++r) {
      ContinuousPcdOptions o;
      o.kernel = kernel;
      o.chains = 100;
      o.step_size = kernel == PcdKernel::mala ? 0.8 : 0.4;
      o.leapfrog_steps = 2;  // trajectories well short of a half period: no near-returns
      o.adapt_updates = 100;
      o.target_acceptance = kernel == PcdKernel::mala ? 0.57 : 0.65;
      o.training = schedule(std::uint64_t(200 + r));
      ContinuousPcd<GaussianEnergy> pcd(start2(), x, o);
      for (std::size_t e = 0; e < kEpochs; ++e) pcd.run_epoch(ex);
      est.push_back(pcd.averaged_model().parameters());
    }
    // The chains' moments are noisy (100 chains): a 10% tightness bound.
    expect_recovers(summarise(est), closed_form(x, 0), t, std::string(pcd_kernel_name(kernel)), 0.10);
  }
}

TEST(ContinuousTraining, MinibatchNceRecoversParametersAndLogZ) {
  const int reps = 12;
  const double t = student_t_two_sided_quantile(1 - 2e-5, reps - 1);
  const Gaussian g = truth2();
  const GaussianEnergy want_model = GaussianEnergy::from_gaussian(g);
  VectorD want(6);
  want << want_model.parameters(), want_model.log_partition();
  const Exec ex(1);
  std::vector<VectorD> est;
  for (int r = 0; r < reps; ++r) {
    const MatrixD x = gaussian_draws(g, 1000, std::uint64_t(300 + r));
    StochasticOptions o;
    o.objective = StochasticObjective::nce;
    o.nce.noise_ratio = 4;
    const GaussianEnergy init = GaussianEnergy::from_gaussian(Gaussian::fit(x));
    o.nce.initial_log_z = init.log_partition();
    o.training = schedule(std::uint64_t(400 + r));
    o.training.batch_size = 100;
    StochasticTrainer<GaussianEnergy> tr(init, x, o);
    for (std::size_t e = 0; e < kEpochs; ++e) tr.run_epoch(ex);
    VectorD e(6);
    e << tr.averaged_model().parameters(), tr.log_z(true);
    est.push_back(e);
  }
  const Summary s = summarise(est);
  for (Eigen::Index k = 0; k < 6; ++k) {
    EXPECT_LT(std::abs(s.mean[k] - want[k]), t * s.se[k]) << "nce coordinate " << k << ": " << s.mean[k] << " want "
                                                         << want[k];
    EXPECT_LT(t * s.se[k], 0.15 * std::max(1.0, std::abs(want[k]))) << "nce coordinate " << k << ": loose";
  }
}

}  // namespace
}  // namespace logz
