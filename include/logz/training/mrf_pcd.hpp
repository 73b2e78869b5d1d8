#pragma once
/// @file mrf_pcd.hpp
/// Persistent contrastive divergence for pairwise MRFs, one trainer for Ising and Potts
/// models (Boltzmann learning: Ackley, Hinton & Sejnowski 1985; stochastic
/// approximation: Younes 1989; persistent chains: Tieleman 2008; for protein families,
/// "bmDCA": Figliuzzi, Barrat-Charlaix & Weigt 2018). docs/ising-training.md,
/// docs/potts-pcd.md.
///
/// The gradient of an exponential family's negative mean log-likelihood is the model's
/// moments minus the data's (plus the penalty's gradient). The data's moments are
/// computed once; the model's are estimated from persistent chains (MrfChains: systematic
/// single-site Gibbs sweeps, or parallel-tempering ladders whose β = 1 replica gives the
/// moments); the parameters take one momentum SGD step per update (run_mrf_pcd). What
/// is particular to a model (the chains' first states, its moments and the gradient
/// from them) comes from its objective (objectives/ising_ml.hpp, objectives/potts_pcd.hpp):
/// - Ising: IsingPcd, fit_ising_pcd;
/// - Potts: PottsPcdChains, fit_potts_pcd (weighted sequences and absent sites).
///
/// Streams: update t advances chain c with Stream::derive(seed, Purpose::gibbs, t)
/// .derive(Purpose::gibbs, c); chain c starts from Stream::derive(seed, Purpose::chains, 0)
/// .derive(Purpose::chains, c). Chains are moved in blocks fixed by the problem size, so
/// the same seed gives the same bits for any thread count. Since every stream is a
/// function of (seed, update, chain), a checkpoint (PcdCheckpointing) holds no stream: the
/// parameters, the momentum, the running average, the trace and the chains' states are
/// the whole state, and a run resumed from one continues bit for bit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/ranks.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/kernels/potts_gibbs.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"
#include "logz/objectives/ising_ml.hpp"
#include "logz/objectives/potts_pcd.hpp"
#include "logz/tempering/parallel_tempering.hpp"
#include "logz/training/checkpoint.hpp"

namespace logz {

// ---- the trainer, for any model of discrete sites ----------------------------------

/// SGD with momentum for PCD: v ← momentum·v − lr_t·g, θ ← θ + v, with
/// lr_t = learning_rate / (1 + t / decay_updates) (no decay when decay_updates is 0).
/// The fitted model is the mean of the last `average_last` iterates (Polyak–Ruppert
/// averaging; 0 or 1: the last iterate).
struct PcdSgdParams {
  std::size_t updates = 1000;     ///< >= 1
  double learning_rate = 0.05;    ///< > 0
  double momentum = 0.9;          ///< in [0, 1)
  std::size_t decay_updates = 0;  ///< 0: constant rate
  std::size_t average_last = 0;   ///< <= updates
};
/// The name the Ising and Potts fits have always given their SGD settings.
using IsingSgdParams = PcdSgdParams;

/// Throws Error(Exit::usage) naming `who` and the first bad field.
void check_pcd_sgd(const char* who, const PcdSgdParams& sgd);

/// Checkpoints of a PCD fit (training/checkpoint.hpp; the file comment says what they
/// hold): after every `every` updates and after the last, `save` receives the state;
/// with `resume_from`, the run continues from a state saved by the same fit (the same
/// settings and data; more updates are allowed).
struct PcdCheckpointing {
  std::size_t every = 0;  ///< updates between checkpoints; 0: none
  std::function<void(const training::Checkpoint&)> save;
  const training::Checkpoint* resume_from = nullptr;
};

/// The persistent chains of a PCD fit of a pairwise model of discrete sites (M also has
/// n_edges(), for the work estimate of advance()): single chains moved by `sweeps`
/// systematic Gibbs sweeps, or as many parallel-tempering ladders over `betas` (the last
/// β is 1) moved by one ParallelTempering step with `sweeps` sweeps per replica.
template <SiteConditionals M>
class MrfChains {
 public:
  using Kernel = SiteGibbsKernel<M, Scan::systematic>;
  using Ladder = ParallelTempering<Kernel>;

