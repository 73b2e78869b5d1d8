#pragma once
/// @file continuous_tasks.hpp
/// The façade for continuous energies (models on R^d with an energy gradient), used by
/// `logz estimate`, `logz sample` and `logz eval` (docs/continuous-cli.md):
///  - log Z by any estimator of the suite on the geometric path from a Gaussian base
///    N(μ_0, Σ_0), whose normaliser log Z_0 = (d/2) log 2π + ½ log det Σ_0 is part of the
///    estimate (a path from an improper flat base would be wrong), moved by HMC or MALA on
///    the tempered energy (1−β) E_0 + β E_1 (tempering/path.hpp);
///  - sampling: independent HMC (Neal 2011) or MALA chains whose step size is adapted by
///    dual averaging (Hoffman & Gelman 2014) during warm-up and frozen afterwards, so that
///    the kept draws come from a fixed, exact kernel; with acceptance rate, per-coordinate
///    effective sample size (diagnostics/mcmc.hpp) and ESS per gradient evaluation;
///  - the test log-likelihood mean_x [−E(x)] − log Z with its standard error;
///  - the same tasks for a continuous model file (io/continuous_file.hpp: Gaussian,
///    Gaussian–Bernoulli RBM, product of Student-t experts, neural energy), dispatched on
///    the kind, with a default base per kind, exact log Z where a closed form or an
///    enumeration exists, and a refusal (Error(Exit::data)) of models that cannot be
///    normalised, never a NaN result.
/// Every random result is a function of the seed and the chain index only: the same bits
/// for any thread count.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "logz/api/estimate.hpp"
#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/observer.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/io/continuous_file.hpp"
#include "logz/kernels/hmc.hpp"
#include "logz/kernels/langevin.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/tempering/path.hpp"

