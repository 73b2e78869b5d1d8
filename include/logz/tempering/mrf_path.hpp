#pragma once
/// @file mrf_path.hpp
/// The geometric path of a Potts or Ising model from the uniform distribution on its
/// states: p_β ∝ exp(−β E), log Z_0 = L log q. Its move at β is one of
///  - `sweeps` systematic-scan Gibbs sweeps at β (PottsGibbs; SiteGibbs for Ising spins in
///    either convention): mrf_path;
///  - `sweeps` Swendsen–Wang cluster updates at β (PottsSwendsenWang, any fields, couplings
///    that are ferromagnetic Potts couplings), optionally each followed by one Gibbs sweep:
///    mrf_swendsen_wang_path. Cluster updates do not slow down near a critical point the way
///    single-site moves do (Swendsen & Wang 1987), which is where a path through a phase
///    transition needs them (docs/samplers.md has the measurements).
/// Since the base is uniform, p_β ∝ exp(−β E) is exactly the distribution these kernels
/// sample at inverse temperature β.
#include <memory>

#include "logz/kernels/potts_gibbs.hpp"
#include "logz/kernels/potts_swendsen_wang.hpp"
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

/// The move of mrf_swendsen_wang_path: `updates` times, one Swendsen–Wang update at β and,
/// when `gibbs_after`, one systematic-scan Gibbs sweep at β. The cluster form is built once.
/// Its Info counts site assignments and changes of both (acceptance: the fraction of site
/// assignments that changed the state). Without the Gibbs sweeps the move is reversible.
template <class Model, bool gibbs_after>
struct SwendsenWangMove {
  const Model& model;
  std::shared_ptr<const SwendsenWangForm> form;
  std::size_t updates = 1;

  SiteGibbsInfo operator()(double beta, VectorD& x, Stream& rng) const {
    const PottsSwendsenWang sw({1, beta});
    using Gibbs = SiteGibbsKernel<Model, Scan::systematic>;
    SiteGibbsInfo info;
    for (std::size_t u = 0; u < updates; ++u) {
      const auto c = sw.step(*form, x, rng);
      info.updates += c.updates;
      info.changed += c.changed;
      if constexpr (gibbs_after) {
        const auto g = Gibbs({1, beta}).step(model, x, rng);
        info.updates += g.updates;
        info.changed += g.changed;
        info.non_finite += g.non_finite;
      }
    }
    return info;
  }
};

/// The path from `base` (= uniform_base(model)) to a Potts or Ising model, moved by `sweeps`
/// Swendsen–Wang updates per move (each followed by a Gibbs sweep when `gibbs_after`).
/// Throws Error(Exit::usage) naming the edge when the model's couplings are not of the form
/// Swendsen–Wang covers (kernels/potts_swendsen_wang.hpp).
template <bool gibbs_after = false, class Model>
auto mrf_swendsen_wang_path(const UniformStates& base, const Model& model, std::size_t sweeps) {
  using Move = SwendsenWangMove<Model, gibbs_after>;
  check_arg(sweeps >= 1, "mrf_swendsen_wang_path: sweeps must be >= 1, got {}", sweeps);
  return GeometricPath<UniformStates, Model, Move>(
      base, model, Move{model, std::make_shared<const SwendsenWangForm>(swendsen_wang_form(model)), sweeps});
}

}  // namespace logz
