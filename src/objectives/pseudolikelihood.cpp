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
#include <optional>
#include <tuple>
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
                                          const PseudolikelihoodConfig& config, std::size_t ranks) {
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
  // Over R ranks, a rank's share of the tiles (⌈T/R⌉ of T) holds that share of the vectors,
  // and the halos of θ and of the gradient are at most as large again each.
  const std::size_t share_tiles = (tiles + ranks - 1) / std::max<std::size_t>(ranks, 1);
  const std::size_t vectors = 2 * config.memory + 3 + (ranks > 1 ? 2 : 0);
  const std::size_t optimiser =
      checked_product(checked_product(params, elem, what), vectors, what) / std::max<std::size_t>(tiles, 1) * share_tiles;
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
  std::vector<T> e, g, pot, h;
  std::vector<double> gh;
};

// Where a tile finds its parameters (or writes their gradient): this rank's groups of the
// fit's vector (its shard, from the group of its first site) and, sharded over ranks, the
// halo: the blocks of its sites' pairs that other ranks' sites own.
template <class P>
struct ParamView {
  P* shard;
  P* halo;
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

  // The layout the objective works in ("grouped"): one group of parameters per site, in
  // site order, holding its fields and then the blocks of the pairs it owns, partners in
  // ascending order. Symmetric: the pair i < j belongs to i when i + j is odd and to j when
  // it is even, so every site owns about half of its L − 1 pairs and a range of sites
  // about its share of the couplings; asymmetric: site i's group holds its conditional's
  // blocks to every j ≠ i. A tile's groups are one chunk of the fit's sums.
  std::vector<std::size_t> group_start;  // L + 1 offsets
  // Sharded over ranks (a fit under mpirun): this rank holds the groups of the sites
  // [site0, site1) of its tiles, from offset `base`; the halo holds the blocks of pairs
  // between its sites and other ranks' sites that those own, rank by rank (halo_start, in
  // blocks), each rank's by (owner site, this rank's site); halo_index[(i − site0) L + o]
  // is the place of the pair of its site i and o. Otherwise one rank holds everything.
  bool sharded = false;
  ranks::Range tiles_here;  // this rank's tiles (all of them unless sharded)
  std::size_t site0 = 0, site1 = 0, base = 0;
  std::vector<std::size_t> halo_start, halo_index;
  std::vector<double> halo64[2];  // θ's halo and the gradient's, in the fit's precision
  std::vector<float> halo32[2];

  std::size_t coupling_blocks() const { return num_coupling_blocks(l, variant); }
  std::size_t num_parameters() const { return lq + coupling_blocks() * q * q; }

