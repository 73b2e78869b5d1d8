// Tests of the sequence-weights file: written weights read back to the same doubles,
// plmc's header-less files and .npy arrays read too, one weight per record or per
// sequence used, and every bad file refused with its message pinned.
#include "logz/io/weights_file.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "logz/io/npy.hpp"
#include "support/cli_runner.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

std::string write(const test::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const std::vector<std::size_t> kAllThree = {0, 1, 2};

TEST(WeightsFile, WrittenWeightsReadBackBitForBit) {
  test::TempDir dir;
  VectorD w(4);
  w << 1.0 / 3.0, 0.1, 0.0, 1e-300;  // doubles with no short decimal form
  const std::string p = dir.file("w.txt");
  write_weights(p, w, "theta 0.8\n4 sequences");
  EXPECT_EQ(test::slurp(p).substr(0, 28), "# theta 0.8\n# 4 sequences\n0.");
  // Record 2 was left out of the fit: the three used are records 0, 1, 3.
  const std::vector<std::size_t> used = {0, 1, 3};
  const VectorD back = read_weights(p, used, 4);
  ASSERT_EQ(back.size(), 3);
  EXPECT_EQ(back[0], w[0]);
  EXPECT_EQ(back[1], w[1]);
  EXPECT_EQ(back[2], w[3]);
}

TEST(WeightsFile, ReadsPlmcFilesNpyAndOnePerSequenceUsed) {
  test::TempDir dir;
  // plmc --save-weights: no header, %e-style numbers, 0 for a skipped sequence.
  const std::string plmc = write(dir, "plmc.txt", "1.1111111111111112e-02\n0.0000000000000000e+00\n5e-1\n");
  const VectorD a = read_weights(plmc, std::vector<std::size_t>{0, 2}, 3);
  EXPECT_EQ(a, (VectorD(2) << 1.1111111111111112e-02, 0.5).finished());
  // One per sequence used (2 of 3 records), blank lines and spaces ignored.
  const std::string used = write(dir, "used.txt", "# header\n\n  0.25 \r\n0.75\n");
  EXPECT_EQ(read_weights(used, std::vector<std::size_t>{0, 2}, 3), (VectorD(2) << 0.25, 0.75).finished());
  const std::string npy = dir.file("w.npy");
  write_npy(npy, Array::from_values<float>({3}, {0.5f, 1.0f, 2.0f}));
  EXPECT_EQ(read_weights(npy, kAllThree, 3), (VectorD(3) << 0.5, 1.0, 2.0).finished());
}

TEST(WeightsFile, BadFilesAreRefusedWithTheirMessage) {
  test::TempDir dir;
  struct Case {
    std::string name, text, message;
  };
  const std::vector<Case> cases = {
      {"word.txt", "1\nabc\n1\n", ": line 2: \"abc\" is not a number"},
      {"trail.txt", "1\n2x\n1\n", ": line 2: \"2x\" is not a number"},
      {"two.txt", "1 2\n1\n1\n", ": line 1: \"1 2\" is not a number"},
      {"neg.txt", "1\n-0.5\n1\n", ": line 2: weight -0.5 is not finite and >= 0"},
      {"nan.txt", "nan\n1\n1\n", ": line 1: weight nan is not finite and >= 0"},
      {"inf.txt", "1\n1\ninf\n", ": line 3: weight inf is not finite and >= 0"},
      {"huge.txt", "1\n1\n1e999\n", ": line 3: weight 1e999 is not finite and >= 0"},
      {"short.txt", "1\n1\n",
       ": 2 weights, but the alignment has 3 sequences (3 used in the fit); expected one per "
       "sequence"},
      {"empty.txt", "# nothing\n",
       ": 0 weights, but the alignment has 3 sequences (3 used in the fit); expected one "
       "per sequence"},
      {"zero.txt", "0\n0\n0\n", ": the weights of the 3 sequences used sum to 0"},
  };
  for (const Case& c : cases) {
    const std::string p = write(dir, c.name, c.text);
    test::expect_error([&] { read_weights(p, kAllThree, 3); }, Exit::data, p + c.message);
  }
  const std::string npy = dir.file("m.npy");
  write_npy(npy, Array::from_values<double>({3, 1}, {1, 1, 1}));
  test::expect_error([&] { read_weights(npy, kAllThree, 3); }, Exit::data,
                     npy + ": weights must be a 1-D array, got shape (3, 1)");
  write_npy(npy, Array::from_values<double>({3}, {1, NAN, 1}));
  test::expect_error([&] { read_weights(npy, kAllThree, 3); }, Exit::data,
                     npy + ": weight 1 is nan, not finite and >= 0");
  const std::string missing = dir.file("missing.txt");
  EXPECT_THROW(
      {
        try {
          read_weights(missing, kAllThree, 3);
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), Exit::no_input);
          throw;
        }
      },
      Error);
}

}  // namespace
}  // namespace logz::io
