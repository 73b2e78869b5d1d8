// The continuous-model façade against exact answers: closed-form and enumerated log Z
// recovered by AIS / IS from each kind's default base within z·SE, HMC and MALA draws'
// means and variances within z·MCSE of the exact moments, the test log-likelihood of a
// Gaussian on its own exact draws against −d/2 − log Z, bit-identical results for 1 and
// 2 threads, and pinned errors (non-normalisable models, no exact log Z, bad data).
#include <gtest/gtest.h>

#include <Eigen/LU>

#include <cmath>
#include <vector>

#include "logz/api/continuous_tasks.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/exact/grbm_exact.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

// |estimate − truth| <= 4.42 SE (or MCSE): two-sided false-failure rate 1e-5 per check
// under the normal approximation; about 40 such checks in this file, so < 1e-3 in all.
constexpr double kZ = 4.42;

/// N(μ, Σ) in 3 dimensions with correlations 0.6 and -0.3 and unequal scales.
Gaussian correlated_gaussian() {
  MatrixD cov(3, 3);
  cov << 1.0, 0.6, -0.3,  //
      0.6, 2.0, 0.2,      //
      -0.3, 0.2, 0.5;
  VectorD mean(3);
  mean << 0.5, -1.0, 2.0;
  return Gaussian(mean, cov.inverse());
}

/// A 4-visible, 6-hidden GRBM with weights of scale 0.7 (a visibly multimodal marginal).
GaussianRbm small_grbm() {
  GaussianRbm m(4, 6);
  Stream rng = Stream::derive(11, Purpose::user, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = 0.7 * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_bias.size(); ++i) m.visible_bias[i] = 0.5 * rng.normal();
  for (Eigen::Index j = 0; j < m.hidden_bias.size(); ++j) m.hidden_bias[j] = 0.5 * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_sigma.size(); ++i) m.visible_sigma[i] = 0.5 + rng.uniform_double();
  return m;
}

api::EstimateConfig ais_config(std::size_t chains, std::size_t betas, std::uint64_t seed) {
  api::EstimateConfig c;
  c.method = "ais";
  c.chains = chains;
  c.betas = betas;
  c.schedule = "linear";
  c.seed = seed;
  return c;
}

/// Chain c's kept draws of f(row) as an M x N matrix (for ess_mean / mcse_mean).
template <class F>
MatrixD per_chain(const api::ContinuousSamples& s, F&& f) {
  MatrixD m(Eigen::Index(s.chains), Eigen::Index(s.kept));
  for (std::size_t c = 0; c < s.chains; ++c)
    for (std::size_t k = 0; k < s.kept; ++k) m(Eigen::Index(c), Eigen::Index(k)) = f(s.draws.row(Eigen::Index(c * s.kept + k)));
  return m;
}

/// Checks the means and variances of every coordinate against `mean` and `cov` within
/// kZ MCSE; returns the largest |error| / MCSE of the variances against cov·`scale`
/// (scale != 1: a deliberately wrong truth, which must be rejected).
double check_moments(const api::ContinuousSamples& s, const VectorD& mean, const MatrixD& cov, double scale = 1.0) {
  double worst = 0;
  for (Eigen::Index j = 0; j < mean.size(); ++j) {
    const MatrixD x = per_chain(s, [&](const auto& row) { return row[j]; });
    if (scale == 1.0) {
      EXPECT_LE(std::abs(x.mean() - mean[j]), kZ * mcse_mean(x)) << "mean of coordinate " << j;
    }
    // Var x_j as the mean of (x_j − μ_j)² with the exact μ_j: an unbiased estimator whose
    // MCSE the same diagnostics give.
    const MatrixD sq = per_chain(s, [&](const auto& row) { return (row[j] - mean[j]) * (row[j] - mean[j]); });
    const double z = std::abs(sq.mean() - scale * cov(j, j)) / mcse_mean(sq);
    if (scale == 1.0) {
      EXPECT_LE(z, kZ) << "variance of coordinate " << j;
    }
    worst = std::max(worst, z);
  }
  return worst;
}

// ---------------------------------------------------------------- sampling

