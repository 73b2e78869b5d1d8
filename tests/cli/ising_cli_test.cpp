// `logz train ising`: every method end to end on exact samples of a known model,
// thread invariance, and bad spin data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npy.hpp"
#include "support/cli_runner.hpp"

namespace logz {
namespace {

using ::testing::HasSubstr;

// Exact samples of a 4-spin ±1 Ising model (16 states, inverse CDF).
MatrixD exact_spins(const Ising& m, std::size_t n, std::uint64_t seed) {
  std::vector<double> cdf(16);
  double z = 0;
  auto spins_of = [](int s) {
    VectorD x(4);
    for (int i = 0; i < 4; ++i) x[i] = (s >> i) & 1 ? 1.0 : -1.0;
    return x;
  };
  for (int s = 0; s < 16; ++s) cdf[std::size_t(s)] = z += std::exp(-m.energy(spins_of(s)));
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  MatrixD out(Eigen::Index(n), 4);
  for (std::size_t r = 0; r < n; ++r) {
    const auto k = std::lower_bound(cdf.begin(), cdf.end(), rng.uniform_double() * z) - cdf.begin();
    out.row(Eigen::Index(r)) = spins_of(int(std::min<long>(k, 15))).transpose();
  }
  return out;
}

class IsingCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string data;
  Ising truth = Ising(4, {{0, 1, 0.6}, {1, 2, -0.4}, {2, 3, 0.5}, {0, 3, 0.3}},
                      (VectorD(4) << 0.2, -0.1, 0.0, 0.3).finished());

  void SetUp() override {
    data = tmp.file("spins.npy");
    io::write_npy(data, io::Array::from_matrix<double>(exact_spins(truth, 20000, 3)));
  }
  test::CliResult run(const std::string& args) { return test::run_cli(tmp, args); }
};

TEST_F(IsingCli, EveryMethodRecoversTheCouplings) {
  // 20,000 samples: the MLE's SE per coupling is about 0.01; pseudolikelihood and ratio
  // matching are a little less efficient, PCD adds its own noise. 0.08 is > 5 SE for
  // all of them; the missing pairs (0,2), (1,3) must come out near 0 too.
  for (const char* method : {"pl", "rm", "exact", "pcd"}) {
    const std::string out = tmp.file(std::string(method) + ".npz");
    std::string args = "train ising --data " + data + " --method " + method + " --out " + out + " --json --quiet";
    if (std::string(method) == "pcd") args += " --chains 500 --updates 3000 --lr 0.05 --average-last 1000 --seed 2";
    const auto r = run(args);
    ASSERT_EQ(r.code, 0) << method << ": " << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["method"], method);
    const Ising fit = io::load_ising(out).model;
    const MatrixD j = fit.couplings_matrix(), t = truth.couplings_matrix();
    for (int a = 0; a < 4; ++a)
      for (int b = a + 1; b < 4; ++b) EXPECT_NEAR(j(a, b), t(a, b), 0.08) << method << " J" << a << b;
  }
}

