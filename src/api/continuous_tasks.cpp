// The continuous-energy façade: kernel and sampler settings, sampling diagnostics, the
// test log-likelihood summary, and the tasks on continuous model files (one std::visit
// over the kinds each).
#include "logz/api/continuous_tasks.hpp"

#include <Eigen/QR>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <type_traits>

#include "logz/exact/grbm_exact.hpp"

namespace logz::api {

void ContinuousKernelConfig::validate() const {
  check_config(kernel.empty() || kernel == "hmc" || kernel == "mala", {"kernel"},
               "estimate: @0 must be hmc or mala for a continuous model, got '{}'", kernel);
  check_config(std::isfinite(step_size) && step_size > 0, {"step_size"}, "estimate: @0 must be positive, got {}", step_size);
  check_config(leapfrog >= 1, {"leapfrog"}, "estimate: @0 must be >= 1, got {}", leapfrog);
}

void ContinuousSampleConfig::validate() const {
  check_config(kernel == "hmc" || kernel == "mala", {"kernel"}, "sample: @0 must be hmc or mala, got '{}'", kernel);
  check_config(std::isfinite(step_size) && step_size > 0, {"step_size"}, "sample: @0 must be positive, got {}", step_size);
  check_config(leapfrog >= 1, {"leapfrog"}, "sample: @0 must be >= 1, got {}", leapfrog);
  check_config(chains >= 1, {"chains"}, "sample: @0 must be >= 1, got {}", chains);
  check_config(steps >= 1, {"steps"}, "sample: @0 must be >= 1, got {}", steps);
  check_config(thin >= 1 && thin <= steps, {"thin", "steps"}, "sample: @0 must be in [1, @1 = {}], got {}", steps, thin);
  check_config(target_acceptance == 0 || (target_acceptance > 0 && target_acceptance < 1), {"target_acceptance"}, "sample: @0 must be in (0, 1) (0: the kernel's default), got {}", target_acceptance);
}

double ContinuousSampleConfig::acceptance_target() const {
  if (target_acceptance > 0) return target_acceptance;
  return kernel == "mala" ? 0.574 : 0.65;
}

namespace detail {

void continuous_sample_diagnostics(ContinuousSamples& s) {
  const Eigen::Index d = s.draws.cols();
  s.ess = VectorD::Constant(d, std::numeric_limits<double>::quiet_NaN());
  if (s.kept >= 4) {
    MatrixD chains(Eigen::Index(s.chains), Eigen::Index(s.kept));
    for (Eigen::Index j = 0; j < d; ++j) {
      for (std::size_t c = 0; c < s.chains; ++c) chains.row(Eigen::Index(c)) = s.chain_coordinate(c, std::size_t(j)).transpose();
      s.ess[j] = ess_mean(chains);
    }
  }
  // The smallest ESS over coordinates; a NaN (constant draws) means nothing can be said.
  s.min_ess = d > 0 && !s.ess.hasNaN() ? s.ess.minCoeff() : std::numeric_limits<double>::quiet_NaN();
  s.ess_per_gradient = s.gradient_evaluations > 0 ? s.min_ess / double(s.gradient_evaluations)
                                                  : std::numeric_limits<double>::quiet_NaN();
}

void check_test_data(const char* who, const MatrixD& data, std::size_t dimension) {
  check_data(data.rows() >= 1, "{}: data has no rows", who);
  check_data(std::size_t(data.cols()) == dimension, "{}: data has {} columns but the model has dimension {}", who,
             data.cols(), dimension);
  for (Eigen::Index r = 0; r < data.rows(); ++r)
    for (Eigen::Index c = 0; c < data.cols(); ++c)
      check_data(std::isfinite(data(r, c)), "{}: data({}, {}) is not finite ({})", who, r, c, data(r, c));
}

TestLogLikelihood summarise_log_likelihood(const std::vector<double>& energies, const LogZEstimate& log_z) {
  check_data(std::isfinite(log_z.log_z), "test_log_likelihood: log Z is not finite ({})", log_z.log_z);
  TestLogLikelihood t;
  t.rows = energies.size();
  double sum = 0;
  for (std::size_t r = 0; r < energies.size(); ++r) {
    check_data(std::isfinite(energies[r]), "test_log_likelihood: the energy of data row {} is not finite ({})", r,
               energies[r]);
    sum += energies[r];
  }
  const double n = double(t.rows);
  t.mean_energy = sum / n;
  if (t.rows >= 2) {
    double ss = 0;  // two passes: no cancellation for large energies
    for (double e : energies) ss += (e - t.mean_energy) * (e - t.mean_energy);
    t.energy_std_error = std::sqrt(ss / (n - 1) / n);
  }
  t.log_z = log_z.log_z;
  t.log_z_std_error = log_z.std_error;
  t.mean_log_likelihood = -t.mean_energy - t.log_z;
  // Independent parts (see TestLogLikelihood): their variances add.
  t.std_error = std::sqrt(t.energy_std_error * t.energy_std_error + t.log_z_std_error * t.log_z_std_error);
  return t;
}

}  // namespace detail

// ---------------------------------------------------------------- base distributions

std::string base_choice_name(BaseChoice c) {
  switch (c) {
    case BaseChoice::model_default: return "auto";
    case BaseChoice::standard: return "standard";
    case BaseChoice::fit: return "fit";
    case BaseChoice::data: return "data";
  }
  return "?";
}

ContinuousSampleConfig pilot_config(std::size_t dimension, std::uint64_t seed) {
  ContinuousSampleConfig c;
  c.kernel = "hmc";
  c.step_size = 0.1;
  c.leapfrog = 10;
  c.chains = 8;
  c.warmup = 200;
  c.steps = std::max<std::size_t>(200, 2 * (dimension + 1));
  c.seed = seed;
  return c;
}

// ---------------------------------------------------------------- continuous model files

namespace {

template <class T, class... Ts>
constexpr bool is_one_of = (std::is_same_v<T, Ts> || ...);

/// Why a product of experts cannot be normalised (StudentTExperts::normalisable() is
/// `no`): the first of its conditions that fails.
std::string not_normalisable_reason(const StudentTExperts& m) {
  const std::size_t d = m.dimension(), k = m.num_experts();
  if (m.has_closed_form())
    for (Eigen::Index j = 0; j < m.alpha().size(); ++j)
      if (!(m.alpha()[j] > 0.5))
        return fmt::format("alpha[{}] = {} <= 1/2: with as many filters as dimensions and no quadratic term, each "
                           "expert must have alpha > 1/2",
                           j, m.alpha()[j]);
  const Eigen::ColPivHouseholderQR<MatrixD> qr(m.filters());
  if (std::size_t(qr.rank()) < d)
    return fmt::format("the {} filters span only {} of {} dimensions and the quadratic term is 0: the energy is flat "
                       "along the rest",
                       k, qr.rank(), d);
  if (!(m.alpha().sum() > 0.5 * double(d)))
    return fmt::format("sum(alpha) = {} <= d/2 = {} with the quadratic term 0: the density decays too slowly",
                       m.alpha().sum(), 0.5 * double(d));
  return "the filters are singular and the quadratic term is 0";
}

}  // namespace

std::string continuous_kind(const ContinuousModel& m) { return std::string(io::kind_name(io::kind_of(m))); }

std::size_t continuous_dimension(const ContinuousModel& m) { return io::dimension_of(m); }

void check_normalisable(const char* who, const ContinuousModel& m) {
  if (const auto* e = std::get_if<StudentTExperts>(&m); e != nullptr && e->normalisable() == Normalisable::no)
    fail(Exit::data, "{}: the model is not normalisable ({})", who, not_normalisable_reason(*e));
}

std::optional<double> continuous_exact_log_z(const ContinuousModel& m, const Exec& ex) {
  check_normalisable("continuous_exact_log_z", m);
  return std::visit(
      [&](const auto& model) -> std::optional<double> {
        using T = std::decay_t<decltype(model)>;
        if constexpr (std::is_same_v<T, Gaussian>) return model.log_partition();
        else if constexpr (std::is_same_v<T, GaussianRbm>) {
          if (model.n_hidden() <= kGrbmMaxExactHidden) return grbm_exact_log_z(model, ex);
          return std::nullopt;
        } else if constexpr (std::is_same_v<T, StudentTExperts>) {
          if (model.has_closed_form()) return model.log_partition();
          return std::nullopt;
        } else {
          return std::nullopt;
        }
      },
      m);
}

std::string no_exact_reason(const ContinuousModel& m) {
  return std::visit(
      [](const auto& model) -> std::string {
        using T = std::decay_t<decltype(model)>;
        if constexpr (std::is_same_v<T, Gaussian>) return "";
        else if constexpr (std::is_same_v<T, GaussianRbm>)
          return model.n_hidden() <= kGrbmMaxExactHidden
                     ? ""
                     : fmt::format("a GRBM's exact log Z enumerates the hidden layer: at most {} hidden units, the "
                                   "model has {}",
                                   kGrbmMaxExactHidden, model.n_hidden());
        else if constexpr (std::is_same_v<T, StudentTExperts>)
          return model.has_closed_form()
                     ? ""
                     : fmt::format("the experts' closed form needs as many filters as dimensions and no quadratic "
                                   "term; the model has {} filters in {} dimensions, quadratic {}",
                                   model.num_experts(), model.dimension(), model.quadratic());
        else
          return "a neural energy has no closed form for log Z";
      },
      m);
}

Gaussian continuous_start(const ContinuousModel& m) {
  return std::visit(
      [](const auto& model) -> Gaussian {
        using T = std::decay_t<decltype(model)>;
        if constexpr (std::is_same_v<T, Gaussian>) return model;
        else if constexpr (std::is_same_v<T, GaussianRbm>) {
          const VectorD s = model.visible_sigma;
          return Gaussian(model.visible_bias, s.cwiseProduct(s).cwiseInverse().asDiagonal().toDenseMatrix());
        } else
          return Gaussian::isotropic(std::size_t(model.dimension()), 1.0);
      },
      m);
}

Gaussian continuous_base(const ContinuousModel& m, const BaseSpec& spec, std::uint64_t seed, const Exec& ex) {
  check_normalisable("continuous_base", m);
  const std::size_t d = continuous_dimension(m);
  switch (spec.choice) {
    case BaseChoice::standard: return Gaussian::isotropic(d, 1.0);
    case BaseChoice::data:
      check_data(std::size_t(spec.data.cols()) == d, "continuous_base: the base data has {} columns, the model has {}",
                 spec.data.cols(), d);
      return Gaussian::fit(spec.data);
    case BaseChoice::fit:
      return visit_energy(m, [&](const auto& energy) { return fitted_base(energy, continuous_start(m), seed, ex); });
    case BaseChoice::model_default: break;
  }
  if (const auto* g = std::get_if<Gaussian>(&m)) {
    const VectorD var = g->covariance().diagonal();
    return Gaussian(g->mean(), var.cwiseInverse().asDiagonal().toDenseMatrix());
  }
  if (const auto* r = std::get_if<GaussianRbm>(&m); r != nullptr && r->n_hidden() <= kGrbmMaxTableHidden) {
    const GrbmMoments mo = grbm_exact_moments(*r);
    const MatrixD cov = 0.5 * (mo.covariance + mo.covariance.transpose());
    MatrixD precision = cov.llt().solve(MatrixD::Identity(cov.rows(), cov.cols()));
    precision = 0.5 * (precision + precision.transpose()).eval();
    return Gaussian(mo.mean, precision);
  }
  return visit_energy(m, [&](const auto& energy) { return fitted_base(energy, continuous_start(m), seed, ex); });
}

LogZEstimate estimate_continuous(const ContinuousModel& m, const Gaussian& base, const EstimateConfig& config,
                                 const ContinuousKernelConfig& kernel, const MatrixD* start, const Exec& ex,
                                 Observer& obs) {
  config.validate();
  kernel.validate();
  check_normalisable("estimate", m);
  if (config.method == "exact") {
    const auto start_time = std::chrono::steady_clock::now();
    const std::optional<double> z = continuous_exact_log_z(m, ex);
    check_config(z.has_value(), {"method"}, "estimate: @0 exact is not available: {}", no_exact_reason(m));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
    return exact_estimate(*z, std::holds_alternative<GaussianRbm>(m) ? "exact (hidden layer enumerated)" : "exact (closed form)",
                          seconds);
  }
  check_arg(base.dimension() == continuous_dimension(m), "estimate: the base has dimension {} but the model has {}",
            base.dimension(), continuous_dimension(m));
  if (start != nullptr)
    check_data(std::size_t(start->cols()) == continuous_dimension(m),
               "estimate: the start states have {} columns, the model has dimension {}", start->cols(),
               continuous_dimension(m));
  return visit_energy(m, [&](const auto& energy) {
    // A plain estimator run: the closed form is handled above, so hide it from the template.
    return continuous_estimate(energy, base, config, kernel, start, ex, obs);
  });
}

ContinuousSamples sample_continuous_model(const ContinuousModel& m, const ContinuousSampleConfig& config,
                                          const Exec& ex, Observer& obs) {
  config.validate();
  check_normalisable("sample", m);
  const Gaussian init = continuous_start(m);
  return visit_energy(m, [&](const auto& energy) { return sample_continuous(energy, init, config, ex, obs); });
}

bool has_exact_samples(const ContinuousModel& m) {
  return std::visit(
      [](const auto& model) {
        using T = std::decay_t<decltype(model)>;
        if constexpr (std::is_same_v<T, Gaussian>) return true;
        else if constexpr (std::is_same_v<T, GaussianRbm>) return model.n_hidden() <= kGrbmMaxTableHidden;
        else if constexpr (std::is_same_v<T, StudentTExperts>) return model.has_closed_form();
        else return false;
      },
      m);
}

MatrixD exact_continuous_samples(const ContinuousModel& m, std::size_t count, std::uint64_t seed, const Exec& ex) {
  check_normalisable("sample", m);
  check_config(has_exact_samples(m), {"exact"}, "sample: @0 needs a Gaussian, a GRBM with at most {} hidden units or experts with the closed form "
            "(as many filters as dimensions, no quadratic term); this {} model has none",
            kGrbmMaxTableHidden, continuous_kind(m));
  if (const auto* r = std::get_if<GaussianRbm>(&m)) return grbm_exact_samples(*r, count, seed, ex).visible;
  const std::size_t d = continuous_dimension(m);
  MatrixD x = MatrixD::Zero(Eigen::Index(count), Eigen::Index(d));
  const Blocks blocks = row_blocks(count);
  std::visit(
      [&](const auto& model) {
        using T = std::decay_t<decltype(model)>;
        if constexpr (is_one_of<T, Gaussian, StudentTExperts>) {
          parallel_for(ex, blocks.count(), [&](std::size_t t) {
            VectorD v = VectorD::Zero(Eigen::Index(d));
            for (std::size_t r = blocks.begin(t); r < blocks.end(t); ++r) {
              Stream rng = Stream::derive(seed, Purpose::sample, r);
              model.sample(rng, v);
              x.row(Eigen::Index(r)) = v.transpose();
            }
          });
        }
      },
      m);
  return x;
}

TestLogLikelihood continuous_log_likelihood(const ContinuousModel& m, const MatrixD& data, const LogZEstimate& log_z,
                                            const Exec& ex) {
  return visit_energy(m, [&](const auto& energy) { return test_log_likelihood(energy, data, log_z, ex); });
}

}  // namespace logz::api
