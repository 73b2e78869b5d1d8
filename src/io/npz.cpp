// NumPy .npz archives (numpy.savez / numpy.savez_compressed, numpy/lib/npyio.py): a ZIP
// file (PKWARE APPNOTE) whose members are .npy files, stored or deflated. ZIP is handled
// by libzip, entirely in memory; the finished archive goes to disk by write_file_atomic.
#include "logz/io/npz.hpp"

#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/memory.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/npy.hpp"

namespace logz::io {
namespace {

// Member timestamps are fixed so that the same arrays always give the same bytes
// (reproducible outputs); 1980-01-02 is safely inside the DOS date range in any time zone.
constexpr std::time_t kMemberTime = 315619200;

// An archive with no members: just the end-of-central-directory record, as np.savez
// writes it. libzip deletes an archive that ends up empty instead of writing one.
constexpr std::string_view kEmptyZip("PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
struct ZipSourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipDiscard>;
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileClose>;
using ZipSourcePtr = std::unique_ptr<zip_source_t, ZipSourceFree>;

// libzip's zip_error_t needs init/fini; this keeps them paired.
struct ZipError {
  zip_error_t e;
  ZipError() { zip_error_init(&e); }
  ~ZipError() { zip_error_fini(&e); }
  ZipError(const ZipError&) = delete;
  ZipError& operator=(const ZipError&) = delete;
  const char* what() { return zip_error_strerror(&e); }
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Deflate expands at most about 1032:1 (RFC 1951: a 258-byte match costs at least 2
// bits), so a deflated member that claims more than that is not a real archive entry.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

// A member's bytes, with what a hostile archive could make us allocate bounded before
// inflating: the size its entry declares must be one the compressed bytes can hold and
// fit in the memory available (Exit::unavailable), the .npy header at its start must
// describe that size, and the member may not inflate past it (libzip does not check).
std::string read_member(zip_t* za, zip_uint64_t index, std::string_view member, std::string_view path,
                        std::size_t archive_size) {
  const std::string name = fmt::format("{}:{}", path, member);
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(za, index, 0, &st) != 0) fail(Exit::data, "{}: cannot read member: {}", name, zip_strerror(za));
  const auto known = [&](zip_uint64_t flag) { return (st.valid & flag) != 0; };
  check_data(known(ZIP_STAT_SIZE) && known(ZIP_STAT_COMP_SIZE) && known(ZIP_STAT_COMP_METHOD),
             "{}: the archive does not record the member's sizes", name);
  const std::uint64_t declared = st.size;
  // The compressed size comes from the same entry: it must at least fit in the archive.
  check_data(st.comp_size <= archive_size, "{}: declares {} compressed bytes in an archive of {}", name, st.comp_size,
             archive_size);
  if (st.comp_method == ZIP_CM_STORE)
    check_data(declared == st.comp_size, "{}: a stored member of {} bytes declares {} bytes", name, st.comp_size, declared);
  else if (st.comp_method == ZIP_CM_DEFLATE)
    check_data(declared / kMaxDeflateRatio <= st.comp_size,
               "{}: declares {} bytes, more than deflate can expand its {} compressed bytes to", name, declared,
               st.comp_size);
  check_data(declared <= std::numeric_limits<std::size_t>::max() / 2, "{}: declares {} bytes", name, declared);
  check_memory_available(std::size_t(declared), name.c_str());

  ZipFilePtr f(zip_fopen_index(za, index, 0));
  if (!f) fail(Exit::data, "{}: cannot read member: {}", name, zip_strerror(za));
  std::string data;
  data.reserve(std::size_t(declared));
  bool size_checked = false;
  char buf[1 << 16];
  // Read to the end: libzip checks the CRC only when the member is exhausted.
  for (;;) {
    const zip_int64_t n = zip_fread(f.get(), buf, sizeof buf);
    if (n < 0) fail(Exit::data, "{}: cannot read member: {}", name, zip_file_strerror(f.get()));
    if (n == 0) break;
    check_data(std::uint64_t(n) <= declared - data.size(),
               "{}: inflates to more than the {} bytes its archive entry declares", name, declared);
    data.append(buf, static_cast<std::size_t>(n));
    if (!size_checked) {
      const auto head = std::as_bytes(std::span(data.data(), data.size()));
      if (const std::optional<std::size_t> size = npy_file_size(head, name)) {
        check_data(*size == declared, "{}: its .npy header describes {} bytes but the archive entry declares {}", name,
                   *size, declared);
        size_checked = true;
      }
    }
  }
  return data;
}

}  // namespace

std::map<std::string, Array> read_npz(const std::string& path) {
  const std::string contents = read_file(path);
  // NumPy recognises an archive by these signatures (np.load); anything else is not a zip.
  const std::string_view head(contents.data(), std::min<std::size_t>(contents.size(), 4));
  if (head != std::string_view("PK\x03\x04", 4) && head != std::string_view("PK\x05\x06", 4))
    fail(Exit::data, "{}: not a .npz file (not a zip archive)", path);

  ZipError err;
  ZipSourcePtr src(zip_source_buffer_create(contents.data(), contents.size(), 0, &err.e));
  if (!src) fail(Exit::software, "{}: cannot read archive: {}", path, err.what());
  ZipPtr za(zip_open_from_source(src.get(), ZIP_RDONLY, &err.e));
  if (!za) fail(Exit::data, "{}: not a .npz file (corrupt zip archive: {})", path, err.what());
  (void)src.release();  // the archive owns the source now

  std::map<std::string, Array> arrays;
  const zip_int64_t n = zip_get_num_entries(za.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    const char* raw = zip_get_name(za.get(), index, 0);
    if (!raw) fail(Exit::data, "{}: cannot read member {}: {}", path, i, zip_strerror(za.get()));
    const std::string member = raw;
    if (!ends_with(member, ".npy") || member.size() == 4)
      fail(Exit::data, "{}: member '{}' is not a .npy file", path, member);
    const std::string bytes = read_member(za.get(), index, member, path, contents.size());
    const std::string name = path + ":" + member;
    arrays.insert_or_assign(member.substr(0, member.size() - 4),
                            parse_npy(std::as_bytes(std::span(bytes.data(), bytes.size())), name));
  }
  return arrays;
}

void write_npz(const std::string& path, const NamedArrays& arrays, bool compress) {
  std::set<std::string_view> seen;
  for (const auto& [name, array] : arrays) {
    check_arg(!name.empty(), "{}: write_npz: an array name is empty", path);
    check_arg(seen.insert(name).second, "{}: write_npz: duplicate array name '{}'", path, name);
  }
  // Encode first: the buffers must outlive zip_close, which is when libzip reads them.
  std::vector<std::string> encoded;
  encoded.reserve(arrays.size());
  for (const auto& item : arrays) encoded.push_back(encode_npy(item.second));

  ZipError err;
  ZipSourcePtr out(zip_source_buffer_create(nullptr, 0, 0, &err.e));
  if (!out) fail(Exit::software, "{}: cannot build archive: {}", path, err.what());
  zip_source_keep(out.get());  // still ours after zip_close, to read the result back
  ZipPtr za(zip_open_from_source(out.get(), ZIP_TRUNCATE, &err.e));
  if (!za) fail(Exit::software, "{}: cannot build archive: {}", path, err.what());

  for (std::size_t i = 0; i < arrays.size(); ++i) {
    const std::string member = arrays[i].first + ".npy";
    zip_source_t* s = zip_source_buffer(za.get(), encoded[i].data(), encoded[i].size(), 0);
    if (!s) fail(Exit::software, "{}: cannot add member '{}': {}", path, member, zip_strerror(za.get()));
    const zip_int64_t index = zip_file_add(za.get(), member.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(s);
      fail(Exit::software, "{}: cannot add member '{}': {}", path, member, zip_strerror(za.get()));
    }
    const auto idx = static_cast<zip_uint64_t>(index);
    if (zip_set_file_compression(za.get(), idx, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_mtime(za.get(), idx, kMemberTime, 0) != 0)
      fail(Exit::software, "{}: cannot add member '{}': {}", path, member, zip_strerror(za.get()));
  }
  if (zip_close(za.get()) != 0) fail(Exit::software, "{}: cannot build archive: {}", path, zip_strerror(za.get()));
  (void)za.release();  // zip_close freed it
  std::vector<std::string>().swap(encoded);  // read by zip_close; freed before the read-back copy

  std::string bytes;
  if (zip_source_is_deleted(out.get())) {
    bytes = kEmptyZip;
  } else {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_source_stat(out.get(), &st) != 0 || zip_source_open(out.get()) != 0)
      fail(Exit::software, "{}: cannot build archive: {}", path, zip_error_strerror(zip_source_error(out.get())));
    bytes.resize(st.size);
    const zip_int64_t n = zip_source_read(out.get(), bytes.data(), bytes.size());
    zip_source_close(out.get());
    if (n < 0 || static_cast<zip_uint64_t>(n) != st.size)
      fail(Exit::software, "{}: cannot build archive: short read of the in-memory archive", path);
  }
  write_file_atomic(path, bytes);
}

}  // namespace logz::io
