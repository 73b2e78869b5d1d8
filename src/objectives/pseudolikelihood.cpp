// Pseudolikelihood objective of Potts models: tiled gather/scatter gradient kernel,
// data preparation, and the L-BFGS fit.
#include "logz/objectives/pseudolikelihood.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "logz/core/check.hpp"
#include "logz/core/memory.hpp"
#include "logz/core/ranks.hpp"
#include "logz/core/vecmath.hpp"
#include "logz/optim/lbfgs.hpp"

namespace logz {

namespace {

// A tile holds the conditionals of about this many states (sites × q) so that one
// site's (q+1) coupling rows of the tile stay in L1 while a block of sequences streams
// through them; a block of this many sequences keeps the tile's potentials in L2 while
// the tile's slab of the coupling matrix (L(q+1) rows) is read once per block.
constexpr std::size_t kTileStates = 128;
constexpr std::size_t kSequenceBlock = 512;
constexpr std::size_t kAlign = 16;
static_assert(kSequenceBlock <= 65535, "offsets in a block of sequences are 16-bit");

std::size_t round_up(std::size_t n, std::size_t k) { return (n + k - 1) / k * k; }

template <class T>
inline void add_row(T* __restrict dst, const T* __restrict src, std::size_t n) {
#pragma omp simd
  for (std::size_t c = 0; c < n; ++c) dst[c] += src[c];
}

// A 64-byte vector of T (GCC vector extension; split into smaller ones where need be).
template <class T>
struct Vector64;
template <>
struct Vector64<double> {
  typedef double type __attribute__((vector_size(64)));
};
template <>
struct Vector64<float> {
  typedef float type __attribute__((vector_size(64)));
};

// row[0, C) += Σ_k rows[order[k]][0, C) over k < count, in that order, with the C
// entries held in registers (C = NV vectors of 64 bytes): one load and store of `row`
// for the whole run instead of one per term. Explicit vectors: left to itself, GCC
// vectorises across the run with gathers and keeps the sums in memory.
template <std::size_t NV, class T>
inline void add_rows_in_order(T* row, const T* rows, std::size_t stride, const std::uint16_t* order,
                              std::size_t count) {
  using V = typename Vector64<T>::type;
  constexpr std::size_t lanes = 64 / sizeof(T);
  V acc[NV];
#pragma GCC unroll 16
  for (std::size_t v = 0; v < NV; ++v) std::memcpy(&acc[v], row + v * lanes, 64);
  for (std::size_t k = 0; k < count; ++k) {
    const T* src = rows + std::size_t(order[k]) * stride;
#pragma GCC unroll 16
    for (std::size_t v = 0; v < NV; ++v) {
      V x;
      std::memcpy(&x, src + v * lanes, 64);
      acc[v] += x;
    }
  }
#pragma GCC unroll 16
  for (std::size_t v = 0; v < NV; ++v) std::memcpy(row + v * lanes, &acc[v], 64);
}

template <class T>
inline void add_rows4(T* __restrict dst, const T* __restrict a, const T* __restrict b, const T* __restrict c,
                      const T* __restrict d, std::size_t n) {
#pragma omp simd
  for (std::size_t k = 0; k < n; ++k) dst[k] += (a[k] + b[k]) + (c[k] + d[k]);
}

// Calls f(std::integral_constant<NV>, c) for consecutive chunks [c, c + NV·64 bytes) of
// a row of `stride` entries (a multiple of kAlign), as many 16-vector chunks as fit.
template <class T, class F>
inline void for_register_chunks(std::size_t stride, F&& f) {
  constexpr std::size_t lanes = 64 / sizeof(T), tail = kAlign / lanes;
  static_assert(tail >= 1 && tail * lanes == kAlign, "a stride is whole 64-byte vectors");
  std::size_t c = 0;
  for (; c + 16 * lanes <= stride; c += 16 * lanes) f(std::integral_constant<std::size_t, 16>{}, c);
  for (; c + 8 * lanes <= stride; c += 8 * lanes) f(std::integral_constant<std::size_t, 8>{}, c);
  for (; c < stride; c += kAlign) f(std::integral_constant<std::size_t, tail>{}, c);
}

}  // namespace

// ---------------------------------------------------------------------------------
// Data

void check_potts_data(const PottsData& d) {
  check_data(d.q >= 2 && d.q <= 255, "pseudolikelihood: q must be in [2, 255], got {}", d.q);
  check_data(d.states.rows() > 0 && d.states.cols() > 0, "pseudolikelihood: the data has {} sequences of {} sites",
             d.states.rows(), d.states.cols());
  check_data(d.weights.size() == d.states.rows(), "pseudolikelihood: {} weights for {} sequences", d.weights.size(),
             d.states.rows());
  double total = 0;
  for (Eigen::Index s = 0; s < d.weights.size(); ++s) {
    check_data(std::isfinite(d.weights[s]) && d.weights[s] >= 0,
               "pseudolikelihood: weight {} is {}, not finite and >= 0", s, d.weights[s]);
    total += d.weights[s];
  }
  check_data(total > 0, "pseudolikelihood: the weights sum to 0");
  for (Eigen::Index s = 0; s < d.states.rows(); ++s)
    for (Eigen::Index i = 0; i < d.states.cols(); ++i)
      check_data(d.states(s, i) <= d.q, "pseudolikelihood: sequence {} site {} has state {}, beyond q = {}", s, i,
                 int(d.states(s, i)), d.q);
}

PottsData potts_data(const Matrix<std::uint8_t>& states, const std::string& alphabet, const VectorD& weights,
                     bool ignore_gaps) {
  check_arg(weights.size() == states.rows(), "potts_data: {} weights for {} sequences", weights.size(), states.rows());
  const bool has_gap = !alphabet.empty() && (alphabet[0] == '-' || alphabet[0] == '.');
  check_arg(!ignore_gaps || has_gap, "potts_data: the alphabet '{}' has no gap (first letter '-' or '.') to ignore",
            alphabet);
  PottsData d;
  d.weights = weights;
  if (!ignore_gaps) {
    d.states = states;
    d.q = alphabet.size();
    d.alphabet = alphabet;
    return d;
  }
  d.q = alphabet.size() - 1;
  d.alphabet = alphabet.substr(1);
  d.states = states;
  const auto absent = std::uint8_t(d.q);
  for (Eigen::Index k = 0; k < d.states.size(); ++k) {
    std::uint8_t& v = d.states.data()[k];
    v = v == 0 ? absent : std::uint8_t(v - 1);
  }
  return d;
}

void PseudolikelihoodConfig::validate() const {
  check_arg(std::isfinite(lambda_h) && lambda_h >= 0, "pseudolikelihood: lambda_h must be finite and >= 0, got {}",
            lambda_h);
  check_arg(std::isfinite(lambda_e) && lambda_e >= 0, "pseudolikelihood: lambda_e must be finite and >= 0, got {}",
            lambda_e);
  check_arg(std::isfinite(gradient_tolerance) && gradient_tolerance > 0,
            "pseudolikelihood: gradient_tolerance must be finite and > 0, got {}", gradient_tolerance);
  check_arg(std::isfinite(relative_decrease) && relative_decrease >= 0,
            "pseudolikelihood: relative_decrease must be finite and >= 0, got {}", relative_decrease);
  check_arg(memory >= 1 && memory <= 100, "pseudolikelihood: memory must be in [1, 100], got {}", memory);
  check_arg(max_iterations <= std::size_t(std::numeric_limits<int>::max()),
            "pseudolikelihood: max_iterations is too large ({})", max_iterations);
  check_arg(decrease_window <= 1000, "pseudolikelihood: decrease_window must be <= 1000, got {}", decrease_window);
}

namespace {
std::size_t num_coupling_blocks(std::size_t l, PlVariant v) {
  return v == PlVariant::symmetric ? l * (l - 1) / 2 : l * (l - 1);
}
}  // namespace

std::size_t pseudolikelihood_memory_bytes(std::size_t n, std::size_t l, std::size_t q,
                                          const PseudolikelihoodConfig& config) {
  const char* what = "pseudolikelihood";
  const std::size_t elem = config.precision == PlPrecision::float32 ? 4 : 8;
  // The coupling matrix in both orientations, L(q+1) rows of round_up(Lq) entries: the
  // tiles' slabs together cover it; a tile and its gradient are held per thread at once.
  const std::size_t rows = checked_product(l, q + 1, what);
  const std::size_t ld = round_up(checked_product(l, q, what), kAlign);
  const std::size_t all_slabs = checked_product(rows, ld, what);
  const std::size_t tiles = (l + std::max<std::size_t>(1, kTileStates / q) - 1) / std::max<std::size_t>(1, kTileStates / q);
  const std::size_t threads = std::min<std::size_t>(tiles, std::size_t(std::max(1, omp_get_num_procs())));
  const std::size_t kernel = checked_product(checked_product(all_slabs / tiles + rows * kAlign, 2 * elem, what),
                                             threads, what);
  // Optimiser: the point, its gradient, the direction and 2·memory correction pairs, in
  // the fit's precision.
  const std::size_t params = checked_sum(checked_product(l, q, what),
                                         checked_product(num_coupling_blocks(l, config.variant), q * q, what), what);
  const std::size_t optimiser = checked_product(checked_product(params, elem, what), 2 * config.memory + 3, what);
  // The states site by site (a byte each) and each block's order by state (16 bits each).
  const std::size_t blocks = (n + kSequenceBlock - 1) / kSequenceBlock;
  const std::size_t states = checked_sum(checked_product(checked_product(n, l, what), 3, what),
                                         checked_product(checked_product(l, blocks, what), 2 * (q + 2), what), what);
  return checked_sum(checked_sum(kernel, optimiser, what), states, what);
}

// ---------------------------------------------------------------------------------
// The objective

namespace {
// One thread's working space for a tile: its slab of the coupling matrix, the slab's
// gradient, the potentials of a block of sequences and the fields' gradient.
template <class T>
struct TileScratch {
  std::vector<T> e, g, pot;
  std::vector<double> gh;
};
}  // namespace

struct PseudolikelihoodObjective::Impl {
  std::size_t n = 0, l = 0, q = 0, q1 = 0, lq = 0;
  PlVariant variant = PlVariant::symmetric;
  PlPrecision precision = PlPrecision::float64;
  double lambda_h = 0, lambda_e = 0;
  Exec exec{1};
  std::vector<std::uint8_t> xt;  // L × N: states site by site, so a block of sequences is contiguous
  // Per site j and block of sequences: the block's sequences (offsets in the block, L × N
  // like xt) ordered by their state at j, ascending within a state, and where each
  // state's run starts (q + 2 offsets per site and block). The scatter sums a run into
  // one coupling row in registers, in the same order as a pass over the sequences.
  std::vector<std::uint16_t> by_state;
  std::vector<std::uint16_t> state_start;
  VectorD weights;
  Blocks tiles{0, 1}, seq_blocks{0, 1};
  VectorD grad_h;  // Σ over sequences of the field gradient, per tile's sites
  double neg_log_pl = 0;
  // Scratch reused across tiles and evaluations, one per thread at work at once.
  std::mutex scratch_mutex;
  std::vector<std::unique_ptr<TileScratch<double>>> scratch64;
  std::vector<std::unique_ptr<TileScratch<float>>> scratch32;
  // Symmetric fits: the gradient of a pair's block is the sum of the two conditionals'
  // parts, written by the tiles of its two sites; pair_lock[t·T + u] (t <= u) guards
  // the blocks between tiles t and u, and pair_written says whether one part is in.
  std::unique_ptr<std::mutex[]> pair_lock;
  std::vector<char> pair_written;

