// Tests of the .npy reader and writer: round trips for every dtype and rank, NumPy's
// exact bytes (checked against NumPy itself when it is installed), and the pinned
// message of every malformed-input case.
#include "logz/io/npy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/io/atomic_file.hpp"
#include "support/expect_error.hpp"
#include "support/python.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

namespace fs = std::filesystem;

Array parse(const std::string& s, std::string_view name = "x.npy") {
  return parse_npy(std::as_bytes(std::span(s.data(), s.size())), name);
}

// The same values the Python scripts below build: (i*7 % 11), minus 3 for signed types,
// times 0.25 for floats.
template <class T>
Array sample(std::vector<std::size_t> shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto base = static_cast<std::int64_t>(i * 7 % 11);
    if constexpr (std::is_same_v<T, std::uint8_t>) v[i] = static_cast<T>(base);
    else if constexpr (std::is_integral_v<T>) v[i] = static_cast<T>(base - 3);
    else v[i] = static_cast<T>(static_cast<double>(base - 3) * 0.25);
  }
  return Array::from_values<T>(std::move(shape), v);
}

const std::vector<std::vector<std::size_t>> kShapes = {{}, {0}, {5}, {3, 4}, {2, 3, 4}, {0, 3}};

Array sample_of(DType t, const std::vector<std::size_t>& shape) {
  switch (t) {
    case DType::u8: return sample<std::uint8_t>(shape);
    case DType::i32: return sample<std::int32_t>(shape);
    case DType::i64: return sample<std::int64_t>(shape);
    case DType::f32: return sample<float>(shape);
    case DType::f64: return sample<double>(shape);
  }
  return {};
}
const DType kDTypes[] = {DType::u8, DType::i32, DType::i64, DType::f32, DType::f64};

// A .npy file with the given version and header text (padding added), then `data`.
std::string make_npy(const std::string& header, std::size_t data_bytes, int major = 1) {
  std::string h = header;
  const std::size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((h.size() >> (8 * i)) & 0xFF);
  out += h;
  out.append(data_bytes, '\0');
  return out;
}

void expect_error(const std::string& bytes, Exit code, const std::string& message) {
  test::expect_error([&] { parse(bytes); }, code, message);
}

TEST(Npy, RoundTripEveryDtypeAndRank) {
  test::TempDir dir;
  for (DType t : kDTypes) {
    for (const auto& shape : kShapes) {
      const Array a = sample_of(t, shape);
      const Array b = parse(encode_npy(a));
      EXPECT_EQ(b.dtype, t);
      EXPECT_EQ(b.shape, shape);
      EXPECT_EQ(b.bytes, a.bytes);
      const std::string path = dir.file("a.npy");
      write_npy(path, a);
      const Array c = read_npy(path);
      EXPECT_EQ(c.dtype, t);
      EXPECT_EQ(c.shape, shape);
      EXPECT_EQ(c.bytes, a.bytes);
    }
  }
}

TEST(Npy, HeaderIsNumPys) {
  const std::string s = encode_npy(sample<double>({3, 4}));
  ASSERT_EQ(s.size(), 128u + 96u);
  const std::string expected_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
  EXPECT_EQ(s.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(s.substr(10, expected_dict.size()), expected_dict);
  EXPECT_EQ(s.substr(10 + expected_dict.size(), 127 - 10 - expected_dict.size()),
            std::string(127 - 10 - expected_dict.size(), ' '));
  EXPECT_EQ(s[127], '\n');

  const std::string scalar = encode_npy(sample<std::uint8_t>({}));
  EXPECT_EQ(scalar.size(), 129u);
  EXPECT_EQ(scalar.substr(10, 57), "{'descr': '|u1', 'fortran_order': False, 'shape': (), }  ");
  const std::string vec = encode_npy(sample<std::int32_t>({5}));
  EXPECT_EQ(vec.substr(10, 58), "{'descr': '<i4', 'fortran_order': False, 'shape': (5,), } ");
}

TEST(Npy, HugeHeaderUsesVersion2) {
  // 30000 axes of length 1: the header no longer fits version 1.0's 16-bit length.
  const Array a = sample<float>(std::vector<std::size_t>(30000, 1));
  const std::string s = encode_npy(a);
  EXPECT_EQ(s[6], '\x02');
  const std::size_t header_len = static_cast<unsigned char>(s[8]) | (static_cast<unsigned char>(s[9]) << 8) |
                                 (static_cast<unsigned char>(s[10]) << 16);
  EXPECT_EQ((12 + header_len) % 64, 0u);
  EXPECT_EQ(s[12 + header_len - 1], '\n');
  // Reading it back is refused: NumPy allows at most 64 dimensions (a version 2.0 header
  // of an ordinary array is read in ToleratesHeaderVariants).
  test::expect_error([&] { parse(s); }, Exit::data,
                     "x.npy: malformed .npy header: 'shape' has 30000 dimensions; NumPy allows at most 64");
}

TEST(Npy, RepeatedHeaderKeyIsRefused) {
  // Python keeps the last of a repeated key; a reader that kept the first would see another
  // array than NumPy does, so neither is chosen.
  const std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 6), 'shape': (4, 3), }";
  std::string s = encode_npy(sample<double>({4, 3}));
  const std::size_t len = static_cast<unsigned char>(s[8]) | (static_cast<unsigned char>(s[9]) << 8);
  std::string padded = header + std::string(len - 1 - header.size(), ' ') + "\n";
  s.replace(10, len, padded);
  test::expect_error([&] { parse(s); }, Exit::data,
                     "x.npy: malformed .npy header: the key 'shape' is repeated at offset 65: " + header);
}

