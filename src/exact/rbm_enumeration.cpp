// Exact RBM partition function by Gray-code enumeration of the smaller layer.
#include "logz/exact/rbm_enumeration.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/vecmath.hpp"
#include "logz/core/ranks.hpp"
#include "rbm_layer.hpp"

namespace logz {
namespace {

using Problem = detail::LayerMarginal;  // the enumerated layer

/// Calls visit(state, value(state)) for the states gray(g), g in [g0, g0 + count),
/// evaluating Σ_i softplus(x_i) directly (any magnitude of x).
template <class Visit>
void enumerate_chunk_softplus(const Problem& p, std::uint64_t g0, std::uint64_t count, Visit&& visit) {
  std::uint64_t s = g0 ^ (g0 >> 1);
  std::vector<double> x;
  double lin = p.evaluate(s, x);
  for (std::uint64_t g = g0;; ++g) {
    visit(s, lin + sum_softplus(x.data(), p.n_o));
    if (g + 1 == g0 + count) break;
    const unsigned j = unsigned(std::countr_zero(g + 1));  // the bit that flips next
    const double sign = ((s >> j) & 1) ? -1.0 : 1.0;
    s ^= std::uint64_t(1) << j;
    lin += sign * p.lin[j];
    const double* col = &p.columns[j * p.n_o];
#pragma omp simd
    for (std::size_t i = 0; i < p.n_o; ++i) x[i] += sign * col[i];
  }
}

/// The multiplicative form, for |x_i| <= max_product_exponent everywhere: with
/// e_i = exp(x_i), Σ_i softplus(x_i) = log Π_i (1 + e_i), and a Gray-code step multiplies
/// e_i by exp(±A_ij) — one multiply per unit instead of an exp and a log. Products of 8
/// factors (each <= e^80) stay below e^640; their exponents are moved into an integer
/// sum after every group, so the running product never overflows. One log per state.
/// Rounding in e_i grows like √(steps)·ε; a chunk restarts from exact exp(x) every 4096
/// states, which keeps each e_i within ~1e-14 relative.
constexpr double max_product_exponent = 80.0;
constexpr std::size_t lanes = 8, group = 8 * lanes;  // elements per renormalisation

struct ProductTables {
  std::size_t padded;                // n_o rounded up to a multiple of `group`
  std::vector<double> up, down;      // exp(±A_ij), n_s × padded (1 in the padding)
};

ProductTables make_tables(const Problem& p) {
  ProductTables t{(p.n_o + group - 1) / group * group, {}, {}};
  t.up.assign(p.n_s * t.padded, 1.0);
  t.down.assign(p.n_s * t.padded, 1.0);
  for (std::size_t j = 0; j < p.n_s; ++j)
    for (std::size_t i = 0; i < p.n_o; ++i) {
      t.up[j * t.padded + i] = std::exp(p.columns[j * p.n_o + i]);
      t.down[j * t.padded + i] = std::exp(-p.columns[j * p.n_o + i]);
    }
  return t;
}

/// Multiplies e by f (f null: leaves e as it is) and returns log Π_i (1 + e_i), for e
/// padded to a multiple of `group` (padding e_i = 0, f_i = 1). Within a group the 8
/// factors are multiplied as a tree, and even and odd groups keep separate running
/// products, so that no long chain of dependent multiplies limits the speed.
double scale_and_log_product_1p(double* e, const double* f, std::size_t padded) {
  constexpr std::uint64_t mantissa = (std::uint64_t(1) << 52) - 1, one = std::uint64_t(1023) << 52;
  double m[2][lanes];
  std::int64_t k[2][lanes];
  for (std::size_t l = 0; l < lanes; ++l) m[0][l] = m[1][l] = 1.0, k[0][l] = k[1][l] = 0;
  for (std::size_t i = 0, parity = 0; i < padded; i += group, parity ^= 1) {
    double* mp = m[parity];
    std::int64_t* kp = k[parity];
#pragma omp simd
    for (std::size_t l = 0; l < lanes; ++l) {
      double x[group / lanes];
      for (std::size_t t = 0; t < group / lanes; ++t) {
        const std::size_t at = i + t * lanes + l;
        x[t] = f ? e[at] * f[at] : e[at];
        e[at] = x[t];
      }
      const double q = mp[l] * (((1.0 + x[0]) * (1.0 + x[1])) * ((1.0 + x[2]) * (1.0 + x[3]))) *
                       (((1.0 + x[4]) * (1.0 + x[5])) * ((1.0 + x[6]) * (1.0 + x[7])));
      const std::uint64_t bits = std::bit_cast<std::uint64_t>(q);
      kp[l] += std::int64_t(bits >> 52) - 1023;  // q >= 1: a normal number with a non-negative exponent
      mp[l] = std::bit_cast<double>((bits & mantissa) | one);
    }
  }
  double prod = 1.0;
  std::int64_t exponent = 0;
  for (std::size_t l = 0; l < lanes; ++l) {
    const double pair = m[0][l] * m[1][l];  // in [1, 4)
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(pair);
    exponent += k[0][l] + k[1][l] + std::int64_t(bits >> 52) - 1023;
    prod *= std::bit_cast<double>((bits & mantissa) | one);  // 8 factors in [1, 2): below 256
  }
  return std::log(prod) + double(exponent) * 0.69314718055994530942;
}

/// As enumerate_chunk_softplus, in the multiplicative form.
template <class Visit>
void enumerate_chunk_product(const Problem& p, const ProductTables& t, std::uint64_t g0, std::uint64_t count,
                             Visit&& visit) {
  std::uint64_t s = g0 ^ (g0 >> 1);
  std::vector<double> x;
  double lin = p.evaluate(s, x);
  std::vector<double> e(t.padded, 0.0);
  for (std::size_t i = 0; i < p.n_o; ++i) e[i] = std::exp(x[i]);
  visit(s, lin + scale_and_log_product_1p(e.data(), nullptr, t.padded));
  // Each step moves to the next Gray-code state and evaluates it in the same pass.
  for (std::uint64_t g = g0; g + 1 < g0 + count; ++g) {
    const unsigned j = unsigned(std::countr_zero(g + 1));
    const bool on = ((s >> j) & 1) == 0;
    s ^= std::uint64_t(1) << j;
    lin += on ? p.lin[j] : -p.lin[j];
    const double* f = (on ? t.up.data() : t.down.data()) + j * t.padded;
    visit(s, lin + scale_and_log_product_1p(e.data(), f, t.padded));
  }
}

/// The largest |x_i| any state can reach: max_i |bias_i| + Σ_j |A_ij|.
double max_abs_preactivation(const Problem& p) {
  double worst = 0;
  for (std::size_t i = 0; i < p.n_o; ++i) {
    double b = std::fabs(p.bias[i]);
    for (std::size_t j = 0; j < p.n_s; ++j) b += std::fabs(p.columns[j * p.n_o + i]);
    worst = std::max(worst, b);
  }
  return worst;
}

/// The problem of enumerating the smaller layer of `m`, and how to walk it.
struct Enumeration {
  Problem problem;
  bool hidden;          // the hidden layer is the enumerated one
  bool product_form;
  ProductTables tables;
  std::uint64_t total, chunk;

