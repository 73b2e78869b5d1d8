#pragma once
/// @file site_gibbs.hpp
/// Single-site Gibbs sampling for Ising models (docs/samplers.md), at inverse temperature
/// β: p_β(s) ∝ exp(-β E(s)). One update of site i draws s_i from p(s_i | rest), with
/// p(up | rest) = σ(β f_i (1 - d)), f_i = h_i + Σ_j J_ij s_j the local field and d the
/// down value (-1 or 0). The scan order is a template parameter:
/// - Scan::systematic: one step is `updates` sweeps over sites 0, 1, ..., n-1 in order
///   (π-invariant, not reversible);
/// - Scan::random: one step is `updates` updates of a site drawn uniformly (reversible).
/// Every uniform comes from the Stream given to step(); one chain per Stream.
#include <cmath>
#include <cstddef>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/ising.hpp"

namespace logz {

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
/// h_i + Σ_j J_ij s_j without the argument checks of Ising::local_field (hot loop).
inline double ising_local_field(const Ising& m, std::size_t i, const VectorD& s) {
  double f = m.fields()[Eigen::Index(i)];
  const auto& edges = m.edges();
  for (const Ising::Neighbor* nb = m.neighbors_begin(i); nb != m.neighbors_end(i); ++nb)
    f += edges[nb->edge].coupling * s[Eigen::Index(nb->site)];
  return f;
}
/// Validates the Params every Ising kernel shares: updates >= 1, beta finite and >= 0.
inline void check_params(const char* who, std::size_t updates, double beta) {
  check_arg(updates >= 1, "{}: updates must be >= 1 (got {})", who, updates);
  check_arg(std::isfinite(beta) && beta >= 0, "{}: beta must be finite and >= 0 (got {})", who, beta);
}
/// β (E(down) − E(up)) of site i: what flipping it up is worth, in the model's convention.
inline double up_gain(const Ising& m, std::size_t i, const VectorD& s, double beta) {
  return beta * ising_local_field(m, i, s) * (1.0 - m.down_value());
}
/// Validates a chain state against the model: size n_spins.
inline void check_state(const char* who, const Ising& m, const VectorD& s) {
  check_arg(std::size_t(s.size()) == m.n_spins(), "{}: state has {} spins but the model has {}", who, s.size(),
            m.n_spins());
}
/// Calls visit(i) for the sites one step updates: `updates` sweeps over 0 .. n-1
/// (systematic scan) or `updates` sites drawn uniformly from the stream (random scan).
template <Scan scan, class Visit>
void visit_sites(std::size_t n, std::size_t updates, Stream& rng, Visit&& visit) {
  if constexpr (scan == Scan::systematic) {
    for (std::size_t sweep = 0; sweep < updates; ++sweep)
      for (std::size_t i = 0; i < n; ++i) visit(i);
  } else {
    for (std::size_t k = 0; k < updates; ++k) visit(std::size_t(rng.below(n)));
  }
}

}  // namespace detail

template <Scan scan>
class SiteGibbs {
 public:
  using Params = SiteKernelParams;
  /// The chain's state: the spins, values of the model's convention.
  using State = VectorD;
  using Info = SiteGibbsInfo;

  static constexpr const char* name() {
    return scan == Scan::systematic ? "SiteGibbs<systematic>" : "SiteGibbs<random>";
  }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  SiteGibbs() : SiteGibbs(Params()) {}
  explicit SiteGibbs(Params p) : p_(p) {
    detail::check_params(name(), p.updates, p.beta);
  }
  const Params& params() const { return p_; }

  /// p(s_i = up | rest) at the kernel's beta; NaN when the conditional is not finite.
  double up_probability(const Ising& m, const VectorD& s, std::size_t i) const {
    const double x = detail::up_gain(m, i, s, p_.beta);
    if (std::isnan(x)) return x;
    return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
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
    const double p_up = up_probability(m, s, i);
    const double u = rng.uniform_double();  // drawn always: a fixed number of draws per update
    ++info.updates;
    if (std::isnan(p_up)) {
      ++info.non_finite;
      return;
    }
    const double v = u < p_up ? 1.0 : m.down_value();
    if (v != s[Eigen::Index(i)]) ++info.changed;
    s[Eigen::Index(i)] = v;
  }

  Params p_;
};

using SystematicGibbs = SiteGibbs<Scan::systematic>;
using RandomScanGibbs = SiteGibbs<Scan::random>;

}  // namespace logz
