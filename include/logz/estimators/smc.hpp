#pragma once
/// @file smc.hpp
/// Sequential Monte Carlo samplers for log Z (Del Moral, Doucet & Jasra 2006, "Sequential
/// Monte Carlo samplers", JRSS B 68) over any AnnealingPath, with resampling when the
/// effective sample size falls (resampling.hpp; Douc & Cappé 2005) and, optionally,
/// adaptive tempering that picks each next β so that the conditional ESS of the
/// incremental weights hits a target (Jasra, Stephens, Doucet & Tsagaris 2011, "Inference
/// for Lévy-driven stochastic volatility models via adaptive sequential Monte Carlo",
/// Scand. J. Statist. 38; Zhou, Johansen & Aston 2016, "Towards automatic model
/// comparison: an adaptive sequential Monte Carlo approach", JCGS 25).
///
/// One run: N particles x_i ~ p_0 with normalized weights W_i = 1/N; for k = 1..K
///  1. reweight: w_i = f_{β_k}(x_i) / f_{β_{k−1}}(x_i) (path.log_ratio);
///     the normalizing-constant increment is Ẑ_k / Ẑ_{k−1} = Σ_i W_i w_i, and
///     W_i ← W_i w_i / Σ_j W_j w_j;
///  2. resample when ESS = 1 / Σ W_i² < ess_threshold · N (every step for threshold 1,
///     never for 0): rows are replaced by copies of their ancestors' rows, W_i = 1/N;
///  3. move every particle `moves` times with the path's p_{β_k}-invariant kernel (not
///     after the last step, where no later weight depends on it); with adaptive moves,
///     more moves until the particles have decorrelated from where the moves began
///     (rule below), at most max_moves_factor · moves.
/// log Ẑ_run = log Z_0 + Σ_k log Σ_i W_i w_i, and Ẑ_run is unbiased for Z for a fixed
/// schedule (Del Moral 2004, Proposition 7.4.1). Without resampling a run is AIS with N
/// chains. With adaptive tempering the schedule depends on the particles: Ẑ_run is then
/// consistent but not exactly unbiased (the bias is O(1/N)); `adaptive_schedule` gives a
/// schedule to reuse in fixed-schedule runs where exact unbiasedness matters.
///
/// Estimate and error bar: R independent runs, combined on the Z scale, log Ẑ =
/// log mean exp(log Ẑ_run) (each Ẑ_run is unbiased for Z), with the delta-method
/// standard error sd(Ẑ_run) / (√R mean(Ẑ_run)) over runs; NaN for one run. The standard
/// error is estimated from R − 1 degrees of freedom (`dof`), so interval() uses Student's
/// t: a normal interval from few runs would under-cover (R = 10: a nominal 95% normal
/// interval covers about 91.8%; docs/smc.md).
///
/// Adaptive moves (`adaptive_moves`): after the step's `moves` moves, one more move at a
/// time while fewer than 90% of the particles differ from their state when the moves began,
/// or the W-weighted correlation over particles between ∂ log f_β at that state and now is
/// above 0.1 (on a geometric path the next incremental weights are (β′ − β) ∂ log f_β, so
/// the second says that they no longer remember the positions before the moves; it is
/// skipped when ∂ log f_β was the same for every particle), and at most
/// max_moves_factor · moves moves in all. The number of moves then depends on the
/// particles, so Ẑ_run is consistent but no longer exactly unbiased, as with adaptive
/// tempering (docs/smc.md).
///
/// Waste-free SMC (`waste_free` = P >= 2; Dau & Chopin 2022, "Waste-free sequential Monte
/// Carlo", JRSS B 84): N = M · P particles. At every step but the last the N weighted
/// particles are resampled down to M = N / P ancestors (always, whatever the ESS), and
/// ancestor m starts a chain of P − 1 moves at β_k (each `moves` path moves) whose P
/// states — the start and every move — are the particles m·P .. m·P + P − 1 of the next
/// step, all of weight 1/N. It is standard SMC on chains of length P as particles (each
/// weighted by the mean of its states' weights), so Ẑ_run stays unbiased for a fixed
/// schedule (Dau & Chopin, Prop. 1), with N particles for the price of M resampled ones.
/// Chain m moves on particle stream m.
///
/// Particle degeneracy: every particle's time-0 ancestor (the base draw it descends from)
/// is followed through resampling, and each step records how many distinct ones remain
/// after it (StepDiagnostics::unique_ancestors); this reads no random number.
///
/// Streams: run r uses Stream::root(seed).derive(smc_stream, r) and particle i of the
/// run its child derive(smc_stream, i) for the base draw and every move; run r's
/// resampling draws from Stream::root(seed).derive(resample_stream, r). Streams stay
/// with rows when particles are resampled.
///
/// Blocks and ranks: a run holds its particles in blocks fixed by the population size
/// (BlockwisePath: path.particle_block(n), rounded up to a multiple of the waste-free chain
/// length; other paths: one block), each block on its own copy of the path, one parallel
/// task a block: bit-identical results for any thread count. Under mpirun, runs go to the
/// ranks when there are at least as many runs as ranks; with fewer runs every rank takes
/// part in every run, holding and moving only its own range of the blocks. Then each
/// step's incremental weights (8 bytes a particle) are shared, every rank computes the
/// same weights, ESS and ancestors, and before a resampling the particles are shared (a
/// particle's state a particle: the ancestors of a rank's rows may live on any rank).
/// The ranks take the same decisions from the same numbers, so the bits are one
/// process's for any number of ranks (core/ranks.hpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/ranks.hpp"
#include "logz/core/rng.hpp"
#include "logz/estimators/log_z_estimate.hpp"
#include "logz/estimators/method.hpp"
#include "logz/estimators/resampling.hpp"
#include "logz/tempering/path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

