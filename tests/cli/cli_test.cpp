// Tests of the `logz` command-line tool: run the built binary (LOGZ_CLI_PATH), capture
// stdout, stderr and the exit status, and pin help texts, exit codes, error messages,
// JSON fields, byte-identical outputs (resume, thread count) and that nothing is left
// behind on failure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/npz.hpp"
#include "logz/io/rbm_file.hpp"
#include "support/cli_runner.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using nlohmann::json;

using Result = test::CliResult;
using test::slurp;

class Cli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string small, data12, data16;  // a 12x6 random model, 100x12 and 200x16 binary data

  void SetUp() override {
    small = tmp.file("small.npz");
    io::save_rbm(small, test::random_rbm(7, 12, 6, 0.5, 0.5));
    data12 = tmp.file("data12.npy");
    io::write_npy(data12, io::Array::from_matrix<std::uint8_t>(binary_rows(100, 12, 3)));
    data16 = tmp.file("data16.npy");
    io::write_npy(data16, io::Array::from_matrix<std::uint8_t>(binary_rows(200, 16, 4)));
  }

  /// Rows drawn around two prototypes (so there is something to learn), deterministic.
  static MatrixU8 binary_rows(std::size_t rows, std::size_t cols, std::uint64_t seed) {
    Stream rng = Stream::derive(seed, Purpose::user, 1);
    MatrixU8 x{Eigen::Index(rows), Eigen::Index(cols)};
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      const bool proto = rng.uniform_double() < 0.5;
      for (Eigen::Index c = 0; c < x.cols(); ++c) {
        const bool on = (c % 2 == 0) == proto;
        x(r, c) = std::uint8_t(rng.uniform_double() < (on ? 0.9 : 0.1));
      }
    }
    return x;
  }

  /// Runs `logz <args>`; stdout and stderr go through files in the temporary folder.
  Result run(const std::string& args) { return test::run_cli(tmp, args); }

  /// Runs and parses stdout as one JSON object; fails the test on a non-zero exit.
  json run_json(const std::string& args) {
    const Result r = run(args + " --json");
    EXPECT_EQ(r.code, 0) << args << "\nstderr: " << r.err;
    json j;
    EXPECT_NO_THROW(j = json::parse(r.out)) << r.out;
    EXPECT_TRUE(j.is_object()) << r.out;
    return j;
  }

  std::string train_cmd(const std::string& out, int epochs, const std::string& extra = "") {
    return "train rbm --data " + data16 + " --hidden 4 --epochs " + std::to_string(epochs) +
           " --batch 20 --lr 0.1 --seed 3 --quiet --out " + out + (extra.empty() ? "" : " " + extra);
  }
};

// ------------------------------------------------------------------ help and version

TEST_F(Cli, TopLevelHelpListsEverySubcommand) {
  const Result r = run("--help");
  EXPECT_EQ(r.code, 0);
  for (const char* s : {"train", "exact", "estimate", "eval", "sample", "info", "demo"}) EXPECT_THAT(r.out, HasSubstr(s));
  EXPECT_THAT(r.out, HasSubstr("Exit codes"));
}

TEST_F(Cli, Version) {
  const Result r = run("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "logz 0.1.0\n");
}

TEST_F(Cli, EverySubcommandHasHelpWithItsOptionsAndExamples) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"train rbm",
       {"--data", "--hidden", "--method", "--k", "--epochs", "--batch", "--chains", "--lr", "--lr-schedule", "--lr-final",
        "--momentum", "--weight-decay", "--init-scale", "--seed", "--monitor-ais", "--monitor-ais-chains",
        "--monitor-ais-betas", "--test-data", "--checkpoint", "--log", "--resume", "--out"}},
      {"exact", {"--model"}},
      {"estimate", {"--model", "--method", "--chains", "--betas", "--schedule", "--seed", "--data", "--log-weights"}},
      {"eval", {"--model", "--data", "--log-z", "--chains", "--betas", "--schedule", "--seed", "--base-data", "sandwich"}},
      {"sample", {"--model", "--chains", "--steps", "--seed", "--out"}},
      {"info", {"MODEL"}},
      {"demo", {"--epochs", "--hidden", "--chains", "--betas", "--out"}},
  };
  for (const auto& [cmd, options] : cases) {
    const Result r = run(cmd + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_THAT(r.out, HasSubstr("Examples:")) << cmd;
    for (const auto& o : options) EXPECT_THAT(r.out, HasSubstr(o)) << cmd;
    for (const char* o : {"--threads", "--json", "--quiet"}) EXPECT_THAT(r.out, HasSubstr(o)) << cmd;
  }
  EXPECT_EQ(run("train --help").code, 0);
}

