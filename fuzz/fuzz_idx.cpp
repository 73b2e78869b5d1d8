// Fuzz target: io::read_idx (MNIST's IDX format, plain or gzip) on a file holding the input.
// Finding: anything but logz::Error — crash, sanitizer report, an allocation over
// -malloc_limit_mb (dimensions that claim more than the file or its gzip stream holds),
// or a returned array whose bytes disagree with its shape.
#include "fuzz_common.hpp"
#include "logz/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const logz_fuzz::TempFile file("idx", ".idx");
  const std::string& path = file.write(logz_fuzz::as_view(data, size));
  logz_fuzz::guarded([&] {
    const logz::io::Array a = logz::io::read_idx(path);
    if (a.bytes.size() != a.size()) logz_fuzz::finding("IDX array bytes != shape");
  });
  return 0;
}