/// The random streams SMC owns (core/rng.hpp: Purpose).
inline constexpr Purpose smc_stream{12};       ///< SMC runs and their particles
inline constexpr Purpose resample_stream{13};  ///< SMC resampling, one stream per run

struct SmcConfig {
  std::size_t particles = 200;   ///< N per run, >= 1
  std::size_t runs = 20;         ///< independent runs, >= 1: the standard error is their spread
  Resampling resampling = Resampling::systematic;
  double ess_threshold = 0.5;    ///< resample when ESS < threshold · N; 0 = never, 1 = every step
  std::size_t moves = 1;         ///< path moves per β (0: reweighting and resampling only)
  std::optional<Schedule> schedule = std::nullopt;  ///< fixed betas; empty = adaptive tempering
  double cess_target = 0.95;     ///< adaptive: next β where CESS = cess_target · N, in (0, 1)
  std::size_t max_steps = 100000;  ///< adaptive: a run taking more steps fails (Exit::data)
  /// More moves per step until the particles have decorrelated (see the file comment).
  bool adaptive_moves = false;
  std::size_t max_moves_factor = 10;  ///< adaptive moves: at most this × moves moves per step, >= 1
  /// Waste-free SMC: chain length P >= 2 (particles must be a multiple of it); 0 = off.
  std::size_t waste_free = 0;
  std::uint64_t seed = 1;
};

namespace detail {

/// Paths whose log ratio is (b1 − b0) · dlog_f(x), so that the adaptive search can scale
/// one evaluation instead of calling log_ratio at every candidate β.
template <class P>
inline constexpr bool log_ratio_linear_in_beta = false;
template <class B, class T, class M>
inline constexpr bool log_ratio_linear_in_beta<GeometricPath<B, T, M>> = true;

/// CESS / N = (Σ W_i w_i)² / Σ W_i w_i² for normalized W (Zhou et al. 2016, eq. 3.2),
/// computed with w_i / max w.
inline double cess_fraction(std::span<const double> log_W, std::span<const double> inc) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : inc) m = std::max(m, v);
  double s1 = 0, s2 = 0;
  for (std::size_t i = 0; i < inc.size(); ++i) {
    const double a = std::exp(inc[i] - m), W = std::exp(log_W[i]);
    s1 += W * a;
    s2 += W * a * a;
  }
  return s1 * s1 / s2;
}

struct SmcRun {
  double log_z_ratio = 0;  ///< log Ẑ_run − log Z_0
  std::vector<double> betas;
  std::vector<StepDiagnostics> steps;  ///< when asked for
};