TEST(Npy, ToleratesHeaderVariants) {
  // Key order, double quotes, spacing, no trailing comma, '=' and '<u1', version 2.0/3.0,
  // Python 2 long literals, extra keys.
  const std::string headers[] = {
      "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f8'}",
      "{ \"descr\" : \"<f8\" ,\n'fortran_order':False,'shape':(2,3,) , }",
      "{'descr': '=f8', 'fortran_order': False, 'shape': (2L, 3L), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': [1, (2, 'x'), None, True]}",
  };
  for (const auto& h : headers) {
    for (int major : {1, 2, 3}) {
      const Array a = parse(make_npy(h, 48, major));
      EXPECT_EQ(a.dtype, DType::f64) << h;
      EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3})) << h;
    }
  }
  EXPECT_EQ(parse(make_npy("{'descr': '<u1', 'fortran_order': False, 'shape': (4,)}", 4)).dtype, DType::u8);
  EXPECT_EQ(parse(make_npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,)}", 4)).dtype, DType::u8);
  EXPECT_EQ(parse(make_npy("{'descr': '<i8', 'fortran_order': False, 'shape': ()}", 8)).shape.size(), 0u);
}

// Fortran order is the transposed layout: the stored bytes of a (2, 3) array are its
// columns one after the other, and the reader gives back the C-order (row-major) bytes.
TEST(Npy, FortranOrderIsPermutedIntoCOrder) {
  std::string file = make_npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", 0);
  for (double v : {0.0, 3.0, 1.0, 4.0, 2.0, 5.0}) file.append(reinterpret_cast<const char*>(&v), sizeof v);
  const Array a = parse(file);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  // Rank 3, uint8: element (i, j, k) stored at i + 2j + 6k.
  file = make_npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3, 4), }", 0);
  for (int f = 0; f < 24; ++f) {
    const int i = f % 2, j = f / 2 % 3, k = f / 6;
    file += static_cast<char>((i * 3 + j) * 4 + k);  // its C-order position
  }
  std::vector<std::uint8_t> want(24);
  for (int c = 0; c < 24; ++c) want[std::size_t(c)] = std::uint8_t(c);
  EXPECT_EQ(parse(file).to_vector<std::uint8_t>(), want);
  // 0-d, 1-d and shapes with one axis longer than 1 store the same bytes in both orders.
  const std::vector<std::pair<std::string, std::int32_t>> shapes = {{"()", 1},     {"(3,)", 3},   {"(1, 3)", 3},
                                                                    {"(3, 1)", 3}, {"(0, 3)", 0}, {"(2, 0, 2)", 0},
                                                                    {"(1, 4, 1)", 4}};
  for (const auto& [shape, n] : shapes) {
    SCOPED_TRACE(shape);
    std::string f = make_npy("{'descr': '<i4', 'fortran_order': True, 'shape': " + shape + ", }", 0);
    std::vector<std::int32_t> values;
    for (std::int32_t v = 0; v < n; ++v) {
      values.push_back(10 * v - 7);
      f.append(reinterpret_cast<const char*>(&values.back()), sizeof(std::int32_t));
    }
    EXPECT_EQ(parse(f).to_vector<std::int32_t>(), values);
  }
}

