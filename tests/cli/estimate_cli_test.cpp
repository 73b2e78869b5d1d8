// `logz estimate` over the whole estimator suite: every method on Ising, Potts and RBM
// files against the exact value, replicates, the per-beta CSV, thread invariance and
// pinned messages for bad options.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/rbm_file.hpp"
#include "support/cli_runner.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// |estimate − exact| <= 4.42 SE: two-sided false-failure rate 1e-5 per check under the
// normal approximation (each method's own standard error).
constexpr double kZ = 4.42;

class EstimateCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string ising, potts, rbm, spins;
  Ising ising_model = Ising::lattice_2d(3, 3, 0.35, 0.05, Boundary::periodic, Boundary::periodic);

  void SetUp() override {
    ising = tmp.file("ising.npz");
    io::save_ising(ising, ising_model);
    potts = tmp.file("potts.npz");
    Stream rng = Stream::derive(2, Purpose::user, 0);
    Potts p = Potts::dense(4, 3);
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t a = 0; a < 3; ++a) p.fields()(Eigen::Index(i), Eigen::Index(a)) = 0.5 * rng.normal();
    for (std::size_t e = 0; e < p.n_edges(); ++e) {
      std::vector<double> b(9);
      for (double& v : b) v = 0.5 * rng.normal();
      p.set_block(e, b);
    }
    io::save_potts(potts, p);
    rbm = tmp.file("rbm.npz");
    io::save_rbm(rbm, test::random_rbm(7, 10, 6, 0.5, 0.5));
  }
  test::CliResult run(const std::string& args) { return test::run_cli(tmp, args); }
  json run_json(const std::string& args) {
    const test::CliResult r = run(args + " --json --quiet");
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    return r.code == 0 ? json::parse(r.out) : json::object();
  }
  double exact(const std::string& model) { return double(run_json("estimate --method exact --model " + model)["log_z"]); }
};

const std::vector<std::pair<std::string, std::string>> kMethods = {
    {"is", "--chains 20000"},
    {"ais", "--chains 200 --betas 100 --schedule linear"},
    {"smc", "--chains 200 --betas 30 --schedule linear --runs 10"},
    {"smc", "--chains 200 --schedule adaptive --runs 10 --resampling residual"},
    {"bridge", "--chains 8 --betas 10 --schedule linear --samples 100"},
    {"ti", "--chains 8 --betas 40 --schedule linear --samples 100 --quadrature simpson"},
    {"lis", "--chains 200 --betas 20 --schedule linear --chain-length 5"},
};

TEST_F(EstimateCli, EveryMethodAgreesWithTheExactValueOnIsingPottsAndRbmFiles) {
  for (const std::string& model : {ising, potts, rbm}) {
    const double truth = exact(model);
    for (const auto& [method, args] : kMethods) {
      const json j = run_json("estimate --model " + model + " --method " + method + " " + args + " --seed 3");
      ASSERT_TRUE(j.contains("log_z")) << method;
      EXPECT_EQ(j["method"], method);
      const double se = double(j["std_error"]);
      EXPECT_GT(se, 0) << method << " " << model;
      EXPECT_LE(std::fabs(double(j["log_z"]) - truth), kZ * se) << method << " " << args << " on " << model << ": "
                                                                  << j["log_z"] << " ± " << se << " vs " << truth;
      EXPECT_FALSE(std::string(j["error_method"]).empty());
    }
  }
}

