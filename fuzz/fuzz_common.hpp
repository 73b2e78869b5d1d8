#pragma once
// Shared plumbing of the logz fuzz targets (docs/robustness.md, "Fuzzing").
//
// - TempFile: readers that take a path get the input through one file per process,
//   reused between iterations (no file-system churn, no clash between -jobs/-fork workers).
// - Member archives: most model files are .npz. A zip that libFuzzer mutates byte by byte
//   almost always fails its CRC check and never reaches the model readers, so those
//   targets also accept a plain text container of members, "NPZ:\n@@ name.npy\n<bytes>...",
//   which the target packs into a valid (stored) zip itself. Any other input is written
//   as it is, so the raw-archive path (and plmc's format for load_model) is fuzzed too.
// - guarded(): logz::Error is the clean failure a reader promises for bad input; it is
//   swallowed. Everything else — another exception, a crash, a sanitizer report, an
//   allocation over -malloc_limit_mb — escapes to libFuzzer and is a finding.
#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logz/core/check.hpp"

namespace logz_fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// A file /tmp/logz-fuzz-<tag>-<pid><suffix>, removed at exit.
class TempFile {
 public:
  explicit TempFile(std::string_view tag, std::string_view suffix = "")
      : path_("/tmp/logz-fuzz-" + std::string(tag) + "-" + std::to_string(::getpid()) + std::string(suffix)) {}
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& write(std::string_view bytes) const {
    // A new file each time, not a truncated one: ext4 flushes a file truncated to 0 and
    // rewritten at close (auto_da_alloc), which would cost a disk write per iteration.
    std::remove(path_.c_str());
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f) std::abort();  // the harness's own failure, not the reader's
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
    if (std::fclose(f) != 0) std::abort();
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using Members = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kContainerMagic = "NPZ:";
inline constexpr std::string_view kMemberSeparator = "\n@@ ";

/// The members of a container input ("NPZ:" then "\n@@ <name>\n<bytes>" repeated), or
/// false if the input is not one.
inline bool parse_container(std::string_view in, Members& out) {
  if (!in.starts_with(kContainerMagic)) return false;
  in.remove_prefix(kContainerMagic.size());
  std::size_t at = in.find(kMemberSeparator);
  while (at != std::string_view::npos) {
    std::size_t name_begin = at + kMemberSeparator.size();
    std::size_t name_end = in.find('\n', name_begin);
    if (name_end == std::string_view::npos) name_end = in.size();
    std::size_t next = in.find(kMemberSeparator, name_end);
    std::size_t data_begin = std::min(name_end + 1, in.size());
    std::size_t data_end = next == std::string_view::npos ? in.size() : next;
    if (data_end < data_begin) data_end = data_begin;
    out.emplace_back(std::string(in.substr(name_begin, name_end - name_begin)),
                     std::string(in.substr(data_begin, data_end - data_begin)));
    at = next;
  }
  return true;
}

namespace detail {
inline void put16(std::string& s, std::uint32_t v) {
  s.push_back(char(v & 0xff));
  s.push_back(char((v >> 8) & 0xff));
}
inline void put32(std::string& s, std::uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}
}  // namespace detail

/// A zip archive of stored (uncompressed) members with correct CRCs, as np.savez writes.
/// Names and data are truncated to what a 16/32-bit zip field holds.
inline std::string make_zip(const Members& members) {
  using detail::put16;
  using detail::put32;
  std::string zip, central;
  for (const auto& [name0, data0] : members) {
    const std::string name = name0.substr(0, 0xffff);
    const std::string_view data = data0;
    const std::uint32_t crc =
        std::uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size())));
    const std::uint32_t offset = std::uint32_t(zip.size());
    put32(zip, 0x04034b50);  // local file header
    put16(zip, 20);          // version needed
    put16(zip, 0);           // flags
    put16(zip, 0);           // method: stored
    put16(zip, 0);           // time
    put16(zip, 0x21);        // date (1980-01-01)
    put32(zip, crc);
    put32(zip, std::uint32_t(data.size()));
    put32(zip, std::uint32_t(data.size()));
    put16(zip, std::uint32_t(name.size()));
    put16(zip, 0);  // extra length
    zip += name;
    zip += data;

    put32(central, 0x02014b50);  // central directory entry
    put16(central, 20);          // version made by
    put16(central, 20);          // version needed
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0x21);
    put32(central, crc);
    put32(central, std::uint32_t(data.size()));
    put32(central, std::uint32_t(data.size()));
    put16(central, std::uint32_t(name.size()));
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0);  // external attributes
    put32(central, offset);
    central += name;
  }
  const std::uint32_t cd_offset = std::uint32_t(zip.size());
  zip += central;
  put32(zip, 0x06054b50);  // end of central directory
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, std::uint32_t(members.size() & 0xffff));
  put16(zip, std::uint32_t(members.size() & 0xffff));
  put32(zip, std::uint32_t(central.size()));
  put32(zip, cd_offset);
  put16(zip, 0);
  return zip;
}

/// The bytes of the file a model-file target writes: a container input packed as a zip,
/// anything else as it is.
inline std::string file_bytes(std::string_view in) {
  Members members;
  if (parse_container(in, members)) return make_zip(members);
  return std::string(in);
}

/// Runs f; logz::Error (the documented failure for bad input) ends the iteration cleanly.
/// LOGZ_FUZZ_VERBOSE=1 prints its message (to check that seeds are accepted, or what a
/// reproducer is refused with).
template <class F>
void guarded(F&& f) {
  static const bool verbose = std::getenv("LOGZ_FUZZ_VERBOSE") != nullptr;
  try {
    std::forward<F>(f)();
    if (verbose) std::fprintf(stderr, "logz fuzz: accepted\n");
  } catch (const logz::Error& e) {
    if (verbose) std::fprintf(stderr, "logz fuzz: Error(%d): %s\n", int(e.code()), e.what());
  }
}

/// A finding the harness checks itself (a round trip that does not hold): print and abort,
/// so libFuzzer saves the input.
[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "logz fuzz finding: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace logz_fuzz
