#pragma once
/// @file continuous_pcd.hpp
/// Maximum likelihood for continuous energies by persistent contrastive divergence
/// (stochastic approximation: Younes 1989; persistent chains: Tieleman 2008) with
/// Langevin or HMC chains (docs/continuous-training.md). The mean negative
/// log-likelihood −(1/N) Σ log p(x_n) = (1/N) Σ E(x_n; θ) + log Z(θ) has the gradient
///   ∇θ = E_data[∂E/∂θ] − E_pθ[∂E/∂θ]
/// (∂ log Z/∂θ = −E_pθ[∂E/∂θ]). One update estimates the first term by the mean over a
/// minibatch and the second by the mean over C persistent chains, each advanced by k
/// kernel steps (Mala, UnadjustedLangevin or Hmc) under the current θ, then takes one
/// optimizer step (training/loop.hpp: Adam or SGD, learning-rate schedules, Polyak
/// averaging, the minibatch order). With chains drawn exactly from pθ the estimate is
/// unbiased (objectives/pcd_gradient.hpp); persistent chains lag behind θ, which the
/// small steps of the optimizer keep small (Younes 1989: the iterates converge for decreasing rates). ULA
/// chains are biased by O(ε²) (kernels/langevin.hpp) and so is the fit.
///
/// Chain c moves with its own stream Stream::derive(seed, Purpose::gibbs, c), which
/// advances through the run (a checkpoint stores its position), and starts at the data
/// row drawn by Stream::derive(seed, Purpose::chains, c) (or at given states). Chains
/// are moved over fixed blocks (row_blocks(C)) and the gradient is reduced over fixed
/// blocks in block order: bit-identical for any thread count.
///
/// Step-size adaptation: during the first `adapt_updates` updates the step size follows
/// dual averaging (Hoffman & Gelman 2014) on the mean acceptance probability of the
/// chains; afterwards it is frozen at the averaged ε̄. Adaptation that never stopped
/// would make each chain's kernel depend on the chain's own past, which breaks the
/// invariance of pθ that the chains' moments rely on.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/kernels/hmc.hpp"
#include "logz/kernels/langevin.hpp"
#include "logz/objectives/pcd_gradient.hpp"
#include "logz/objectives/score_matching.hpp"
#include "logz/training/checkpoint.hpp"
#include "logz/training/loop.hpp"

namespace logz {

enum class PcdKernel { mala, ula, hmc };

/// "mala", "ula", "hmc".
std::string_view pcd_kernel_name(PcdKernel kernel);
/// The kernel of a name; Error(Exit::usage) "parse_pcd_kernel: unknown kernel 'x'
/// (expected mala, ula or hmc)".
PcdKernel parse_pcd_kernel(std::string_view name);

struct ContinuousPcdOptions {
  std::size_t chains = 100;         ///< C persistent chains, >= 1
  PcdKernel kernel = PcdKernel::mala;
  std::size_t kernel_steps = 1;     ///< k kernel steps per chain per update, >= 1
  double step_size = 0.1;           ///< ε of the kernel (the start of adaptation), finite and > 0
  std::size_t leapfrog_steps = 10;  ///< L of HMC, >= 1
  std::size_t adapt_updates = 0;    ///< updates with dual-averaging adaptation of ε (0: none)
  double target_acceptance = 0.65;  ///< δ of the adaptation, in (0, 1)
  /// C × d starting states; empty: data rows (file comment).
  std::optional<MatrixD> initial_chains;
  TrainingOptions training{};
};

/// What one epoch of PCD did.
struct ContinuousPcdEpoch {
  double acceptance = 0;   ///< mean over its updates and chains of the acceptance probability
  double step_size = 0;    ///< ε at the end of the epoch
  /// Mean over its updates of (minibatch mean energy − chain mean energy), before each
  /// update: near 0 when the chains look like the data to the energy.
  double energy_gap = 0;
  std::size_t updates = 0;
};

/// PCD training of `M` (file comment).
template <class M>
  requires ParametricEnergy<M> && DifferentiableEnergy<M>
class ContinuousPcd {
 public:
  /// Throws Error(Exit::usage) "ContinuousPcd: ..." on bad options (check_training_options,
  /// chains, kernel_steps, step_size, leapfrog_steps, target_acceptance, initial chains
  /// of the wrong shape or not finite) and as check_continuous_data (constant columns
  /// allowed).
  ContinuousPcd(M init, MatrixD data, ContinuousPcdOptions options);

