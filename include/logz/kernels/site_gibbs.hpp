#pragma once
/// @file site_gibbs.hpp
/// Single-site Gibbs sampling (the heat bath; Geman & Geman 1984) for any model of
/// discrete sites (SiteConditionals: Ising, Potts), at inverse temperature β:
/// p_β(x) ∝ exp(-β E(x)). One update of site i redraws x_i from
/// p_β(x_i = a | rest) ∝ exp(-β e_i(a)), e_i the model's conditional energies
/// (docs/samplers.md). A two-state model with a log-odds form (BinarySiteConditionals:
/// Ising, p(up | rest) = σ(β f_i (1 - d))) is drawn as up when u < p(up); any other by
/// the inverse CDF of its q probabilities. Either way one uniform per update.
/// The scan order is a template parameter:
/// - Scan::systematic: one step is `updates` sweeps over sites 0, 1, ..., n-1 in order
///   (π-invariant, not reversible);
/// - Scan::random: one step is `updates` updates of a site drawn uniformly (reversible).
/// Every random number comes from the Stream given to step(); one chain per Stream. A
/// conditional that is not finite (energies that overflowed) leaves the site as it was
/// and is counted in Info::non_finite (DESIGN.md §2).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/ising.hpp"

namespace logz {

class Potts;

/// Order in which a single-site kernel visits sites.
enum class Scan { systematic, random };

/// The tunable numbers of every single-site kernel (Gibbs, Metropolis; Ising, Potts).
struct SiteKernelParams {
  std::size_t updates = 1;  ///< sweeps per step (systematic) or site updates per step (random); >= 1
  double beta = 1.0;        ///< inverse temperature, finite and >= 0
};
/// What a step of a single-site Gibbs kernel did.
struct SiteGibbsInfo {
  std::size_t updates = 0;     ///< site updates done
  std::size_t changed = 0;     ///< updates that changed the site
  std::size_t non_finite = 0;  ///< updates whose conditional was not finite (site kept)
};
/// What a step of a single-site Metropolis kernel did.
struct SiteMetropolisInfo {
  std::size_t proposals = 0;   ///< moves proposed
  std::size_t accepted = 0;    ///< moves accepted
  std::size_t non_finite = 0;  ///< proposals rejected because β ΔE was not finite
};

/// How the single-site kernels on models of type M name themselves in messages, by scan
/// (systematic, random). Ising's are the generic names; Potts keeps its own.
struct SiteKernelNames {
  const char* gibbs[2];
  const char* metropolis[2];
};
template <class M>
inline constexpr SiteKernelNames site_kernel_names = {{"SiteGibbs<systematic>", "SiteGibbs<random>"},
                                                      {"SiteMetropolis<systematic>", "SiteMetropolis<random>"}};
template <>
inline constexpr SiteKernelNames site_kernel_names<Potts> = {{"PottsGibbs<systematic>", "PottsGibbs<random>"},
                                                             {"PottsMetropolis<systematic>", "PottsMetropolis<random>"}};

namespace detail {
/// Metropolis acceptance of a move whose β ΔE is `de`: min(1, exp(-de)), 0 if not finite.
inline double metropolis_acceptance(double de) {
  if (!std::isfinite(de)) return 0.0;
  return de <= 0 ? 1.0 : std::exp(-de);
}
/// Counts one proposal in `info` and decides it with the uniform u: accepted when
/// de <= 0 or u < exp(-de); a non-finite de is rejected and counted as such.
inline bool metropolis_accepts(double de, double u, SiteMetropolisInfo& info) {
  ++info.proposals;
  if (!std::isfinite(de)) {
    ++info.non_finite;
    return false;
  }
  const bool accept = de <= 0 || u < std::exp(-de);
  info.accepted += accept;
  return accept;
}
/// Validates the Params every single-site kernel shares: updates >= 1, beta finite and >= 0.
inline void check_params(const char* who, std::size_t updates, double beta) {
  check_arg(updates >= 1, "{}: updates must be >= 1 (got {})", who, updates);
  check_arg(std::isfinite(beta) && beta >= 0, "{}: beta must be finite and >= 0 (got {})", who, beta);
}
/// Calls visit(i) for the sites one step updates: `updates` sweeps over 0 .. n-1
/// (systematic scan) or `updates` sites drawn uniformly from the stream (random scan).
template <Scan scan, class Visit>
void visit_sites(std::size_t n, std::size_t updates, Stream& rng, Visit&& visit) {
  if (n == 0) return;
  if constexpr (scan == Scan::systematic) {
    for (std::size_t sweep = 0; sweep < updates; ++sweep)
      for (std::size_t i = 0; i < n; ++i) visit(i);
  } else {
    for (std::size_t k = 0; k < updates; ++k) visit(std::size_t(rng.below(n)));
  }
}
/// Turns conditional energies into probabilities at β in place: exp(-β (e_a - min e)) / sum.
/// False, leaving `e` unspecified, when a β e_a is NaN or none is below +inf (states at
/// +inf get probability 0).
inline bool normalise_conditional(std::span<double> e, double beta) {
  double lo = std::numeric_limits<double>::infinity();
  bool nan = false;
  for (double& v : e) {
    v *= beta;
    nan |= std::isnan(v);
    lo = std::min(lo, v);
  }
  if (nan || !std::isfinite(lo)) return false;
  double sum = 0;
  for (double& v : e) sum += (v = std::exp(lo - v));
  for (double& v : e) v /= sum;
  return true;
}
/// The value drawn from probabilities `p` by the uniform u (inverse CDF). If rounding
/// leaves u above the last partial sum, the last value with positive probability.
inline std::size_t inverse_cdf(std::span<const double> p, double u) {
  std::size_t pick = 0;
  double cum = 0;
  for (std::size_t a = 0; a < p.size(); ++a) {
    if (p[a] <= 0) continue;
    pick = a;
    cum += p[a];
    if (u < cum) break;
  }
  return pick;
}
}  // namespace detail

template <SiteConditionals M, Scan scan>
class SiteGibbsKernel {
 public:
  using Params = SiteKernelParams;
  /// The chain's state: each site's value as the model stores it (a double).
  using State = VectorD;
  using Info = SiteGibbsInfo;