  std::size_t coupling_blocks() const { return num_coupling_blocks(l, variant); }
  std::size_t num_parameters() const { return lq + coupling_blocks() * q * q; }

  // Index of the first entry of the parameter block coupling i (rows a) to j (cols b).
  // Symmetric: i < j required; asymmetric: the block of conditional i.
  std::size_t block_offset(std::size_t i, std::size_t j) const {
    const std::size_t k = variant == PlVariant::symmetric ? i * l - i * (i + 1) / 2 + (j - i - 1)
                                                          : i * (l - 1) + (j < i ? j : j - 1);
    return lq + k * q * q;
  }

  template <class T>
  std::unique_ptr<TileScratch<T>> take_scratch() {
    {
      std::lock_guard<std::mutex> lock(scratch_mutex);
      auto& pool = pool_of<T>();
      if (!pool.empty()) {
        auto s = std::move(pool.back());
        pool.pop_back();
        return s;
      }
    }
    return std::make_unique<TileScratch<T>>();
  }
  template <class T>
  void give_scratch(std::unique_ptr<TileScratch<T>> s) {
    std::lock_guard<std::mutex> lock(scratch_mutex);
    pool_of<T>().push_back(std::move(s));
  }
  template <class T>
  std::vector<std::unique_ptr<TileScratch<T>>>& pool_of() {
    if constexpr (std::is_same_v<T, double>) return scratch64;
    else return scratch32;
  }

