// Fuzz target: io::read_weights (sequence weights, plmc's text format or a 1-D .npy).
// Input: a flags byte, then the file's bytes. Flags: bit 0 names the file .npy (else
// .txt), bits 1-3 give the number of records in the alignment (1-8), bit 4 uses every
// other record only (a fit that left sequences out), else every record.
// Finding: anything but logz::Error — crash, sanitizer report, an allocation over
// -malloc_limit_mb — or weights of the wrong count, negative or not finite (the reader
// promises to reject those).
#include <cmath>
#include <vector>

#include "fuzz_common.hpp"
#include "logz/io/weights_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  if (size < 1) return 0;
  static const logz_fuzz::TempFile npy("weights", ".npy");
  static const logz_fuzz::TempFile txt("weights", ".txt");
  const unsigned flags = data[0];
  const std::size_t num_records = ((flags >> 1) & 7) + 1;
  std::vector<std::size_t> records;
  for (std::size_t r = 0; r < num_records; r += (flags & 16) ? 2 : 1) records.push_back(r);
  const std::string& path = ((flags & 1) ? npy : txt).write(logz_fuzz::as_view(data + 1, size - 1));
  logz_fuzz::guarded([&] {
    const VectorD w = io::read_weights(path, records, num_records);
    if (std::size_t(w.size()) != records.size()) logz_fuzz::finding("weights of the wrong count");
    for (Eigen::Index i = 0; i < w.size(); ++i)
      if (!std::isfinite(w[i]) || w[i] < 0) logz_fuzz::finding("weight negative or not finite");
  });
  return 0;
}
