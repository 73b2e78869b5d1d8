// Every subcommand on every model kind it takes, on files written by NumPy without the
// logz_kind marker (as a PyTorch or SciPy user saves them), in C and in Fortran memory
// order: `info`, `exact`, `estimate --method exact`, a short `estimate --method ais`,
// `sample`, and `eval` on the samples. The two memory orders must give the same numbers;
// the GRBM's log Z must be one and the same through exact, estimate, info and eval, and
// equal to an enumeration done here in NumPy; a Potts model's `eval --log-z exact` must
// equal the exact held-out log-likelihood computed here, and its AIS / RAISE sandwich
// must hold on exact draws.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include "support/cli_runner.hpp"
#include "support/python.hpp"
#include "support/temp_dir.hpp"

namespace logz {
namespace {

using test::run_cli;

/// The seven kinds, each written twice (kind_c.npz, kind_f.npz) with no marker, plus
/// truth.json with the GRBM's and the Potts model's exact numbers computed by NumPy and
/// potts_data.npy: exact draws from the Potts model.
const char* kScript = R"PY(
import sys, json, itertools
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
def save(name, **arrays):
    np.savez(f"{d}/{name}_c.npz", **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    np.savez(f"{d}/{name}_f.npz", **{k: np.asfortranarray(v) for k, v in arrays.items()})

# binary RBM, weights [visible, hidden]; the Fortran file holds them as PyTorch's W[hidden, visible].T would
W = rng.normal(0, 0.5, (6, 3))
save("rbm", weights=W, visible_bias=rng.normal(0, 0.3, 6), hidden_bias=rng.normal(0, 0.3, 3))

# Gaussian-Bernoulli RBM
Wg = rng.normal(0, 0.4, (4, 3)); bg = rng.normal(0, 0.5, 4); cg = rng.normal(0, 0.5, 3); sg = np.array([0.8, 1.0, 1.3, 0.9])
save("grbm", weights=Wg, visible_bias=bg, hidden_bias=cg, visible_sigma=sg)
# log Z = log sum_h exp(c.h + sum_i ((b_i + (W h)_i)^2 - b_i^2) / (2 s_i^2)) + sum_i log sqrt(2 pi s_i^2)
terms = []
for h in itertools.product([0, 1], repeat=3):
    h = np.array(h, float); m = bg + Wg @ h
    terms.append(cg @ h + np.sum((m**2 - bg**2) / (2 * sg**2)))
terms = np.array(terms)
grbm_log_z = terms.max() + np.log(np.exp(terms - terms.max()).sum()) + np.sum(0.5 * np.log(2 * np.pi * sg**2))

# Ising, +-1 spins
J = np.triu(rng.normal(0, 0.4, (5, 5)), 1); J = J + J.T
save("ising", fields=rng.normal(0, 0.3, 5), couplings=J)

# Potts, L = 4 sites, q = 3 states
L, q = 4, 3
h = rng.normal(0, 0.5, (L, q))
C = np.zeros((L, L, q, q))
for i in range(L):
    for j in range(i + 1, L):
        B = rng.normal(0, 0.5, (q, q)); C[i, j] = B; C[j, i] = B.T
save("potts", fields=h, couplings=C)
states = np.array(list(itertools.product(range(q), repeat=L)))
def energy(x):
    e = -sum(h[i, x[i]] for i in range(L))
    e -= sum(C[i, j, x[i], x[j]] for i in range(L) for j in range(i + 1, L))
    return e
E = np.array([energy(x) for x in states])
potts_log_z = np.log(np.exp(-E - (-E).max()).sum()) + (-E).max()
p = np.exp(-E - potts_log_z)
draws = states[rng.choice(len(states), size=400, p=p / p.sum())]
np.save(f"{d}/potts_data.npy", draws.astype(np.uint8))
potts_ll = float(np.mean([-energy(x) for x in draws]) - potts_log_z)

# Gaussian
A = rng.normal(0, 1, (3, 3)); P = A @ A.T + 3 * np.eye(3)
save("gaussian", mean=rng.normal(0, 1, 3), precision=P)
# complete Student-t experts (closed form)
save("experts", filters=np.array([[1.0, 0.3], [-0.2, 0.9]]), alpha=np.array([1.5, 2.0]), quadratic=np.array(0.0))
# neural energy
save("neural", weights=rng.normal(0, 0.5, (3, 2)), hidden_bias=rng.normal(0, 0.5, 3), output_weights=rng.normal(0, 0.5, 3),
     linear=rng.normal(0, 0.2, 2), quadratic=np.array(0.7))
json.dump({"grbm_log_z": float(grbm_log_z), "potts_log_z": float(potts_log_z), "potts_ll": potts_ll},
          open(f"{d}/truth.json", "w"))
)PY";

class ModelKindsCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::have_numpy()) return;
    dir_ = new test::TempDir();
    ASSERT_EQ(test::run_python(*dir_, kScript), 0);
    std::ifstream in(dir_->file("truth.json"));
    truth_ = nlohmann::json::parse(in);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!test::have_numpy()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy";
  }
  static nlohmann::json json_of(const std::string& args) {
    const test::CliResult r = run_cli(*dir_, args + " --json --quiet");
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    if (r.code != 0) return nlohmann::json::object();
    return nlohmann::json::parse(r.out);
  }
  static std::string file(const std::string& kind, char order) {
    return dir_->file(kind + "_" + order + ".npz");
  }
  static inline test::TempDir* dir_ = nullptr;
  static inline nlohmann::json truth_;
};