  // θ → the tile's slab E[(j, b), (i, a)] (i in the tile): what conditional i adds to
  // state a when site j is in state b. Rows b = q (absent) and the tile's own diagonal
  // blocks are zero.
  template <class T, class P>
  void expand_tile(const P* theta, std::size_t i0, std::size_t i1, std::size_t stride, T* e) const {
    const bool sym = variant == PlVariant::symmetric;
    for (std::size_t j = 0; j < l; ++j) {
      std::fill_n(e + (j * q1 + q) * stride, stride, T(0));
      for (std::size_t i = i0; i < i1; ++i) {
        T* dst = e + j * q1 * stride + (i - i0) * q;
        if (j == i) {
          for (std::size_t b = 0; b < q; ++b) std::fill_n(dst + b * stride, q, T(0));
        } else if (!sym || i < j) {  // block rows are i's states: a transposed read
          const P* blk = theta + block_offset(i, j);
          for (std::size_t b = 0; b < q; ++b)
            for (std::size_t a = 0; a < q; ++a) dst[b * stride + a] = T(blk[a * q + b]);
        } else {  // the pair's block is stored once, rows for j < i
          const P* blk = theta + block_offset(j, i);
          for (std::size_t b = 0; b < q; ++b)
            for (std::size_t a = 0; a < q; ++a) dst[b * stride + a] = T(blk[b * q + a]);
        }
      }
    }
  }

