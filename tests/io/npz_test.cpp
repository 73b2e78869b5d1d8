// Tests of the .npz reader and writer: stored and deflated round trips, archives from
// np.savez / np.savez_compressed (when NumPy is installed), and pinned error messages.
#include "logz/io/npz.hpp"

#include <gtest/gtest.h>
#include <zip.h>

#include <filesystem>
#include <string>

#include "logz/core/check.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/npy.hpp"
#include "support/expect_error.hpp"
#include "support/python.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

namespace fs = std::filesystem;

NamedArrays sample_arrays() {
  MatrixD w(3, 2);
  w << 1, 2, 3, 4, 5, -6.5;
  NamedArrays arrays;
  arrays.emplace_back("weights", Array::from_matrix(w));
  arrays.emplace_back("visible_bias", Array::from_values<float>({3}, {0.5f, -1.0f, 2.0f}));
  arrays.emplace_back("counts", Array::from_values<std::int64_t>({2, 1, 2}, {1, 2, 3, 4}));
  arrays.emplace_back("flags", Array::from_values<std::uint8_t>({4}, {0, 1, 1, 0}));
  arrays.emplace_back("step", Array::from_values<std::int32_t>({}, {42}));
  arrays.emplace_back("empty", Array::from_values<double>({0, 5}, {}));
  return arrays;
}

void expect_error(const std::string& path, Exit code, const std::string& message) {
  test::expect_error([&] { read_npz(path); }, code, message);
}

// A zip written directly with libzip, for archives logz itself would never write.
void write_zip(const std::string& path, const std::string& member, const std::string& contents) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  zip_source_t* s = zip_source_buffer(z, contents.data(), contents.size(), 0);
  ASSERT_GE(zip_file_add(z, member.c_str(), s, 0), 0);
  ASSERT_EQ(zip_close(z), 0);
}

TEST(Npz, RoundTripStoredAndDeflated) {
  test::TempDir dir;
  for (bool compress : {false, true}) {
    const std::string path = dir.file(compress ? "c.npz" : "s.npz");
    const NamedArrays arrays = sample_arrays();
    write_npz(path, arrays, compress);
    const auto back = read_npz(path);
    ASSERT_EQ(back.size(), arrays.size());
    for (const auto& [name, a] : arrays) {
      ASSERT_TRUE(back.count(name)) << name;
      const Array& b = back.at(name);
      EXPECT_EQ(b.dtype, a.dtype) << name;
      EXPECT_EQ(b.shape, a.shape) << name;
      EXPECT_EQ(b.bytes, a.bytes) << name;
    }
    // Same arrays, same bytes: member timestamps are fixed.
    const std::string first = read_file(path);
    write_npz(path, arrays, compress);
    EXPECT_EQ(read_file(path), first);
  }
  // Deflate pays off on a repetitive array.
  const NamedArrays zeros = {{"z", Array::from_values<double>({1000}, std::vector<double>(1000, 0.0))}};
  write_npz(dir.file("zs.npz"), zeros, false);
  write_npz(dir.file("zc.npz"), zeros, true);
  EXPECT_GT(fs::file_size(dir.file("zs.npz")), 8000u);
  EXPECT_LT(fs::file_size(dir.file("zc.npz")), 1000u);
}

TEST(Npz, EmptyArchive) {
  test::TempDir dir;
  write_npz(dir.file("e.npz"), {});
  EXPECT_EQ(fs::file_size(dir.file("e.npz")), 22u);
  EXPECT_TRUE(read_npz(dir.file("e.npz")).empty());
}

