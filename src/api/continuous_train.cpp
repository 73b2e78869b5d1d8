// The continuous training façade: model start from the data and the seed, then one of
// the objectives of logz/objectives fitted by L-BFGS.
#include "logz/api/continuous_train.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <limits>
#include <string_view>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/memory.hpp"
#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"
#include "logz/estimators/ais.hpp"  // importance_stream
#include "logz/models/gaussian.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/neural_energy.hpp"
#include "logz/models/student_t_experts.hpp"
#include <filesystem>

#include "logz/api/checkpoint_file.hpp"
#include "logz/objectives/nce.hpp"
#include "logz/objectives/score_matching.hpp"
#include "logz/training/continuous_pcd.hpp"
#include "logz/training/grbm_pcd.hpp"
#include "logz/training/stochastic_fit.hpp"

namespace logz::api {
namespace {

bool one_of(const std::string& s, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names)
    if (s == n) return true;
  return false;
}

VectorD column_std(const MatrixD& data, const VectorD& mean) {
  const double n = double(std::max<Eigen::Index>(data.rows() - 1, 1));
  return ((data.rowwise() - mean.transpose()).colwise().squaredNorm().transpose() / n).cwiseSqrt();
}

/// The GRBM start: b the data mean, σ the column standard deviations, W with entries
/// init_scale · σ_i · N(0, 1) (so that W / σ² is on the data's scale), c = 0.
GaussianRbm initial_grbm(const MatrixD& data, const ContinuousTrainConfig& c, std::size_t hidden) {
  GaussianRbm m(std::size_t(data.cols()), hidden);
  m.visible_bias = data.colwise().mean().transpose();
  m.visible_sigma = column_std(data, m.visible_bias);
  m.learn_sigma = c.learn_sigma;
  Stream s = Stream::derive(c.seed, Purpose::init, 0);
  for (Eigen::Index i = 0; i < m.weights.rows(); ++i)
    for (Eigen::Index j = 0; j < m.weights.cols(); ++j) m.weights(i, j) = c.init_scale * m.visible_sigma[i] * s.normal();
  return m;
}

/// NCE's start for c: the importance-sampling estimate log (1/S) Σ_s exp(−E(y_s) − log q(y_s))
/// of log Z at the initial parameters, y_s ~ q = the Gaussian fitted to the data (the
/// noise NCE uses). Starting c near log Z keeps the first logistic terms away from
/// saturation; any finite start reaches the same optimum.
template <class M>
double initial_log_z(const M& model, const MatrixD& data, std::uint64_t seed) {
  const Gaussian q = Gaussian::fit(data);
  Stream s = Stream::derive(seed, importance_stream, 0);
  std::vector<double> w(1000);
  VectorD y(Eigen::Index(q.dimension()));
  for (double& wi : w) {
    q.sample(s, y);
    wi = -double(model.energy_of(y)) - q.log_density(y);
  }
  const double c = log_mean_exp(w);
  return std::isfinite(c) ? c : 0.0;
}

io::ContinuousModel finished(const GaussianEnergy& m) {
  try {
    return m.to_gaussian();
  } catch (const Error&) {
    fail(Exit::data,
         "train gaussian: the fitted precision matrix is not positive definite, so the model is not normalisable "
         "(too few rows for the dimension, or an objective that does not fit a Gaussian to this data)");
  }
}
io::ContinuousModel finished(const GrbmFreeEnergy& m) { return m.model(); }
io::ContinuousModel finished(const StudentTExperts& m) { return m; }
io::ContinuousModel finished(const NeuralEnergy& m) { return m; }

/// The full-batch fits' L-BFGS settings: the gradient test relative to max(1, |θ|).
LbfgsOptions lbfgs_options(const ContinuousTrainConfig& c) {
  LbfgsOptions lb;
  lb.max_iterations = c.max_iterations;
  lb.gradient_tolerance = c.tolerance;
  lb.relative_tolerance = true;
  return lb;
}

LbfgsCallback lbfgs_progress(const ContinuousTrainConfig& c, Observer& obs) {
  return [&c, &obs](std::size_t it, double) { obs.progress("L-BFGS iterations", it, c.max_iterations); };
}

template <class Fit>
ContinuousTrainResult result_of(Fit&& fit, std::string objective, std::size_t parameters) {
  ContinuousTrainResult r{.model = finished(fit.model),
                          .objective = std::move(objective),
                          .trace = std::move(fit.trace),
                          .iterations = fit.iterations,
                          .converged = fit.converged,
                          .stopped_by = std::move(fit.stopped_by),
                          .acceptance = {},
                          .nce_log_z = std::nullopt,
                          .parameters = parameters};
  return r;
}

template <class M>
ContinuousTrainResult fit_full_batch(const M& init, const MatrixD& data, const ContinuousTrainConfig& c,
                                     const Exec& ex, Observer& obs) {
  const LbfgsOptions lb = lbfgs_options(c);
  const LbfgsCallback progress = lbfgs_progress(c, obs);
  const std::size_t p = init.num_parameters();
  if (c.method == "sm") return result_of(fit_score_matching(init, data, lb, ex, progress), "score matching J_SM", p);
  if (c.method == "ssm") {
    const SlicedOptions so{.projections = c.projections, .kind = Projection::rademacher, .seed = c.seed};
    return result_of(fit_sliced_score_matching(init, data, so, lb, ex, progress), "sliced score matching J_SSM", p);
  }
  if (c.method == "dsm") {
    const DenoisingOptions dso{.sigmas = c.sigmas, .draws = c.draws, .seed = c.seed};
    return result_of(fit_denoising_score_matching(init, data, dso, lb, ex, progress), "denoising score matching J_DSM",
                     p);
  }
  NceOptions no;
  no.noise_ratio = c.noise_ratio;
  no.seed = c.seed;
  no.initial_log_z = initial_log_z(init, data, c.seed);
  auto fit = fit_nce(init, data, no, lb, ex, progress);
  const double log_z = fit.log_z;
  ContinuousTrainResult r = result_of(std::move(fit), "NCE logistic loss J", p);
  r.nce_log_z = log_z;
  return r;
}

/// Score matching of the experts with unit-norm filters, the ICA-style model of
/// Hyvärinen (2005, §3.3): θ' = [V row-major, log α], w_k = v_k / ‖v_k‖. Free filter
/// norms make the sample objective unbounded below (a filter through one data point,
/// sharpened without end, sends −ΔE there to −∞); unit filters bound it. The gradient over
/// v_k is the one over w_k projected off w_k and divided by ‖v_k‖.
template <class Objective>
ContinuousTrainResult fit_experts_unit_filters(const StudentTExperts& init, const ContinuousTrainConfig& c,
                                               std::string name, Observer& obs, Objective&& objective) {
  const auto K = Eigen::Index(init.num_experts()), d = Eigen::Index(init.dimension());
  StudentTExperts model = init;
  const auto unit_rows = [&](const VectorD& theta, VectorD& norms) {
    VectorD w = theta;
    norms.resize(K);
    for (Eigen::Index k = 0; k < K; ++k) {
      norms[k] = theta.segment(k * d, d).norm();
      if (!(norms[k] > 0) || !std::isfinite(norms[k])) return false;
      w.segment(k * d, d) /= norms[k];
    }
    return detail::trial_parameters(model, w, false);
  };
  VectorD theta0 = init.parameters(), norms;
  check_data(unit_rows(theta0, norms), "train experts: a filter of the initial model is zero");
  theta0 = model.parameters();
  const auto f = [&](const VectorD& theta, VectorD& grad) {
    VectorD n;
    if (!unit_rows(theta, n)) {
      grad.setZero(theta.size());
      return std::numeric_limits<double>::infinity();
    }
    double value = objective(model, &grad);
    const VectorD& w = model.parameters();
    for (Eigen::Index k = 0; k < K; ++k) {
      auto gk = grad.segment(k * d, d);
      const auto wk = w.segment(k * d, d);
      // + ¼ (‖v_k‖² − 1)²: zero on the sphere and radial, so it leaves the fit unchanged
      // while removing the flat direction of the scale-free objective (along which
      // L-BFGS's line search stalls).
      const double excess = n[k] * n[k] - 1;
      value += 0.25 * excess * excess;
      gk = (gk - gk.dot(wk) * wk) / n[k] + excess * n[k] * wk;
    }
    return value;
  };
  LbfgsResult res = minimize_lbfgs(f, theta0, lbfgs_options(c), lbfgs_progress(c, obs));
  check_data(unit_rows(res.x, norms), "train experts: the fit ended on a zero filter");
  return ContinuousTrainResult{.model = model,
                               .objective = std::move(name),
                               .trace = std::move(res.trace),
                               .iterations = res.iterations,
                               .converged = res.converged,
                               .stopped_by = std::move(res.stopped_by),
                               .acceptance = {},
                               .nce_log_z = std::nullopt,
                               .parameters = std::size_t(init.num_parameters() - std::size_t(K))};
}

// ------------------------------------------------------------------ epoch-based runs

/// What identifies a run for --resume: every setting that changes the result.
std::string run_signature(const ContinuousTrainConfig& c, const MatrixD& data) {
  std::string levels;
  for (double s : c.sigmas) levels += fmt::format("{},", s);
  return fmt::format(
      "model={} method={} optimizer={} hidden={} learn_sigma={} alpha={} init_scale={} sigmas={} draws={} "
      "projections={} noise_ratio={} epochs={} batch={} lr={} chains={} steps={} kernel={} step_size={} "
      "leapfrog={} seed={} rows={} cols={}",
      c.model, c.method, c.optimizer, c.hidden, c.learn_sigma, c.alpha, c.init_scale, levels, c.draws, c.projections,
      c.noise_ratio, c.epochs, c.batch, c.lr, c.chains, c.steps, c.kernel, c.step_size, c.leapfrog, c.seed,
      data.rows(), data.cols());
}

/// Runs `epoch()` until the trainer has made c.epochs epochs, with progress, a checkpoint
/// after each (the trainer's state, the trace so far and the run's signature) and, with
/// c.resume, a start from the checkpoint when there is one.
template <class Trainer, class Epoch, class Restore>
void run_epochs(Trainer& trainer, const ContinuousTrainConfig& c, const MatrixD& data, ContinuousTrainResult& r,
                Observer& obs, Epoch&& epoch, Restore&& restore) {
  const std::string signature = run_signature(c, data), who = "train " + c.model;
  if (c.resume && !c.checkpoint.empty() && std::filesystem::exists(c.checkpoint)) {
    const training::Checkpoint state = read_training_checkpoint(c.checkpoint);
    check_config(state.config == signature, {"resume"},
              "{}: @0: checkpoint {} was written by a run with other settings or data; rerun the same command, "
              "or remove the checkpoint to start afresh",
              who, c.checkpoint);
    restore(state);
    r.trace = state.array(who.c_str(), "run_trace").values;
    r.acceptance = state.array(who.c_str(), "run_acceptance").values;
    obs.message(fmt::format("{}: resumed from {} after epoch {}", who, c.checkpoint, trainer.epoch()));
  }
  while (trainer.epoch() < c.epochs) {
    epoch();
    if (!c.checkpoint.empty()) {
      training::Checkpoint state = trainer.state();
      state.config = signature;
      state.put("run_trace", {r.trace.size()}, r.trace);
      state.put("run_acceptance", {r.acceptance.size()}, r.acceptance);
      write_training_checkpoint(c.checkpoint, state);
    }
    obs.progress("epochs", trainer.epoch(), c.epochs);
  }
  r.iterations = trainer.epoch();
  r.stopped_by = "epochs";
}

ContinuousTrainResult started(io::ContinuousModel model, std::string objective) {
  return ContinuousTrainResult{.model = std::move(model),
                               .objective = std::move(objective),
                               .trace = {},
                               .iterations = 0,
                               .converged = false,
                               .stopped_by = "",
                               .acceptance = {},
                               .nce_log_z = std::nullopt,
                               .parameters = 0};
}

TrainingOptions training_options(const ContinuousTrainConfig& c) {
  TrainingOptions t;
  t.batch_size = c.batch;
  t.adam.learning_rate = c.lr;
  t.average_from_epoch = c.epochs / 2;  // Polyak average over the second half
  t.seed = c.seed;
  return t;
}

template <class M>
ContinuousTrainResult fit_minibatch(const M& init, const MatrixD& data, const ContinuousTrainConfig& c,
                                    const Exec& ex, Observer& obs) {
  StochasticOptions o;
  o.objective = parse_objective(c.method);
  o.training = training_options(c);
  o.sliced = SlicedOptions{.projections = c.projections, .kind = Projection::rademacher, .seed = c.seed};
  o.denoising = DenoisingOptions{.sigmas = c.sigmas, .draws = c.draws, .seed = c.seed};
  o.nce.noise_ratio = c.noise_ratio;
  o.nce.seed = c.seed;
  if (c.method == "nce") o.nce.initial_log_z = initial_log_z(init, data, c.seed);
  StochasticTrainer<M> trainer(init, data, o);
  ContinuousTrainResult r = started(finished(init), std::string(objective_name(o.objective)) +
                                                                  " mean minibatch loss per epoch (Adam)");
  run_epochs(trainer, c, data, r, obs, [&] { r.trace.push_back(trainer.run_epoch(ex)); },
             [&](const training::Checkpoint& s) { trainer.restore(s); });
  r.model = finished(trainer.averaged_model());
  if (c.method == "nce") r.nce_log_z = trainer.log_z(true);
  r.parameters = init.num_parameters();
  return r;
}

template <class M>
ContinuousTrainResult fit_pcd(const M& init, const MatrixD& data, const ContinuousTrainConfig& c, const Exec& ex,
                              Observer& obs) {
  ContinuousPcdOptions o;
  o.chains = c.chains;
  o.kernel = parse_pcd_kernel(c.kernel);
  o.kernel_steps = c.steps;
  o.step_size = c.step_size;
  o.leapfrog_steps = c.leapfrog;
  o.adapt_updates = o.kernel == PcdKernel::ula ? 0 : (std::size_t(data.rows()) + c.batch - 1) / c.batch;
  o.training = training_options(c);
  ContinuousPcd<M> trainer(init, data, o);
  ContinuousTrainResult r =
      started(finished(init), "PCD energy gap (data mean energy - chain mean energy) per epoch");
  run_epochs(
      trainer, c, data, r, obs,
      [&] {
        const ContinuousPcdEpoch e = trainer.run_epoch(ex);
        r.trace.push_back(e.energy_gap);
        r.acceptance.push_back(e.acceptance);
      },
      [&](const training::Checkpoint& s) { trainer.restore(s); });
  r.model = finished(trainer.averaged_model());
  r.parameters = init.num_parameters();
  return r;
}

ContinuousTrainResult fit_grbm_pcd(const GaussianRbm& init, const MatrixD& data, const ContinuousTrainConfig& c,
                                   const Exec& ex, Observer& obs) {
  GrbmPcdOptions o;
  o.batch_size = c.batch;
  o.chains = c.chains;
  o.sweeps = c.steps;
  o.adam.learning_rate = c.lr;
  o.seed = c.seed;
  std::optional<GrbmPcdTrainer> trainer(std::in_place, init, data, o);
  ContinuousTrainResult r = started(init, "PCD mean gradient norm per epoch (block-Gibbs chains)");
  run_epochs(*trainer, c, data, r, obs, [&] { r.trace.push_back(trainer->run_epoch(ex, obs).mean_gradient_norm); },
             [&](const training::Checkpoint& s) { trainer.emplace(GrbmPcdTrainer::resume(data, o, s)); });
  r.model = trainer->model();
  r.parameters = GrbmFreeEnergy(init).num_parameters();
  return r;
}

template <class M>
ContinuousTrainResult fit_any(const M& init, const MatrixD& data, const ContinuousTrainConfig& c, const Exec& ex,
                              Observer& obs) {
  if (c.method == "pcd") return fit_pcd(init, data, c, ex, obs);
  if (c.optimizer == "adam") return fit_minibatch(init, data, c, ex, obs);
  return fit_full_batch(init, data, c, ex, obs);
}

}  // namespace

