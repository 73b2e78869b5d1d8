// `logz train potts`: a fit from an alignment file end to end (model file, contact
// table, JSON), thread invariance of the file, and bad alignments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "logz/core/rng.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npy.hpp"
#include "support/cli_runner.hpp"

namespace logz {
namespace {

using ::testing::HasSubstr;

class PottsCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string aln;

  void SetUp() override {
    // 300 sequences of 6 columns over "-ACD": columns 0 and 3 co-vary, the rest are noise.
    aln = tmp.file("aln.fasta");
    std::ofstream f(aln);
    Stream rng = Stream::derive(5, Purpose::user, 0);
    const char* letters = "-ACD";
    for (int s = 0; s < 300; ++s) {
      std::string row(6, '-');
      for (char& c : row) c = letters[rng.below(4)];
      if (rng.uniform_double() < 0.8) row[3] = row[0];
      f << ">seq" << s << "\n" << row << "\n";
    }
  }
  test::CliResult run(const std::string& args) { return test::run_cli(tmp, args); }
};

TEST_F(PottsCli, FitsWritesTheModelAndTheContacts) {
  const std::string model = tmp.file("m.npz"), contacts = tmp.file("c.txt");
  const auto r = run("train potts --data " + aln + " --alphabet -ACD --lambda-e 0.5 --out " + model + " --contacts " +
                     contacts + " --json --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sequences"], 300);
  EXPECT_EQ(j["sites"], 6);
  EXPECT_EQ(j["q"], 4);
  EXPECT_THAT(std::string(j["stopped_by"]), ::testing::AnyOf("gradient", "relative decrease"));
  const io::PottsFile pf = io::load_potts(model);
  EXPECT_EQ(pf.alphabet.value_or(""), "-ACD");
  EXPECT_EQ(pf.model.n_sites(), 6u);
  // The table: a header and 15 pairs; the co-varying pair (1, 4) scores highest.
  std::ifstream in(contacts);
  std::string line, best;
  double best_apc = -1e300;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    if (line[0] == '#') continue;
    const double apc = std::stod(line.substr(line.rfind(' ') + 1));
    if (apc > best_apc) best_apc = apc, best = line.substr(0, 7);
  }
  EXPECT_EQ(lines, 16);
  EXPECT_EQ(best, "1 - 4 -");
}

TEST_F(PottsCli, ExactEstimateAndSampleWorkOnTheFittedModel) {
  const std::string model = tmp.file("m.npz"), samples = tmp.file("s.npy");
  ASSERT_EQ(run("train potts --data " + aln + " --alphabet -ACD --lambda-e 0.5 --quiet --out " + model).code, 0);
  const auto exact = nlohmann::json::parse(run("exact --model " + model + " --json --quiet").out);
  EXPECT_EQ(exact["kind"], "potts");
  EXPECT_EQ(exact["treewidth"], 5);  // every pair of 6 sites coupled
  const auto ais = nlohmann::json::parse(
      run("estimate --model " + model + " --method ais --chains 200 --betas 500 --schedule linear --json --quiet").out);
  // |AIS - exact| <= 4.42 SE: false-failure rate 1e-5 (normal approximation of log Z-hat).
  EXPECT_NEAR(double(ais["log_z"]), double(exact["log_z"]), 4.42 * double(ais["std_error"]));
  ASSERT_EQ(run("sample --model " + model + " --chains 9 --steps 20 --out " + samples + " --quiet").code, 0);
  const io::Array a = io::read_npy(samples);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{9, 6}));
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_LT(a.at(k), 4);
}

TEST_F(PottsCli, IgnoringGapsDropsTheGapState) {
  const std::string model = tmp.file("m.npz");
  const auto r = run("train potts --data " + aln + " --alphabet -ACD --ignore-gaps --out " + model + " --json --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["q"], 3);
  EXPECT_EQ(io::load_potts(model).alphabet.value_or(""), "ACD");
}

TEST_F(PottsCli, SameModelFileForOneOrTwoThreads) {
  const std::string m1 = tmp.file("m1.npz"), m2 = tmp.file("m2.npz");
  ASSERT_EQ(run("train potts --data " + aln + " --alphabet -ACD --threads 1 --quiet --out " + m1).code, 0);
  ASSERT_EQ(run("train potts --data " + aln + " --alphabet -ACD --threads 2 --quiet --out " + m2).code, 0);
  EXPECT_EQ(test::slurp(m1), test::slurp(m2));
}

TEST_F(PottsCli, PcdWithTemperingFitsTheCovaryingPair) {
  const std::string m1 = tmp.file("p1.npz"), m2 = tmp.file("p2.npz"), contacts = tmp.file("c.txt");
  const std::string args = "train potts --data " + aln + " --alphabet -ACD --method pcd --chains 100 --updates 300 " +
                           "--betas 0.5,1 --lambda-e 0.5 --seed 3 --json --quiet --contacts " + contacts;
  const auto r = run(args + " --threads 1 --out " + m1);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "pcd");
  EXPECT_EQ(j["updates"], 300);
  EXPECT_EQ(j["swap_acceptance"].size(), 1u);
  // The co-varying pair (1, 4) scores highest, as with pseudolikelihood.
  std::ifstream in(contacts);
  std::string line, best;
  double best_apc = -1e300;
  while (std::getline(in, line)) {
    if (line[0] == '#') continue;
    const double apc = std::stod(line.substr(line.rfind(' ') + 1));
    if (apc > best_apc) best_apc = apc, best = line.substr(0, 7);
  }
  EXPECT_EQ(best, "1 - 4 -");
  ASSERT_EQ(run(args + " --threads 2 --out " + m2).code, 0);
  EXPECT_EQ(test::slurp(m1), test::slurp(m2));
  const auto bad = run("train potts --data " + aln + " --alphabet -ACD --method pcd --betas 0.5,0.9 --out " + m1);
  EXPECT_EQ(bad.code, 64);
}