  // The tile's gradient slab → the parameter blocks of its conditionals. Symmetric: the
  // part of conditional i in pair (i, j) meets the part of conditional j, written by j's
  // tile; each is converted to P and the two summed (a sum of two terms does not depend
  // on which tile comes first). Asymmetric: each block is the tile's own.
  template <class T, class P>
  void fold_tile(std::size_t tile, std::size_t stride, const T* g, P* grad) {
    const std::size_t i0 = tiles.begin(tile), i1 = tiles.end(tile);
    auto conditional_part = [&](std::size_t i, std::size_t j, std::size_t a, std::size_t b) {
      return P(g[(j * q1 + b) * stride + (i - i0) * q + a]);
    };
    if (variant == PlVariant::asymmetric) {
      for (std::size_t i = i0; i < i1; ++i)
        for (std::size_t j = 0; j < l; ++j) {
          if (j == i) continue;
          P* blk = grad + block_offset(i, j);
          for (std::size_t a = 0; a < q; ++a)
            for (std::size_t b = 0; b < q; ++b) blk[a * q + b] = conditional_part(i, j, a, b);
        }
      return;
    }
    const std::size_t nt = tiles.count();
    for (std::size_t step = 0; step < nt; ++step) {
      const std::size_t u = (tile + step) % nt;  // start at the own tile: fewer waits
      const std::size_t j0 = tiles.begin(u), j1 = tiles.end(u);
      if (u == tile) {  // both conditionals of these pairs are in this slab
        for (std::size_t i = i0; i < i1; ++i)
          for (std::size_t j = i + 1; j < i1; ++j) {
            P* blk = grad + block_offset(i, j);
            for (std::size_t a = 0; a < q; ++a)
              for (std::size_t b = 0; b < q; ++b)
                blk[a * q + b] = conditional_part(i, j, a, b) + conditional_part(j, i, b, a);
          }
        continue;
      }
      const std::size_t key = std::min(tile, u) * nt + std::max(tile, u);
      std::lock_guard<std::mutex> lock(pair_lock[key]);
      const bool first = !pair_written[key];
      pair_written[key] = 1;
      for (std::size_t i = i0; i < i1; ++i)
        for (std::size_t j = j0; j < j1; ++j) {
          if (i < j) {
            P* blk = grad + block_offset(i, j);
            for (std::size_t a = 0; a < q; ++a) {
              P* row = blk + a * q;
              if (first)
                for (std::size_t b = 0; b < q; ++b) row[b] = conditional_part(i, j, a, b);
              else
                for (std::size_t b = 0; b < q; ++b) row[b] += conditional_part(i, j, a, b);
            }
          } else {
            P* blk = grad + block_offset(j, i);
            for (std::size_t b = 0; b < q; ++b) {
              P* row = blk + b * q;
              const T* src = g + (j * q1 + b) * stride + (i - i0) * q;
              if (first)
                for (std::size_t a = 0; a < q; ++a) row[a] = P(src[a]);
              else
                for (std::size_t a = 0; a < q; ++a) row[a] += P(src[a]);
            }
          }
        }
    }
  }

