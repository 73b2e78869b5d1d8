// PCD on parallel-tempering ladders for a binary RBM (Desjardins et al. 2010;
// objectives/rbm_tempered_chains.hpp through training/rbm_cd.hpp): with the learning
// rate 0 the β = 1 replicas sample the model on a sharply bimodal RBM where plain PCD
// chains stay in the mode they start in; the same seed gives the same bits for 1 or 2
// threads and across a checkpoint; swap rates per pair; pinned errors.
#include "logz/training/rbm_cd.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <vector>

#include "logz/api/checkpoint_file.hpp"
#include "logz/core/rng.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace logz {
namespace {

MatrixU8 binary_data(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  Stream s = Stream::derive(seed, Purpose::data, 0);
  MatrixU8 x(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c) x(r, c) = std::uint8_t(s.uniform_double() < 0.2 + 0.06 * double(c));
  return x;
}

VectorD column_means(const MatrixU8& x) { return x.cast<double>().colwise().mean().transpose(); }

RbmCdOptions pt_options() {
  RbmCdOptions o;
  o.k = 2;
  o.epochs = 4;
  o.batch = 7;  // 45 rows: 6 updates per epoch
  o.chains = 5;
  o.tempering_betas = {0.0, 0.4, 0.75, 1.0};
  o.learning_rate = 0.1;
  o.final_learning_rate = 0.02;
  o.momentum = 0.5;
  o.weight_decay = 1e-3;
  o.init_scale = 0.1;
  o.seed = 11;
  return o;
}

bool same(const RbmF& a, const RbmF& b) {
  return a.weights == b.weights && a.visible_bias == b.visible_bias && a.hidden_bias == b.hidden_bias;
}

TEST(RbmPtTrainer, SameBitsForAnyThreadCountAndAcrossACheckpoint) {
  const MatrixU8 x = binary_data(45, 6, 2);
  test::TempDir dir;
  const RbmCdOptions o = pt_options();
  RbmCdTrainer whole(column_means(x), 3, o), again(column_means(x), 3, o), first(column_means(x), 3, o);
  for (int e = 0; e < 4; ++e) {
    const RbmCdEpoch done = whole.run_epoch(x, Exec(1));
    again.run_epoch(x, Exec(2));
    ASSERT_EQ(done.swap_rates.size(), 3u);
    for (double r : done.swap_rates) EXPECT_TRUE(r >= 0 && r <= 1) << r;
  }
  EXPECT_TRUE(same(whole.model(), again.model()));
  EXPECT_EQ(whole.chains(), again.chains());
  first.run_epoch(x, Exec(2));
  const std::string path = (dir.path() / "rbm_pt.ckpt.npz").string();
  api::write_training_checkpoint(path, first.state());
  RbmCdTrainer resumed = RbmCdTrainer::resume(o, api::read_training_checkpoint(path));
  EXPECT_EQ(resumed.epoch(), 1u);
  for (int e = 0; e < 3; ++e) resumed.run_epoch(x, Exec(e % 2 ? 1 : 2));
  EXPECT_TRUE(same(whole.model(), resumed.model()));
  for (std::size_t r = 0; r < 4; ++r) EXPECT_EQ(whole.tempered_chains()->replicas(r), resumed.tempered_chains()->replicas(r));

  // The ladders change the run: PCD from the same seed ends elsewhere.
  RbmCdOptions pcd = o;
  pcd.tempering_betas.clear();
  RbmCdTrainer plain(column_means(x), 3, pcd);
  for (int e = 0; e < 4; ++e) plain.run_epoch(x, Exec(1));
  EXPECT_FALSE(same(whole.model(), plain.model()));
}

// A sharply bimodal RBM, symmetric under (v, h) -> (1 - v, 1 - h): one hidden unit, W = 4,
// b = -2, c = -2 n_v. Its modes (v mostly 0, h = 0) and (v mostly 1, h = 1) carry equal
// mass, so every visible marginal is exactly 1/2; a Gibbs chain leaves a mode with
// probability about 1e-4 per sweep.
RbmF bimodal_rbm(std::size_t nv) {
  RbmF m(nv, 1);
  m.weights.setConstant(4.0f);
  m.visible_bias.setConstant(-2.0f);
  m.hidden_bias.setConstant(-2.0f * float(nv));
  return m;
}

/// The trainer with `model`, zero velocity and ladders (or PCD chains) from σ(b), at
/// learning rate 0: the model never changes.
RbmCdTrainer frozen_trainer(const RbmF& model, const RbmCdOptions& o) {
  RbmCdTrainer fresh(VectorD::Constant(Eigen::Index(model.n_visible()), 0.5), model.n_hidden(), o);
  training::Checkpoint ck = fresh.state();
  for (const char* name : {"weights", "visible_bias", "hidden_bias", "chains", "replicas"}) ck.erase(name);
  ck.put("weights", MatrixD(model.weights.cast<double>()));
  ck.put("visible_bias", VectorD(model.visible_bias.cast<double>()));
  ck.put("hidden_bias", VectorD(model.hidden_bias.cast<double>()));
  const MatrixF start = RbmChains<float>::from_bias(model.visible_bias, o.chains, o.seed, Purpose::chains).v;
  if (o.tempering_betas.empty()) {
    ck.put("chains", MatrixD(start.cast<double>()));
  } else {
    std::vector<double> values;
    for (std::size_t r = 0; r < o.tempering_betas.size(); ++r) values.insert(values.end(), start.data(), start.data() + start.size());
    ck.put("replicas", {o.tempering_betas.size(), o.chains, model.n_visible()}, values);
  }
  return RbmCdTrainer::resume(o, ck);
}

struct ChainMean {
  double mean, std_error;
  std::vector<double> swap_rates;  ///< per pair, mean over the epochs that proposed it
};

/// Mean of the visible units over the negative-phase chains after each of `updates`
/// updates (the first `burn_in` left out), with the batch-means standard error (batches
/// of 100 updates, longer than the ladders' mixing time).
ChainMean chain_mean(RbmCdTrainer& t, const MatrixU8& one_row, std::size_t updates, std::size_t burn_in) {
  std::vector<double> batch_means;
  double sum = 0;
  std::vector<double> rate_sum, rate_count;
  for (std::size_t u = 0; u < updates; ++u) {
    const RbmCdEpoch done = t.run_epoch(one_row, Exec(2));  // one row, batch 1: one update per epoch
    rate_sum.resize(done.swap_rates.size()), rate_count.resize(done.swap_rates.size());
    for (std::size_t p = 0; p < done.swap_rates.size(); ++p)
      if (!std::isnan(done.swap_rates[p])) rate_sum[p] += done.swap_rates[p], rate_count[p] += 1;
    if (u < burn_in) continue;
    sum += double(t.chains().mean());
    if ((u + 1 - burn_in) % 100 == 0) batch_means.push_back(sum / 100), sum = 0;
  }
  double m = 0, v = 0;
  for (double b : batch_means) m += b;
  m /= double(batch_means.size());
  for (double b : batch_means) v += (b - m) * (b - m);
  v /= double(batch_means.size() - 1);
  for (std::size_t p = 0; p < rate_sum.size(); ++p) rate_sum[p] /= rate_count[p];
  return {m, std::sqrt(v / double(batch_means.size())), rate_sum};
}

TEST(RbmPtTrainer, BetaOneReplicasSampleTheModelWherePcdChainsStick) {
  const std::size_t nv = 16;
  const RbmF model = bimodal_rbm(nv);
  // The exact mean of the visible units by enumeration (1/2 by the symmetry; computed, so
  // that the test does not rest on the argument).
  double z = 0, ones = 0;
  for (std::uint32_t s = 0; s < (1u << nv); ++s) {
    const int k = std::popcount(s);
    const double log_f = -2.0 * k + std::log1p(std::exp(-2.0 * double(nv) + 4.0 * k));
    z += std::exp(log_f);
    ones += k * std::exp(log_f);
  }
  const double exact = ones / z / double(nv);
  ASSERT_NEAR(exact, 0.5, 1e-12);

  RbmCdOptions o;
  o.k = 1;
  o.batch = 1;
  o.chains = 40;
  o.learning_rate = 0;
  o.momentum = 0;
  o.epochs = 1;
  o.seed = 5;
  o.tempering_betas = default_tempering_ladder(10);
  const MatrixU8 one_row = MatrixU8::Zero(1, Eigen::Index(nv));
  RbmCdTrainer pt = frozen_trainer(model, o);
  const ChainMean m = chain_mean(pt, one_row, 4500, 500);
  EXPECT_TRUE(same(pt.model(), model));  // learning rate 0: the model did not move
  // 40 batch means: |error| <= 4 SE fails by chance with probability ~3e-4 (t, 39 df).
  EXPECT_LE(std::abs(m.mean - exact), 4 * m.std_error) << m.mean << " ± " << m.std_error;
  EXPECT_LT(m.std_error, 0.02);  // the ladders mix: 40 chains hop between the modes
  ASSERT_EQ(m.swap_rates.size(), 9u);
  for (double r : m.swap_rates) EXPECT_GT(r, 0.2);

  // The check can fail: plain PCD chains from σ(b) (the mode v ≈ 0) stay there.
  o.tempering_betas.clear();
  RbmCdTrainer pcd = frozen_trainer(model, o);
  const ChainMean p = chain_mean(pcd, one_row, 4500, 500);
  EXPECT_GT(std::abs(p.mean - exact), 4 * p.std_error) << p.mean << " ± " << p.std_error;
}

TEST(RbmPtTrainer, RefusesBadLaddersAndCheckpoints) {
  const MatrixU8 x = binary_data(45, 6, 3);
  RbmCdOptions o = pt_options();
  o.tempering_betas = {0.0, 0.5, 0.9};
  test::expect_error([&] { RbmCdTrainer(column_means(x), 3, o); }, Exit::usage,
                     "RbmCdTrainer: the last beta must be 1 (the model), got 0.9");
  o.tempering_betas = {0.5, 0.2, 1.0};
  test::expect_error([&] { RbmCdTrainer(column_means(x), 3, o); }, Exit::usage,
                     "RbmCdTrainer: betas must increase strictly; beta[1] = 0.2 follows beta[0] = 0.5");
  o.tempering_betas = {1.0};
  test::expect_error([&] { RbmCdTrainer(column_means(x), 3, o); }, Exit::usage,
                     "RbmCdTrainer: tempering needs at least 2 betas, got 1");
  o = pt_options();
  o.persistent = false;
  test::expect_error([&] { RbmCdTrainer(column_means(x), 3, o); }, Exit::usage,
                     "RbmCdTrainer: tempering needs persistent chains");
  test::expect_error([&] { (void)default_tempering_ladder(1); }, Exit::usage,
                     "default_tempering_ladder: replicas must be >= 2, got 1");
  const std::vector<double> ladder = default_tempering_ladder(5);
  ASSERT_EQ(ladder.size(), 5u);
  for (std::size_t r = 0; r < 5; ++r) {
    const double x = 1.0 - double(r) / 4.0;
    EXPECT_EQ(ladder[r], 1.0 - x * std::sqrt(x));
  }

  const RbmCdTrainer t(column_means(x), 3, pt_options());
  training::Checkpoint ck = t.state();
  ck.erase("replicas");
  test::expect_error([&] { (void)RbmCdTrainer::resume(pt_options(), ck); }, Exit::data,
                     "RbmCdTrainer::resume: the state has no array 'replicas'");
  RbmCdOptions more = pt_options();
  more.tempering_betas = {0.0, 0.5, 1.0};
  test::expect_error([&] { (void)RbmCdTrainer::resume(more, t.state()); }, Exit::data,
                     "RbmCdTrainer::resume: array 'replicas' has shape (4, 5, 6) but the run has 3 replicas of 5 "
                     "chains of 6 visible units");
  // A PCD checkpoint does not resume a tempered run.
  RbmCdOptions pcd = pt_options();
  pcd.tempering_betas.clear();
  test::expect_error([&] { (void)RbmCdTrainer::resume(pt_options(), RbmCdTrainer(column_means(x), 3, pcd).state()); },
                     Exit::data, "RbmCdTrainer::resume: the state has no array 'replicas'");
}

}  // namespace
}  // namespace logz
