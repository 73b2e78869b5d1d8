// Atomic file replacement (POSIX open(O_EXCL) + write + fsync + rename(2)): a reader of
// the target sees either the old file or the complete new one, never a partial write.
#include "logz/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
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

// The temporaries being written now, in fixed slots a signal handler can read: a
// process ended by a signal runs no destructor, and would leave them behind.
struct TempSlot {
  std::atomic<bool> taken{false};
  std::atomic<bool> live{false};
  char path[4096];
};
constexpr std::size_t kTempSlots = 64;
TempSlot g_temps[kTempSlots];

// Removes the temporary file on scope exit unless disarmed, and lists it for the signal
// handler while it exists (a path too long for a slot, or more than 64 writers at once,
// go unlisted: the file is still removed on every normal exit).
class TempGuard {
 public:
  explicit TempGuard(std::string path) : path_(std::move(path)) {
    if (path_.size() >= sizeof(TempSlot::path)) return;
    for (TempSlot& s : g_temps) {
      bool free = false;
      if (!s.taken.compare_exchange_strong(free, true)) continue;
      std::memcpy(s.path, path_.c_str(), path_.size() + 1);
      s.live.store(true, std::memory_order_release);
      slot_ = &s;
      break;
    }
  }
  ~TempGuard() {
    if (armed_) ::unlink(path_.c_str());
    if (slot_) {
      slot_->live.store(false, std::memory_order_release);
      slot_->taken.store(false, std::memory_order_release);
    }
  }
  TempGuard(const TempGuard&) = delete;
  TempGuard& operator=(const TempGuard&) = delete;
  void disarm() {
    armed_ = false;
    if (slot_) slot_->live.store(false, std::memory_order_release);
  }

 private:
  std::string path_;
  bool armed_ = true;
  TempSlot* slot_ = nullptr;
};

// Async-signal-safe: unlink(2), signal(2) and raise(3) only.
extern "C" void remove_temporaries_and_reraise(int sig) {
  for (TempSlot& t : g_temps)
    if (t.live.load(std::memory_order_acquire)) ::unlink(t.path);
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // ends the process as the signal would have: the shell sees 128 + sig
}

// Writes all of `contents` to an open descriptor.
void write_all(int fd, std::string_view contents, const std::string& path) {
  const char* p = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(Exit::io, "{}: write error: {}", path, std::strerror(errno));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

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

void remove_temporaries_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = remove_temporaries_and_reraise;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
}

namespace {
std::atomic<bool> g_writes_files{true};

char g_deadline_message[512];
std::size_t g_deadline_message_size = 0;

// Async-signal-safe: unlink(2), write(2) and _exit(2) only.
extern "C" void end_at_deadline(int) {
  for (TempSlot& t : g_temps)
    if (t.live.load(std::memory_order_acquire)) ::unlink(t.path);
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, g_deadline_message, g_deadline_message_size);
  ::_exit(int(Exit::temp_fail));
}
}  // namespace

void end_process_after(double seconds, std::string_view message) {
  if (!(seconds > 0) || !std::isfinite(seconds)) return;
  g_deadline_message_size = std::min(message.size(), sizeof g_deadline_message - 1);
  std::memcpy(g_deadline_message, message.data(), g_deadline_message_size);
  g_deadline_message[g_deadline_message_size++] = '\n';
  struct sigaction sa {};
  sa.sa_handler = end_at_deadline;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGALRM, &sa, nullptr);
  itimerval timer{};
  const double whole = std::floor(seconds);
  timer.it_value.tv_sec = static_cast<time_t>(std::min(whole, 1e9));
  timer.it_value.tv_usec = static_cast<suseconds_t>((seconds - whole) * 1e6);
  if (timer.it_value.tv_sec == 0 && timer.it_value.tv_usec == 0) timer.it_value.tv_usec = 1;
  ::setitimer(ITIMER_REAL, &timer, nullptr);
}

void set_writes_files(bool writes) { g_writes_files = writes; }
bool writes_files() { return g_writes_files; }

struct OutputLock::Held {
  Fd fd;
  TempGuard file;  // removes the lock file when released (and on signals)
  explicit Held(std::string path) : file(std::move(path)) {}
};