inline void check_smc_config(const SmcConfig& c, const char* who) {
  check_arg(c.particles >= 1, "{}: particles must be >= 1, got {}", who, c.particles);
  check_arg(c.runs >= 1, "{}: runs must be >= 1, got {}", who, c.runs);
  check_arg(c.ess_threshold >= 0 && c.ess_threshold <= 1, "{}: ess_threshold must be in [0, 1], got {}", who,
            c.ess_threshold);
  if (!c.schedule) {
    check_arg(c.cess_target > 0 && c.cess_target < 1, "{}: cess_target must be in (0, 1), got {}", who, c.cess_target);
    check_arg(c.max_steps >= 1, "{}: max_steps must be >= 1, got {}", who, c.max_steps);
  }
  check_arg(c.max_moves_factor >= 1, "{}: max_moves_factor must be >= 1, got {}", who, c.max_moves_factor);
  check_arg(c.waste_free != 1, "{}: waste_free must be 0 (off) or a chain length >= 2, got 1", who);
  check_arg(c.waste_free == 0 || c.particles % c.waste_free == 0,
            "{}: waste_free = {} must divide particles = {} (M = particles / waste_free chains)", who, c.waste_free,
            c.particles);
  check_arg(c.waste_free == 0 || !c.adaptive_moves,
            "{}: adaptive_moves and waste_free cannot be combined (a waste-free chain has its length)", who);
}

/// Distinct values among `ancestors` (indices below ancestors.size()).
inline std::size_t count_distinct(std::span<const std::size_t> ancestors, std::vector<char>& seen) {
  seen.assign(ancestors.size(), 0);
  std::size_t distinct = 0;
  for (std::size_t a : ancestors) {
    distinct += seen[a] == 0;
    seen[a] = 1;
  }
  return distinct;
}

/// Weighted correlation between a and b with normalized weights W; NaN when a or b is constant.
inline double weighted_correlation(std::span<const double> W, std::span<const double> a, std::span<const double> b) {
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < W.size(); ++i) ma += W[i] * a[i], mb += W[i] * b[i];
  double saa = 0, sbb = 0, sab = 0;
  for (std::size_t i = 0; i < W.size(); ++i) {
    const double da = a[i] - ma, db = b[i] - mb;
    saa += W[i] * da * da, sbb += W[i] * db * db, sab += W[i] * da * db;
  }
  if (!(saa > 0) || !(sbb > 0)) return std::numeric_limits<double>::quiet_NaN();
  return sab / std::sqrt(saa * sbb);
}

/// A run's population in fixed blocks (see the file comment). Under mpirun with `spread`
/// this rank holds and moves only its own range of the blocks (the others' rows are left
/// empty here); every per-particle number it returns is whole on every rank.
template <AnnealingPath P>
class BlockedPopulation {
 public:
  using Particles = typename P::Particles;
  using Scalar = typename Particles::Scalar;

  /// Blocks of n particles whose size is a multiple of `align` (which divides n).
  BlockedPopulation(const P& path, std::size_t n, std::size_t align, bool spread)
      : path_(path), blocks_{n, n}, spread_(spread) {
    if constexpr (BlockwisePath<P>) {
      const std::size_t b = std::max<std::size_t>(path.particle_block(n), 1);
      blocks_.block = std::min(n, (b + align - 1) / align * align);
    }
    const std::size_t B = blocks_.count();
    mine_ = ranks::owned_if(spread, B);
    x_.resize(B);
    if constexpr (BlockwisePath<P>) {
      local_.reserve(mine_.size());
      for (std::size_t i = 0; i < mine_.size(); ++i) local_.push_back(path);
    }
  }

  const Blocks& blocks() const { return blocks_; }
  const ranks::Range& mine() const { return mine_; }
  std::size_t size() const { return blocks_.n; }
  /// Block b's particles (b owned by this rank).
  Particles& block(std::size_t b) { return x_[b]; }

  /// f(b, path, ex) for every block b of this rank, one task a block.
  template <class F>
  void for_blocks(const Exec& ex, F&& f) {
    if (mine_.size() == 1) return f(mine_.begin, path_at(0), ex);
    parallel_for(ex, mine_.size(), [&](std::size_t i) { f(mine_.begin + i, path_at(i), Exec(1)); });
  }

