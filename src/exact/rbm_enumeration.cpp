// Exact RBM partition function by Gray-code enumeration of the smaller layer.
#include "logz/exact/rbm_enumeration.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/core/vecmath.hpp"

namespace logz {
namespace {

/// The enumeration problem in layer-neutral form: value(s) = lin·s + Σ_i softplus(x_i),
/// x = bias + A s, with s the enumerated layer (n_s units) and A stored column-major by
/// enumerated unit (column j = A[:, j] contiguous) for the Gray-code update.
struct Problem {
  std::size_t n_s, n_o;
  std::vector<double> columns;  // n_s × n_o
  std::vector<double> bias;     // n_o
  std::vector<double> lin;      // n_s
};

/// log Σ over Gray-code indices g in [g0, g0 + count) of value(gray(g)).
LogSumExp enumerate_chunk(const Problem& p, std::uint64_t g0, std::uint64_t count) {
  std::vector<double> x(p.bias);
  std::uint64_t s = g0 ^ (g0 >> 1);
  double lin = 0;
  for (std::size_t j = 0; j < p.n_s; ++j) {
    if (!((s >> j) & 1)) continue;
    lin += p.lin[j];
    const double* col = &p.columns[j * p.n_o];
    for (std::size_t i = 0; i < p.n_o; ++i) x[i] += col[i];
  }
  LogSumExp acc;
  for (std::uint64_t g = g0;; ++g) {
    acc.add(lin + sum_softplus(x.data(), p.n_o));
    if (g + 1 == g0 + count) break;
    const unsigned j = unsigned(std::countr_zero(g + 1));  // the bit that flips next
    const double sign = ((s >> j) & 1) ? -1.0 : 1.0;
    s ^= std::uint64_t(1) << j;
    lin += sign * p.lin[j];
    const double* col = &p.columns[j * p.n_o];
#pragma omp simd
    for (std::size_t i = 0; i < p.n_o; ++i) x[i] += sign * col[i];
  }
  return acc;
}

}  // namespace

ExactLogZ rbm_exact_log_z(const RbmD& m, const Exec& ex) {
  m.validate("rbm_exact_log_z");
  const std::size_t nv = m.n_visible(), nh = m.n_hidden();
  const bool hidden = nh <= nv;
  const std::size_t ns = hidden ? nh : nv;
  check_arg(ns <= max_enumerated_units,
            "rbm_exact_log_z: exact log Z enumerates 2^n states of the smaller layer; the model has {} visible and "
            "{} hidden units, and n = {} exceeds the limit of {}",
            nv, nh, ns, max_enumerated_units);
  Problem p{ns, hidden ? nv : nh, {}, {}, {}};
  p.columns.resize(p.n_s * p.n_o);
  for (std::size_t j = 0; j < p.n_s; ++j)
    for (std::size_t i = 0; i < p.n_o; ++i)
      p.columns[j * p.n_o + i] = hidden ? m.weights(Eigen::Index(i), Eigen::Index(j)) : m.weights(Eigen::Index(j), Eigen::Index(i));
  const VectorD& other_bias = hidden ? m.visible_bias : m.hidden_bias;
  const VectorD& lin = hidden ? m.hidden_bias : m.visible_bias;
  p.bias.assign(other_bias.data(), other_bias.data() + other_bias.size());
  p.lin.assign(lin.data(), lin.data() + lin.size());

  // Chunks of 2^12 states, fixed by the problem size alone: the Gray-code walk restarts
  // from exact pre-activations in each chunk, which also bounds rounding drift.
  const std::uint64_t total = std::uint64_t(1) << ns;
  const std::uint64_t chunk = std::min<std::uint64_t>(total, 4096);
  const std::size_t n_chunks = std::size_t(total / chunk);
  const LogSumExp acc = parallel_reduce(
      ex, n_chunks, LogSumExp{}, [&](std::size_t t) { return enumerate_chunk(p, t * chunk, chunk); },
      [](LogSumExp a, const LogSumExp& b) {
        a.merge(b);
        return a;
      });
  return {acc.value(), ns, hidden};
}

VectorD rbm_log_likelihoods(const RbmD& m, const MatrixU8& data, double log_z, const Exec& ex) {
  VectorD ll = -free_energies(m, data, ex);
  ll.array() -= log_z;
  return ll;
}

}  // namespace logz