namespace logz::api {

/// The kernel of the moves: "hmc" (step_size, leapfrog steps) or "mala" (step_size);
/// EstimateConfig::sweeps kernel steps per move. `kernel` empty means the model's default:
/// hmc here; Ising and Potts models read the same field as gibbs, sw or sw-gibbs
/// (api/mrf_tasks.hpp: MrfKernel), so one `kernel` option serves every kind.
struct ContinuousKernelConfig {
  std::string kernel = "";
  double step_size = 0.1;
  std::size_t leapfrog = 10;
  /// Throws ConfigError naming the field unless kernel is "", hmc or mala and the numbers are in range.
  void validate() const;
  /// The kernel run: "hmc" when `kernel` is empty.
  std::string name() const { return kernel.empty() ? std::string("hmc") : kernel; }
};

/// log Z of `target` by `config` from the base `base`; "exact" needs a closed form
/// (targets with log_partition(), e.g. Gaussian and the 2-D toys). `start` holds the
/// reverse chains' start states for raise.
template <DifferentiableEnergy Target>
LogZEstimate continuous_estimate(const Target& target, const Gaussian& base, const EstimateConfig& config,
                                 const ContinuousKernelConfig& kernel, const MatrixD* start, const Exec& ex,
                                 Observer& obs = silent_observer()) {
  config.validate();
  kernel.validate();
  if (config.method == "exact") {
    if constexpr (requires { target.log_partition(); }) {
      return exact_estimate(target.log_partition(), "exact (closed form)", 0.0);
    } else {
      check_config(false, {"method"}, "estimate: @0 exact needs a closed form for log Z, which this energy has not");
    }
  }
  if (kernel.kernel == "mala") {
    using Move = TemperedKernelMove<Mala, Gaussian, Target>;
    const GeometricPath<Gaussian, Target, Move> path(base, target, Move{base, target, {kernel.step_size, 1, 1.0}, config.sweeps});
    return estimate_on_path(path, config, start, ex, obs);
  }
  using Move = TemperedKernelMove<Hmc, Gaussian, Target>;
  const GeometricPath<Gaussian, Target, Move> path(base, target,
                                                   Move{base, target, {kernel.step_size, kernel.leapfrog, 1.0}, config.sweeps});
  return estimate_on_path(path, config, start, ex, obs);
}

// ---------------------------------------------------------------- sampling

/// Independent chains of HMC or MALA with the step size adapted during warm-up.
struct ContinuousSampleConfig {
  std::string kernel = "hmc";  ///< hmc or mala
  double step_size = 0.1;      ///< ε at the start of warm-up (the whole run when warmup = 0)
  std::size_t leapfrog = 10;   ///< hmc: leapfrog steps per trajectory
  std::size_t chains = 4;      ///< independent chains (>= 1)
  /// Steps whose acceptance probabilities adapt ε by dual averaging; their draws are
  /// discarded. 0: no adaptation, ε = step_size throughout.
  std::size_t warmup = 500;
  std::size_t steps = 1000;  ///< steps per chain after warm-up (>= 1), ε frozen
  std::size_t thin = 1;      ///< keep every thin-th of them (>= 1)
  /// The acceptance probability dual averaging aims at; 0 picks the kernel's usual optimum:
  /// 0.65 for HMC (Beskos et al. 2013, Hoffman & Gelman's default), 0.574 for MALA
  /// (Roberts & Rosenthal 1998).
  double target_acceptance = 0;
  std::uint64_t seed = 1;
  /// Throws Error(Exit::usage) "sample: --<option> must be ..., got <value>".
  void validate() const;
  /// target_acceptance, or the kernel's default when it is 0.
  double acceptance_target() const;
};

/// The draws of sample_continuous and their diagnostics.
struct ContinuousSamples {
  /// [chains · kept, d]: chain c's kept draws, in order, in rows c·kept .. (c+1)·kept − 1.
  MatrixD draws;
  std::size_t chains = 0, kept = 0;
  std::vector<double> step_sizes;  ///< each chain's ε after warm-up (dual averaging's ε̄)
  /// Mean acceptance probability (Info::acceptance_probability) over the steps after
  /// warm-up of every chain.
  double acceptance_rate = std::numeric_limits<double>::quiet_NaN();
  VectorD ess;  ///< per coordinate, ess_mean of the chains' kept draws (NaN: fewer than 4 kept or constant)
  double min_ess = std::numeric_limits<double>::quiet_NaN();  ///< the smallest of them
  std::size_t gradient_evaluations = 0;         ///< after warm-up, all chains
  std::size_t warmup_gradient_evaluations = 0;  ///< during warm-up, all chains
  double ess_per_gradient = std::numeric_limits<double>::quiet_NaN();  ///< min_ess / gradient_evaluations
  std::size_t non_finite = 0;  ///< proposals rejected as non-finite, whole run
  /// Chain c's kept draws of coordinate j (kept entries).
  VectorD chain_coordinate(std::size_t c, std::size_t j) const {
    return draws.block(Eigen::Index(c * kept), Eigen::Index(j), Eigen::Index(kept), 1);
  }
};

namespace detail {
/// ess, min_ess and ess_per_gradient of `s` from its draws.
void continuous_sample_diagnostics(ContinuousSamples& s);

/// One step of the configured kernel with step size `eps` on `model`.
template <DifferentiableEnergy M>
ContinuousInfo continuous_step(const M& model, const ContinuousSampleConfig& c, double eps, VectorD& x, Stream& rng) {
  if (c.kernel == "mala") return Mala({eps, 1, 1.0}).step(model, x, rng);
  return Hmc({eps, c.leapfrog, 1.0}).step(model, x, rng);
}
}  // namespace detail

/// `config.chains` independent chains on exp(−E). Chain c draws only from
/// Stream::derive(seed, Purpose::sample, c): first its start state, an exact draw from
/// `init` (a Gaussian roughly where the mass is; N(0, I) will do for the warm-up to
/// correct), then its steps. During warm-up, its own DualAveraging sets ε after every
/// step from the step's acceptance probability; afterwards ε is the averaged ε̄, fixed.
/// Chains run in parallel, one task each: the result is the same for any thread count.
/// Throws Error(Exit::usage) from validate or when init's dimension differs from the
/// model's.
template <DifferentiableEnergy M>
ContinuousSamples sample_continuous(const M& model, const Gaussian& init, const ContinuousSampleConfig& config,
                                    const Exec& ex, Observer& obs = silent_observer()) {
  config.validate();
  const std::size_t d = model.dimension();
  check_arg(init.dimension() == d, "sample: the start distribution has dimension {} but the model has {}",
            init.dimension(), d);
  ContinuousSamples s;
  s.chains = config.chains;
  s.kept = config.steps / config.thin;
  s.draws.resize(Eigen::Index(s.chains * s.kept), Eigen::Index(d));
  s.step_sizes.assign(s.chains, config.step_size);
  struct ChainTotals {
    double acceptance = 0;
    std::size_t gradients = 0, warmup_gradients = 0, non_finite = 0;
  };
  std::vector<ChainTotals> totals(s.chains);
  const double target = config.acceptance_target();
  ProgressTicker ticker(obs, "sample", s.chains * (config.warmup + config.steps));
  parallel_for(ex, s.chains, [&](std::size_t c) {
    Stream rng = Stream::derive(config.seed, Purpose::sample, c);
    VectorD x = VectorD::Zero(Eigen::Index(d));
    init.sample(rng, x);
    ChainTotals& t = totals[c];
    DualAveraging adapt(config.step_size, DualAveragingParams{target});
    double eps = config.step_size;
    for (std::size_t k = 0; k < config.warmup; ++k) {
      const ContinuousInfo info = detail::continuous_step(model, config, eps, x, rng);
      t.warmup_gradients += info.gradient_evaluations;
      t.non_finite += info.non_finite;
      eps = adapt.update(info.acceptance_probability);
      ticker.add(1);
    }
    if (config.warmup > 0) eps = adapt.final_step_size();
    s.step_sizes[c] = eps;
    std::size_t row = c * s.kept;
    for (std::size_t k = 1; k <= config.steps; ++k) {
      const ContinuousInfo info = detail::continuous_step(model, config, eps, x, rng);
      t.gradients += info.gradient_evaluations;
      t.non_finite += info.non_finite;
      t.acceptance += info.acceptance_probability;
      if (k % config.thin == 0 && row < (c + 1) * s.kept) s.draws.row(Eigen::Index(row++)) = x.transpose();
      ticker.add(1);
    }
  });
  ticker.finish();
  double acceptance = 0;
  for (const ChainTotals& t : totals) {  // in chain order: the same bits for any thread count
    acceptance += t.acceptance;
    s.gradient_evaluations += t.gradients;
    s.warmup_gradient_evaluations += t.warmup_gradients;
    s.non_finite += t.non_finite;
  }
  s.acceptance_rate = acceptance / double(s.chains * config.steps);
  detail::continuous_sample_diagnostics(s);
  return s;
}

// ---------------------------------------------------------------- test log-likelihood

/// The mean log-likelihood of data rows, −E(x) − log Z averaged, with its two parts.
/// std_error² = Var(−E)/N + SE(log Z)²: the sample variance of −E over the N rows (the
/// spread of the data) and the estimator's own error. The two are independent: log Z is
/// estimated from the estimator's random streams, which never see the data (for raise,
/// whose chains start at data rows, the two are not independent and the sum is only an
/// approximation).
struct TestLogLikelihood {
  double mean_log_likelihood = std::numeric_limits<double>::quiet_NaN();
  double std_error = std::numeric_limits<double>::quiet_NaN();
  double mean_energy = std::numeric_limits<double>::quiet_NaN();       ///< mean E(x) over the rows
  double energy_std_error = std::numeric_limits<double>::quiet_NaN();  ///< sd(E)/√N (NaN for one row)
  double log_z = std::numeric_limits<double>::quiet_NaN();             ///< the log Z used
  double log_z_std_error = std::numeric_limits<double>::quiet_NaN();   ///< its standard error
  std::size_t rows = 0;
};

namespace detail {
/// Checks the data of test_log_likelihood: at least one row (Exit::data), `dimension`
/// columns (Exit::data) and finite entries (Exit::data), messages naming `who`.
void check_test_data(const char* who, const MatrixD& data, std::size_t dimension);
/// The summary from the per-row energies (in row order) and log Z.
TestLogLikelihood summarise_log_likelihood(const std::vector<double>& energies, const LogZEstimate& log_z);
}  // namespace detail

/// Energies of the rows in fixed row blocks (any thread count, same bits), then the
/// summary. Throws Error(Exit::data) "test_log_likelihood: ..." on an empty, wrong-width
/// or non-finite `data`, on a row whose energy is not finite and on a non-finite log Z.
/// E(x) of each row of `data`, over fixed row blocks (the same bits for any thread count).
/// The width is the caller's to check.
template <EnergyModel M>
VectorD row_energies(const M& model, const Eigen::Ref<const MatrixD>& data, const Exec& ex) {
  VectorD energies(data.rows());
  const Blocks blocks = row_blocks(std::size_t(data.rows()));
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    VectorD x(data.cols());
    for (std::size_t r = blocks.begin(t); r < blocks.end(t); ++r) {
      x = data.row(Eigen::Index(r)).transpose();
      energies[Eigen::Index(r)] = double(model.energy_of(x));
    }
  });
  return energies;
}