  /// Row r ~ p_0 from streams[r]; under mpirun the streams are then shared (a waste-free
  /// chain moves on the stream of a row that another rank drew).
  void draw_base(const Exec& ex, std::span<Stream> streams) {
    for_blocks(ex, [&](std::size_t b, const P& p, const Exec& e) {
      p.draw_base(e, x_[b], streams.subspan(blocks_.begin(b), blocks_.size(b)));
    });
    if (spread_) ranks::share(streams.data(), ranks::block_bounds(blocks_, sizeof(Stream)));
  }
  /// out[r] = log f_{b1}(x_r) − log f_{b0}(x_r) for every particle, on every rank.
  void log_ratio(const Exec& ex, double b0, double b1, std::span<double> out) {
    for_blocks(ex, [&](std::size_t b, const P& p, const Exec& e) {
      p.log_ratio(e, x_[b], b0, b1, out.subspan(blocks_.begin(b), blocks_.size(b)));
    });
    share_per_particle(out);
  }
  /// out[r] = ∂/∂β log f_β(x_r) for every particle, on every rank.
  void dlog_f(const Exec& ex, double beta, std::span<double> out) {
    for_blocks(ex, [&](std::size_t b, const P& p, const Exec& e) {
      p.dlog_f(e, x_[b], beta, out.subspan(blocks_.begin(b), blocks_.size(b)));
    });
    share_per_particle(out);
  }
  /// One move of every particle at β; the population's MoveInfo, the same on every rank.
  MoveInfo move(const Exec& ex, double beta, std::span<Stream> streams) {
    std::vector<MoveInfo> parts(blocks_.count());
    for_blocks(ex, [&](std::size_t b, const P& p, const Exec& e) {
      parts[b] = p.move(e, x_[b], beta, streams.subspan(blocks_.begin(b), blocks_.size(b)));
    });
    return merge(parts, 1);
  }
  /// The MoveInfo of step s of each block's `per_block` steps ([block][step]), shared
  /// between the ranks on the first call (s = 0).
  MoveInfo merge(std::vector<MoveInfo>& parts, std::size_t per_block, std::size_t s = 0) const {
    static_assert(std::is_trivially_copyable_v<MoveInfo>);
    if (spread_ && s == 0) ranks::share(parts.data(), ranks::block_bounds(blocks_, 0, per_block * sizeof(MoveInfo)));
    const std::size_t B = blocks_.count();
    if (B == 1) return parts[s];
    std::vector<MoveInfo> step(B);
    std::vector<std::size_t> sizes(B);
    for (std::size_t b = 0; b < B; ++b) step[b] = parts[b * per_block + s], sizes[b] = blocks_.size(b);
    return merge_moves(step, sizes);
  }
  /// One number a particle, filled on its block's rank, made whole on every rank.
  template <class T>
  void share_per_particle(std::span<T> v) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (spread_) ranks::share(v.data(), ranks::block_bounds(blocks_, sizeof(T)));
  }
  /// One number a block, filled on its rank, made whole on every rank.
  template <class T>
  void share_per_block(std::span<T> v) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (spread_) ranks::share(v.data(), ranks::block_bounds(blocks_, 0, sizeof(T)));
  }
  /// Every particle, in order, on every rank (before a resampling reads any row).
  const Particles& whole() {
    const auto cols = Eigen::Index(path_.dimension());
    whole_.resize(Eigen::Index(blocks_.n), cols);
    for (std::size_t b = mine_.begin; b < mine_.end; ++b)
      whole_.middleRows(Eigen::Index(blocks_.begin(b)), Eigen::Index(blocks_.size(b))) = x_[b];
    if (spread_) ranks::share(whole_.data(), ranks::block_bounds(blocks_, std::size_t(cols) * sizeof(Scalar)));
    return whole_;
  }

 private:
  const P& path_at(std::size_t i) const {
    if constexpr (BlockwisePath<P>) return local_[i];
    return path_;
  }

  const P& path_;
  Blocks blocks_;
  bool spread_;
  ranks::Range mine_;
  std::vector<P> local_;        // each owned block's own copy of a BlockwisePath
  std::vector<Particles> x_;    // [block]: filled for this rank's blocks
  Particles whole_;
};

