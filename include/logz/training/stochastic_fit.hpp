#pragma once
/// @file stochastic_fit.hpp
/// Minibatch (stochastic) training of continuous energies by the objectives of
/// objectives/score_matching.hpp and nce.hpp (docs/continuous-training.md): score matching
/// (Hyvärinen 2005), sliced score matching (Song et al. 2019), denoising score matching
/// over one or several noise levels (Vincent 2011; Song & Ermon 2019) and
/// noise-contrastive estimation with log Z as a learned parameter (Gutmann & Hyvärinen
/// 2012), each minimised by Adam (Kingma & Ba 2015) or momentum SGD on minibatches
/// (Robbins & Monro 1951), with optional Polyak–Ruppert averaging of the iterates
/// (Polyak & Juditsky 1992).
///
/// One update takes the rows of one minibatch, evaluates the objective's per-row terms
/// at the current θ with **fresh** random parts, and steps. The random parts of data row
/// r in epoch e — the SSM projections, the DSM noise, the ν NCE noise samples — are those
/// of sliced_projections / denoising_noise / nce_noise_samples for row r under the epoch
/// seed s_e (two words of Stream::derive(seed, Purpose::noise, e)), so they do not depend
/// on the batch size, the row's place in the batch or the thread count. The order of the
/// rows in epoch e is a Fisher–Yates shuffle drawn from Stream::derive(seed,
/// Purpose::shuffle, e); batches are consecutive runs of batch_size rows of it (the last
/// may be shorter). Each minibatch gradient is an unbiased estimate of the gradient of
/// the objective averaged over its random parts (E over v of J_SSM is J_SM; the
/// expectation over ε of J_DSM; NCE's expected loss over fresh noise), which is what the
/// iterates minimise.
///
/// The minibatch loop, optimizer, schedule and averaging are those of training/loop.hpp.
/// Shape for a command-line tool: run_epoch() one epoch at a time (its mean minibatch
/// loss), loss() on held-out data (the deterministic objective of
/// objectives/score_matching.hpp / NceProblem with the random parts fixed by the seeds in
/// SlicedOptions / DenoisingOptions / NceOptions), state() / restore() for checkpoints
/// (training/checkpoint.hpp): a run restored from state() continues bit for bit as the
/// uninterrupted run.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/objectives/nce.hpp"
#include "logz/objectives/score_matching.hpp"
#include "logz/training/checkpoint.hpp"
#include "logz/training/loop.hpp"

namespace logz {

// ---------------------------------------------------------------------------------------
// Score matching, sliced / denoising score matching and NCE on minibatches.

enum class StochasticObjective { sm, ssm, dsm, nce };

/// "sm", "ssm", "dsm", "nce".
std::string_view objective_name(StochasticObjective objective);
/// The objective of a name; Error(Exit::usage) "parse_objective: unknown objective 'x'
/// (expected sm, ssm, dsm or nce)".
StochasticObjective parse_objective(std::string_view name);

struct StochasticOptions {
  StochasticObjective objective = StochasticObjective::sm;
  TrainingOptions training{};
  /// SSM: projections and their kind. Its seed fixes only the projections of loss().
  SlicedOptions sliced{};
  /// DSM: levels and draws per (row, level). Its seed fixes only the noise of loss().
  DenoisingOptions denoising{};
  /// NCE: noise q (empty: Gaussian::fit of the training data), ratio ν, initial c. Its
  /// seed fixes only the noise samples of loss().
  NceOptions nce{};
};

/// Minibatch training of `M` by one objective (file comment). The model needs what its
/// objective needs: sm ScoreMatchable, ssm SliceScoreMatchable, dsm ScoreParametric, nce
/// ParametricEnergy (checked at construction).
template <class M>
  requires FlatParameters<M> && EnergyModel<M>
class StochasticTrainer {
 public:
  /// Throws Error(Exit::usage) on bad options (check_training_options and the checks of
  /// score_matching.hpp / nce.hpp, named "StochasticTrainer") or a model without what the
  /// objective needs, and as check_continuous_data (constant columns refused except for
  /// dsm); with nce and no noise given, as Gaussian::fit.
  StochasticTrainer(M init, MatrixD data, StochasticOptions options);

  /// One pass over the data in the order epoch_order(seed, epoch()): one update per
  /// minibatch (training::for_each_minibatch, progress "epoch E" to `obs`). Returns the mean over the epoch's rows of the minibatch losses, each
  /// taken before its update. Throws Error(Exit::data)
  /// "StochasticTrainer::run_epoch: ..." when a gradient or the new parameters are not
  /// finite (the run has diverged; lower the learning rate), leaving the state as it was
  /// before that update.
  double run_epoch(const Exec& ex, Observer& obs = silent_observer());