// ------------------------------------------------------------------ parse errors → 64

TEST_F(Cli, ParseErrorsExit64WithCli11Message) {
  Result r = run("");
  EXPECT_EQ(r.code, 64);
  EXPECT_EQ(r.err, "logz: A subcommand is required\nRun with --help for more information.\n");
  r = run("frobnicate");
  EXPECT_EQ(r.code, 64);
  EXPECT_THAT(r.err, StartsWith("logz: "));
  r = run("exact");
  EXPECT_EQ(r.code, 64);
  EXPECT_EQ(r.err, "logz: --model is required\nRun with --help for more information.\n");
  r = run("train rbm --data " + data16);
  EXPECT_EQ(r.code, 64);
  EXPECT_EQ(r.err, "logz: --out is required\nRun with --help for more information.\n");
  r = run("estimate --model " + small + " --method bogus");
  EXPECT_EQ(r.code, 64);
  EXPECT_EQ(r.err, "logz: --method: bogus not in {exact,is,ais,raise,smc,bridge,ti,lis}\nRun with --help for more information.\n");
  r = run("estimate --model " + small + " --chains abc");
  EXPECT_EQ(r.code, 64);
  EXPECT_EQ(r.err, "logz: estimate: --chains must be an integer, got 'abc'\n");
  r = run("exact --model " + small + " --bogus");
  EXPECT_EQ(r.code, 64);
  EXPECT_THAT(r.err, HasSubstr("--bogus"));
}

// ------------------------------------------------------------------ bad option values → 64

TEST_F(Cli, BadTrainOptionValuesExit64BeforeAnyWork) {
  const std::string out = tmp.file("m.npz");
  const std::string base = "train rbm --data " + data16 + " --out " + out + " ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--hidden 0", "logz: train rbm: --hidden must be at least 1, got 0\n"},
      {"--hidden -3", "logz: train rbm: --hidden must be at least 1, got -3\n"},
      {"--batch 0", "logz: train rbm: --batch must be at least 1, got 0\n"},
      {"--epochs 0", "logz: train rbm: --epochs must be at least 1, got 0\n"},
      {"--k 0", "logz: train rbm: --k must be at least 1, got 0\n"},
      {"--chains -1", "logz: train rbm: --chains must be at least 0, got -1\n"},
      {"--lr -0.5", "logz: train rbm: --lr must be a positive number, got -0.5\n"},
      {"--lr 0", "logz: train rbm: --lr must be a positive number, got 0\n"},
      {"--lr nan", "logz: train rbm: --lr must be a positive number, got nan\n"},
      {"--lr-final -1", "logz: train rbm: --lr-final must be a non-negative number, got -1\n"},
      {"--momentum 1", "logz: train rbm: --momentum must be in [0, 1), got 1\n"},
      {"--weight-decay -0.1", "logz: train rbm: --weight-decay must be a non-negative number, got -0.1\n"},
      {"--init-scale 0", "logz: train rbm: --init-scale must be a positive number, got 0\n"},
      {"--seed -1", "logz: train rbm: --seed must be a non-negative integer, got -1\n"},
      {"--monitor-ais-chains 0", "logz: train rbm: --monitor-ais-chains must be at least 1, got 0\n"},
      {"--threads -2", "logz: train rbm: --threads must be at least 0 (0 = all cores), got -2\n"},
      {"--resume --checkpoint none", "logz: train rbm: --resume needs a checkpoint, but --checkpoint is none\n"},
  };
  for (const auto& [opt, message] : cases) {
    const Result r = run(base + opt);
    EXPECT_EQ(r.code, 64) << opt;
    EXPECT_EQ(r.err, message) << opt;
    EXPECT_EQ(r.out, "") << opt;
  }
  EXPECT_FALSE(fs::exists(out));
  const Result r = run(base + "--method sgd");
  EXPECT_EQ(r.code, 64);
  EXPECT_EQ(r.err, "logz: --method: sgd not in {cd,pcd,pt}\nRun with --help for more information.\n");
}