  /// One chain per start (every replica of a ladder starts there). Throws
  /// Error(Exit::usage) naming `who` on no start, sweeps of 0, or a last β other than 1,
  /// and with ParallelTempering's messages on a bad ladder.
  MrfChains(const char* who, std::vector<VectorD> starts, std::size_t sweeps, std::vector<double> betas = {})
      : sweeps_(sweeps), states_(std::move(starts)) {
    check_arg(!states_.empty(), "{}: chains must be >= 1 (got 0)", who);
    check_arg(sweeps >= 1, "{}: sweeps must be >= 1 (got {})", who, sweeps);
    if (betas.empty()) return;
    ladder_.emplace(std::move(betas), typename Kernel::Params{sweeps, 1.0});
    check_arg(ladder_->betas().back() == 1.0, "{}: the last beta must be 1 (the model), got {}", who,
              ladder_->betas().back());
    ladders_.reserve(states_.size());
    for (const VectorD& x : states_) ladders_.push_back(ladder_->start(x));
  }

  std::size_t size() const { return states_.size(); }
  std::size_t sweeps() const { return sweeps_; }
  bool tempered() const { return ladder_.has_value(); }
  /// The β = 1 state of chain c.
  const VectorD& state(std::size_t c) const { return ladder_ ? ladders_[c].replicas.back() : states_[c]; }
  /// The β = 1 state of each chain, one per row.
  MatrixD states() const {
    MatrixD out(Eigen::Index(size()), states_[0].size());
    for (std::size_t c = 0; c < size(); ++c) out.row(Eigen::Index(c)) = state(c).transpose();
    return out;
  }

  /// Moves chain c with stream.derive(Purpose::gibbs, c), over blocks of chains worth
  /// about 2^16 conditional-energy terms (per site update, num_states() times the site
  /// and its neighbours), fixed by the problem size: a small model's update is one block
  /// on one thread, a dense q = 21 Potts model's is one chain per block.
  void advance(const M& model, const Stream& stream, const Exec& ex) {
    const std::size_t rungs = ladder_ ? ladder_->num_replicas() : 1;
    const std::size_t per_chain =
        std::max<std::size_t>(1, sweeps_ * rungs * model.num_states() * (model.dimension() + 2 * model.n_edges()));
    const Blocks blocks{size(), std::max<std::size_t>(1, (std::size_t(1) << 16) / per_chain)};
    const Kernel kernel({sweeps_, 1.0});
    // Under mpirun each rank moves its own range of the blocks, then every rank receives
    // every chain (a chain's moves depend on its stream alone: the same bits).
    const bool spread = ranks::spreading();
    const ranks::Range mine = ranks::owned_if(spread, blocks.count());
    parallel_for(ex, mine.size(), [&](std::size_t i) {
      for (std::size_t c = blocks.begin(mine.begin + i); c < blocks.end(mine.begin + i); ++c) {
        Stream rng = stream.derive(Purpose::gibbs, c);
        if (ladder_)
          ladder_->step(model, ladders_[c], rng);
        else
          kernel.step(model, states_[c], rng);
      }
    });
    if (spread) share_chains(blocks, mine);
  }

