// Fuzz target: io::load_model, the one way in for model files of every kind (.npz of any
// model kind, told by the `logz_kind` marker or by its arrays, or plmc's binary parameter
// file), on a file holding the input: raw bytes, or a "NPZ:" container (fuzz_common.hpp)
// packed as a valid zip so that the arrays reach the per-kind readers.
// Then the model is turned back into the arrays save_model writes and read again
// (io::model_arrays → io::model_from_arrays): a model logz accepted must be one it can
// save and load back.
// Finding: anything but logz::Error from load_model — crash, sanitizer report, an
// allocation over -malloc_limit_mb — or a loaded model whose saved arrays are refused.
#include "fuzz_common.hpp"
#include "logz/io/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  static const logz_fuzz::TempFile file("model", ".npz");
  const std::string& path = file.write(logz_fuzz::file_bytes(logz_fuzz::as_view(data, size)));
  logz_fuzz::guarded([&] {
    const io::ModelFile m = io::load_model(path);
    try {
      const io::NamedArrays saved = io::model_arrays(m);
      (void)io::model_from_arrays(std::map<std::string, io::Array>(saved.begin(), saved.end()), "roundtrip");
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      logz_fuzz::finding("a model load_model accepted does not survive model_arrays -> model_from_arrays");
    }
  });
  return 0;
}