TEST(Npy, MalformedInputMessages) {
  const std::string ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  expect_error("", Exit::data, "x.npy: not a .npy file (bad magic string)");
  expect_error("PK\x03\x04 not npy at all", Exit::data, "x.npy: not a .npy file (bad magic string)");
  expect_error(std::string("\x93NUMPY\x01", 7), Exit::data,
               "x.npy: truncated .npy header: expected at least 10 bytes, got 7");
  expect_error(std::string("\x93NUMPY\x02\x00\x10", 9), Exit::data,
               "x.npy: truncated .npy header: expected at least 12 bytes, got 9");
  expect_error(make_npy(ok, 48).substr(0, 50), Exit::data, "x.npy: truncated .npy header: expected 128 bytes, got 50");
  expect_error(make_npy(ok, 48, 4), Exit::data,
               "x.npy: unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)");
  expect_error(make_npy(ok, 40), Exit::data,
               "x.npy: truncated .npy data: expected 48 bytes for shape (2, 3) float64, got 40");
  expect_error(make_npy(ok, 0), Exit::data,
               "x.npy: truncated .npy data: expected 48 bytes for shape (2, 3) float64, got 0");
  expect_error(make_npy(ok, 50), Exit::data,
               "x.npy: .npy data has 50 bytes, expected 48 for shape (2, 3) float64 (trailing bytes)");
  expect_error(make_npy("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", 48), Exit::data,
               "x.npy: big-endian dtype '>f8' is not supported; convert with a.astype('<f8')");
  expect_error(make_npy("{'descr': '>i4', 'fortran_order': False, 'shape': (2, 3), }", 24), Exit::data,
               "x.npy: big-endian dtype '>i4' is not supported; convert with a.astype('<i4')");
  expect_error(make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2, 3), }", 6), Exit::data,
               "x.npy: unsupported dtype '|b1' (bool); supported dtypes are uint8, int32, int64, float32, float64");
  expect_error(make_npy("{'descr': '<c16', 'fortran_order': False, 'shape': (2, 3), }", 96), Exit::data,
               "x.npy: unsupported dtype '<c16' (complex128); supported dtypes are uint8, int32, int64, float32, "
               "float64");
  expect_error(make_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", 12), Exit::data,
               "x.npy: unsupported dtype '<f2' (float16); supported dtypes are uint8, int32, int64, float32, float64");
  expect_error(make_npy("{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3), }", 6), Exit::data,
               "x.npy: unsupported dtype '|i1' (int8); supported dtypes are uint8, int32, int64, float32, float64");
  expect_error(make_npy("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", 24), Exit::data,
               "x.npy: unsupported dtype '<U3' (unicode string); supported dtypes are uint8, int32, int64, float32, "
               "float64");
  expect_error(make_npy("{'descr': 'xyz', 'fortran_order': False, 'shape': (2,), }", 24), Exit::data,
               "x.npy: unsupported dtype 'xyz'; supported dtypes are uint8, int32, int64, float32, float64");
  expect_error(make_npy("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", 16), Exit::data,
               "x.npy: unsupported dtype [('a', '<f8')] (a structured array); supported dtypes are uint8, int32, "
               "int64, float32, float64");
  expect_error(make_npy("{'descr': 8, 'fortran_order': False, 'shape': (2,), }", 16), Exit::data,
               "x.npy: malformed .npy header: 'descr' must be a string, got 8");
  expect_error(make_npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,), }", 16), Exit::data,
               "x.npy: malformed .npy header: 'fortran_order' must be True or False, got 0");
  expect_error(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3), }", 16), Exit::data,
               "x.npy: malformed .npy header: 'shape' must be a tuple of non-negative integers, got (2, -3)");
  expect_error(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': [2, 3], }", 48), Exit::data,
               "x.npy: malformed .npy header: 'shape' must be a tuple of non-negative integers, got [2, 3]");
  expect_error(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2), }", 16), Exit::data,
               "x.npy: malformed .npy header: 'shape' must be a tuple of non-negative integers, got (2)");
  expect_error(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 'a'), }", 16), Exit::data,
               "x.npy: malformed .npy header: 'shape' must be a tuple of non-negative integers, got (2, 'a')");
  expect_error(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", 16),
               Exit::data,
               "x.npy: malformed .npy header: 'shape' must be a tuple of non-negative integers, got "
               "(99999999999999999999,)");
  expect_error(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 16),
               Exit::data, "x.npy: malformed .npy header: shape (4294967296, 4294967296) is too large");
  expect_error(make_npy("{'descr': '<f8', 'fortran_order': False}", 8), Exit::data,
               "x.npy: malformed .npy header: missing key 'shape'");
  expect_error(make_npy("{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}", 16), Exit::data,
               "x.npy: malformed .npy header: expected ',' or '}' in the dict at offset 16: {'descr': '<f8' "
               "'fortran_order': False, 'shape': (2,)}");
  expect_error(make_npy("['descr', '<f8']", 8), Exit::data,
               "x.npy: malformed .npy header: expected a Python dict literal at offset 0: ['descr', '<f8']");
  expect_error(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} x", 16), Exit::data,
               "x.npy: malformed .npy header: unexpected text after the dict at offset 56: {'descr': '<f8', "
               "'fortran_order': False, 'shape': (2,)} x");
  expect_error(make_npy("{'descr': '<f8", 8), Exit::data,
               "x.npy: malformed .npy header: unterminated string at offset 54: {'descr': '<f8");
  expect_error(make_npy("{'descr': '<f99999999999999999999', 'fortran_order': False, 'shape': (2,)}", 8), Exit::data,
               "x.npy: unsupported dtype '<f99999999999999999999'; supported dtypes are uint8, int32, int64, float32, "
               "float64");
  expect_error(make_npy("{'descr': '<f8', 'x': " + std::string(40, '[') + "}", 8), Exit::data,
               "x.npy: malformed .npy header: nesting too deep at offset 54: {'descr': '<f8', 'x': " +
                   std::string(40, '[') + "}");
  expect_error(make_npy("{'descr': <f8}", 8), Exit::data,
               "x.npy: malformed .npy header: unexpected character at offset 10: {'descr': <f8}");
}