/// The moves of one step with the adaptive rule of the file comment; returns the mean
/// acceptance over the moves made.
template <AnnealingPath P>
double adaptive_moves(BlockedPopulation<P>& x, const Exec& ex, double beta, std::span<Stream> streams,
                      std::span<const double> W, const SmcConfig& c) {
  const std::size_t n = x.size();
  const Blocks& blocks = x.blocks();
  std::vector<typename P::Particles> start(blocks.count());
  for (std::size_t b = x.mine().begin; b < x.mine().end; ++b) start[b] = x.block(b);
  std::vector<double> g0(n), g(n);
  x.dlog_f(ex, beta, g0);
  std::vector<std::uint64_t> changed_in(blocks.count());
  const std::size_t base_moves = std::max<std::size_t>(c.moves, 1), cap = c.max_moves_factor * base_moves;
  double acc = 0;
  std::size_t done = 0;
  for (;;) {
    acc += x.move(ex, beta, streams).acceptance;
    ++done;
    if (done < base_moves) continue;
    if (done >= cap) break;
    for (std::size_t b = x.mine().begin; b < x.mine().end; ++b) {
      changed_in[b] = 0;
      for (Eigen::Index i = 0; i < start[b].rows(); ++i) changed_in[b] += x.block(b).row(i) != start[b].row(i);
    }
    x.share_per_block(std::span<std::uint64_t>(changed_in));
    std::uint64_t changed = 0;
    for (std::uint64_t v : changed_in) changed += v;
    if (double(changed) < 0.9 * double(n)) continue;
    x.dlog_f(ex, beta, g);
    const double r = weighted_correlation(W, g0, g);
    if (!(r > 0.1)) break;  // NaN: the start was the same for every particle, or nothing to correlate
  }
  return acc / double(done);
}

/// The smallest β in (beta, 1] found by bisection with CESS(β) / N >= target, stopping
/// when CESS / N is within 1% of (1 − target) above the target or the bracket is below
/// 1e-12 wide (then the upper end, so that β always advances); 1 when CESS(1) reaches it.
template <AnnealingPath P>
double next_beta(BlockedPopulation<P>& x, const Exec& ex, double beta, std::span<const double> log_W, double target,
                 std::vector<double>& slope, std::vector<double>& inc) {
  auto cess_at = [&](double b) {
    if constexpr (log_ratio_linear_in_beta<P>) {
      for (std::size_t i = 0; i < inc.size(); ++i) inc[i] = slope[i] * (b - beta);
    } else {
      x.log_ratio(ex, beta, b, inc);
    }
    return cess_fraction(log_W, inc);
  };
  if constexpr (log_ratio_linear_in_beta<P>) x.dlog_f(ex, beta, slope);
  if (cess_at(1.0) >= target) return 1.0;
  const double tol = 0.01 * (1 - target);
  double lo = beta, hi = 1.0;
  while (hi - lo > 1e-12) {
    const double mid = 0.5 * (lo + hi), f = cess_at(mid);
    if (f >= target) {
      lo = mid;
      if (f - target <= tol) break;
    } else {
      hi = mid;
    }
  }
  return lo > beta ? lo : hi;
}