template <EnergyModel M>
TestLogLikelihood test_log_likelihood(const M& model, const MatrixD& data, const LogZEstimate& log_z, const Exec& ex) {
  detail::check_test_data("test_log_likelihood", data, model.dimension());
  const VectorD e = row_energies(model, data, ex);
  return detail::summarise_log_likelihood(std::vector<double>(e.data(), e.data() + e.size()), log_z);
}

// ---------------------------------------------------------------- base distributions

/// How the Gaussian base of a continuous path (and the start of sampling chains) is chosen.
enum class BaseChoice {
  model_default,  ///< the kind's default (continuous_base says which)
  standard,       ///< N(0, I)
  fit,            ///< Gaussian::fit on the draws of a short HMC pilot run (pilot_config)
  data,           ///< Gaussian::fit on the rows of BaseSpec::data (e.g. training data)
};
struct BaseSpec {
  BaseChoice choice = BaseChoice::model_default;
  MatrixD data;  ///< the rows for BaseChoice::data
};
/// "auto", "standard", "fit" or "data" (what the CLI's --base names).
std::string base_choice_name(BaseChoice c);

/// The pilot run of BaseChoice::fit: 8 chains of HMC (10 leapfrog steps, ε from 0.1 adapted
/// over 200 warm-up steps), max(200, 2(d + 1)) kept steps each, on streams of `seed`.
ContinuousSampleConfig pilot_config(std::size_t dimension, std::uint64_t seed);

