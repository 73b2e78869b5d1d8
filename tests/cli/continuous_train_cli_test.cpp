// `logz train gaussian|grbm|experts|neural`: --help explains every method and option; a
// run writes a model file equal to the library's fit (api::train_continuous) with its
// extras, and the same bits for 1 and 2 threads; NCE reports its log Z; a checkpointed
// run resumed after it finished ends where it was; bad input gets its exit code and no
// file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "logz/api/continuous_train.hpp"
#include "logz/io/continuous_file.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/npz.hpp"
#include "logz/models/gaussian.hpp"
#include "support/cli_runner.hpp"

namespace logz {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;

class TrainContinuousCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string data;
  MatrixD x;

  void SetUp() override {
    MatrixD prec(3, 3);
    prec << 2.0, 0.6, -0.3, 0.6, 1.5, 0.4, -0.3, 0.4, 1.0;
    const Gaussian g(VectorD::Zero(3), prec);
    x.resize(400, 3);
    Stream s = Stream::derive(2, Purpose::sample, 0);
    VectorD y(3);
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      g.sample(s, y);
      x.row(r) = y.transpose();
    }
    data = tmp.file("data.npy");
    io::write_npy(data, io::Array::from_matrix<double>(x));
  }
  test::CliResult run(const std::string& args) { return test::run_cli(tmp, args); }
  static std::map<std::string, io::Array> arrays(const std::string& path) { return io::read_npz(path); }
};

TEST_F(TrainContinuousCli, HelpExplainsEveryMethodAndOption) {
  for (const char* model : {"gaussian", "grbm", "experts", "neural"}) {
    const auto r = run(std::string("train ") + model + " --help");
    ASSERT_EQ(r.code, 0) << model;
    for (const char* s : {"--data", "--out", "--method", "sm, ssm, dsm, nce or pcd", "Hyvarinen 2005", "Song et al.",
                          "Vincent 2011", "Gutmann & Hyvarinen", "Tieleman", "--optimizer", "--sigmas",
                          "--noise-ratio", "--checkpoint", "--resume", "Examples:", "Same bits for any --threads"})
      EXPECT_THAT(r.out, HasSubstr(s)) << model;
  }
  EXPECT_THAT(run("train --help").out, HasSubstr("experts"));
}

TEST_F(TrainContinuousCli, WritesTheLibrarysFitWithTheSameBitsForAnyThreads) {
  api::ContinuousTrainConfig c;
  c.model = "grbm";
  c.method = "nce";
  c.hidden = 4;
  c.noise_ratio = 2;
  c.max_iterations = 40;
  const auto fit = api::train_continuous(x, c, Exec(1));
  const std::string out1 = tmp.file("g1.npz"), out2 = tmp.file("g2.npz"), lib = tmp.file("lib.npz");
  const std::string args = "train grbm --data " + data + " --method nce --hidden 4 --noise-ratio 2 --max-iterations 40";
  auto r = run(args + " --out " + out1 + " --threads 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["model"], "grbm");
  EXPECT_EQ(j["method"], "nce");
  EXPECT_EQ(j["samples"], 400);
  EXPECT_EQ(j["dimension"], 3);
  EXPECT_EQ(j["nce_log_z"].get<double>(), *fit.nce_log_z);
  EXPECT_THAT(r.err, HasSubstr("NCE's estimate of log Z"));
  ASSERT_EQ(run(args + " --out " + out2 + " --threads 2 --quiet").code, 0);
  io::save_continuous(lib, fit.model);
  const auto a = arrays(out1), b = arrays(out2), l = arrays(lib);
  for (const char* name : {"weights", "visible_bias", "hidden_bias", "visible_sigma"}) {
    EXPECT_EQ(a.at(name).to_vector<double>(), l.at(name).to_vector<double>()) << name;
    EXPECT_EQ(a.at(name).to_vector<double>(), b.at(name).to_vector<double>()) << name;
  }
  EXPECT_EQ(a.at("nce_log_z").to_vector<double>(), std::vector<double>{*fit.nce_log_z});
  EXPECT_EQ(a.at("train_trace").to_vector<double>(), fit.trace);
}

TEST_F(TrainContinuousCli, ResumingAFinishedRunReproducesIt) {
  const std::string out = tmp.file("n.npz"), again = tmp.file("n2.npz"), ck = tmp.file("n.ckpt.npz");
  const std::string args = "train neural --data " + data + " --method pcd --hidden 3 --epochs 2 --batch 50 --chains 10 --quiet";
  ASSERT_EQ(run(args + " --out " + out + " --checkpoint " + ck).code, 0);
  ASSERT_TRUE(fs::exists(ck));
  ASSERT_EQ(run(args + " --out " + again + " --checkpoint " + ck + " --resume").code, 0);
  const auto a = arrays(out), b = arrays(again);
  for (const char* name : {"weights", "hidden_bias", "output_weights", "linear", "quadratic"})
    EXPECT_EQ(a.at(name).to_vector<double>(), b.at(name).to_vector<double>()) << name;
}

TEST_F(TrainContinuousCli, BadInputGetsItsExitCodeAndNoFile) {
  const std::string out = tmp.file("bad.npz");
  MatrixD flat = x;
  flat.col(2).setConstant(1.0);
  const std::string flat_path = tmp.file("flat.npy");
  io::write_npy(flat_path, io::Array::from_matrix<double>(flat));
  auto r = run("train experts --data " + flat_path + " --method sm --out " + out);
  EXPECT_EQ(r.code, 65);
  EXPECT_THAT(r.err, HasSubstr("logz: train experts: column 2 has zero variance (every sample is 1)"));
  r = run("train gaussian --data " + tmp.file("missing.npy") + " --out " + out);
  EXPECT_EQ(r.code, 66);
  r = run("train grbm --data " + data + " --method dsm --sigmas 0.1,x --out " + out);
  EXPECT_EQ(r.code, 64);
  EXPECT_THAT(r.err, HasSubstr("train grbm: --sigmas must be a comma-separated list of numbers > 0, got '0.1,x'"));
  r = run("train neural --data " + data + " --method pcd --resume --out " + out);
  EXPECT_EQ(r.code, 64);
  EXPECT_THAT(r.err, HasSubstr("train neural: --resume needs --checkpoint"));
  r = run("train gaussian --data " + data + " --out " + tmp.file("no/such/dir/m.npz"));
  EXPECT_EQ(r.code, 73);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace logz
