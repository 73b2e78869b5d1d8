#pragma once
/// @file potts_swendsen_wang.hpp
/// Swendsen–Wang cluster updates (Swendsen & Wang 1987, "Nonuniversal critical dynamics in
/// Monte Carlo simulations", PRL 58; Edwards & Sokal 1988, "Generalization of the
/// Fortuin-Kasteleyn-Swendsen-Wang representation and Monte Carlo algorithm", Phys. Rev. D
/// 38) for ferromagnetic Potts models — and Ising models in either spin convention, as
/// q = 2 Potts models — with any fields, at inverse temperature β (docs/samplers.md).
///
/// What it covers. Every edge's coupling block must be, up to terms that depend on one site
/// only, a ferromagnetic Potts coupling:
///   J_ij(a, b) = K_ij δ_ab + u_ij(a) + v_ij(b) + c_ij,   K_ij >= 0.
/// u and v are moved into the fields of i and j and c is dropped (it changes no
/// probability), so a block in the zero-sum gauge, a plain K δ_ab block and any 2×2 block
/// with J(0,0) + J(1,1) >= J(0,1) + J(1,0) all qualify. An Ising coupling J s_i s_j is
/// 2J δ plus constants (±1 spins) or (J/2) δ plus field terms (0/1 spins). A block that is
/// not of this form, or has K < 0 (antiferromagnetic), is refused with Error(Exit::usage)
/// naming the edge: no cluster representation with independent bonds exists for it.
///
/// Fields are not refused. Given the bonds, the Edwards–Sokal joint
///   p(x, b) ∝ Π_i exp(β h_i(x_i)) · Π_e [(1 − p_e) 1{b_e = 0} + p_e 1{b_e = 1} δ(x_i, x_j)],
///   p_e = 1 − exp(−β K_e),
/// factorises over the clusters of bonded sites: each cluster C takes one state a with
/// probability ∝ exp(β Σ_{i∈C} h_i(a)). One update is the two-block Gibbs sampler of this
/// joint — bonds given states, then each cluster's state given the bonds (a heat bath over
/// q states, uniform without fields) — so it leaves p_β ∝ exp(−β E) invariant, is
/// reversible (x → b → x′ is a data-augmentation chain), and is irreducible for finite
/// fields (with positive probability no bond is placed and every site is redrawn). This
/// covers any fields, where a "ghost spin" per state covers only fields that favour one
/// state per site.
///
/// Random numbers, per update: one uniform double per edge with K_e > 0 whose two sites
/// agree, in edge order; then one per cluster, in order of its smallest site (a uniform
/// double for the heat bath with fields, `below(q)` without). Clusters are found by
/// union-find with the smallest site as root.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"

namespace logz {

/// One bond of the cluster representation: sites i, j in the same state are bonded with
/// probability 1 − exp(−β strength).
struct SwendsenWangBond {
  std::size_t i, j;
  double strength;  ///< K_ij > 0 (edges with K = 0 are left out)
};

/// A model as Swendsen–Wang sees it: p(x) ∝ exp(Σ_i fields(i, x_i) + Σ_bonds K δ(x_i, x_j)),
/// states 0..q−1 stored as first + spacing · a (Potts: 0, 1; ±1 spins: −1, 2; 0/1 spins: 0, 1).
struct SwendsenWangForm {
  std::size_t sites = 0, states = 2;
  double first = 0, spacing = 1;
  std::vector<SwendsenWangBond> bonds;
  /// sites × states log-weights h_i(a); empty when every site's row is constant (no field).
  MatrixD fields;