TEST(Npz, Errors) {
  test::TempDir dir;
  const std::string missing = dir.file("missing.npz");
  expect_error(missing, Exit::no_input, missing + ": cannot open: No such file or directory");
  expect_error(dir.path().string(), Exit::no_input, dir.path().string() + ": cannot open: Is a directory");

  const std::string text = dir.file("text.npz");
  write_file_atomic(text, "weights,visible_bias\n1,2\n");
  expect_error(text, Exit::data, text + ": not a .npz file (not a zip archive)");
  const std::string empty = dir.file("empty.npz");
  write_file_atomic(empty, "");
  expect_error(empty, Exit::data, empty + ": not a .npz file (not a zip archive)");
  const std::string npy = dir.file("array.npz");
  write_file_atomic(npy, encode_npy(Array::from_values<float>({1}, {1.0f})));
  expect_error(npy, Exit::data, npy + ": not a .npz file (not a zip archive)");

  // A cut-off archive: the central directory at the end is missing.
  const std::string cut = dir.file("cut.npz");
  write_npz(cut, sample_arrays());
  write_file_atomic(cut, read_file(cut).substr(0, 300));
  expect_error(cut, Exit::data, cut + ": not a .npz file (corrupt zip archive: Not a zip archive)");

  const std::string txt = dir.file("txt.npz");
  write_zip(txt, "notes.txt", "hello");
  expect_error(txt, Exit::data, txt + ": member 'notes.txt' is not a .npy file");

  const std::string bad = dir.file("bad.npz");
  write_zip(bad, "weights.npy", "hello");
  expect_error(bad, Exit::data, bad + ":weights.npy: not a .npy file (bad magic string)");

  const std::string trunc = dir.file("trunc.npz");
  write_zip(trunc, "weights.npy", encode_npy(Array::from_values<double>({4}, {1, 2, 3, 4})).substr(0, 140));
  // The member's .npy header is checked against the size its archive entry declares
  // before the rest is inflated.
  expect_error(trunc, Exit::data,
               trunc + ":weights.npy: its .npy header describes 160 bytes but the archive entry declares 140");

  // A flipped byte inside a stored member fails the CRC check.
  const std::string crc = dir.file("crc.npz");
  write_npz(crc, {{"w", Array::from_values<double>({4}, {1, 2, 3, 4})}});
  std::string bytes = read_file(crc);
  const auto at = bytes.find("\x93NUMPY");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 128 + 3] ^= 0x40;
  write_file_atomic(crc, bytes);
  expect_error(crc, Exit::data, crc + ":w.npy: cannot read member: CRC error");
}