TEST_F(EstimateCli, RaiseFromExactSpinsSitsAboveAisAndTheTruth) {
  // Exact samples of the 3x3 model by inverse CDF over its 512 states.
  std::vector<double> cdf(512);
  double z = 0;
  auto spins_of = [](int s) {
    VectorD x(9);
    for (int i = 0; i < 9; ++i) x[i] = (s >> i) & 1 ? 1.0 : -1.0;
    return x;
  };
  for (int s = 0; s < 512; ++s) cdf[std::size_t(s)] = z += std::exp(-ising_model.energy(spins_of(s)));
  Stream rng = Stream::derive(5, Purpose::user, 0);
  MatrixD draws(300, 9);
  for (Eigen::Index r = 0; r < 300; ++r) {
    const auto k = std::lower_bound(cdf.begin(), cdf.end(), rng.uniform_double() * z) - cdf.begin();
    draws.row(r) = spins_of(int(std::min<long>(k, 511))).transpose();
  }
  const std::string data = tmp.file("draws.npy");
  io::write_npy(data, io::Array::from_matrix<double>(draws));
  const double truth = exact(ising);
  const json r = run_json("estimate --model " + ising + " --method raise --betas 50 --schedule linear --chains 300 --data " + data);
  // One-sided: RAISE from exact draws is >= the truth on average; false-failure rate 1e-5.
  EXPECT_GE(double(r["log_z"]), truth - kZ * double(r["std_error"]));
  EXPECT_LE(double(r["log_z"]), truth + 0.5);  // and not absurdly far above it
}

TEST_F(EstimateCli, ReplicatesPoolRunsThatEqualSingleRuns) {
  const std::string common = "estimate --model " + ising + " --method ais --betas 40 --schedule linear";
  const json all = run_json(common + " --chains 50 --replicates 3 --seed 8");
  ASSERT_EQ(all["replicates"], 3);
  ASSERT_EQ(all["runs"].size(), 3u);
  for (int k = 0; k < 3; ++k) {  // the 50 chains shared 17, 17, 16
    const json one = run_json(common + " --replicates 1 --chains " + std::to_string(k < 2 ? 17 : 16) + " --seed " +
                              std::to_string(8 + k));
    EXPECT_EQ(double(one["log_z"]), double(all["runs"][k]["log_z"]));
  }
  for (const char* key : {"between_sd", "within_se", "rhat", "q_statistic", "p_value"}) EXPECT_TRUE(all[key].is_number()) << key;
  EXPECT_TRUE(all["warning"].is_null());
}

TEST_F(EstimateCli, EveryEstimateCarriesAVerdictAndStrictExitsWith75) {
  // Four replicates by default; a well-budgeted AIS on the small lattice is reliable.
  const json good = run_json("estimate --model " + ising + " --method ais --chains 100 --betas 200 --schedule linear");
  EXPECT_EQ(good["replicates"], 4);
  EXPECT_EQ(good["reliable"], true);
  EXPECT_TRUE(good["warnings"].empty());
  const test::CliResult text = run("estimate --model " + ising + " --method ais --chains 100 --betas 200 --strict");
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("verdict: reliable"));
  // A sharp RBM (weights x 6) by simple importance sampling from the (nearly) uniform base
  // of its stored marginals with 40 draws: the weights rest on one or two draws.
  const std::string sharp = tmp.file("sharp.npz");
  io::save_rbm(sharp, test::random_rbm(7, 10, 6, 3.0, 1.0), VectorD(VectorD::Constant(10, 0.5)));
  const test::CliResult bad = run("estimate --model " + sharp + " --method is --chains 40 --strict");
  EXPECT_EQ(bad.code, 75) << bad.out << bad.err;
  EXPECT_THAT(bad.out, HasSubstr("NOT RELIABLE: low_ess"));
  EXPECT_THAT(bad.out, HasSubstr("Advice: rerun with"));
  const test::CliResult bad_json = run("estimate --model " + sharp + " --method is --chains 40 --json --quiet");
  EXPECT_EQ(bad_json.code, 0);  // without --strict the verdict is reported, not enforced
  const json j = json::parse(bad_json.out);
  EXPECT_EQ(j["reliable"], false);
  EXPECT_EQ(j["warnings"][0]["name"], "low_ess");
  EXPECT_TRUE(j["warnings"][0]["advice"].is_string());
  EXPECT_EQ(j["base"], "data_marginals");
  // The modes' exact mass bounds log Z from below with certainty, and 40 draws fall far short.
  const double exact = rbm_exact_log_z(test::random_rbm(7, 10, 6, 3.0, 1.0), Exec(1)).log_z;
  EXPECT_LE(j["mode_bound"]["log_lower_bound"].get<double>(), exact + 1e-9);
  EXPECT_GT(j["mode_bound"]["log_lower_bound"].get<double>(), exact - 0.05);  // sharp: the modes hold > 95% of Z
  bool below = false;
  for (const json& w : j["warnings"]) below = below || w["name"] == "below_bound";
  EXPECT_TRUE(below) << j["warnings"].dump();
  EXPECT_THAT(bad.out, HasSubstr("mode bound: log Z >= "));
  // Without stored marginals the base is fitted to the model's own samples.
  const std::string plain = tmp.file("plain.npz");
  io::save_rbm(plain, test::random_rbm(7, 10, 6, 0.5, 0.5));
  const json fitted = run_json("estimate --model " + plain + " --method ais --chains 40 --betas 100");
  EXPECT_EQ(fitted["base"], "modes");
  EXPECT_TRUE(fitted["reverse_check"]["log_z"].is_number());
}