  /// Per adjacent pair of the ladder: swaps accepted / proposed over all chains and all
  /// steps so far (empty without tempering).
  std::vector<double> swap_acceptance() const {
    if (!ladder_) return {};
    const std::size_t pairs = ladder_->num_replicas() - 1;
    std::vector<double> accepted(pairs, 0), attempts(pairs, 0);
    for (const typename Ladder::State& s : ladders_)
      for (std::size_t k = 0; k < pairs; ++k) accepted[k] += double(s.accepted[k]), attempts[k] += double(s.attempts[k]);
    for (std::size_t k = 0; k < pairs; ++k) accepted[k] = attempts[k] > 0 ? accepted[k] / attempts[k] : 0.0;
    return accepted;
  }
  /// Round trips over all chains (0 without tempering).
  std::size_t round_trips() const {
    std::size_t n = 0;
    for (const typename Ladder::State& s : ladders_) n += s.round_trips;
    return n;
  }

  /// The chains' states into a checkpoint: "chains" (chains × sites), or with tempering
  /// "replicas" (chains × betas × sites) with the ladders' counters "ladder_labels",
  /// "ladder_heading" (chains × betas) and "ladder_counts" (per chain: steps, round trips,
  /// then swaps proposed and accepted per pair of betas).
  void save(training::Checkpoint& out) const {
    const std::size_t n = size(), d = std::size_t(states_[0].size());
    std::vector<double> values;
    if (!ladder_) {
      values.reserve(n * d);
      for (const VectorD& x : states_) values.insert(values.end(), x.data(), x.data() + x.size());
      out.put("chains", {n, d}, std::move(values));
      return;
    }
    const std::size_t R = ladder_->num_replicas();
    std::vector<std::uint64_t> labels, heading, counts;
    values.reserve(n * R * d);
    for (const typename Ladder::State& s : ladders_) {
      for (const VectorD& x : s.replicas) values.insert(values.end(), x.data(), x.data() + x.size());
      labels.insert(labels.end(), s.labels.begin(), s.labels.end());
      heading.insert(heading.end(), s.heading.begin(), s.heading.end());
      counts.push_back(s.steps);
      counts.push_back(s.round_trips);
      counts.insert(counts.end(), s.attempts.begin(), s.attempts.end());
      counts.insert(counts.end(), s.accepted.begin(), s.accepted.end());
    }
    out.put("replicas", {n, R, d}, std::move(values));
    out.put_counters("ladder_labels", std::move(labels));
    out.put_counters("ladder_heading", std::move(heading));
    out.put_counters("ladder_counts", std::move(counts));
  }
  /// Reads what save() wrote. Throws Error(Exit::data) naming `who` when the checkpoint's
  /// chains do not fit these (their number, sites, betas, or tempering).
  void load(const char* who, const training::Checkpoint& in) {
    const std::size_t n = size(), d = std::size_t(states_[0].size()), R = ladder_ ? ladder_->num_replicas() : 1;
    const training::CheckpointArray& a = in.array(who, ladder_ ? "replicas" : "chains");
    const std::vector<std::size_t> want = ladder_ ? std::vector<std::size_t>{n, R, d} : std::vector<std::size_t>{n, d};
    check_data(a.shape == want && a.values.size() == n * R * d,
               "{}: the checkpoint's chains have shape {} but this run has {} chains{} of {} sites", who,
               a.shape_string(), n, ladder_ ? fmt::format(" of {} betas", R) : std::string(), d);
    const double* v = a.values.data();
    if (!ladder_) {
      for (VectorD& x : states_) x = Eigen::Map<const VectorD>(v, Eigen::Index(d)), v += d;
      return;
    }
    const std::vector<std::uint64_t>& labels = in.counter(who, "ladder_labels");
    const std::vector<std::uint64_t>& heading = in.counter(who, "ladder_heading");
    const std::vector<std::uint64_t>& counts = in.counter(who, "ladder_counts");
    check_data(labels.size() == n * R && heading.size() == n * R && counts.size() == n * (2 * R),
               "{}: the checkpoint's ladder counters do not fit {} chains of {} betas", who, n, R);
    for (std::size_t c = 0; c < n; ++c) {
      typename Ladder::State& s = ladders_[c];
      for (std::size_t k = 0; k < R; ++k) {
        s.replicas[k] = Eigen::Map<const VectorD>(v, Eigen::Index(d)), v += d;
        check_data(labels[c * R + k] < R && heading[c * R + k] <= 2,
                   "{}: the checkpoint's ladder counters are not a ladder's (chain {})", who, c);
        s.labels[k] = std::size_t(labels[c * R + k]);
        s.heading[k] = std::uint8_t(heading[c * R + k]);
      }
      const std::uint64_t* k = counts.data() + c * 2 * R;
      s.steps = std::size_t(k[0]);
      s.round_trips = std::size_t(k[1]);
      for (std::size_t p = 0; p + 1 < R; ++p)
        s.attempts[p] = std::size_t(k[2 + p]), s.accepted[p] = std::size_t(k[2 + (R - 1) + p]);
    }
  }

