#pragma once
/// @file nce.hpp
/// Noise-contrastive estimation (Gutmann & Hyvärinen 2010, AISTATS; 2012, "Noise-
/// contrastive estimation of unnormalized statistical models", JMLR 13) for continuous
/// energies (docs/score-matching.md). The model log p_m(u) = −E(u; θ) − c carries its
/// log partition function c as one more learned parameter; the data x_1..x_N are told
/// apart from ν noise samples y_n1..y_nν per data row, drawn from a Gaussian q, by
/// logistic regression on
///   z(u) = log p_m(u) − log q(u) − log ν = −E(u) − c − log q(u) − log ν:
///   J(θ, c) = (1/N) Σ_n [ softplus(−z(x_n)) + Σ_k softplus(z(y_nk)) ],
/// the negative of J_T of the 2012 paper (1/T_d-normalised). Its minimiser is
/// consistent for (θ, c) when the model family holds the data density and q > 0
/// wherever the data is; then c estimates log Z(θ). Gradient, σ the logistic function:
///   ∂J/∂θ = (1/N) Σ_n [ σ(−z(x_n)) ∂E(x_n)/∂θ − Σ_k σ(z(y_nk)) ∂E(y_nk)/∂θ ],
///   ∂J/∂c = (1/N) Σ_n [ σ(−z(x_n)) − Σ_k σ(z(y_nk)) ].
/// The noise samples are drawn once per problem, fixed per (seed, row, k), so J is a
/// deterministic function that L-BFGS can minimise; rows are summed over fixed blocks in
/// block order (bit-identical for any thread count).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/objectives/score_matching.hpp"
#include "logz/optim/lbfgs.hpp"

namespace logz {

struct NceOptions {
  /// The noise distribution q; empty: Gaussian::fit(data) (mean and covariance of the
  /// data, the usual choice: q close to the data keeps the classification hard).
  std::optional<Gaussian> noise;
  std::size_t noise_ratio = 1;  ///< ν noise samples per data sample, >= 1
  std::uint64_t seed = 0;
  double initial_log_z = 0;     ///< c at the start of a fit, finite
};

/// The noise samples of rows 0..rows−1: row n·ν + k holds y_nk, drawn by noise.sample
/// from Stream::derive(seed, Purpose::noise, n) in order k = 0, 1, .. (so y_nk does not
/// depend on ν beyond k < ν, nor on the thread count).
MatrixD nce_noise_samples(const Gaussian& noise, std::size_t rows, std::size_t ratio, std::uint64_t seed,
                          const Exec& ex);

/// The state of one NCE problem: a copy of the data, the noise distribution, its samples
/// and log q at every data and noise point.
class NceProblem {
 public:
  /// Throws as check_continuous_data (named "NceProblem"; constant columns refused),
  /// Error(Exit::usage) on noise_ratio == 0, a non-finite initial_log_z or a noise of
  /// another dimension than the data, and as Gaussian::fit when no noise is given.
  NceProblem(const MatrixD& data, const NceOptions& options, const Exec& ex);

  const MatrixD& data() const { return data_; }
  const Gaussian& noise() const { return noise_; }
  const MatrixD& noise_samples() const { return noise_samples_; }
  std::size_t noise_ratio() const { return ratio_; }

  /// J at (model's θ, c = log_z); when `gradient` is not null it receives [∂J/∂θ, ∂J/∂c]
  /// (model.num_parameters() + 1 entries). Throws Error(Exit::usage) if the model's
  /// dimension is not the data's.
  template <ParametricEnergy M>
  double objective(const M& model, double log_z, VectorD* gradient, const Exec& ex) const;