TEST(ContinuousTasks, HmcAndMalaDrawsMatchTheExactMomentsOfACorrelatedGaussian) {
  const Gaussian g = correlated_gaussian();
  for (const char* kernel : {"hmc", "mala"}) {
    api::ContinuousSampleConfig c;
    c.kernel = kernel;
    c.chains = 4;
    c.warmup = 500;
    c.steps = kernel == std::string("hmc") ? 2000 : 8000;
    c.seed = 5;
    const api::ContinuousSamples s = api::sample_continuous(g, Gaussian::isotropic(3, 1.0), c, Exec(2));
    ASSERT_EQ(s.draws.rows(), Eigen::Index(4 * c.steps));
    check_moments(s, g.mean(), g.covariance());
    // A variance 10% off is rejected by the same test: it can fail.
    EXPECT_GT(check_moments(s, g.mean(), g.covariance(), 1.1), kZ) << kernel;
    EXPECT_GT(s.min_ess, 100) << kernel;
    EXPECT_EQ(s.non_finite, 0u);
    EXPECT_NEAR(s.ess_per_gradient, s.min_ess / double(s.gradient_evaluations), 0);
  }
}

TEST(ContinuousTasks, GradientCountsAndThinningFollowTheKernel) {
  const Gaussian g = correlated_gaussian();
  api::ContinuousSampleConfig c;
  c.chains = 3;
  c.warmup = 7;
  c.steps = 20;
  c.thin = 3;
  c.leapfrog = 5;
  const api::ContinuousSamples s = api::sample_continuous(g, g, c, Exec(1));
  EXPECT_EQ(s.kept, 6u);  // steps 3, 6, ..., 18
  EXPECT_EQ(s.draws.rows(), 18);
  EXPECT_EQ(s.gradient_evaluations, 3u * 20u * 6u);  // L + 1 per HMC step
  EXPECT_EQ(s.warmup_gradient_evaluations, 3u * 7u * 6u);
  c.kernel = "mala";
  EXPECT_EQ(api::sample_continuous(g, g, c, Exec(1)).gradient_evaluations, 3u * 20u * 2u);  // 1 + 1 per MALA step
}

TEST(ContinuousTasks, WarmupAdaptsTheStepSizeAndWithoutWarmupItStaysFixed) {
  const Gaussian g = Gaussian::isotropic(2, 1.0);
  api::ContinuousSampleConfig c;
  c.chains = 2;
  c.step_size = 3.0;  // HMC with 10 leapfrog steps of 3.0 on N(0, I) is unstable: almost nothing accepted
  c.warmup = 0;
  c.steps = 200;
  const api::ContinuousSamples fixed = api::sample_continuous(g, g, c, Exec(1));
  EXPECT_EQ(fixed.step_sizes, (std::vector<double>{3.0, 3.0}));
  EXPECT_LT(fixed.acceptance_rate, 0.1);
  c.warmup = 300;
  const api::ContinuousSamples adapted = api::sample_continuous(g, g, c, Exec(1));
  for (double eps : adapted.step_sizes) EXPECT_LT(eps, 2.0);  // leapfrog is stable below ε = 2
  EXPECT_GT(adapted.acceptance_rate, 0.3);
}

TEST(ContinuousTasks, SamplingGivesTheSameBitsForOneAndTwoThreads) {
  const api::ContinuousModel m = NeuralEnergy::random(3, 5, 4);
  api::ContinuousSampleConfig c;
  c.chains = 5;
  c.warmup = 50;
  c.steps = 40;
  c.seed = 9;
  const api::ContinuousSamples a = api::sample_continuous_model(m, c, Exec(1));
  const api::ContinuousSamples b = api::sample_continuous_model(m, c, Exec(2));
  EXPECT_EQ(a.draws, b.draws);
  EXPECT_EQ(a.step_sizes, b.step_sizes);
  EXPECT_EQ(a.acceptance_rate, b.acceptance_rate);
  c.seed = 10;
  EXPECT_NE(api::sample_continuous_model(m, c, Exec(1)).draws, a.draws);
  // Chain c is a function of (seed, c) only: the first chains of a run with more chains
  // are the same chains.
  c.seed = 9;
  c.chains = 2;
  EXPECT_EQ(api::sample_continuous_model(m, c, Exec(2)).draws, a.draws.topRows(2 * 40));
}

