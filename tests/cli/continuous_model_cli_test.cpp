// `logz estimate`, `logz sample` and `logz eval` on continuous model files: exact log Z
// and AIS against the Gaussian closed form and the GRBM enumeration within z·SE, HMC
// draws written as float64 and checked against the exact mean, the test log-likelihood of
// a Gaussian on its own exact draws against −d/2 − log Z, the same files for 1 and 2
// threads, and pinned messages and exit codes for bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <Eigen/LU>

#include <cmath>
#include <string>

#include "logz/api/continuous_tasks.hpp"
#include "logz/core/rng.hpp"
#include "logz/exact/grbm_exact.hpp"
#include "logz/io/continuous_file.hpp"
#include "logz/io/npy.hpp"
#include "support/cli_runner.hpp"

namespace logz {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// |estimate − truth| <= 4.42 SE: two-sided false-failure rate 1e-5 per check under the
// normal approximation (each method's own standard error); a dozen checks in this file.
constexpr double kZ = 4.42;

Gaussian correlated_gaussian() {
  MatrixD cov(3, 3);
  cov << 1.0, 0.6, -0.3,  //
      0.6, 2.0, 0.2,      //
      -0.3, 0.2, 0.5;
  VectorD mean(3);
  mean << 0.5, -1.0, 2.0;
  return Gaussian(mean, cov.inverse());
}

GaussianRbm small_grbm() {
  GaussianRbm m(3, 5);
  Stream rng = Stream::derive(4, Purpose::user, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = 0.7 * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_bias.size(); ++i) m.visible_bias[i] = 0.5 * rng.normal();
  for (Eigen::Index j = 0; j < m.hidden_bias.size(); ++j) m.hidden_bias[j] = 0.5 * rng.normal();
  for (Eigen::Index i = 0; i < m.visible_sigma.size(); ++i) m.visible_sigma[i] = 0.5 + rng.uniform_double();
  return m;
}

class ContinuousCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  Gaussian gauss = correlated_gaussian();
  GaussianRbm grbm = small_grbm();
  std::string gaussian_file, grbm_file, neural_file, draws_file;

  void SetUp() override {
    gaussian_file = tmp.file("gaussian.npz");
    io::save_continuous(gaussian_file, gauss);
    grbm_file = tmp.file("grbm.npz");
    io::save_continuous(grbm_file, grbm);
    neural_file = tmp.file("neural.npz");
    io::save_continuous(neural_file, NeuralEnergy::random(3, 4, 2));
    // Exact draws of the Gaussian: the test data of eval.
    draws_file = tmp.file("draws.npy");
    write(draws_file, api::exact_continuous_samples(gauss, 4000, 17, Exec(1)));
  }
  static void write(const std::string& path, const MatrixD& x) { io::write_npy(path, io::Array::from_matrix<double>(x)); }
  test::CliResult run(const std::string& args) { return test::run_cli(tmp, args); }
  json run_json(const std::string& args) {
    const test::CliResult r = run(args + " --json --quiet");
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    return r.code == 0 ? json::parse(r.out) : json::object();
  }
  void expect_failure(const std::string& args, int code, const std::string& message) {
    const test::CliResult r = run(args);
    EXPECT_EQ(r.code, code) << args << "\n" << r.err;
    EXPECT_EQ(r.err, "logz: " + message + "\n") << args;
  }
};

TEST_F(ContinuousCli, EstimateExactAndAisOnAGaussianFile) {
  const json exact = run_json("estimate --model " + gaussian_file + " --method exact");
  EXPECT_EQ(double(exact["log_z"]), gauss.log_partition());
  EXPECT_EQ(exact["kind"], "gaussian");
  const json ais = run_json("estimate --model " + gaussian_file + " --method ais --chains 200 --betas 50 --schedule linear");
  EXPECT_EQ(ais["base"], "auto");
  EXPECT_GT(double(ais["std_error"]), 0);
  EXPECT_LE(std::abs(double(ais["log_z"]) - gauss.log_partition()), kZ * double(ais["std_error"]));
}

TEST_F(ContinuousCli, EstimateOnAGrbmFileAgreesWithEnumeration) {
  const double truth = grbm_exact_log_z(grbm);
  EXPECT_EQ(double(run_json("estimate --model " + grbm_file + " --method exact")["log_z"]), truth);
  for (const std::string args : {"--method ais --chains 200 --betas 100 --schedule linear --base standard",
                                 "--method smc --chains 200 --schedule adaptive --runs 10 --kernel mala --step-size 0.4"}) {
    const json j = run_json("estimate --model " + grbm_file + " " + args + " --seed 2");
    EXPECT_LE(std::abs(double(j["log_z"]) - truth), kZ * double(j["std_error"])) << args;
  }
}

