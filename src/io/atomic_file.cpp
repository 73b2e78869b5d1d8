// Atomic file replacement (POSIX open(O_EXCL) + write + fsync + rename(2)): a reader of
// the target sees either the old file or the complete new one, never a partial write.
#include "logz/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "logz/core/check.hpp"

namespace logz::io {
namespace {

// Closes a descriptor on scope exit unless released.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

// Removes the temporary file on scope exit unless the write completed.
struct TempGuard {
  std::string path;
  bool armed = true;
  ~TempGuard() {
    if (armed) ::unlink(path.c_str());
  }
};

// Flushes the folder entry of a completed rename; best effort, as some file systems
// refuse fsync on directories.
void sync_parent(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view contents) {
  // The temporary lives in the target's folder so that rename(2) stays on one file
  // system; O_EXCL and a counter keep concurrent writers (threads or processes) apart.
  Fd out;
  std::string tmp;
  for (unsigned counter = 0;; ++counter) {
    tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter);
    out.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (out.fd >= 0) break;
    if (errno != EEXIST || counter >= 10000) fail(Exit::cant_create, "{}: cannot create: {}", path, std::strerror(errno));
  }
  TempGuard guard{tmp};

  const char* p = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = ::write(out.fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(Exit::io, "{}: write error: {}", path, std::strerror(errno));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(out.fd) != 0) fail(Exit::io, "{}: write error: {}", path, std::strerror(errno));
  if (::close(out.release()) != 0) fail(Exit::io, "{}: write error: {}", path, std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail(Exit::cant_create, "{}: cannot create: {}", path, std::strerror(errno));
  guard.armed = false;
  sync_parent(path);
}

std::string read_file(const std::string& path) {
  Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) fail(Exit::no_input, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(in.fd, &st) != 0) fail(Exit::no_input, "{}: cannot open: {}", path, std::strerror(errno));
  // A folder opens fine with O_RDONLY but cannot be read; say so up front.
  if (S_ISDIR(st.st_mode)) fail(Exit::no_input, "{}: cannot open: {}", path, std::strerror(EISDIR));

  std::string data;
  if (S_ISREG(st.st_mode) && st.st_size > 0) data.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(in.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(Exit::io, "{}: read error: {}", path, std::strerror(errno));
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  return data;
}

}  // namespace logz::io
