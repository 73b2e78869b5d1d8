// The continuous-energy façade: kernel settings.
#include "logz/api/continuous_tasks.hpp"

#include <cmath>

namespace logz::api {

void ContinuousKernelConfig::validate() const {
  check_arg(kernel == "hmc" || kernel == "mala", "estimate: --kernel must be hmc or mala, got '{}'", kernel);
  check_arg(std::isfinite(step_size) && step_size > 0, "estimate: --step-size must be positive, got {}", step_size);
  check_arg(leapfrog >= 1, "estimate: --leapfrog must be >= 1, got {}", leapfrog);
}

}  // namespace logz::api