TEST(ContinuousTasks, ExactDrawsOfAGrbmMatchItsExactMoments) {
  const GaussianRbm r = small_grbm();
  const api::ContinuousModel m = r;
  ASSERT_TRUE(api::has_exact_samples(m));
  const MatrixD x = api::exact_continuous_samples(m, 20000, 3, Exec(2));
  EXPECT_EQ(x, api::exact_continuous_samples(m, 20000, 3, Exec(1)));
  const GrbmMoments mo = grbm_exact_moments(r);
  // Independent draws: SE = sd/√n, with the exact sd.
  const double n = double(x.rows());
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    EXPECT_LE(std::abs(x.col(j).mean() - mo.mean[j]), kZ * std::sqrt(mo.covariance(j, j) / n)) << j;
  test::expect_error([&] { api::exact_continuous_samples(NeuralEnergy::random(2, 3, 1), 5, 1, Exec(1)); }, Exit::usage,
                     "sample: exact needs a Gaussian, a GRBM with at most 20 hidden units or experts with the closed "
                     "form (as many filters as dimensions, no quadratic term); this neural model has none");
}

// ---------------------------------------------------------------- log Z

TEST(ContinuousTasks, ExactLogZOfEachKindThatHasOne) {
  const Gaussian g = correlated_gaussian();
  EXPECT_EQ(api::continuous_exact_log_z(g, Exec(1)), g.log_partition());
  const GaussianRbm r = small_grbm();
  EXPECT_EQ(api::continuous_exact_log_z(r, Exec(2)), grbm_exact_log_z(r));
  const StudentTExperts e = StudentTExperts::random(2, 2, 2.0, 3);
  EXPECT_EQ(api::continuous_exact_log_z(e, Exec(1)), e.log_partition());
  EXPECT_FALSE(api::continuous_exact_log_z(NeuralEnergy::random(2, 3, 1), Exec(1)).has_value());
  EXPECT_FALSE(api::continuous_exact_log_z(StudentTExperts(MatrixD::Identity(2, 2), VectorD::Constant(2, 2.0), 0.5), Exec(1))
                   .has_value());
  const api::EstimateConfig exact{.method = "exact"};
  const LogZEstimate x = api::estimate_continuous(r, g, exact, {}, nullptr, Exec(1));
  EXPECT_EQ(x.log_z, grbm_exact_log_z(r));
  EXPECT_EQ(x.std_error, 0);
  test::expect_error([&] { api::estimate_continuous(NeuralEnergy::random(3, 3, 1), g, exact, {}, nullptr, Exec(1)); },
                     Exit::usage, "estimate: method exact is not available: a neural energy has no closed form for log Z");
}

TEST(ContinuousTasks, AisFromTheDefaultBaseRecoversTheGaussianClosedForm) {
  const api::ContinuousModel m = correlated_gaussian();
  const Gaussian base = api::continuous_base(m, {}, 1, Exec(1));
  // The default base is the diagonal of Σ: not the model itself, so the test tests something.
  EXPECT_NE(base.precision(), std::get<Gaussian>(m).precision());
  EXPECT_TRUE(base.covariance().diagonal().isApprox(std::get<Gaussian>(m).covariance().diagonal(), 1e-12));
  const LogZEstimate e = api::estimate_continuous(m, base, ais_config(200, 50, 3), {}, nullptr, Exec(2));
  EXPECT_GT(e.std_error, 0);
  EXPECT_LE(std::abs(e.log_z - std::get<Gaussian>(m).log_partition()), kZ * e.std_error);
  // Importance sampling from the same base, an independent check of the base's normaliser.
  api::EstimateConfig is = ais_config(20000, 1, 4);
  is.method = "is";
  const LogZEstimate i = api::estimate_continuous(m, base, is, {}, nullptr, Exec(2));
  EXPECT_LE(std::abs(i.log_z - std::get<Gaussian>(m).log_partition()), kZ * i.std_error);
}

