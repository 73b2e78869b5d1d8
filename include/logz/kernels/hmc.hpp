#pragma once
/// @file hmc.hpp
/// Hamiltonian Monte Carlo (Duane, Kennedy, Pendleton & Roweth 1987; Neal 2011, "MCMC
/// using Hamiltonian dynamics", Handbook of MCMC ch. 5) for π_β(x) ∝ exp(−β E(x)) with
/// identity mass matrix (docs/continuous.md). One step: momentum p ~ N(0, I) (d normals),
/// L = `leapfrog_steps` leapfrog steps of size ε = `step_size` for
/// H(q, p) = β E(q) + ½ |p|², then accept the end point with min(1, exp(−ΔH)) (one
/// uniform). The leapfrog map is volume-preserving and reversible (negate the momentum,
/// integrate again, arrive back), so the step is exact; its energy error is O(ε²) over a
/// fixed time L ε. A trajectory that meets a non-finite energy, gradient or position stops
/// there and is rejected, counted in Info::non_finite. Costs L + 1 gradient evaluations.
///
/// `DualAveraging` adapts ε during warm-up, outside the kernel (DESIGN.md §3): the
/// dual-averaging scheme of Hoffman & Gelman (2014, "The No-U-Turn Sampler", JMLR 15,
/// 1593–1623, Algorithm 5), which drives the mean acceptance probability to a target δ.
#include <cmath>
#include <cstddef>
#include <limits>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/kernels/langevin.hpp"

namespace logz {

/// A leapfrog trajectory's end: potentials are β E.
struct LeapfrogResult {
  double start_potential = 0;  ///< β E(q) at the start
  double end_potential = 0;    ///< β E(q) at the end (NaN when the trajectory stopped)
  std::size_t gradient_evaluations = 0;
  bool finite = true;  ///< false when a position, energy or gradient was not finite (stopped there)
};

class Hmc {
 public:
  struct Params {
    double step_size = 0.1;          ///< ε, leapfrog step; finite and > 0
    std::size_t leapfrog_steps = 10;  ///< L, leapfrog steps per trajectory; >= 1
    double beta = 1.0;               ///< inverse temperature; finite and >= 0
  };
  using State = VectorD;
  using Info = ContinuousInfo;

  static constexpr const char* name() { return "Hmc"; }

  /// Default Params, or validated ones: throws Error(Exit::usage) naming the bad parameter.
  Hmc() : Hmc(Params()) {}
  explicit Hmc(Params p) : p_(p) {
    detail::check_continuous_params(name(), p.step_size, "leapfrog_steps", p.leapfrog_steps, p.beta);
  }
  const Params& params() const { return p_; }

  /// L leapfrog steps from (q, p), in place: p ← p − (ε/2) β ∇E(q), then L − 1 times
  /// {q ← q + ε p; p ← p − ε β ∇E(q)}, then q ← q + ε p; p ← p − (ε/2) β ∇E(q).
  /// Throws Error(Exit::usage) if q or p has the wrong size.
  template <DifferentiableEnergy Model>
  LeapfrogResult leapfrog(const Model& m, VectorD& q, VectorD& p) const {
    detail::check_continuous_state(name(), m, q);
    check_arg(p.size() == q.size(), "{}: momentum has {} entries but the model has dimension {}", name(), p.size(),
              q.size());
    LeapfrogResult r;
    const double eps = p_.step_size, beta = p_.beta;
    VectorD g(q.size());
    r.start_potential = beta * double(m.energy_and_gradient(q, g));
    ++r.gradient_evaluations;
    r.end_potential = std::numeric_limits<double>::quiet_NaN();
    if (!std::isfinite(r.start_potential) || !g.allFinite()) {
      r.finite = false;
      return r;
    }
    p -= (0.5 * eps * beta) * g;
    double e = r.start_potential;
    for (std::size_t l = 1; l <= p_.leapfrog_steps; ++l) {
      q += eps * p;
      if (!q.allFinite()) {
        r.finite = false;
        return r;
      }
      e = beta * double(m.energy_and_gradient(q, g));
      ++r.gradient_evaluations;
      if (!std::isfinite(e) || !g.allFinite()) {
        r.finite = false;
        return r;
      }
      p -= ((l < p_.leapfrog_steps ? 1.0 : 0.5) * eps * beta) * g;
    }
    r.end_potential = e;
    return r;
  }

