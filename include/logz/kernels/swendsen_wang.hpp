#pragma once
/// @file swendsen_wang.hpp
/// Swendsen–Wang cluster updates (Swendsen & Wang 1987) for ±1 Ising models with
/// non-negative couplings and any fields, at inverse temperature β (docs/samplers.md).
/// One step: every edge whose spins agree is bonded with probability
/// p_ij = 1 - exp(-2 β J_ij) (one uniform per aligned edge, in edge order); a field is a
/// coupling h_i to a ghost spin fixed at +1, so every site whose spin agrees with the sign
/// of its field is bonded to the ghost with probability 1 - exp(-2 β |h_i|) (one uniform
/// per such site, in site order; none when all fields are zero). The clusters of bonded
/// sites are found by union-find; a cluster bonded to the ghost is frozen, and every other
/// cluster, in order of its smallest site, is flipped with probability 1/2 (one 32-bit
/// word per free cluster). This is the Gibbs sampler of the Edwards–Sokal joint of spins
/// and bonds with the ghost held at +1, so it is π-invariant and reversible.
/// Models it does not cover (a negative coupling, 0/1 spins) are refused with
/// Error(Exit::usage).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "logz/kernels/site_gibbs.hpp"

namespace logz {

class SwendsenWang {
 public:
  struct Params {
    std::size_t updates = 1;  ///< cluster updates per step; >= 1
    double beta = 1.0;        ///< inverse temperature, finite and >= 0
  };
  using State = VectorD;
  struct Info {
    std::size_t updates = 0;   ///< cluster updates done
    std::size_t bonds = 0;     ///< bonds placed, edge and ghost (summed over updates)
    std::size_t clusters = 0;  ///< clusters formed (summed over updates)
    std::size_t flipped = 0;   ///< clusters flipped (summed over updates)
    std::size_t frozen = 0;    ///< clusters bonded to the field's ghost spin, kept (summed over updates)
  };

  static constexpr const char* name() { return "SwendsenWang"; }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  SwendsenWang() : SwendsenWang(Params()) {}
  explicit SwendsenWang(Params p) : p_(p) {
    detail::check_params(name(), p.updates, p.beta);
  }
  const Params& params() const { return p_; }

  /// Throws Error(Exit::usage) unless the model has ±1 spins and J >= 0 (fields: any).
  static void check_model(const Ising& m) {
    check_arg(m.convention() == SpinConvention::plus_minus_one,
              "SwendsenWang: the model has 0/1 spins; Swendsen-Wang needs +-1 spins");
    for (std::size_t e = 0; e < m.n_edges(); ++e)
      check_arg(m.edges()[e].coupling >= 0.0,
                "SwendsenWang: coupling {} (sites {}, {}) is {}; Swendsen-Wang needs couplings >= 0", e,
                m.edges()[e].i, m.edges()[e].j, m.edges()[e].coupling);
  }

  /// Bond probability of an aligned edge with coupling J: 1 - exp(-2 β J). With J = |h_i|
  /// it is the probability that a site whose spin has the sign of its field h_i is bonded
  /// to the ghost spin.
  double bond_probability(double coupling) const { return -std::expm1(-2.0 * p_.beta * coupling); }

  /// One step. Throws Error(Exit::usage) on a model it does not cover (check_model) or a
  /// state of the wrong size.
  Info step(const Ising& m, State& s, Stream& rng) const {
    check_model(m);
    m.check_state(name(), s);
    Info info;
    const std::size_t n = m.n_spins();
    std::vector<std::uint32_t> parent(n);
    std::vector<std::uint8_t> decided(n), anchored(n);
    auto find = [&](std::uint32_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];  // path halving
      return x;
    };
    const VectorD& h = m.fields();
    bool any_field = false;
    for (std::size_t i = 0; i < n; ++i) any_field |= h[Eigen::Index(i)] != 0.0;
    for (std::size_t sweep = 0; sweep < p_.updates; ++sweep) {
      for (std::size_t i = 0; i < n; ++i) parent[i] = std::uint32_t(i);
      for (const IsingEdge& e : m.edges()) {
        if (s[Eigen::Index(e.i)] != s[Eigen::Index(e.j)]) continue;
        if (!(rng.uniform_double() < bond_probability(e.coupling))) continue;
        ++info.bonds;
        std::uint32_t a = find(std::uint32_t(e.i)), b = find(std::uint32_t(e.j));
        if (a == b) continue;
        if (a > b) std::swap(a, b);
        parent[b] = a;  // the root is the smallest site of a cluster
      }
      // decided[r]: 0 = undecided, 1 = keep, 2 = flip, 3 = frozen (bonded to the ghost).
      for (std::size_t i = 0; i < n; ++i) decided[i] = 0;
      if (any_field) {
        // Ghost bonds: a site whose spin has its field's sign, with probability 1 - exp(-2β|h_i|).
        for (std::size_t i = 0; i < n; ++i) {
          const double hi = h[Eigen::Index(i)], si = s[Eigen::Index(i)];
          anchored[i] = (hi > 0 && si == 1.0) || (hi < 0 && si == -1.0);
          if (anchored[i] && !(rng.uniform_double() < bond_probability(std::abs(hi)))) anchored[i] = 0;
        }
        for (std::size_t i = 0; i < n; ++i)
          if (anchored[i]) {
            ++info.bonds;
            decided[find(std::uint32_t(i))] = 3;
          }
      }
      // Roots are met before their members, so each cluster is decided at its smallest site.
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t r = find(std::uint32_t(i));
        if (r == i) {
          ++info.clusters;
          if (decided[r] == 3) {
            ++info.frozen;
          } else {
            decided[r] = (rng.next_u32() >> 31) ? 2 : 1;
            if (decided[r] == 2) ++info.flipped;
          }
        }
        if (decided[r] == 2) s[Eigen::Index(i)] = -s[Eigen::Index(i)];
      }
      ++info.updates;
    }
    return info;
  }

 private:
  Params p_;
};

}  // namespace logz