TEST_F(PottsCli, PcdResumedFromItsCheckpointWritesTheUninterruptedModel) {
  const std::string whole = tmp.file("whole.npz"), part = tmp.file("part.npz"), ck = tmp.file("run.ckpt.npz");
  const std::string args = "train potts --data " + aln + " --alphabet -ACD --method pcd --chains 40 --betas 0.5,1 " +
                           "--lambda-e 0.5 --seed 4";
  ASSERT_EQ(run(args + " --quiet --updates 60 --out " + whole).code, 0);
  // 23 updates (checkpoints after 10, 20 and 23), then on to 60 from the checkpoint.
  ASSERT_EQ(run(args + " --quiet --updates 23 --checkpoint " + ck + " --checkpoint-every 10 --out " + part).code, 0);
  const auto r = run(args + " --updates 60 --checkpoint " + ck + " --checkpoint-every 10 --resume --out " + part);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("resuming from " + ck + " after update 23"));
  EXPECT_EQ(test::slurp(part), test::slurp(whole));
  // Other settings, or a method without a checkpoint, are refused before any work.
  const auto other = run(args + " --updates 60 --lr 0.01 --checkpoint " + ck + " --resume --out " + part);
  EXPECT_EQ(other.code, 64);
  EXPECT_THAT(other.err, HasSubstr("--resume: checkpoint " + ck + " was written by train potts with other settings"));
  const auto pl = run("train potts --data " + aln + " --alphabet -ACD --checkpoint " + ck + " --out " + part);
  EXPECT_EQ(pl.code, 64);
  EXPECT_THAT(pl.err, HasSubstr("--checkpoint is for the PCD methods; --method pl is a deterministic L-BFGS fit"));
  // A second run writing the same model while the first holds it: exit 75 at once.
  {
    const io::OutputLock held(part, "test");
    const auto busy = run(args + " --updates 5 --out " + part);
    EXPECT_EQ(busy.code, 75);
    EXPECT_THAT(busy.err, HasSubstr(part + " is being written by another run"));
  }
}

TEST_F(PottsCli, MaxSecondsEndsALongFitWithExit75AndAResumableCheckpoint) {
  const std::string out = tmp.file("m.npz"), ck = tmp.file("m.ckpt.npz");
  const std::string args = "train potts --data " + aln + " --alphabet -ACD --method pcd --chains 400 --updates 10000000 " +
                           "--seed 4 --checkpoint " + ck + " --checkpoint-every 20 --out " + out;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run(args + " --quiet --max-seconds 0.5");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 75);
  EXPECT_THAT(r.err, HasSubstr("train potts: stopped after --max-seconds 0.5 s (exit 75)"));
  EXPECT_LT(seconds, 5.0);  // the limit, the process start and the file checks; not the 10^7 updates
  // No model, no lock or temporary left; the last checkpoint is whole and resumes.
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
    if (e.path().filename().string().rfind("m.", 0) == 0) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"m.ckpt.npz"});
  const auto again = run(args + " --resume --max-seconds 0.5");
  EXPECT_EQ(again.code, 75);
  EXPECT_THAT(again.err, HasSubstr("resuming from " + ck + " after update "));
  EXPECT_EQ(run("train potts --data " + aln + " --max-seconds nan --out " + out).code, 64);
}

TEST_F(PottsCli, BadAlignmentsExit65AndWriteNothing) {
  const std::string model = tmp.file("m.npz");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(tmp.file(name)) << text;
    return tmp.file(name);
  };
  const std::string ragged = write("ragged.fasta", ">a\nACD\n>b\nAC\n");
  const std::string empty = write("empty.fasta", "");
  const std::string unknown = write("unknown.fasta", ">a\nACD\n>b\nAXD\n");
  struct Case {
    std::string path, message;
  };
  for (const Case& c : {Case{ragged, ragged + ": sequence b has 2 match columns, but a has 3"},
                        Case{empty, empty + ": empty file"},
                        Case{unknown, unknown + ": sequence b: letter 'X' at column 2 is not in the alphabet \"-ACD\""}}) {
    const auto r = run("train potts --data " + c.path + " --alphabet -ACD --out " + model);
    EXPECT_EQ(r.code, 65) << c.path;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_FALSE(std::filesystem::exists(model));
  }
  const std::string gapless = write("gapless.fasta", ">a\nACD\n>b\nCAD\n");
  const auto r = run("train potts --data " + gapless + " --alphabet ACD --ignore-gaps --out " + model);
  EXPECT_EQ(r.code, 64);
  EXPECT_THAT(r.err, HasSubstr("has no gap"));
  EXPECT_EQ(run("train potts --data " + aln + " --lambda-e -1 --out " + model).code, 64);
}

TEST_F(PottsCli, HelpExplainsTheObjectiveAndShowsExamples) {
  const auto r = run("train potts --help");
  EXPECT_EQ(r.code, 0);
  for (const char* s : {"--data", "--focus", "--ignore-gaps", "--theta", "--lambda-h", "--lambda-e", "--variant",
                        "--precision", "--contacts", "--max-iterations", "--method", "--chains", "--betas", "--updates",
                        "Examples:", "--threads", "--json"})
    EXPECT_THAT(r.out, HasSubstr(s));
}

}  // namespace
}  // namespace logz
