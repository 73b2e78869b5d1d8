#pragma once
/// @file potts_gibbs.hpp
/// Single-site samplers for q-state Potts models (docs/samplers.md) at inverse
/// temperature β: p_β(x) ∝ exp(-β E(x)), x_i ∈ {0, ..., q-1}.
/// - PottsGibbs: site i is redrawn from p_β(x_i = a | rest) ∝ exp(-β e_i(a)), with e_i the
///   conditional energies of Potts::site_energies (the heat-bath update).
/// - PottsMetropolis: site i proposes a state b drawn uniformly among the q-1 states other
///   than x_i (a symmetric proposal) and accepts with min(1, exp(-β (e_i(b) - e_i(x_i)))).
/// The scan order is a template parameter, as for the Ising kernels (site_gibbs.hpp):
/// `updates` sweeps over sites 0..L-1 (Scan::systematic: π-invariant, not reversible) or
/// `updates` updates of a uniformly drawn site (Scan::random: reversible). Every random
/// number comes from the Stream given to step(); one chain per Stream. A conditional that
/// is not finite (energies that overflowed) leaves the site as it was and is counted in
/// Info::non_finite (DESIGN.md §2).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "logz/kernels/site_gibbs.hpp"
#include "logz/models/potts.hpp"

namespace logz {

namespace detail {
/// Validates a chain state against a Potts model: L entries, each an integer in [0, q)
/// (the conditional energies index the coupling blocks by these values). O(L) per step.
inline void check_potts_state(const char* who, const Potts& m, const VectorD& x) {
  check_arg(std::size_t(x.size()) == m.n_sites(), "{}: state has {} sites but the model has {}", who, x.size(),
            m.n_sites());
  const double q = double(m.num_states());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    check_arg(x[i] >= 0 && x[i] < q && x[i] == std::floor(x[i]), "{}: site {} has value {}, not a state in [0, {})",
              who, i, x[i], m.num_states());
}
}  // namespace detail

template <Scan scan>
class PottsGibbs {
 public:
  using Params = SiteKernelParams;
  /// The chain's state: x_i ∈ {0, ..., q-1} stored as doubles (the model's state type).
  using State = VectorD;
  using Info = SiteGibbsInfo;

  static constexpr const char* name() {
    return scan == Scan::systematic ? "PottsGibbs<systematic>" : "PottsGibbs<random>";
  }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  PottsGibbs() : PottsGibbs(Params()) {}
  explicit PottsGibbs(Params p) : p_(p) { detail::check_params(name(), p.updates, p.beta); }
  const Params& params() const { return p_; }

  /// p_β(x_i = a | rest) for a = 0..q-1 into `out` (size q). Returns false, leaving `out`
  /// unspecified, when the conditional is not finite: a NaN β e_i(a), or no state with a
  /// finite β e_i(a) below +inf (states at +inf get probability 0).
  bool conditional(const Potts& m, const VectorD& x, std::size_t i, std::span<double> out) const {
    m.site_energies(i, x, out);
    return normalise(out);
  }

  /// One step. Throws Error(Exit::usage) if the state has the wrong size or a value that
  /// is not a state of the model.
  Info step(const Potts& m, State& x, Stream& rng) const {
    detail::check_potts_state(name(), m, x);
    Info info;
    std::vector<double> p(m.num_states());
    detail::visit_sites<scan>(m.n_sites(), p_.updates, rng, [&](std::size_t i) { update(m, x, i, p, rng, info); });
    return info;
  }

 private:
  /// Turns conditional energies into probabilities in place: exp(-β (e_a - min e)) / sum.
  bool normalise(std::span<double> e) const {
    double lo = std::numeric_limits<double>::infinity();
    bool nan = false;
    for (double& v : e) {
      v *= p_.beta;
      nan |= std::isnan(v);
      lo = std::min(lo, v);
    }
    if (nan || !std::isfinite(lo)) return false;
    double sum = 0;
    for (double& v : e) sum += (v = std::exp(lo - v));
    for (double& v : e) v /= sum;
    return true;
  }

  void update(const Potts& m, State& x, std::size_t i, std::span<double> w, Stream& rng, Info& info) const {
    m.site_energies(i, x, w);
    const double u = rng.uniform_double();  // drawn always: a fixed number of draws per update
    ++info.updates;
    if (!normalise(w)) {
      ++info.non_finite;
      return;
    }
    // Inverse CDF; if rounding leaves u above the last partial sum, the last state with
    // positive probability is taken.
    std::size_t pick = 0;
    double cum = 0;
    for (std::size_t a = 0; a < w.size(); ++a) {
      if (w[a] <= 0) continue;
      pick = a;
      cum += w[a];
      if (u < cum) break;
    }
    const double v = double(pick);
    if (v != x[Eigen::Index(i)]) ++info.changed;
    x[Eigen::Index(i)] = v;
  }

  Params p_;
};

template <Scan scan>
class PottsMetropolis {
 public:
  using Params = SiteKernelParams;
  using State = VectorD;
  using Info = SiteMetropolisInfo;

  static constexpr const char* name() {
    return scan == Scan::systematic ? "PottsMetropolis<systematic>" : "PottsMetropolis<random>";
  }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  PottsMetropolis() : PottsMetropolis(Params()) {}
  explicit PottsMetropolis(Params p) : p_(p) { detail::check_params(name(), p.updates, p.beta); }
  const Params& params() const { return p_; }

  /// β ΔE of moving site i from x_i to b (may be ±inf or NaN on overflow).
  double delta_energy(const Potts& m, const VectorD& x, std::size_t i, std::size_t b) const {
    std::vector<double> e(m.num_states());
    m.site_energies(i, x, e);
    return p_.beta * (e[b] - e[std::size_t(x[Eigen::Index(i)])]);
  }
  /// Probability that the move of site i to b is accepted: min(1, exp(-β ΔE)), 0 if β ΔE is
  /// not finite. Each b ≠ x_i is proposed with probability 1/(q-1).
  double accept_probability(const Potts& m, const VectorD& x, std::size_t i, std::size_t b) const {
    return detail::metropolis_acceptance(delta_energy(m, x, i, b));
  }

  /// One step. Throws Error(Exit::usage) if the state has the wrong size or a value that
  /// is not a state of the model.
  Info step(const Potts& m, State& x, Stream& rng) const {
    detail::check_potts_state(name(), m, x);
    Info info;
    std::vector<double> e(m.num_states());
    detail::visit_sites<scan>(m.n_sites(), p_.updates, rng, [&](std::size_t i) { update(m, x, i, e, rng, info); });
    return info;
  }

 private:
  void update(const Potts& m, State& x, std::size_t i, std::span<double> e, Stream& rng, Info& info) const {
    const auto a = std::size_t(x[Eigen::Index(i)]);
    // b uniform on the q-1 states other than a: draw from [0, q-1) and skip a.
    std::size_t b = std::size_t(rng.below(m.num_states() - 1));
    if (b >= a) ++b;
    const double u = rng.uniform_double();  // drawn always: a fixed number of draws per proposal
    m.site_energies(i, x, e);
    if (detail::metropolis_accepts(p_.beta * (e[b] - e[a]), u, info)) x[Eigen::Index(i)] = double(b);
  }

  Params p_;
};

using SystematicPottsGibbs = PottsGibbs<Scan::systematic>;
using RandomScanPottsGibbs = PottsGibbs<Scan::random>;
using SystematicPottsMetropolis = PottsMetropolis<Scan::systematic>;
using RandomScanPottsMetropolis = PottsMetropolis<Scan::random>;

}  // namespace logz