  static constexpr const char* name() { return site_kernel_names<M>.gibbs[scan == Scan::random]; }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  SiteGibbsKernel() : SiteGibbsKernel(Params()) {}
  explicit SiteGibbsKernel(Params p) : p_(p) { detail::check_params(name(), p.updates, p.beta); }
  const Params& params() const { return p_; }

  /// p_β(x_i = up | rest) of a two-state model; NaN when the conditional is not finite.
  double up_probability(const M& m, const VectorD& x, std::size_t i) const
    requires BinarySiteConditionals<M>
  {
    const double a = m.up_log_odds(i, x, p_.beta);
    if (std::isnan(a)) return a;
    return a >= 0 ? 1.0 / (1.0 + std::exp(-a)) : std::exp(a) / (1.0 + std::exp(a));
  }

  /// p_β(x_i = a | rest) for a = 0..q-1 into `out` (size num_states()). Returns false,
  /// leaving `out` unspecified, when the conditional is not finite: a NaN β e_i(a), or no
  /// state with a finite β e_i(a) below +inf (states at +inf get probability 0).
  bool conditional(const M& m, const VectorD& x, std::size_t i, std::span<double> out) const {
    m.site_energies(i, x, out);
    return detail::normalise_conditional(out, p_.beta);
  }

  /// One step. Throws Error(Exit::usage) on a state the model refuses (check_state).
  Info step(const M& m, State& x, Stream& rng) const {
    m.check_state(name(), x);
    Info info;
    std::vector<double> p(BinarySiteConditionals<M> ? 0 : m.num_states());
    detail::visit_sites<scan>(m.dimension(), p_.updates, rng, [&](std::size_t i) { update(m, x, i, p, rng, info); });
    return info;
  }

 private:
  void update(const M& m, State& x, std::size_t i, std::span<double> p, Stream& rng, Info& info) const {
    std::size_t pick;
    if constexpr (BinarySiteConditionals<M>) {
      const double p_up = up_probability(m, x, i);
      const double u = rng.uniform_double();  // drawn always: a fixed number of draws per update
      ++info.updates;
      if (std::isnan(p_up)) {
        ++info.non_finite;
        return;
      }
      pick = u < p_up ? 1 : 0;
    } else {
      m.site_energies(i, x, p);
      const double u = rng.uniform_double();  // drawn always: a fixed number of draws per update
      ++info.updates;
      if (!detail::normalise_conditional(p, p_.beta)) {
        ++info.non_finite;
        return;
      }
      pick = detail::inverse_cdf(p, u);
    }
    const double v = m.state_value(pick);
    if (v != x[Eigen::Index(i)]) ++info.changed;
    x[Eigen::Index(i)] = v;
  }

  Params p_;
};

/// Single-site Gibbs on Ising models (the names the samplers have always had).
template <Scan scan>
using SiteGibbs = SiteGibbsKernel<Ising, scan>;
using SystematicGibbs = SiteGibbs<Scan::systematic>;
using RandomScanGibbs = SiteGibbs<Scan::random>;

}  // namespace logz