  /// The objective (and, with `gradient`, its gradient over θ — and c for nce, last) on
  /// `rows` of the training data at the current iterate, with the random parts of epoch
  /// `epoch`: what an update of that epoch uses.
  double batch_objective(std::size_t epoch, std::span<const std::size_t> rows, VectorD* gradient,
                         const Exec& ex) const;

  /// The deterministic objective on `data` (held-out rows) at the current iterate, or at
  /// the averaged one. Throws as the objective of score_matching.hpp / NceProblem.
  double loss(const MatrixD& data, const Exec& ex, bool averaged = false) const;

  const M& model() const { return model_; }
  /// The model at the Polyak average (the current model while nothing is averaged).
  M averaged_model() const;
  /// nce: the learned c ≈ log Z (current or averaged). Throws Error(Exit::usage) for the
  /// other objectives.
  double log_z(bool averaged = false) const;
  std::size_t epoch() const { return core_.epoch(); }
  std::size_t updates() const { return core_.updates(); }
  double learning_rate() const { return core_.learning_rate(); }
  const StochasticOptions& options() const { return options_; }
  /// nce: the noise distribution q.
  const std::optional<Gaussian>& noise() const { return noise_; }

  /// A checkpoint (trainer "stochastic"): the arrays of detail::TrainingCore and the
  /// counter "objective" (its index).
  training::Checkpoint state() const;
  /// Continues from state(). Throws Error(Exit::data) "StochasticTrainer::restore: ..."
  /// on a missing array, another objective or sizes that do not fit.
  void restore(const training::Checkpoint& state);

 private:
  static constexpr const char* who = "StochasticTrainer";
  std::size_t num_model_parameters() const { return std::size_t(model_.num_parameters()); }

