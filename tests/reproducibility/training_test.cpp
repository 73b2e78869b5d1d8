// Training is a deterministic function of its seed: the same bits for any thread count,
// and a run resumed from its checkpoint ends where an uninterrupted one does.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "logz/api/rbm_tasks.hpp"
#include "logz/io/atomic_file.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

MatrixU8 synthetic_data(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  Stream s = Stream::derive(seed, Purpose::user, 7);
  MatrixU8 d{Eigen::Index(rows), Eigen::Index(cols)};
  // Two prototypes with 10% bit noise: structure that an RBM can learn.
  for (Eigen::Index r = 0; r < d.rows(); ++r)
    for (Eigen::Index i = 0; i < d.cols(); ++i) {
      const bool proto = (r % 2 == 0) ? (i < d.cols() / 2) : (i % 3 == 0);
      d(r, i) = std::uint8_t(proto != (s.uniform_double() < 0.1));
    }
  return d;
}

api::TrainConfig small_config(const std::string& method) {
  api::TrainConfig c;
  c.hidden = 8;
  c.method = method;
  c.epochs = 4;
  c.batch = 20;
  c.lr = 0.05;
  c.momentum = 0.5;
  c.monitor_rows = 50;
  c.monitor_ais_every = 2;
  c.monitor_ais_chains = 10;
  c.monitor_ais_betas = 50;
  c.seed = 17;
  return c;
}

bool same_bits(const RbmF& a, const RbmF& b) {
  auto eq = [](const auto& x, const auto& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), sizeof(float) * std::size_t(x.size())) == 0;
  };
  return eq(a.weights, b.weights) && eq(a.visible_bias, b.visible_bias) && eq(a.hidden_bias, b.hidden_bias);
}

class TrainingRepro : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainingRepro, OneAndTwoThreadsGiveIdenticalBits) {
  const MatrixU8 train = synthetic_data(200, 24, 1), test = synthetic_data(60, 24, 2);
  const auto cfg = small_config(GetParam());
  const auto r1 = api::train_rbm(train, test, cfg, {}, Exec(1), silent_observer());
  const auto r2 = api::train_rbm(train, test, cfg, {}, Exec(2), silent_observer());
  EXPECT_TRUE(same_bits(r1.model, r2.model));
  ASSERT_EQ(r1.epochs.size(), 4u);
  EXPECT_EQ(r1.epochs[3].recon_error, r2.epochs[3].recon_error);
  EXPECT_EQ(r1.epochs[3].ais_log_z, r2.epochs[3].ais_log_z);
}

TEST_P(TrainingRepro, ResumeAfterAStopEndsWithTheSameBits) {
  const MatrixU8 train = synthetic_data(200, 24, 1), test = synthetic_data(60, 24, 2);
  test::TempDir dir;
  const auto cfg = small_config(GetParam());
  const auto whole = api::train_rbm(train, test, cfg, {}, Exec(2), silent_observer());

  // Stop after epoch 2 (a run asked for 2 epochs writes the same checkpoints as the
  // first two epochs of a 4-epoch run), then rerun the 4-epoch command with --resume.
  api::TrainFiles files{(dir.path() / "ck.npz").string(), (dir.path() / "log.jsonl").string(), true};
  auto first = cfg;
  first.epochs = 2;
  api::train_rbm(train, test, first, files, Exec(1), silent_observer());
  const auto resumed = api::train_rbm(train, test, cfg, files, Exec(2), silent_observer());
  EXPECT_EQ(resumed.resumed_from_epoch, 2u);
  EXPECT_TRUE(same_bits(whole.model, resumed.model));
  ASSERT_EQ(resumed.epochs.size(), 4u);
  EXPECT_EQ(resumed.epochs[3].pseudo_log_likelihood, whole.epochs[3].pseudo_log_likelihood);
  // The log holds one JSON line per epoch.
  const std::string log = io::read_file(files.log);
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 4);
}

INSTANTIATE_TEST_SUITE_P(Methods, TrainingRepro, ::testing::Values("cd", "pcd"));

TEST(TrainingResume, RefusesACheckpointFromDifferentSettings) {
  const MatrixU8 train = synthetic_data(200, 24, 1);
  test::TempDir dir;
  api::TrainFiles files{(dir.path() / "ck.npz").string(), "", true};
  auto cfg = small_config("pcd");
  cfg.epochs = 1;
  cfg.monitor_ais_every = 0;
  api::train_rbm(train, MatrixU8(), cfg, files, Exec(1), silent_observer());
  cfg.lr = 0.1;
  cfg.epochs = 2;
  try {
    api::train_rbm(train, MatrixU8(), cfg, files, Exec(1), silent_observer());
    FAIL() << "resumed with different settings";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_NE(std::string(e.what()).find("was written with different settings"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace logz