TEST_F(ModelKindsCli, EverySubcommandOnEveryKindInBothMemoryOrders) {
  for (const std::string kind : {"rbm", "grbm", "ising", "potts", "gaussian", "experts", "neural"}) {
    SCOPED_TRACE(kind);
    std::map<char, nlohmann::json> info, exact, ais, eval;
    // Continuous chains keep every draw after warm-up (16 chains x 20 steps); the others their final states.
    const bool continuous = kind == "grbm" || kind == "gaussian" || kind == "experts" || kind == "neural";
    const int rows = continuous ? 16 * 20 : 16;
    for (char order : {'c', 'f'}) {
      const std::string model = file(kind, order);
      info[order] = json_of("info " + model);
      EXPECT_EQ(info[order]["type"], kind);
      if (kind != "neural") {
        exact[order] = json_of("exact --model " + model);
        EXPECT_EQ(exact[order]["kind"], kind);
        const nlohmann::json e = json_of("estimate --model " + model + " --method exact");
        EXPECT_EQ(e["log_z"], exact[order]["log_z"]);
      } else {
        const test::CliResult r = run_cli(*dir_, "exact --model " + model);
        EXPECT_EQ(r.code, 64) << r.err;
        EXPECT_NE(r.err.find("no exact log Z"), std::string::npos) << r.err;
      }
      ais[order] = json_of("estimate --model " + model + " --method ais --chains 20 --betas 30 --seed 3 --threads 1");
      EXPECT_TRUE(std::isfinite(ais[order]["log_z"].get<double>()));
      // The same bits for any thread count.
      EXPECT_EQ(json_of("estimate --model " + model + " --method ais --chains 20 --betas 30 --seed 3 --threads 2")["log_z"],
                ais[order]["log_z"]);
      const std::string samples = dir_->file(kind + "_" + order + "_samples.npy");
      const nlohmann::json s = json_of("sample --model " + model + " --chains 16 --steps 20 --warmup 20 --out " + samples);
      EXPECT_EQ(s["rows"], rows);
      eval[order] = json_of("eval --model " + model + " --data " + samples + " --log-z " +
                            (kind == "neural" ? "ais --chains 20 --betas 30" : "exact"));
      EXPECT_EQ(eval[order]["rows"], rows);
      EXPECT_EQ(eval[order]["per_row_log_likelihood"].size(), std::size_t(rows));
    }
    // The memory order of the file changes nothing.
    EXPECT_EQ(info['c']["ranges"], info['f']["ranges"]);
    if (kind != "neural") EXPECT_EQ(exact['c']["log_z"], exact['f']["log_z"]);
    EXPECT_EQ(ais['c']["log_z"], ais['f']["log_z"]);
    EXPECT_EQ(eval['c']["mean_log_likelihood"], eval['f']["mean_log_likelihood"]);
  }
}

