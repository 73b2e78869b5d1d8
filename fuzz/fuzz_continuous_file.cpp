// Fuzz target: io::load_continuous_file (Gaussian, Gaussian–Bernoulli RBM, Student-t
// experts, neural energy files) on a file holding the input: raw bytes, or a "NPZ:"
// container (fuzz_common.hpp) packed as a valid zip.
// Finding: anything but logz::Error — crash, sanitizer report, an allocation over
// -malloc_limit_mb (e.g. a precision matrix whose size is taken on trust).
#include "fuzz_common.hpp"
#include "logz/io/continuous_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  static const logz_fuzz::TempFile file("continuous", ".npz");
  const std::string& path = file.write(logz_fuzz::file_bytes(logz_fuzz::as_view(data, size)));
  logz_fuzz::guarded([&] {
    const io::ContinuousFile f = io::load_continuous_file(path);
    (void)io::dimension_of(f.model);
    (void)io::continuous_arrays(f.model, f.extra);
  });
  return 0;
}