  // One tile's conditionals for every sequence: adds its -Σ w log p to the return value,
  // writes its parts of the couplings' gradient and its fields' gradient.
  template <class T, class P>
  double tile_pass(std::size_t tile, const P* theta, P* grad) {
    const std::size_t i0 = tiles.begin(tile), i1 = tiles.end(tile);
    const std::size_t col0 = i0 * q, width = (i1 - i0) * q, stride = round_up(width, kAlign);
    const std::size_t cells = l * q1 * stride;
    std::unique_ptr<TileScratch<T>> scratch = take_scratch<T>();
    std::vector<T>& e = scratch->e;
    std::vector<T>& g = scratch->g;
    std::vector<T>& pot = scratch->pot;
    std::vector<double>& gh = scratch->gh;
    if (e.size() < cells) e.resize(cells), g.resize(cells);
    pot.resize(seq_blocks.block * stride);
    gh.assign(width, 0.0);
    expand_tile(theta, i0, i1, stride, e.data());
    std::fill_n(g.data(), cells, T(0));
    double fx = 0;
    for (std::size_t sb = 0; sb < seq_blocks.count(); ++sb) {
      const std::size_t s0 = seq_blocks.begin(sb), nb = seq_blocks.size(sb);
      for (std::size_t s = 0; s < nb; ++s) {  // the padding stays 0: the scatter adds it
        for (std::size_t k = 0; k < width; ++k) pot[s * stride + k] = T(theta[col0 + k]);
        std::fill(pot.begin() + std::ptrdiff_t(s * stride + width), pot.begin() + std::ptrdiff_t((s + 1) * stride),
                  T(0));
      }
      // Gather: potentials += E[(j, x_sj), tile] over j, four sites at a time.
      std::size_t j = 0;
      for (; j + 4 <= l; j += 4) {
        const T* e0 = e.data() + j * q1 * stride;
        const T* e1 = e0 + q1 * stride;
        const T* e2 = e1 + q1 * stride;
        const T* e3 = e2 + q1 * stride;
        const std::uint8_t* x0 = xt.data() + j * n + s0;
        const std::uint8_t* x1 = x0 + n;
        const std::uint8_t* x2 = x1 + n;
        const std::uint8_t* x3 = x2 + n;
        for (std::size_t s = 0; s < nb; ++s)
          add_rows4(pot.data() + s * stride, e0 + x0[s] * stride, e1 + x1[s] * stride, e2 + x2[s] * stride,
                    e3 + x3[s] * stride, width);
      }
      for (; j < l; ++j) {
        const T* ej = e.data() + j * q1 * stride;
        const std::uint8_t* xj = xt.data() + j * n + s0;
        for (std::size_t s = 0; s < nb; ++s) add_row(pot.data() + s * stride, ej + xj[s] * stride, width);
      }
      // Conditionals: -w log p(x_si) and the residual w (p - onehot), in place.
      for (std::size_t s = 0; s < nb; ++s) {
        const double w = weights[Eigen::Index(s0 + s)];
        for (std::size_t i = i0; i < i1; ++i) {
          T* u = pot.data() + s * stride + (i - i0) * q;
          const std::uint8_t x = xt[i * n + s0 + s];
          if (x >= q || w == 0) {
            std::fill_n(u, q, T(0));
            continue;
          }
          T m = u[0];
          for (std::size_t a = 1; a < q; ++a) m = std::max(m, u[a]);
          const T ux = u[x];
          T z = 0;
          if constexpr (std::is_same_v<T, double>) {
            // Inlined (core/vecmath.hpp), not a call into the C library: 4% of a double fit.
            for (std::size_t a = 0; a < q; ++a) z += (u[a] = exp_nonpositive(u[a] - m));
          } else {
            for (std::size_t a = 0; a < q; ++a) z += (u[a] = std::exp(u[a] - m));
          }
          fx += w * double(m + std::log(z) - ux);
          const T scale = T(w) / z;
          for (std::size_t a = 0; a < q; ++a) u[a] *= scale;
          u[x] -= T(w);
          double* gha = gh.data() + (i - i0) * q;
          for (std::size_t a = 0; a < q; ++a) gha[a] += double(u[a]);
        }
      }
      // Scatter: G[(j, b), tile] += the residuals of the sequences with x_sj = b, each
      // state's run summed in registers (the absent state's row is never read: skipped).
      for (j = 0; j < l; ++j) {
        const std::uint16_t* order = by_state.data() + j * n + s0;
        const std::uint16_t* start = state_start.data() + (j * seq_blocks.count() + sb) * (q1 + 1);
        for (std::size_t b = 0; b < q; ++b) {
          const std::size_t k0 = start[b], count = std::size_t(start[b + 1]) - k0;
          if (count == 0) continue;
          T* row = g.data() + (j * q1 + b) * stride;
          for_register_chunks<T>(stride, [&](auto nv, std::size_t c) {
            add_rows_in_order<decltype(nv)::value>(row + c, pot.data() + c, stride, order + k0, count);
          });
        }
      }
    }
    for (std::size_t k = 0; k < width; ++k) grad_h[Eigen::Index(col0 + k)] = gh[k];
    fold_tile(tile, stride, g.data(), grad);
    give_scratch(std::move(scratch));
    return fx;
  }

