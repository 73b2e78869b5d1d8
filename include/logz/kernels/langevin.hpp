#pragma once
/// @file langevin.hpp
/// MCMC kernels on R^d for the tempered target π_β(x) ∝ exp(−β E(x)) (docs/continuous.md):
/// - `RandomWalkMetropolis`: propose y = x + ε z, z ~ N(0, I); accept with
///   min(1, exp(−β (E(y) − E(x)))) (Metropolis et al. 1953). Needs only the energy.
/// - `UnadjustedLangevin` (ULA): x' = x − (ε²/2) β ∇E(x) + ε z, the Euler–Maruyama step of
///   the Langevin diffusion, always taken. **Not exact**: its stationary law is off by
///   O(ε²); for a Gaussian with precision Λ it is N(μ, Λ⁻¹ (I − ε² Λ / 4)⁻¹) instead of
///   N(μ, Λ⁻¹) (Roberts & Tweedie 1996, "Exponential convergence of Langevin
///   distributions and their discrete approximations", Bernoulli 2, 341–363), and it is
///   unstable for ε² λ_max(βΛ) >= 4.
/// - `Mala`: the ULA step as a proposal, corrected by Metropolis–Hastings (Roberts &
///   Tweedie 1996): accept with min(1, exp(−Δ)),
///   Δ = β E(y) − β E(x) + ½ |p'|² − ½ |z|², p' = z − (ε/2) β (∇E(x) + ∇E(y)),
///   which is −log of π(y) q(x | y) / (π(x) q(y | x)) and equals ΔH of one leapfrog step
///   of HMC with momentum z (MALA is one-step HMC). Exact.
/// ε = `step_size` is the standard deviation of the proposal noise in every kernel, so
/// step sizes compare across them. Each kernel: immutable value, validated `Params`
/// (with `beta`, so parallel tempering runs over it), `State` = VectorD, `Info` =
/// ContinuousInfo, `step(model, x, rng)`. A step makes `steps` proposals (moves for ULA).
/// Random draws per proposal are fixed: d normals (then one uniform, except ULA), drawn
/// even when the outcome is already decided. A non-finite energy, gradient or proposal is
/// a rejection counted in Info::non_finite, never an exception (DESIGN.md §2); a chain
/// must start where β E is finite. The gradient at x is recomputed at the start of every
/// step (State holds x only): MALA costs steps + 1 gradient evaluations per step.
#include <cmath>
#include <cstddef>
#include <limits>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/kernels/site_gibbs.hpp"

namespace logz {

/// What a step of a continuous kernel (RWM, ULA, MALA, HMC) did.
struct ContinuousInfo {
  std::size_t proposals = 0;   ///< proposals (ULA: moves) made
  std::size_t accepted = 0;    ///< proposals accepted (ULA: moves taken)
  std::size_t non_finite = 0;  ///< rejected because an energy, gradient or proposal was not finite
  /// Mean over the step's proposals of min(1, exp(−Δ)) (0 for a non-finite Δ): what step
  /// size adaptation (DualAveraging) reads. ULA: the fraction of moves taken.
  double acceptance_probability = 0;
  /// Δ of the last proposal: −log of its Metropolis–Hastings ratio, for HMC the energy
  /// error ΔH = H(end) − H(start) (non-finite when the proposal was). RWM: β ΔE. ULA: 0.
  double energy_error = 0;
  std::size_t gradient_evaluations = 0;  ///< calls of energy_and_gradient
};

namespace detail {
/// Validates the numbers every continuous kernel shares.
inline void check_continuous_params(const char* who, double step_size, const char* count_name, std::size_t count,
                                    double beta) {
  check_arg(std::isfinite(step_size) && step_size > 0, "{}: step_size must be finite and > 0 (got {})", who, step_size);
  check_arg(count >= 1, "{}: {} must be >= 1 (got {})", who, count_name, count);
  check_arg(std::isfinite(beta) && beta >= 0, "{}: beta must be finite and >= 0 (got {})", who, beta);
}
/// Validates a chain state against the model: size dimension().
template <class Model>
void check_continuous_state(const char* who, const Model& m, const VectorD& x) {
  check_arg(std::size_t(x.size()) == std::size_t(m.dimension()), "{}: state has {} entries but the model has dimension {}",
            who, x.size(), std::size_t(m.dimension()));
}
/// z_i = rng.normal() for every entry, in order.
inline void fill_normal(Stream& rng, VectorD& z) {
  for (Eigen::Index i = 0; i < z.size(); ++i) z[i] = rng.normal();
}
/// Decides a proposal with −log MH ratio `de` and uniform u (the rule of
/// metropolis_accepts: a non-finite de is a rejection), counting it in `info`.
inline bool continuous_accepts(double de, double u, ContinuousInfo& info) {
  SiteMetropolisInfo counts;
  const bool accept = metropolis_accepts(de, u, counts);
  info.proposals += counts.proposals;
  info.accepted += counts.accepted;
  info.non_finite += counts.non_finite;
  info.acceptance_probability += metropolis_acceptance(de);
  info.energy_error = de;
  return accept;
}
/// Turns the sum of acceptance probabilities into their mean.
inline void finish_info(ContinuousInfo& info) {
  if (info.proposals > 0) info.acceptance_probability /= double(info.proposals);
}
}  // namespace detail

/// Random-walk Metropolis with Gaussian proposals y = x + ε z.
class RandomWalkMetropolis {
 public:
  struct Params {
    double step_size = 0.5;  ///< ε, proposal standard deviation; finite and > 0
    std::size_t steps = 1;   ///< proposals per step; >= 1
    double beta = 1.0;       ///< inverse temperature; finite and >= 0
  };
  using State = VectorD;
  using Info = ContinuousInfo;

