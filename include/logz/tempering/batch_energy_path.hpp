#pragma once
/// @file batch_energy_path.hpp
/// The geometric path to an energy that is evaluated a population at a time: a front
/// end's vectorised function (a NumPy callable E(X) of an [n, d] array returning n
/// energies, with an optional gradient beside it). Calling such a function once per
/// particle would cost a call's overhead n times per step, so every quantity of the path
/// is computed for the whole population in one call:
///   p_β(x) ∝ exp(−(1 − β) E_0(x) − β E_1(x)),  E_0 the energy of a Gaussian base
///   N(μ_0, Σ_0) whose log Z_0 is part of the estimate (Neal 2001's annealing path).
/// Moves leave p_β invariant, each particle drawing from its own stream (so the result is
/// the same whatever the thread count, and the energy sees the same arrays every run):
///  - "mala" (needs the gradient): `sweeps` Metropolis-adjusted Langevin steps
///    (Roberts & Tweedie 1996), x' = x − ε²/2 ∇U(x) + ε ξ, one energy-and-gradient call
///    of the population per step;
///  - "rwm": random-walk Metropolis, x' = x + ε ξ, one energy call per step.
/// ε is `step_size` times the base's standard deviation per coordinate, so one setting
/// suits targets of any scale the base was fitted to.
#include <cstddef>
#include <span>
#include <string>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/tempering/path.hpp"

namespace logz {

/// An energy evaluated on the rows of a matrix at once. Implementations may call into
/// another language; they are called from one thread at a time.
class BatchEnergy {
 public:
  virtual ~BatchEnergy() = default;
  virtual std::size_t dimension() const = 0;
  /// out[r] = E(x_r) for every row r of x (a non-finite value: the state is impossible).
  virtual void energies(const MatrixD& x, std::span<double> out) const = 0;
  virtual bool has_gradient() const { return false; }
  /// out[r] = E(x_r) and grad.row(r) = ∇E(x_r); only called when has_gradient().
  virtual void energies_and_gradients(const MatrixD& x, std::span<double> out, MatrixD& grad) const;
};

class BatchEnergyPath {
 public:
  using Particles = MatrixD;
  struct Moves {
    std::string kernel = "mala";  ///< "mala" (needs the gradient) or "rwm"
    double step_size = 0.5;       ///< ε in units of the base's standard deviations
    std::size_t sweeps = 1;       ///< steps per move
  };

  /// The energy and the base must outlive the path. Error(Exit::usage) for another
  /// dimension, an unknown kernel, mala without a gradient or a step size that is not
  /// positive.
  BatchEnergyPath(const Gaussian& base, const BatchEnergy& target, Moves moves);

  double log_z_base() const { return base_.log_partition(); }
  std::size_t dimension() const { return target_.dimension(); }

  void draw_base(const Exec& ex, Particles& x, std::span<Stream> streams) const;
  /// (b1 − b0)(E_0(x) − E_1(x)).
  void log_ratio(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> out) const;
  /// E_0(x) − E_1(x).
  void dlog_f(const Exec& ex, const Particles& x, double beta, std::span<double> out) const;
  MoveInfo move(const Exec& ex, Particles& x, double beta, std::span<Stream> streams) const;

 private:
  /// U_β(x_r) = (1 − β) E_0 + β E_1 for every row, and its gradient when `grad`.
  void tempered(const Particles& x, double beta, std::span<double> u, MatrixD* grad) const;

  const Gaussian& base_;
  const BatchEnergy& target_;
  Moves moves_;
  VectorD scale_;  ///< ε per coordinate: step_size × the base's standard deviations
};

}  // namespace logz
