// `logz estimate --kernel sw|sw-gibbs` on Ising and Potts files (Swendsen–Wang moves on the
// path), and smc's --moves adaptive and --waste-free: against the exact value (junction tree)
// of an 8×8 periodic Ising lattice at K_c and a Potts file, the same bits for 1 and 2
// threads, the kernel in --json, and pinned messages for what the kernel cannot move.
// |estimate − exact| <= 4.42 SE for AIS (two-sided false-failure rate 1e-5, normal
// approximation); SMC's SE comes from --runs 10 runs, so its check uses t_9 at the same
// rate (6.8).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "logz/exact/ising_exact.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/rbm_file.hpp"
#include "support/cli_runner.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using nlohmann::json;

class EstimateKernelCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string ising, anti, potts, rbm;

  void SetUp() override {
    ising = tmp.file("ising.npz");
    io::save_ising(ising, Ising::lattice_2d(8, 8, ising_critical_coupling(), 0.0, Boundary::periodic, Boundary::periodic));
    anti = tmp.file("anti.npz");
    io::save_ising(anti, Ising::lattice_2d(3, 3, -0.3, 0.0));
    potts = tmp.file("potts.npz");
    Potts p = Potts::dense(4, 3);  // ferromagnetic blocks 0.6 δ with fields
    for (std::size_t e = 0; e < p.n_edges(); ++e) {
      std::vector<double> b(9, 0.0);
      for (std::size_t a = 0; a < 3; ++a) b[a * 3 + a] = 0.6;
      p.set_block(e, b);
    }
    for (Eigen::Index i = 0; i < p.fields().size(); ++i) p.fields().data()[i] = 0.1 * double(i % 5) - 0.2;
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
};

TEST_F(EstimateKernelCli, SwendsenWangAgreesWithTheExactValue) {
  const double exact = ising_kaufman_log_z(8, 8, ising_critical_coupling());
  EXPECT_NEAR(double(run_json("estimate --method exact --model " + ising)["log_z"]), exact, 1e-9);
  const json a = run_json("estimate --model " + ising + " --method ais --kernel sw --chains 100 --betas 200 --schedule linear --replicates 1");
  EXPECT_EQ(a["kernel"], "sw");
  EXPECT_LT(double(a["std_error"]), 0.1);
  EXPECT_LE(std::abs(double(a["log_z"]) - exact), 4.42 * double(a["std_error"]));
  for (const std::string extra : {"", " --waste-free 10", " --moves adaptive"}) {
    const json s = run_json("estimate --model " + ising + " --method smc --kernel sw --chains 200 --runs 10 --betas 200" + extra);
    EXPECT_LT(double(s["std_error"]), 0.1) << extra;
    EXPECT_LE(std::abs(double(s["log_z"]) - exact), 6.8 * double(s["std_error"])) << extra;
  }
  const double potts_exact = double(run_json("estimate --method exact --model " + potts)["log_z"]);
  const json p = run_json("estimate --model " + potts + " --method ais --kernel sw-gibbs --chains 200 --betas 100");
  EXPECT_EQ(p["kernel"], "sw-gibbs");
  EXPECT_LE(std::abs(double(p["log_z"]) - potts_exact), 4.42 * double(p["std_error"]));
  EXPECT_EQ(run_json("estimate --model " + potts + " --method ais --chains 20 --betas 10")["kernel"], "gibbs");
}

TEST_F(EstimateKernelCli, OneAndTwoThreadsGiveTheSameEstimate) {
  const std::string cmd = "estimate --model " + ising + " --method smc --kernel sw --chains 600 --runs 2 --betas 20 --waste-free 4 --threads ";
  EXPECT_EQ(double(run_json(cmd + "1")["log_z"]), double(run_json(cmd + "2")["log_z"]));
}

TEST_F(EstimateKernelCli, KernelsAModelCannotTakeExit64WithTheirMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"estimate --method ais --kernel sw --model " + anti,
       "logz: estimate: --kernel sw cannot move this model: PottsSwendsenWang: coupling 0 (sites 0, 1) is -0.3; "
       "Swendsen-Wang needs couplings >= 0\n"},
      {"estimate --method ais --kernel hmc --model " + ising,
       "logz: estimate: --kernel must be gibbs, sw or sw-gibbs for an Ising or Potts model, got 'hmc'\n"},
      {"estimate --method ais --kernel sw --model " + rbm,
       "logz: estimate: --kernel sw is not available for an RBM: its path moves by block Gibbs (gibbs)\n"},
      {"estimate --method lis --kernel sw-gibbs --model " + ising,
       "logz: estimate: --kernel sw-gibbs is not reversible, which --method lis needs; use --kernel sw\n"},
      {"estimate --method smc --waste-free 3 --chains 100 --model " + ising,
       "logz: smc: --waste-free = 3 must divide --chains = 100 (--chains / --waste-free chains of --waste-free "
       "states each)\n"},
      {"estimate --method smc --waste-free 1 --model " + ising,
       "logz: smc: --waste-free must be 0 (off) or a chain length >= 2, got 1\n"},
  };
  for (const auto& [args, message] : cases) {
    const test::CliResult r = run(args);
    EXPECT_EQ(r.code, 64) << args;
    EXPECT_EQ(r.err, message) << args;
  }
}

}  // namespace
}  // namespace logz