  static constexpr const char* name() { return "RandomWalkMetropolis"; }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  RandomWalkMetropolis() : RandomWalkMetropolis(Params()) {}
  explicit RandomWalkMetropolis(Params p) : p_(p) {
    detail::check_continuous_params(name(), p.step_size, "steps", p.steps, p.beta);
  }
  const Params& params() const { return p_; }

  /// One step: `steps` proposals, each d normals then one uniform. Throws
  /// Error(Exit::usage) if the state has the wrong size.
  template <EnergyModel Model>
  Info step(const Model& m, State& x, Stream& rng) const {
    detail::check_continuous_state(name(), m, x);
    Info info;
    double e = p_.beta * double(m.energy_of(x));
    VectorD y(x.size());
    for (std::size_t k = 0; k < p_.steps; ++k) {
      detail::fill_normal(rng, y);
      y = x + p_.step_size * y;
      const double e_new = p_.beta * double(m.energy_of(y));
      const double u = rng.uniform_double();  // drawn always: fixed draws per proposal
      if (detail::continuous_accepts(e_new - e, u, info)) {
        x.swap(y);
        e = e_new;
      }
    }
    detail::finish_info(info);
    return info;
  }

 private:
  Params p_;
};

/// The unadjusted Langevin algorithm: biased by O(ε²) (see the file comment).
class UnadjustedLangevin {
 public:
  struct Params {
    double step_size = 0.1;  ///< ε, noise standard deviation (time step ε²/2); finite and > 0
    std::size_t steps = 1;   ///< moves per step; >= 1
    double beta = 1.0;       ///< inverse temperature; finite and >= 0
  };
  using State = VectorD;
  using Info = ContinuousInfo;

  static constexpr const char* name() { return "UnadjustedLangevin"; }

  UnadjustedLangevin() : UnadjustedLangevin(Params()) {}
  explicit UnadjustedLangevin(Params p) : p_(p) {
    detail::check_continuous_params(name(), p.step_size, "steps", p.steps, p.beta);
  }
  const Params& params() const { return p_; }

  /// One step: `steps` moves, each one gradient and d normals. A move whose gradient or
  /// result is not finite is not taken (counted in non_finite). Throws Error(Exit::usage)
  /// if the state has the wrong size.
  template <DifferentiableEnergy Model>
  Info step(const Model& m, State& x, Stream& rng) const {
    detail::check_continuous_state(name(), m, x);
    Info info;
    const double eps = p_.step_size, drift = 0.5 * eps * eps * p_.beta;
    VectorD grad(x.size()), z(x.size());
    for (std::size_t k = 0; k < p_.steps; ++k) {
      m.energy_and_gradient(x, grad);
      ++info.gradient_evaluations;
      detail::fill_normal(rng, z);
      ++info.proposals;
      z = x - drift * grad + eps * z;
      if (!z.allFinite()) {
        ++info.non_finite;
        continue;
      }
      x.swap(z);
      ++info.accepted;
      info.acceptance_probability += 1.0;
    }
    detail::finish_info(info);
    return info;
  }

 private:
  Params p_;
};

/// The Metropolis-adjusted Langevin algorithm (exact).
class Mala {
 public:
  struct Params {
    double step_size = 0.1;  ///< ε, proposal noise standard deviation; finite and > 0
    std::size_t steps = 1;   ///< proposals per step; >= 1
    double beta = 1.0;       ///< inverse temperature; finite and >= 0
  };
  using State = VectorD;
  using Info = ContinuousInfo;

  static constexpr const char* name() { return "Mala"; }

  Mala() : Mala(Params()) {}
  explicit Mala(Params p) : p_(p) { detail::check_continuous_params(name(), p.step_size, "steps", p.steps, p.beta); }
  const Params& params() const { return p_; }

  /// −log of the Metropolis–Hastings ratio of the proposal y = x − (ε²/2) β g_x + ε z:
  /// β e_y − β e_x + ½ |z − (ε/2) β (g_x + g_y)|² − ½ |z|² (e, g: energies and gradients).
  double log_ratio(double e_x, const VectorD& g_x, double e_y, const VectorD& g_y, const VectorD& z) const {
    const double half = 0.5 * p_.step_size * p_.beta;
    return p_.beta * (e_y - e_x) + 0.5 * (z - half * (g_x + g_y)).squaredNorm() - 0.5 * z.squaredNorm();
  }

  /// One step: one gradient at x, then `steps` proposals of one gradient, d normals and
  /// one uniform each. Throws Error(Exit::usage) if the state has the wrong size.
  template <DifferentiableEnergy Model>
  Info step(const Model& m, State& x, Stream& rng) const {
    detail::check_continuous_state(name(), m, x);
    Info info;
    const double eps = p_.step_size, drift = 0.5 * eps * eps * p_.beta;
    VectorD g_x(x.size()), g_y(x.size()), y(x.size()), z(x.size());
    double e_x = double(m.energy_and_gradient(x, g_x));
    ++info.gradient_evaluations;
    for (std::size_t k = 0; k < p_.steps; ++k) {
      detail::fill_normal(rng, z);
      y = x - drift * g_x + eps * z;
      double de = std::numeric_limits<double>::quiet_NaN();
      double e_y = de;
      if (y.allFinite()) {  // a non-finite proposal is not handed to the model
        e_y = double(m.energy_and_gradient(y, g_y));
        ++info.gradient_evaluations;
        de = log_ratio(e_x, g_x, e_y, g_y, z);
      }
      const double u = rng.uniform_double();  // drawn always: fixed draws per proposal
      if (detail::continuous_accepts(de, u, info)) {
        x.swap(y);
        g_x.swap(g_y);
        e_x = e_y;
      }
    }
    detail::finish_info(info);
    return info;
  }

 private:
  Params p_;
};

}  // namespace logz