OutputLock::OutputLock(const std::string& path, std::string_view who) {
  if (!writes_files()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return;  // a device or FIFO: nothing to protect
  const std::string lock_path = path + ".lock";
  // A run that ends removes its lock file: one opened just before that must be opened
  // again, else two runs could each hold a lock on a different file of the same name.
  for (int attempt = 0; attempt < 100; ++attempt) {
    Fd fd{::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
    if (fd.fd < 0)
      fail(Exit::cant_create, "{}: cannot create the lock file {}: {}", who, lock_path, std::strerror(errno));
    if (::flock(fd.fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK)
        fail(Exit::cant_create, "{}: cannot lock {}: {}", who, lock_path, std::strerror(errno));
      char pid[32] = {};
      const ssize_t n = ::pread(fd.fd, pid, sizeof pid - 1, 0);
      const std::string holder = n > 0 ? std::string(pid, std::size_t(n)) : std::string("unknown");
      fail(Exit::temp_fail,
           "{}: {} is being written by another run (process {}); wait for it to end or choose another output",
           who, path, holder.substr(0, holder.find('\n')));
    }
    struct stat held {}, named {};
    if (::fstat(fd.fd, &held) != 0 || ::stat(lock_path.c_str(), &named) != 0 || held.st_ino != named.st_ino ||
        held.st_dev != named.st_dev)
      continue;
    // The process number is for a second run's message only: a lock without it holds.
    const std::string pid = std::to_string(::getpid()) + "\n";
    [[maybe_unused]] const bool noted =
        ::ftruncate(fd.fd, 0) == 0 && ::pwrite(fd.fd, pid.data(), pid.size(), 0) == ssize_t(pid.size());
    held_ = new Held(lock_path);
    held_->fd.fd = fd.release();
    return;
  }
  fail(Exit::cant_create, "{}: cannot lock {}: its lock file keeps being replaced", who, lock_path);
}

OutputLock::~OutputLock() {
  delete held_;  // unlinks the file while the lock is held, then closes (releases) it
}

void write_file_atomic(const std::string& given_path, std::string_view contents) {
  namespace fs = std::filesystem;
  if (!g_writes_files) return;
  // A symbolic link is written through: the file it names is replaced, the link stays.
  std::string path = given_path;
  std::error_code ec;
  if (fs::is_symlink(given_path, ec)) {
    const fs::path target = fs::weakly_canonical(given_path, ec);
    if (!ec) path = target.string();
  }
  // What is not a regular file (/dev/null, /dev/stdout, a FIFO) cannot be replaced by
  // a rename without destroying it: the bytes are written into it instead.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) fail(Exit::cant_create, "{}: cannot create: {}", given_path, std::strerror(EISDIR));
    Fd dev{::open(path.c_str(), O_WRONLY | O_CLOEXEC)};
    if (dev.fd < 0) fail(Exit::cant_create, "{}: cannot open: {}", given_path, std::strerror(errno));
    write_all(dev.fd, contents, given_path);
    if (::close(dev.release()) != 0) fail(Exit::io, "{}: write error: {}", given_path, std::strerror(errno));
    return;
  }
  // The data is written to an unnamed file (O_TMPFILE) in the target's folder, so that a
  // process killed while writing (even by SIGKILL) leaves nothing behind; it gets a
  // temporary name only when complete, and rename(2) puts it in place. Where the file
  // system has no unnamed files, a named temporary is written instead (removed on errors
  // and, by remove_temporaries_on_signals, on signals that can be caught).
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  Fd out{::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666)};
  const bool unnamed = out.fd >= 0;
  std::string tmp;
  // A name beside the target; O_EXCL (or link's EEXIST) and a counter keep concurrent
  // writers (threads or processes) apart.
  const auto name_temporary = [&](auto&& create) {
    for (unsigned counter = 0;; ++counter) {
      tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter);
      if (create(tmp)) return;
      if (errno != EEXIST || counter >= 10000) fail(Exit::cant_create, "{}: cannot create: {}", path, std::strerror(errno));
    }
  };
  if (!unnamed)
    name_temporary([&](const std::string& t) {
      out.fd = ::open(t.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      return out.fd >= 0;
    });
  std::optional<TempGuard> guard;
  if (!unnamed) guard.emplace(tmp);
  write_all(out.fd, contents, path);
  if (::fsync(out.fd) != 0) fail(Exit::io, "{}: write error: {}", path, std::strerror(errno));
  if (unnamed) {
    const std::string self = "/proc/self/fd/" + std::to_string(out.fd);
    name_temporary([&](const std::string& t) {
      return ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, t.c_str(), AT_SYMLINK_FOLLOW) == 0;
    });
    guard.emplace(tmp);
  }
  if (::close(out.release()) != 0) fail(Exit::io, "{}: write error: {}", path, std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail(Exit::cant_create, "{}: cannot create: {}", path, std::strerror(errno));
  guard->disarm();
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