TEST(ContinuousTasks, AisOnAGrbmAgreesWithEnumerationFromEveryBase) {
  const GaussianRbm r = small_grbm();
  const api::ContinuousModel m = r;
  const double truth = grbm_exact_log_z(r);
  api::BaseSpec from_data{api::BaseChoice::data, api::exact_continuous_samples(m, 500, 8, Exec(1))};
  for (const api::BaseSpec& spec : {api::BaseSpec{}, api::BaseSpec{api::BaseChoice::standard, {}},
                                    api::BaseSpec{api::BaseChoice::fit, {}}, from_data}) {
    const Gaussian base = api::continuous_base(m, spec, 2, Exec(1));
    const LogZEstimate e = api::estimate_continuous(m, base, ais_config(200, 100, 6), {}, nullptr, Exec(2));
    EXPECT_GT(e.std_error, 0) << api::base_choice_name(spec.choice);
    EXPECT_LE(std::abs(e.log_z - truth), kZ * e.std_error) << api::base_choice_name(spec.choice);
  }
}

TEST(ContinuousTasks, AisOnCompleteExpertsAgreesWithTheirClosedForm) {
  const api::ContinuousModel m = StudentTExperts::random(2, 2, 2.5, 7);
  const double truth = std::get<StudentTExperts>(m).log_partition();
  const Gaussian base = api::continuous_base(m, {}, 3, Exec(1));  // a pilot run's fit
  api::ContinuousKernelConfig mala{.kernel = "mala", .step_size = 0.5};
  for (const api::ContinuousKernelConfig& k : {api::ContinuousKernelConfig{}, mala}) {
    const LogZEstimate e = api::estimate_continuous(m, base, ais_config(300, 100, 2), k, nullptr, Exec(2));
    EXPECT_LE(std::abs(e.log_z - truth), kZ * e.std_error) << k.kernel;
  }
}

TEST(ContinuousTasks, EstimatesAreTheSameForOneAndTwoThreads) {
  const api::ContinuousModel m = NeuralEnergy::random(3, 4, 2);
  const Gaussian base1 = api::continuous_base(m, {}, 5, Exec(1)), base2 = api::continuous_base(m, {}, 5, Exec(2));
  EXPECT_EQ(base1.mean(), base2.mean());
  EXPECT_EQ(base1.precision(), base2.precision());
  const LogZEstimate a = api::estimate_continuous(m, base1, ais_config(40, 20, 1), {}, nullptr, Exec(1));
  const LogZEstimate b = api::estimate_continuous(m, base2, ais_config(40, 20, 1), {}, nullptr, Exec(2));
  EXPECT_EQ(a.log_z, b.log_z);
  EXPECT_EQ(a.log_weights, b.log_weights);
}

TEST(ContinuousTasks, ModelsThatCannotBeNormalisedAreRefused) {
  const Gaussian base = Gaussian::isotropic(2, 1.0);
  const api::EstimateConfig c = ais_config(10, 10, 1);
  const api::ContinuousModel heavy = StudentTExperts(MatrixD::Identity(2, 2), VectorD::Constant(2, 0.4));
  test::expect_error([&] { api::estimate_continuous(heavy, base, c, {}, nullptr, Exec(1)); }, Exit::data,
                     "estimate: the model is not normalisable (alpha[0] = 0.4 <= 1/2: with as many filters as "
                     "dimensions and no quadratic term, each expert must have alpha > 1/2)");
  MatrixD one(1, 2);
  one << 1.0, 0.5;
  const api::ContinuousModel flat = StudentTExperts(one, VectorD::Constant(1, 3.0));
  test::expect_error([&] { api::estimate_continuous(flat, base, c, {}, nullptr, Exec(1)); }, Exit::data,
                     "estimate: the model is not normalisable (the 1 filters span only 1 of 2 dimensions and the "
                     "quadratic term is 0: the energy is flat along the rest)");
  test::expect_error([&] { api::sample_continuous_model(flat, {}, Exec(1)); }, Exit::data,
                     "sample: the model is not normalisable (the 1 filters span only 1 of 2 dimensions and the "
                     "quadratic term is 0: the energy is flat along the rest)");
  // The same filter with a quadratic term is a proper density.
  EXPECT_NO_THROW(api::check_normalisable("x", StudentTExperts(one, VectorD::Constant(1, 3.0), 0.5)));
}

