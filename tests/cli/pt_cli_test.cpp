// `logz train rbm --method pt` and `logz train ising --method pt` (PCD on parallel-
// tempering ladders, Desjardins et al. 2010): swap rates in the log and the JSON, the
// same model file for 1 or 2 threads and after --resume, the Ising fit recovering a known
// model, and the bad options' messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npy.hpp"
#include "support/cli_runner.hpp"

namespace logz {
namespace {

using nlohmann::json;

class PtCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string rbm_data, spins;
  // A 4-spin ±1 ring with a field: exact samples by inverse CDF over its 16 states.
  Ising truth = Ising(4, {{0, 1, 0.6}, {1, 2, -0.4}, {2, 3, 0.5}, {0, 3, 0.3}},
                      (VectorD(4) << 0.2, -0.1, 0.0, 0.3).finished());

  void SetUp() override {
    // Rows around two prototypes, so that the RBM has two modes to learn.
    Stream rng = Stream::derive(4, Purpose::user, 1);
    MatrixU8 x(200, 16);
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      const bool proto = rng.uniform_double() < 0.5;
      for (Eigen::Index c = 0; c < x.cols(); ++c) x(r, c) = std::uint8_t(rng.uniform_double() < ((c % 2 == 0) == proto ? 0.9 : 0.1));
    }
    rbm_data = tmp.file("data16.npy");
    io::write_npy(rbm_data, io::Array::from_matrix<std::uint8_t>(x));

    std::vector<double> cdf(16);
    double z = 0;
    auto spins_of = [](int s) {
      VectorD v(4);
      for (int i = 0; i < 4; ++i) v[i] = (s >> i) & 1 ? 1.0 : -1.0;
      return v;
    };
    for (int s = 0; s < 16; ++s) cdf[std::size_t(s)] = z += std::exp(-truth.energy(spins_of(s)));
    Stream draw = Stream::derive(3, Purpose::user, 0);
    MatrixD out(20000, 4);
    for (Eigen::Index r = 0; r < out.rows(); ++r) {
      const auto k = std::lower_bound(cdf.begin(), cdf.end(), draw.uniform_double() * z) - cdf.begin();
      out.row(r) = spins_of(int(std::min<long>(k, 15))).transpose();
    }
    spins = tmp.file("spins.npy");
    io::write_npy(spins, io::Array::from_matrix<double>(out));
  }
  test::CliResult run(const std::string& args) { return test::run_cli(tmp, args); }

  std::string train_rbm(const std::string& out, int epochs, const std::string& extra = "") {
    return "train rbm --data " + rbm_data + " --hidden 4 --method pt --replicas 4 --epochs " + std::to_string(epochs) +
           " --batch 20 --lr 0.1 --seed 3 --quiet --out " + out + (extra.empty() ? "" : " " + extra);
  }
};

TEST_F(PtCli, RbmLogsSwapRatesPerPairAndEveryEpoch) {
  const std::string out = tmp.file("pt.npz"), log = tmp.file("pt.log.jsonl");
  const auto r = run(train_rbm(out, 3, "--log " + log + " --json"));
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["config"]["method"], "pt");
  EXPECT_EQ(j["config"]["replicas"], 4);
  ASSERT_EQ(j["final"]["swap_rates"].size(), 3u);
  std::ifstream in(log);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const json e = json::parse(line);
    ASSERT_EQ(e["swap_rates"].size(), 3u) << line;
    for (const json& x : e["swap_rates"]) EXPECT_TRUE(x.get<double>() >= 0 && x.get<double>() <= 1) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 3);
  // PCD's config and log carry no replicas and no swap rates.
  const auto p = run("train rbm --data " + rbm_data + " --hidden 4 --epochs 1 --batch 20 --quiet --json --out " +
                     tmp.file("pcd.npz"));
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_FALSE(json::parse(p.out)["config"].contains("replicas"));
  EXPECT_FALSE(json::parse(p.out)["final"].contains("swap_rates"));
}