TEST(Npy, ReadMissingFile) {
  test::TempDir dir;
  const std::string path = dir.file("missing.npy");
  test::expect_error([&] { read_npy(path); }, Exit::no_input, path + ": cannot open: No such file or directory");
  // A malformed file's message starts with its path.
  write_file_atomic(path, "hello");
  test::expect_error([&] { read_npy(path); }, Exit::data, path + ": not a .npy file (bad magic string)");
}

TEST(Npy, FailedWriteLeavesNothing) {
  test::TempDir dir;
  const std::string path = dir.file("no-such-dir/a.npy");
  test::expect_error([&] { write_npy(path, sample<double>({2, 2})); }, Exit::cant_create,
                     path + ": cannot create: No such file or directory");
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Array, Conversions) {
  const Array a = sample<std::int32_t>({2, 3});  // -3 4 0 7 3 -1
  const MatrixD m = a.to_matrix<double>("weights");
  EXPECT_EQ(m.rows(), 2);
  EXPECT_EQ(m.cols(), 3);
  EXPECT_EQ(m(1, 0), 7.0);
  EXPECT_EQ(m(0, 0), -3.0);
  EXPECT_EQ(a.to_matrix<float>("w")(1, 2), -1.0f);
  EXPECT_EQ(a.to_matrix<std::int64_t>("w")(0, 1), 4);
  EXPECT_EQ(a.at(3), 7.0);
  EXPECT_EQ(a.shape_string(), "(2, 3)");
  EXPECT_EQ(sample<float>({}).shape_string(), "()");
  EXPECT_EQ(sample<float>({7}).shape_string(), "(7,)");
  EXPECT_EQ(sample<float>({}).size(), 1u);

  const Array v = sample<double>({4});
  const VectorF c = v.to_column<float>("bias");
  EXPECT_EQ(c.size(), 4);
  EXPECT_EQ(c(1), 1.0f);
  EXPECT_EQ(v.to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 1, 0, 1}));  // -0.75 1 0 1.75, truncated toward zero

  const MatrixF mf = MatrixF::Random(3, 5);
  const Array af = Array::from_matrix(mf);
  EXPECT_EQ(af.shape, (std::vector<std::size_t>{3, 5}));
  EXPECT_EQ(af.dtype, DType::f32);
  EXPECT_EQ(af.to_matrix<float>("m"), mf);
  const VectorD vd = VectorD::LinSpaced(6, 0, 1);
  const Array av = Array::from_vector(vd);
  EXPECT_EQ(av.to_column<double>("v"), vd);
  EXPECT_EQ(numpy_descr(DType::u8), "|u1");
  EXPECT_EQ(dtype_name(DType::i64), "int64");
  EXPECT_EQ(dtype_size(DType::f32), 4u);
}