TEST_F(IsingCli, GraphRestrictsTheCouplings) {
  // The true model's graph is the ring 0-1-2-3-0: fitting on it gives exactly its 4 edges.
  const std::string out = tmp.file("ring.npz");
  const auto r = run("train ising --data " + data + " --method rm --graph ring --out " + out + " --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  const Ising fit = io::load_ising(out).model;
  EXPECT_EQ(fit.n_edges(), 4u);
  const MatrixD j = fit.couplings_matrix(), t = truth.couplings_matrix();
  for (const IsingEdge& e : truth.edges())
    EXPECT_NEAR(j(Eigen::Index(e.i), Eigen::Index(e.j)), t(Eigen::Index(e.i), Eigen::Index(e.j)), 0.08);
  struct Case {
    std::string args, message;
  };
  for (const Case& c : {Case{"--method pl --graph ring", "--method pl fits every pair of spins"},
                        Case{"--method rm --graph hexagon", "--graph must be complete, chain, ring, lattice:RxC"},
                        Case{"--method rm --graph lattice:3x3", "--graph lattice:3x3 has 9 sites but the data has 4"}}) {
    const auto bad = run("train ising --data " + data + " " + c.args + " --out " + tmp.file("bad.npz"));
    EXPECT_EQ(bad.code, 64) << c.args;
    EXPECT_THAT(bad.err, HasSubstr(c.message)) << c.args;
  }
}

TEST_F(IsingCli, SameModelFileForOneOrTwoThreads) {
  for (const char* method : {"pl", "pcd"}) {
    const std::string m1 = tmp.file("a.npz"), m2 = tmp.file("b.npz");
    const std::string base = "train ising --data " + data + " --method " + method + " --updates 50 --quiet --out ";
    ASSERT_EQ(run(base + m1 + " --threads 1").code, 0);
    ASSERT_EQ(run(base + m2 + " --threads 2").code, 0);
    EXPECT_EQ(test::slurp(m1), test::slurp(m2)) << method;
  }
}

TEST_F(IsingCli, PcdAndPtResumedFromTheirCheckpointsWriteTheUninterruptedModel) {
  for (const char* method : {"pcd", "pt --replicas 3"}) {
    const std::string whole = tmp.file("whole.npz"), part = tmp.file("part.npz"), ck = tmp.file("run.ckpt.npz");
    std::filesystem::remove(ck);
    const std::string args = "train ising --data " + data + " --method " + method + " --chains 30 --seed 6 --quiet";
    ASSERT_EQ(run(args + " --updates 40 --out " + whole).code, 0);
    ASSERT_EQ(run(args + " --updates 17 --checkpoint " + ck + " --checkpoint-every 5 --out " + part).code, 0);
    const auto r = run(args + " --updates 40 --checkpoint " + ck + " --resume --out " + part);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(test::slurp(part), test::slurp(whole)) << method;
  }
  const auto rm = run("train ising --data " + data + " --method rm --checkpoint " + tmp.file("c.npz") + " --out " +
                      tmp.file("m.npz"));
  EXPECT_EQ(rm.code, 64);
  const auto resume = run("train ising --data " + data + " --method pcd --resume --out " + tmp.file("m.npz"));
  EXPECT_EQ(resume.code, 64);
  EXPECT_NE(resume.err.find("--resume needs --checkpoint"), std::string::npos) << resume.err;
}

TEST_F(IsingCli, ExactEstimateAndSampleWorkOnTheFittedModel) {
  const std::string model = tmp.file("m.npz"), samples = tmp.file("s.npy");
  ASSERT_EQ(run("train ising --data " + data + " --out " + model + " --quiet").code, 0);
  const auto exact = nlohmann::json::parse(run("exact --model " + model + " --json --quiet").out);
  EXPECT_EQ(exact["kind"], "ising");
  const auto info = nlohmann::json::parse(run("info " + model + " --json --quiet").out);
  EXPECT_EQ(info["type"], "ising");
  EXPECT_EQ(info["sites"], 4);
  EXPECT_EQ(info["edges"], 6);
  EXPECT_EQ(info["exact_log_z_feasible"], true);
  const auto ais = nlohmann::json::parse(
      run("estimate --model " + model + " --method ais --chains 200 --betas 500 --schedule linear --json --quiet").out);
  // |AIS - exact| <= 4.42 SE: false-failure rate 1e-5 (normal approximation of log Z-hat).
  EXPECT_NEAR(double(ais["log_z"]), double(exact["log_z"]), 4.42 * double(ais["std_error"]));
  EXPECT_LT(double(ais["std_error"]), 0.05);
  const auto r = run("sample --model " + model + " --chains 7 --steps 20 --out " + samples + " --json --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  const io::Array a = io::read_npy(samples);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{7, 4}));
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_TRUE(a.at(k) == -1 || a.at(k) == 1);
  // RAISE from the training spins, and IS, through the same interface; 2 replicates pooled.
  const auto raise = nlohmann::json::parse(
      run("estimate --model " + model + " --method raise --betas 200 --schedule linear --replicates 2 --json --quiet --data " +
          data).out);
  EXPECT_EQ(raise["method"], "raise");
  EXPECT_EQ(raise["replicates"], 2);
  EXPECT_TRUE(std::isfinite(double(raise["log_z"])));
  const auto is = nlohmann::json::parse(run("estimate --model " + model + " --method is --chains 4000 --json --quiet").out);
  // 16 states: IS from the uniform base is accurate; 4.42 SE as above.
  EXPECT_NEAR(double(is["log_z"]), double(exact["log_z"]), 4.42 * double(is["std_error"]));
}

TEST_F(IsingCli, BadSpinsExit65AndWriteNothing) {
  const std::string bad = tmp.file("bad.npy"), out = tmp.file("m.npz");
  MatrixD x = MatrixD::Ones(3, 4);
  x(1, 2) = 0.5;
  io::write_npy(bad, io::Array::from_matrix<double>(x));
  auto r = run("train ising --data " + bad + " --out " + out);
  EXPECT_EQ(r.code, 65);
  EXPECT_THAT(r.err, HasSubstr("entry 6 is 0.5, not a spin (-1/1 or 0/1)"));
  x(1, 2) = 0, x(2, 0) = -1;
  io::write_npy(bad, io::Array::from_matrix<double>(x));
  r = run("train ising --data " + bad + " --out " + out);
  EXPECT_EQ(r.code, 65);
  EXPECT_THAT(r.err, HasSubstr("the data mixes -1 and 0"));
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_EQ(run("train ising --data " + data + " --method nope --out " + out).code, 64);
  EXPECT_EQ(run("train ising --data " + data + " --momentum 1 --out " + out).code, 64);
}

}  // namespace
}  // namespace logz