TEST_F(ContinuousCli, SampleWritesFloat64DrawsThatAreTheSameForAnyThreadCount) {
  const std::string a = tmp.file("a.npy"), b = tmp.file("b.npy");
  const std::string args = "sample --model " + gaussian_file + " --chains 4 --warmup 300 --steps 2000 --seed 3";
  const json j = run_json(args + " --out " + a + " --threads 1");
  run_json(args + " --out " + b + " --threads 2");
  EXPECT_EQ(test::slurp(a), test::slurp(b));
  EXPECT_EQ(j["kind"], "gaussian");
  EXPECT_EQ(j["rows"], 8000);
  EXPECT_GT(double(j["ess_per_gradient"]), 0);
  const MatrixD x = io::read_npy(a).to_matrix<double>(a);
  ASSERT_EQ(x.rows(), 8000);
  ASSERT_EQ(x.cols(), 3);
  // Each coordinate's mean within z·sd/√ESS of the truth (the smallest ESS is conservative).
  const MatrixD cov = gauss.covariance();
  for (Eigen::Index k = 0; k < 3; ++k)
    EXPECT_LE(std::abs(x.col(k).mean() - gauss.mean()[k]), kZ * std::sqrt(cov(k, k) / double(j["min_ess"]))) << k;
  const json exact = run_json("sample --model " + grbm_file + " --chains 50 --exact --out " + a);
  EXPECT_EQ(exact["rows"], 50);
  expect_failure("sample --model " + neural_file + " --exact --out " + a, 64,
                 "sample: --exact needs a Gaussian, a GRBM with at most 20 hidden units or experts with the closed form "
                 "(as many filters as dimensions, no quadratic term); this neural model has none");
}

TEST_F(ContinuousCli, EvalOfAGaussianOnItsOwnDrawsMatchesTheClosedForm) {
  // E[log p(x)] = −d/2 − log Z under the model.
  const double truth = -1.5 - gauss.log_partition();
  const json exact = run_json("eval --model " + gaussian_file + " --data " + draws_file + " --log-z exact");
  EXPECT_EQ(double(exact["log_z"]), gauss.log_partition());
  EXPECT_EQ(double(exact["log_z_std_error"]), 0);
  EXPECT_LE(std::abs(double(exact["mean_log_likelihood"]) - truth), kZ * double(exact["std_error"]));
  const json ais = run_json("eval --model " + gaussian_file + " --data " + draws_file +
                            " --method ais --chains 100 --betas 30 --schedule linear --base-data " + draws_file);
  EXPECT_EQ(ais["base"], "data");
  EXPECT_EQ(ais["mean_energy"], exact["mean_energy"]);
  const double se = double(ais["std_error"]), e_se = double(ais["energy_std_error"]), z_se = double(ais["log_z_std_error"]);
  EXPECT_DOUBLE_EQ(se * se, e_se * e_se + z_se * z_se);
  EXPECT_LE(std::abs(double(ais["mean_log_likelihood"]) - truth), kZ * se);
  const test::CliResult text = run("eval --model " + gaussian_file + " --data " + draws_file + " --log-z exact");
  EXPECT_THAT(text.out, HasSubstr("mean log-likelihood = "));
}

TEST_F(ContinuousCli, BadInputIsRefusedWithItsExitCode) {
  const std::string narrow = tmp.file("narrow.npy"), nan = tmp.file("nan.npy");
  write(narrow, MatrixD::Zero(5, 2));
  MatrixD x = MatrixD::Zero(5, 3);
  x(3, 1) = std::nan("");
  write(nan, x);
  expect_failure("eval --model " + gaussian_file + " --data " + narrow + " --log-z exact", 65,
                 "eval: --data " + narrow + " has 2 columns but the model has dimension 3");
  expect_failure("eval --model " + gaussian_file + " --data " + nan + " --log-z exact", 65,
                 "eval: --data " + nan + ": entry at row 3, column 1 (0-based) is nan; data must be finite");
  expect_failure("estimate --model " + gaussian_file + " --base data:" + narrow, 65,
                 "estimate: --base " + narrow + " has 2 columns but the model has dimension 3");
  expect_failure("estimate --model " + gaussian_file + " --base wide", 64,
                 "estimate: --base must be auto, standard, fit or data:PATH, got 'wide'");
  expect_failure("estimate --model " + neural_file + " --method exact", 64,
                 "estimate: --method exact is not available: a neural energy has no closed form for log Z");
  expect_failure("estimate --model " + gaussian_file + " --method raise", 64,
                 "estimate: --method raise needs --data (RAISE starts one reverse chain from each of --chains data rows)");
  expect_failure("sample --model " + gaussian_file + " --kernel rwm --out " + tmp.file("s.npy"), 64,
                 "sample: --kernel must be hmc or mala, got 'rwm'");
  const std::string heavy = tmp.file("heavy.npz");
  io::save_continuous(heavy, StudentTExperts(MatrixD::Identity(2, 2), VectorD::Constant(2, 0.4)));
  const std::string why = "the model is not normalisable (alpha[0] = 0.4 <= 1/2: with as many filters as dimensions "
                          "and no quadratic term, each expert must have alpha > 1/2)";
  expect_failure("estimate --model " + heavy, 65, "estimate: " + why);
  expect_failure("sample --model " + heavy + " --out " + tmp.file("s.npy"), 65, "sample: " + why);
  expect_failure("eval --model " + heavy + " --data " + narrow, 65, "eval: " + why);
}

TEST_F(ContinuousCli, HelpExplainsTheContinuousOptions) {
  EXPECT_THAT(run("estimate --help").out, HasSubstr("Continuous model files"));
  EXPECT_THAT(run("sample --help").out, HasSubstr("dual averaging"));
  EXPECT_THAT(run("eval --help").out, HasSubstr("SE^2 = Var(E)/N + SE(log Z)^2"));
}

}  // namespace
}  // namespace logz