  std::size_t state_of(double value) const { return std::size_t(std::lround((value - first) / spacing)); }
  double value_of(std::size_t a) const { return first + spacing * double(a); }
};

namespace detail {
/// Drops the fields when every row is constant (to rounding), so that clusters are then
/// drawn uniformly.
inline void drop_constant_fields(MatrixD& fields) {
  for (Eigen::Index i = 0; i < fields.rows(); ++i) {
    const double lo = fields.row(i).minCoeff(), hi = fields.row(i).maxCoeff();
    if (hi - lo > 1e-12 * (1.0 + std::max(std::abs(lo), std::abs(hi)))) return;
  }
  fields.resize(0, 0);
}
}  // namespace detail

/// The cluster form of a Potts model. Throws Error(Exit::usage) naming the first edge whose
/// block is not K δ_ab plus one-site terms (to 1e-9 of its largest entry), or has K < 0.
inline SwendsenWangForm swendsen_wang_form(const Potts& m) {
  const std::size_t q = m.num_states(), n = m.n_sites();
  SwendsenWangForm f;
  f.sites = n, f.states = q, f.first = 0, f.spacing = 1;
  f.fields = m.fields();
  std::vector<double> row(q), col(q);
  for (std::size_t e = 0; e < m.n_edges(); ++e) {
    const auto b = m.block(e);
    const PottsEdge& edge = m.edges()[e];
    double grand = 0, scale = 0;
    std::fill(row.begin(), row.end(), 0.0);
    std::fill(col.begin(), col.end(), 0.0);
    for (std::size_t a = 0; a < q; ++a)
      for (std::size_t c = 0; c < q; ++c) {
        const double v = b[a * q + c];
        row[a] += v / double(q), col[c] += v / double(q), grand += v / double(q * q);
        scale = std::max(scale, std::abs(v));
      }
    // The doubly centred block is K (δ_ab − 1/q) exactly when the block has the covered form.
    auto centred = [&](std::size_t a, std::size_t c) { return b[a * q + c] - row[a] - col[c] + grand; };
    const double k = centred(0, 0) * double(q) / double(q - 1);
    const double tol = 1e-9 * std::max(scale, 1.0);
    for (std::size_t a = 0; a < q; ++a)
      for (std::size_t c = 0; c < q; ++c) {
        const double off = centred(a, c) - k * ((a == c ? 1.0 : 0.0) - 1.0 / double(q));
        check_arg(std::abs(off) <= tol,
                  "PottsSwendsenWang: the coupling block of edge {} (sites {}, {}) is not J*delta(a, b) plus terms of "
                  "one site (entry ({}, {}) is off by {:.3g}); Swendsen-Wang covers ferromagnetic Potts couplings only",
                  e, edge.i, edge.j, a, c, off);
      }
    check_arg(k >= -tol,
              "PottsSwendsenWang: edge {} (sites {}, {}) has J = {:.6g} < 0 (antiferromagnetic); Swendsen-Wang needs "
              "J >= 0 on every edge",
              e, edge.i, edge.j, k);
    for (std::size_t a = 0; a < q; ++a) {
      f.fields(Eigen::Index(edge.i), Eigen::Index(a)) += row[a];
      f.fields(Eigen::Index(edge.j), Eigen::Index(a)) += col[a];
    }
    if (k > tol) f.bonds.push_back({edge.i, edge.j, k});
  }
  detail::drop_constant_fields(f.fields);
  return f;
}

/// The cluster form of an Ising model (state 1 = up). ±1 spins: K = 2J, fields ±h; 0/1
/// spins: K = J/2 and a field J/2 for "up" at both ends. Throws Error(Exit::usage) naming
/// the first coupling below 0.
inline SwendsenWangForm swendsen_wang_form(const Ising& m) {
  const bool pm = m.convention() == SpinConvention::plus_minus_one;
  SwendsenWangForm f;
  f.sites = m.n_spins(), f.states = 2, f.first = m.down_value(), f.spacing = 1.0 - m.down_value();
  f.fields = MatrixD::Zero(Eigen::Index(f.sites), 2);
  for (std::size_t i = 0; i < f.sites; ++i) {
    const double h = m.fields()[Eigen::Index(i)];
    f.fields(Eigen::Index(i), 1) = h;
    if (pm) f.fields(Eigen::Index(i), 0) = -h;
  }
  for (std::size_t e = 0; e < m.n_edges(); ++e) {
    const IsingEdge& edge = m.edges()[e];
    check_arg(edge.coupling >= 0.0,
              "PottsSwendsenWang: coupling {} (sites {}, {}) is {}; Swendsen-Wang needs couplings >= 0", e, edge.i,
              edge.j, edge.coupling);
    if (edge.coupling == 0.0) continue;
    if (pm) {
      f.bonds.push_back({edge.i, edge.j, 2.0 * edge.coupling});
    } else {
      f.bonds.push_back({edge.i, edge.j, 0.5 * edge.coupling});
      f.fields(Eigen::Index(edge.i), 1) += 0.5 * edge.coupling;
      f.fields(Eigen::Index(edge.j), 1) += 0.5 * edge.coupling;
    }
  }
  detail::drop_constant_fields(f.fields);
  return f;
}

class PottsSwendsenWang {
 public:
  struct Params {
    std::size_t updates = 1;  ///< cluster updates per step; >= 1
    double beta = 1.0;        ///< inverse temperature, finite and >= 0
  };
  using State = VectorD;
  struct Info {
    std::size_t updates = 0;   ///< site assignments done: sites × cluster updates
    std::size_t changed = 0;   ///< of them, those that changed the site's state
    std::size_t bonds = 0;     ///< bonds placed (summed over updates)
    std::size_t clusters = 0;  ///< clusters formed (summed over updates)
  };

