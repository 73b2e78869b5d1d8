// Exact Ising partition functions: Gray-code enumeration, site-by-site transfer matrix,
// Kaufman's closed form and Onsager's limit.
#include "logz/exact/ising_exact.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numbers>
#include <utility>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/core/ranks.hpp"

namespace logz {
namespace {

// ---------------------------------------------------------------------------------------
// Enumeration

/// The walk over all 2^n states: bit i of a state index is site i up. The states are
/// visited in Gray-code order gray(g) = g ^ (g >> 1), g in [0, 2^n), split into chunks
/// of 2^12 consecutive g (fewer for small n), grouped into at most 1024 tasks; each chunk
/// starts from an exactly evaluated energy and each step updates it by one spin flip.
struct Walk {
  const Ising& m;
  std::size_t n;
  std::uint64_t total, chunk, chunks_per_task;
  double down;

  Walk(const Ising& model, std::string_view caller) : m(model), n(model.n_spins()) {
    check_arg(n <= max_ising_enumerated_spins,
              "{}: enumeration visits 2^n states; the model has n = {} spins, above the limit of {}", caller, n,
              max_ising_enumerated_spins);
    total = std::uint64_t(1) << n;
    chunk = std::min<std::uint64_t>(total, 4096);
    const std::uint64_t chunks = total / chunk;
    chunks_per_task = std::max<std::uint64_t>(1, chunks / 1024);
    down = m.down_value();
  }
  std::size_t tasks() const { return std::size_t(total / chunk / chunks_per_task); }

  double energy(const std::vector<double>& x) const {
    double e = 0;
    for (std::size_t i = 0; i < n; ++i) e -= m.fields()[Eigen::Index(i)] * x[i];
    for (const IsingEdge& ed : m.edges()) e -= ed.coupling * x[ed.i] * x[ed.j];
    return e;
  }

  /// visit(x, E) for every state of task t; x holds the spin values.
  template <class Visit>
  void walk(std::size_t t, Visit&& visit) const {
    std::vector<double> x(n);
    const std::vector<IsingEdge>& edges = m.edges();
    for (std::uint64_t c = 0; c < chunks_per_task; ++c) {
      const std::uint64_t g0 = (t * chunks_per_task + c) * chunk;
      std::uint64_t s = g0 ^ (g0 >> 1);
      for (std::size_t i = 0; i < n; ++i) x[i] = ((s >> i) & 1) ? 1.0 : down;
      double e = energy(x);
      for (std::uint64_t g = g0;; ++g) {
        visit(x, e);
        if (g + 1 == g0 + chunk) break;
        const unsigned j = unsigned(std::countr_zero(g + 1));
        double f = m.fields()[Eigen::Index(j)];
        for (const Ising::Neighbor* nb = m.neighbors_begin(j); nb != m.neighbors_end(j); ++nb)
          f += edges[nb->edge].coupling * x[nb->site];
        const double next = x[j] == 1.0 ? down : 1.0;
        e -= (next - x[j]) * f;
        x[j] = next;
      }
    }
  }
};

/// Weighted sums with a running reference: sum = Σ exp(-E - ref), s1 = Σ w x_i, s2 = Σ w x_i x_j.
struct MomentSums {
  double ref = -std::numeric_limits<double>::infinity();
  double sum = 0;
  VectorD s1, s2;

