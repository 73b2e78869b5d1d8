// The continuous training façade: model start from the data and the seed, then one of
// the objectives of logz/objectives fitted by L-BFGS.
#include "logz/api/continuous_train.hpp"

#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/rng.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/neural_energy.hpp"
#include "logz/models/student_t_experts.hpp"
#include "logz/objectives/nce.hpp"
#include "logz/objectives/score_matching.hpp"

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
  Stream s = Stream::derive(seed, Purpose::importance, 0);
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

template <class Fit>
ContinuousTrainResult result_of(Fit&& fit, std::string objective, std::size_t parameters) {
  ContinuousTrainResult r{.model = finished(fit.model),
                          .objective = std::move(objective),
                          .trace = std::move(fit.trace),
                          .iterations = fit.iterations,
                          .converged = fit.converged,
                          .stopped_by = std::move(fit.stopped_by),
                          .nce_log_z = std::nullopt,
                          .parameters = parameters};
  return r;
}

template <class M>
ContinuousTrainResult fit_full_batch(const M& init, const MatrixD& data, const ContinuousTrainConfig& c,
                                     const Exec& ex, Observer& obs) {
  LbfgsOptions lb;
  lb.max_iterations = c.max_iterations;
  lb.gradient_tolerance = c.tolerance;
  lb.relative_tolerance = true;
  const auto progress = [&](std::size_t it, double) { obs.progress("L-BFGS iterations", it, c.max_iterations); };
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
  LbfgsOptions lb;
  lb.max_iterations = c.max_iterations;
  lb.gradient_tolerance = c.tolerance;
  lb.relative_tolerance = true;
  LbfgsResult res = minimize_lbfgs(f, theta0, lb, [&](std::size_t it, double) {
    obs.progress("L-BFGS iterations", it, c.max_iterations);
  });
  check_data(unit_rows(res.x, norms), "train experts: the fit ended on a zero filter");
  return ContinuousTrainResult{.model = model,
                               .objective = std::move(name),
                               .trace = std::move(res.trace),
                               .iterations = res.iterations,
                               .converged = res.converged,
                               .stopped_by = std::move(res.stopped_by),
                               .nce_log_z = std::nullopt,
                               .parameters = std::size_t(init.num_parameters() - std::size_t(K))};
}

}  // namespace

void ContinuousTrainConfig::validate() const {
  check_arg(one_of(model, {"gaussian", "grbm", "experts", "neural"}),
            "train: unknown model '{}' (known: gaussian, grbm, experts, neural)", model);
  const std::string who = "train " + model;
  check_arg(one_of(method, {"sm", "ssm", "dsm", "nce"}), "{}: --method must be sm, ssm, dsm or nce, got '{}'", who,
            method);
  check_arg(optimizer == "lbfgs", "{}: --optimizer must be lbfgs, got '{}'", who, optimizer);
  check_arg(std::isfinite(alpha) && alpha > 0, "{}: --alpha must be finite and > 0, got {}", who, alpha);
  check_arg(std::isfinite(init_scale) && init_scale > 0, "{}: --init-scale must be finite and > 0, got {}", who,
            init_scale);
  check_arg(!sigmas.empty(), "{}: --sigmas needs at least one noise level", who);
  for (double s : sigmas) check_arg(std::isfinite(s) && s > 0, "{}: every --sigmas level must be finite and > 0, got {}", who, s);
  check_arg(draws >= 1, "{}: --draws must be >= 1, got 0", who);
  check_arg(projections >= 1, "{}: --projections must be >= 1, got 0", who);
  check_arg(noise_ratio >= 1, "{}: --noise-ratio must be >= 1, got 0", who);
  check_arg(max_iterations >= 1, "{}: --max-iterations must be >= 1, got 0", who);
  check_arg(std::isfinite(tolerance) && tolerance > 0, "{}: --tolerance must be finite and > 0, got {}", who, tolerance);
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
  if (c.model == "gaussian") return fit_full_batch(GaussianEnergy::standard(d), data, c, ex, obs);
  if (c.model == "grbm") return fit_full_batch(GrbmFreeEnergy(initial_grbm(data, c, hidden)), data, c, ex, obs);
  if (c.model == "experts") {
    const StudentTExperts init = StudentTExperts::random(d, hidden, c.alpha, c.seed);
    if (c.method == "sm")
      return fit_experts_unit_filters(init, c, "score matching J_SM (unit filters)", obs,
                                      [&](const StudentTExperts& m, VectorD* g) {
                                        return score_matching_objective(m, data, g, ex);
                                      });
    if (c.method == "ssm") {
      const SlicedOptions so{.projections = c.projections, .kind = Projection::rademacher, .seed = c.seed};
      return fit_experts_unit_filters(init, c, "sliced score matching J_SSM (unit filters)", obs,
                                      [&](const StudentTExperts& m, VectorD* g) {
                                        return sliced_score_matching_objective(m, data, so, g, ex);
                                      });
    }
    return fit_full_batch(init, data, c, ex, obs);
  }
  return fit_full_batch(NeuralEnergy::random(d, hidden, c.seed), data, c, ex, obs);
}

}  // namespace logz::api