 private:
  /// Every chain's state (with tempering its replicas and counters) from the rank that
  /// moved it to every rank, as doubles (the counters are integers below 2^53: exact).
  void share_chains(const Blocks& blocks, const ranks::Range& mine) {
    const std::size_t d = std::size_t(states_[0].size()), R = ladder_ ? ladder_->num_replicas() : 1;
    const std::size_t per_chain = ladder_ ? R * d + 2 * R + 2 * R : d;
    std::vector<double> all(size() * per_chain);
    const auto pack = [&](std::size_t c, double* v) {
      if (!ladder_) return void(std::copy_n(states_[c].data(), d, v));
      const typename Ladder::State& s = ladders_[c];
      for (const VectorD& x : s.replicas) v = std::copy_n(x.data(), d, v);
      for (std::size_t k = 0; k < R; ++k) *v++ = double(s.labels[k]), *v++ = double(s.heading[k]);
      *v++ = double(s.steps), *v++ = double(s.round_trips);
      for (std::size_t k = 0; k + 1 < R; ++k) *v++ = double(s.attempts[k]), *v++ = double(s.accepted[k]);
    };
    const auto unpack = [&](std::size_t c, const double* v) {
      if (!ladder_) return void(std::copy_n(v, d, states_[c].data()));
      typename Ladder::State& s = ladders_[c];
      for (VectorD& x : s.replicas) std::copy_n(v, d, x.data()), v += d;
      for (std::size_t k = 0; k < R; ++k) s.labels[k] = std::size_t(*v++), s.heading[k] = std::uint8_t(*v++);
      s.steps = std::size_t(*v++), s.round_trips = std::size_t(*v++);
      for (std::size_t k = 0; k + 1 < R; ++k) s.attempts[k] = std::size_t(*v++), s.accepted[k] = std::size_t(*v++);
    };
    const std::size_t c0 = std::min(size(), blocks.begin(mine.begin)), c1 = std::min(size(), blocks.begin(mine.end));
    for (std::size_t c = c0; c < c1; ++c) pack(c, all.data() + c * per_chain);
    ranks::share(all.data(), ranks::block_bounds(blocks, per_chain * sizeof(double)));
    for (std::size_t c = 0; c < size(); ++c)
      if (c < c0 || c >= c1) unpack(c, all.data() + c * per_chain);
  }

