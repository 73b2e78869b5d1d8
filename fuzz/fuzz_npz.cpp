// Fuzz target: io::read_npz on a file holding the input — raw bytes (the zip layer:
// libzip, member names, deflate) or, for a "NPZ:" container input (fuzz_common.hpp),
// a valid zip of the given members (the .npy members behind a correct CRC).
// Finding: anything but logz::Error — crash, sanitizer report, an allocation over
// -malloc_limit_mb (a member that claims more bytes than the archive holds), a leak.
#include "fuzz_common.hpp"
#include "logz/io/npz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const logz_fuzz::TempFile file("npz", ".npz");
  const std::string& path = file.write(logz_fuzz::file_bytes(logz_fuzz::as_view(data, size)));
  logz_fuzz::guarded([&] {
    const auto arrays = logz::io::read_npz(path);
    for (const auto& [name, a] : arrays)
      if (a.bytes.size() != a.size() * logz::io::dtype_size(a.dtype)) logz_fuzz::finding("member size != shape");
  });
  return 0;
}