TEST(Array, ConversionErrors) {
  using test::expect_error;
  expect_error([] { sample<double>({6}).to_matrix<double>("weights"); }, Exit::data,
               "weights: expected a 2-D array, got shape (6,)");
  expect_error([] { sample<double>({2, 3}).to_column<double>("visible_bias"); }, Exit::data,
               "visible_bias: expected a 1-D array, got shape (2, 3)");
  expect_error([] { Array::from_values<std::int64_t>({2}, {1, 300}).to_vector<std::uint8_t>(); }, Exit::data,
               "element 1 = 300 does not fit in uint8");
  expect_error(
      [] {
        Array::from_values<double>({1, 2}, {1.0, std::numeric_limits<double>::quiet_NaN()}).to_matrix<std::int32_t>(
            "m");
      },
      Exit::data, "m: element 1 = nan does not fit in int32");
  expect_error([] { Array::from_values<float>({1}, {3e9f}).to_column<std::int32_t>("v"); }, Exit::data,
               "v: element 0 = 3000000000 does not fit in int32");
  expect_error([] { Array::from_values<double>({2, 2}, {1, 2, 3}); }, Exit::software,
               "Array::from_values: shape (2, 2) has 4 elements but 3 values were given");
}

TEST(NpyNumPy, NumPyWritesLogzReads) {
  if (!test::have_numpy()) GTEST_SKIP() << "python3 with numpy is not installed";
  test::TempDir dir;
  const std::string script = R"(
import sys, numpy as np
d = sys.argv[1]
shapes = [(), (0,), (5,), (3, 4), (2, 3, 4), (0, 3)]
for t in ['u1', 'i4', 'i8', 'f4', 'f8']:
    for k, s in enumerate(shapes):
        n = int(np.prod(s))
        v = np.arange(n) * 7 % 11
        if t != 'u1': v = v - 3
        if t[0] == 'f': v = v * 0.25
        np.save(f'{d}/{t}_{k}.npy', v.astype(t).reshape(s))
a = np.arange(6.0).reshape(2, 3)
np.save(f'{d}/fortran.npy', np.asfortranarray(a))
np.save(f'{d}/big.npy', a.astype('>f8'))
np.save(f'{d}/bool.npy', a > 2)
np.save(f'{d}/noncontig.npy', a[:, ::2])
)";
  ASSERT_EQ(test::run_python(dir, script), 0);
  const char* names[] = {"u1", "i4", "i8", "f4", "f8"};
  for (int ti = 0; ti < 5; ++ti) {
    for (std::size_t k = 0; k < kShapes.size(); ++k) {
      const std::string path = dir.file(std::string(names[ti]) + "_" + std::to_string(k) + ".npy");
      const Array a = read_npy(path);
      const Array expected = sample_of(kDTypes[ti], kShapes[k]);
      EXPECT_EQ(a.dtype, expected.dtype) << path;
      EXPECT_EQ(a.shape, expected.shape) << path;
      EXPECT_EQ(a.bytes, expected.bytes) << path;
      EXPECT_EQ(encode_npy(a), read_file(path)) << "bytes differ from NumPy's for " << path;
    }
  }
  auto expect = [&](const std::string& name, const std::string& msg) {
    test::expect_error([&] { read_npy(dir.file(name)); }, Exit::data, dir.file(name) + ": " + msg);
  };
  EXPECT_EQ(read_npy(dir.file("fortran.npy")).to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  expect("big.npy", "big-endian dtype '>f8' is not supported; convert with a.astype('<f8')");
  expect("bool.npy",
         "unsupported dtype '|b1' (bool); supported dtypes are uint8, int32, int64, float32, float64");
  // np.save writes a non-contiguous slice in C order.
  EXPECT_EQ(read_npy(dir.file("noncontig.npy")).to_vector<double>(), (std::vector<double>{0, 2, 3, 5}));
}

