#pragma once
/// @file path.hpp
/// Annealing paths: a family of unnormalised densities f_β, β ∈ [0, 1], from a base
/// p_0 = f_0 / Z_0 with exact draws and exact log Z_0 to the target f_1 (Neal 2001,
/// "Annealed importance sampling", Statistics and Computing 11; Gelman & Meng 1998,
/// "Simulating normalizing constants", Statistical Science 13). Every log Z estimator
/// (importance sampling, AIS, RAISE, SMC, bridge sampling, linked IS, thermodynamic
/// integration) is written once against the AnnealingPath concept, and every model kind
/// supplies a path:
///  - GeometricPath: f_β = f_0^{1−β} f_1^β, i.e. log f_β(x) = −(1−β) E_0(x) − β E_1(x),
///    for any base (ExactlySampleable) and target (EnergyModel), with a `Move` that leaves
///    p_β invariant: a kernel at inverse temperature β on the target when the base is
///    uniform (UniformStates: discrete models), or a kernel on TemperedEnergy (continuous
///    models with a Gaussian base, whose normaliser enters through log Z_0);
///  - the RBM weight-annealing path (tempering/rbm_annealing_path.hpp), batched.
///
/// A path works on a population of particles, one per row of a row-major matrix, each
/// with its own Stream; particle r draws only from streams[r], in sequence, so results do
/// not depend on the thread count. Streams stay with their rows when an estimator
/// resamples particles (copies of one particle then move on different streams).
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <numbers>
#include <span>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"

namespace logz {

/// What the moves of one step did, over all particles.
struct MoveInfo {
  /// Fraction of proposals accepted (Metropolis, MALA, HMC), or for Gibbs updates the
  /// fraction that changed the state; NaN when the path made no move.
  double acceptance = std::numeric_limits<double>::quiet_NaN();
  std::size_t non_finite = 0;  ///< proposals or conditionals rejected as not finite
  /// The counts behind `acceptance` where the path keeps them (0 proposed: it does not), so
  /// that the moves of separate blocks of particles combine exactly (merge_moves).
  double accepted = 0, proposed = 0;
};

/// The MoveInfo of a population from those of its blocks (`sizes`: particles per block):
/// the pooled counts where the path keeps them (integer sums: exact in any order), else the
/// particle-weighted mean of the blocks' acceptances; NaN when no block moved.
inline MoveInfo merge_moves(std::span<const MoveInfo> parts, std::span<const std::size_t> sizes) {
  MoveInfo all;
  double weighted = 0, weight = 0;
  for (std::size_t b = 0; b < parts.size(); ++b) {
    all.accepted += parts[b].accepted;
    all.proposed += parts[b].proposed;
    all.non_finite += parts[b].non_finite;
    if (!std::isnan(parts[b].acceptance)) weighted += parts[b].acceptance * double(sizes[b]), weight += double(sizes[b]);
  }
  if (all.proposed > 0)
    all.acceptance = all.accepted / all.proposed;
  else if (weight > 0)
    all.acceptance = weighted / weight;
  return all;
}

template <class P>
concept AnnealingPath = requires(const P& p, typename P::Particles& x, const typename P::Particles& cx,
                                 std::span<Stream> s, std::span<double> w, const Exec& ex, double b) {
  typename P::Particles;  // row-major Eigen matrix, one particle per row
  { p.log_z_base() } -> std::convertible_to<double>;
  { p.dimension() } -> std::convertible_to<std::size_t>;
  p.draw_base(ex, x, s);         // x resized to s.size() rows; row r ~ p_0 from s[r]
  p.log_ratio(ex, cx, b, b, w);  // w[r] = log f_{b1}(x_r) − log f_{b0}(x_r)
  p.dlog_f(ex, cx, b, w);        // w[r] = ∂/∂β log f_β(x_r) (thermodynamic integration)
  { p.move(ex, x, b, s) } -> std::same_as<MoveInfo>;  // x_r ← T_β(x_r, ·), p_β-invariant
};

/// A path whose particles never interact and whose working memory is its own, so that a
/// population can run as fixed blocks of particles, each block through many steps in one
/// parallel task on its own copy of the path: one parallel region per run instead of one
/// or more per step. On a busy machine that is what keeps two threads from being slower
/// than one (a step of a small model is shorter than the scheduler's time slice).
/// `particle_block(n)` is the block size for a population of n, fixed by the problem size
/// (0: run the population whole, step by step).
template <class P>
concept BlockwisePath = AnnealingPath<P> && std::copy_constructible<P> && requires(const P& p, std::size_t n) {
  { p.particle_block(n) } -> std::convertible_to<std::size_t>;
};

/// The usual block size of a BlockwisePath: about 16 blocks (enough for dynamic hand-out
/// to balance two threads within a few percent), at least 4 particles a block, and at
/// most 256, so that a large population has blocks for many ranks (core/ranks.hpp).
inline std::size_t default_particle_block(std::size_t n) {
  return std::clamp<std::size_t>((n + 15) / 16, 4, 256);
}

/// One annealing step: adds log f_{b1}(x_r) − log f_{b0}(x_r) to log_w[r] (when log_w is
/// not empty), then, if `move`, moves every particle with T_{b1}. Paths that can share
/// work between the two (the RBM path: one matrix product) provide `advance` themselves.
template <AnnealingPath P>
MoveInfo advance(const P& path, const Exec& ex, typename P::Particles& x, double b0, double b1, std::span<double> log_w,
                 std::span<Stream> streams, bool move) {
  if constexpr (requires { path.advance(ex, x, b0, b1, log_w, streams, move); }) {
    return path.advance(ex, x, b0, b1, log_w, streams, move);
  } else {
    if (!log_w.empty()) {
      std::vector<double> inc(log_w.size());
      path.log_ratio(ex, x, b0, b1, inc);
      for (std::size_t r = 0; r < inc.size(); ++r) log_w[r] += inc[r];
    }
    return move ? path.move(ex, x, b1, streams) : MoveInfo{};
  }
}

/// The uniform distribution on the q^n states of n discrete sites: E_0 = 0,
/// log Z_0 = n log q. The base for Ising and Potts models: state k of a site is stored as
/// first + k (Potts: 0..q-1; Ising: q = 2 and first = the down value, 2·k − 1 for ±1 spins
/// through `spacing`).
struct UniformStates {
  std::size_t sites = 0, states = 2;
  double first = 0, spacing = 1;