TEST_F(Cli, BadEstimateOptionValuesExit64) {
  const std::string m = " --model " + small;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"estimate --chains 0" + m, "logz: estimate: --chains must be at least 1, got 0\n"},
      {"estimate --betas 0" + m, "logz: estimate: --betas must be at least 1, got 0\n"},
      {"estimate --betas 2 --schedule sm" + m, "logz: estimate: --betas must be at least 3 with --schedule sm, got 2\n"},
      {"estimate --method raise" + m,
       "logz: estimate: --method raise needs --data (RAISE starts one reverse chain from each of --chains data rows)\n"},
      {"estimate --method raise --replicates 1 --chains 101 --data " + data12 + m,
       "logz: estimate: --chains 101 exceeds the 100 rows of --data " + data12 +
           " (RAISE starts each chain from a different row)\n"},
      {"estimate --method exact --log-weights " + tmp.file("w.npy") + m,
       "logz: estimate: --log-weights needs a random method (exact has no weights)\n"},
      {"eval --chains 0 --data " + data12 + m, "logz: eval: --chains must be at least 1, got 0\n"},
      {"eval --log-z raise --base-data " + data12 + " --data " + data12 + m,
       "logz: eval: --base-data is used by --log-z ais or sandwich only (RAISE starts from --data)\n"},
      {"sample --chains 0 --out " + tmp.file("s.npy") + m, "logz: sample: --chains must be at least 1, got 0\n"},
      {"sample --steps 0 --out " + tmp.file("s.npy") + m, "logz: sample: --steps must be at least 1, got 0\n"},
      {"exact --threads -1" + m, "logz: exact: --threads must be at least 0 (0 = all cores), got -1\n"},
      {"demo --hidden 0", "logz: demo: --hidden must be at least 1, got 0\n"},
      {"demo --epochs 0", "logz: demo: --epochs must be at least 1, got 0\n"},
  };
  for (const auto& [args, message] : cases) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 64) << args;
    EXPECT_EQ(r.err, message) << args;
  }
  EXPECT_FALSE(fs::exists(tmp.file("w.npy")));
  EXPECT_FALSE(fs::exists(tmp.file("s.npy")));
}

// ------------------------------------------------------------------ bad input files

TEST_F(Cli, MissingModelExits66) {
  const std::string missing = tmp.file("nope.npz");
  for (const std::string cmd : {"exact --model ", "estimate --model ", "info "}) {
    const Result r = run(cmd + missing);
    EXPECT_EQ(r.code, 66) << cmd;
    EXPECT_EQ(r.err, "logz: " + missing + ": cannot open: No such file or directory\n") << cmd;
  }
  const std::string out = tmp.file("s.npy");
  const Result r = run("sample --model " + missing + " --out " + out);
  EXPECT_EQ(r.code, 66);
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(Cli, MalformedModelExits65) {
  const std::string garbage = tmp.file("garbage.npz");
  std::ofstream(garbage) << "this is not a zip file\n";
  Result r = run("exact --model " + garbage);
  EXPECT_EQ(r.code, 65);
  EXPECT_THAT(r.err, StartsWith("logz: " + garbage + ": "));

  const std::string partial = tmp.file("partial.npz");
  io::write_npz(partial, {{"weights", io::Array::from_matrix<double>(MatrixD::Zero(3, 2))},
                          {"visible_bias", io::Array::from_vector<double>(VectorD::Zero(3))}});
  r = run("info " + partial);
  EXPECT_EQ(r.code, 65);
  EXPECT_EQ(r.err, "logz: " + partial +
                       ": not an RBM model file: array 'hidden_bias' is missing (expected weights, visible_bias, "
                       "hidden_bias)\n");

  const std::string nan = tmp.file("nan.npz");
  RbmD m(3, 2);
  m.weights(1, 1) = std::nan("");
  io::save_rbm(nan, m);
  r = run("estimate --model " + nan);
  EXPECT_EQ(r.code, 65);
  EXPECT_EQ(r.err, "logz: " + nan + ": weights has a non-finite value nan at flat index 3\n");
}

TEST_F(Cli, NonBinaryDataExits65AndLeavesNoOutput) {
  MatrixD x = MatrixD::Zero(10, 16);
  x(3, 5) = 2;
  const std::string bad = tmp.file("bad.npy");
  io::write_npy(bad, io::Array::from_matrix<double>(x));
  const std::string out = tmp.file("m.npz");
  const Result r = run("train rbm --data " + bad + " --hidden 4 --out " + out);
  EXPECT_EQ(r.code, 65);
  EXPECT_EQ(r.err, "logz: " + bad + ": entry at row 3, column 5 (0-based) is 2; binary data must be 0 or 1\n");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(tmp.file("m.ckpt.npz")));
  EXPECT_FALSE(fs::exists(tmp.file("m.log.jsonl")));
}