  std::size_t sweeps_;
  std::optional<Ladder> ladder_;
  std::vector<VectorD> states_;                     // plain chains (with tempering: the starts)
  std::vector<typename Ladder::State> ladders_;     // tempered chains
};

/// `chains` first states: chain c's is draw(rng) with rng = init.derive(Purpose::chains, c).
template <class Draw>
std::vector<VectorD> draw_chain_starts(std::size_t chains, const Stream& init, Draw&& draw) {
  std::vector<VectorD> starts;
  starts.reserve(chains);
  for (std::size_t c = 0; c < chains; ++c) {
    Stream rng = init.derive(Purpose::chains, c);
    starts.push_back(draw(rng));
  }
  return starts;
}

/// The PCD loop: `sgd.updates` updates of `model` (its parameters θ, in place). Update t
/// advances the chains (chains.advance(model, Stream::derive(seed, Purpose::gibbs, t),
/// ex)), writes the gradient estimate into g by gradient(model, θ, g) — which returns the
/// update's trace value — and takes one momentum SGD step (PcdSgdParams); the model ends
/// at the average of the last iterates when sgd.average_last > 1. Reports progress
/// ("pcd", update, updates) to `obs`; saves and resumes as `checkpoints` says (the chains
/// keep their part with save(Checkpoint&) and load(who, Checkpoint)). Returns the trace of
/// every update, those before a resume included. Throws Error(Exit::usage) naming `who`
/// when the parameters stop being finite (too large a learning rate) or a resumed state
/// does not fit the settings, Error(Exit::data) when it does not fit the model. `sgd` must
/// be valid (check_pcd_sgd).
template <class M, class Chains, class Gradient>
std::vector<double> run_mrf_pcd(const char* who, M& model, Chains& chains, const PcdSgdParams& sgd,
                                std::uint64_t seed, const Exec& ex, Observer& obs, const PcdCheckpointing& checkpoints,
                                Gradient&& gradient) {
  VectorD theta = model.parameters();
  VectorD velocity = VectorD::Zero(theta.size()), average = VectorD::Zero(theta.size());
  std::vector<double> trace;
  // Iterates in the average: those from update updates − average_last on.
  const auto averaged_by = [&](std::size_t done) {
    const std::size_t first = sgd.updates - std::min(sgd.average_last, sgd.updates);
    return done > first ? done - first : 0;
  };
  std::size_t start = 0;
  if (checkpoints.resume_from) {
    const training::Checkpoint& ck = *checkpoints.resume_from;
    const std::vector<std::uint64_t>& at = ck.counter(who, "updates");
    check_data(at.size() == 2, "{}: the checkpoint's counters 'updates' have {} entries, not 2", who, at.size());
    start = std::size_t(at[0]);
    check_arg(start <= sgd.updates, "{}: the checkpoint was written after update {}, beyond the {} updates asked for",
              who, start, sgd.updates);
    check_arg(at[1] == averaged_by(start),
              "{}: the checkpoint's average holds {} iterates where {} updates averaging the last {} hold {} after "
              "update {}; resume with the updates and average-last of the run that wrote it",
              who, at[1], sgd.updates, sgd.average_last, averaged_by(start), start);
    const auto vector_of = [&](const char* name) {
      const training::CheckpointArray& a = ck.array(who, name);
      check_data(a.values.size() == std::size_t(theta.size()),
                 "{}: the checkpoint's array '{}' has {} values; the model has {} parameters", who, name,
                 a.values.size(), theta.size());
      return a.vector();
    };
    theta = vector_of("parameters");
    velocity = vector_of("velocity");
    average = vector_of("average");
    trace = ck.array(who, "trace").values;
    check_data(trace.size() == start, "{}: the checkpoint's trace has {} entries after {} updates", who, trace.size(),
               start);
    chains.load(who, ck);
    model.set_parameters(theta);
  }
  trace.reserve(sgd.updates);
  VectorD g;
  for (std::size_t t = start; t < sgd.updates; ++t) {
    chains.advance(std::as_const(model), Stream::derive(seed, Purpose::gibbs, t), ex);
    trace.push_back(gradient(std::as_const(model), std::as_const(theta), g));
    const double lr = sgd.decay_updates == 0 ? sgd.learning_rate
                                             : sgd.learning_rate / (1.0 + double(t) / double(sgd.decay_updates));
    velocity = sgd.momentum * velocity - lr * g;
    theta += velocity;
    check_arg(theta.allFinite(), "{}: the parameters stopped being finite at update {} (lower the learning rate)", who,
              t);
    model.set_parameters(theta);
    if (t + sgd.average_last >= sgd.updates) average += theta;
    obs.progress("pcd", t + 1, sgd.updates);
    if (checkpoints.every > 0 && checkpoints.save && ((t + 1) % checkpoints.every == 0 || t + 1 == sgd.updates)) {
      training::Checkpoint ck;
      ck.put("parameters", theta);
      ck.put("velocity", velocity);
      ck.put("average", average);
      ck.put("trace", {trace.size()}, trace);
      ck.put_counters("updates", {t + 1, averaged_by(t + 1)});
      chains.save(ck);
      checkpoints.save(ck);
    }
  }
  if (sgd.average_last > 1) model.set_parameters(average / double(sgd.average_last));
  return trace;
}

// ---- Ising ------------------------------------------------------------------------

struct IsingPcdParams {
  std::size_t n_chains = 100;  ///< persistent chains, >= 1
  std::size_t sweeps = 1;      ///< systematic Gibbs sweeps per update (per replica with tempering), >= 1
  /// Empty: plain Gibbs chains. Otherwise each chain is a parallel-tempering ladder over
  /// these betas of p_β ∝ exp(−β E) (Desjardins et al. 2010): at least 2, finite, >= 0,
  /// strictly increasing, the last exactly 1; the moments come from the β = 1 replicas.
  std::vector<double> betas;
};

/// The persistent chains of an Ising PCD fit and its gradient estimate. Chain c is
/// advanced at each update by the stream stream.derive(Purpose::gibbs, c) of that
/// update's stream, so the chains are the same for any thread count.
class IsingPcd {
 public:
  /// Chains started uniformly at random: chain c from init.derive(Purpose::chains, c).
  /// Throws Error(Exit::usage) on n_chains or sweeps of 0.
  IsingPcd(const Ising& model, IsingPcdParams params, const Stream& init);
  /// Chains given explicitly (rows; values of the model's convention; every replica of a
  /// ladder starts at its row).
  IsingPcd(IsingPcdParams params, const MatrixD& chains);

