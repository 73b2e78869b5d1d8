// Minibatch training of continuous energies: the names of the objectives
// (training/stochastic_fit.hpp).
#include "logz/training/stochastic_fit.hpp"

#include "logz/core/check.hpp"

namespace logz {

std::string_view objective_name(StochasticObjective objective) {
  switch (objective) {
    case StochasticObjective::sm: return "sm";
    case StochasticObjective::ssm: return "ssm";
    case StochasticObjective::dsm: return "dsm";
    case StochasticObjective::nce: return "nce";
  }
  return "?";
}

StochasticObjective parse_objective(std::string_view name) {
  for (auto o : {StochasticObjective::sm, StochasticObjective::ssm, StochasticObjective::dsm, StochasticObjective::nce})
    if (objective_name(o) == name) return o;
  fail(Exit::usage, "parse_objective: unknown objective '{}' (expected sm, ssm, dsm or nce)", name);
}

}  // namespace logz