TEST_F(Cli, DataOfTheWrongWidthExits65) {
  const Result r = run("eval --model " + small + " --log-z exact --data " + data16);
  EXPECT_EQ(r.code, 65);
  EXPECT_EQ(r.err, "logz: eval: --data " + data16 + " has 16 columns but the model has 12 visible units\n");
}

TEST_F(Cli, UnknownDataSpecExits64) {
  const std::string out = tmp.file("m.npz");
  const Result r = run("train rbm --data mnist:train --hidden 4 --out " + out);
  EXPECT_EQ(r.code, 64);
  EXPECT_EQ(r.err,
            "logz: mnist:train: unknown data argument; expected a .npy file (a 2-D array of 0s and 1s), "
            "fashion-mnist:train or fashion-mnist:test\n");
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(Cli, MissingOutputDirectoryExits73BeforeTraining) {
  const std::string out = tmp.file("no/such/dir/m.npz");
  Result r = run("train rbm --data " + data16 + " --hidden 4 --out " + out);
  EXPECT_EQ(r.code, 73);
  EXPECT_EQ(r.err, "logz: train rbm: --out " + out + ": directory '" + tmp.file("no/such/dir") + "' does not exist\n");
  r = run("sample --model " + small + " --out " + out);
  EXPECT_EQ(r.code, 73);
  EXPECT_EQ(r.err, "logz: sample: --out " + out + ": directory '" + tmp.file("no/such/dir") + "' does not exist\n");
  r = run("estimate --model " + small + " --log-weights " + out);
  EXPECT_EQ(r.code, 73);
  r = run("train rbm --data " + data16 + " --hidden 4 --out " + tmp.file("m.npz") + " --log " + out);
  EXPECT_EQ(r.code, 73);
  EXPECT_EQ(r.err, "logz: train rbm: --log " + out + ": directory '" + tmp.file("no/such/dir") + "' does not exist\n");
  EXPECT_FALSE(fs::exists(tmp.file("m.npz")));
  EXPECT_FALSE(fs::exists(tmp.file("no")));
}

TEST_F(Cli, OversizedRequestsAreRefusedBeforeAnyWork) {
  // 2^62 hidden units is past any count (2^40); 10^9 is a count, but its weights need more
  // memory than any machine here has: exit 69 with the bytes asked, before allocating.
  const std::string out = tmp.file("m.npz");
  Result r = run("train rbm --quiet --data " + data16 + " --hidden 4611686018427387904 --epochs 1 --out " + out);
  EXPECT_EQ(r.code, 64);
  EXPECT_EQ(r.err, "logz: --hidden: must be at most 1099511627776 (2^40), got 4611686018427387904\n"
                   "Run with --help for more information.\n");
  const auto start = std::chrono::steady_clock::now();
  r = run("train rbm --quiet --data " + data16 + " --hidden 1000000000000 --epochs 1 --out " + out);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.code, 69);
  EXPECT_THAT(r.err, testing::StartsWith("logz: train: 16 visible x 1000000000000 hidden units: needs 384000000000000 "
                                         "bytes (357627.87 GiB) of memory but only "));
  EXPECT_LT(seconds, 1.0);
  EXPECT_FALSE(fs::exists(out));
}

// ------------------------------------------------------------------ end to end