/// One SMC run (run index `run` of config.seed); the per-β table only when `want_steps`.
/// With `spread`, every rank takes part, each with its own blocks of the particles.
template <AnnealingPath P>
SmcRun smc_run(const P& path, const SmcConfig& c, std::size_t run, const Exec& ex, bool want_steps,
               ProgressTicker& ticker, bool spread = false) {
  const std::size_t n = c.particles;
  const Stream root = Stream::root(c.seed);
  std::vector<Stream> streams = root.derive(smc_stream, run).children(smc_stream, n);
  Stream resample_rng = root.derive(resample_stream, run);
  const std::size_t chain_length = c.waste_free, chains = chain_length ? n / chain_length : 0;
  BlockedPopulation<P> x(path, n, std::max<std::size_t>(chain_length, 1), spread);
  const Blocks& blocks = x.blocks();
  x.draw_base(ex, streams);
  const double log_n = std::log(double(n));
  std::vector<double> log_W(n, -log_n), inc(n), slope(n), W(n);
  std::vector<std::size_t> ancestors(n);
  // Each particle's time-0 ancestor (particle degeneracy); waste-free: M = n / P chains.
  std::vector<std::size_t> origin(n), moved_origin(n);
  for (std::size_t i = 0; i < n; ++i) origin[i] = i;
  std::vector<char> seen;
  std::vector<MoveInfo> chain_moves;  // waste-free: [block][move]
  SmcRun out;
  out.betas.push_back(0.0);
  double beta = 0;
  for (std::size_t k = 1; beta < 1.0; ++k) {
    double next;
    if (c.schedule) {
      next = c.schedule->betas()[k];
    } else {
      check_data(k <= c.max_steps,
                 "smc: adaptive tempering needs more than max_steps = {} steps (run {}, beta = {}); lower cess_target "
                 "or raise max_steps",
                 c.max_steps, run, beta);
      next = next_beta(x, ex, beta, log_W, c.cess_target, slope, inc);
    }
    // 1. Reweight; the increment log Σ W_i w_i.
    x.log_ratio(ex, beta, next, inc);
    LogSumExp lse;
    for (std::size_t i = 0; i < n; ++i) lse.add(log_W[i] + inc[i]);
    const double log_inc = lse.value();
    check_data(std::isfinite(log_inc),
               "smc: run {}: the weight increment from beta = {} to {} is {} (no particle has a finite positive weight)",
               run, beta, next, log_inc);
    out.log_z_ratio += log_inc;
    double sum_w = 0, sum_w2 = 0;
    MeanVar log_w_spread;
    for (std::size_t i = 0; i < n; ++i) {
      log_W[i] += inc[i] - log_inc;
      W[i] = std::exp(log_W[i]);
      sum_w += W[i];
      sum_w2 += W[i] * W[i];
      log_w_spread.add(log_W[i]);
    }
    StepDiagnostics d;
    d.beta = next;
    d.ess = sum_w * sum_w / sum_w2;
    d.log_weight_variance = n > 1 ? log_w_spread.variance() : 0.0;
    if (chain_length) {
      // 2–3, waste-free: M ancestors, each the start of a chain of P states (not after the
      // last step). A block of P-aligned rows holds whole chains: chain m's states are rows
      // m·P .. m·P + P − 1, and chain m moves on stream m.
      d.resampled = next < 1.0;
      if (d.resampled) {
        for (double& w : W) w /= sum_w;
        ancestors.resize(chains);
        resample(c.resampling, W, resample_rng, ancestors);
        const typename P::Particles& all = x.whole();
        chain_moves.assign(blocks.count() * (chain_length - 1) * c.moves, MoveInfo{});
        x.for_blocks(ex, [&](std::size_t b, const P& p, const Exec& e) {
          const std::size_t m0 = blocks.begin(b) / chain_length, mb = blocks.size(b) / chain_length;
          typename P::Particles states(Eigen::Index(mb), all.cols());
          for (std::size_t m = 0; m < mb; ++m) states.row(Eigen::Index(m)) = all.row(Eigen::Index(ancestors[m0 + m]));
          const std::span<Stream> chain_streams(streams.data() + m0, mb);
          MoveInfo* info = chain_moves.data() + b * (chain_length - 1) * c.moves;
          typename P::Particles& xb = x.block(b);
          for (std::size_t q = 0; q < chain_length; ++q) {
            if (q > 0)
              for (std::size_t m = 0; m < c.moves; ++m) *info++ = p.move(e, states, next, chain_streams);
            for (std::size_t m = 0; m < mb; ++m) xb.row(Eigen::Index(m * chain_length + q)) = states.row(Eigen::Index(m));
          }
        });
        const std::size_t moves_done = (chain_length - 1) * c.moves;
        double acc = 0;
        for (std::size_t s = 0; s < moves_done; ++s) acc += x.merge(chain_moves, moves_done, s).acceptance;
        if (moves_done > 0) d.acceptance = acc / double(moves_done);
        for (std::size_t i = 0; i < n; ++i) moved_origin[i] = origin[ancestors[i / chain_length]];
        std::swap(origin, moved_origin);
        std::fill(log_W.begin(), log_W.end(), -log_n);
      }
      d.unique_ancestors = double(count_distinct(origin, seen));
      beta = next;
      out.betas.push_back(next);
      if (want_steps) out.steps.push_back(d);
      if (c.schedule) ticker.add(1);
      continue;
    }
    // 2. Resample: rows are overwritten by their ancestors' rows; streams stay with rows.
    d.resampled = c.ess_threshold >= 1 || d.ess < c.ess_threshold * double(n);
    if (d.resampled) {
      for (double& w : W) w /= sum_w;
      resample(c.resampling, W, resample_rng, ancestors);
      const typename P::Particles& all = x.whole();
      for (std::size_t b = x.mine().begin; b < x.mine().end; ++b)
        for (std::size_t i = blocks.begin(b); i < blocks.end(b); ++i)
          x.block(b).row(Eigen::Index(i - blocks.begin(b))) = all.row(Eigen::Index(ancestors[i]));
      std::fill(log_W.begin(), log_W.end(), -log_n);
      for (std::size_t i = 0; i < n; ++i) moved_origin[i] = origin[ancestors[i]];
      std::swap(origin, moved_origin);
    }
    d.unique_ancestors = double(count_distinct(origin, seen));
    // 3. Move at the new β (not after the last step).
    if (next < 1.0 && c.adaptive_moves) {
      if (!d.resampled)
        for (std::size_t i = 0; i < n; ++i) W[i] /= sum_w;
      else
        std::fill(W.begin(), W.end(), 1.0 / double(n));
      d.acceptance = adaptive_moves(x, ex, next, streams, W, c);
    } else if (next < 1.0 && c.moves > 0) {
      double acc = 0;
      for (std::size_t m = 0; m < c.moves; ++m) acc += x.move(ex, next, streams).acceptance;
      d.acceptance = acc / double(c.moves);
    }
    beta = next;
    out.betas.push_back(next);
    if (want_steps) out.steps.push_back(d);
    if (c.schedule) ticker.add(1);
  }
  if (!c.schedule) ticker.add(1);
  return out;
}

}  // namespace detail

