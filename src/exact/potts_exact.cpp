// Exact Potts partition function and marginals by enumeration in reflected mixed-radix
// Gray-code order.
#include "logz/exact/potts_exact.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

namespace logz {
namespace {

/// The walk over all q^L states. State index g has mixed-radix digits d_i (site 0 the
/// fastest); the reflected Gray code visits x_i = d_i when floor(g / q^{i+1}) is even and
/// q-1-d_i when it is odd, so consecutive indices differ in one site by ±1. The indices
/// are split into chunks of 2^12 (fewer for small models), grouped into at most 1024
/// tasks; both splits depend on q^L only.
struct Walk {
  const Potts& m;
  std::size_t n, q;
  std::uint64_t total = 1;
  Blocks chunks{0, 1}, tasks{0, 1};

  Walk(const Potts& model, std::string_view caller) : m(model), n(model.n_sites()), q(model.num_states()) {
    // q^L without overflow: stop multiplying once above the limit.
    double states = 1;
    for (std::size_t i = 0; i < n; ++i) {
      states *= double(q);
      if (total <= max_potts_enumerated_states) total *= q;
    }
    check_arg(total <= max_potts_enumerated_states,
              "{}: enumeration visits q^L states; q = {} and L = {} give {:.4g} states, above the limit of 2^30 = {}",
              caller, q, n, states, max_potts_enumerated_states);
    const std::uint64_t chunk = std::min<std::uint64_t>(total, 4096);
    chunks = Blocks{std::size_t(total), std::size_t(chunk)};
    tasks = Blocks{chunks.count(), std::max<std::size_t>(1, (chunks.count() + 1023) / 1024)};
  }

  /// Log weight of one site value given its neighbours, the part of -E that depends on x_j.
  double local(std::size_t j, std::size_t a, const std::vector<std::size_t>& x) const {
    double w = m.fields()(Eigen::Index(j), Eigen::Index(a));
    for (const Potts::Neighbor* nb = m.neighbors_begin(j); nb != m.neighbors_end(j); ++nb) {
      const double* blk = m.block(nb->edge).data();
      w += nb->transposed ? blk[x[nb->site] * q + a] : blk[a * q + x[nb->site]];
    }
    return w;
  }

  double energy(const std::vector<std::size_t>& x) const {
    double e = 0;
    for (std::size_t i = 0; i < n; ++i) e -= m.fields()(Eigen::Index(i), Eigen::Index(x[i]));
    for (std::size_t k = 0; k < m.n_edges(); ++k) e -= m.block(k)[x[m.edges()[k].i] * q + x[m.edges()[k].j]];
    return e;
  }

  /// visit(x, E) for every state of task t, in index order.
  template <class Visit>
  void walk(std::size_t t, Visit&& visit) const {
    std::vector<std::size_t> x(n);
    std::vector<int> dir(n);
    for (std::size_t c = tasks.begin(t); c < tasks.end(t); ++c) {
      const std::uint64_t g0 = chunks.begin(c), len = chunks.size(c);
      // Gray state and sweep directions at index g0.
      std::uint64_t rest = g0;
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t d = rest % q;
        rest /= q;  // = floor(g0 / q^{i+1})
        dir[i] = rest % 2 == 0 ? 1 : -1;
        x[i] = dir[i] > 0 ? d : q - 1 - d;
      }
      double e = energy(x);
      for (std::uint64_t s = 0;; ++s) {
        visit(x, e);
        if (s + 1 == len) break;
        // The lowest site not at the end of its sweep moves; the ones below it turn round.
        std::size_t j = 0;
        while (x[j] == (dir[j] > 0 ? q - 1 : 0)) dir[j] = -dir[j], ++j;
        const std::size_t next = std::size_t(std::ptrdiff_t(x[j]) + dir[j]);
        e -= local(j, next, x) - local(j, x[j], x);
        x[j] = next;
      }
    }
  }
};

/// Σ exp(-E - ref) over a task: each chunk of up to 2^12 terms is summed in double, the
/// chunks in long double. ref moves up only when a term exceeds it by e^32, so terms
/// stay below e^32 and nothing overflows.
struct Sums {
  double ref = -std::numeric_limits<double>::infinity();
  double chunk = 0;
  long double total = 0;
  VectorD site, edge;  // weighted counts (marginals only)

  double weight(double log_w) {
    if (log_w > ref + 32) rescale(log_w);
    return std::exp(log_w - ref);
  }
  void rescale(double new_ref) {
    const double f = std::exp(ref - new_ref);
    chunk *= f, total *= f, site *= f, edge *= f;
    ref = new_ref;
  }
  void end_chunk() { total += chunk, chunk = 0; }
  void merge(const Sums& o) {
    if (o.total == 0) return;
    if (o.ref > ref) rescale(o.ref);
    const double f = std::exp(o.ref - ref);
    total += f * o.total;
    if (o.site.size()) site += f * o.site, edge += f * o.edge;
  }
  double log_z() const { return ref + double(std::log(total)); }
};

template <bool Marginals>
Sums enumerate(const Walk& w, const Exec& ex) {
  const std::size_t n = w.n, q = w.q, ne = w.m.n_edges();
  Sums init;
  if (Marginals) init.site = VectorD::Zero(Eigen::Index(n * q)), init.edge = VectorD::Zero(Eigen::Index(ne * q * q));
  return parallel_reduce(
      ex, w.tasks.count(), init,
      [&](std::size_t t) {
        Sums a = init;
        std::uint64_t seen = 0;
        w.walk(t, [&](const std::vector<std::size_t>& x, double e) {
          const double wt = a.weight(-e);
          a.chunk += wt;
          if constexpr (Marginals) {
            for (std::size_t i = 0; i < n; ++i) a.site[Eigen::Index(i * q + x[i])] += wt;
            for (std::size_t k = 0; k < ne; ++k)
              a.edge[Eigen::Index(k * q * q + x[w.m.edges()[k].i] * q + x[w.m.edges()[k].j])] += wt;
          }
          if (++seen % w.chunks.block == 0) a.end_chunk();
        });
        a.end_chunk();
        return a;
      },
      [](Sums a, const Sums& b) {
        a.merge(b);
        return a;
      });
}

}  // namespace

double potts_enumeration_log_z(const Potts& m, const Exec& ex) {
  const Walk w(m, "potts_enumeration_log_z");
  return enumerate<false>(w, ex).log_z();
}

PottsMarginals potts_enumeration_marginals(const Potts& m, const Exec& ex) {
  const Walk w(m, "potts_enumeration_marginals");
  const Sums s = enumerate<true>(w, ex);
  const double z = double(s.total);
  MatrixD site = Eigen::Map<const MatrixD>(s.site.data(), Eigen::Index(m.n_sites()), Eigen::Index(m.num_states())) / z;
  return {s.log_z(), std::move(site), s.edge / z};
}

}  // namespace logz