TEST_F(Cli, ExactAndEstimatesAgree) {
  const json exact = run_json("exact --model " + small);
  ASSERT_TRUE(exact.contains("log_z"));
  const double log_z = exact["log_z"].get<double>();
  EXPECT_TRUE(std::isfinite(log_z));
  EXPECT_EQ(exact["enumerated_units"], 6);
  EXPECT_EQ(exact["enumerated_layer"], "hidden");
  EXPECT_TRUE(exact.contains("seconds"));

  const std::string weights = tmp.file("w.npy");
  const json ais = run_json("estimate --model " + small + " --method ais --replicates 1 --chains 20 --betas 200 --log-weights " + weights);
  for (const char* k : {"method", "log_z", "std_error", "error_method", "ess", "chains", "betas", "seconds", "log_z_base"})
    EXPECT_TRUE(ais.contains(k)) << k;
  EXPECT_EQ(ais["method"], "ais");
  EXPECT_EQ(ais["chains"], 20);
  EXPECT_EQ(ais["betas"], 200);
  EXPECT_NEAR(ais["log_z"].get<double>(), log_z, 5.0);  // loose sanity; statistical tests live elsewhere
  EXPECT_EQ(io::read_npy(weights).size(), 20u);

  const json raise = run_json("estimate --model " + small + " --method raise --chains 20 --betas 200 --data " + data12);
  EXPECT_EQ(raise["method"], "raise");
  EXPECT_NEAR(raise["log_z"].get<double>(), log_z, 5.0);

  const json ex = run_json("estimate --model " + small + " --method exact");
  EXPECT_DOUBLE_EQ(ex["log_z"].get<double>(), log_z);

  // Without --json the summary goes to stdout; --quiet silences it.
  Result r = run("exact --model " + small);
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("log Z = "));
  r = run("exact --quiet --model " + small);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST_F(Cli, TrainInfoEvalSample) {
  const std::string model = tmp.file("m.npz");
  const json t = run_json(train_cmd(model, 2));
  EXPECT_EQ(t["out"], model);
  EXPECT_EQ(t["epochs"], 2);
  EXPECT_EQ(t["resumed_from_epoch"], 0);
  EXPECT_TRUE(t["final"].is_object());
  EXPECT_EQ(t["final"]["epoch"], 2);
  EXPECT_TRUE(t.contains("seconds"));
  ASSERT_TRUE(fs::exists(model));
  EXPECT_TRUE(fs::exists(tmp.file("m.ckpt.npz")));
  const std::string log = slurp(tmp.file("m.log.jsonl"));
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 2);

  const io::RbmFile f = io::load_rbm(model);
  EXPECT_EQ(f.model.n_visible(), 16u);
  EXPECT_EQ(f.model.n_hidden(), 4u);
  ASSERT_TRUE(f.data_marginals.has_value());

  const json info = run_json("info " + model);
  EXPECT_EQ(info["n_visible"], 16);
  EXPECT_EQ(info["n_hidden"], 4);
  EXPECT_EQ(info["dtype"], "float32");
  EXPECT_EQ(info["data_marginals"], true);
  EXPECT_EQ(info["exact_log_z_feasible"], true);
  EXPECT_TRUE(info["ranges"]["weights"].contains("max"));
  const Result ih = run("info " + model);
  EXPECT_EQ(ih.code, 0);
  EXPECT_THAT(ih.out, HasSubstr("n_hidden"));

  const json ev = run_json("eval --model " + model + " --data " + data16 + " --log-z exact");
  for (const char* k : {"mean_log_likelihood", "std_error", "log_z", "log_z_std_error", "log_z_method",
                        "mean_free_energy", "rows"})
    EXPECT_TRUE(ev.contains(k)) << k;
  EXPECT_EQ(ev["rows"], 200);
  EXPECT_EQ(ev["log_z_method"], "exact");
  const double ll = ev["mean_log_likelihood"].get<double>();
  EXPECT_LT(ll, 0);
  EXPECT_GT(ll, -16 * std::log(2.0) - 1);  // a trained model beats the uniform one, give or take
  const json ex = run_json("exact --model " + model);
  EXPECT_DOUBLE_EQ(ev["log_z"].get<double>(), ex["log_z"].get<double>());
  EXPECT_NEAR(ev["mean_free_energy"].get<double>(), -ll - ex["log_z"].get<double>(), 1e-9);

  const json sw = run_json("eval --model " + model + " --data " + data16 + " --log-z sandwich --chains 10 --betas 100");
  ASSERT_TRUE(sw.contains("ais") && sw.contains("raise"));
  EXPECT_EQ(sw["ais"]["log_z_method"], "ais");
  EXPECT_EQ(sw["raise"]["log_z_method"], "raise");
  EXPECT_NEAR(sw["ais"]["mean_log_likelihood"].get<double>(), ll, 5.0);

  const std::string samples = tmp.file("s.npy");
  const json s = run_json("sample --model " + model + " --chains 7 --steps 10 --out " + samples);
  EXPECT_EQ(s["chains"], 7);
  const io::Array a = io::read_npy(samples);
  EXPECT_EQ(a.dtype, io::DType::u8);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{7, 16}));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_LE(a.at(i), 1.0);

  // Exact draws: the same file as the library's rbm_exact_samples for that seed.
  const json e = run_json("sample --model " + model + " --chains 9 --exact --seed 4 --out " + samples);
  EXPECT_EQ(e["exact"], true);
  EXPECT_TRUE(e["steps"].is_null());
  const MatrixU8 expected = rbm_exact_samples(io::load_rbm(model).model, 9, 4, Exec(1));
  EXPECT_EQ(io::read_npy(samples).to_matrix<std::uint8_t>("samples"), expected);
}