/// SMC estimate of log Z over `path` (method "smc"): config.runs independent runs of
/// config.particles particles, each on config.schedule or, when that is empty, on
/// adaptively chosen betas. log_weights holds each run's log Ẑ_run − log Z_0, ess is
/// Kish's ESS of the runs' Ẑ_run (how many runs carry the average), num_samples = runs,
/// and steps is the per-β table of run 0 (ESS before resampling, acceptance, variance
/// of the log-weights, resampled, distinct time-0 ancestors after the step). Throws Error(Exit::usage) for a bad config and
/// Error(Exit::data) when every weight vanishes or adaptive tempering exceeds max_steps.
template <AnnealingPath P>
LogZEstimate smc(const P& path, const SmcConfig& config, const Exec& ex, Observer& obs = silent_observer()) {
  detail::check_smc_config(config, "smc");
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t per_run = config.schedule ? config.schedule->steps() : 1;
  // Under mpirun each rank makes its own range of the runs (each run's bits do not
  // depend on where it runs), and the runs' log Ẑ and run 0's table are then shared;
  // with fewer runs than ranks, every rank takes part in every run with its own blocks of
  // the particles.
  const bool spread = ranks::spreading(), by_particles = spread && config.runs < std::size_t(ranks::size());
  const ranks::Range mine = ranks::owned_if(spread && !by_particles, config.runs);
  ProgressTicker ticker(obs, "SMC", mine.size() * per_run);
  std::vector<double> log_w(config.runs);
  std::vector<StepDiagnostics> steps;
  for (std::size_t r = mine.begin; r < mine.end; ++r) {
    detail::SmcRun run = detail::smc_run(path, config, r, ex, r == 0, ticker, by_particles);
    log_w[r] = run.log_z_ratio;
    if (r == 0) steps = std::move(run.steps);
  }
  if (spread && !by_particles) {
    ranks::share(log_w.data(), ranks::item_bounds(config.runs, sizeof(double)));
    ranks::broadcast(steps, ranks::owner(0, config.runs));
  }
  ticker.finish();
  const WeightSummary ws = summarize_log_weights(log_w);
  LogZEstimate e;
  e.method = "smc";
  e.log_z_base = path.log_z_base();
  e.log_z = e.log_z_base + ws.log_mean;
  e.std_error = ws.std_error;
  e.error_method = config.runs > 1
                       ? fmt::format("delta method over {} independent runs: sd(Z_run) / (sqrt(runs) mean(Z_run)), "
                                     "{} degrees of freedom",
                                     config.runs, config.runs - 1)
                       : std::string("none: a single run gives no error estimate (runs = 1)");
  e.ess = ws.ess;
  if (config.runs > 1) e.dof = double(config.runs - 1);
  e.num_samples = config.runs;
  e.log_weights = std::move(log_w);
  e.steps = std::move(steps);
  e.seconds = seconds_since(t0);
  return e;
}