  /// One step: d normals (momentum), the trajectory, one uniform. Throws
  /// Error(Exit::usage) if the state has the wrong size.
  template <DifferentiableEnergy Model>
  Info step(const Model& m, State& x, Stream& rng) const {
    detail::check_continuous_state(name(), m, x);
    Info info;
    VectorD p(x.size());
    detail::fill_normal(rng, p);
    const double kinetic0 = 0.5 * p.squaredNorm();
    VectorD q = x;
    const LeapfrogResult r = leapfrog(m, q, p);
    info.gradient_evaluations = r.gradient_evaluations;
    const double dh = r.finite ? (r.end_potential + 0.5 * p.squaredNorm()) - (r.start_potential + kinetic0)
                               : std::numeric_limits<double>::quiet_NaN();
    const double u = rng.uniform_double();  // drawn always: fixed draws per step
    if (detail::continuous_accepts(dh, u, info)) x.swap(q);
    detail::finish_info(info);
    return info;
  }

 private:
  Params p_;
};

/// The constants of Hoffman & Gelman's dual averaging (their recommended defaults).
struct DualAveragingParams {
  double target_acceptance = 0.65;  ///< δ, the acceptance probability aimed at; in (0, 1)
  double gamma = 0.05;              ///< γ, how strongly log ε is shrunk towards μ; > 0
  double t0 = 10;                   ///< t0, damps the first iterations; >= 0
  double kappa = 0.75;              ///< κ, decay of the averaging weights m^−κ; in (0.5, 1]
};

/// Step-size adaptation by dual averaging (Hoffman & Gelman 2014, Algorithm 5). With
/// μ = log(10 ε₀), after the m-th acceptance probability α_m:
///   H̄_m = (1 − 1/(m + t0)) H̄_{m−1} + (δ − α_m)/(m + t0),
///   log ε_m = μ − (√m / γ) H̄_m,
///   log ε̄_m = m^−κ log ε_m + (1 − m^−κ) log ε̄_{m−1}.
/// Use ε_m for the next warm-up step and ε̄ (final_step_size) after warm-up. For a kernel
/// making several proposals a step, feed ContinuousInfo::acceptance_probability (their
/// mean). Deterministic: no random draws.
class DualAveraging {
 public:
  using Params = DualAveragingParams;

  /// Starts from ε₀ = initial_step_size. Throws Error(Exit::usage) naming a bad value.
  explicit DualAveraging(double initial_step_size, Params p = {}) : p_(p) {
    check_arg(std::isfinite(initial_step_size) && initial_step_size > 0,
              "DualAveraging: initial_step_size must be finite and > 0 (got {})", initial_step_size);
    check_arg(p.target_acceptance > 0 && p.target_acceptance < 1,
              "DualAveraging: target_acceptance must be in (0, 1) (got {})", p.target_acceptance);
    check_arg(std::isfinite(p.gamma) && p.gamma > 0, "DualAveraging: gamma must be finite and > 0 (got {})", p.gamma);
    check_arg(std::isfinite(p.t0) && p.t0 >= 0, "DualAveraging: t0 must be finite and >= 0 (got {})", p.t0);
    check_arg(p.kappa > 0.5 && p.kappa <= 1, "DualAveraging: kappa must be in (0.5, 1] (got {})", p.kappa);
    mu_ = std::log(10 * initial_step_size);
    log_eps_ = log_eps_bar_ = std::log(initial_step_size);
  }
  const Params& params() const { return p_; }

  /// Feeds the acceptance probability α_m of the step just made with step_size();
  /// returns ε_m, the step size for the next step. Throws Error(Exit::usage) unless
  /// α is in [0, 1].
  double update(double acceptance) {
    check_arg(acceptance >= 0 && acceptance <= 1, "DualAveraging::update: acceptance must be in [0, 1] (got {})",
              acceptance);
    ++m_;
    const double m = double(m_), w = 1.0 / (m + p_.t0);
    h_bar_ = (1 - w) * h_bar_ + w * (p_.target_acceptance - acceptance);
    log_eps_ = mu_ - std::sqrt(m) / p_.gamma * h_bar_;
    const double eta = std::pow(m, -p_.kappa);
    log_eps_bar_ = eta * log_eps_ + (1 - eta) * log_eps_bar_;
    return std::exp(log_eps_);
  }
  /// ε_m: the step size to use for the next warm-up step (ε₀ before any update).
  double step_size() const { return std::exp(log_eps_); }
  /// ε̄_m: the averaged step size, to use once adaptation stops (ε₀ before any update).
  double final_step_size() const { return std::exp(log_eps_bar_); }
  /// Updates made so far.
  std::size_t iterations() const { return m_; }

 private:
  Params p_;
  double mu_ = 0, h_bar_ = 0, log_eps_ = 0, log_eps_bar_ = 0;
  std::size_t m_ = 0;
};

}  // namespace logz
