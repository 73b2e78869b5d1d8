#pragma once
/// @file parallel_tempering.hpp
/// Parallel tempering (replica exchange: Swendsen & Wang 1986; Geyer 1991; Hukushima &
/// Nemoto 1996) over any kernel whose Params has `beta` (docs/samplers.md). Replica k
/// samples p_k(x) ∝ exp(-β_k E(x)) on an increasing ladder β_0 < β_1 < ... < β_{K-1}
/// (usually β_{K-1} = 1, the target). One step:
///  1. every replica advances one step of the kernel at its β, replicas in parallel, each
///     with its own stream derived from the step's stream (so the result does not depend
///     on the thread count);
///  2. swaps are proposed between adjacent pairs (k, k+1), the even pairs (k = 0, 2, ...)
///     on one step and the odd pairs on the next (deterministic even-odd alternation,
///     Lingenheil et al. 2009), each accepted with probability
///       min(1, exp((β_{k+1} - β_k)(E(x_{k+1}) - E(x_k)))),
///     with E = model.energy_of. A non-finite exponent is a rejection, counted in Info.
/// Every move and every swap leaves Π_k p_k invariant, so replica K-1 samples the target.
/// The state also carries replica labels, to count round trips: a label that went from
/// the lowest β to the highest and back to the lowest (a measure of how well the ladder
/// mixes; Katzgraber et al. 2006).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {

template <class Kernel>
class ParallelTempering {
 public:
  using KernelParams = typename Kernel::Params;
  using ReplicaState = typename Kernel::State;

  struct State {
    std::vector<ReplicaState> replicas;  ///< replicas[k] is at betas()[k]
    std::vector<std::size_t> labels;     ///< labels[k]: the label of the replica at betas()[k]
    /// Per label: 0 = has not visited the lowest β yet, 1 = last end visited was the lowest
    /// β, 2 = visited the highest β after the lowest (a round trip ends at the next lowest).
    std::vector<std::uint8_t> heading;
    std::size_t steps = 0;                 ///< steps done; its parity picks the swap pairs (even first)
    std::vector<std::size_t> attempts;     ///< per pair (k, k+1): swaps proposed, over all steps
    std::vector<std::size_t> accepted;     ///< per pair: swaps accepted, over all steps
    std::size_t round_trips = 0;           ///< round trips completed, over all steps
  };
  struct Info {
    std::vector<typename Kernel::Info> moves;  ///< the kernel's Info of each replica's move
    std::vector<std::size_t> attempts;         ///< per pair (k, k+1): 1 if proposed this step
    std::vector<std::size_t> accepted;         ///< per pair: 1 if accepted this step
    std::size_t non_finite = 0;                ///< swaps rejected because the exponent was not finite
    std::size_t round_trips = 0;               ///< round trips completed this step
  };

  static constexpr const char* name() { return "ParallelTempering"; }

  /// A ladder of betas (at least 2, finite, >= 0, strictly increasing) and the kernel's
  /// other Params (its `beta` is replaced by each rung's). Throws Error(Exit::usage).
  explicit ParallelTempering(std::vector<double> betas, KernelParams base = {}) : betas_(std::move(betas)) {
    check_arg(betas_.size() >= 2, "ParallelTempering: needs at least 2 betas, got {}", betas_.size());
    for (std::size_t k = 0; k < betas_.size(); ++k)
      check_arg(std::isfinite(betas_[k]) && betas_[k] >= 0, "ParallelTempering: beta[{}] must be finite and >= 0 (got {})",
                k, betas_[k]);
    for (std::size_t k = 1; k < betas_.size(); ++k)
      check_arg(betas_[k] > betas_[k - 1], "ParallelTempering: betas must increase strictly; beta[{}] = {} follows beta[{}] = {}",
                k, betas_[k], k - 1, betas_[k - 1]);
    kernels_.reserve(betas_.size());
    for (double b : betas_) {
      KernelParams p = base;
      p.beta = b;
      kernels_.emplace_back(p);
    }
  }
  /// The ladder of a Schedule (0 = β_0 < ... < β_K = 1).
  explicit ParallelTempering(const Schedule& schedule, KernelParams base = {})
      : ParallelTempering(schedule.betas(), base) {}

  const std::vector<double>& betas() const { return betas_; }
  std::size_t num_replicas() const { return betas_.size(); }
  const Kernel& kernel(std::size_t k) const { return kernels_[k]; }