  const IsingPcdParams& params() const { return params_; }
  /// The chain states (the β = 1 replicas with tempering), one per row.
  MatrixD chains() const { return chains_.states(); }
  /// Tempering: per adjacent pair of betas, swaps accepted / proposed so far (else empty).
  std::vector<double> swap_acceptance() const { return chains_.swap_acceptance(); }
  /// Tempering: round trips of replicas between the lowest and the highest β, all ladders.
  std::size_t round_trips() const { return chains_.round_trips(); }

  /// Advances every chain by `sweeps` sweeps, then returns the estimate of ∇L: chain
  /// moments − data moments + λθ (same layout as Ising::parameters()).
  VectorD gradient(const Ising& model, const IsingDataMoments& data, const IsingL2& l2, const Stream& stream,
                   const Exec& ex);
  /// Moments of the current chain states (no step), over fixed chain blocks.
  IsingDataMoments chain_moments(const Ising& model, const Exec& ex) const;
  /// Advances every chain by `sweeps` sweeps (as gradient() does).
  void advance(const Ising& model, const Stream& stream, const Exec& ex);
  /// The chains' part of a checkpoint (MrfChains::save, load).
  void save(training::Checkpoint& out) const { chains_.save(out); }
  void load(const char* who, const training::Checkpoint& in) { chains_.load(who, in); }

 private:
  void check_model(const Ising& model) const;