/// The betas an adaptive SMC run chose: run 0 of `config` (config.schedule must be
/// empty; runs is ignored), as a Schedule for AIS or fixed-schedule SMC.
template <AnnealingPath P>
Schedule adaptive_schedule(const P& path, const SmcConfig& config, const Exec& ex) {
  detail::check_smc_config(config, "adaptive_schedule");
  check_arg(!config.schedule, "adaptive_schedule: the config has a fixed schedule");
  ProgressTicker ticker(silent_observer(), "SMC", 1);
  return Schedule(detail::smc_run(path, config, 0, ex, false, ticker).betas);
}

/// The same with `particles`, `cess_target` and `seed` and the other settings at their
/// defaults (systematic resampling below ESS = N/2, one move per β).
template <AnnealingPath P>
Schedule adaptive_schedule(const P& path, std::size_t particles, double cess_target, std::uint64_t seed,
                           const Exec& ex) {
  SmcConfig c;
  c.particles = particles;
  c.cess_target = cess_target;
  c.seed = seed;
  return adaptive_schedule(path, c, ex);
}

// ---------------------------------------------------------------- registry entry (estimators/method.hpp)

struct SmcMethod : MethodDefaults {
  static constexpr std::string_view name = "smc";
  static constexpr std::size_t default_betas = 1000;  // runs x particles x betas: 10,000 would be 20x the moves of AIS
  static constexpr std::string_view summary =
      "sequential Monte Carlo (Del Moral et al. 2006): chains particles, resampled when\n"
      "ESS < ess_threshold x N; schedule adaptive picks each beta at conditional ESS cess;\n"
      "the error bar is the spread of runs runs";
  static constexpr bool unbiased_z = true;
  static constexpr std::string_view budget = "runs";  // replicates share the runs
  static constexpr bool self_replicated = true;       // its error bar is the spread of runs
  static std::vector<Purpose> streams() { return {smc_stream, resample_stream}; }
  static std::vector<OptionField> options() {
    return {OptionField::count("runs", 20, 1, "smc: independent runs (their spread is the error bar)"),
            OptionField::text("resampling", "systematic", {"multinomial", "systematic", "stratified", "residual"},
                              "smc: multinomial, systematic, stratified or residual"),
            OptionField::real("ess_threshold", 0.5, 0, false, 1, false,
                              "smc: resample when ESS < this x particles (0 never, 1 always)"),
            OptionField::real("cess", 0.95, 0, true, 1, true,
                              "smc and schedule adaptive: target conditional ESS / particles"),
            OptionField::text("moves", "fixed", {"fixed", "adaptive"},
                              "smc: fixed (sweeps per beta) or adaptive (more, up to 10x, until the particles "
                              "decorrelate; docs/smc.md)"),
            OptionField::count("waste_free", 0, 0,
                               "smc: waste-free SMC with chains of this length (>= 2, dividing chains; 0 off; "
                               "Dau & Chopin 2022)")};
  }
  /// The SmcConfig of a run: `schedule` null means adaptive tempering. Also the pilot run
  /// that turns schedule "adaptive" into fixed betas for the other methods.
  static SmcConfig config(std::size_t chains, std::uint64_t seed, const Settings& o, const Schedule* schedule) {
    SmcConfig s;
    s.particles = chains;
    s.runs = o.count("runs");
    s.resampling = resampling_by_name(o.text("resampling"));
    s.ess_threshold = o.real("ess_threshold");
    s.cess_target = o.real("cess");
    s.adaptive_moves = o.text("moves") == "adaptive";
    s.waste_free = o.count("waste_free");
    check_config(s.waste_free != 1, {"waste_free"}, "smc: @0 must be 0 (off) or a chain length >= 2, got 1");
    check_config(s.waste_free == 0 || chains % s.waste_free == 0, {"waste_free", "chains"},
                 "smc: @0 = {} must divide @1 = {} (@1 / @0 chains of @0 states each)", s.waste_free, chains);
    check_config(s.waste_free == 0 || !s.adaptive_moves, {"moves", "waste_free"},
                 "smc: @0 adaptive and @1 cannot be combined (a waste-free chain has its own length)");
    if (schedule) s.schedule = *schedule;
    s.seed = seed;
    return s;
  }
  template <AnnealingPath P>
  static LogZEstimate run(const P& path, const MethodRun<P>& r, const Exec& ex, Observer& obs) {
    return smc(path, config(r.chains, r.seed, r.options, r.schedule), ex, obs);
  }
};

}  // namespace logz