/// Gaussian::fit of the draws of a pilot run (pilot_config) on `model` from `init`.
/// Throws Error(Exit::data) as Gaussian::fit when the draws cannot determine a
/// covariance (e.g. chains that never moved).
template <DifferentiableEnergy M>
Gaussian fitted_base(const M& model, const Gaussian& init, std::uint64_t seed, const Exec& ex) {
  return Gaussian::fit(sample_continuous(model, init, pilot_config(model.dimension(), seed), ex).draws);
}

// ---------------------------------------------------------------- continuous model files

using ContinuousModel = io::ContinuousModel;

/// "gaussian", "grbm", "experts" or "neural".
std::string continuous_kind(const ContinuousModel& m);
/// d, the dimension of the data space.
std::size_t continuous_dimension(const ContinuousModel& m);

/// Calls f(energy) with the model's DifferentiableEnergy: the Gaussian itself, the GRBM's
/// free energy (GrbmFreeEnergy), the experts or the neural energy. Returns what f does.
template <class F>
decltype(auto) visit_energy(const ContinuousModel& m, F&& f);

/// Throws Error(Exit::data) "<who>: the model is not normalisable (why)" when ∫ exp(−E)
/// is infinite: a product of Student-t experts without the quadratic term whose
/// StudentTExperts::normalisable() is `no` (with K = d filters an α_k <= ½; filters that
/// do not span R^d, so that E is flat along the rest; or Σ α_k <= d/2, a density that
/// decays too slowly). Gaussians (positive-definite precision, checked on construction),
/// GRBMs (σ > 0) and neural energies (λ > 0) always are. Experts whose normalisability is
/// `unknown` (K > d, λ = 0, the conditions above inconclusive) are let through: the
/// estimators then report what they find.
void check_normalisable(const char* who, const ContinuousModel& m);