TEST_F(ModelKindsCli, GrbmLogZIsOneNumberEverywhere) {
  const std::string model = file("grbm", 'c');
  const double truth = truth_["grbm_log_z"];
  const double exact = json_of("exact --model " + model)["log_z"];
  const double estimate = json_of("estimate --model " + model + " --method exact")["log_z"];
  const double info = json_of("info " + model)["log_z"];
  const std::string samples = dir_->file("grbm_eval_samples.npy");
  json_of("sample --model " + model + " --exact --chains 10 --out " + samples);
  const double eval = json_of("eval --model " + model + " --data " + samples + " --log-z exact")["log_z"];
  // Enumeration of 2^3 hidden states in double: agreement to rounding.
  EXPECT_NEAR(exact, truth, 1e-10 * std::abs(truth));
  EXPECT_EQ(estimate, exact);
  EXPECT_EQ(info, exact);
  EXPECT_EQ(eval, exact);
}

TEST_F(ModelKindsCli, PottsHeldOutLikelihoodIsExactAndItsSandwichHolds) {
  const std::string model = file("potts", 'c'), data = dir_->file("potts_data.npy");
  const nlohmann::json e = json_of("eval --model " + model + " --data " + data + " --log-z exact");
  EXPECT_NEAR(e["log_z"].get<double>(), truth_["potts_log_z"].get<double>(), 1e-10);
  EXPECT_NEAR(e["mean_log_likelihood"].get<double>(), truth_["potts_ll"].get<double>(), 1e-10);
  EXPECT_EQ(e["per_site_log_likelihood"].size(), 4u);
  for (double v : e["per_site_log_likelihood"]) EXPECT_LT(v, 0.0);
  // AIS is low in log Z on average (so its log-likelihood high), RAISE from exact draws
  // high: each side may cross the truth by at most z = 4.42 of its own standard error
  // (one-sided normal tail 5e-6 each).
  const nlohmann::json s =
      json_of("eval --model " + model + " --data " + data + " --log-z sandwich --chains 200 --betas 200 --seed 5");
  const double truth = truth_["potts_log_z"];
  const double ais = s["ais"]["log_z"], ais_se = s["ais"]["log_z_std_error"];
  const double raise = s["raise"]["log_z"], raise_se = s["raise"]["log_z_std_error"];
  EXPECT_LE(ais, truth + 4.42 * ais_se);
  EXPECT_GE(raise, truth - 4.42 * raise_se);
  EXPECT_GT(ais_se, 0.0);
  EXPECT_GT(raise_se, 0.0);
}

TEST_F(ModelKindsCli, AmbiguousArraysNameTheCandidates) {
  const test::CliResult r = run_cli(*dir_, "info " + file("potts", 'c') + " --quiet");
  EXPECT_EQ(r.code, 0);
  // A file with a GRBM's and an Ising model's arrays at once cannot be told apart.
  ASSERT_EQ(test::run_python(*dir_, R"PY(
import sys, numpy as np
d = sys.argv[1]
np.savez(f"{d}/both.npz", weights=np.zeros((2, 2)), visible_bias=np.zeros(2), hidden_bias=np.zeros(2),
         visible_sigma=np.ones(2), fields=np.zeros(2), couplings=np.zeros((2, 2)))
)PY"), 0);
  const test::CliResult both = run_cli(*dir_, "exact --model " + dir_->file("both.npz"));
  EXPECT_EQ(both.code, 65);
  EXPECT_NE(both.err.find("grbm"), std::string::npos) << both.err;
  EXPECT_NE(both.err.find("ising"), std::string::npos) << both.err;
  EXPECT_NE(both.err.find("logz_kind"), std::string::npos) << both.err;
}

}  // namespace
}  // namespace logz