// ---------------------------------------------------------------- test log-likelihood

TEST(ContinuousTasks, TestLogLikelihoodOfAGaussianOnItsOwnDrawsMatchesTheClosedForm) {
  const Gaussian g = correlated_gaussian();
  const api::ContinuousModel m = g;
  const MatrixD x = api::exact_continuous_samples(m, 5000, 21, Exec(2));
  // E[E(x)] = d/2 under the model, so E[log p(x)] = −d/2 − log Z.
  const double truth = -1.5 - g.log_partition();
  const LogZEstimate exact = api::exact_estimate(g.log_partition(), "closed form", 0);
  const api::TestLogLikelihood t = api::continuous_log_likelihood(m, x, exact, Exec(2));
  EXPECT_EQ(t.rows, 5000u);
  EXPECT_EQ(t.log_z_std_error, 0);
  EXPECT_EQ(t.std_error, t.energy_std_error);
  EXPECT_LE(std::abs(t.mean_log_likelihood - truth), kZ * t.std_error);
  // Var E(x) = d/2 exactly (E is half a chi-square with d degrees of freedom): the
  // estimated SE is within 10% of √(d/2 / n) (its own relative error is about 2.5%).
  EXPECT_NEAR(t.energy_std_error / std::sqrt(1.5 / 5000.0), 1.0, 0.1);
  // With an AIS log Z the two error bars add in quadrature and the truth is still covered.
  const LogZEstimate ais =
      api::estimate_continuous(m, api::continuous_base(m, {}, 1, Exec(1)), ais_config(100, 30, 8), {}, nullptr, Exec(2));
  const api::TestLogLikelihood u = api::continuous_log_likelihood(m, x, ais, Exec(1));
  EXPECT_DOUBLE_EQ(u.std_error, std::sqrt(u.energy_std_error * u.energy_std_error + ais.std_error * ais.std_error));
  EXPECT_EQ(u.mean_energy, t.mean_energy);
  EXPECT_LE(std::abs(u.mean_log_likelihood - truth), kZ * u.std_error);
  // A log Z off by 0.1 nats is rejected.
  EXPECT_GT(std::abs(t.mean_log_likelihood - 0.1 - truth), kZ * t.std_error);
}

TEST(ContinuousTasks, TestDataIsChecked) {
  const api::ContinuousModel m = correlated_gaussian();
  const LogZEstimate z = api::exact_estimate(1.0, "x", 0);
  test::expect_error([&] { api::continuous_log_likelihood(m, MatrixD::Zero(4, 2), z, Exec(1)); }, Exit::data,
                     "test_log_likelihood: data has 2 columns but the model has dimension 3");
  MatrixD bad = MatrixD::Zero(4, 3);
  bad(2, 1) = std::nan("");
  test::expect_error([&] { api::continuous_log_likelihood(m, bad, z, Exec(1)); }, Exit::data,
                     "test_log_likelihood: data(2, 1) is not finite (nan)");
  test::expect_error([&] { api::continuous_log_likelihood(m, MatrixD::Zero(0, 3), z, Exec(1)); }, Exit::data,
                     "test_log_likelihood: data has no rows");
  const api::TestLogLikelihood one = api::continuous_log_likelihood(m, MatrixD::Zero(1, 3), z, Exec(1));
  EXPECT_TRUE(std::isnan(one.std_error));  // one row: no spread to estimate
}

TEST(ContinuousTasks, SampleConfigIsValidated) {
  api::ContinuousSampleConfig c;
  c.kernel = "rwm";
  test::expect_error([&] { c.validate(); }, Exit::usage, "sample: kernel must be hmc or mala, got 'rwm'");
  c = {};
  c.thin = 2000;
  test::expect_error([&] { c.validate(); }, Exit::usage, "sample: thin must be in [1, steps = 1000], got 2000");
  c = {};
  c.target_acceptance = 1.0;
  test::expect_error([&] { c.validate(); }, Exit::usage,
                     "sample: target_acceptance must be in (0, 1) (0: the kernel's default), got 1");
}

}  // namespace
}  // namespace logz
