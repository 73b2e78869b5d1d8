// Fuzz target: api::read_training_checkpoint (a training checkpoint .npz) on a file
// holding the input: raw bytes, or a "NPZ:" container (fuzz_common.hpp) packed as a
// valid zip. Each array read is then viewed as the trainers view it (vector, and matrix
// when it has two dimensions).
// Finding: anything but logz::Error — crash, sanitizer report (an array whose values
// disagree with its shape is an out-of-bounds read here), an allocation over
// -malloc_limit_mb.
#include "fuzz_common.hpp"
#include "logz/api/checkpoint_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  static const logz_fuzz::TempFile file("checkpoint", ".npz");
  const std::string& path = file.write(logz_fuzz::file_bytes(logz_fuzz::as_view(data, size)));
  logz_fuzz::guarded([&] {
    const training::Checkpoint c = api::read_training_checkpoint(path);
    for (const auto& [name, a] : c.arrays) {
      std::size_t n = 1;
      for (std::size_t d : a.shape) n *= d;
      if (n != a.values.size()) logz_fuzz::finding("checkpoint array values disagree with its shape");
      (void)a.vector();
      if (a.shape.size() == 2) (void)a.matrix("fuzz", name);
    }
    for (const auto& [name, counters] : c.counters) (void)c.counter("fuzz", name);
  });
  return 0;
}
