// CD-k / PCD-k training of a binary RBM (training/rbm_cd.hpp): the documented start
// (W from Stream::derive(seed, init, 0), b the clamped logit of the data means), the
// linear learning-rate schedule, 1 vs 2 threads, and checkpoint → resume → continue
// equal to the uninterrupted run bit for bit (also through an .npz file); pinned errors.
#include "logz/training/rbm_cd.hpp"

#include <gtest/gtest.h>

#include <cmath>

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

RbmCdOptions options(bool persistent) {
  RbmCdOptions o;
  o.k = 2;
  o.persistent = persistent;
  o.epochs = 4;
  o.batch = 7;  // 45 rows: 6 batches, 3 rows left out per epoch
  o.chains = persistent ? 5 : 0;
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

TEST(RbmCdTrainer, StartsAsDocumented) {
  const MatrixU8 x = binary_data(45, 6, 1);
  const RbmCdTrainer t(column_means(x), 3, options(true));
  Stream init = Stream::derive(11, Purpose::init, 0);
  for (Eigen::Index i = 0; i < t.model().weights.size(); ++i)
    EXPECT_EQ(t.model().weights.data()[i], float(0.1 * init.normal()));
  const VectorD means = column_means(x);
  for (Eigen::Index i = 0; i < means.size(); ++i) {
    const double p = std::clamp(means[i], 1e-3, 1 - 1e-3);
    EXPECT_EQ(t.model().visible_bias[i], float(std::log(p / (1 - p))));
  }
  EXPECT_TRUE((t.model().hidden_bias.array() == 0).all());
  EXPECT_EQ(t.learning_rate(0), 0.1);
  EXPECT_EQ(t.learning_rate(3), 0.1 + (0.02 - 0.1) * 3.0 / 3.0);
}

TEST(RbmCdTrainer, ResumesBitForBitForAnyThreadCount) {
  const MatrixU8 x = binary_data(45, 6, 2);
  test::TempDir dir;
  for (bool persistent : {false, true}) {
    const RbmCdOptions o = options(persistent);
    RbmCdTrainer whole(column_means(x), 3, o), first(column_means(x), 3, o);
    for (int e = 0; e < 4; ++e) {
      const RbmCdEpoch done = whole.run_epoch(x, Exec(1));
      EXPECT_EQ(done.epoch, std::size_t(e + 1));
      EXPECT_EQ(done.examples, 42u);
    }
    first.run_epoch(x, Exec(2));
    const std::string path = (dir.path() / "rbm.ckpt.npz").string();
    api::write_training_checkpoint(path, first.state());
    RbmCdTrainer resumed = RbmCdTrainer::resume(o, api::read_training_checkpoint(path));
    EXPECT_EQ(resumed.epoch(), 1u);
    for (int e = 0; e < 3; ++e) resumed.run_epoch(x, Exec(e % 2 ? 1 : 2));
    EXPECT_TRUE(same(whole.model(), resumed.model())) << persistent;
  }
}

TEST(RbmCdTrainer, RefusesBadInput) {
  const MatrixU8 x = binary_data(45, 6, 3);
  RbmCdOptions o = options(true);
  o.k = 0;
  test::expect_error([&] { RbmCdTrainer(column_means(x), 3, o); }, Exit::usage, "RbmCdTrainer: k must be >= 1 (got 0)");
  RbmCdTrainer t(column_means(x), 3, options(true));
  test::expect_error([&] { t.run_epoch(binary_data(5, 6, 4), Exec(1)); }, Exit::usage,
                     "RbmCdTrainer::run_epoch: the data has 5 rows, fewer than one batch of 7");
  training::Checkpoint ck = t.state();
  ck.erase("chains");
  test::expect_error([&] { (void)RbmCdTrainer::resume(options(true), ck); }, Exit::data,
                     "RbmCdTrainer::resume: the state has no array 'chains'");
  RbmCdOptions more = options(true);
  more.chains = 6;
  test::expect_error([&] { (void)RbmCdTrainer::resume(more, t.state()); }, Exit::data,
                     "RbmCdTrainer::resume: array 'chains' has shape (5, 6) but the run has 6 chains of 6 visible units");
}

}  // namespace
}  // namespace logz
