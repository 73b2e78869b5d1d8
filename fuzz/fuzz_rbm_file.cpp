// Fuzz target: io::load_rbm (binary RBM model files) on a file holding the input: raw
// bytes, or a "NPZ:" container (fuzz_common.hpp) packed as a valid zip.
// Finding: anything but logz::Error — crash, sanitizer report, an allocation over
// -malloc_limit_mb — or a loaded model whose parameters disagree in size or are not finite
// (the reader promises to reject those).
#include <cmath>

#include "fuzz_common.hpp"
#include "logz/io/rbm_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  static const logz_fuzz::TempFile file("rbm", ".npz");
  const std::string& path = file.write(logz_fuzz::file_bytes(logz_fuzz::as_view(data, size)));
  logz_fuzz::guarded([&] {
    const io::RbmFile f = io::load_rbm(path);
    const auto& m = f.model;
    if (m.weights.rows() != m.visible_bias.size() || m.weights.cols() != m.hidden_bias.size()) logz_fuzz::finding("RBM shapes disagree");
    if (!m.weights.allFinite() || !m.visible_bias.allFinite() || !m.hidden_bias.allFinite()) logz_fuzz::finding("RBM parameter not finite");
    if (f.data_marginals && f.data_marginals->size() != m.visible_bias.size()) logz_fuzz::finding("data_marginals size");
  });
  return 0;
}
