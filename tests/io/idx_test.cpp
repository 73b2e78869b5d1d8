// Tests of the IDX reader on small gzip and plain files written here with zlib, and the
// pinned messages for bad magic, types, ranks, truncated headers and payloads.
#include "logz/io/idx.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/io/atomic_file.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

namespace fs = std::filesystem;

// IDX bytes: magic (0, 0, type, ndim), big-endian dims, then `payload` bytes i % 251.
std::string idx_bytes(const std::vector<std::uint32_t>& dims, std::size_t payload, unsigned type = 0x08) {
  std::string s = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims)
    for (int b = 3; b >= 0; --b) s += static_cast<char>((d >> (8 * b)) & 0xFF);
  for (std::size_t i = 0; i < payload; ++i) s += static_cast<char>(i % 251);
  return s;
}

void write_gz(const std::string& path, const std::string& contents) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!contents.empty()) {
    ASSERT_EQ(gzwrite(f, contents.data(), static_cast<unsigned>(contents.size())), static_cast<int>(contents.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

void expect_error(const std::string& path, Exit code, const std::string& message) {
  test::expect_error([&] { read_idx(path); }, code, message);
}

TEST(Idx, ReadsGzipAndPlain) {
  test::TempDir dir;
  const std::vector<std::vector<std::uint32_t>> shapes = {{7}, {3, 28, 28}, {2, 3, 4, 5}, {0, 28, 28}, {300, 100}};
  for (const auto& dims : shapes) {
    std::size_t n = 1;
    for (auto d : dims) n *= d;
    const std::string contents = idx_bytes(dims, n);
    write_gz(dir.file("a.gz"), contents);
    write_file_atomic(dir.file("a.idx"), contents);
    for (const char* name : {"a.gz", "a.idx"}) {
      const Array a = read_idx(dir.file(name));
      EXPECT_EQ(a.dtype, DType::u8);
      EXPECT_EQ(a.shape, std::vector<std::size_t>(dims.begin(), dims.end())) << name;
      ASSERT_EQ(a.bytes.size(), n);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(static_cast<unsigned>(a.bytes[i]), i % 251) << name << " " << i;
    }
  }
}

TEST(Idx, Errors) {
  test::TempDir dir;
  const std::string p = dir.file("x.gz");
  expect_error(dir.file("missing.gz"), Exit::no_input, dir.file("missing.gz") + ": cannot open: No such file or directory");
  expect_error(dir.path().string(), Exit::no_input, dir.path().string() + ": cannot open: Is a directory");

  write_gz(p, "");
  expect_error(p, Exit::data, p + ": truncated IDX header: expected 4 bytes, got 0");
  write_gz(p, std::string("\0\0", 2));
  expect_error(p, Exit::data, p + ": truncated IDX header: expected 4 bytes, got 2");
  write_gz(p, std::string("\x1f\x8b\x08\x00 not idx", 12));
  expect_error(p, Exit::data, p + ": not an IDX file (bad magic 1f 8b 08 00)");
  write_gz(p, idx_bytes({4}, 16, 0x0D));
  expect_error(p, Exit::data, p + ": unsupported IDX data type 0x0d; only 0x08 (unsigned byte) is supported");
  write_gz(p, idx_bytes({}, 0));
  expect_error(p, Exit::data, p + ": unsupported IDX dimension count 0; expected 1 to 4");
  write_gz(p, idx_bytes({1, 1, 1, 1, 1}, 1));
  expect_error(p, Exit::data, p + ": unsupported IDX dimension count 5; expected 1 to 4");
  write_gz(p, idx_bytes({3, 28, 28}, 0).substr(0, 10));
  expect_error(p, Exit::data, p + ": truncated IDX header: expected 16 bytes, got 10");
  write_gz(p, idx_bytes({2, 3, 4}, 20));
  expect_error(p, Exit::data, p + ": truncated IDX data: expected 24 bytes for shape (2, 3, 4), got 20");
  write_gz(p, idx_bytes({60000, 28, 28}, 100));
  expect_error(p, Exit::data, p + ": truncated IDX data: expected 47040000 bytes for shape (60000, 28, 28), got 100");
  write_gz(p, idx_bytes({2, 3}, 9));
  expect_error(p, Exit::data, p + ": IDX data has 9 bytes, expected 6 for shape (2, 3) (trailing bytes)");

  // A gzip stream cut short.
  write_gz(p, idx_bytes({100, 100}, 10000));
  const std::string gz = read_file(p);
  write_file_atomic(p, gz.substr(0, gz.size() / 2));
  expect_error(p, Exit::data, p + ": corrupt or truncated gzip data: unexpected end of file");
  // A valid gzip header followed by a deflate block of the reserved type 3.
  write_file_atomic(p, std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x07\x00\x00\x00", 14));
  expect_error(p, Exit::data, p + ": corrupt or truncated gzip data: invalid block type");
}

}  // namespace
}  // namespace logz::io