  /// One pass over the data (epoch_order): one update per minibatch
  /// (training::for_each_minibatch, progress "pcd epoch E" to `obs`). Throws
  /// Error(Exit::data) when a gradient is not finite, leaving the state of the last
  /// update.
  ContinuousPcdEpoch run_epoch(const Exec& ex, Observer& obs = silent_observer());

  const M& model() const { return model_; }
  M averaged_model() const;
  /// The chains' states, C × d.
  const MatrixD& chains() const { return chains_; }
  /// ε for the next update.
  double step_size() const;
  bool adapting() const { return adaptation_.size() < options_.adapt_updates; }
  std::size_t epoch() const { return core_.epoch(); }
  std::size_t updates() const { return core_.updates(); }
  const std::vector<ContinuousPcdEpoch>& history() const { return history_; }
  const ContinuousPcdOptions& options() const { return options_; }

  /// A checkpoint (trainer "continuous_pcd"): the arrays of detail::TrainingCore,
  /// "chains", "adaptation" (the acceptance probabilities fed to dual averaging, replayed
  /// on restore), "history" (epochs × 4) and the counters "chain_words" (each chain
  /// stream's position).
  training::Checkpoint state() const;
  /// Continues from state(). Throws Error(Exit::data) "ContinuousPcd::restore: ..." on a
  /// missing array or sizes that do not fit.
  void restore(const training::Checkpoint& state);

 private:
  static constexpr const char* who = "ContinuousPcd";
  /// Advances every chain by k kernel steps at ε; the mean acceptance probability.
  double move_chains(double eps, const Exec& ex);
  DualAveraging replay_adaptation() const;