void ContinuousTrainConfig::validate() const {
  check_arg(one_of(model, {"gaussian", "grbm", "experts", "neural"}),
            "train: unknown model '{}' (known: gaussian, grbm, experts, neural)", model);
  const std::string who = "train " + model;
  check_config(one_of(method, {"sm", "ssm", "dsm", "nce", "pcd"}), {"method"},
            "{}: @0 must be sm, ssm, dsm, nce or pcd, got '{}'", who, method);
  check_config(one_of(optimizer, {"lbfgs", "adam"}), {"optimizer"}, "{}: @0 must be lbfgs or adam, got '{}'", who, optimizer);
  check_config(one_of(kernel, {"mala", "hmc", "ula"}), {"kernel"}, "{}: @0 must be mala, hmc or ula, got '{}'", who, kernel);
  check_config(epochs >= 1 && batch >= 1 && chains >= 1 && steps >= 1 && leapfrog >= 1, {"epochs", "batch", "chains", "steps", "leapfrog"}, "{}: @0, @1, @2, @3 and @4 must be >= 1", who);
  check_config(std::isfinite(lr) && lr > 0, {"lr"}, "{}: @0 must be finite and > 0, got {}", who, lr);
  check_config(std::isfinite(step_size) && step_size > 0, {"step_size"}, "{}: @0 must be finite and > 0, got {}", who,
            step_size);
  check_config(!resume || !checkpoint.empty(), {"resume", "checkpoint"}, "{}: @0 needs @1", who);
  check_config(model != "experts" || optimizer != "adam" || (method != "sm" && method != "ssm"), {"method", "optimizer"},
            "{}: @0 {} with @1 adam would fit free filter norms, along which the sample objective is "
            "unbounded below; use @1 lbfgs (unit-norm filters), or @0 dsm or nce",
            who, method);
  check_config(std::isfinite(alpha) && alpha > 0, {"alpha"}, "{}: @0 must be finite and > 0, got {}", who, alpha);
  check_config(std::isfinite(init_scale) && init_scale > 0, {"init_scale"}, "{}: @0 must be finite and > 0, got {}", who,
            init_scale);
  check_config(!sigmas.empty(), {"sigmas"}, "{}: @0 needs at least one noise level", who);
  for (double s : sigmas) check_config(std::isfinite(s) && s > 0, {"sigmas"}, "{}: every @0 level must be finite and > 0, got {}", who, s);
  check_config(draws >= 1, {"draws"}, "{}: @0 must be >= 1, got 0", who);
  check_config(projections >= 1, {"projections"}, "{}: @0 must be >= 1, got 0", who);
  check_config(noise_ratio >= 1, {"noise_ratio"}, "{}: @0 must be >= 1, got 0", who);
  check_config(max_iterations >= 1, {"max_iterations"}, "{}: @0 must be >= 1, got 0", who);
  check_config(std::isfinite(tolerance) && tolerance > 0, {"tolerance"}, "{}: @0 must be finite and > 0, got {}", who, tolerance);
}

