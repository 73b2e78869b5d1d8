// Tests of atomic writes: complete files on success; on failure the target is untouched
// and no temporary file is left behind.
#include "logz/io/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <string>

#include "logz/core/check.hpp"
#include "support/expect_error.hpp"
#include "support/temp_dir.hpp"

namespace logz::io {
namespace {

namespace fs = std::filesystem;

// The names of the entries directly in `dir`.
std::set<std::string> listing(const test::TempDir& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.insert(e.path().filename().string());
  return names;
}

using test::expect_error;

TEST(AtomicFile, WritesAndReplaces) {
  test::TempDir dir;
  const std::string path = dir.file("out.txt");
  write_file_atomic(path, "first");
  EXPECT_EQ(read_file(path), "first");
  write_file_atomic(path, std::string("second\0with nul", 15));
  EXPECT_EQ(read_file(path), std::string("second\0with nul", 15));
  write_file_atomic(path, "");
  EXPECT_EQ(read_file(path), "");
  const std::string big(3'000'000, 'x');
  write_file_atomic(path, big);
  EXPECT_EQ(read_file(path), big);
  EXPECT_EQ(listing(dir), (std::set<std::string>{"out.txt"}));
}

TEST(AtomicFile, StaleTemporaryIsNotReused) {
  // A temporary of the same name (say, from a crashed writer with a recycled pid) is left
  // alone: the writer picks the next counter.
  test::TempDir dir;
  const std::string path = dir.file("out.txt");
  const std::string stale = path + ".tmp." + std::to_string(::getpid()) + ".0";
  write_file_atomic(stale, "stale");
  write_file_atomic(path, "fresh");
  EXPECT_EQ(read_file(path), "fresh");
  EXPECT_EQ(read_file(stale), "stale");
  EXPECT_EQ(listing(dir).size(), 2u);
}

TEST(OutputLock, ASecondWriterOfTheSameFileIsRefusedUntilTheFirstEnds) {
  test::TempDir dir;
  const std::string path = dir.file("model.npz");
  {
    const OutputLock first(path, "train");
    EXPECT_EQ(listing(dir), (std::set<std::string>{"model.npz.lock"}));
    EXPECT_EQ(read_file(path + ".lock"), std::to_string(::getpid()) + "\n");
    expect_error([&] { OutputLock second(path, "train"); }, Exit::temp_fail,
                 "train: " + path + " is being written by another run (process " + std::to_string(::getpid()) +
                     "); wait for it to end or choose another output");
    const OutputLock other(dir.file("other.npz"), "train");  // another file: no conflict
  }
  EXPECT_TRUE(listing(dir).empty());  // released: the lock files are gone
  // A lock file left by a process killed outright holds no lock.
  write_file_atomic(path + ".lock", "12345\n");
  EXPECT_NO_THROW(OutputLock(path, "train"));
  EXPECT_TRUE(listing(dir).empty());
  // Nothing to lock for a device, or where this process writes no files (mpirun ranks > 0).
  EXPECT_NO_THROW(OutputLock("/dev/null", "train"));
  set_writes_files(false);
  { const OutputLock quiet(path, "train"); EXPECT_TRUE(listing(dir).empty()); }
  set_writes_files(true);
  expect_error([&] { OutputLock(dir.file("missing/m.npz"), "train"); }, Exit::cant_create,
               "train: cannot create the lock file " + dir.file("missing/m.npz") + ".lock: No such file or directory");
}

TEST(AtomicFile, MissingDirectory) {
  test::TempDir dir;
  const std::string path = dir.file("no/such/dir/out.npy");
  expect_error([&] { write_file_atomic(path, "data"); }, Exit::cant_create,
               path + ": cannot create: No such file or directory");
  EXPECT_TRUE(listing(dir).empty());
}

TEST(AtomicFile, TargetIsADirectory) {
  test::TempDir dir;
  fs::create_directory(dir.file("out"));
  const std::string path = dir.file("out");
  expect_error([&] { write_file_atomic(path, "data"); }, Exit::cant_create, path + ": cannot create: Is a directory");
  EXPECT_EQ(listing(dir), (std::set<std::string>{"out"}));
}

TEST(AtomicFile, WriteErrorLeavesTargetUntouched) {
  // A file-size limit makes write(2) fail with EFBIG part-way (even for root, unlike
  // permissions); SIGXFSZ is ignored so that the failure is an error code, not a signal.
  test::TempDir dir;
  const std::string path = dir.file("model.npz");
  write_file_atomic(path, "old contents");

  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool threw = false;
  try {
    write_file_atomic(path, std::string(100000, 'n'));
  } catch (const Error& e) {
    threw = true;
    EXPECT_EQ(e.what(), path + ": write error: File too large");
    EXPECT_EQ(e.code(), Exit::io);
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(threw);
  EXPECT_EQ(read_file(path), "old contents");
  EXPECT_EQ(listing(dir), (std::set<std::string>{"model.npz"}));
}

TEST(AtomicFile, ReadErrors) {
  test::TempDir dir;
  const std::string missing = dir.file("missing.txt");
  expect_error([&] { read_file(missing); }, Exit::no_input, missing + ": cannot open: No such file or directory");
  expect_error([&] { read_file(dir.path().string()); }, Exit::no_input,
               dir.path().string() + ": cannot open: Is a directory");
}

}  // namespace
}  // namespace logz::io