  M model_;
  MatrixD data_;
  StochasticOptions options_;
  std::optional<Gaussian> noise_;
  VectorD log_q_data_;
  detail::TrainingCore core_;
};

// ---------------------------------------------------------------------------------------

namespace detail {

/// The parameters the trainer optimises: θ, and c for nce.
template <class M>
VectorD initial_parameters(const M& init, const StochasticOptions& o) {
  if (o.objective != StochasticObjective::nce) return init.parameters();
  const VectorD theta = init.parameters();
  VectorD w(theta.size() + 1);
  w << theta, o.nce.initial_log_z;
  return w;
}

template <class M>
void check_objective_support(StochasticObjective objective) {
  const auto refuse = [&](const char* needs) {
    fail(Exit::usage, "StochasticTrainer: the model does not support {} (it needs {})", objective_name(objective),
         needs);
  };
  switch (objective) {
    case StochasticObjective::sm:
      if constexpr (!ScoreMatchable<M>) refuse("the score, the Laplacian and their parameter derivatives");
      break;
    case StochasticObjective::ssm:
      if constexpr (!SliceScoreMatchable<M>) refuse("the score, Hessian quadratic forms and their parameter derivatives");
      break;
    case StochasticObjective::dsm:
      if constexpr (!ScoreParametric<M>) refuse("the score and its parameter derivative");
      break;
    case StochasticObjective::nce:
      if constexpr (!ParametricEnergy<M>) refuse("the energy's parameter derivative");
      break;
  }
}

}  // namespace detail

template <class M>
  requires FlatParameters<M> && EnergyModel<M>
StochasticTrainer<M>::StochasticTrainer(M init, MatrixD data, StochasticOptions options)
    : model_(std::move(init)),
      data_(std::move(data)),
      options_(std::move(options)),
      core_((check_training_options(who, options_.training), detail::check_objective_support<M>(options_.objective),
             check_continuous_data(who, data_, model_.dimension(), options_.objective != StochasticObjective::dsm),
             detail::initial_parameters(model_, options_)),
            std::size_t(data_.rows()), options_.training) {
  switch (options_.objective) {
    case StochasticObjective::ssm: check_sliced_options(who, options_.sliced); break;
    case StochasticObjective::dsm: check_denoising_options(who, options_.denoising); break;
    case StochasticObjective::nce: {
      check_arg(options_.nce.noise_ratio >= 1, "{}: noise_ratio must be >= 1 (got 0)", who);
      check_arg(std::isfinite(options_.nce.initial_log_z), "{}: initial_log_z must be finite (got {})", who,
                options_.nce.initial_log_z);
      noise_ = options_.nce.noise ? *options_.nce.noise : Gaussian::fit(data_);
      check_arg(noise_->dimension() == model_.dimension(), "{}: the noise has dimension {} but the data has {} columns",
                who, noise_->dimension(), data_.cols());
      log_q_data_.resize(data_.rows());
      for (Eigen::Index r = 0; r < data_.rows(); ++r) log_q_data_[r] = noise_->log_density(data_.row(r).transpose());
      break;
    }
    case StochasticObjective::sm: break;
  }
}

template <class M>
  requires FlatParameters<M> && EnergyModel<M>
double StochasticTrainer<M>::batch_objective(std::size_t epoch, std::span<const std::size_t> rows, VectorD* gradient,
                                             const Exec& ex) const {
  check_arg(!rows.empty(), "StochasticTrainer::batch_objective: no rows");
  for (std::size_t r : rows)
    check_arg(r < std::size_t(data_.rows()), "StochasticTrainer::batch_objective: row {} is beyond the data's {} rows", r,
              data_.rows());
  const std::size_t d = model_.dimension(), p = num_model_parameters();
  const bool want = gradient != nullptr;
  const std::uint64_t noise_seed = epoch_noise_seed(options_.training.seed, epoch);
  const auto x_of = [&](std::size_t j) { return VectorD(data_.row(Eigen::Index(rows[j])).transpose()); };
  const double n = double(rows.size());
  const M& m = model_;

  switch (options_.objective) {
    case StochasticObjective::sm:
      if constexpr (ScoreMatchable<M>) {
        // ½‖s‖² − ΔE per row; gradient sᵀ∂s − ∂ΔE.
        return detail::sum_row_terms(rows.size(), p, want, n, gradient, ex, [&](std::size_t j, VectorD& out) {
          const VectorD x = x_of(j);
          VectorD s = VectorD::Zero(Eigen::Index(d));
          m.energy_and_gradient(x, s);
          out[0] += 0.5 * s.squaredNorm() - m.laplacian(x);
          if (!want) return;
          auto g = out.tail(Eigen::Index(p));
          m.add_score_vjp(x, s, 1.0, g);
          m.add_laplacian_gradient(x, -1.0, g);
        });
      }
      break;
    case StochasticObjective::ssm:
      if constexpr (SliceScoreMatchable<M>) {
        SlicedOptions so = options_.sliced;
        so.seed = noise_seed;
        return detail::sum_row_terms(
            rows.size(), p, want, n * double(so.projections), gradient, ex, [&](std::size_t j, VectorD& out) {
              const VectorD x = x_of(j);
              VectorD s = VectorD::Zero(Eigen::Index(d));
              m.energy_and_gradient(x, s);
              const MatrixD v = sliced_projections(so, rows[j], d);  // fresh per (epoch, row)
              for (Eigen::Index k = 0; k < v.rows(); ++k) {
                const VectorD vk = v.row(k).transpose();
                const double a = vk.dot(s);
                out[0] += 0.5 * a * a - m.hessian_quadratic(x, vk);
                if (!want) continue;
                auto g = out.tail(Eigen::Index(p));
                m.add_score_vjp(x, vk, a, g);
                m.add_hessian_quadratic_gradient(x, vk, -1.0, g);
              }
            });
      }
      break;
    case StochasticObjective::dsm:
      if constexpr (ScoreParametric<M>) {
        DenoisingOptions dn = options_.denoising;
        dn.seed = noise_seed;
        const double norm = n * double(dn.sigmas.size()) * double(dn.draws);
        return detail::sum_row_terms(rows.size(), p, want, norm, gradient, ex, [&](std::size_t j, VectorD& out) {
          const VectorD x = x_of(j);
          VectorD s = VectorD::Zero(Eigen::Index(d)), xt = VectorD::Zero(Eigen::Index(d));
          for (std::size_t l = 0; l < dn.sigmas.size(); ++l) {
            const double sigma = dn.sigmas[l];
            const MatrixD eps = denoising_noise(dn, rows[j], l, d);  // fresh per (epoch, row, level)
            for (Eigen::Index k = 0; k < eps.rows(); ++k) {
              xt = x + sigma * eps.row(k).transpose();
              m.energy_and_gradient(xt, s);
              const VectorD resid = sigma * s - eps.row(k).transpose();
              out[0] += 0.5 * resid.squaredNorm();
              if (!want) continue;
              auto g = out.tail(Eigen::Index(p));
              m.add_score_vjp(xt, resid, sigma, g);
            }
          }
        });
      }
      break;
    case StochasticObjective::nce:
      if constexpr (ParametricEnergy<M>) {
        const double c = core_.parameters()[Eigen::Index(p)];
        const std::size_t nu = options_.nce.noise_ratio;
        const double log_nu = std::log(double(nu));
        const Gaussian& q = *noise_;
        return detail::sum_row_terms(rows.size(), p + 1, want, n, gradient, ex, [&](std::size_t j, VectorD& out) {
          const std::size_t r = rows[j];
          const VectorD x = x_of(j);
          const double zx = -double(m.energy_of(x)) - c - log_q_data_[Eigen::Index(r)] - log_nu;
          out[0] += detail::softplus(-zx);
          if (want) {
            const double w = detail::logistic(-zx);
            auto gt = out.segment(1, Eigen::Index(p));
            m.add_energy_gradient(x, w, gt);
            out[Eigen::Index(p + 1)] += w;
          }
          // y_rk as nce_noise_samples draws them, under the epoch's seed: fresh noise.
          Stream stream = Stream::derive(noise_seed, Purpose::noise, r);
          VectorD y = VectorD::Zero(Eigen::Index(d));
          for (std::size_t k = 0; k < nu; ++k) {
            q.sample(stream, y);
            const double zy = -double(m.energy_of(y)) - c - q.log_density(y) - log_nu;
            out[0] += detail::softplus(zy);
            if (!want) continue;
            const double w = detail::logistic(zy);
            auto gt = out.segment(1, Eigen::Index(p));
            m.add_energy_gradient(y, -w, gt);
            out[Eigen::Index(p + 1)] -= w;
          }
        });
      }
      break;
  }
  fail(Exit::software, "StochasticTrainer: unsupported objective");  // refused at construction
}

template <class M>
  requires FlatParameters<M> && EnergyModel<M>
double StochasticTrainer<M>::run_epoch(const Exec& ex, Observer& obs) {
  const std::vector<std::size_t> order = epoch_order(options_.training.seed, core_.epoch(), core_.rows());
  const std::size_t p = num_model_parameters();
  double total = 0;
  VectorD grad;
  training::for_each_minibatch(order, core_.batch_size(), obs, fmt::format("epoch {}", core_.epoch() + 1),
                               [&](std::span<const std::size_t> rows) {
                                 total += batch_objective(core_.epoch(), rows, &grad, ex) * double(rows.size());
                                 core_.step("StochasticTrainer::run_epoch", grad);
                                 model_.set_parameters(core_.parameters().head(Eigen::Index(p)));
                               });
  core_.finish_epoch();
  return total / double(order.size());
}

template <class M>
  requires FlatParameters<M> && EnergyModel<M>
double StochasticTrainer<M>::loss(const MatrixD& data, const Exec& ex, bool averaged) const {
  const M m = averaged ? averaged_model() : model_;
  switch (options_.objective) {
    case StochasticObjective::sm:
      if constexpr (ScoreMatchable<M>) return score_matching_objective(m, data, nullptr, ex);
      break;
    case StochasticObjective::ssm:
      if constexpr (SliceScoreMatchable<M>) return sliced_score_matching_objective(m, data, options_.sliced, nullptr, ex);
      break;
    case StochasticObjective::dsm:
      if constexpr (ScoreParametric<M>)
        return denoising_score_matching_objective(m, data, options_.denoising, nullptr, ex);
      break;
    case StochasticObjective::nce:
      if constexpr (ParametricEnergy<M>) {
        NceOptions o = options_.nce;
        o.noise = noise_;
        return NceProblem(data, o, ex).objective(m, log_z(averaged), nullptr, ex);
      }
      break;
  }
  fail(Exit::software, "StochasticTrainer: unsupported objective");
}

template <class M>
  requires FlatParameters<M> && EnergyModel<M>
M StochasticTrainer<M>::averaged_model() const {
  M m = model_;
  m.set_parameters(core_.averaged().head(Eigen::Index(num_model_parameters())));
  return m;
}

template <class M>
  requires FlatParameters<M> && EnergyModel<M>
double StochasticTrainer<M>::log_z(bool averaged) const {
  check_arg(options_.objective == StochasticObjective::nce,
            "StochasticTrainer::log_z: only nce learns log Z (the objective is {})", objective_name(options_.objective));
  return (averaged ? core_.averaged() : core_.parameters())[Eigen::Index(num_model_parameters())];
}

template <class M>
  requires FlatParameters<M> && EnergyModel<M>
training::Checkpoint StochasticTrainer<M>::state() const {
  training::Checkpoint out;
  out.trainer = "stochastic";
  core_.save(out);
  out.put_counters("objective", {std::uint64_t(options_.objective)});
  return out;
}

template <class M>
  requires FlatParameters<M> && EnergyModel<M>
void StochasticTrainer<M>::restore(const training::Checkpoint& state) {
  const char* w = "StochasticTrainer::restore";
  const std::vector<std::uint64_t>& obj = state.counter(w, "objective");
  check_data(obj.size() == 1 && obj[0] == std::uint64_t(options_.objective),
             "{}: the state is of another objective than {}", w, objective_name(options_.objective));
  detail::TrainingCore core = core_;
  core.load(w, state);
  M model = model_;
  model.set_parameters(core.parameters().head(Eigen::Index(num_model_parameters())));
  core_ = std::move(core);
  model_ = std::move(model);
}

}  // namespace logz