  // The site whose group holds the block of i and j (symmetric: i < j).
  std::size_t owner_site(std::size_t i, std::size_t j) const {
    if (variant == PlVariant::asymmetric) return i;
    return (i + j) % 2 == 1 ? i : j;
  }
  // Index of the first entry of the parameter block coupling i (rows a) to j (cols b), in
  // the grouped layout. Symmetric: i < j required; asymmetric: the block of conditional i.
  std::size_t block_offset(std::size_t i, std::size_t j) const {
    if (variant == PlVariant::asymmetric) return group_start[i] + q + (j < i ? j : j - 1) * q * q;
    const std::size_t o = owner_site(i, j), p = o == i ? j : i;
    const std::size_t k = p < o ? p / 2 : o / 2 + (p - o - 1) / 2;
    return group_start[o] + q + k * q * q;
  }
  // The same in the public layout: fields (L·q), then the blocks in Potts::dense order.
  std::size_t dense_block_offset(std::size_t i, std::size_t j) const {
    const std::size_t k = variant == PlVariant::symmetric ? i * l - i * (i + 1) / 2 + (j - i - 1)
                                                          : i * (l - 1) + (j < i ? j : j - 1);
    return lq + k * q * q;
  }
  void set_layout() {
    group_start.assign(l + 1, 0);
    for (std::size_t i = 0; i < l; ++i) {
      const std::size_t pairs = variant == PlVariant::asymmetric ? l - 1 : i / 2 + (l - i) / 2;
      group_start[i + 1] = group_start[i] + q + pairs * q * q;
    }
    tiles_here = {0, tiles.count()};
    site0 = 0, site1 = l, base = 0;
  }
  // The sites of rank r's tiles (owned(T, r, ranks)).
  std::pair<std::size_t, std::size_t> sites_of(int r, int ranks) const {
    const ranks::Range t = ranks::owned(tiles.count(), r, ranks);
    return {std::min(l, tiles.begin(t.begin)), std::min(l, tiles.begin(t.end))};
  }
  template <class P>
  P* block(ParamView<P> v, std::size_t i, std::size_t j) const {
    const std::size_t o = owner_site(i, j);
    if (o >= site0 && o < site1) return v.shard + (block_offset(i, j) - base);
    const std::size_t mine = o == i ? j : i;
    return v.halo + halo_index[(mine - site0) * l + o] * q * q;
  }
  template <class P>
  std::vector<P>& halo(int which) {
    if constexpr (std::is_same_v<P, double>) return halo64[which];
    else return halo32[which];
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
  void expand_tile(ParamView<const P> theta, std::size_t i0, std::size_t i1, std::size_t stride, T* e) const {
    const bool sym = variant == PlVariant::symmetric;
    for (std::size_t j = 0; j < l; ++j) {
      std::fill_n(e + (j * q1 + q) * stride, stride, T(0));
      for (std::size_t i = i0; i < i1; ++i) {
        T* dst = e + j * q1 * stride + (i - i0) * q;
        if (j == i) {
          for (std::size_t b = 0; b < q; ++b) std::fill_n(dst + b * stride, q, T(0));
        } else if (!sym || i < j) {  // block rows are i's states: a transposed read
          const P* blk = block(theta, i, j);
          for (std::size_t b = 0; b < q; ++b)
            for (std::size_t a = 0; a < q; ++a) dst[b * stride + a] = T(blk[a * q + b]);
        } else {  // the pair's block is stored once, rows for j < i
          const P* blk = block(theta, j, i);
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
  void fold_tile(std::size_t tile, std::size_t stride, const T* g, ParamView<P> grad) {
    const std::size_t i0 = tiles.begin(tile), i1 = tiles.end(tile);
    auto conditional_part = [&](std::size_t i, std::size_t j, std::size_t a, std::size_t b) {
      return P(g[(j * q1 + b) * stride + (i - i0) * q + a]);
    };
    if (variant == PlVariant::asymmetric) {
      for (std::size_t i = i0; i < i1; ++i)
        for (std::size_t j = 0; j < l; ++j) {
          if (j == i) continue;
          P* blk = block(grad, i, j);
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
            P* blk = block(grad, i, j);
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
            P* blk = block(grad, i, j);
            for (std::size_t a = 0; a < q; ++a) {
              P* row = blk + a * q;
              if (first)
                for (std::size_t b = 0; b < q; ++b) row[b] = conditional_part(i, j, a, b);
              else
                for (std::size_t b = 0; b < q; ++b) row[b] += conditional_part(i, j, a, b);
            }
          } else {
            P* blk = block(grad, j, i);
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
  double tile_pass(std::size_t tile, ParamView<const P> theta, ParamView<P> grad) {
    const std::size_t i0 = tiles.begin(tile), i1 = tiles.end(tile);
    const std::size_t col0 = i0 * q, width = (i1 - i0) * q, stride = round_up(width, kAlign);
    const std::size_t cells = l * q1 * stride;
    std::unique_ptr<TileScratch<T>> scratch = take_scratch<T>();
    std::vector<T>& e = scratch->e;
    std::vector<T>& g = scratch->g;
    std::vector<T>& pot = scratch->pot;
    std::vector<double>& gh = scratch->gh;
    std::vector<T>& h = scratch->h;
    if (e.size() < cells) e.resize(cells), g.resize(cells);
    pot.resize(seq_blocks.block * stride);
    gh.assign(width, 0.0);
    h.resize(width);
    for (std::size_t i = i0; i < i1; ++i)
      for (std::size_t a = 0; a < q; ++a) h[(i - i0) * q + a] = T(theta.shard[group_start[i] - base + a]);
    expand_tile(theta, i0, i1, stride, e.data());
    std::fill_n(g.data(), cells, T(0));
    double fx = 0;
    for (std::size_t sb = 0; sb < seq_blocks.count(); ++sb) {
      const std::size_t s0 = seq_blocks.begin(sb), nb = seq_blocks.size(sb);
      for (std::size_t s = 0; s < nb; ++s) {  // the padding stays 0: the scatter adds it
        std::copy_n(h.data(), width, pot.data() + s * stride);
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

  // The sums over tiles of `width` values per tile (tile-major partials of this rank's
  // tiles), each added in tile order: the same bits however the tiles are spread.
  std::vector<double> tile_totals(const std::vector<double>& partials, std::size_t width) const {
    const std::size_t nt = tiles.count();
    std::vector<double> all;
    const double* p = partials.data();
    if (sharded) {
      all.assign(nt * width, 0.0);
      std::copy(partials.begin(), partials.end(), all.begin() + std::ptrdiff_t(tiles_here.begin * width));
      ranks::share(all.data(), ranks::item_bounds(nt, width * sizeof(double)));
      p = all.data();
    }
    std::vector<double> out(width, 0.0);
    for (std::size_t t = 0; t < nt; ++t)
      for (std::size_t w = 0; w < width; ++w) out[w] += p[t * width + w];
    return out;
  }

  // Shards the fit over the ranks: this rank keeps its tiles' groups, and the halo's
  // tables are built (the pairs of its sites owned by other ranks' sites).
  void shard_over_ranks() {
    const int me = ranks::rank(), n_ranks = ranks::size();
    tiles_here = ranks::owned(tiles.count(), me, n_ranks);
    std::tie(site0, site1) = sites_of(me, n_ranks);
    base = group_start[site0];
    halo_index.assign((site1 - site0) * l, 0);
    halo_start.assign(std::size_t(n_ranks) + 1, 0);
    std::size_t k = 0;
    for (int r = 0; r < n_ranks; ++r) {
      halo_start[std::size_t(r)] = k;
      if (r == me) continue;
      const auto [o0, o1] = sites_of(r, n_ranks);
      for (std::size_t o = o0; o < o1; ++o)
        for (std::size_t i = site0; i < site1; ++i)
          if (variant == PlVariant::symmetric && owner_site(std::min(i, o), std::max(i, o)) == o)
            halo_index[(i - site0) * l + o] = k++;
    }
    halo_start[std::size_t(n_ranks)] = k;
    sharded = n_ranks > 1;
  }
  std::size_t shard_size() const { return group_start[site1] - base; }

  // Rank `to`'s halo part from this rank, in its order (owner site here, then its site):
  // f(block here) for each.
  template <class F>
  void for_each_halo_block_of(int to, F&& f) const {
    if (variant == PlVariant::asymmetric) return;  // a conditional's blocks are its own
    const auto [i0, i1] = sites_of(to, ranks::size());
    for (std::size_t o = site0; o < site1; ++o)
      for (std::size_t i = i0; i < i1; ++i)
        if (owner_site(std::min(i, o), std::max(i, o)) == o) f(block_offset(std::min(i, o), std::max(i, o)) - base);
  }

  // θ's halo from the ranks that own it, one rank after another (a ring of pairs).
  template <class P>
  void receive_halo(const P* theta, P* halo) {
    const int me = ranks::rank(), n_ranks = ranks::size();
    const std::size_t qq = q * q;
    std::vector<P> out;
    for (int step = 1; step < n_ranks; ++step) {
      const int to = (me + step) % n_ranks, from = (me - step + n_ranks) % n_ranks;
      out.clear();
      for_each_halo_block_of(to, [&](std::size_t at) { out.insert(out.end(), theta + at, theta + at + qq); });
      const std::size_t h0 = halo_start[std::size_t(from)], h1 = halo_start[std::size_t(from) + 1];
      ranks::send_receive(to, out.data(), out.size() * sizeof(P), from, halo + h0 * qq, (h1 - h0) * qq * sizeof(P));
    }
  }
  // The gradient's halo to the ranks that own it, and their parts of this rank's blocks
  // added in: a pair's two conditionals, a + b, the same in either order.
  template <class P>
  void send_halo_gradient(P* grad, const P* halo) {
    const int me = ranks::rank(), n_ranks = ranks::size();
    const std::size_t qq = q * q;
    std::vector<P> in;
    for (int step = 1; step < n_ranks; ++step) {
      const int to = (me + step) % n_ranks, from = (me - step + n_ranks) % n_ranks;
      std::size_t blocks = 0;
      for_each_halo_block_of(from, [&](std::size_t) { ++blocks; });
      in.resize(blocks * qq);
      const std::size_t h0 = halo_start[std::size_t(to)], h1 = halo_start[std::size_t(to) + 1];
      ranks::send_receive(to, halo + h0 * qq, (h1 - h0) * qq * sizeof(P), from, in.data(), in.size() * sizeof(P));
      const P* src = in.data();
      for_each_halo_block_of(from, [&](std::size_t at) {
        for (std::size_t k = 0; k < qq; ++k) grad[at + k] += src[k];
        src += qq;
      });
    }
  }

  // f(θ) and ∇f on this rank's groups (all of them unless sharded), grouped layout.
  template <class T, class P>
  double evaluate(const P* theta, P* grad) {
    std::fill(pair_written.begin(), pair_written.end(), 0);
    // Sharded, each rank passes its own tiles (spread_reduce's ranges are the shards');
    // otherwise this process passes them all, even under mpirun.
    std::optional<ranks::Alone> alone;
    if (!sharded) alone.emplace();
    std::vector<P>& halo_theta = halo<P>(0);
    std::vector<P>& halo_grad = halo<P>(1);
    if (sharded) {
      const std::size_t halo_size = halo_start.back() * q * q;
      halo_theta.resize(halo_size), halo_grad.resize(halo_size);
      receive_halo(theta, halo_theta.data());
    }
    const ParamView<const P> th{theta, halo_theta.data()};
    const ParamView<P> gr{grad, halo_grad.data()};
    neg_log_pl = ranks::spread_reduce(
        exec, tiles.count(), 0.0, [&](std::size_t t) { return tile_pass<T, P>(t, th, gr); },
        [](double a, double b) { return a + b; });
    if (sharded) send_halo_gradient(grad, halo_grad.data());
    // The fields' gradient and both penalties, tile by tile (the fit's chunks).
    std::vector<double> partials(2 * tiles_here.size(), 0.0);
    parallel_for(exec, tiles_here.size(), [&](std::size_t k) {
      const std::size_t t = tiles_here.begin + k;
      double field_penalty = 0, coupling_penalty = 0;
      for (std::size_t i = tiles.begin(t); i < tiles.end(t); ++i) {
        const std::size_t g0 = group_start[i] - base, g1 = group_start[i + 1] - base;
        for (std::size_t a = 0; a < q; ++a) {
          const double v = double(theta[g0 + a]);
          grad[g0 + a] = P(grad_h[Eigen::Index(i * q + a)] + 2 * lambda_h * v);
          field_penalty += lambda_h * v * v;
        }
        for (std::size_t c = g0 + q; c < g1; ++c) {
          const double v = double(theta[c]);
          grad[c] = P(double(grad[c]) + 2 * lambda_e * v);
          coupling_penalty += v * v;
        }
      }
      partials[2 * k] = field_penalty;
      partials[2 * k + 1] = coupling_penalty;
    });
    const std::vector<double> penalty = tile_totals(partials, 2);
    return neg_log_pl + penalty[0] + lambda_e * penalty[1];
  }

  // Between the public layout and the grouped one (whole vectors, one rank).
  template <class P>
  Vector<P> relayout(const Vector<P>& from, bool to_grouped) const {
    Vector<P> to(from.size());
    const auto copy = [&](std::size_t dense, std::size_t grouped, std::size_t count) {
      const P* src = from.data() + (to_grouped ? dense : grouped);
      std::copy_n(src, count, to.data() + (to_grouped ? grouped : dense));
    };
    for (std::size_t i = 0; i < l; ++i) {
      copy(i * q, group_start[i], q);
      for (std::size_t j = 0; j < l; ++j)
        if (j != i && (variant == PlVariant::asymmetric || i < j)) copy(dense_block_offset(i, j), block_offset(i, j), q * q);
    }
    return to;
  }

  // plmc's starting fields of site i: log(f_i(a)·Neff + 1) centred over a.
  std::vector<double> initial_fields(std::size_t i) const {
    const double neff = weights.sum();
    std::vector<double> f(q, 0.0);
    double present = 0;
    for (std::size_t s = 0; s < n; ++s) {
      const std::uint8_t x = xt[i * n + s];
      if (x < q) f[x] += weights[Eigen::Index(s)], present += weights[Eigen::Index(s)];
    }
    double mean = 0;
    for (std::size_t a = 0; a < q; ++a) {
      const double fa = present > 0 ? f[a] / present : 1.0 / double(q);
      f[a] = std::log(fa * neff + 1.0);
      mean += f[a] / double(q);
    }
    for (double& v : f) v -= mean;
    return f;
  }

  // The Potts model of a whole grouped vector (asymmetric couplings averaged).
  template <class P>
  Potts model_of(const Vector<P>& theta) const {
    Potts model = Potts::dense(l, q);
    VectorD p(Eigen::Index(model.num_parameters()));
    for (std::size_t i = 0; i < l; ++i)
      for (std::size_t a = 0; a < q; ++a) p[Eigen::Index(i * q + a)] = double(theta[Eigen::Index(group_start[i] + a)]);
    std::size_t e = 0;
    for (std::size_t i = 0; i < l; ++i)
      for (std::size_t j = i + 1; j < l; ++j, ++e) {
        double* out = p.data() + lq + e * q * q;
        const P* bij = theta.data() + block_offset(i, j);
        if (variant == PlVariant::symmetric) {
          std::copy_n(bij, q * q, out);
          continue;
        }
        const P* bji = theta.data() + block_offset(j, i);
        for (std::size_t a = 0; a < q; ++a)
          for (std::size_t b = 0; b < q; ++b) out[a * q + b] = 0.5 * (double(bij[a * q + b]) + double(bji[b * q + a]));
      }
    model.set_parameters(p);
    return model;
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
  m.set_layout();
  const std::size_t nt = m.tiles.count();
  m.pair_lock = std::make_unique<std::mutex[]>(nt * nt);
  m.pair_written.assign(nt * nt, 0);
  m.grad_h = VectorD::Zero(Eigen::Index(m.lq));
}

PseudolikelihoodObjective::~PseudolikelihoodObjective() = default;
PseudolikelihoodObjective::PseudolikelihoodObjective(PseudolikelihoodObjective&&) noexcept = default;

std::size_t PseudolikelihoodObjective::num_parameters() const { return impl_->num_parameters(); }
double PseudolikelihoodObjective::last_neg_log_pl() const { return impl_->neg_log_pl; }

namespace {
// The public objective on whole vectors in the public layout: through the grouped one.
template <class T, class P>
double evaluate_public(auto& m, const Vector<P>& theta, Vector<P>& grad) {
  check_arg(std::size_t(theta.size()) == m.num_parameters(), "pseudolikelihood: {} parameters given, the objective has {}",
            theta.size(), m.num_parameters());
  const Vector<P> grouped = m.relayout(theta, true);
  Vector<P> g(grouped.size());
  const double v = m.template evaluate<T, P>(grouped.data(), g.data());
  grad = m.relayout(g, false);
  return v;
}
}  // namespace

double PseudolikelihoodObjective::operator()(const VectorD& theta, VectorD& grad) {
  return impl_->precision == PlPrecision::float64 ? evaluate_public<double, double>(*impl_, theta, grad)
                                                  : evaluate_public<float, double>(*impl_, theta, grad);
}

double PseudolikelihoodObjective::operator()(const VectorF& theta, VectorF& grad) {
  return impl_->precision == PlPrecision::float64 ? evaluate_public<double, float>(*impl_, theta, grad)
                                                  : evaluate_public<float, float>(*impl_, theta, grad);
}

VectorD PseudolikelihoodObjective::initial_parameters() const {
  const Impl& m = *impl_;
  VectorD theta = VectorD::Zero(Eigen::Index(m.num_parameters()));
  for (std::size_t i = 0; i < m.l; ++i) {
    const std::vector<double> f = m.initial_fields(i);
    std::copy(f.begin(), f.end(), theta.data() + i * m.q);
  }
  return theta;
}

Potts PseudolikelihoodObjective::model(const VectorD& theta) const {
  const Impl& m = *impl_;
  check_arg(std::size_t(theta.size()) == m.num_parameters(),
            "pseudolikelihood: {} parameters given, the objective has {}", theta.size(), m.num_parameters());
  return m.model_of(m.relayout(theta, true));
}

// ---------------------------------------------------------------------------------
// The fit

PseudolikelihoodFit fit_pseudolikelihood(const PottsData& data, const PseudolikelihoodConfig& config, const Exec& exec,
                                         Observer& obs) {
  config.validate();
  check_potts_data(data);
  const auto t0 = std::chrono::steady_clock::now();
  // Under mpirun the fit is sharded: each rank holds its tiles' groups of the optimiser's
  // vectors and the halo its tiles read, and passes its own tiles.
  const bool sharded = ranks::spreading();
  check_memory_available(pseudolikelihood_memory_bytes(std::size_t(data.states.rows()),
                                                       std::size_t(data.states.cols()), data.q, config,
                                                       sharded ? std::size_t(ranks::size()) : 1),
                         "pseudolikelihood");
  PseudolikelihoodObjective f(data, config.variant, config.precision, config.lambda_h, config.lambda_e, exec);
  PseudolikelihoodObjective::Impl& m = *f.impl_;
  if (sharded) m.shard_over_ranks();
  // The optimiser's sums go tile by tile (its chunks), over the ranks' shards.
  LbfgsChunks chunks;
  for (std::size_t t = m.tiles_here.begin; t < m.tiles_here.end; ++t)
    chunks.bounds.push_back(m.group_start[m.tiles.begin(t)] - m.base);
  chunks.bounds.push_back(m.shard_size());
  chunks.total = [&](const std::vector<double>& partials, std::size_t width) { return m.tile_totals(partials, width); };
  LbfgsOptions opt;
  opt.max_iterations = config.max_iterations > 0 ? config.max_iterations : std::size_t(std::numeric_limits<int>::max());
  opt.gradient_tolerance = config.gradient_tolerance;  // ‖g‖ <= ε max(1, ‖θ‖), as plmc
  opt.relative_tolerance = true;
  opt.relative_decrease = config.relative_decrease;
  opt.decrease_window = config.decrease_window;
  opt.memory = config.memory;
  opt.chunks = &chunks;
  auto progress = [&](std::size_t iteration, double) {
    obs.progress("pseudolikelihood", iteration, config.max_iterations);
  };
  // -log PL of every evaluation, to report the one of the point returned.
  std::vector<std::pair<double, double>> evaluated;
  // plmc's start: this rank's sites' fields, couplings 0. In float the whole optimiser
  // state is float (as plmc's float build): the kernel's arithmetic is float already, and
  // float vectors halve the memory of the fit.
  const auto run = [&]<class P>(P) {
    Vector<P> x0 = Vector<P>::Zero(Eigen::Index(m.shard_size()));
    for (std::size_t i = m.site0; i < m.site1; ++i) {
      const std::vector<double> h = m.initial_fields(i);
      for (std::size_t a = 0; a < m.q; ++a) x0[Eigen::Index(m.group_start[i] - m.base + a)] = P(h[a]);
    }
    const std::function<double(const Vector<P>&, Vector<P>&)> objective = [&](const Vector<P>& theta, Vector<P>& grad) {
      grad.resize(theta.size());
      const double v = m.template evaluate<P, P>(theta.data(), grad.data());
      evaluated.emplace_back(v, m.neg_log_pl);
      return v;
    };
    LbfgsResultT<P> r = minimize_lbfgs_lean(objective, std::move(x0), opt, progress);
    const std::size_t peak = peak_resident_bytes();
    // Every rank's groups to every rank (or to rank 0 alone), then the model.
    PseudolikelihoodFit fit;
    std::vector<P>().swap(m.halo<P>(0));
    std::vector<P>().swap(m.halo<P>(1));
    if (!sharded) {
      fit.model = m.model_of(r.x);  // the whole vector already
    } else {
      std::vector<std::size_t> bounds(std::size_t(ranks::size()) + 1);
      for (int k = 0; k <= ranks::size(); ++k)
        bounds[std::size_t(k)] = m.group_start[k < ranks::size() ? m.sites_of(k, ranks::size()).first : m.l] * sizeof(P);
      if (config.model_on_every_rank || ranks::rank() == 0) {
        Vector<P> theta(Eigen::Index(m.num_parameters()));
        std::copy_n(r.x.data(), r.x.size(), theta.data() + m.base);
        Vector<P>().swap(r.x);
        if (config.model_on_every_rank) ranks::share(theta.data(), bounds);
        else ranks::gather(theta.data() + m.base, theta.data(), bounds, 0);
        fit.model = m.model_of(theta);
      } else {
        ranks::gather(r.x.data(), nullptr, bounds, 0);
      }
    }
    fit.peak_memory_bytes = peak;
    fit.objective = r.value;
    fit.iterations = r.iterations;
    fit.evaluations = r.evaluations;
    fit.stopped_by = r.stopped_by;
    fit.objective_trace = std::move(r.trace);
    return fit;
  };
  PseudolikelihoodFit fit = config.precision == PlPrecision::float64 ? run(double{}) : run(float{});
  for (auto it = evaluated.rbegin(); it != evaluated.rend(); ++it)
    if (it->first == fit.objective) {
      fit.neg_log_pl = it->second;
      break;
    }
  fit.seconds = seconds_since(t0);
  return fit;
}

}  // namespace logz