ContinuousTrainResult train_continuous(const MatrixD& data, const ContinuousTrainConfig& c, const Exec& ex,
                                       Observer& obs) {
  c.validate();
  const std::string who = "train " + c.model;
  // Score matching is unbounded below along a constant column; DSM's noise bounds it,
  // NCE's fitted noise Gaussian refuses it.
  check_continuous_data(who.c_str(), data, std::size_t(data.cols()), c.method != "dsm");
  const auto d = std::size_t(data.cols());
  const std::size_t hidden = c.hidden == 0 ? d : c.hidden;
  // The weights with the optimiser's copies (L-BFGS keeps a history of them), before any is made.
  check_memory_for({d + 1, hidden, 16 * sizeof(double)}, fmt::format("{}: {} dimensions x {} hidden units", who, d, hidden));
  if (c.model == "gaussian") return fit_any(GaussianEnergy::standard(d), data, c, ex, obs);
  if (c.model == "grbm") {
    const GaussianRbm init = initial_grbm(data, c, hidden);
    if (c.method == "pcd") return fit_grbm_pcd(init, data, c, ex, obs);
    return fit_any(GrbmFreeEnergy(init), data, c, ex, obs);
  }
  if (c.model == "experts") {
    const StudentTExperts init = StudentTExperts::random(d, hidden, c.alpha, c.seed);
    if (c.method == "sm" && c.optimizer == "lbfgs")
      return fit_experts_unit_filters(init, c, "score matching J_SM (unit filters)", obs,
                                      [&](const StudentTExperts& m, VectorD* g) {
                                        return score_matching_objective(m, data, g, ex);
                                      });
    if (c.method == "ssm" && c.optimizer == "lbfgs") {
      const SlicedOptions so{.projections = c.projections, .kind = Projection::rademacher, .seed = c.seed};
      // The projections drawn once, as fit_sliced_score_matching does: the same values.
      const bool keep = detail::keep_draws(so.projections);
      const MatrixD drawn = keep ? sliced_projections_all(so, std::size_t(data.rows()), d, ex) : MatrixD();
      return fit_experts_unit_filters(init, c, "sliced score matching J_SSM (unit filters)", obs,
                                      [&](const StudentTExperts& m, VectorD* g) {
                                        return keep ? sliced_score_matching_objective(m, data, so, drawn, g, ex)
                                                    : sliced_score_matching_objective(m, data, so, g, ex);
                                      });
    }
    return fit_any(init, data, c, ex, obs);
  }
  return fit_any(NeuralEnergy::random(d, hidden, c.seed), data, c, ex, obs);
}

}  // namespace logz::api