  void rescale(double new_ref) {
    const double f = std::exp(ref - new_ref);
    sum *= f, s1 *= f, s2 *= f;
    ref = new_ref;
  }
  void merge(const MomentSums& o) {
    if (o.sum == 0) return;
    if (sum == 0 && s1.size() == 0) {
      *this = o;
      return;
    }
    if (o.ref > ref) rescale(o.ref);
    const double f = std::exp(o.ref - ref);
    sum += f * o.sum, s1 += f * o.s1, s2 += f * o.s2;
  }
};

}  // namespace

double ising_enumeration_log_z(const Ising& m, const Exec& ex) {
  const Walk w(m, "ising_enumeration_log_z");
  const LogSumExp acc = ranks::spread_reduce(
      ex, w.tasks(), LogSumExp{},
      [&](std::size_t t) {
        LogSumExp a;
        w.walk(t, [&](const std::vector<double>&, double e) { a.add(-e); });
        return a;
      },
      [](LogSumExp a, const LogSumExp& b) {
        a.merge(b);
        return a;
      });
  return acc.value();
}

IsingMoments ising_enumeration_moments(const Ising& m, const Exec& ex) {
  const Walk w(m, "ising_enumeration_moments");
  const std::size_t n = m.n_spins(), ne = m.n_edges();
  const MomentSums acc = parallel_reduce(
      ex, w.tasks(), MomentSums{},
      [&](std::size_t t) {
        MomentSums a;
        a.s1 = VectorD::Zero(Eigen::Index(n));
        a.s2 = VectorD::Zero(Eigen::Index(ne));
        w.walk(t, [&](const std::vector<double>& x, double e) {
          if (-e > a.ref) a.rescale(-e);
          const double wt = std::exp(-e - a.ref);
          a.sum += wt;
          for (std::size_t i = 0; i < n; ++i) a.s1[Eigen::Index(i)] += wt * x[i];
          for (std::size_t k = 0; k < ne; ++k) {
            const IsingEdge& ed = m.edges()[k];
            a.s2[Eigen::Index(k)] += wt * x[ed.i] * x[ed.j];
          }
        });
        return a;
      },
      [](MomentSums a, const MomentSums& b) {
        a.merge(b);
        return a;
      });
  return {acc.ref + std::log(acc.sum), acc.s1 / acc.sum, acc.s2 / acc.sum};
}

// ---------------------------------------------------------------------------------------
// Transfer matrix

namespace {

/// The lattice seen along its transfer direction: L lines of W sites; line t, position w.
struct Strip {
  std::size_t L, W;
  bool periodic_t, periodic_w;
  double down;
  std::vector<double> field;   // [t*W + w]
  std::vector<double> bond_w;  // [t*W + w]: (t,w)-(t,w+1), and (t,W-1)-(t,0) if periodic_w
  std::vector<double> bond_t;  // [t*W + w]: (t-1,w)-(t,w) for t >= 1; t = 0: (L-1,w)-(0,w) if periodic_t
};

Strip make_strip(const Ising& m, bool transposed) {
  const Lattice2D& lat = *m.lattice();
  Strip s;
  s.L = transposed ? lat.cols : lat.rows;
  s.W = transposed ? lat.rows : lat.cols;
  s.periodic_t = (transposed ? lat.boundary_cols : lat.boundary_rows) == Boundary::periodic;
  s.periodic_w = (transposed ? lat.boundary_rows : lat.boundary_cols) == Boundary::periodic;
  s.down = m.down_value();
  auto site = [&](std::size_t t, std::size_t w) { return transposed ? w * lat.cols + t : t * lat.cols + w; };
  std::map<std::pair<std::size_t, std::size_t>, double> coupling;
  for (const IsingEdge& e : m.edges()) coupling[{std::min(e.i, e.j), std::max(e.i, e.j)}] = e.coupling;
  auto bond = [&](std::size_t a, std::size_t b) {
    const auto it = coupling.find({std::min(a, b), std::max(a, b)});
    return it == coupling.end() ? 0.0 : it->second;
  };
  s.field.resize(s.L * s.W), s.bond_w.assign(s.L * s.W, 0.0), s.bond_t.assign(s.L * s.W, 0.0);
  for (std::size_t t = 0; t < s.L; ++t)
    for (std::size_t w = 0; w < s.W; ++w) {
      const std::size_t k = t * s.W + w;
      s.field[k] = m.fields()[Eigen::Index(site(t, w))];
      if (w + 1 < s.W) s.bond_w[k] = bond(site(t, w), site(t, w + 1));
      else if (s.periodic_w) s.bond_w[k] = bond(site(t, w), site(t, 0));
      if (t >= 1) s.bond_t[k] = bond(site(t - 1, w), site(t, w));
      else if (s.periodic_t) s.bond_t[k] = bond(site(s.L - 1, w), site(0, w));
    }
  return s;
}

/// Transfer-state vector: v[σ] · exp(log_scale) is the summed weight of every
/// configuration of the lines so far whose current profile is σ (bit w = site w up).
struct Profile {
  std::vector<double> v;
  double log_scale = 0;
};

double spin(const Strip& s, std::uint64_t sigma, std::size_t w) { return ((sigma >> w) & 1) ? 1.0 : s.down; }

/// log of the weight of line 0 alone in profile σ: fields and in-line bonds.
double line0_log_weight(const Strip& s, std::uint64_t sigma) {
  double lw = 0;
  for (std::size_t w = 0; w < s.W; ++w) {
    const double x = spin(s, sigma, w);
    lw += s.field[w] * x;
    if (w + 1 < s.W) lw += s.bond_w[w] * x * spin(s, sigma, w + 1);
    else if (s.periodic_w) lw += s.bond_w[w] * x * spin(s, sigma, 0);
  }
  return lw;
}

/// Adds lines 1..L-1 site by site: the site (t, w) replaces bit w of the profile (the
/// spin (t-1, w)), summing over it. Tables are normalised by their largest entry and the
/// previous step's largest profile entry is folded into the next step, so every entry
/// stays <= 2 and the scale is carried in log_scale.
void propagate(const Strip& s, Profile& p, const Exec& ex) {
  const std::size_t W = s.W;
  const std::uint64_t pairs = std::uint64_t(1) << (W - 1);
  const Blocks blocks{std::size_t(pairs), std::size_t(std::min<std::uint64_t>(pairs, 16384))};
  std::vector<double> block_max(blocks.count());
  // One parallel region per site: worth its synchronisation only for wide profiles
  // (below 2^16 pairs a step takes microseconds). Same blocks either way: same bits.
  const Exec serial(1);
  const Exec& run = pairs >= (std::uint64_t(1) << 16) ? ex : serial;
  double carry = 1.0;  // largest entry after the previous step
  const double xs[2] = {s.down, 1.0};
  for (std::size_t t = 1; t < s.L; ++t)
    for (std::size_t w = 0; w < W; ++w) {
      const std::size_t k = t * W + w;
      // T[o][n] = exp(J_t x_o x_n); F[c][n] = exp(x_n (h + J_left x_{w-1} + J_wrap x_0)),
      // context c = bit(w-1) + 2 bit(0).
      double lt[2][2], lf[4][2];
      double top = -std::numeric_limits<double>::infinity();
      for (int o = 0; o < 2; ++o)
        for (int nn = 0; nn < 2; ++nn) lt[o][nn] = s.bond_t[k] * xs[o] * xs[nn], top = std::max(top, lt[o][nn]);
      double topf = -std::numeric_limits<double>::infinity();
      for (int c = 0; c < 4; ++c)
        for (int nn = 0; nn < 2; ++nn) {
          double a = s.field[k];
          if (w > 0) a += s.bond_w[k - 1] * xs[c & 1];
          if (w + 1 == W && s.periodic_w && W > 1) a += s.bond_w[k] * xs[c >> 1];
          lf[c][nn] = xs[nn] * a;
          topf = std::max(topf, lf[c][nn]);
        }
      double T[2][2], F[4][2];
      for (int o = 0; o < 2; ++o)
        for (int nn = 0; nn < 2; ++nn) T[o][nn] = std::exp(lt[o][nn] - top);
      for (int c = 0; c < 4; ++c)
        for (int nn = 0; nn < 2; ++nn) F[c][nn] = std::exp(lf[c][nn] - topf) / carry;
      p.log_scale += top + topf + std::log(carry);
      const std::uint64_t bit = std::uint64_t(1) << w, low = bit - 1;
      const bool use_left = w > 0, use_wrap = w + 1 == W && s.periodic_w && W > 1;
      double* v = p.v.data();
      parallel_for(run, blocks.count(), [&](std::size_t b) {
        double mx = 0;
        for (std::uint64_t i = blocks.begin(b); i < blocks.end(b); ++i) {
          const std::uint64_t sigma = ((i & ~low) << 1) | (i & low);
          const int c = (use_left ? int((sigma >> (w - 1)) & 1) : 0) | (use_wrap ? int(sigma & 1) << 1 : 0);
          const double a = v[sigma], bb = v[sigma | bit];
          const double d = (a * T[0][0] + bb * T[1][0]) * F[c][0];
          const double u = (a * T[0][1] + bb * T[1][1]) * F[c][1];
          v[sigma] = d, v[sigma | bit] = u;
          mx = std::max(mx, std::max(d, u));
        }
        block_max[b] = mx;
      });
      carry = *std::max_element(block_max.begin(), block_max.end());
      if (!(carry > 0)) carry = 1.0;  // all-zero profile (only from a zero start): nothing to rescale
    }
  for (double& x : p.v) x /= carry;
  p.log_scale += std::log(carry);
}

}  // namespace

double ising_transfer_matrix_log_z(const Ising& m, const Exec& ex) {
  check_arg(m.lattice().has_value(),
            "ising_transfer_matrix_log_z: the model is not a 2-D lattice (build it with Ising::lattice_2d)");
  const Lattice2D& lat = *m.lattice();
  // Cost of each orientation (transfer along rows: width L2; along columns: width L1);
  // infinite where the width is above its limit.
  auto cost = [](std::size_t L, std::size_t W, Boundary along) {
    const bool periodic = along == Boundary::periodic;
    if (W > (periodic ? max_periodic_transfer_width : max_transfer_width)) return std::numeric_limits<double>::infinity();
    return double(L) * double(W) * std::ldexp(1.0, int(periodic ? 2 * W : W));
  };
  const double by_rows = cost(lat.rows, lat.cols, lat.boundary_rows);
  const double by_cols = cost(lat.cols, lat.rows, lat.boundary_cols);
  check_arg(std::isfinite(by_rows) || std::isfinite(by_cols),
            "ising_transfer_matrix_log_z: the {}x{} lattice is too wide: the transfer state is one line of W sites, "
            "W <= {} across an open direction and W <= {} across a periodic one",
            lat.rows, lat.cols, max_transfer_width, max_periodic_transfer_width);
  const Strip s = make_strip(m, by_cols < by_rows);
  const std::uint64_t states = std::uint64_t(1) << s.W;

  if (!s.periodic_t) {
    Profile p;
    p.v.resize(states);
    double top = -std::numeric_limits<double>::infinity();
    std::vector<double> lw(states);
    for (std::uint64_t sigma = 0; sigma < states; ++sigma) top = std::max(top, lw[sigma] = line0_log_weight(s, sigma));
    for (std::uint64_t sigma = 0; sigma < states; ++sigma) p.v[sigma] = std::exp(lw[sigma] - top);
    p.log_scale = top;
    propagate(s, p, ex);
    double sum = 0;
    for (double x : p.v) sum += x;
    return p.log_scale + std::log(sum);
  }
  // Periodic along the transfer direction: Z = Σ_σ0 (weight of all lines with line 0 = σ0,
  // closed by the bonds between line L-1 and line 0), one serial propagation per σ0.
  const Exec serial(1);
  const LogSumExp acc = ranks::spread_reduce(
      ex, std::size_t(states), LogSumExp{},
      [&](std::size_t sigma0) {
        Profile p;
        p.v.assign(states, 0.0);
        p.v[sigma0] = 1.0;
        p.log_scale = line0_log_weight(s, sigma0);
        propagate(s, p, serial);
        LogSumExp a;
        for (std::uint64_t sigma = 0; sigma < states; ++sigma) {
          if (p.v[sigma] == 0) continue;
          double close = 0;
          for (std::size_t w = 0; w < s.W; ++w) close += s.bond_t[w] * spin(s, sigma, w) * spin(s, sigma0, w);
          a.add(std::log(p.v[sigma]) + close);
        }
        LogSumExp r;
        r.add(a.value() + p.log_scale);
        return r;
      },
      [](LogSumExp a, const LogSumExp& b) {
        a.merge(b);
        return a;
      });
  return acc.value();
}

// ---------------------------------------------------------------------------------------
// Closed forms

namespace {
/// log(2 cosh x), stable for any x.
double log_2cosh(double x) {
  const double a = std::fabs(x);
  return a + std::log1p(std::exp(-2 * a));
}
/// log|2 sinh x| (-inf at 0), stable for any x.
double log_abs_2sinh(double x) {
  const double a = std::fabs(x);
  return a + std::log(-std::expm1(-2 * a));
}
}  // namespace

double ising_kaufman_log_z(std::size_t l1, std::size_t l2, double k) {
  check_arg(l1 >= 3 && l2 >= 3, "ising_kaufman_log_z: L1 and L2 must be >= 3 (periodic lattice), got {}x{}", l1, l2);
  check_arg(std::isfinite(k) && k > 0, "ising_kaufman_log_z: K must be finite and > 0, got {}", k);
  // Kaufman (1949), as written by Beale (1996): with m = L1 rows and n = L2 columns,
  //   Z = ½ (2 sinh 2K)^{mn/2} (Z1 + Z2 + Z3 + Z4),
  //   Z1 = Π_{r<n} 2 cosh(m γ_{2r+1} / 2),  Z2 = Π_{r<n} 2 sinh(m γ_{2r+1} / 2),
  //   Z3 = Π_{r<n} 2 cosh(m γ_{2r} / 2),    Z4 = Π_{r<n} 2 sinh(m γ_{2r} / 2),
  //   cosh γ_l = cosh 2K coth 2K - cos(π l / n) (γ_l > 0, l >= 1),  γ_0 = 2K + ln tanh K.
  // γ_0 < 0 above the critical temperature (K < K_c), which makes Z4 negative; it is 0 at K_c.
  const double m = double(l1);
  const std::size_t n = l2;
  const double c = std::cosh(2 * k) / std::tanh(2 * k);
  auto gamma = [&](std::size_t l) {
    if (l == 0) return 2 * k + std::log(std::tanh(k));
    const double a = c - std::cos(std::numbers::pi * double(l) / double(n));
    return std::log(a + std::sqrt((a - 1) * (a + 1)));
  };
  double lz[4] = {0, 0, 0, 0};
  int sign[4] = {1, 1, 1, 1};
  for (std::size_t r = 0; r < n; ++r) {
    const double odd = m * gamma(2 * r + 1) / 2, even = m * gamma(2 * r) / 2;
    lz[0] += log_2cosh(odd);
    lz[1] += log_abs_2sinh(odd);
    lz[2] += log_2cosh(even);
    lz[3] += log_abs_2sinh(even);
    if (odd < 0) sign[1] = -sign[1];
    if (even < 0) sign[3] = -sign[3];
  }
  const double top = *std::max_element(lz, lz + 4);
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += sign[i] * std::exp(lz[i] - top);
  return -std::numbers::ln2 + m * double(n) / 2 * std::log(2 * std::sinh(2 * k)) + top + std::log(sum);
}

double ising_onsager_log_z_per_site(double k) {
  check_arg(std::isfinite(k) && k > 0, "ising_onsager_log_z_per_site: K must be finite and > 0, got {}", k);
  // -βf = ln(2 cosh 2K) + (1/π) ∫_0^{π/2} ln[½ (1 + sqrt(1 - κ² sin²θ))] dθ,
  // κ = 2 sinh 2K / cosh² 2K; the integrand is smooth on [0, π/2] (Simpson's rule).
  const double kappa = 2 * std::sinh(2 * k) / (std::cosh(2 * k) * std::cosh(2 * k));
  auto f = [&](double th) {
    const double q = kappa * std::sin(th);
    return std::log(0.5 * (1 + std::sqrt(std::max(0.0, 1 - q * q))));
  };
  const int intervals = 20000;
  const double h = std::numbers::pi / 2 / intervals;
  double s = f(0) + f(std::numbers::pi / 2);
  for (int i = 1; i < intervals; ++i) s += (i % 2 ? 4 : 2) * f(i * h);
  return log_2cosh(2 * k) + s * h / 3 / std::numbers::pi;
}

double ising_critical_coupling() { return std::log(1 + std::numbers::sqrt2) / 2; }

}  // namespace logz