  Enumeration(const RbmD& m, std::string_view caller, std::string_view what, std::size_t limit) {
    m.validate(caller);
    const std::size_t nv = m.n_visible(), nh = m.n_hidden();
    hidden = nh <= nv;
    const std::size_t ns = hidden ? nh : nv;
    check_arg(ns <= limit,
              "{}: {} enumerates 2^n states of the smaller layer; the model has {} visible and {} hidden units, and n = "
              "{} exceeds the limit of {}",
              caller, what, nv, nh, ns, limit);
    problem = Problem::smaller_layer(m);
    const Problem& p = problem;
    product_form = max_abs_preactivation(p) <= max_product_exponent;
    if (product_form) tables = make_tables(p);
    // Chunks of 2^12 states, fixed by the problem size alone: the Gray-code walk restarts
    // from exact pre-activations in each chunk, which also bounds rounding drift.
    total = std::uint64_t(1) << ns;
    chunk = std::min<std::uint64_t>(total, 4096);
  }
  std::size_t chunks() const { return std::size_t(total / chunk); }

  /// visit(state, log weight) for every state of chunk t.
  template <class Visit>
  void walk(std::size_t t, Visit&& visit) const {
    if (product_form)
      enumerate_chunk_product(problem, tables, t * chunk, chunk, visit);
    else
      enumerate_chunk_softplus(problem, t * chunk, chunk, visit);
  }
};

}  // namespace

ExactLogZ rbm_exact_log_z(const RbmD& m, const Exec& ex) {
  const Enumeration en(m, "rbm_exact_log_z", "exact log Z", max_enumerated_units);
  const LogSumExp acc = ranks::spread_reduce(
      ex, en.chunks(), LogSumExp{},
      [&](std::size_t t) {
        LogSumExp a;
        en.walk(t, [&](std::uint64_t, double value) { a.add(value); });
        return a;
      },
      [](LogSumExp a, const LogSumExp& b) {
        a.merge(b);
        return a;
      });
  return {acc.value(), en.problem.n_s, en.hidden};
}

MatrixU8 rbm_exact_samples(const RbmD& m, std::size_t n, std::uint64_t seed, const Exec& ex) {
  const Enumeration en(m, "rbm_exact_samples", "exact sampling", max_sampled_units);
  // Log-weights of every state of the enumerated layer, then its cumulative distribution.
  std::vector<double> logw(en.total);
  parallel_for(ex, en.chunks(), [&](std::size_t t) { en.walk(t, [&](std::uint64_t s, double v) { logw[s] = v; }); });
  const double top = *std::max_element(logw.begin(), logw.end());
  std::vector<double> cdf(en.total);
  double acc = 0;
  for (std::size_t s = 0; s < en.total; ++s) cdf[s] = acc += std::exp(logw[s] - top);

  // Draw r: the enumerated layer by inverse CDF, the other from its factorised conditional.
  const std::size_t ns = en.problem.n_s, no = en.problem.n_o;
  MatrixU8 out(Eigen::Index(n), Eigen::Index(m.n_visible()));
  parallel_for(ex, row_blocks(n).count(), [&](std::size_t t) {
    const Blocks blocks = row_blocks(n);
    for (std::size_t r = blocks.begin(t); r < blocks.end(t); ++r) {
      Stream st = Stream::derive(seed, Purpose::sample, r);
      const double u = st.uniform_double() * acc;
      const std::uint64_t s = std::uint64_t(std::min<std::ptrdiff_t>(
          std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin(), std::ptrdiff_t(en.total) - 1));
      std::vector<double> x;
      en.problem.evaluate(s, x);
      if (en.hidden) {
        for (std::size_t i = 0; i < no; ++i)
          out(Eigen::Index(r), Eigen::Index(i)) = std::uint8_t(st.uniform_double() < sigmoid(x[i]));
      } else {
        for (std::size_t j = 0; j < ns; ++j) out(Eigen::Index(r), Eigen::Index(j)) = std::uint8_t((s >> j) & 1);
      }
    }
  });
  return out;
}

VectorD rbm_log_likelihoods(const RbmD& m, const MatrixU8& data, double log_z, const Exec& ex) {
  VectorD ll = -free_energies(m, data, ex);
  ll.array() -= log_z;
  return ll;
}

}  // namespace logz