// Every dtype, ranks 0 to 3, written by NumPy in C order and in Fortran order (as
// np.asfortranarray, `W.T` and MATLAB exports give it): both read as the same C-order array.
TEST(NpyNumPy, NumPyFortranAndCOrderReadAlike) {
  if (!test::have_numpy()) GTEST_SKIP() << "python3 with numpy is not installed";
  test::TempDir dir;
  const std::vector<std::vector<std::size_t>> shapes = {{}, {7}, {3, 4}, {37, 23}, {1, 5}, {2, 3, 4}, {4, 1, 3}, {5, 2, 3}};
  const std::string script = R"(
import sys, numpy as np
d = sys.argv[1]
shapes = [(), (7,), (3, 4), (37, 23), (1, 5), (2, 3, 4), (4, 1, 3), (5, 2, 3)]
for t in ['u1', 'i4', 'i8', 'f4', 'f8']:
    for k, s in enumerate(shapes):
        n = int(np.prod(s))
        v = np.arange(n) * 7 % 11
        if t != 'u1': v = v - 3
        if t[0] == 'f': v = v * 0.25
        a = v.astype(t).reshape(s)
        np.save(f'{d}/{t}_{k}_c.npy', a)
        # (np.asfortranarray and np.ascontiguousarray make a 0-d array 1-d: keep it 0-d.)
        np.save(f'{d}/{t}_{k}_f.npy', np.asfortranarray(a) if a.ndim else a)
        # The transpose of a C-order array is Fortran-ordered: what `weights=W.T` saves.
        np.save(f'{d}/{t}_{k}_t.npy', np.ascontiguousarray(a.T).T if a.ndim else a)
)";
  ASSERT_EQ(test::run_python(dir, script), 0);
  const char* names[] = {"u1", "i4", "i8", "f4", "f8"};
  for (int ti = 0; ti < 5; ++ti)
    for (std::size_t k = 0; k < shapes.size(); ++k) {
      const Array expected = sample_of(kDTypes[ti], shapes[k]);
      std::size_t long_axes = 0;
      for (std::size_t d : shapes[k]) long_axes += d > 1;
      for (const char* order : {"c", "f", "t"}) {
        const std::string path = dir.file(std::string(names[ti]) + "_" + std::to_string(k) + "_" + order + ".npy");
        SCOPED_TRACE(path);
        // The file really is in the order under test.
        const bool fortran = read_file(path).find("'fortran_order': True") != std::string::npos;
        EXPECT_EQ(fortran, std::string(order) != "c" && long_axes > 1);
        const Array a = read_npy(path);
        EXPECT_EQ(a.dtype, expected.dtype);
        EXPECT_EQ(a.shape, expected.shape);
        EXPECT_EQ(a.bytes, expected.bytes);
        // Every element, by its value.
        const std::vector<double> got = a.to_vector<double>(), want = expected.to_vector<double>();
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "element " << i;
        // Written back, it is C order with NumPy's own bytes.
        EXPECT_EQ(encode_npy(a), read_file(dir.file(std::string(names[ti]) + "_" + std::to_string(k) + "_c.npy")));
      }
    }
}

TEST(NpyNumPy, LogzWritesNumPyReads) {
  if (!test::have_numpy()) GTEST_SKIP() << "python3 with numpy is not installed";
  test::TempDir dir;
  const char* names[] = {"u1", "i4", "i8", "f4", "f8"};
  for (int ti = 0; ti < 5; ++ti)
    for (std::size_t k = 0; k < kShapes.size(); ++k)
      write_npy(dir.file(std::string(names[ti]) + "_" + std::to_string(k) + ".npy"), sample_of(kDTypes[ti], kShapes[k]));
  const std::string script = R"(
import io, sys, numpy as np
d = sys.argv[1]
shapes = [(), (0,), (5,), (3, 4), (2, 3, 4), (0, 3)]
bad = 0
for t in ['u1', 'i4', 'i8', 'f4', 'f8']:
    for k, s in enumerate(shapes):
        path = f'{d}/{t}_{k}.npy'
        n = int(np.prod(s))
        v = np.arange(n) * 7 % 11
        if t != 'u1': v = v - 3
        if t[0] == 'f': v = v * 0.25
        want = v.astype(t).reshape(s)
        got = np.load(path)
        buf = io.BytesIO(); np.save(buf, want)
        if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
            print('values differ:', path); bad += 1
        if open(path, 'rb').read() != buf.getvalue():
            print('bytes differ:', path); bad += 1
sys.exit(1 if bad else 0)
)";
  EXPECT_EQ(test::run_python(dir, script), 0);
}

}  // namespace
}  // namespace logz::io
