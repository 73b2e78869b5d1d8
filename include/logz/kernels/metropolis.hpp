#pragma once
/// @file metropolis.hpp
/// Single-site Metropolis sampling for Ising models (docs/samplers.md) at inverse
/// temperature β: propose flipping one spin, accept with probability min(1, exp(-β ΔE)),
/// ΔE = E(flipped) - E(s) = ±f_i (1 - d) (f_i the local field, d the down value). The
/// flip proposal is symmetric, so a single update satisfies detailed balance. A
/// non-finite β ΔE (an energy that overflowed) is a rejection, counted in Info.
/// Scan order as in site_gibbs.hpp: `updates` sweeps 0..n-1 (systematic) or `updates`
/// uniformly drawn sites (random).
#include <cmath>
#include <cstddef>

#include "logz/kernels/site_gibbs.hpp"

namespace logz {

template <Scan scan>
class SiteMetropolis {
 public:
  using Params = SiteKernelParams;
  using State = VectorD;
  using Info = SiteMetropolisInfo;

  static constexpr const char* name() {
    return scan == Scan::systematic ? "SiteMetropolis<systematic>" : "SiteMetropolis<random>";
  }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  SiteMetropolis() : SiteMetropolis(Params()) {}
  explicit SiteMetropolis(Params p) : p_(p) {
    detail::check_params(name(), p.updates, p.beta);
  }
  const Params& params() const { return p_; }

  /// β ΔE of flipping site i (may be ±inf or NaN on overflow).
  double delta_energy(const Ising& m, const VectorD& s, std::size_t i) const {
    const double gain = detail::up_gain(m, i, s, p_.beta);
    // Going up changes β E by −gain; going down by +gain.
    return s[Eigen::Index(i)] == 1.0 ? gain : -gain;
  }
  /// Probability that the flip of site i is accepted: min(1, exp(-β ΔE)), 0 if not finite.
  double accept_probability(const Ising& m, const VectorD& s, std::size_t i) const {
    return detail::metropolis_acceptance(delta_energy(m, s, i));
  }

  /// One step. Throws Error(Exit::usage) if the state has the wrong size.
  Info step(const Ising& m, State& s, Stream& rng) const {
    detail::check_state(name(), m, s);
    Info info;
    const std::size_t n = m.n_spins();
    if (n == 0) return info;
    detail::visit_sites<scan>(n, p_.updates, rng, [&](std::size_t i) { update(m, s, i, rng, info); });
    return info;
  }

 private:
  void update(const Ising& m, State& s, std::size_t i, Stream& rng, Info& info) const {
    const double de = delta_energy(m, s, i);
    const double u = rng.uniform_double();  // drawn always: a fixed number of draws per proposal
    if (detail::metropolis_accepts(de, u, info)) {
      const Eigen::Index k = Eigen::Index(i);
      s[k] = s[k] == 1.0 ? m.down_value() : 1.0;
    }
  }

  Params p_;
};

using SystematicMetropolis = SiteMetropolis<Scan::systematic>;
using RandomScanMetropolis = SiteMetropolis<Scan::random>;

}  // namespace logz
