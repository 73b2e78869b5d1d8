// Tests of the data arguments: binary .npy files of every dtype with the pinned messages
// for NaN, non-binary values and wrong ranks; Fashion-MNIST from a fake folder (via
// LOGZ_FASHION_MNIST_DIR) and, when installed, from the real Debian package.
#include "logz/io/dataset.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/io/npy.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

namespace fs = std::filesystem;

// Sets LOGZ_FASHION_MNIST_DIR for one scope and restores the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void expect_error(const std::string& spec, double threshold, Exit code, const std::string& message) {
  test::expect_error([&] { load_binary_data(spec, threshold); }, code, message);
}

template <class T>
std::string write_values(const test::TempDir& dir, const std::string& name, std::vector<std::size_t> shape,
                         const std::vector<T>& values) {
  const std::string path = dir.file(name);
  write_npy(path, Array::from_values<T>(std::move(shape), values));
  return path;
}

TEST(Dataset, BinaryNpyOfEveryDtype) {
  test::TempDir dir;
  const MatrixU8 want = (MatrixU8(2, 3) << 0, 1, 1, 1, 0, 0).finished();
  const std::vector<std::string> paths = {
      write_values<std::uint8_t>(dir, "u8.npy", {2, 3}, {0, 1, 1, 1, 0, 0}),
      write_values<std::int32_t>(dir, "i32.npy", {2, 3}, {0, 1, 1, 1, 0, 0}),
      write_values<std::int64_t>(dir, "i64.npy", {2, 3}, {0, 1, 1, 1, 0, 0}),
      write_values<float>(dir, "f32.npy", {2, 3}, {0, 1, 1, 1, -0.0f, 0}),
      write_values<double>(dir, "f64.npy", {2, 3}, {0, 1, 1, 1, 0, 0}),
  };
  for (const auto& p : paths) EXPECT_EQ(load_binary_data(p), want) << p;
  // An empty axis is refused with the file and the axis (it once reached the kernels).
  const std::string empty = write_values<float>(dir, "empty.npy", {0, 784}, {});
  test::expect_error([&] { load_binary_data(empty); }, Exit::data,
                     empty + ": the array of shape (0, 784) is empty: axis 0 has length 0");
  const std::string no_columns = write_values<float>(dir, "no_columns.npy", {3, 0}, {});
  test::expect_error([&] { load_binary_data(no_columns); }, Exit::data,
                     no_columns + ": the array of shape (3, 0) is empty: axis 1 has length 0");
}

TEST(Dataset, BadNpyMessages) {
  test::TempDir dir;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::string p = write_values<double>(dir, "nan.npy", {2, 3}, {0, 1, 1, 1, 0, nan});
  expect_error(p, 0.5, Exit::data, p + ": entry at row 1, column 2 (0-based) is NaN; binary data must be 0 or 1");
  p = write_values<float>(dir, "nanf.npy", {2, 2}, {0, std::numeric_limits<float>::quiet_NaN(), 1, 1});
  expect_error(p, 0.5, Exit::data, p + ": entry at row 0, column 1 (0-based) is NaN; binary data must be 0 or 1");
  p = write_values<float>(dir, "half.npy", {3, 2}, {0, 1, 1, 1, 0.3f, 0});
  expect_error(p, 0.5, Exit::data, p + ": entry at row 2, column 0 (0-based) is 0.3; binary data must be 0 or 1");
  p = write_values<double>(dir, "inf.npy", {1, 2}, {1, -std::numeric_limits<double>::infinity()});
  expect_error(p, 0.5, Exit::data, p + ": entry at row 0, column 1 (0-based) is -inf; binary data must be 0 or 1");
  p = write_values<std::uint8_t>(dir, "u8.npy", {2, 2}, {0, 1, 255, 1});
  expect_error(p, 0.5, Exit::data, p + ": entry at row 1, column 0 (0-based) is 255; binary data must be 0 or 1");
  p = write_values<std::int32_t>(dir, "i32.npy", {2, 2}, {0, 1, 1, -1});
  expect_error(p, 0.5, Exit::data, p + ": entry at row 1, column 1 (0-based) is -1; binary data must be 0 or 1");
  p = write_values<std::int64_t>(dir, "i64.npy", {1, 3}, {0, 2, 1});
  expect_error(p, 0.5, Exit::data, p + ": entry at row 0, column 1 (0-based) is 2; binary data must be 0 or 1");
  p = write_values<std::uint8_t>(dir, "vec.npy", {4}, {0, 1, 1, 0});
  expect_error(p, 0.5, Exit::data, p + ": expected a 2-D array of 0s and 1s, got shape (4,)");
  p = write_values<std::uint8_t>(dir, "cube.npy", {1, 2, 2}, {0, 1, 1, 0});
  expect_error(p, 0.5, Exit::data, p + ": expected a 2-D array of 0s and 1s, got shape (1, 2, 2)");
  p = write_values<std::uint8_t>(dir, "scalar.npy", {}, {1});
  expect_error(p, 0.5, Exit::data, p + ": expected a 2-D array of 0s and 1s, got shape ()");
  p = dir.file("missing.npy");
  expect_error(p, 0.5, Exit::no_input, p + ": cannot open: No such file or directory");
}

