// Tests of minibatch training (training/stochastic_fit.hpp) on the Gaussian energy:
// the epoch order is a permutation drawn per (seed, epoch); an epoch's minibatch terms
// are exactly the full objectives of score_matching.hpp / nce.hpp under the epoch's noise
// seed (so the random parts are fresh per (epoch, row) and nothing else); the minibatch
// gradient is unbiased for the gradient of the expected objective (SSM: the SM gradient;
// DSM: the closed-form expectation over the noise) within z·SE over epochs; Adam with a
// per-step learning rate and restore, momentum SGD by hand; learning-rate schedules by
// hand; 1 vs 2 threads; checkpoint → restore → continue equals the uninterrupted run
// bit for bit (also through an .npz file); pinned errors.
#include "logz/training/stochastic_fit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/api/checkpoint_file.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/student_t_experts.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"
#include "support/gaussian_draws.hpp"
#include "support/parametric_checks.hpp"

namespace logz {
namespace {

using test::gaussian_draws;
using test::truth3;
using test::start3;

bool same_bits(const VectorD& a, const VectorD& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

StochasticOptions options_for(StochasticObjective objective) {
  StochasticOptions o;
  o.objective = objective;
  o.training.batch_size = 25;
  o.training.seed = 7;
  o.training.adam.learning_rate = 0.01;
  o.sliced.projections = 2;
  o.denoising.sigmas = {0.3, 0.8};
  o.denoising.draws = 2;
  o.nce.noise_ratio = 3;
  return o;
}

/// The epoch-mean of the minibatch gradients (and losses) at the trainer's current θ,
/// weighted by batch size: without stepping.
template <class T>
double epoch_mean(const T& trainer, std::size_t epoch, std::size_t rows, std::size_t batch, VectorD& grad,
                  const Exec& ex) {
  const std::vector<std::size_t> order = epoch_order(trainer.options().training.seed, epoch, rows);
  double loss = 0;
  grad.setZero();
  VectorD g;
  for (std::size_t s = 0; s < rows; s += batch) {
    const std::size_t len = std::min(batch, rows - s);
    loss += trainer.batch_objective(epoch, std::span<const std::size_t>(order.data() + s, len), &g, ex) * double(len);
    grad += g * double(len);
  }
  grad /= double(rows);
  return loss / double(rows);
}

// ---------------------------------------------------------------------------------------

TEST(StochasticFit, EpochOrderIsAPermutationPerSeedAndEpoch) {
  const auto a = epoch_order(3, 0, 50), b = epoch_order(3, 0, 50), c = epoch_order(3, 1, 50), e = epoch_order(4, 0, 50);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, e);
  std::vector<std::size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_TRUE(epoch_order(3, 0, 0).empty());
  EXPECT_EQ(epoch_order(3, 0, 1), std::vector<std::size_t>{0});
  EXPECT_NE(epoch_noise_seed(3, 0), epoch_noise_seed(3, 1));
}

// Uniformity of the shuffle: over 6000 epochs every one of the 3! = 6 orders of 3 rows
// appears; the counts pass a chi-square test with 5 dof at 20.5 (P = 1e-3).
TEST(StochasticFit, EpochOrderIsUniform) {
  std::vector<int> counts(9, 0);
  const int epochs = 6000;
  for (int e = 0; e < epochs; ++e) {
    const auto o = epoch_order(11, std::size_t(e), 3);
    ++counts[o[0] * 3 + o[1]];
  }
  double chi2 = 0;
  int seen = 0;
  for (int k = 0; k < 9; ++k) {
    if (k / 3 == k % 3) {
      EXPECT_EQ(counts[k], 0);
      continue;
    }
    ++seen;
    chi2 += std::pow(counts[k] - epochs / 6.0, 2) / (epochs / 6.0);
  }
  EXPECT_EQ(seen, 6);
  EXPECT_LT(chi2, 20.5);
}

// Every row once per epoch: the size-weighted mean of an epoch's minibatch terms is the
// full objective with its random parts drawn under epoch_noise_seed — exactly (up to the
// order of summation, 1e-12 relative). SM has no random part: every epoch gives the same.
TEST(StochasticFit, AnEpochOfMinibatchesIsTheFullObjectiveUnderTheEpochSeed) {
  const Exec ex(1);
  const MatrixD x = gaussian_draws(truth3(), 90, 1);
  const std::size_t batch = 20;  // does not divide 90: a short last batch
  for (auto obj : {StochasticObjective::sm, StochasticObjective::ssm, StochasticObjective::dsm, StochasticObjective::nce}) {
    const StochasticOptions o = options_for(obj);
    const StochasticTrainer<GaussianEnergy> t(start3(), x, o);
    const std::size_t np = obj == StochasticObjective::nce ? 10 : 9;
    for (std::size_t epoch : {0, 5}) {
      VectorD g(np), want;
      const double loss = epoch_mean(t, epoch, 90, batch, g, ex);
      const std::uint64_t s = epoch_noise_seed(o.training.seed, epoch);
      double want_loss = 0;
      switch (obj) {
        case StochasticObjective::sm: want_loss = score_matching_objective(start3(), x, &want, ex); break;
        case StochasticObjective::ssm: {
          SlicedOptions so = o.sliced;
          so.seed = s;
          want_loss = sliced_score_matching_objective(start3(), x, so, &want, ex);
          break;
        }
        case StochasticObjective::dsm: {
          DenoisingOptions dn = o.denoising;
          dn.seed = s;
          want_loss = denoising_score_matching_objective(start3(), x, dn, &want, ex);
          break;
        }
        case StochasticObjective::nce: {
          NceOptions no = o.nce;
          no.seed = s;
          no.noise = *t.noise();
          want_loss = NceProblem(x, no, ex).objective(start3(), 0.0, &want, ex);
          break;
        }
      }
      EXPECT_NEAR(loss, want_loss, 1e-12 * (1 + std::abs(want_loss))) << objective_name(obj);
      ASSERT_EQ(want.size(), g.size());
      EXPECT_LT((g - want).lpNorm<Eigen::Infinity>(), 1e-12 * (1 + want.lpNorm<Eigen::Infinity>())) << objective_name(obj);
    }
  }
}

/// The check above for any model: an epoch of minibatches (batch 20 of 90 rows) equals
/// the full objective under the epoch's noise seed, value and gradient, to 1e-10
/// relative (sums in another order; the GRBM's full SM objective is its own row-block
/// implementation, equal to the generic one to rounding).
template <class M>
void expect_epoch_is_full_objective(const M& model, const MatrixD& x, StochasticObjective obj) {
  const Exec ex(1);
  const StochasticOptions o = options_for(obj);
  const StochasticTrainer<M> t(model, x, o);
  const std::size_t np = model.num_parameters() + (obj == StochasticObjective::nce ? 1 : 0);
  VectorD g = VectorD::Zero(Eigen::Index(np)), want;
  const double loss = epoch_mean(t, 3, std::size_t(x.rows()), 20, g, ex);
  const std::uint64_t s = epoch_noise_seed(o.training.seed, 3);
  double want_loss = 0;
  if (obj == StochasticObjective::sm) {
    if constexpr (ScoreMatchable<M>) want_loss = score_matching_objective(model, x, &want, ex);
  } else if (obj == StochasticObjective::ssm) {
    if constexpr (SliceScoreMatchable<M>) {
      SlicedOptions so = o.sliced;
      so.seed = s;
      want_loss = sliced_score_matching_objective(model, x, so, &want, ex);
    }
  } else if (obj == StochasticObjective::dsm) {
    DenoisingOptions dn = o.denoising;
    dn.seed = s;
    want_loss = denoising_score_matching_objective(model, x, dn, &want, ex);
  } else {
    NceOptions no = o.nce;
    no.seed = s;
    no.noise = *t.noise();
    want_loss = NceProblem(x, no, ex).objective(model, 0.0, &want, ex);
  }
  EXPECT_NEAR(loss, want_loss, 1e-10 * (1 + std::abs(want_loss))) << objective_name(obj);
  ASSERT_EQ(want.size(), g.size()) << objective_name(obj);
  EXPECT_LT((g - want).lpNorm<Eigen::Infinity>(), 1e-10 * (1 + want.lpNorm<Eigen::Infinity>())) << objective_name(obj);
  EXPECT_GT(want.norm(), 0) << objective_name(obj);
}

TEST(StochasticFit, GenericOverTheModels) {
  const MatrixD x = gaussian_draws(truth3(), 90, 8);
  const StudentTExperts experts = StudentTExperts::random(3, 4, 1.5, 2);
  GaussianRbm rbm(3, 2);
  rbm.weights << 0.3, -0.2, 0.1, 0.4, -0.5, 0.2;
  rbm.visible_bias << 0.1, -0.2, 0.3;
  rbm.hidden_bias << -0.1, 0.2;
  rbm.learn_sigma = true;
  rbm.visible_sigma << 1.2, 0.8, 1.0;
  const GrbmFreeEnergy grbm(rbm);
  for (auto obj : {StochasticObjective::sm, StochasticObjective::ssm, StochasticObjective::dsm, StochasticObjective::nce}) {
    expect_epoch_is_full_objective(experts, x, obj);
    expect_epoch_is_full_objective(grbm, x, obj);
  }
}

// Unbiasedness with fresh random parts. SSM with Rademacher projections: E[v vᵀ] = I, so
// the expected SSM gradient is the SM gradient. DSM at levels σ_l on the Gaussian energy:
//   E_ε ½‖σ(Λ(x + σε) − b) − ε‖² = ½ σ² ‖Λx − b‖² + ½ ‖σ²Λ − I‖²_F,
// whose gradient is taken by central differences (a quadratic in θ: exact up to
// rounding). The epoch means over 400 epochs are i.i.d. (fresh noise per epoch); each of
// the 9 coordinates of their mean is compared with the truth at z = 4.5 standard errors:
// P(|N(0,1)| > 4.5) = 6.8e-6, ≤ 6.1e-5 over 9 coordinates, two objectives, ≤ 1.3e-4
// (the SE is estimated from 400 epochs: the t(399) tail is within 10% of the normal's).
// Not vacuous: the SM gradient with the Laplacian term left out (a wrong objective) is
// rejected for SSM by the same test.
TEST(StochasticFit, MinibatchGradientIsUnbiasedForTheExpectedObjective) {
  const Exec ex(1);
  const MatrixD x = gaussian_draws(truth3(), 60, 2);
  const GaussianEnergy m = start3();
  const auto expected_dsm = [&](const GaussianEnergy& e, const std::vector<double>& sigmas) {
    double f = 0;
    for (double s : sigmas) {
      const MatrixD a = s * s * e.precision() - MatrixD::Identity(3, 3);
      double rows = 0;
      for (Eigen::Index r = 0; r < x.rows(); ++r)
        rows += 0.5 * s * s * (e.precision() * x.row(r).transpose() - e.linear()).squaredNorm();
      f += rows / double(x.rows()) + 0.5 * a.squaredNorm();
    }
    return f / double(sigmas.size());
  };
  for (auto obj : {StochasticObjective::ssm, StochasticObjective::dsm}) {
    StochasticOptions o = options_for(obj);
    o.sliced.projections = 1;
    o.denoising.draws = 1;
    const StochasticTrainer<GaussianEnergy> t(m, x, o);
    VectorD want(9), wrong;
    if (obj == StochasticObjective::ssm) {
      score_matching_objective(m, x, &want, ex);
      wrong = want;
      for (Eigen::Index i = 0; i < 3; ++i) wrong[3 + i * 3 - i * (i - 1) / 2] += 1.0;  // − ∂ΔE/∂Λ_ii left out
    } else {
      want = test::parameter_differences(
          m, [&](const GaussianEnergy& e) { return expected_dsm(e, o.denoising.sigmas); }, 1e-3);
    }
    const int epochs = 400;
    VectorD sum = VectorD::Zero(9), sum2 = VectorD::Zero(9), g(9);
    for (int e = 0; e < epochs; ++e) {
      epoch_mean(t, std::size_t(e), 60, 15, g, ex);
      sum += g;
      sum2 += g.cwiseAbs2();
    }
    const VectorD mean = sum / epochs;
    const VectorD se = ((sum2 - epochs * mean.cwiseAbs2()) / (epochs - 1) / epochs).cwiseSqrt();
    for (Eigen::Index k = 0; k < 9; ++k) {
      EXPECT_GT(se[k], 0) << objective_name(obj) << " " << k;
      EXPECT_LT(std::abs(mean[k] - want[k]), 4.5 * se[k]) << objective_name(obj) << " coordinate " << k;
    }
    if (obj == StochasticObjective::ssm) {
      bool rejected = false;
      for (Eigen::Index k = 0; k < 9; ++k) rejected |= std::abs(mean[k] - wrong[k]) > 4.5 * se[k];
      EXPECT_TRUE(rejected);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Optimizers and schedules.

TEST(StochasticFit, AdamWithItsOwnRateAndRestoreContinuesBitForBit) {
  VectorD g1(2), g2(2);
  g1 << 0.5, -1.0;
  g2 << -0.25, 2.0;
  VectorD a = VectorD::Zero(2), b = VectorD::Zero(2);
  Adam x(2, {0.1}), y(2, {0.1});
  x.step(a, g1);
  y.step(b, g1, 0.1);
  EXPECT_TRUE(same_bits(a, b));
  // Restore into a fresh optimizer: the next step is the same bits.
  Adam z(2, {0.1});
  z.restore(x.first_moment(), x.second_moment(), x.steps());
  VectorD c = a;
  x.step(a, g2, 0.05);
  z.step(c, g2, 0.05);
  EXPECT_TRUE(same_bits(a, c));
  EXPECT_EQ(z.steps(), 2u);
  test::expect_error([&] { z.step(c, g2, -1.0); }, Exit::usage, "Adam::step: learning_rate must be finite and >= 0 (got -1)");
  test::expect_error([&] { z.restore(VectorD::Zero(3), VectorD::Zero(2), 1); }, Exit::usage,
                     "Adam::restore: the moments have 3 and 2 entries but the optimizer has 2 parameters");
  test::expect_error([&] { z.restore(VectorD::Zero(2), -VectorD::Ones(2), 1); }, Exit::data,
                     "Adam::restore: the second moment is not finite and >= 0");
}

TEST(StochasticFit, SgdWithMomentumByHand) {
  Sgd s(2, {0.1, 0.5});
  VectorD th(2), g1(2), g2(2);
  th << 1.0, 2.0;
  g1 << 1.0, -2.0;
  g2 << 3.0, 0.0;
  s.step(th, g1);  // v = g1; θ = θ − 0.1 v
  EXPECT_DOUBLE_EQ(th[0], 0.9);
  EXPECT_DOUBLE_EQ(th[1], 2.2);
  s.step(th, g2, 0.2);  // v = 0.5 g1 + g2 = (3.5, −1); θ −= 0.2 v
  EXPECT_DOUBLE_EQ(th[0], 0.9 - 0.7);
  EXPECT_DOUBLE_EQ(th[1], 2.2 + 0.2);
  test::expect_error([] { Sgd(2, {0.1, 1.0}); }, Exit::usage, "Sgd: momentum must be in [0, 1) (got 1)");
  test::expect_error([] { Sgd(2, {0.0, 0.5}); }, Exit::usage, "Sgd: learning_rate must be finite and > 0 (got 0)");
  VectorD bad(2);
  bad << 1.0, NAN;
  test::expect_error([&] { s.step(th, bad); }, Exit::data, "Sgd::step: grad[1] is not finite (nan)");
}

TEST(StochasticFit, LearningRateSchedulesByHand) {
  const MatrixD x = gaussian_draws(truth3(), 40, 3);
  const Exec ex(1);
  StochasticOptions o = options_for(StochasticObjective::sm);
  o.training.batch_size = 10;  // 4 updates an epoch
  o.training.adam.learning_rate = 0.02;
  o.training.schedule = LearningRateSchedule::inverse_time;
  o.training.decay_steps = 8;
  StochasticTrainer<GaussianEnergy> inv(start3(), x, o);
  EXPECT_DOUBLE_EQ(inv.learning_rate(), 0.02);
  inv.run_epoch(ex);
  EXPECT_EQ(inv.updates(), 4u);
  EXPECT_DOUBLE_EQ(inv.learning_rate(), 0.02 / 1.5);
  o.training.schedule = LearningRateSchedule::cosine;
  o.training.cosine_epochs = 2;  // 8 updates to zero
  StochasticTrainer<GaussianEnergy> cos(start3(), x, o);
  cos.run_epoch(ex);
  EXPECT_NEAR(cos.learning_rate(), 0.01, 1e-17);
  cos.run_epoch(ex);
  EXPECT_EQ(cos.learning_rate(), 0.0);
  cos.run_epoch(ex);  // stays at 0: the model no longer moves
  EXPECT_EQ(cos.learning_rate(), 0.0);
  const VectorD before = cos.model().parameters();
  cos.run_epoch(ex);
  EXPECT_TRUE(same_bits(before, cos.model().parameters()));
}

// Polyak averaging from epoch 1: the average is the mean of the iterates after each
// update of epochs 1 and 2, replayed here by hand from a run without averaging.
TEST(StochasticFit, AveragingIsTheMeanOfTheIterates) {
  const MatrixD x = gaussian_draws(truth3(), 40, 3);
  const Exec ex(1);
  StochasticOptions o = options_for(StochasticObjective::dsm);
  o.training.batch_size = 40;  // one update an epoch
  StochasticTrainer<GaussianEnergy> plain(start3(), x, o);
  o.training.average_from_epoch = 1;
  StochasticTrainer<GaussianEnergy> avg(start3(), x, o);
  VectorD sum = VectorD::Zero(9);
  for (int e = 0; e < 3; ++e) {
    plain.run_epoch(ex);
    avg.run_epoch(ex);
    if (e == 0) {
      EXPECT_TRUE(same_bits(avg.averaged_model().parameters(), avg.model().parameters()));
    }
    if (e >= 1) sum += plain.model().parameters();
  }
  EXPECT_TRUE(same_bits(plain.model().parameters(), avg.model().parameters()));
  EXPECT_LT((avg.averaged_model().parameters() - sum / 2).norm(), 1e-15);
}

// ---------------------------------------------------------------------------------------
// Reproducibility.

TEST(StochasticFit, SameBitsForOneAndTwoThreads) {
  const MatrixD x = gaussian_draws(truth3(), 300, 4);  // 3 row blocks per 100-row batch
  for (auto obj : {StochasticObjective::sm, StochasticObjective::ssm, StochasticObjective::dsm, StochasticObjective::nce}) {
    StochasticOptions o = options_for(obj);
    o.training.batch_size = 150;
    o.training.average_from_epoch = 1;
    StochasticTrainer<GaussianEnergy> a(start3(), x, o), b(start3(), x, o);
    for (int e = 0; e < 3; ++e) EXPECT_EQ(a.run_epoch(Exec(1)), b.run_epoch(Exec(2))) << objective_name(obj);
    EXPECT_TRUE(same_bits(a.model().parameters(), b.model().parameters())) << objective_name(obj);
    EXPECT_TRUE(same_bits(a.averaged_model().parameters(), b.averaged_model().parameters())) << objective_name(obj);
    if (obj == StochasticObjective::nce) {
      EXPECT_EQ(a.log_z(), b.log_z());
    }
  }
}

TEST(StochasticFit, CheckpointRestoreContinuesBitForBit) {
  const MatrixD x = gaussian_draws(truth3(), 80, 5);
  const Exec ex(1);
  test::TempDir dir;
  for (auto obj : {StochasticObjective::sm, StochasticObjective::ssm, StochasticObjective::dsm, StochasticObjective::nce}) {
    for (auto opt : {OptimizerKind::adam, OptimizerKind::sgd}) {
      StochasticOptions o = options_for(obj);
      o.training.optimizer = opt;
      o.training.sgd = {0.005, 0.9};
      o.training.schedule = LearningRateSchedule::inverse_time;
      o.training.decay_steps = 5;
      o.training.average_from_epoch = 1;
      StochasticTrainer<GaussianEnergy> whole(start3(), x, o), first(start3(), x, o);
      for (int e = 0; e < 4; ++e) whole.run_epoch(ex);
      for (int e = 0; e < 2; ++e) first.run_epoch(ex);
      // Through an .npz file, as a command-line tool would keep it.
      const std::string path = (dir.path() / "state.npz").string();
      api::write_training_checkpoint(path, first.state());
      StochasticTrainer<GaussianEnergy> resumed(start3(), x, o);
      resumed.restore(api::read_training_checkpoint(path));
      EXPECT_EQ(resumed.epoch(), 2u);
      for (int e = 0; e < 2; ++e) resumed.run_epoch(ex);
      EXPECT_TRUE(same_bits(whole.model().parameters(), resumed.model().parameters())) << objective_name(obj);
      EXPECT_TRUE(same_bits(whole.averaged_model().parameters(), resumed.averaged_model().parameters()))
          << objective_name(obj);
      EXPECT_EQ(whole.updates(), resumed.updates());
      if (obj == StochasticObjective::nce) {
        EXPECT_EQ(whole.log_z(true), resumed.log_z(true));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Errors.

/// An energy with ∂E/∂θ only (no score): NCE can train it, score matching cannot.
struct EnergyOnly {
  double a = 1;
  std::size_t dimension() const { return 1; }
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return 0.5 * a * x[0] * x[0]; }
  std::size_t num_parameters() const { return 1; }
  VectorD parameters() const { return VectorD::Constant(1, a); }
  void set_parameters(const VectorD& t) { a = t[0]; }
  void add_energy_gradient(const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) const {
    g[0] += s * 0.5 * x[0] * x[0];
  }
};

TEST(StochasticFit, RefusesBadInput) {
  const MatrixD x = gaussian_draws(truth3(), 40, 6);
  const auto make = [&](const MatrixD& data, const StochasticOptions& o) {
    StochasticTrainer<GaussianEnergy> t(start3(), data, o);
  };
  StochasticOptions o = options_for(StochasticObjective::sm);
  MatrixD bad = x;
  bad(3, 1) = NAN;
  test::expect_error([&] { make(bad, o); }, Exit::data, "StochasticTrainer: data(3, 1) is not finite (nan)");
  MatrixD flat = x;
  flat.col(2).setConstant(1.5);
  test::expect_error([&] { make(flat, o); }, Exit::data, "StochasticTrainer: column 2 has zero variance (every sample is 1.5)");
  o.objective = StochasticObjective::dsm;  // the noise makes DSM bounded: allowed
  make(flat, o);
  o = options_for(StochasticObjective::sm);
  o.training.batch_size = 0;
  test::expect_error([&] { make(x, o); }, Exit::usage, "StochasticTrainer: batch_size must be >= 1 (got 0)");
  o = options_for(StochasticObjective::sm);
  o.training.adam.learning_rate = -0.1;
  test::expect_error([&] { make(x, o); }, Exit::usage, "StochasticTrainer: learning_rate must be finite and > 0 (got -0.1)");
  o = options_for(StochasticObjective::sm);
  o.training.optimizer = OptimizerKind::sgd;
  o.training.sgd.learning_rate = INFINITY;
  test::expect_error([&] { make(x, o); }, Exit::usage, "StochasticTrainer: learning_rate must be finite and > 0 (got inf)");
  o = options_for(StochasticObjective::sm);
  o.training.schedule = LearningRateSchedule::cosine;
  test::expect_error([&] { make(x, o); }, Exit::usage, "StochasticTrainer: the cosine schedule needs cosine_epochs >= 1 (got 0)");
  o = options_for(StochasticObjective::sm);
  o.training.decay_steps = 0;
  test::expect_error([&] { make(x, o); }, Exit::usage, "StochasticTrainer: decay_steps must be finite and > 0 (got 0)");
  o = options_for(StochasticObjective::ssm);
  o.sliced.projections = 0;
  test::expect_error([&] { make(x, o); }, Exit::usage, "StochasticTrainer: projections must be >= 1 (got 0)");
  o = options_for(StochasticObjective::dsm);
  o.denoising.sigmas = {0.1, -1.0};
  test::expect_error([&] { make(x, o); }, Exit::usage, "StochasticTrainer: sigmas[1] must be finite and > 0 (got -1)");
  o = options_for(StochasticObjective::nce);
  o.nce.noise_ratio = 0;
  test::expect_error([&] { make(x, o); }, Exit::usage, "StochasticTrainer: noise_ratio must be >= 1 (got 0)");
  o = options_for(StochasticObjective::nce);
  o.nce.noise = Gaussian::isotropic(2, 1.0);
  test::expect_error([&] { make(x, o); }, Exit::usage, "StochasticTrainer: the noise has dimension 2 but the data has 3 columns");
  test::expect_error([&] { make(MatrixD(40, 2), options_for(StochasticObjective::sm)); }, Exit::usage,
                     "StochasticTrainer: data has 2 columns but the model has dimension 3");

  // A model without a score: NCE trains it, SM refuses it.
  const MatrixD x1 = gaussian_draws(Gaussian(VectorD::Zero(1), MatrixD::Identity(1, 1)), 50, 7);
  StochasticTrainer<EnergyOnly> ok(EnergyOnly{}, x1, options_for(StochasticObjective::nce));
  ok.run_epoch(Exec(1));
  test::expect_error([&] { StochasticTrainer<EnergyOnly>(EnergyOnly{}, x1, options_for(StochasticObjective::sm)); },
                     Exit::usage,
                     "StochasticTrainer: the model does not support sm (it needs the score, the Laplacian and their "
                     "parameter derivatives)");

  // Names.
  EXPECT_EQ(parse_objective("dsm"), StochasticObjective::dsm);
  test::expect_error([] { parse_objective("cd"); }, Exit::usage,
                     "parse_objective: unknown objective 'cd' (expected sm, ssm, dsm or nce)");

  // log Z only for NCE; restore checks.
  StochasticTrainer<GaussianEnergy> sm(start3(), x, options_for(StochasticObjective::sm));
  test::expect_error([&] { sm.log_z(); }, Exit::usage, "StochasticTrainer::log_z: only nce learns log Z (the objective is sm)");
  StochasticTrainer<GaussianEnergy> dsm(start3(), x, options_for(StochasticObjective::dsm));
  test::expect_error([&] { sm.restore(dsm.state()); }, Exit::data,
                     "StochasticTrainer::restore: the state is of another objective than sm");
  training::Checkpoint partial = sm.state();
  partial.erase("parameters");
  test::expect_error([&] { sm.restore(partial); }, Exit::data, "StochasticTrainer::restore: the state has no array 'parameters'");

  // A diverging run: a non-finite gradient is refused and the state kept.
  o = options_for(StochasticObjective::sm);
  o.training.optimizer = OptimizerKind::sgd;
  o.training.sgd.learning_rate = 1e6;
  StochasticTrainer<GaussianEnergy> wild(start3(), x, o);
  try {
    for (int e = 0; e < 50; ++e) wild.run_epoch(Exec(1));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::data);
    EXPECT_NE(std::string(e.what()).find("StochasticTrainer::run_epoch: the "), std::string::npos) << e.what();
    EXPECT_TRUE(wild.model().parameters().allFinite());
  }
}

}  // namespace
}  // namespace logz
