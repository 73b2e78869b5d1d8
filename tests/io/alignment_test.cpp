// Tests of the alignment reader (FASTA / A2M, focus columns, user alphabets, unknown
// letters, every error message pinned) and of the sequence weights (by hand, against a
// plain O(N²L) count, 1 vs 2 threads), and on the two real families in shared/data:
// DHFR (plmc's figures: 159 focus columns, Neff 1568.1 at 80% identity) and RF00162.
#include "logz/io/alignment.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

using U8 = Matrix<std::uint8_t>;

std::string write(const test::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

U8 rows(std::initializer_list<std::initializer_list<int>> r) {
  U8 m(Eigen::Index(r.size()), Eigen::Index(r.begin()->size()));
  Eigen::Index i = 0;
  for (const auto& row : r) {
    Eigen::Index j = 0;
    for (int v : row) m(i, j++) = std::uint8_t(v);
    ++i;
  }
  return m;
}

AlignmentOptions with_focus(std::string f) {
  AlignmentOptions o;
  o.focus = std::move(f);
  return o;
}

void expect_read_error(const std::string& path, const AlignmentOptions& o, Exit code, const std::string& message) {
  test::expect_error([&] { read_alignment(path, o); }, code, message);
}

// Protein states: - A C D E F G H I K L M N P Q R S T V W Y = 0 .. 20.
TEST(Alignment, UnknownLettersByName) {
  EXPECT_EQ(io::unknown_letters_by_name("error"), io::UnknownLetters::error);
  EXPECT_EQ(io::unknown_letters_by_name("gap"), io::UnknownLetters::gap);
  EXPECT_EQ(io::unknown_letters_by_name("skip"), io::UnknownLetters::skip);
  test::expect_error([] { io::unknown_letters_by_name("drop"); }, Exit::usage,
                     "unknown letters: expected error, gap or skip, got 'drop'");
}

TEST(Alignment, MultiLineFasta) {
  test::TempDir dir;
  const auto p = write(dir, "a.fasta", ">s1 first sequence\r\nAC-D\r\nEF\r\n\n>s2\tx\n-CAD\n  EY  \n");
  const Alignment a = read_alignment(p);
  EXPECT_EQ(a.names, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(a.matrix, rows({{1, 2, 0, 3, 4, 5}, {0, 2, 1, 3, 4, 20}}));
  EXPECT_EQ(a.alphabet, kProteinAlphabet);
  EXPECT_EQ(a.num_states(), 21u);
  EXPECT_EQ(a.columns, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(a.positions.empty());
  EXPECT_FALSE(a.focus.has_value());
  EXPECT_TRUE(a.skipped.empty());
}

TEST(Alignment, A2mInsertsAreDropped) {
  test::TempDir dir;
  // Unpadded A2M: the rows differ in length, their match states do not.
  const auto p = write(dir, "a.a2m", ">a\nACgD-\n>b\naACDE\n>c\nA..C.Dy\nY\n");
  const Alignment a = read_alignment(p);
  EXPECT_EQ(a.names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(a.matrix, rows({{1, 2, 3, 0}, {1, 2, 3, 4}, {1, 2, 3, 20}}));
  EXPECT_EQ(a.columns, (std::vector<std::size_t>{0, 1, 2, 3}));
}

TEST(Alignment, FocusKeepsItsUpperCaseColumns) {
  test::TempDir dir;
  // "FX" must not match the focus "F"; "F/11-15" does (NAME/START-END).
  const auto p = write(dir, "f.a2m", ">FX/1-7\nAAAAAAA\n>F/11-15 focus\n-AcDE-F\n>o1\nMKkq.-w\n>o2\nYYYY\nYYY\n");
  const Alignment a = read_alignment(p, with_focus("F"));
  EXPECT_EQ(a.names, (std::vector<std::string>{"FX/1-7", "F/11-15", "o1", "o2"}));
  EXPECT_EQ(a.matrix, rows({{1, 1, 1, 1}, {1, 3, 4, 5}, {9, 14, 0, 19}, {20, 20, 20, 20}}));
  EXPECT_EQ(a.columns, (std::vector<std::size_t>{1, 3, 4, 6}));
  // plmc's numbers: START + the column as written, the focus's gap columns counted.
  EXPECT_EQ(a.positions, (std::vector<long>{12, 14, 15, 17}));
  EXPECT_EQ(a.records, (std::vector<std::size_t>{0, 1, 2, 3}));
  EXPECT_EQ(a.num_records, 4u);
  ASSERT_TRUE(a.focus.has_value());
  EXPECT_EQ(*a.focus, 1u);
  // The exact name works too; a name without a region counts from 1.
  const auto q = write(dir, "g.a2m", ">x\nA-CD\n>y\nCCCC\n");
  const Alignment b = read_alignment(q, with_focus("x"));
  EXPECT_EQ(b.matrix, rows({{1, 2, 3}, {2, 2, 2}}));
  EXPECT_EQ(b.positions, (std::vector<long>{1, 3, 4}));
  EXPECT_EQ(b.columns, (std::vector<std::size_t>{0, 2, 3}));
}

TEST(Alignment, SkippedSequencesKeepTheirRecordNumbers) {
  test::TempDir dir;
  const auto p = write(dir, "s.fasta", ">a\nAC\n>b\nAX\n>c\nCA\n>d\nBB\n>e\nCC\n");
  AlignmentOptions o;
  o.unknown = UnknownLetters::skip;
  const Alignment a = read_alignment(p, o);
  EXPECT_EQ(a.names, (std::vector<std::string>{"a", "c", "e"}));
  EXPECT_EQ(a.records, (std::vector<std::size_t>{0, 2, 4}));
  EXPECT_EQ(a.num_records, 5u);
}

TEST(Alignment, WrittenSequencesReadBackToTheSameStates) {
  test::TempDir dir;
  const U8 states = rows({{0, 1, 20, 5}, {3, 0, 0, 19}});
  const std::string p = dir.file("w.fasta");
  write_alignment(p, {"s1", "s2"}, states, kProteinAlphabet);
  std::ifstream in(p);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, ">s1\n-AYF\n>s2\nD--W\n");
  EXPECT_EQ(read_alignment(p).matrix, states);
  // RNA with '.' as the gap: written as '-', which every A2M reader takes for a gap.
  const U8 rna = rows({{0, 1, 4}, {2, 3, 0}});
  write_alignment(p, {"r1", "r2"}, rna, ".ACGU");
  AlignmentOptions o;
  o.alphabet = ".ACGU";
  EXPECT_EQ(read_alignment(p, o).matrix, rna);
  // No gap in the alphabet (a model fitted with gaps ignored): letters only.
  o.alphabet = "ACD";
  write_alignment(p, {"x"}, rows({{2, 0, 1}}), "ACD");
  EXPECT_EQ(read_alignment(p, o).matrix, rows({{2, 0, 1}}));
}

TEST(Alignment, WriteRefusesBadNamesStatesAndAlphabets) {
  test::TempDir dir;
  const std::string p = dir.file("w.fasta");
  const U8 states = rows({{0, 1}});
  test::expect_error([&] { write_alignment(p, {"a", "b"}, states, "-AC"); }, Exit::usage,
                     "write_alignment: 2 names for 1 sequences");
  test::expect_error([&] { write_alignment(p, {"a b"}, states, "-AC"); }, Exit::usage,
                     "write_alignment: sequence 1: the name \"a b\" is empty or holds whitespace");
  test::expect_error([&] { write_alignment(p, {""}, states, "-AC"); }, Exit::usage,
                     "write_alignment: sequence 1: the name \"\" is empty or holds whitespace");
  test::expect_error([&] { write_alignment(p, {"a"}, states, "-"); }, Exit::usage,
                     "write_alignment: sequence a site 2 has state 1, outside the alphabet \"-\"");
  test::expect_error([&] { write_alignment(p, {"a"}, states, "-a"); }, Exit::usage,
                     "write_alignment: alphabet \"-a\": lower-case 'a' is not allowed (lower case marks inserts)");
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(Alignment, UserAlphabet) {
  test::TempDir dir;
  AlignmentOptions rna;
  rna.alphabet = ".ACGU";
  // '.' is the gap here (a match state, not an insert), '-' reads as the gap too, and
  // lower-case letters are still inserts.
  const auto p = write(dir, "r.fasta", ">r1\nACG.U\n>r2\n..GUA\n>r3\nA-CgGU\n");
  const Alignment a = read_alignment(p, rna);
  EXPECT_EQ(a.matrix, rows({{1, 2, 3, 0, 4}, {0, 0, 3, 4, 1}, {1, 0, 2, 3, 4}}));
  EXPECT_EQ(a.num_states(), 5u);
  // An alphabet without a gap: state 0 is 'A', and '-' is an unknown letter.
  AlignmentOptions nogap;
  nogap.alphabet = "ACGU";
  const Alignment b = read_alignment(write(dir, "n.fasta", ">a\nACGU\n>b\nUGCA\n"), nogap);
  EXPECT_EQ(b.matrix, rows({{0, 1, 2, 3}, {3, 2, 1, 0}}));
  const auto q = write(dir, "m.fasta", ">a\nACGU\n>b\nUG-A\n");
  expect_read_error(q, nogap, Exit::data, q + ": sequence b: letter '-' at column 3 is not in the alphabet \"ACGU\"");
}

TEST(Alignment, UnknownLetters) {
  test::TempDir dir;
  const auto p = write(dir, "u.fasta", ">s1\nACDE\n>s2 has X\nACXD\n>s3\nCCCC\n");
  expect_read_error(p, {}, Exit::data,
                    p + ": sequence s2: letter 'X' at column 3 is not in the alphabet \"-ACDEFGHIKLMNPQRSTVWY\"");
  AlignmentOptions gap;
  gap.unknown = UnknownLetters::gap;
  const Alignment g = read_alignment(p, gap);
  EXPECT_EQ(g.matrix, rows({{1, 2, 3, 4}, {1, 2, 0, 3}, {2, 2, 2, 2}}));
  EXPECT_TRUE(g.skipped.empty());
  AlignmentOptions skip;
  skip.unknown = UnknownLetters::skip;
  const Alignment s = read_alignment(p, skip);
  EXPECT_EQ(s.names, (std::vector<std::string>{"s1", "s3"}));
  EXPECT_EQ(s.matrix, rows({{1, 2, 3, 4}, {2, 2, 2, 2}}));
  EXPECT_EQ(s.skipped, (std::vector<std::string>{"s2"}));
  // An unknown letter in an insert counts too (plmc checks the whole row).
  const auto q = write(dir, "i.a2m", ">s1\nACDE\n>s2\nACbDE\n");
  expect_read_error(q, {}, Exit::data,
                    q + ": sequence s2: letter 'b' at column 3 is not in the alphabet \"-ACDEFGHIKLMNPQRSTVWY\"");
  const auto r = write(dir, "b.fasta", ">s1\nAC*E\n");
  expect_read_error(r, {}, Exit::data,
                    r + ": sequence s1: letter '*' at column 3 is not in the alphabet \"-ACDEFGHIKLMNPQRSTVWY\"");
}

TEST(Alignment, FileErrors) {
  test::TempDir dir;
  const AlignmentOptions o;
  const std::string missing = dir.file("missing.fasta");
  expect_read_error(missing, o, Exit::no_input, missing + ": cannot open: No such file or directory");
  auto p = write(dir, "empty.fasta", "");
  expect_read_error(p, o, Exit::data, p + ": empty file");
  p = write(dir, "blank.fasta", "\n  \n");
  expect_read_error(p, o, Exit::data, p + ": no sequences (no line starts with '>')");
  p = write(dir, "text.fasta", "\nACD\n>a\nACD\n");
  expect_read_error(p, o, Exit::data, p + ": line 2: sequence text before the first '>' header");
  p = write(dir, "noname.fasta", ">a\nACD\n>  \nACD\n");
  expect_read_error(p, o, Exit::data, p + ": line 3: a '>' header without a name");
  p = write(dir, "nosequence.fasta", ">a\n>b\nACD\n");
  expect_read_error(p, o, Exit::data, p + ": sequence a is empty");
  p = write(dir, "ragged.a2m", ">a\nAC.D\n>b\nAcCDE\n");
  expect_read_error(p, o, Exit::data,
                    p + ": sequence b has 4 match columns, but a has 3 (lower-case letters and '.' are inserts, not "
                        "counted)");
  p = write(dir, "inserts.a2m", ">a\nacd\n>b\n..\n");
  expect_read_error(p, o, Exit::data, p + ": no match columns (every letter is lower-case, an insert)");
  AlignmentOptions skip;
  skip.unknown = UnknownLetters::skip;
  p = write(dir, "allbad.fasta", ">a\nAXD\n>b\nBCD\n");
  expect_read_error(p, skip, Exit::data,
                    p + ": no sequences left: all 2 contain letters outside the alphabet \"-ACDEFGHIKLMNPQRSTVWY\"");
}

TEST(Alignment, FocusErrors) {
  test::TempDir dir;
  auto p = write(dir, "f.a2m", ">a/1-3\nACD\n>b\nACDE\n");
  expect_read_error(p, with_focus("a"), Exit::data, p + ": sequence b has 4 columns, but the focus sequence a/1-3 has 3");
  expect_read_error(p, with_focus("A"), Exit::data,
                    p + ": focus sequence A not found (no name equal to it or starting with \"A/\")");
  expect_read_error(p, with_focus("a/"), Exit::data,
                    p + ": focus sequence a/ not found (no name equal to it or starting with \"a//\")");
  AlignmentOptions skip = with_focus("q");
  skip.unknown = UnknownLetters::skip;
  p = write(dir, "g.a2m", ">a\nACD\n>q\nAXD\n");
  expect_read_error(p, skip, Exit::data,
                    p + ": the focus sequence q contains letters outside the alphabet \"-ACDEFGHIKLMNPQRSTVWY\" and "
                        "was skipped");
  p = write(dir, "h.a2m", ">a\nac--\n>b\nACDE\n");
  expect_read_error(p, with_focus("a"), Exit::data,
                    p + ": the focus sequence a has no upper-case letters (no columns to keep)");
  AlignmentOptions nogap = with_focus("a");
  nogap.alphabet = "ACGU";
  p = write(dir, "n.a2m", ">a\nAC\n>b\nA.\n");
  expect_read_error(p, nogap, Exit::data, p + ": sequence b: letter '.' at column 2 is not in the alphabet \"ACGU\"");
}

TEST(Alignment, OptionErrors) {
  test::TempDir dir;
  const auto p = write(dir, "a.fasta", ">a\nACD\n");
  auto alphabet_error = [&](const std::string& alphabet, const std::string& message) {
    AlignmentOptions o;
    o.alphabet = alphabet;
    expect_read_error(p, o, Exit::usage, message);
  };
  alphabet_error("", "read_alignment: the alphabet is empty");
  alphabet_error("acgu", "read_alignment: alphabet \"acgu\": lower-case 'a' is not allowed (lower case marks inserts)");
  alphabet_error("ACCA", "read_alignment: alphabet \"ACCA\": 'C' appears twice");
  alphabet_error("A-C", "read_alignment: alphabet \"A-C\": '-' may only be the first symbol (the gap)");
  alphabet_error("-.AC", "read_alignment: alphabet \"-.AC\": '.' may only be the first symbol (the gap)");
  alphabet_error("A C", "read_alignment: alphabet \"A C\": symbol byte 0x20 is not allowed");
  alphabet_error(std::string(256, 'A'), "read_alignment: the alphabet has 256 symbols; at most 255 are supported");
  AlignmentOptions gap;
  gap.alphabet = "ACGU";
  gap.unknown = UnknownLetters::gap;
  expect_read_error(p, gap, Exit::usage,
                    "read_alignment: unknown letters can be read as gaps only with a gap ('-' or '.') as the "
                    "alphabet's first symbol; the alphabet is \"ACGU\"");
  expect_read_error(p, with_focus(""), Exit::usage, "read_alignment: the focus sequence name is empty");
}

Alignment from_rows(const U8& m) {
  Alignment a;
  a.matrix = m;
  a.alphabet = kProteinAlphabet;
  for (Eigen::Index i = 0; i < m.rows(); ++i) a.names.push_back(fmt::format("s{}", i));
  return a;
}

TEST(SequenceWeights, ByHand) {
  // identities: s0-s1 4/5, s1-s2 4/5, s0-s2 3/5, s3 shares nothing.
  const Alignment a = from_rows(rows({{1, 1, 1, 1, 1}, {1, 1, 1, 1, 2}, {1, 1, 1, 2, 2}, {3, 3, 3, 3, 3}}));
  const VectorD w = sequence_weights(a, 0.8, Exec(1));
  EXPECT_EQ(w, (VectorD(4) << 0.5, 1.0 / 3.0, 0.5, 1.0).finished());
  EXPECT_EQ(effective_count(w), 0.5 + 1.0 / 3.0 + 0.5 + 1.0);
  EXPECT_EQ(sequence_weights(a, 0.81, Exec(1)), VectorD::Ones(4));  // 0.81·5 = 4.05: 5 needed
  EXPECT_EQ(sequence_weights(a, 0.6, Exec(1)), (VectorD(4) << 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 1.0).finished());
  EXPECT_EQ(sequence_weights(a, 0.0, Exec(1)), VectorD::Constant(4, 0.25));
  EXPECT_EQ(effective_count(sequence_weights(a, 1.0, Exec(1))), 4.0);
  // Gaps count as identical positions (plmc's rule): 2 of 3 columns agree.
  const Alignment g = from_rows(rows({{0, 0, 1}, {0, 0, 2}}));
  EXPECT_EQ(sequence_weights(g, 0.6, Exec(1)), VectorD::Constant(2, 0.5));
  EXPECT_EQ(sequence_weights(g, 0.7, Exec(1)), VectorD::Ones(2));
  EXPECT_EQ(sequence_weights(from_rows(U8(0, 3)), 0.8, Exec(1)).size(), 0);
  test::expect_error([&] { sequence_weights(a, 1.5, Exec(1)); }, Exit::usage,
                     "sequence_weights: theta must be in [0, 1], got 1.5");
  test::expect_error([&] { sequence_weights(a, -0.1, Exec(1)); }, Exit::usage,
                     "sequence_weights: theta must be in [0, 1], got -0.1");
}

// The definition, pair by pair.
VectorD naive_weights(const U8& m, double theta) {
  VectorD w(m.rows());
  for (Eigen::Index s = 0; s < m.rows(); ++s) {
    int n = 0;
    for (Eigen::Index t = 0; t < m.rows(); ++t) n += (m.row(s).array() == m.row(t).array()).count() >= theta * double(m.cols());
    w[s] = 1.0 / n;
  }
  return w;
}

// Random families: a few ancestors, each residue mutated with probability 0.15, so that
// many pairs sit near the threshold.
U8 random_family(std::size_t n, std::size_t len, std::uint64_t seed) {
  Stream rng = Stream::root(seed);
  U8 anc(8, static_cast<Eigen::Index>(len));
  for (Eigen::Index i = 0; i < anc.size(); ++i) anc.data()[i] = std::uint8_t(rng.next_u32() % 21);
  U8 m(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(len));
  for (Eigen::Index s = 0; s < m.rows(); ++s) {
    const Eigen::Index a = Eigen::Index(rng.next_u32() % 8);
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      m(s, j) = rng.next_u32() % 100 < 15 ? std::uint8_t(rng.next_u32() % 21) : anc(a, j);
  }
  return m;
}

TEST(SequenceWeights, MatchDefinitionAndThreadCount) {
  for (auto [n, len] : {std::pair<std::size_t, std::size_t>{700, 70}, {300, 128}, {5, 1}, {40, 200}}) {
    const Alignment a = from_rows(random_family(n, len, 17 + n));
    for (double theta : {0.8, 0.62, 0.9}) {
      const VectorD w1 = sequence_weights(a, theta, Exec(1));
      EXPECT_EQ(w1, naive_weights(a.matrix, theta)) << n << " x " << len << " theta " << theta;
      EXPECT_EQ(w1, sequence_weights(a, theta, Exec(2)));
    }
  }
  // Many copies of few sequences (pairs are counted over the distinct ones, each weighing
  // its copies): the same weights as pair by pair; one column of 200,000 rows is fast.
  U8 copies = random_family(600, 3, 41);
  for (Eigen::Index s = 0; s < copies.rows(); ++s) copies(s, 2) = std::uint8_t(s % 2);
  for (double theta : {0.0, 0.5, 0.7, 1.0}) {
    EXPECT_EQ(sequence_weights(from_rows(copies), theta, Exec(1)), naive_weights(copies, theta)) << theta;
    EXPECT_EQ(sequence_weights(from_rows(copies), theta, Exec(2)), naive_weights(copies, theta)) << theta;
  }
  U8 column(200000, 1);
  for (Eigen::Index s = 0; s < column.rows(); ++s) column(s, 0) = std::uint8_t(s % 3 == 0 ? 1 : 2);
  const VectorD wc = sequence_weights(from_rows(column), 0.8, Exec(1));
  EXPECT_EQ(wc[0], 1.0 / 66667);
  EXPECT_EQ(wc[1], 1.0 / 133333);
  // Rows longer than 255 × 64 bytes: the byte counters are folded into the total.
  const Alignment wide = from_rows(random_family(6, 17000, 5));
  EXPECT_EQ(sequence_weights(wide, 0.8, Exec(1)), naive_weights(wide.matrix, 0.8));
  EXPECT_EQ(sequence_weights(wide, 0.5, Exec(1)), naive_weights(wide.matrix, 0.5));
}

const std::string kDataDir = LOGZ_SOURCE_DIR "/../shared/data";

TEST(Alignment, DhfrAsPlmcReadsIt) {
  const std::string path = kDataDir + "/DHFR.a2m";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  // 13 of the 3,629 sequences contain X; plmc leaves them out.
  AlignmentOptions o = with_focus("DYR_ECOLI");
  expect_read_error(path, o, Exit::data,
                    path + ": sequence UniRef100_UPI000188C0E8/2-161: letter 'X' at column 154 is not in the alphabet "
                           "\"-ACDEFGHIKLMNPQRSTVWY\"");
  o.unknown = UnknownLetters::skip;
  const Alignment a = read_alignment(path, o);
  EXPECT_EQ(a.num_sequences() + a.skipped.size(), 3629u);
  EXPECT_EQ(a.skipped.size(), 13u);
  EXPECT_EQ(a.num_columns(), 159u);
  EXPECT_EQ(a.names[0], "DYR_ECOLI/1-159");
  EXPECT_EQ(a.focus, std::optional<std::size_t>(0));
  // As plmc -c numbers them: the focus has gaps in columns 52-54 and elsewhere, which
  // plmc counts, so its 52nd site (residue R52 of DYR_ECOLI) is 55 and the last is 171.
  EXPECT_EQ(a.positions.front(), 1);
  EXPECT_EQ(a.positions[50], 51);
  EXPECT_EQ(a.positions[51], 55);
  EXPECT_EQ(a.positions.back(), 171);
  EXPECT_EQ(a.num_records, 3629u);
  ASSERT_EQ(a.records.size(), a.num_sequences());
  EXPECT_EQ(a.records[0], 0u);
  EXPECT_EQ(a.records.back(), 3628u);
  EXPECT_EQ(a.matrix.maxCoeff(), 20);

  const auto t0 = std::chrono::steady_clock::now();
  const VectorD w1 = sequence_weights(a, 0.8, Exec(1));
  const auto t1 = std::chrono::steady_clock::now();
  const VectorD w2 = sequence_weights(a, 0.8, Exec(2));
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(w1, w2);
  const double neff = effective_count(w1);
  // plmc: "Effective number of samples (to 1 decimal place): 1568.1".
  EXPECT_EQ(fmt::format("{:.1f}", neff), "1568.1");
  RecordProperty("neff", fmt::format("{:.6f}", neff));
  std::printf("DHFR %zu x %zu: Neff %.6f; weights %.1f ms (1 thread), %.1f ms (2 threads)\n", a.num_sequences(),
              a.num_columns(), neff, std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count());

  // Without focus every column of this file is a match column (it has no inserts).
  AlignmentOptions all;
  all.unknown = UnknownLetters::gap;
  const Alignment b = read_alignment(path, all);
  EXPECT_EQ(b.num_sequences(), 3629u);
  EXPECT_EQ(b.num_columns(), 171u);
}

TEST(Alignment, Rf00162) {
  const std::string path = kDataDir + "/RF00162.fasta";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  AlignmentOptions o;
  o.alphabet = ".ACGU";
  const Alignment a = read_alignment(path, o);
  EXPECT_EQ(a.num_sequences(), 4757u);
  EXPECT_EQ(a.num_columns(), 107u);
  EXPECT_EQ(a.names[0], "ACNB01000014.1/881-769");
  EXPECT_EQ(a.matrix.maxCoeff(), 4);
  EXPECT_EQ(sequence_weights(a, 0.8, Exec(1)), sequence_weights(a, 0.8, Exec(2)));
}

}  // namespace
}  // namespace logz::io