  IsingPcdParams params_;
  MrfChains<Ising> chains_;
};

/// PCD from the parameters of `init` (the file comment's streams). The trace holds ‖g‖
/// of each update's gradient estimate. Throws Error(Exit::usage) on bad settings or
/// moments that do not fit `init`, and when the parameters stop being finite.
IsingFit fit_ising_pcd(const Ising& init, const IsingDataMoments& data, const IsingL2& l2, const IsingPcdParams& pcd,
                       const IsingSgdParams& sgd, std::uint64_t seed, const Exec& ex,
                       Observer& obs = silent_observer(), const PcdCheckpointing& checkpoints = {});

// ---- Potts ------------------------------------------------------------------------

/// The persistent chains of a Potts PCD fit: `chains` single Gibbs chains, or as many
/// parallel-tempering ladders over `betas` (the last β is 1); moments() counts the site
/// and pair frequencies of their β = 1 states (each chain weighs 1).
class PottsPcdChains : public MrfChains<Potts> {
 public:
  /// Chain c starts with site i drawn from p(x_i = a) ∝ exp(h_i(a)) of model's fields
  /// (an exact draw of the model when J = 0), sites in order, from
  /// init.derive(Purpose::chains, c); every replica of a ladder starts there. Throws
  /// Error(Exit::usage) on chains or sweeps of 0 and on a bad ladder (its messages).
  PottsPcdChains(const Potts& model, std::size_t chains, std::size_t sweeps, std::vector<double> betas,
                 const Stream& init);

  /// Site and pair frequencies of the β = 1 states, edge by edge.
  PottsMoments moments(const Potts& model, const Exec& ex) const;
  /// The same into `out`, reusing its storage.
  void moments(const Potts& model, const Exec& ex, PottsMoments& out) const;
};

/// Settings of fit_potts_pcd; the defaults are the ones documented per field.
struct PottsPcdConfig {
  std::size_t chains = 100;  ///< persistent chains (ladders with tempering), >= 1
  std::size_t sweeps = 1;    ///< systematic Gibbs sweeps per update (per replica with tempering), >= 1
  /// Empty: plain Gibbs chains. Otherwise each chain is a parallel-tempering ladder over
  /// these betas: at least 2, finite, >= 0, strictly increasing, the last exactly 1.
  std::vector<double> betas;
  double lambda_h = 0.01;   ///< as the pseudolikelihood's (plmc's -lh); >= 0
  double lambda_e = 100.0;  ///< as the pseudolikelihood's (plmc's -le); >= 0
  /// updates 1000, learning_rate 0.05, momentum 0.9, no decay, no averaging (its defaults).
  PcdSgdParams sgd;
  /// The graph: empty means every pair i < j (Potts::dense order). Ignored when init is set.
  std::vector<PottsEdge> edges;
  /// Starting model (its sites, q and graph are the fit's). Empty: J = 0 and plmc's start
  /// h_i(a) = log(f_i(a)·W + 1) centred over a (f_i the available-case frequencies).
  std::optional<Potts> init;
  std::uint64_t seed = 0;
  PcdCheckpointing checkpoints;  ///< none by default
  /// Throws Error(Exit::usage) naming the first bad field.
  void validate() const;
};

struct PottsPcdFit {
  Potts model = Potts::dense(1, 2);
  /// Per update, before its SGD step: max over sites, pairs and states of |chain − data
  /// frequency| (the largest moment mismatch; it falls to the chains' noise level,
  /// about sqrt(f/chains), as the fit converges).
  std::vector<double> trace;
  std::size_t updates = 0;
  std::vector<double> swap_acceptance;  ///< tempering: per adjacent pair of betas
  std::size_t round_trips = 0;          ///< tempering: over all ladders
  double seconds = 0;
};

/// PCD fit of a Potts model to `data` (sequence weights and absent sites as in
/// objectives/potts_pcd.hpp; streams as in the file comment). Same seed ⇒ the same bits
/// for any exec.threads(). Reports progress ("pcd", update, updates) to `obs`.
/// Throws Error(Exit::usage) on bad settings (PottsPcdConfig::validate), an init model
/// that does not fit the data, or parameters that stop being finite (too large a
/// learning rate); Error(Exit::data) on bad data (potts_data_moments).
PottsPcdFit fit_potts_pcd(const PottsData& data, const PottsPcdConfig& config, const Exec& exec,
                          Observer& obs = silent_observer());

}  // namespace logz