  M model_;
  MatrixD data_;
  ContinuousPcdOptions options_;
  MatrixD chains_;
  std::vector<Stream> streams_;
  std::vector<double> adaptation_;
  std::vector<ContinuousPcdEpoch> history_;
  detail::TrainingCore core_;
  DualAveraging adaptation_state_;  // fed adaptation_ in order
};

// ---------------------------------------------------------------------------------------

template <class M>
  requires ParametricEnergy<M> && DifferentiableEnergy<M>
ContinuousPcd<M>::ContinuousPcd(M init, MatrixD data, ContinuousPcdOptions options)
    : model_(std::move(init)),
      data_(std::move(data)),
      options_(std::move(options)),
      core_((check_training_options(who, options_.training),
             check_continuous_data(who, data_, model_.dimension(), false), model_.parameters()),
            std::size_t(data_.rows()), options_.training),
      adaptation_state_((check_arg(std::isfinite(options_.step_size) && options_.step_size > 0,
                                   "{}: step_size must be finite and > 0 (got {})", who, options_.step_size),
                         check_arg(options_.target_acceptance > 0 && options_.target_acceptance < 1,
                                   "{}: target_acceptance must be in (0, 1) (got {})", who, options_.target_acceptance),
                         options_.step_size),
                        DualAveragingParams{options_.target_acceptance}) {
  const auto& o = options_;
  check_arg(o.chains >= 1, "{}: chains must be >= 1 (got 0)", who);
  check_arg(o.kernel_steps >= 1, "{}: kernel_steps must be >= 1 (got 0)", who);
  check_arg(o.leapfrog_steps >= 1, "{}: leapfrog_steps must be >= 1 (got 0)", who);
  const auto d = Eigen::Index(model_.dimension());
  if (o.initial_chains) {
    const MatrixD& c = *o.initial_chains;
    check_arg(c.rows() == Eigen::Index(o.chains) && c.cols() == d,
              "{}: initial_chains is {}x{} but there are {} chains of dimension {}", who, c.rows(), c.cols(), o.chains, d);
    check_arg(c.allFinite(), "{}: initial_chains is not finite", who);
    chains_ = c;
  } else {
    chains_.resize(Eigen::Index(o.chains), d);
    for (std::size_t c = 0; c < o.chains; ++c) {
      Stream s = Stream::derive(o.training.seed, Purpose::chains, c);
      chains_.row(Eigen::Index(c)) = data_.row(Eigen::Index(s.below(std::uint64_t(data_.rows()))));
    }
  }
  streams_ = Stream::root(o.training.seed).children(Purpose::gibbs, o.chains);
}

template <class M>
  requires ParametricEnergy<M> && DifferentiableEnergy<M>
DualAveraging ContinuousPcd<M>::replay_adaptation() const {
  DualAveraging da(options_.step_size, DualAveragingParams{options_.target_acceptance});
  for (double a : adaptation_) da.update(a);
  return da;
}

template <class M>
  requires ParametricEnergy<M> && DifferentiableEnergy<M>
double ContinuousPcd<M>::step_size() const {
  if (options_.adapt_updates == 0) return options_.step_size;
  return adapting() ? adaptation_state_.step_size() : adaptation_state_.final_step_size();
}

template <class M>
  requires ParametricEnergy<M> && DifferentiableEnergy<M>
double ContinuousPcd<M>::move_chains(double eps, const Exec& ex) {
  const Blocks blocks = row_blocks(options_.chains);
  const auto d = Eigen::Index(model_.dimension());
  const double sum = parallel_reduce(
      ex, blocks.count(), 0.0,
      [&](std::size_t t) {
        double acc = 0;
        VectorD x(d);
        for (std::size_t c = blocks.begin(t); c < blocks.end(t); ++c) {
          x = chains_.row(Eigen::Index(c)).transpose();
          Stream& rng = streams_[c];
          double a = 0;
          switch (options_.kernel) {
            case PcdKernel::mala:
              a = Mala(Mala::Params{eps, options_.kernel_steps, 1.0}).step(model_, x, rng).acceptance_probability;
              break;
            case PcdKernel::ula:
              a = UnadjustedLangevin(UnadjustedLangevin::Params{eps, options_.kernel_steps, 1.0})
                      .step(model_, x, rng)
                      .acceptance_probability;
              break;
            case PcdKernel::hmc: {
              const Hmc hmc(Hmc::Params{eps, options_.leapfrog_steps, 1.0});
              for (std::size_t k = 0; k < options_.kernel_steps; ++k) a += hmc.step(model_, x, rng).acceptance_probability;
              a /= double(options_.kernel_steps);
              break;
            }
          }
          chains_.row(Eigen::Index(c)) = x.transpose();
          acc += a;
        }
        return acc;
      },
      [](double a, double b) { return a + b; });
  return sum / double(options_.chains);
}

template <class M>
  requires ParametricEnergy<M> && DifferentiableEnergy<M>
ContinuousPcdEpoch ContinuousPcd<M>::run_epoch(const Exec& ex, Observer& obs) {
  const std::vector<std::size_t> order = epoch_order(options_.training.seed, core_.epoch(), core_.rows());
  ContinuousPcdEpoch rec;
  MatrixD batch;
  training::for_each_minibatch(order, core_.batch_size(), obs, fmt::format("pcd epoch {}", core_.epoch() + 1),
                               [&](std::span<const std::size_t> rows) {
    const double eps = step_size();
    const double acc = move_chains(eps, ex);
    if (adapting()) {
      adaptation_.push_back(acc);
      adaptation_state_.update(acc);
    }
    training::gather_rows(data_, rows, batch, ex);
    double gap = 0;
    for (Eigen::Index j = 0; j < batch.rows(); ++j) gap += double(model_.energy_of(VectorD(batch.row(j).transpose())));
    gap /= double(batch.rows());
    double e_chains = 0;
    for (Eigen::Index c = 0; c < chains_.rows(); ++c) e_chains += double(model_.energy_of(VectorD(chains_.row(c).transpose())));
    gap -= e_chains / double(chains_.rows());
    core_.step("ContinuousPcd::run_epoch", pcd_gradient(model_, batch, chains_, ex));
    model_.set_parameters(core_.parameters());
    rec.acceptance += acc;
    rec.energy_gap += gap;
    ++rec.updates;
  });
  core_.finish_epoch();
  rec.acceptance /= double(rec.updates);
  rec.energy_gap /= double(rec.updates);
  rec.step_size = step_size();
  history_.push_back(rec);
  return rec;
}

template <class M>
  requires ParametricEnergy<M> && DifferentiableEnergy<M>
M ContinuousPcd<M>::averaged_model() const {
  M m = model_;
  m.set_parameters(core_.averaged());
  return m;
}

template <class M>
  requires ParametricEnergy<M> && DifferentiableEnergy<M>
training::Checkpoint ContinuousPcd<M>::state() const {
  training::Checkpoint out;
  out.trainer = "continuous_pcd";
  core_.save(out);
  out.put("chains", chains_);
  out.put_streams("chain_words", streams_);
  out.put("adaptation", {adaptation_.size()}, adaptation_);
  std::vector<double> h;
  for (const auto& e : history_) h.insert(h.end(), {e.acceptance, e.step_size, e.energy_gap, double(e.updates)});
  out.put("history", {history_.size(), 4}, std::move(h));
  return out;
}

template <class M>
  requires ParametricEnergy<M> && DifferentiableEnergy<M>
void ContinuousPcd<M>::restore(const training::Checkpoint& state) {
  const char* w = "ContinuousPcd::restore";
  detail::TrainingCore core = core_;
  core.load(w, state);
  const training::CheckpointArray& ch = state.array(w, "chains");
  check_data(ch.shape.size() == 2 && ch.shape[0] == std::size_t(chains_.rows()) && ch.shape[1] == std::size_t(chains_.cols()),
             "{}: array 'chains' has shape {} but the run has {} chains of dimension {}", w, ch.shape_string(),
             chains_.rows(), chains_.cols());
  MatrixD chains = ch.matrix(w, "chains");
  std::vector<Stream> streams = Stream::root(options_.training.seed).children(Purpose::gibbs, options_.chains);
  state.seek_streams(w, "chain_words", streams);
  const training::CheckpointArray& ad = state.array(w, "adaptation");
  check_data(ad.shape.size() == 1 && ad.values.size() <= options_.adapt_updates,
             "{}: array 'adaptation' has shape {} but the run adapts for {} updates", w, ad.shape_string(),
             options_.adapt_updates);
  std::vector<double> adaptation = ad.values;
  for (double a : adaptation) check_data(a >= 0 && a <= 1, "{}: an adaptation entry is not in [0, 1] ({})", w, a);
  const training::CheckpointArray& hs = state.array(w, "history");
  check_data(hs.shape.size() == 2 && hs.shape[1] == 4, "{}: array 'history' has shape {}; expected (epochs, 4)", w,
             hs.shape_string());
  const std::vector<double>& h = hs.values;
  std::vector<ContinuousPcdEpoch> history;
  for (std::size_t e = 0; e < hs.shape[0]; ++e)
    history.push_back({h[4 * e], h[4 * e + 1], h[4 * e + 2], std::size_t(h[4 * e + 3])});
  M model = model_;
  model.set_parameters(core.parameters());
  core_ = std::move(core);
  model_ = std::move(model);
  chains_ = std::move(chains);
  streams_ = std::move(streams);
  adaptation_ = std::move(adaptation);
  adaptation_state_ = replay_adaptation();
  history_ = std::move(history);
}

}  // namespace logz
