#pragma once
/// @file metropolis.hpp
/// Single-site Metropolis sampling (Metropolis et al. 1953) for any model of discrete
/// sites (SiteConditionals: Ising, Potts) at inverse temperature β (docs/samplers.md):
/// site i proposes a new value b and accepts with probability min(1, exp(-β ΔE)),
/// ΔE = e_i(b) - e_i(x_i). The proposal is symmetric, so a single update satisfies
/// detailed balance:
/// - a two-state model with a log-odds form (BinarySiteConditionals: Ising) proposes the
///   flip, ΔE = ±f_i (1 - d) (f_i the local field, d the down value): one uniform;
/// - any other proposes b uniform among the q-1 values other than x_i (one integer draw),
///   then draws one uniform.
/// A non-finite β ΔE (an energy that overflowed) is a rejection, counted in Info.
/// Scan order as in site_gibbs.hpp: `updates` sweeps 0..n-1 (systematic) or `updates`
/// uniformly drawn sites (random).
#include <cstddef>
#include <span>
#include <vector>

#include "logz/kernels/site_gibbs.hpp"

namespace logz {

template <SiteConditionals M, Scan scan>
class SiteMetropolisKernel {
 public:
  using Params = SiteKernelParams;
  using State = VectorD;
  using Info = SiteMetropolisInfo;

  static constexpr const char* name() { return site_kernel_names<M>.metropolis[scan == Scan::random]; }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  SiteMetropolisKernel() : SiteMetropolisKernel(Params()) {}
  explicit SiteMetropolisKernel(Params p) : p_(p) { detail::check_params(name(), p.updates, p.beta); }
  const Params& params() const { return p_; }

  /// β ΔE of flipping site i of a two-state model (may be ±inf or NaN on overflow).
  double delta_energy(const M& m, const VectorD& x, std::size_t i) const
    requires BinarySiteConditionals<M>
  {
    const double gain = m.up_log_odds(i, x, p_.beta);
    // Going up changes β E by −gain; going down by +gain.
    return m.state_index(x[Eigen::Index(i)]) == 1 ? gain : -gain;
  }
  /// Probability that the flip of site i is accepted: min(1, exp(-β ΔE)), 0 if not finite.
  double accept_probability(const M& m, const VectorD& x, std::size_t i) const
    requires BinarySiteConditionals<M>
  {
    return detail::metropolis_acceptance(delta_energy(m, x, i));
  }

  /// β ΔE of moving site i from x_i to value b (may be ±inf or NaN on overflow).
  double delta_energy(const M& m, const VectorD& x, std::size_t i, std::size_t b) const {
    const std::size_t a = m.state_index(x[Eigen::Index(i)]);
    if constexpr (BinarySiteConditionals<M>) {
      return b == a ? 0.0 : delta_energy(m, x, i);
    } else {
      std::vector<double> e(m.num_states());
      m.site_energies(i, x, e);
      return p_.beta * (e[b] - e[a]);
    }
  }
  /// Probability that the move of site i to b is accepted: min(1, exp(-β ΔE)), 0 if β ΔE is
  /// not finite. Each b ≠ x_i is proposed with probability 1/(q-1).
  double accept_probability(const M& m, const VectorD& x, std::size_t i, std::size_t b) const {
    return detail::metropolis_acceptance(delta_energy(m, x, i, b));
  }

  /// One step. Throws Error(Exit::usage) on a state the model refuses (check_state).
  Info step(const M& m, State& x, Stream& rng) const {
    m.check_state(name(), x);
    Info info;
    std::vector<double> e(BinarySiteConditionals<M> ? 0 : m.num_states());
    detail::visit_sites<scan>(m.dimension(), p_.updates, rng, [&](std::size_t i) { update(m, x, i, e, rng, info); });
    return info;
  }

 private:
  void update(const M& m, State& x, std::size_t i, std::span<double> e, Stream& rng, Info& info) const {
    const std::size_t a = m.state_index(x[Eigen::Index(i)]);
    if constexpr (BinarySiteConditionals<M>) {
      const double de = delta_energy(m, x, i);
      const double u = rng.uniform_double();  // drawn always: a fixed number of draws per proposal
      if (detail::metropolis_accepts(de, u, info)) x[Eigen::Index(i)] = m.state_value(1 - a);
    } else {
      // b uniform on the q-1 values other than a: draw from [0, q-1) and skip a.
      std::size_t b = std::size_t(rng.below(m.num_states() - 1));
      if (b >= a) ++b;
      const double u = rng.uniform_double();  // drawn always: a fixed number of draws per proposal
      m.site_energies(i, x, e);
      if (detail::metropolis_accepts(p_.beta * (e[b] - e[a]), u, info)) x[Eigen::Index(i)] = m.state_value(b);
    }
  }

  Params p_;
};

/// Single-site Metropolis on Ising models (the names the samplers have always had).
template <Scan scan>
using SiteMetropolis = SiteMetropolisKernel<Ising, scan>;
using SystematicMetropolis = SiteMetropolis<Scan::systematic>;
using RandomScanMetropolis = SiteMetropolis<Scan::random>;

}  // namespace logz