TEST(Dataset, BadArguments) {
  const std::string forms =
      ": unknown data argument; expected a .npy file (a 2-D array of 0s and 1s), fashion-mnist:train or "
      "fashion-mnist:test";
  expect_error("data.csv", 0.5, Exit::usage, "data.csv" + forms);
  expect_error("fashion-mnist", 0.5, Exit::usage, "fashion-mnist" + forms);
  expect_error("fashion-mnist:valid", 0.5, Exit::usage, "fashion-mnist:valid" + forms);
  expect_error("", 0.5, Exit::usage,
               "load_binary_data: the data argument is empty; expected a .npy file (a 2-D array of 0s and 1s), "
               "fashion-mnist:train or fashion-mnist:test");
  expect_error("x.npy", 1.0, Exit::usage, "load_binary_data: threshold must be in [0, 1), got 1");
  expect_error("fashion-mnist:train", -0.25, Exit::usage, "load_binary_data: threshold must be in [0, 1), got -0.25");
  expect_error("fashion-mnist:train", std::numeric_limits<double>::quiet_NaN(), Exit::usage,
               "load_binary_data: threshold must be in [0, 1), got nan");
}

// An IDX image file like Fashion-MNIST's: n images of 28x28, pixel value (i * 37) % 256.
void write_fake_images(const std::string& path, std::uint32_t n, std::uint32_t side = 28) {
  std::string s = {'\0', '\0', '\x08', '\x03'};
  for (std::uint32_t d : {n, side, side})
    for (int b = 3; b >= 0; --b) s += static_cast<char>((d >> (8 * b)) & 0xFF);
  for (std::size_t i = 0; i < std::size_t{n} * side * side; ++i) s += static_cast<char>((i * 37) % 256);
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, s.data(), static_cast<unsigned>(s.size())), static_cast<int>(s.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

TEST(Dataset, FashionMnistFromOverriddenDir) {
  test::TempDir dir;
  ScopedEnv env("LOGZ_FASHION_MNIST_DIR", dir.path().string());
  EXPECT_EQ(fashion_mnist_dir(), dir.path().string());

  const std::string train = dir.file("train-images-idx3-ubyte.gz");
  expect_error("fashion-mnist:train", 0.5, Exit::no_input,
               train +
                   ": cannot open: No such file or directory (install the Fashion-MNIST files with `apt-get install "
                   "dataset-fashion-mnist`, or set LOGZ_FASHION_MNIST_DIR)");

  write_fake_images(train, 3);
  write_fake_images(dir.file("t10k-images-idx3-ubyte.gz"), 2);
  for (double threshold : {0.0, 0.5, 0.9}) {
    const MatrixU8 x = load_binary_data("fashion-mnist:train", threshold);
    ASSERT_EQ(x.rows(), 3);
    ASSERT_EQ(x.cols(), 784);
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      const double pixel = static_cast<double>((i * 37) % 256);
      ASSERT_EQ(x.data()[i], pixel / 255.0 > threshold ? 1 : 0) << i;
    }
  }
  // Pixel 0 is off even at threshold 0 (the comparison is strict).
  const MatrixU8 t = load_binary_data("fashion-mnist:test", 0.5);
  EXPECT_EQ(t.rows(), 2);
  EXPECT_EQ(t.data()[0], 0);

  write_fake_images(train, 2, 27);
  expect_error("fashion-mnist:train", 0.5, Exit::data,
               train + ": expected Fashion-MNIST images of shape (N, 28, 28), got (2, 27, 27)");
}

TEST(Dataset, DefaultDir) {
  const char* old = std::getenv("LOGZ_FASHION_MNIST_DIR");
  if (old) GTEST_SKIP() << "LOGZ_FASHION_MNIST_DIR is set";
  EXPECT_EQ(fashion_mnist_dir(), "/usr/share/datasets/fashion-mnist");
  ScopedEnv env("LOGZ_FASHION_MNIST_DIR", "");
  EXPECT_EQ(fashion_mnist_dir(), "/usr/share/datasets/fashion-mnist");
}

TEST(Dataset, RealFashionMnist) {
  const char* dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(fs::path(dir) / "train-images-idx3-ubyte.gz") ||
      !fs::exists(fs::path(dir) / "t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  ScopedEnv env("LOGZ_FASHION_MNIST_DIR", dir);
  const MatrixU8 train = load_binary_data("fashion-mnist:train");
  ASSERT_EQ(train.rows(), 60000);
  ASSERT_EQ(train.cols(), 784);
  const MatrixU8 test = load_binary_data("fashion-mnist:test");
  ASSERT_EQ(test.rows(), 10000);
  ASSERT_EQ(test.cols(), 784);
  // The data are fixed, so the number of pixels above half intensity is too.
  const long long ones = train.cast<long long>().sum();
  EXPECT_EQ(ones, 14801503);  // mean 0.31466, computed independently with NumPy
  const double mean = static_cast<double>(ones) / (60000.0 * 784.0);
  EXPECT_GT(mean, 0.2);
  EXPECT_LT(mean, 0.6);
  EXPECT_EQ(test.cast<long long>().sum(), 2471969);
}

}  // namespace
}  // namespace logz::io