TEST(Npz, WriteErrors) {
  test::TempDir dir;
  using test::expect_error;
  const std::string path = dir.file("nodir/m.npz");
  expect_error([&] { write_npz(path, sample_arrays()); }, Exit::cant_create,
               path + ": cannot create: No such file or directory");
  const std::string out = dir.file("m.npz");
  const Array one = Array::from_values<float>({1}, {1.0f});
  expect_error([&] { write_npz(out, {{"a", one}, {"a", one}}); }, Exit::usage,
               out + ": write_npz: duplicate array name 'a'");
  expect_error([&] { write_npz(out, {{"", one}}); }, Exit::usage, out + ": write_npz: an array name is empty");
  EXPECT_TRUE(fs::is_empty(dir.path()));

  // An existing archive survives a failed write untouched.
  write_npz(out, {{"a", one}});
  const std::string before = read_file(out);
  expect_error([&] { write_npz(out, {{"b", one}, {"b", one}}); }, Exit::usage,
               out + ": write_npz: duplicate array name 'b'");
  EXPECT_EQ(read_file(out), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(NpzNumPy, NumPyWritesLogzReads) {
  if (!test::have_numpy()) GTEST_SKIP() << "python3 with numpy is not installed";
  test::TempDir dir;
  const std::string script = R"(
import sys, numpy as np
d = sys.argv[1]
arrays = dict(weights=np.arange(12.0).reshape(3, 4) - 5.5, visible_bias=np.arange(3, dtype=np.float32),
              counts=np.arange(8, dtype=np.int64).reshape(2, 2, 2), flags=np.array([0, 1, 1], np.uint8),
              step=np.int32(7), empty=np.zeros((0, 4)))
np.savez(f'{d}/stored.npz', **arrays)
np.savez_compressed(f'{d}/compressed.npz', **arrays)
np.savez(f'{d}/positional.npz', np.ones(2), np.zeros(3, np.int32))
np.savez(f'{d}/fortran.npz', w=np.asfortranarray(np.arange(6.0).reshape(2, 3)), t=np.arange(6, dtype=np.int32).reshape(3, 2).T)
)";
  ASSERT_EQ(test::run_python(dir, script), 0);
  for (const char* name : {"stored.npz", "compressed.npz"}) {
    const auto m = read_npz(dir.file(name));
    ASSERT_EQ(m.size(), 6u) << name;
    const MatrixD w = m.at("weights").to_matrix<double>("weights");
    EXPECT_EQ(w.rows(), 3);
    EXPECT_EQ(w(2, 3), 5.5);
    EXPECT_EQ(m.at("visible_bias").dtype, DType::f32);
    EXPECT_EQ(m.at("visible_bias").to_vector<double>(), (std::vector<double>{0, 1, 2}));
    EXPECT_EQ(m.at("counts").shape, (std::vector<std::size_t>{2, 2, 2}));
    EXPECT_EQ(m.at("counts").to_vector<std::int64_t>()[7], 7);
    EXPECT_EQ(m.at("flags").to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{0, 1, 1}));
    EXPECT_EQ(m.at("step").ndim(), 0u);
    EXPECT_EQ(m.at("step").dtype, DType::i32);
    EXPECT_EQ(m.at("step").at(0), 7.0);
    EXPECT_EQ(m.at("empty").shape, (std::vector<std::size_t>{0, 4}));
  }
  const auto pos = read_npz(dir.file("positional.npz"));
  EXPECT_EQ(pos.at("arr_0").size(), 2u);
  EXPECT_EQ(pos.at("arr_1").dtype, DType::i32);
  // Fortran-ordered members (np.asfortranarray, a transpose) read as their C-order values.
  const auto fortran = read_npz(dir.file("fortran.npz"));
  EXPECT_EQ(fortran.at("w").shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(fortran.at("w").to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(fortran.at("t").shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(fortran.at("t").to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 2, 4, 1, 3, 5}));
}

TEST(NpzNumPy, LogzWritesNumPyReads) {
  if (!test::have_numpy()) GTEST_SKIP() << "python3 with numpy is not installed";
  test::TempDir dir;
  write_npz(dir.file("stored.npz"), sample_arrays(), false);
  write_npz(dir.file("compressed.npz"), sample_arrays(), true);
  write_npz(dir.file("empty.npz"), {});
  const std::string script = R"(
import sys, zipfile, numpy as np
d = sys.argv[1]
want = dict(weights=np.array([[1, 2], [3, 4], [5, -6.5]]), visible_bias=np.array([0.5, -1, 2], np.float32),
            counts=np.arange(1, 5, dtype=np.int64).reshape(2, 1, 2), flags=np.array([0, 1, 1, 0], np.uint8),
            step=np.array(42, np.int32), empty=np.zeros((0, 5)))
bad = 0
for name, method in [('stored.npz', zipfile.ZIP_STORED), ('compressed.npz', zipfile.ZIP_DEFLATED)]:
    with np.load(f'{d}/{name}') as z:
        if sorted(z.files) != sorted(want):
            print(name, 'members', z.files); bad += 1
        for k, v in want.items():
            if z[k].dtype != v.dtype or z[k].shape != v.shape or not np.array_equal(z[k], v):
                print(name, k, 'differs'); bad += 1
    for info in zipfile.ZipFile(f'{d}/{name}').infolist():
        if info.compress_type != method:
            print(name, info.filename, 'compression', info.compress_type); bad += 1
if len(np.load(f'{d}/empty.npz').files) != 0:
    print('empty archive not empty'); bad += 1
sys.exit(1 if bad else 0)
)";
  EXPECT_EQ(test::run_python(dir, script), 0);
}

}  // namespace
}  // namespace logz::io
