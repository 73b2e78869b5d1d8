#pragma once
/// @file mrf_path.hpp
/// The geometric path of a Potts or Ising model from the uniform distribution on its
/// states: p_β ∝ exp(−β E), log Z_0 = L log q, moved by `sweeps` systematic-scan Gibbs
/// sweeps at β (PottsGibbs; SiteGibbs for Ising spins in either convention).
#include "logz/kernels/potts_gibbs.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"
#include "logz/tempering/path.hpp"

namespace logz {

inline UniformStates uniform_base(const Potts& m) { return UniformStates{m.n_sites(), m.num_states()}; }
inline UniformStates uniform_base(const Ising& m) {
  return UniformStates{m.n_spins(), 2, m.down_value(), 1.0 - m.down_value()};
}

/// The path from `base` (= uniform_base(model), kept by reference) to a Potts model.
inline auto mrf_path(const UniformStates& base, const Potts& model, std::size_t sweeps) {
  using Move = TargetKernelMove<SystematicPottsGibbs, Potts>;
  return GeometricPath<UniformStates, Potts, Move>(base, model, Move{model, SiteKernelParams{sweeps, 1.0}});
}
/// The path from `base` (= uniform_base(model)) to an Ising model.
inline auto mrf_path(const UniformStates& base, const Ising& model, std::size_t sweeps) {
  using Move = TargetKernelMove<SystematicGibbs, Ising>;
  return GeometricPath<UniformStates, Ising, Move>(base, model, Move{model, SiteKernelParams{sweeps, 1.0}});
}

}  // namespace logz
