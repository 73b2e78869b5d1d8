// Tests of persistent contrastive divergence for continuous energies
// (training/continuous_pcd.hpp) on the Gaussian energy: with chains drawn exactly from
// the model the PCD gradient is unbiased for the maximum-likelihood gradient (mean data
// energy gradient plus ∇θ log Z from the closed form, by central differences) within
// z·SE, and chains from a wrong distribution are rejected by the same test; each chain
// starts at the documented data row and moves with its own documented stream (replayed
// by hand with the kernels); dual averaging adapts during the first updates and the
// step size is frozen afterwards; acceptance recorded per epoch; 1 vs 2 threads and
// checkpoint → restore → continue give the same bits for MALA, ULA and HMC (restored
// in the middle of the adaptation); pinned errors.
#include "logz/training/continuous_pcd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "logz/core/check.hpp"
#include "support/expect_error.hpp"
#include "support/gaussian_draws.hpp"
#include "support/parametric_checks.hpp"

namespace logz {
namespace {

using test::gaussian_draws;
using test::truth2;
using test::start2;

bool same_bits(const MatrixD& a, const MatrixD& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

ContinuousPcdOptions options_for(PcdKernel kernel) {
  ContinuousPcdOptions o;
  o.kernel = kernel;
  o.chains = 30;
  o.kernel_steps = 2;
  o.step_size = 0.5;
  o.leapfrog_steps = 3;
  o.training.batch_size = 20;
  o.training.adam.learning_rate = 0.02;
  o.training.seed = 9;
  return o;
}

// E_data[∂E/∂θ] − E_model[∂E/∂θ] is the gradient of the mean negative log-likelihood
// (1/N) Σ E(x_n) + log Z(θ): the closed-form log Z is differentiated by central
// differences (h = 1e-5: truncation h²|f'''|/6 and rounding ε|f|/h both below 1e-9).
// The PCD gradient with C = 20 chains drawn exactly from the model is averaged over
// R = 2000 independent sets of chains; each of the 5 coordinates is compared at z = 4.5
// standard errors: P(|N(0,1)| > 4.5) = 6.8e-6 per coordinate, 3.4e-5 over 5 (the SE is
// estimated from 2000 sets: the t tail is within 1% of the normal's). Chains drawn with
// a 10% wider covariance (a wrong sampler) are rejected by the same test.
TEST(ContinuousPcd, GradientWithExactChainsIsUnbiasedForTheLikelihoodGradient) {
  const Exec ex(1);
  const MatrixD x = gaussian_draws(truth2(), 50, 1);
  const GaussianEnergy m = start2();
  const Gaussian model_law = m.to_gaussian();
  const Gaussian wrong_law(model_law.mean(), model_law.precision() / 1.1);
  const auto nll = [&](const GaussianEnergy& e) {
    double s = 0;
    for (Eigen::Index r = 0; r < x.rows(); ++r) s += e.energy_of(x.row(r).transpose());
    return s / double(x.rows()) + e.log_partition();
  };
  const VectorD want = test::parameter_differences(m, nll, 1e-5);
  for (const Gaussian* law : {&model_law, &wrong_law}) {
    const int reps = 2000;
    const std::size_t chains = 20;
    VectorD sum = VectorD::Zero(5), sum2 = VectorD::Zero(5);
    for (int r = 0; r < reps; ++r) {
      const MatrixD c = gaussian_draws(*law, chains, std::uint64_t(1000 + r));
      const VectorD g = pcd_gradient(m, x, c, ex);
      sum += g;
      sum2 += g.cwiseAbs2();
    }
    const VectorD mean = sum / reps;
    const VectorD se = ((sum2 - reps * mean.cwiseAbs2()) / (reps - 1) / reps).cwiseSqrt();
    bool all_within = true;
    for (Eigen::Index k = 0; k < 5; ++k) all_within &= std::abs(mean[k] - want[k]) < 4.5 * se[k];
    if (law == &model_law)
      EXPECT_TRUE(all_within) << "mean " << mean.transpose() << "\nwant " << want.transpose() << "\nse " << se.transpose();
    else
      EXPECT_FALSE(all_within) << "the wrong sampler was not detected";
  }
}

// The first update by hand: chain c starts at data row
// Stream::derive(seed, chains, c).below(n) and makes kernel_steps MALA proposals with
// Stream::derive(seed, gibbs, c) under the initial model; then one Adam step with the
// PCD gradient of the (single, whole-data) minibatch and the moved chains.
TEST(ContinuousPcd, ChainsStartAndMoveAsDocumented) {
  const Exec ex(1);
  const MatrixD x = gaussian_draws(truth2(), 40, 2);
  ContinuousPcdOptions o = options_for(PcdKernel::mala);
  o.training.batch_size = 40;
  ContinuousPcd<GaussianEnergy> pcd(start2(), x, o);
  MatrixD want(30, 2);
  const Mala mala(Mala::Params{0.5, 2, 1.0});
  for (std::size_t c = 0; c < 30; ++c) {
    Stream s = Stream::derive(9, Purpose::chains, c);
    VectorD y = x.row(Eigen::Index(s.below(40))).transpose();
    EXPECT_TRUE(same_bits(y.transpose(), pcd.chains().row(Eigen::Index(c))));
    Stream g = Stream::derive(9, Purpose::gibbs, c);
    mala.step(start2(), y, g);
    want.row(Eigen::Index(c)) = y.transpose();
  }
  const auto rec = pcd.run_epoch(ex);
  EXPECT_TRUE(same_bits(want, pcd.chains()));
  EXPECT_EQ(rec.updates, 1u);
  Adam adam(5, o.training.adam);
  VectorD theta = start2().parameters();
  adam.step(theta, pcd_gradient(start2(), x, want, ex));
  EXPECT_TRUE(same_bits(theta, pcd.model().parameters()));
  EXPECT_GT(rec.acceptance, 0);
  EXPECT_LE(rec.acceptance, 1);
  EXPECT_EQ(pcd.history().size(), 1u);
}

// Dual averaging for the first 5 updates (2 per epoch here), then frozen at ε̄ — the
// value of a DualAveraging fed the same acceptance probabilities; the epoch records.
TEST(ContinuousPcd, AdaptationStopsAfterItsUpdates) {
  const Exec ex(1);
  const MatrixD x = gaussian_draws(truth2(), 40, 3);
  for (auto k : {PcdKernel::mala, PcdKernel::hmc}) {
    ContinuousPcdOptions o = options_for(k);
    o.adapt_updates = 5;
    o.step_size = 2.0;  // too large: adaptation must shrink it
    ContinuousPcd<GaussianEnergy> pcd(start2(), x, o);
    EXPECT_TRUE(pcd.adapting());
    for (int e = 0; e < 3; ++e) pcd.run_epoch(ex);
    EXPECT_FALSE(pcd.adapting());
    const double frozen = pcd.step_size();
    EXPECT_LT(frozen, 2.0);
    for (int e = 0; e < 2; ++e) pcd.run_epoch(ex);
    EXPECT_EQ(pcd.step_size(), frozen);
    ASSERT_EQ(pcd.history().size(), 5u);
    for (const auto& h : pcd.history()) {
      EXPECT_GE(h.acceptance, 0);
      EXPECT_LE(h.acceptance, 1);
      EXPECT_EQ(h.updates, 2u);
    }
    EXPECT_EQ(pcd.history()[4].step_size, frozen);
  }
  // ULA always moves: acceptance 1.
  ContinuousPcd<GaussianEnergy> ula(start2(), x, options_for(PcdKernel::ula));
  EXPECT_EQ(ula.run_epoch(ex).acceptance, 1.0);
}

TEST(ContinuousPcd, SameBitsForOneAndTwoThreads) {
  const MatrixD x = gaussian_draws(truth2(), 200, 4);
  for (auto k : {PcdKernel::mala, PcdKernel::ula, PcdKernel::hmc}) {
    ContinuousPcdOptions o = options_for(k);
    o.chains = 200;  // several chain blocks
    o.training.batch_size = 100;
    o.adapt_updates = 3;
    o.training.average_from_epoch = 1;
    ContinuousPcd<GaussianEnergy> a(start2(), x, o), b(start2(), x, o);
    for (int e = 0; e < 3; ++e) {
      const auto ra = a.run_epoch(Exec(1)), rb = b.run_epoch(Exec(2));
      EXPECT_EQ(ra.acceptance, rb.acceptance) << pcd_kernel_name(k);
      EXPECT_EQ(ra.energy_gap, rb.energy_gap) << pcd_kernel_name(k);
    }
    EXPECT_TRUE(same_bits(a.chains(), b.chains())) << pcd_kernel_name(k);
    EXPECT_TRUE(same_bits(a.model().parameters(), b.model().parameters())) << pcd_kernel_name(k);
    EXPECT_TRUE(same_bits(a.averaged_model().parameters(), b.averaged_model().parameters())) << pcd_kernel_name(k);
  }
}

// Restored after 4 of 6 adaptation updates: the rest of the adaptation, the chains and
// their streams continue as in the uninterrupted run.
TEST(ContinuousPcd, CheckpointRestoreContinuesBitForBit) {
  const Exec ex(1);
  const MatrixD x = gaussian_draws(truth2(), 40, 5);
  for (auto k : {PcdKernel::mala, PcdKernel::ula, PcdKernel::hmc}) {
    ContinuousPcdOptions o = options_for(k);
    o.adapt_updates = 6;
    o.training.average_from_epoch = 1;
    o.training.schedule = LearningRateSchedule::inverse_time;
    o.training.decay_steps = 3;
    ContinuousPcd<GaussianEnergy> whole(start2(), x, o), first(start2(), x, o);
    for (int e = 0; e < 5; ++e) whole.run_epoch(ex);
    for (int e = 0; e < 2; ++e) first.run_epoch(ex);
    ContinuousPcd<GaussianEnergy> resumed(start2(), x, o);
    resumed.restore(first.state());
    EXPECT_TRUE(resumed.adapting());
    EXPECT_EQ(resumed.step_size(), first.step_size());
    for (int e = 0; e < 3; ++e) resumed.run_epoch(ex);
    EXPECT_TRUE(same_bits(whole.chains(), resumed.chains())) << pcd_kernel_name(k);
    EXPECT_TRUE(same_bits(whole.model().parameters(), resumed.model().parameters())) << pcd_kernel_name(k);
    EXPECT_TRUE(same_bits(whole.averaged_model().parameters(), resumed.averaged_model().parameters()));
    EXPECT_EQ(whole.step_size(), resumed.step_size());
    ASSERT_EQ(resumed.history().size(), 5u);
    EXPECT_EQ(whole.history()[1].acceptance, resumed.history()[1].acceptance);
    EXPECT_EQ(whole.history()[4].acceptance, resumed.history()[4].acceptance);
  }
}

TEST(ContinuousPcd, RefusesBadInput) {
  const MatrixD x = gaussian_draws(truth2(), 40, 6);
  const auto make = [&](const MatrixD& data, const ContinuousPcdOptions& o) {
    ContinuousPcd<GaussianEnergy> p(start2(), data, o);
  };
  MatrixD bad = x;
  bad(2, 0) = INFINITY;
  const auto base = options_for(PcdKernel::mala);
  test::expect_error([&] { make(bad, base); }, Exit::data, "ContinuousPcd: data(2, 0) is not finite (inf)");
  auto o = base;
  o.chains = 0;
  test::expect_error([&] { make(x, o); }, Exit::usage, "ContinuousPcd: chains must be >= 1 (got 0)");
  o = base;
  o.kernel_steps = 0;
  test::expect_error([&] { make(x, o); }, Exit::usage, "ContinuousPcd: kernel_steps must be >= 1 (got 0)");
  o = base;
  o.step_size = 0;
  test::expect_error([&] { make(x, o); }, Exit::usage, "ContinuousPcd: step_size must be finite and > 0 (got 0)");
  o = base;
  o.leapfrog_steps = 0;
  test::expect_error([&] { make(x, o); }, Exit::usage, "ContinuousPcd: leapfrog_steps must be >= 1 (got 0)");
  o = base;
  o.target_acceptance = 1;
  test::expect_error([&] { make(x, o); }, Exit::usage, "ContinuousPcd: target_acceptance must be in (0, 1) (got 1)");
  o = base;
  o.training.batch_size = 0;
  test::expect_error([&] { make(x, o); }, Exit::usage, "ContinuousPcd: batch_size must be >= 1 (got 0)");
  o = base;
  o.training.adam.learning_rate = NAN;
  test::expect_error([&] { make(x, o); }, Exit::usage, "ContinuousPcd: learning_rate must be finite and > 0 (got nan)");
  o = base;
  o.initial_chains = MatrixD::Zero(30, 3);
  test::expect_error([&] { make(x, o); }, Exit::usage, "ContinuousPcd: initial_chains is 30x3 but there are 30 chains of dimension 2");
  o.initial_chains = MatrixD::Constant(30, 2, NAN);
  test::expect_error([&] { make(x, o); }, Exit::usage, "ContinuousPcd: initial_chains is not finite");
  test::expect_error([&] { make(MatrixD(0, 2), base); }, Exit::usage, "ContinuousPcd: data has no rows");

  EXPECT_EQ(parse_pcd_kernel("hmc"), PcdKernel::hmc);
  test::expect_error([] { parse_pcd_kernel("gibbs"); }, Exit::usage,
                     "parse_pcd_kernel: unknown kernel 'gibbs' (expected mala, ula or hmc)");
  const Exec ex(1);
  test::expect_error([&] { pcd_gradient(start2(), MatrixD(0, 2), x, ex); }, Exit::usage,
                     "pcd_gradient: the positive samples are empty");
  test::expect_error([&] { pcd_gradient(start2(), x, MatrixD::Zero(3, 3), ex); }, Exit::usage,
                     "pcd_gradient: the negative samples have 3 columns but the model has dimension 2");

  ContinuousPcd<GaussianEnergy> p(start2(), x, base);
  training::Checkpoint s = p.state();
  s.erase("chain_words");
  test::expect_error([&] { p.restore(s); }, Exit::data, "ContinuousPcd::restore: the state has no array 'chain_words'");
  ContinuousPcdOptions more = base;
  more.chains = 31;
  ContinuousPcd<GaussianEnergy> other(start2(), x, more);
  test::expect_error([&] { p.restore(other.state()); }, Exit::data,
                     "ContinuousPcd::restore: array 'chains' has shape (31, 2) but the run has 30 chains of dimension 2");
}

}  // namespace
}  // namespace logz
