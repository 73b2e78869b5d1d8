// IDX format (LeCun, Cortes & Burges, "The MNIST database", yann.lecun.com/exdb/mnist):
// magic bytes 0, 0, data type (0x08 = unsigned byte), number of dimensions; then one
// big-endian uint32 per dimension; then the C-order payload. The files are usually
// gzip-compressed (RFC 1952); zlib's gzread reads gzip and plain files alike.
#include "logz/io/idx.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "logz/core/check.hpp"

namespace logz::io {
namespace {

struct GzClose {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzClose>;

// Fails if zlib reported an error: a read error (Exit::io) or a corrupt or cut-off gzip
// stream (Exit::data).
void check_gz(gzFile f, const std::string& path) {
  int code = Z_OK;
  const char* msg = gzerror(f, &code);
  if (code == Z_OK || code == Z_STREAM_END) return;
  if (code == Z_ERRNO) fail(Exit::io, "{}: read error: {}", path, std::strerror(errno));
  // zlib prefixes its message with its own name for the file ("<fd:3>: ..."); drop it.
  std::string_view text = msg ? msg : "unknown error";
  if (const auto colon = text.find(": "); colon != std::string_view::npos) text.remove_prefix(colon + 2);
  fail(Exit::data, "{}: corrupt or truncated gzip data: {}", path, text);
}

// Reads up to n bytes, fewer only at the end of the data.
std::size_t read_some(gzFile f, std::byte* out, std::size_t n, const std::string& path) {
  std::size_t got = 0;
  while (got < n) {
    const auto want = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30));
    const int r = gzread(f, out + got, want);
    if (r < 0) check_gz(f, path);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  check_gz(f, path);
  return got;
}

}  // namespace

Array read_idx(const std::string& path) {
  // Open the descriptor ourselves, for the same messages as read_file (and a clear one
  // for a folder, which open(2) accepts).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(Exit::no_input, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    const int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    fail(Exit::no_input, "{}: cannot open: {}", path, std::strerror(e));
  }
  GzPtr f(gzdopen(fd, "rb"));
  if (!f) {
    ::close(fd);
    fail(Exit::io, "{}: cannot open: out of memory", path);
  }

  std::array<std::byte, 4> magic{};
  const std::size_t got_magic = read_some(f.get(), magic.data(), magic.size(), path);
  if (got_magic < magic.size())
    fail(Exit::data, "{}: truncated IDX header: expected 4 bytes, got {}", path, got_magic);
  const auto m = [&](int i) { return static_cast<unsigned>(magic[static_cast<std::size_t>(i)]); };
  if (m(0) != 0 || m(1) != 0)
    fail(Exit::data, "{}: not an IDX file (bad magic {:02x} {:02x} {:02x} {:02x})", path, m(0), m(1), m(2), m(3));
  if (m(2) != 0x08)
    fail(Exit::data, "{}: unsupported IDX data type 0x{:02x}; only 0x08 (unsigned byte) is supported", path, m(2));
  const unsigned ndim = m(3);
  if (ndim < 1 || ndim > 4) fail(Exit::data, "{}: unsupported IDX dimension count {}; expected 1 to 4", path, ndim);

  std::array<std::byte, 16> dims{};
  const std::size_t dim_bytes = 4 * ndim;
  const std::size_t got_dims = read_some(f.get(), dims.data(), dim_bytes, path);
  if (got_dims < dim_bytes)
    fail(Exit::data, "{}: truncated IDX header: expected {} bytes, got {}", path, 4 + dim_bytes, 4 + got_dims);

  Array a;
  a.dtype = DType::u8;
  std::size_t expected = 1;
  for (unsigned d = 0; d < ndim; ++d) {
    std::size_t n = 0;
    for (unsigned b = 0; b < 4; ++b) n = (n << 8) | static_cast<std::size_t>(dims[4 * d + b]);  // big-endian
    if (n != 0 && expected > std::numeric_limits<std::size_t>::max() / n)
      fail(Exit::data, "{}: IDX dimensions are too large", path);
    expected *= n;
    a.shape.push_back(n);
  }

  // Grow the buffer as data arrives rather than trusting the header's size up front, so
  // a corrupt header cannot ask for an absurd allocation.
  constexpr std::size_t kChunk = std::size_t{1} << 24;
  std::size_t got = 0;
  while (got < expected) {
    const std::size_t want = std::min(expected - got, kChunk);
    a.bytes.resize(got + want);
    const std::size_t n = read_some(f.get(), a.bytes.data() + got, want, path);
    got += n;
    if (n < want) break;
  }
  if (got < expected)
    fail(Exit::data, "{}: truncated IDX data: expected {} bytes for shape {}, got {}", path, expected,
         a.shape_string(), got);
  std::byte extra[4096];
  std::size_t trailing = 0;
  while (const std::size_t n = read_some(f.get(), extra, sizeof extra, path)) trailing += n;
  if (trailing > 0)
    fail(Exit::data, "{}: IDX data has {} bytes, expected {} for shape {} (trailing bytes)", path, expected + trailing,
         expected, a.shape_string());
  return a;
}

}  // namespace logz::io