TEST_F(EstimateCli, DiagnosticsCsvHasOneRowPerBeta) {
  const std::string csv = tmp.file("steps.csv");
  run_json("estimate --model " + ising + " --method smc --chains 100 --betas 20 --schedule linear --runs 2 --ess-threshold 1 --diagnostics " + csv);
  std::istringstream in(test::slurp(csv));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "beta,ess,acceptance,log_weight_variance,resampled,rhat,swap_rate,unique_ancestors");
  int rows = 0, resampled = 0;
  double last_beta = 0;
  while (std::getline(in, line)) {
    ++rows;
    std::vector<std::string> cells;
    std::istringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 8u) << line;
    last_beta = std::stod(cells[0]);
    resampled += cells[4] == "1";
  }
  EXPECT_EQ(rows, 20);
  EXPECT_EQ(last_beta, 1.0);
  EXPECT_EQ(resampled, 20);  // threshold 1: every step
}

TEST_F(EstimateCli, OneAndTwoThreadsGiveTheSameEstimate) {
  for (const auto& [method, args] : kMethods) {
    const std::string cmd = "estimate --model " + potts + " --method " + method + " " + args + " --seed 4 --threads ";
    EXPECT_EQ(double(run_json(cmd + "1")["log_z"]), double(run_json(cmd + "2")["log_z"])) << method;
  }
}

TEST_F(EstimateCli, BadOptionsExit64WithTheirMessage) {
  const std::string m = " --model " + ising;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"estimate --method smc --runs 0" + m, "logz: estimate: --runs must be at least 1, got 0\n"},
      {"estimate --method smc --resampling best" + m,
       "logz: --resampling: best not in {multinomial,systematic,stratified,residual}\nRun with --help for more "
       "information.\n"},
      {"estimate --method smc --ess-threshold 2" + m, "logz: estimate: --ess-threshold must be in [0, 1], got 2\n"},
      {"estimate --method smc --cess 1" + m, "logz: estimate: --cess must be in (0, 1), got 1\n"},
      {"estimate --method bridge --samples 3" + m, "logz: estimate: --samples must be at least 4, got 3\n"},
      {"estimate --method ti --quadrature gauss" + m,
       "logz: --quadrature: gauss not in {trapezoid,simpson}\nRun with --help for more information.\n"},
      {"estimate --method ais --schedule list:0,x,1" + m, "logz: estimate: --schedule list: 'x' is not a number\n"},
      {"estimate --method exact --replicates 2" + m, "logz: estimate: --replicates is for the random methods, not exact\n"},
      {"estimate --method raise" + m,
       "logz: estimate: --method raise needs --data (RAISE starts one reverse chain from each of --chains data rows)\n"},
  };
  for (const auto& [args, message] : cases) {
    const test::CliResult r = run(args);
    EXPECT_EQ(r.code, 64) << args;
    EXPECT_EQ(r.err, message) << args;
  }
}

}  // namespace
}  // namespace logz