TEST_F(Cli, HumanOutputGoesToStderrWithJson) {
  const std::string model = tmp.file("m.npz");
  const Result r = run("train rbm --data " + data16 + " --hidden 4 --epochs 2 --batch 20 --json --out " + model);
  ASSERT_EQ(r.code, 0) << r.err;
  json j;
  EXPECT_NO_THROW(j = json::parse(r.out));
  EXPECT_EQ(j["out"], model);
  EXPECT_THAT(r.err, HasSubstr("wrote " + model));
}

TEST_F(Cli, ResumedTrainingEqualsUninterrupted) {
  const std::string a = tmp.file("a.npz"), b = tmp.file("b.npz");
  ASSERT_EQ(run(train_cmd(a, 4)).code, 0);
  ASSERT_EQ(run(train_cmd(b, 2)).code, 0);
  const json j = run_json(train_cmd(b, 4, "--resume"));
  EXPECT_EQ(j["resumed_from_epoch"], 2);
  EXPECT_EQ(j["final"]["epoch"], 4);
  EXPECT_EQ(slurp(a), slurp(b));
  EXPECT_FALSE(slurp(a).empty());
}

// A run killed with SIGKILL mid-training and rerun with --resume ends with the same
// model file as an uninterrupted run: checkpoints are atomic, and every random choice
// of an epoch is derived from (seed, epoch, ...).
TEST_F(Cli, KilledTrainingResumesToTheSameBits) {
  const std::string a = tmp.file("whole.npz"), b = tmp.file("killed.npz");
  const std::string ck = tmp.file("killed.ckpt.npz"), pid_file = tmp.file("pid");
  const int epochs = 120;
  ASSERT_EQ(run(train_cmd(a, epochs)).code, 0);

  const std::string cmd = std::string("'") + LOGZ_CLI_PATH + "' " + train_cmd(b, epochs) + " >/dev/null 2>&1 & echo $! >'" +
                          pid_file + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  // Kill it once its first checkpoint is there (the file appears whole, by rename).
  for (int i = 0; i < 400 && !fs::exists(ck); ++i) std::system("sleep 0.005");
  ASSERT_TRUE(fs::exists(ck)) << "no checkpoint appeared";
  ASSERT_EQ(std::system(("kill -9 $(cat '" + pid_file + "') 2>/dev/null; sleep 0.2").c_str()), 0);
  ASSERT_FALSE(fs::exists(b)) << "the killed run finished before the kill; raise `epochs`";

  const json j = run_json(train_cmd(b, epochs, "--resume"));
  EXPECT_GE(j["resumed_from_epoch"].get<int>(), 1);
  EXPECT_LT(j["resumed_from_epoch"].get<int>(), epochs);
  EXPECT_EQ(slurp(a), slurp(b));
}

TEST_F(Cli, TrainingIsTheSameForOneOrTwoThreads) {
  const std::string a = tmp.file("t1.npz"), b = tmp.file("t2.npz");
  ASSERT_EQ(run(train_cmd(a, 2, "--threads 1")).code, 0);
  ASSERT_EQ(run(train_cmd(b, 2, "--threads 2")).code, 0);
  EXPECT_EQ(slurp(a), slurp(b));
  const std::string s1 = tmp.file("s1.npy"), s2 = tmp.file("s2.npy");
  ASSERT_EQ(run("sample --quiet --model " + a + " --chains 9 --steps 20 --threads 1 --out " + s1).code, 0);
  ASSERT_EQ(run("sample --quiet --model " + a + " --chains 9 --steps 20 --threads 2 --out " + s2).code, 0);
  EXPECT_EQ(slurp(s1), slurp(s2));
}

}  // namespace
}  // namespace logz