  std::size_t dimension() const { return sites; }
  double energy(const Eigen::Ref<const VectorD>&) const { return 0.0; }
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy(x); }
  double log_partition() const { return double(sites) * std::log(double(states)); }
  void sample(Stream& rng, Eigen::Ref<VectorD> x) const {
    for (std::size_t i = 0; i < sites; ++i) x[Eigen::Index(i)] = first + spacing * double(rng.below(states));
  }
};

/// The geometric mixture E_β = (1−β) E_0 + β E_1 of a base and a target energy, with its
/// gradient: the model a Langevin or HMC kernel samples at β on a continuous path.
template <DifferentiableEnergy Base, DifferentiableEnergy Target>
struct TemperedEnergy {
  const Base& base;
  const Target& target;
  double beta;

  std::size_t dimension() const { return target.dimension(); }
  double energy(const Eigen::Ref<const VectorD>& x) const {
    if (beta == 1.0) return target.energy_of(x);
    if (beta == 0.0) return base.energy_of(x);
    return (1 - beta) * base.energy_of(x) + beta * target.energy_of(x);
  }
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy(x); }
  double energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
    VectorD g0(grad.size());
    const double e0 = base.energy_and_gradient(x, g0);
    const double e1 = target.energy_and_gradient(x, grad);
    grad = beta * grad + (1 - beta) * g0;
    return (1 - beta) * e0 + beta * e1;
  }
};

/// MoveInfo from a kernel's Info: acceptance from whichever counters the Info has.
template <class Info>
void add_move_info(const Info& info, double& accepted, double& proposed, std::size_t& non_finite) {
  if constexpr (requires { info.changed; info.updates; }) {
    accepted += double(info.changed);
    proposed += double(info.updates);
  } else if constexpr (requires { info.accepted; info.proposals; }) {
    accepted += double(info.accepted);
    proposed += double(info.proposals);
  } else if constexpr (requires { info.accepted; }) {
    accepted += double(info.accepted);
    proposed += 1;
  }
  if constexpr (requires { info.non_finite; }) non_finite += std::size_t(info.non_finite);
}

/// f_β = f_0^{1−β} f_1^β between an exactly sampleable base and a target; `move(beta, x,
/// rng)` must return the kernel's Info after moving x with a kernel that leaves p_β
/// invariant. The path keeps references: base, target and move must outlive it.
template <ExactlySampleable Base, EnergyModel Target, class Move>
class GeometricPath {
 public:
  using Particles = MatrixD;

  GeometricPath(const Base& base, const Target& target, Move move) : base_(base), target_(target), move_(std::move(move)) {
    check_arg(std::size_t(base.dimension()) == std::size_t(target.dimension()),
              "GeometricPath: the base has dimension {} but the target has {}", base.dimension(), target.dimension());
  }

  double log_z_base() const { return base_.log_partition(); }
  std::size_t dimension() const { return target_.dimension(); }
  const Target& target() const { return target_; }
  const Base& base() const { return base_; }
  /// Particles move independently: estimators may run them in blocks (BlockwisePath).
  std::size_t particle_block(std::size_t n) const { return default_particle_block(n); }