TEST_F(PtCli, RbmSameFileForAnyThreadCountAndAfterResume) {
  const std::string one = tmp.file("one.npz"), two = tmp.file("two.npz"), resumed = tmp.file("resumed.npz");
  ASSERT_EQ(run(train_rbm(one, 3, "--threads 1")).code, 0);
  ASSERT_EQ(run(train_rbm(two, 3, "--threads 2")).code, 0);
  EXPECT_EQ(test::slurp(one), test::slurp(two));
  ASSERT_EQ(run(train_rbm(resumed, 1, "--threads 2")).code, 0);
  const auto r = run(train_rbm(resumed, 3, "--threads 1 --resume"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(test::slurp(one), test::slurp(resumed));
  // A checkpoint of another ladder is refused.
  std::string five = train_rbm(resumed, 4, "--resume");
  five.replace(five.find("--replicas 4"), 12, "--replicas 5");
  const auto other = run(five);
  EXPECT_EQ(other.code, 64);
  EXPECT_THAT(other.err, ::testing::HasSubstr("was written with different settings"));
}

TEST_F(PtCli, BadOptionsExit64WithTheirMessage) {
  const std::string out = tmp.file("bad.npz");
  struct Case {
    std::string args, message;
  };
  for (const Case& c : {
           Case{"train rbm --data " + rbm_data + " --method pt --replicas 1",
                "logz: train rbm: --replicas must be at least 2, got 1\n"},
           Case{"train rbm --data " + rbm_data + " --method pcd --replicas 4",
                "logz: train rbm: --replicas is for --method pt (got --method pcd)\n"},
           Case{"train ising --data " + spins + " --method pt --replicas 0",
                "logz: train ising: --replicas must be at least 2, got 0\n"},
           Case{"train ising --data " + spins + " --method pcd --replicas 3",
                "logz: train ising: --replicas is for --method pt (got --method pcd)\n"},
       }) {
    const auto r = run(c.args + " --out " + out);
    EXPECT_EQ(r.code, 64) << c.args;
    EXPECT_EQ(r.err, c.message) << c.args;
  }
  EXPECT_FALSE(std::ifstream(out).good());
}

TEST_F(PtCli, IsingRecoversTheCouplingsAndReportsSwaps) {
  // As the PCD case of ising_cli_test: 20,000 samples give the MLE an SE of about 0.01
  // per coupling; the β = 1 replicas' moments are no noisier than PCD's chains, so 0.08
  // is > 5 SE. The missing pairs (0,2), (1,3) must come out near 0.
  const std::string out = tmp.file("pt.npz");
  const auto r = run("train ising --data " + spins + " --method pt --replicas 4 --chains 500 --updates 3000 --lr 0.05 "
                     "--average-last 1000 --seed 2 --json --quiet --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["method"], "pt");
  ASSERT_EQ(j["swap_rates"].size(), 3u);
  for (const json& x : j["swap_rates"]) EXPECT_GT(x.get<double>(), 0.3);  // 4 weakly coupled spins: swaps pass easily
  EXPECT_EQ(j["betas"].size(), 4u);
  const Ising fit = io::load_ising(out).model;
  const MatrixD jf = fit.couplings_matrix(), t = truth.couplings_matrix();
  for (int a = 0; a < 4; ++a)
    for (int b = a + 1; b < 4; ++b) EXPECT_NEAR(jf(a, b), t(a, b), 0.08) << "J" << a << b;

  const std::string m1 = tmp.file("a.npz"), m2 = tmp.file("b.npz");
  const std::string base = "train ising --data " + spins + " --method pt --updates 50 --quiet --out ";
  ASSERT_EQ(run(base + m1 + " --threads 1").code, 0);
  ASSERT_EQ(run(base + m2 + " --threads 2").code, 0);
  EXPECT_EQ(test::slurp(m1), test::slurp(m2));
}

}  // namespace
}  // namespace logz