  static constexpr const char* name() { return "PottsSwendsenWang"; }

  PottsSwendsenWang() : PottsSwendsenWang(Params()) {}
  /// Throws Error(Exit::usage) naming the bad parameter.
  explicit PottsSwendsenWang(Params p) : p_(p) { detail::check_params(name(), p.updates, p.beta); }
  const Params& params() const { return p_; }

  /// One step on a model (its form is built, and checked, at every call: the path move
  /// below builds it once).
  Info step(const Potts& m, State& x, Stream& rng) const {
    m.check_state(name(), x);
    return step(swendsen_wang_form(m), x, rng);
  }
  Info step(const Ising& m, State& x, Stream& rng) const {
    m.check_state(name(), x);
    return step(swendsen_wang_form(m), x, rng);
  }

  /// One step on a cluster form; x holds stored values (form.value_of). Throws
  /// Error(Exit::usage) on a state of the wrong size.
  Info step(const SwendsenWangForm& f, State& x, Stream& rng) const {
    check_arg(std::size_t(x.size()) == f.sites, "{}: state has {} sites but the model has {}", name(), x.size(),
              f.sites);
    const std::size_t n = f.sites, q = f.states;
    const bool with_fields = f.fields.size() != 0;
    std::vector<std::uint32_t> parent(n), state(n), colour(n);
    std::vector<double> field_sum(with_fields ? n * q : 0), prob(q);
    auto find = [&](std::uint32_t v) {
      while (parent[v] != v) v = parent[v] = parent[parent[v]];  // path halving
      return v;
    };
    for (std::size_t i = 0; i < n; ++i) {
      const double v = x[Eigen::Index(i)];
      const double a = std::round((v - f.first) / f.spacing);
      check_arg(a >= 0 && a < double(q) && f.value_of(std::size_t(a)) == v,
                "{}: site {} has value {}, not a state of the model", name(), i, v);
      state[i] = std::uint32_t(a);
    }
    Info info;
    for (std::size_t sweep = 0; sweep < p_.updates; ++sweep) {
      for (std::size_t i = 0; i < n; ++i) parent[i] = std::uint32_t(i);
      for (const SwendsenWangBond& b : f.bonds) {
        if (state[b.i] != state[b.j]) continue;
        if (!(rng.uniform_double() < -std::expm1(-p_.beta * b.strength))) continue;
        ++info.bonds;
        std::uint32_t r1 = find(std::uint32_t(b.i)), r2 = find(std::uint32_t(b.j));
        if (r1 == r2) continue;
        if (r1 > r2) std::swap(r1, r2);
        parent[r2] = r1;  // the root is the smallest site of a cluster
      }
      if (with_fields) {
        std::fill(field_sum.begin(), field_sum.end(), 0.0);
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t r = find(std::uint32_t(i));
          for (std::size_t a = 0; a < q; ++a) field_sum[r * q + a] += f.fields(Eigen::Index(i), Eigen::Index(a));
        }
      }
      // Roots come before their members, so each cluster's state is drawn at its smallest site.
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t r = find(std::uint32_t(i));
        if (r == i) {
          ++info.clusters;
          if (with_fields) {
            double top = -std::numeric_limits<double>::infinity();
            for (std::size_t a = 0; a < q; ++a) top = std::max(top, p_.beta * field_sum[r * q + a]);
            double total = 0;
            for (std::size_t a = 0; a < q; ++a) total += prob[a] = std::exp(p_.beta * field_sum[r * q + a] - top);
            for (double& v : prob) v /= total;
            colour[r] = std::uint32_t(detail::inverse_cdf(prob, rng.uniform_double()));
          } else {
            colour[r] = std::uint32_t(rng.below(q));
          }
        }
        info.changed += colour[r] != state[i];
        state[i] = colour[r];
      }
      info.updates += n;
    }
    for (std::size_t i = 0; i < n; ++i) x[Eigen::Index(i)] = f.value_of(state[i]);
    return info;
  }

 private:
  Params p_;
};

}  // namespace logz
