// The formats protein-family users already have, end to end through `logz`: contact
// tables numbered as plmc -c numbers them, sequence weights written and read back to the
// same model bits, samples as FASTA that read back to the same states, `logz score`
// (energies and single-mutant effects checked against Potts::energy), and `logz convert`
// between .npz and plmc's binary parameter file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "logz/core/rng.hpp"
#include "logz/io/alignment.hpp"
#include "logz/io/model_file.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/plmc_params.hpp"
#include "support/cli_runner.hpp"

namespace logz {
namespace {

using ::testing::HasSubstr;

class ProteinFormatsCli : public ::testing::Test {
 protected:
  test::TempDir tmp;
  std::string aln;

  void SetUp() override {
    // 200 sequences of 8 columns. The focus F/10-17 has a gap in column 3 and an insert
    // (lower case) in column 6: its sites are columns 1, 2, 4, 5, 7, 8, numbered
    // 10, 11, 13, 14, 16, 17 as plmc numbers them. Columns 1 and 7 co-vary; the last
    // sequence has an X (left out with --unknown skip).
    aln = tmp.file("aln.a2m");
    std::ofstream f(aln);
    f << ">F/10-17 focus\nAC-DEdFG\n";
    Stream rng = Stream::derive(11, Purpose::user, 0);
    const char* letters = "-ACDEFG";
    for (int s = 0; s < 200; ++s) {
      std::string row(8, '-');
      for (char& c : row) c = letters[rng.below(7)];
      if (rng.uniform_double() < 0.8) row[6] = row[0];
      f << ">seq" << s << "\n" << row << "\n";
    }
    f << ">bad\nACXDEdFG\n";
  }
  test::CliResult run(const std::string& args) { return test::run_cli(tmp, args); }
  std::string train(const std::string& name, const std::string& extra = "") {
    const std::string model = tmp.file(name);
    const auto r = run("train potts --data " + aln +
                       " --focus F --unknown skip --lambda-e 1 --quiet --threads 1 --out " + model + " " + extra);
    EXPECT_EQ(r.code, 0) << r.err;
    return model;
  }
  io::Alignment read_focus_alignment() {
    io::AlignmentOptions o;
    o.focus = "F";
    o.unknown = io::UnknownLetters::skip;
    return io::read_alignment(aln, o);
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_F(ProteinFormatsCli, ContactTableIsNumberedAsPlmcNumbersIt) {
  const std::string contacts = tmp.file("c.txt");
  train("m.npz", "--contacts " + contacts);
  const auto lines = lines_of(test::slurp(contacts));
  ASSERT_EQ(lines.size(), 1u + 15u);
  EXPECT_EQ(lines[0], "# i ai j aj frobenius apc");
  EXPECT_THAT(lines[1], ::testing::StartsWith("10 A 11 C "));
  EXPECT_THAT(lines[15], ::testing::StartsWith("16 F 17 G "));
  std::set<std::string> pairs;
  for (std::size_t k = 1; k < lines.size(); ++k) pairs.insert(lines[k].substr(0, lines[k].find(' ', 8)));
  EXPECT_TRUE(pairs.count("13 D 14 E"));
  EXPECT_TRUE(pairs.count("10 A 16 F"));  // the co-varying pair
}

TEST_F(ProteinFormatsCli, WeightsWrittenAndReadBackGiveTheSameModelBits) {
  const std::string w = tmp.file("w.txt");
  const std::string m1 = train("m1.npz", "--weights-out " + w);
  const auto lines = lines_of(test::slurp(w));
  ASSERT_EQ(lines.size(), 3u + 202u);
  EXPECT_EQ(lines[0], "# logz sequence weights of " + aln + ": theta 0.8");
  EXPECT_THAT(lines[1], ::testing::StartsWith("# 202 sequences, 1 left out (weight 0); Neff "));
  EXPECT_EQ(lines.back(), "0");  // the sequence with an X
  const std::string m2 = train("m2.npz", "--weights " + w);
  EXPECT_EQ(test::slurp(m1), test::slurp(m2));
  // Other weights give another model; a file of the wrong length is refused.
  std::string ones;
  for (int s = 0; s < 202; ++s) ones += "1\n";
  std::ofstream(tmp.file("ones.txt")) << ones;
  EXPECT_NE(test::slurp(train("m3.npz", "--weights " + tmp.file("ones.txt"))), test::slurp(m1));
  std::ofstream(tmp.file("short.txt")) << "1\n1\n";
  const std::string m4 = tmp.file("m4.npz");
  const auto r = run("train potts --data " + aln + " --focus F --unknown skip --weights " + tmp.file("short.txt") +
                     " --out " + m4);
  EXPECT_EQ(r.code, 65);
  EXPECT_THAT(r.err, HasSubstr(tmp.file("short.txt") +
                               ": 2 weights, but the alignment has 202 sequences (201 used in the fit); expected one "
                               "per sequence"));
  EXPECT_FALSE(std::filesystem::exists(m4));
}

TEST_F(ProteinFormatsCli, SampledFastaReadsBackToTheSameStates) {
  for (const std::string gaps : {"", "--ignore-gaps"}) {
    const std::string model = train("m.npz", gaps), fasta = tmp.file("s.fasta"), npy = tmp.file("s.npy");
    const std::string args = "sample --model " + model + " --chains 7 --steps 5 --seed 4 --quiet --out ";
    ASSERT_EQ(run(args + fasta).code, 0);
    ASSERT_EQ(run(args + npy).code, 0);
    const io::PottsFile pf = io::load_potts(model);
    io::AlignmentOptions o;
    o.alphabet = pf.alphabet.value();
    const io::Alignment back = io::read_alignment(fasta, o);
    EXPECT_EQ(back.names.front(), "sample_1");
    EXPECT_EQ(back.names.back(), "sample_7");
    EXPECT_EQ(back.matrix, io::read_npy(npy).to_matrix<std::uint8_t>("samples")) << gaps;
  }
  const std::string states = tmp.file("states.npy"), plain = tmp.file("plain.npz");
  io::write_npy(states, io::Array::from_values<std::uint8_t>({3, 3}, {0, 1, 2, 1, 1, 0, 2, 2, 1}));
  ASSERT_EQ(run("train potts --data " + states + " --quiet --out " + plain).code, 0);
  const std::string ising = tmp.file("ising.npz");
  io::save_ising(ising, Ising::lattice_2d(2, 2, 0.5, 0.0));
  const auto spins = run("sample --model " + ising + " --out " + tmp.file("x.a2m"));
  EXPECT_EQ(spins.code, 64);
  EXPECT_THAT(spins.err, HasSubstr("sample: --out " + tmp.file("x.a2m") + ": sequences (FASTA / A2M) come from a Potts "
                                   "model; " + ising + " holds a ising model (write .npy)"));
  const auto r = run("sample --model " + plain + " --out " + tmp.file("x.fa"));
  EXPECT_EQ(r.code, 64);
  EXPECT_THAT(r.err, HasSubstr("sample: --out " + tmp.file("x.fa") + ": sequences need the model's alphabet, and " +
                               plain + " has none (write .npy)"));
}

TEST_F(ProteinFormatsCli, ScoreGivesTheEnergiesOfTheModel) {
  for (const std::string gaps : {"", "--ignore-gaps"}) {
    const std::string model = train("m.npz", gaps);
    const auto r = run("score --model " + model + " --data " + aln + " --focus F --unknown skip --json --quiet");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto rows = nlohmann::json::parse(r.out)["rows"];
    const io::Alignment a = read_focus_alignment();
    ASSERT_EQ(rows.size(), a.num_sequences());
    const Potts m = io::load_potts(model).model;
    for (std::size_t s = 0; s < a.num_sequences(); s += 20) {
      EXPECT_EQ(rows[s]["name"], a.names[s]);
      double e = 0;
      if (gaps.empty()) {
        e = m.energy(a.matrix.row(Eigen::Index(s)).cast<double>().transpose());
      } else {  // gaps out of the energy: sum over the other sites and their pairs, states shifted
        for (std::size_t i = 0; i < 6; ++i) {
          const int xi = a.matrix(Eigen::Index(s), Eigen::Index(i));
          if (xi == 0) continue;
          e -= m.fields()(Eigen::Index(i), xi - 1);
          for (std::size_t j = i + 1; j < 6; ++j) {
            const int xj = a.matrix(Eigen::Index(s), Eigen::Index(j));
            if (xj != 0) e -= m.coupling(i, j, std::size_t(xi - 1), std::size_t(xj - 1));
          }
        }
      }
      EXPECT_NEAR(double(rows[s]["energy"]), e, 1e-12 * (1 + std::abs(e))) << gaps << " row " << s;
    }
  }
  // .npy rows are the model's own states (here the gap-less model's: no gap to shift).
  const std::string states = tmp.file("x.npy");
  io::write_npy(states, io::Array::from_values<std::uint8_t>({2, 6}, {0, 1, 2, 3, 4, 5, 19, 18, 17, 16, 15, 14}));
  const auto npy = run("score --model " + tmp.file("m.npz") + " --data " + states + " --json --quiet");
  ASSERT_EQ(npy.code, 0) << npy.err;
  const Potts gapless = io::load_potts(tmp.file("m.npz")).model;
  const auto npy_rows = nlohmann::json::parse(npy.out)["rows"];
  EXPECT_EQ(npy_rows[1]["name"], "row_2");
  EXPECT_EQ(double(npy_rows[1]["energy"]), gapless.energy((VectorD(6) << 19, 18, 17, 16, 15, 14).finished()));

  const auto text = run("score --model " + tmp.file("m.npz") + " --data " + aln + " --focus F --unknown skip");
  ASSERT_EQ(text.code, 0);
  EXPECT_EQ(lines_of(text.out).size(), 1u + 201u);
  EXPECT_THAT(text.out, ::testing::StartsWith("# name energy\nF/10-17 "));
}

TEST_F(ProteinFormatsCli, MutantEffectsAreEnergyDifferencesAgainstTheFocus) {
  const std::string model = train("m.npz"), table = tmp.file("mut.txt");
  const auto r = run("score --model " + model + " --mutants --json --quiet --out " + table);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = nlohmann::json::parse(r.out)["rows"];
  ASSERT_EQ(rows.size(), 6u * 19u);  // 20 amino acids other than the wild type at 6 sites
  const Potts m = io::load_potts(model).model;
  const io::Alignment a = read_focus_alignment();
  const VectorD wt = a.matrix.row(0).cast<double>().transpose();
  const std::string alphabet = io::kProteinAlphabet;
  const std::vector<long> positions = {10, 11, 13, 14, 16, 17};
  for (const auto& row : rows) {
    const auto site =
        std::size_t(std::find(positions.begin(), positions.end(), long(row["position"])) - positions.begin());
    ASSERT_LT(site, 6u);
    EXPECT_EQ(std::string(row["wt"]), std::string(1, alphabet[std::size_t(wt[Eigen::Index(site)])]));
    VectorD mut = wt;
    mut[Eigen::Index(site)] = double(alphabet.find(std::string(row["mutant"])[0]));
    const double direct = m.energy(mut) - m.energy(wt);
    EXPECT_NEAR(double(row["delta_e"]), direct, 1e-12 * (1 + std::abs(direct)));
  }
  const auto lines = lines_of(test::slurp(table));
  EXPECT_EQ(lines[0], "# position wt mutant delta_e");
  EXPECT_THAT(lines[1], ::testing::StartsWith("10 A C "));
  // The focus given with --data is the same focus.
  const auto again =
      run("score --model " + model + " --mutants --data " + aln + " --focus F --unknown skip --json --quiet");
  EXPECT_EQ(nlohmann::json::parse(again.out)["rows"], rows);

  const std::string nofocus = tmp.file("nofocus.npz"), plain = tmp.file("plain.fasta");
  std::ofstream(plain) << ">a\nACD\n>b\nCAD\n>c\nDDA\n";
  ASSERT_EQ(run("train potts --data " + plain + " --quiet --out " + nofocus).code, 0);
  const auto missing = run("score --model " + nofocus + " --mutants");
  EXPECT_EQ(missing.code, 64);
  EXPECT_THAT(missing.err, HasSubstr("score: --mutants needs a focus sequence, and " + nofocus +
                                     " has no 'focus_sequence' (train potts --focus writes one); give --data "
                                     "ALIGNMENT --focus NAME"));
  // plmc's file of a fit without a focus holds the gap L times: nothing to mutate.
  const std::string nofocus_params = tmp.file("nofocus.params");
  ASSERT_EQ(run("convert " + nofocus + " " + nofocus_params + " --quiet").code, 0);
  const auto gaps = run("score --model " + nofocus_params + " --mutants");
  EXPECT_EQ(gaps.code, 65);
  EXPECT_THAT(gaps.err, HasSubstr("score: " + nofocus_params +
                                  ": 'focus_sequence' is all gaps (plmc writes that when it "
                                  "ran without -f); give --data ALIGNMENT --focus NAME"));
  const auto neither = run("score --model " + model);
  EXPECT_EQ(neither.code, 64);
  EXPECT_THAT(neither.err, HasSubstr("score: give --data (energies of its sequences) or --mutants"));
  const auto wrong = run("score --model " + model + " --data " + plain);
  EXPECT_EQ(wrong.code, 65);
  EXPECT_THAT(wrong.err,
              HasSubstr("score: --data " + plain + " has 3 match columns, but the model " + model + " has 6 sites"));
}

TEST_F(ProteinFormatsCli, ConvertMovesModelsToPlmcsFormatAndBack) {
  const std::string model = train("m.npz"), params = tmp.file("m.params"), back = tmp.file("back.npz");
  ASSERT_EQ(run("convert " + model + " " + params + " --quiet").code, 0);
  const io::PlmcParams p = io::read_plmc_params(params);
  EXPECT_EQ(p.focus, "ACDEFG");
  EXPECT_EQ(p.positions, (std::vector<std::int32_t>{10, 11, 13, 14, 16, 17}));
  EXPECT_EQ(p.alphabet, io::kProteinAlphabet);
  // float32 in plmc's file: the parameters are the model's rounded to float.
  const Potts m = io::load_potts(model).model;
  EXPECT_EQ(p.model.parameters(), m.parameters().cast<float>().cast<double>());
  ASSERT_EQ(run("convert " + params + " " + back + " --quiet").code, 0);
  EXPECT_EQ(io::load_potts(back).model.parameters(), p.model.parameters());
  const std::string again = tmp.file("again.bin");
  ASSERT_EQ(run("convert " + back + " " + again + " --to plmc --quiet").code, 0);
  EXPECT_EQ(test::slurp(again), test::slurp(params));
  // Every command reads plmc's file: the mutant scan of the converted model.
  const auto mut = run("score --model " + params + " --mutants --json --quiet");
  ASSERT_EQ(mut.code, 0) << mut.err;
  EXPECT_EQ(nlohmann::json::parse(mut.out)["rows"][0]["position"], 10);

  const auto unknown = run("convert " + model + " " + tmp.file("m.txt"));
  EXPECT_EQ(unknown.code, 64);
  EXPECT_THAT(unknown.err, HasSubstr("convert: cannot tell the format of " + tmp.file("m.txt") +
                                     " from its extension '.txt'; give --to npz or --to plmc"));
  const std::string ising = tmp.file("ising.npz");
  io::save_ising(ising, Ising::lattice_2d(2, 2, 0.5, 0.0));
  const auto wrong = run("convert " + ising + " " + tmp.file("i.params"));
  EXPECT_EQ(wrong.code, 64);
  EXPECT_THAT(wrong.err, HasSubstr("convert: plmc's format holds Potts models; " + ising + " holds a ising model"));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("i.params")));
}

TEST_F(ProteinFormatsCli, HelpShowsTheNewCommandsAndOptions) {
  const auto top = run("--help");
  EXPECT_THAT(top.out, HasSubstr("score"));
  EXPECT_THAT(top.out, HasSubstr("convert"));
  EXPECT_THAT(run("train potts --help").out, HasSubstr("--weights-out"));
  EXPECT_THAT(run("sample --help").out, HasSubstr(".fasta"));
  for (const char* s : {"--mutants", "--data", "--focus", "delta_e", "Examples:"})
    EXPECT_THAT(run("score --help").out, HasSubstr(s));
  EXPECT_THAT(run("convert --help").out, HasSubstr("--to"));
}

}  // namespace
}  // namespace logz
