// Persistent contrastive divergence for continuous energies: the kernel names.
#include "logz/training/continuous_pcd.hpp"

#include "logz/core/check.hpp"

namespace logz {

std::string_view pcd_kernel_name(PcdKernel kernel) {
  switch (kernel) {
    case PcdKernel::mala: return "mala";
    case PcdKernel::ula: return "ula";
    case PcdKernel::hmc: return "hmc";
  }
  return "?";
}

PcdKernel parse_pcd_kernel(std::string_view name) {
  for (auto k : {PcdKernel::mala, PcdKernel::ula, PcdKernel::hmc})
    if (pcd_kernel_name(k) == name) return k;
  fail(Exit::usage, "parse_pcd_kernel: unknown kernel '{}' (expected mala, ula or hmc)", name);
}

}  // namespace logz