  template <class T, class P>
  double evaluate(const Vector<P>& theta, Vector<P>& grad) {
    grad.resize(theta.size());
    std::fill(pair_written.begin(), pair_written.end(), 0);
    // Under mpirun each rank passes its own range of the tiles; the parts a rank does not
    // write stay 0, and the ranks' gradients are then summed. That sum is exact: every
    // entry has at most two nonzero terms (the two conditionals of a pair, from the tiles
    // of its two sites), and x + 0 = x and a + b = b + a in any order of the ranks.
    const bool spread = ranks::spreading();
    if (spread) {
      std::fill(grad.data() + lq, grad.data() + grad.size(), P(0));
      grad_h.setZero();
    }
    neg_log_pl = ranks::spread_reduce(
        exec, tiles.count(), 0.0, [&](std::size_t t) { return tile_pass<T, P>(t, theta.data(), grad.data()); },
        [](double a, double b) { return a + b; });
    if (spread) {
      ranks::sum_in_place(grad.data() + lq, std::size_t(grad.size()) - lq);
      ranks::sum_in_place(grad_h.data(), std::size_t(grad_h.size()));
    }
    double fx = neg_log_pl;
    for (std::size_t k = 0; k < lq; ++k) {
      const double v = double(theta[Eigen::Index(k)]);
      grad[Eigen::Index(k)] = P(grad_h[Eigen::Index(k)] + 2 * lambda_h * v);
      fx += lambda_h * v * v;
    }
    // The couplings' penalty, per site's run of blocks (contiguous in the layout).
    const std::size_t per_site = variant == PlVariant::symmetric ? 0 : (l - 1) * q * q;
    const double penalty = parallel_reduce(
        exec, l, 0.0,
        [&](std::size_t i) {
          const std::size_t begin = block_offset(i, variant == PlVariant::symmetric ? i + 1 : (i == 0 ? 1 : 0));
          const std::size_t count = variant == PlVariant::symmetric ? (l - 1 - i) * q * q : per_site;
          double pen = 0;
          const P* v = theta.data() + begin;
          P* gr = grad.data() + begin;
          for (std::size_t k = 0; k < count; ++k) {
            const double vk = double(v[k]);
            gr[k] = P(double(gr[k]) + 2 * lambda_e * vk);
            pen += vk * vk;
          }
          return pen;
        },
        [](double a, double b) { return a + b; });
    return fx + lambda_e * penalty;
  }
};

PseudolikelihoodObjective::PseudolikelihoodObjective(const PottsData& data, PlVariant variant, PlPrecision precision,
                                                     double lambda_h, double lambda_e, const Exec& exec)
    : impl_(std::make_unique<Impl>()) {
  check_potts_data(data);
  Impl& m = *impl_;
  m.variant = variant;
  m.precision = precision;
  m.lambda_h = lambda_h;
  m.lambda_e = lambda_e;
  m.exec = exec;
  m.n = std::size_t(data.states.rows());
  m.l = std::size_t(data.states.cols());
  m.q = data.q;
  m.q1 = m.q + 1;
  m.lq = m.l * m.q;
  m.weights = data.weights;
  m.xt.resize(m.n * m.l);
  for (std::size_t s = 0; s < m.n; ++s)
    for (std::size_t i = 0; i < m.l; ++i) m.xt[i * m.n + s] = data.states(Eigen::Index(s), Eigen::Index(i));
  const std::size_t sites_per_tile = std::max<std::size_t>(1, kTileStates / m.q);
  m.tiles = Blocks{m.l, sites_per_tile};
  m.seq_blocks = Blocks{m.n, kSequenceBlock};
  // Stable counting sort of each block's sequences by their state at each site.
  const std::size_t nblocks = m.seq_blocks.count();
  m.by_state.resize(m.n * m.l);
  m.state_start.assign(m.l * nblocks * (m.q1 + 1), 0);
  for (std::size_t j = 0; j < m.l; ++j)
    for (std::size_t sb = 0; sb < nblocks; ++sb) {
      const std::size_t s0 = m.seq_blocks.begin(sb), nb = m.seq_blocks.size(sb);
      const std::uint8_t* x = m.xt.data() + j * m.n + s0;
      std::uint16_t* start = m.state_start.data() + (j * nblocks + sb) * (m.q1 + 1);
      for (std::size_t s = 0; s < nb; ++s) ++start[x[s] + 1];
      for (std::size_t b = 0; b < m.q1; ++b) start[b + 1] = std::uint16_t(start[b + 1] + start[b]);
      std::vector<std::uint16_t> next(start, start + m.q1);
      for (std::size_t s = 0; s < nb; ++s) m.by_state[j * m.n + s0 + next[x[s]]++] = std::uint16_t(s);
    }
  const std::size_t nt = m.tiles.count();
  m.pair_lock = std::make_unique<std::mutex[]>(nt * nt);
  m.pair_written.assign(nt * nt, 0);
  m.grad_h = VectorD::Zero(Eigen::Index(m.lq));
}

PseudolikelihoodObjective::~PseudolikelihoodObjective() = default;
PseudolikelihoodObjective::PseudolikelihoodObjective(PseudolikelihoodObjective&&) noexcept = default;

std::size_t PseudolikelihoodObjective::num_parameters() const { return impl_->num_parameters(); }
double PseudolikelihoodObjective::last_neg_log_pl() const { return impl_->neg_log_pl; }

double PseudolikelihoodObjective::operator()(const VectorD& theta, VectorD& grad) {
  check_arg(std::size_t(theta.size()) == num_parameters(), "pseudolikelihood: {} parameters given, the objective has {}",
            theta.size(), num_parameters());
  return impl_->precision == PlPrecision::float64 ? impl_->evaluate<double, double>(theta, grad)
                                                  : impl_->evaluate<float, double>(theta, grad);
}

double PseudolikelihoodObjective::operator()(const VectorF& theta, VectorF& grad) {
  check_arg(std::size_t(theta.size()) == num_parameters(), "pseudolikelihood: {} parameters given, the objective has {}",
            theta.size(), num_parameters());
  return impl_->precision == PlPrecision::float64 ? impl_->evaluate<double, float>(theta, grad)
                                                  : impl_->evaluate<float, float>(theta, grad);
}

VectorD PseudolikelihoodObjective::initial_parameters() const {
  const Impl& m = *impl_;
  VectorD theta = VectorD::Zero(Eigen::Index(m.num_parameters()));
  const double neff = m.weights.sum();
  for (std::size_t i = 0; i < m.l; ++i) {
    std::vector<double> f(m.q, 0.0);
    double present = 0;
    for (std::size_t s = 0; s < m.n; ++s) {
      const std::uint8_t x = m.xt[i * m.n + s];
      if (x < m.q) f[x] += m.weights[Eigen::Index(s)], present += m.weights[Eigen::Index(s)];
    }
    double mean = 0;
    for (std::size_t a = 0; a < m.q; ++a) {
      const double fa = present > 0 ? f[a] / present : 1.0 / double(m.q);
      f[a] = std::log(fa * neff + 1.0);
      mean += f[a] / double(m.q);
    }
    for (std::size_t a = 0; a < m.q; ++a) theta[Eigen::Index(i * m.q + a)] = f[a] - mean;
  }
  return theta;
}

Potts PseudolikelihoodObjective::model(const VectorD& theta) const {
  const Impl& m = *impl_;
  check_arg(std::size_t(theta.size()) == m.num_parameters(),
            "pseudolikelihood: {} parameters given, the objective has {}", theta.size(), m.num_parameters());
  Potts model = Potts::dense(m.l, m.q);
  if (m.variant == PlVariant::symmetric) {
    model.set_parameters(theta);
    return model;
  }
  VectorD p(Eigen::Index(model.num_parameters()));
  p.head(Eigen::Index(m.lq)) = theta.head(Eigen::Index(m.lq));
  std::size_t e = 0;
  for (std::size_t i = 0; i < m.l; ++i)
    for (std::size_t j = i + 1; j < m.l; ++j, ++e) {
      const double* bij = theta.data() + m.block_offset(i, j);
      const double* bji = theta.data() + m.block_offset(j, i);
      for (std::size_t a = 0; a < m.q; ++a)
        for (std::size_t b = 0; b < m.q; ++b)
          p[Eigen::Index(m.lq + e * m.q * m.q + a * m.q + b)] = 0.5 * (bij[a * m.q + b] + bji[b * m.q + a]);
    }
  model.set_parameters(p);
  return model;
}

// ---------------------------------------------------------------------------------
// The fit

PseudolikelihoodFit fit_pseudolikelihood(const PottsData& data, const PseudolikelihoodConfig& config, const Exec& exec,
                                         Observer& obs) {
  config.validate();
  check_potts_data(data);
  const auto t0 = std::chrono::steady_clock::now();
  check_memory_available(pseudolikelihood_memory_bytes(std::size_t(data.states.rows()),
                                                       std::size_t(data.states.cols()), data.q, config),
                         "pseudolikelihood");
  PseudolikelihoodObjective f(data, config.variant, config.precision, config.lambda_h, config.lambda_e, exec);
  LbfgsOptions opt;
  opt.max_iterations = config.max_iterations > 0 ? config.max_iterations : std::size_t(std::numeric_limits<int>::max());
  opt.gradient_tolerance = config.gradient_tolerance;  // ‖g‖ <= ε max(1, ‖θ‖), as plmc
  opt.relative_tolerance = true;
  opt.relative_decrease = config.relative_decrease;
  opt.decrease_window = config.decrease_window;
  opt.memory = config.memory;
  auto progress = [&](std::size_t iteration, double) {
    obs.progress("pseudolikelihood", iteration, config.max_iterations);
  };
  // -log PL of every evaluation, to report the one of the point returned.
  std::vector<std::pair<double, double>> evaluated;
  auto objective = [&](const auto& theta, auto& grad) {
    const double v = f(theta, grad);
    evaluated.emplace_back(v, f.last_neg_log_pl());
    return v;
  };
  // In float the whole optimiser state is float (as plmc's float build): the kernel's
  // arithmetic is float already, and float vectors halve the memory of the fit.
  LbfgsResult r;
  if (config.precision == PlPrecision::float64) {
    r = minimize_lbfgs_lean(std::function<double(const VectorD&, VectorD&)>(objective), f.initial_parameters(), opt,
                       progress);
  } else {
    VectorF x0 = f.initial_parameters().cast<float>();  // the double start freed here
    LbfgsResultF rf = minimize_lbfgs_lean(std::function<double(const VectorF&, VectorF&)>(objective), std::move(x0), opt,
                                     progress);
    r.x = rf.x.cast<double>();
    VectorF().swap(rf.x);
    r.value = rf.value, r.gradient_norm = rf.gradient_norm, r.iterations = rf.iterations;
    r.evaluations = rf.evaluations, r.trace = std::move(rf.trace), r.converged = rf.converged;
    r.stopped_by = rf.stopped_by;
  }
  PseudolikelihoodFit fit;
  fit.model = f.model(r.x);
  fit.objective = r.value;
  for (auto it = evaluated.rbegin(); it != evaluated.rend(); ++it)
    if (it->first == r.value) {
      fit.neg_log_pl = it->second;
      break;
    }
  fit.iterations = r.iterations;
  fit.evaluations = r.evaluations;
  fit.stopped_by = r.stopped_by;
  fit.objective_trace = std::move(r.trace);
  fit.seconds = seconds_since(t0);
  return fit;
}

}  // namespace logz