/// Exact log Z where one exists: Gaussian (closed form), GRBM with at most 30 hidden
/// units (grbm_exact_log_z), experts with K = d and λ = 0 (closed form); nullopt
/// otherwise. Throws as check_normalisable.
std::optional<double> continuous_exact_log_z(const ContinuousModel& m, const Exec& ex);
/// Why continuous_exact_log_z has no value for `m` (empty when it has one).
std::string no_exact_reason(const ContinuousModel& m);

/// The Gaussian base for `m`. BaseChoice::model_default is, per kind:
///  - gaussian: N(μ, diag Σ), the model's own means and variances without correlations
///    (the model itself would make every estimator exact and test nothing);
///  - grbm with at most 20 hidden units: N(E v, Cov v), the exact moments of the visible
///    mixture (grbm_exact_moments); with more: the fit of a pilot run started at
///    N(b, diag σ²);
///  - experts and neural: the fit of a pilot run started at N(0, I).
/// Pilot runs use `seed`. Throws Error(Exit::data) when BaseSpec::data has the wrong width
/// or cannot be fitted (Gaussian::fit's messages) and as check_normalisable.
Gaussian continuous_base(const ContinuousModel& m, const BaseSpec& spec, std::uint64_t seed, const Exec& ex);

/// Where sampling chains start: N(μ, Σ) for a Gaussian, N(b, diag σ²) for a GRBM, N(0, I)
/// otherwise (warm-up moves them to the mass).
Gaussian continuous_start(const ContinuousModel& m);

/// log Z of `m` by `config`: "exact" by continuous_exact_log_z (Error(Exit::usage) naming
/// why when there is none), any other method by continuous_estimate from `base`.
/// `start`: the reverse chains' start states (raise). Throws as check_normalisable first.
LogZEstimate estimate_continuous(const ContinuousModel& m, const Gaussian& base, const EstimateConfig& config,
                                 const ContinuousKernelConfig& kernel, const MatrixD* start, const Exec& ex,
                                 Observer& obs = silent_observer());

/// sample_continuous on the model's energy from continuous_start(m). Throws as
/// check_normalisable first (chains on a non-normalisable density drift away).
ContinuousSamples sample_continuous_model(const ContinuousModel& m, const ContinuousSampleConfig& config,
                                          const Exec& ex, Observer& obs = silent_observer());

/// Whether `m` has exact independent draws: a Gaussian, a GRBM with at most 20 hidden
/// units, experts with the closed form.
bool has_exact_samples(const ContinuousModel& m);
/// `count` exact draws, one per row; row r uses Stream::derive(seed, Purpose::sample, r)
/// only (GRBM: grbm_exact_samples), so the same bits for any thread count. Throws
/// Error(Exit::usage) naming the reason when has_exact_samples is false, and as
/// check_normalisable.
MatrixD exact_continuous_samples(const ContinuousModel& m, std::size_t count, std::uint64_t seed, const Exec& ex);

/// test_log_likelihood of `data` under the model's energy with `log_z`.
TestLogLikelihood continuous_log_likelihood(const ContinuousModel& m, const MatrixD& data, const LogZEstimate& log_z,
                                            const Exec& ex);

}  // namespace logz::api

#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/neural_energy.hpp"
#include "logz/models/student_t_experts.hpp"

namespace logz::api {

template <class F>
decltype(auto) visit_energy(const ContinuousModel& m, F&& f) {
  return std::visit(
      [&](const auto& model) -> decltype(auto) {
        using T = std::decay_t<decltype(model)>;
        if constexpr (std::is_same_v<T, GaussianRbm>) {
          const GrbmFreeEnergy energy(model);
          return f(energy);
        } else {
          return f(model);
        }
      },
      m);
}

}  // namespace logz::api