  void draw_base(const Exec& ex, Particles& x, std::span<Stream> streams) const {
    x.resize(Eigen::Index(streams.size()), Eigen::Index(dimension()));
    for_each_particle(ex, x.rows(), [&](Eigen::Index r, VectorD& v) {
      base_.sample(streams[std::size_t(r)], v);
      x.row(r) = v.transpose();
    });
  }

  /// (b1 − b0)(E_0(x) − E_1(x)): the difference taken before scaling, so that close betas
  /// lose no precision.
  void log_ratio(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> out) const {
    dlog_f(ex, x, b0, out);
    for (double& v : out) v *= (b1 - b0);
  }
  /// ∂/∂β log f_β = E_0(x) − E_1(x), the same for every β.
  void dlog_f(const Exec& ex, const Particles& x, double, std::span<double> out) const {
    check_rows(x, out.size());
    for_each_particle(ex, x.rows(), [&](Eigen::Index r, VectorD& v) {
      v = x.row(r).transpose();
      out[std::size_t(r)] = base_.energy_of(v) - target_.energy_of(v);
    });
  }

  MoveInfo move(const Exec& ex, Particles& x, double beta, std::span<Stream> streams) const {
    check_rows(x, streams.size());
    struct Counts {
      double accepted = 0, proposed = 0;
      std::size_t non_finite = 0;
    };
    std::vector<Counts> counts(std::size_t(x.rows()));
    for_each_particle(ex, x.rows(), [&](Eigen::Index r, VectorD& v) {
      v = x.row(r).transpose();
      Counts& c = counts[std::size_t(r)];
      add_move_info(move_(beta, v, streams[std::size_t(r)]), c.accepted, c.proposed, c.non_finite);
      x.row(r) = v.transpose();
    });
    Counts all;
    for (const Counts& c : counts) {  // summed in row order: the same bits for any thread count
      all.accepted += c.accepted;
      all.proposed += c.proposed;
      all.non_finite += c.non_finite;
    }
    MoveInfo info;
    info.acceptance = all.proposed > 0 ? all.accepted / all.proposed : std::numeric_limits<double>::quiet_NaN();
    info.non_finite = all.non_finite;
    info.accepted = all.accepted;
    info.proposed = all.proposed;
    return info;
  }

 private:
  /// f(r, scratch) for every row, rows split into fixed blocks, one scratch vector per block.
  /// Populations of fewer than 2^15 particle-sites run on one thread: a parallel region
  /// per step costs more than such a step (the result is the same either way).
  template <class F>
  void for_each_particle(const Exec& ex, Eigen::Index n, F&& f) const {
    const Blocks blocks{std::size_t(n), 16};
    const bool small = std::size_t(n) * dimension() < (std::size_t(1) << 15);
    parallel_for(small ? Exec(1) : ex, blocks.count(), [&](std::size_t t) {
      VectorD v(static_cast<Eigen::Index>(dimension()));
      for (std::size_t r = blocks.begin(t); r < blocks.end(t); ++r) f(Eigen::Index(r), v);
    });
  }
  static void check_rows(const Particles& x, std::size_t n) {
    check_arg(std::size_t(x.rows()) == n, "GeometricPath: {} particles but {} entries to fill", x.rows(), n);
  }

  const Base& base_;
  const Target& target_;
  Move move_;
};

/// A move for a path from a uniform base, where p_β ∝ exp(−β E_1): `Kernel` (any kernel
/// whose Params has `beta`, e.g. PottsGibbs, SiteGibbs, SwendsenWang) at β on the target.
template <class Kernel, class Model>
struct TargetKernelMove {
  const Model& model;
  typename Kernel::Params params;  ///< everything but beta, which each move sets

  auto operator()(double beta, VectorD& x, Stream& rng) const {
    typename Kernel::Params p = params;
    p.beta = beta;
    return Kernel(p).step(model, x, rng);
  }
};

/// A move for a continuous geometric path: `repeats` steps of `Kernel` (at its own β = 1)
/// on the tempered energy (1−β) E_0 + β E_1, e.g. Hmc or Mala; their Infos' counters are
/// summed.
template <class Kernel, class Base, class Target>
struct TemperedKernelMove {
  const Base& base;
  const Target& target;
  typename Kernel::Params params;
  std::size_t repeats = 1;

  auto operator()(double beta, VectorD& x, Stream& rng) const {
    const Kernel kernel(params);
    const TemperedEnergy<Base, Target> model{base, target, beta};
    auto info = kernel.step(model, x, rng);
    for (std::size_t k = 1; k < repeats; ++k) {
      const auto more = kernel.step(model, x, rng);
      if constexpr (requires { info.proposals; info.accepted; info.non_finite; }) {
        info.proposals += more.proposals;
        info.accepted += more.accepted;
        info.non_finite += more.non_finite;
      }
    }
    return info;
  }
};

}  // namespace logz
