#pragma once
/// @file potts_gibbs.hpp
/// The single-site samplers on q-state Potts models (docs/samplers.md), x_i ∈ {0, ..., q-1}:
/// the kernels of site_gibbs.hpp and metropolis.hpp, named for Potts.
/// - PottsGibbs: site i is redrawn from p_β(x_i = a | rest) ∝ exp(-β e_i(a)), with e_i the
///   conditional energies of Potts::site_energies (the heat-bath update; inverse CDF, one
///   uniform per update).
/// - PottsMetropolis: site i proposes a state b drawn uniformly among the q-1 states other
///   than x_i (a symmetric proposal) and accepts with min(1, exp(-β (e_i(b) - e_i(x_i)))).
/// A step checks that the state has L entries, each an integer in [0, q)
/// (Potts::check_state), O(L) per step.
#include "logz/kernels/metropolis.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/models/potts.hpp"

namespace logz {

template <Scan scan>
using PottsGibbs = SiteGibbsKernel<Potts, scan>;
template <Scan scan>
using PottsMetropolis = SiteMetropolisKernel<Potts, scan>;

using SystematicPottsGibbs = PottsGibbs<Scan::systematic>;
using RandomScanPottsGibbs = PottsGibbs<Scan::random>;
using SystematicPottsMetropolis = PottsMetropolis<Scan::systematic>;
using RandomScanPottsMetropolis = PottsMetropolis<Scan::random>;

}  // namespace logz
