// Data arguments: binary training data from a .npy file (NumPy format, see npy.cpp) or
// from the Fashion-MNIST IDX files (Xiao, Rasul & Vollgraf 2017; see idx.cpp) as the
// Debian package dataset-fashion-mnist installs them.
#include "logz/io/dataset.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "logz/core/check.hpp"
#include "logz/io/idx.hpp"
#include "logz/io/npy.hpp"

namespace logz::io {
namespace {

constexpr std::string_view kAcceptedForms =
    "expected a .npy file (a 2-D array of 0s and 1s), fashion-mnist:train or fashion-mnist:test";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

template <class S>
S load(const std::byte* p) {
  S v;
  std::memcpy(&v, p, sizeof(S));
  return v;
}

MatrixU8 load_fashion_mnist(std::string_view split, double threshold) {
  const std::string file = split == "train" ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz";
  const std::string path = fashion_mnist_dir() + "/" + file;
  Array images;
  try {
    images = read_idx(path);
  } catch (const Error& e) {
    if (e.code() != Exit::no_input) throw;
    throw Error(Exit::no_input, fmt::format("{} (install the Fashion-MNIST files with `apt-get install "
                                            "dataset-fashion-mnist`, or set LOGZ_FASHION_MNIST_DIR)",
                                            e.what()));
  }
  check_data(images.ndim() == 3 && images.shape[1] == 28 && images.shape[2] == 28,
             "{}: expected Fashion-MNIST images of shape (N, 28, 28), got {}", path, images.shape_string());
  const auto rows = static_cast<Eigen::Index>(images.shape[0]);
  MatrixU8 x(rows, 28 * 28);
  const std::size_t n = images.size();
  std::uint8_t* out = x.data();
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<double>(static_cast<std::uint8_t>(images.bytes[i])) / 255.0 > threshold ? 1 : 0;
  return x;
}

MatrixU8 load_binary_npy(const std::string& path) {
  const Array a = read_npy(path);
  check_data(a.ndim() == 2, "{}: expected a 2-D array of 0s and 1s, got shape {}", path, a.shape_string());
  a.nonempty(path);
  const std::size_t cols = a.shape[1];
  MatrixU8 x(static_cast<Eigen::Index>(a.shape[0]), static_cast<Eigen::Index>(cols));
  std::uint8_t* out = x.data();
  const std::size_t n = a.size();
  auto check_all = [&](auto tag) {
    using S = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      const S v = load<S>(a.bytes.data() + i * sizeof(S));
      if (v == S{0} || v == S{1}) [[likely]] {
        out[i] = static_cast<std::uint8_t>(v);
        continue;
      }
      if constexpr (std::is_floating_point_v<S>) {
        if (std::isnan(v))
          fail(Exit::data, "{}: entry at row {}, column {} (0-based) is NaN; binary data must be 0 or 1", path,
               i / cols, i % cols);
      }
      fail(Exit::data, "{}: entry at row {}, column {} (0-based) is {}; binary data must be 0 or 1", path, i / cols,
           i % cols, v);
    }
  };
  switch (a.dtype) {
    case DType::u8: check_all(std::uint8_t{}); break;
    case DType::i32: check_all(std::int32_t{}); break;
    case DType::i64: check_all(std::int64_t{}); break;
    case DType::f32: check_all(float{}); break;
    case DType::f64: check_all(double{}); break;
  }
  return x;
}

}  // namespace

std::string fashion_mnist_dir() {
  const char* dir = std::getenv("LOGZ_FASHION_MNIST_DIR");
  return dir && *dir ? std::string(dir) : std::string("/usr/share/datasets/fashion-mnist");
}

MatrixU8 load_binary_data(const std::string& spec, double threshold) {
  check_arg(threshold >= 0.0 && threshold < 1.0, "load_binary_data: threshold must be in [0, 1), got {}", threshold);
  check_arg(!spec.empty(), "load_binary_data: the data argument is empty; {}", kAcceptedForms);
  if (spec == "fashion-mnist:train") return load_fashion_mnist("train", threshold);
  if (spec == "fashion-mnist:test") return load_fashion_mnist("test", threshold);
  if (ends_with(spec, ".npy")) return load_binary_npy(spec);
  fail(Exit::usage, "{}: unknown data argument; {}", spec, kAcceptedForms);
}

}  // namespace logz::io