 private:
  MatrixD data_, noise_samples_;
  Gaussian noise_;
  std::size_t ratio_;
  VectorD log_q_data_, log_q_noise_;
};

template <class M>
struct NceFit {
  M model;
  double log_z = 0;             ///< the learned c
  Gaussian noise;               ///< q used
  std::vector<double> trace;    ///< J at the start and after each iteration
  std::size_t iterations = 0;
  bool converged = false;
  double gradient_norm = 0;
  std::string stopped_by;
};

/// Minimises J over (θ, c) by L-BFGS from the parameters of `init` and
/// c = options.initial_log_z. The model is returned as fitted: for GaussianEnergy,
/// to_gaussian() reports a fit that left the normalisable set.
template <ParametricEnergy M>
NceFit<M> fit_nce(const M& init, const MatrixD& data, const NceOptions& options, const LbfgsOptions& lbfgs,
                  const Exec& ex, const LbfgsCallback& on_iteration = {});

// ---------------------------------------------------------------------------------------

namespace detail {
/// log(1 + e^t) without overflow or loss of digits for large |t|.
inline double softplus(double t) { return std::max(t, 0.0) + std::log1p(std::exp(-std::abs(t))); }
/// 1 / (1 + e^−t) from exp(−|t|) (never overflows).
inline double logistic(double t) {
  const double e = std::exp(-std::abs(t));
  return t >= 0 ? 1 / (1 + e) : e / (1 + e);
}
}  // namespace detail

template <ParametricEnergy M>
double NceProblem::objective(const M& model, double log_z, VectorD* gradient, const Exec& ex) const {
  check_arg(model.dimension() == std::size_t(data_.cols()),
            "NceProblem::objective: the model has dimension {} but the data has {} columns", model.dimension(),
            data_.cols());
  const std::size_t p = model.num_parameters();
  const bool want = gradient != nullptr;
  const double log_nu = std::log(double(ratio_));
  return detail::sum_row_terms(
      std::size_t(data_.rows()), p + 1, want, double(data_.rows()), gradient, ex, [&](std::size_t r, VectorD& out) {
        const auto n = Eigen::Index(r);
        auto g = out.tail(want ? Eigen::Index(p + 1) : 0);
        const VectorD x = data_.row(n).transpose();
        const double zx = -model.energy_of(x) - log_z - log_q_data_[n] - log_nu;
        out[0] += detail::softplus(-zx);
        if (want) {
          const double w = detail::logistic(-zx);
          auto gt = g.head(Eigen::Index(p));
          model.add_energy_gradient(x, w, gt);
          g[Eigen::Index(p)] += w;
        }
        for (std::size_t k = 0; k < ratio_; ++k) {
          const auto j = Eigen::Index(r * ratio_ + k);
          const VectorD y = noise_samples_.row(j).transpose();
          const double zy = -model.energy_of(y) - log_z - log_q_noise_[j] - log_nu;
          out[0] += detail::softplus(zy);
          if (!want) continue;
          const double w = detail::logistic(zy);
          auto gt = g.head(Eigen::Index(p));
          model.add_energy_gradient(y, -w, gt);
          g[Eigen::Index(p)] -= w;
        }
      });
}

template <ParametricEnergy M>
NceFit<M> fit_nce(const M& init, const MatrixD& data, const NceOptions& options, const LbfgsOptions& lbfgs,
                  const Exec& ex, const LbfgsCallback& on_iteration) {
  const NceProblem problem(data, options, ex);
  check_arg(init.dimension() == std::size_t(data.cols()), "fit_nce: the model has dimension {} but the data has {} columns",
            init.dimension(), data.cols());
  M model = init;
  const auto p = Eigen::Index(init.num_parameters());
  bool first = true;
  const auto f = [&](const VectorD& w, VectorD& grad) {
    const bool inside = detail::trial_parameters(model, VectorD(w.head(p)), std::exchange(first, false));
    if (!inside) grad.setZero(w.size());
    return inside ? problem.objective(model, w[p], &grad, ex) : std::numeric_limits<double>::infinity();
  };
  VectorD w0(p + 1);
  w0 << init.parameters(), options.initial_log_z;
  LbfgsResult res = minimize_lbfgs(f, std::move(w0), lbfgs, on_iteration);
  model.set_parameters(res.x.head(p));
  return NceFit<M>{std::move(model), res.x[p], problem.noise(), std::move(res.trace), res.iterations, res.converged,
                   res.gradient_norm, std::move(res.stopped_by)};
}

}  // namespace logz
