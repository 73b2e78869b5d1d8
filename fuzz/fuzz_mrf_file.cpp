// Fuzz target: io::load_mrf (Ising and Potts model files) on a file holding the input:
// raw bytes, or a "NPZ:" container (fuzz_common.hpp) packed as a valid zip, so that
// fields, couplings, edges, spins, lattice and alphabet arrays reach the validation.
// The loaded model's energy is then evaluated at the all-zero state.
// Finding: anything but logz::Error — crash, sanitizer report (an edge index the reader
// let through is an out-of-bounds read here), an allocation over -malloc_limit_mb.
#include <variant>

#include "fuzz_common.hpp"
#include "logz/io/mrf_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  static const logz_fuzz::TempFile file("mrf", ".npz");
  const std::string& path = file.write(logz_fuzz::file_bytes(logz_fuzz::as_view(data, size)));
  logz_fuzz::guarded([&] {
    const auto mrf = io::load_mrf(path);
    // One energy per model reads every field and coupling through the edge list.
    if (const auto* ising = std::get_if<io::IsingFile>(&mrf)) {
      const VectorD s = VectorD::Constant(Eigen::Index(ising->model.n_spins()), 1.0);
      (void)ising->model.energy(s);
    } else {
      const auto& potts = std::get<io::PottsFile>(mrf).model;
      (void)potts.energy(VectorD::Zero(potts.fields().rows()));
    }
  });
  return 0;
}
