// Fuzz target: the .npy parser (io::parse_npy, which io::read_npy and every .npz member
// go through), on the raw input bytes.
// Finding: anything but logz::Error from the parser — a crash, a sanitizer report, an
// allocation over -malloc_limit_mb (a header that claims a huge shape must be checked
// against the bytes present before anything is allocated) — or an array that does not
// survive encode_npy → parse_npy unchanged.
#include <span>

#include "fuzz_common.hpp"
#include "logz/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  const auto bytes = std::as_bytes(std::span(data, size));
  logz_fuzz::guarded([&] {
    const io::Array a = io::parse_npy(bytes, "fuzz.npy");
    // What the parser accepted must be an array logz can write and read back as it is.
    std::string encoded;
    try {
      encoded = io::encode_npy(a);
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      logz_fuzz::finding("encode_npy refused an array parse_npy returned");
    }
    const io::Array b = io::parse_npy(std::as_bytes(std::span(encoded.data(), encoded.size())), "roundtrip.npy");
    if (a.dtype != b.dtype || a.shape != b.shape || a.bytes != b.bytes)
      logz_fuzz::finding("parse_npy(encode_npy(a)) != a");
  });
  return 0;
}