  /// Every replica starts at `x`; label k at rung k.
  State start(const ReplicaState& x) const { return start(std::vector<ReplicaState>(betas_.size(), x)); }
  /// Replica k starts at replicas[k]. Throws Error(Exit::usage) on a wrong count.
  State start(std::vector<ReplicaState> replicas) const {
    check_arg(replicas.size() == betas_.size(), "ParallelTempering: got {} replica states for {} betas",
              replicas.size(), betas_.size());
    State s;
    s.replicas = std::move(replicas);
    const std::size_t n = betas_.size();
    s.labels.resize(n);
    for (std::size_t k = 0; k < n; ++k) s.labels[k] = k;
    s.heading.assign(n, 0);
    s.heading[0] = 1;
    s.attempts.assign(n - 1, 0);
    s.accepted.assign(n - 1, 0);
    return s;
  }

  /// Probability of accepting the swap of pair (k, k+1) whose replicas have energies
  /// e_k (at β_k) and e_k1 (at β_{k+1}): min(1, exp((β_{k+1} − β_k)(e_k1 − e_k))); 0 when
  /// the exponent is not finite.
  double swap_probability(std::size_t k, double e_k, double e_k1) const {
    const double a = swap_exponent(k, e_k, e_k1);
    if (!std::isfinite(a)) return 0.0;
    return a >= 0 ? 1.0 : std::exp(a);
  }

  /// One step with replicas spread over ex.threads() threads. The step draws 64 bits w from
  /// `rng`; replica k moves with the stream rng.derive(Purpose::gibbs, w).derive(
  /// Purpose::gibbs, k); then one uniform per proposed pair, in pair order, from `rng`.
  /// Throws Error(Exit::usage) if the state does not belong to this ladder, and whatever
  /// the kernel or the model throws on a bad replica state.
  template <class Model>
  Info step(const Model& m, State& s, Stream& rng, const Exec& ex) const {
    const std::size_t n = betas_.size();
    check_arg(s.replicas.size() == n && s.labels.size() == n && s.heading.size() == n && s.attempts.size() == n - 1 &&
                  s.accepted.size() == n - 1,
              "ParallelTempering: the state has {} replicas but the ladder has {} betas (use start())",
              s.replicas.size(), n);
    Info info;
    info.moves.resize(n);
    info.attempts.assign(n - 1, 0);
    info.accepted.assign(n - 1, 0);
    const std::uint64_t w = (std::uint64_t(rng.next_u32()) << 32) | rng.next_u32();
    const Stream step_stream = rng.derive(Purpose::gibbs, w);
    std::vector<double> energy(n);
    parallel_for(ex, n, [&](std::size_t k) {
      Stream r = step_stream.derive(Purpose::gibbs, k);
      info.moves[k] = kernels_[k].step(m, s.replicas[k], r);
      energy[k] = double(m.energy_of(s.replicas[k]));
    });
    for (std::size_t k = s.steps % 2; k + 1 < n; k += 2) {
      const double u = rng.uniform_double();  // drawn always: one uniform per proposed pair
      ++info.attempts[k];
      const double a = swap_exponent(k, energy[k], energy[k + 1]);
      if (!std::isfinite(a)) {
        ++info.non_finite;
        continue;
      }
      if (a >= 0 || u < std::exp(a)) {
        std::swap(s.replicas[k], s.replicas[k + 1]);
        std::swap(s.labels[k], s.labels[k + 1]);
        ++info.accepted[k];
      }
    }
    // Round trips: lowest β -> highest β -> lowest β, per label.
    const std::size_t bottom = s.labels[0], top = s.labels[n - 1];
    if (s.heading[bottom] == 2) ++info.round_trips;
    s.heading[bottom] = 1;
    if (s.heading[top] == 1) s.heading[top] = 2;
    for (std::size_t k = 0; k + 1 < n; ++k) s.attempts[k] += info.attempts[k], s.accepted[k] += info.accepted[k];
    s.round_trips += info.round_trips;
    ++s.steps;
    return info;
  }
  /// One step on the calling thread (the kernel contract step(model, state, rng)).
  template <class Model>
  Info step(const Model& m, State& s, Stream& rng) const {
    return step(m, s, rng, Exec(1));
  }

 private:
  /// log of the swap's Metropolis ratio: (β_{k+1} − β_k)(e_k1 − e_k).
  double swap_exponent(std::size_t k, double e_k, double e_k1) const { return (betas_[k + 1] - betas_[k]) * (e_k1 - e_k); }

  std::vector<double> betas_;
  std::vector<Kernel> kernels_;
};

}  // namespace logz
