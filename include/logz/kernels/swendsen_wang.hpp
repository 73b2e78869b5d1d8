#pragma once
/// @file swendsen_wang.hpp
/// Swendsen–Wang cluster updates (Swendsen & Wang 1987) for ±1 Ising models with
/// non-negative couplings and zero fields, at inverse temperature β (docs/samplers.md).
/// One step: every edge whose spins agree is bonded with probability
/// p_ij = 1 - exp(-2 β J_ij) (one uniform per aligned edge, in edge order); the clusters
/// of bonded sites are found by union-find; each cluster, in order of its smallest site,
/// is flipped with probability 1/2 (one uniform per cluster). The kernel is π-invariant
/// and reversible (it is a Gibbs sampler on the Edwards–Sokal joint of spins and bonds).
/// Models it does not cover (a negative coupling, a non-zero field, 0/1 spins) are
/// refused with Error(Exit::usage); no Metropolis correction for fields is attempted.
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
    std::size_t bonds = 0;     ///< bonds placed (summed over updates)
    std::size_t clusters = 0;  ///< clusters formed (summed over updates)
    std::size_t flipped = 0;   ///< clusters flipped (summed over updates)
  };

  static constexpr const char* name() { return "SwendsenWang"; }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  SwendsenWang() : SwendsenWang(Params()) {}
  explicit SwendsenWang(Params p) : p_(p) {
    detail::check_params(name(), p.updates, p.beta);
  }
  const Params& params() const { return p_; }

  /// Throws Error(Exit::usage) unless the model has ±1 spins, zero fields and J >= 0.
  static void check_model(const Ising& m) {
    check_arg(m.convention() == SpinConvention::plus_minus_one,
              "SwendsenWang: the model has 0/1 spins; Swendsen-Wang needs +-1 spins");
    for (std::size_t i = 0; i < m.n_spins(); ++i)
      check_arg(m.fields()[Eigen::Index(i)] == 0.0,
                "SwendsenWang: field {} is {}; Swendsen-Wang needs zero fields", i, m.fields()[Eigen::Index(i)]);
    for (std::size_t e = 0; e < m.n_edges(); ++e)
      check_arg(m.edges()[e].coupling >= 0.0,
                "SwendsenWang: coupling {} (sites {}, {}) is {}; Swendsen-Wang needs couplings >= 0", e,
                m.edges()[e].i, m.edges()[e].j, m.edges()[e].coupling);
  }

  /// Bond probability of an aligned edge with coupling J: 1 - exp(-2 β J).
  double bond_probability(double coupling) const { return -std::expm1(-2.0 * p_.beta * coupling); }

  /// One step. Throws Error(Exit::usage) on a model it does not cover (check_model) or a
  /// state of the wrong size.
  Info step(const Ising& m, State& s, Stream& rng) const {
    check_model(m);
    detail::check_state(name(), m, s);
    Info info;
    const std::size_t n = m.n_spins();
    std::vector<std::uint32_t> parent(n);
    std::vector<std::uint8_t> decided(n);
    auto find = [&](std::uint32_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];  // path halving
      return x;
    };
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
      // decided[r]: 0 = undecided, 1 = keep, 2 = flip; roots are met before their members.
      for (std::size_t i = 0; i < n; ++i) decided[i] = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t r = find(std::uint32_t(i));
        if (decided[r] == 0) {
          ++info.clusters;
          decided[r] = (rng.next_u32() >> 31) ? 2 : 1;
          if (decided[r] == 2) ++info.flipped;
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
