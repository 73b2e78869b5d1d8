#pragma once
/// @file adam.hpp
/// Adam (Kingma & Ba 2015, "Adam: a method for stochastic optimization", ICLR), as a small
/// value type: it holds the two moment estimates and the step count, and sees only
/// (parameters, gradient). With g_t the gradient at step t = 1, 2, ...:
///   m_t = β1 m_{t−1} + (1 − β1) g_t,      v_t = β2 v_{t−1} + (1 − β2) g_t²,
///   m̂_t = m_t / (1 − β1^t),               v̂_t = v_t / (1 − β2^t),
///   θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε)
/// (Algorithm 1 of the paper, bias corrections written out). A step may be given its own
/// α (learning-rate schedules), and the state can be read and restored (checkpoints).
///
/// `Sgd` is its sibling: stochastic gradient descent with heavy-ball momentum (Polyak
/// 1964), v_t = μ v_{t−1} + g_t, θ_t = θ_{t−1} − α v_t (μ = 0: plain SGD).
#include <cmath>
#include <cstddef>

#include "logz/core/check.hpp"
#include "logz/core/types.hpp"

namespace logz {

struct AdamOptions {
  double learning_rate = 1e-3;  ///< α, finite and > 0
  double beta1 = 0.9;           ///< in [0, 1)
  double beta2 = 0.999;         ///< in [0, 1)
  double epsilon = 1e-8;        ///< finite and > 0
};

class Adam {
 public:
  /// Adam for `n_params` parameters (>= 1). Throws Error(Exit::usage) on bad options.
  Adam(std::size_t n_params, const AdamOptions& options = {})
      : options_(options), m_(VectorD::Zero(Eigen::Index(n_params))), v_(VectorD::Zero(Eigen::Index(n_params))) {
    check_arg(n_params >= 1, "Adam: the number of parameters must be >= 1 (got 0)");
    check_arg(std::isfinite(options.learning_rate) && options.learning_rate > 0,
              "Adam: learning_rate must be finite and > 0 (got {})", options.learning_rate);
    check_arg(options.beta1 >= 0 && options.beta1 < 1, "Adam: beta1 must be in [0, 1) (got {})", options.beta1);
    check_arg(options.beta2 >= 0 && options.beta2 < 1, "Adam: beta2 must be in [0, 1) (got {})", options.beta2);
    check_arg(std::isfinite(options.epsilon) && options.epsilon > 0, "Adam: epsilon must be finite and > 0 (got {})",
              options.epsilon);
  }

  /// One update of `params` with the gradient `grad` (both of the size given at
  /// construction; grad finite). Throws Error(Exit::usage) on a size mismatch and
  /// Error(Exit::data) on a non-finite gradient, leaving params and the state unchanged.
  void step(VectorD& params, const VectorD& grad) { step(params, grad, options_.learning_rate); }

  /// The same update with α = learning_rate in place of options().learning_rate (a
  /// schedule's α for this step). Also throws Error(Exit::usage) unless learning_rate is
  /// finite and >= 0.
  void step(VectorD& params, const VectorD& grad, double learning_rate) {
    check_arg(params.size() == m_.size() && grad.size() == m_.size(),
              "Adam::step: params has {} entries and grad {} but the optimizer has {} parameters", params.size(),
              grad.size(), m_.size());
    check_arg(std::isfinite(learning_rate) && learning_rate >= 0,
              "Adam::step: learning_rate must be finite and >= 0 (got {})", learning_rate);
    for (Eigen::Index i = 0; i < grad.size(); ++i)
      check_data(std::isfinite(grad[i]), "Adam::step: grad[{}] is not finite ({})", i, grad[i]);
    ++t_;
    const double b1 = options_.beta1, b2 = options_.beta2;
    m_ = b1 * m_ + (1 - b1) * grad;
    v_ = b2 * v_ + (1 - b2) * grad.cwiseAbs2();
    // 1 − β^t by pow each step (t is small enough; no running product to drift).
    const double c1 = 1 - std::pow(b1, double(t_)), c2 = 1 - std::pow(b2, double(t_));
    params.array() -= learning_rate * (m_.array() / c1) / ((v_.array() / c2).sqrt() + options_.epsilon);
  }

  /// Puts back a state read from first_moment(), second_moment() and steps() (a
  /// checkpoint): later steps are then bit-identical to those of the optimizer it was
  /// read from. Throws Error(Exit::usage) on sizes other than the optimizer's and
  /// Error(Exit::data) on a non-finite or negative second moment or a non-finite first
  /// moment, leaving the state unchanged.
  void restore(const VectorD& first_moment, const VectorD& second_moment, std::size_t steps) {
    check_arg(first_moment.size() == m_.size() && second_moment.size() == m_.size(),
              "Adam::restore: the moments have {} and {} entries but the optimizer has {} parameters",
              first_moment.size(), second_moment.size(), m_.size());
    check_data(first_moment.allFinite(), "Adam::restore: the first moment is not finite");
    check_data(second_moment.allFinite() && (second_moment.array() >= 0).all(),
               "Adam::restore: the second moment is not finite and >= 0");
    m_ = first_moment;
    v_ = second_moment;
    t_ = steps;
  }

  std::size_t steps() const { return t_; }
  const AdamOptions& options() const { return options_; }
  const VectorD& first_moment() const { return m_; }
  const VectorD& second_moment() const { return v_; }

 private:
  AdamOptions options_;
  VectorD m_, v_;
  std::size_t t_ = 0;
};

struct SgdOptions {
  double learning_rate = 1e-2;  ///< α, finite and > 0
  double momentum = 0;          ///< μ, in [0, 1)
};

/// SGD with heavy-ball momentum (file comment): the same shape as Adam.
class Sgd {
 public:
  /// Sgd for `n_params` parameters (>= 1). Throws Error(Exit::usage) on bad options.
  Sgd(std::size_t n_params, const SgdOptions& options = {})
      : options_(options), velocity_(VectorD::Zero(Eigen::Index(n_params))) {
    check_arg(n_params >= 1, "Sgd: the number of parameters must be >= 1 (got 0)");
    check_arg(std::isfinite(options.learning_rate) && options.learning_rate > 0,
              "Sgd: learning_rate must be finite and > 0 (got {})", options.learning_rate);
    check_arg(options.momentum >= 0 && options.momentum < 1, "Sgd: momentum must be in [0, 1) (got {})",
              options.momentum);
  }

  void step(VectorD& params, const VectorD& grad) { step(params, grad, options_.learning_rate); }
  /// One update with α = learning_rate. Throws as Adam::step (named "Sgd::step").
  void step(VectorD& params, const VectorD& grad, double learning_rate) {
    check_arg(params.size() == velocity_.size() && grad.size() == velocity_.size(),
              "Sgd::step: params has {} entries and grad {} but the optimizer has {} parameters", params.size(),
              grad.size(), velocity_.size());
    check_arg(std::isfinite(learning_rate) && learning_rate >= 0,
              "Sgd::step: learning_rate must be finite and >= 0 (got {})", learning_rate);
    for (Eigen::Index i = 0; i < grad.size(); ++i)
      check_data(std::isfinite(grad[i]), "Sgd::step: grad[{}] is not finite ({})", i, grad[i]);
    ++t_;
    velocity_ = options_.momentum * velocity_ + grad;
    params -= learning_rate * velocity_;
  }
  /// Puts back velocity() and steps() of a checkpoint. Throws Error(Exit::usage) on a
  /// wrong size and Error(Exit::data) on a non-finite velocity.
  void restore(const VectorD& velocity, std::size_t steps) {
    check_arg(velocity.size() == velocity_.size(), "Sgd::restore: the velocity has {} entries but the optimizer has {} parameters",
              velocity.size(), velocity_.size());
    check_data(velocity.allFinite(), "Sgd::restore: the velocity is not finite");
    velocity_ = velocity;
    t_ = steps;
  }

  std::size_t steps() const { return t_; }
  const SgdOptions& options() const { return options_; }
  const VectorD& velocity() const { return velocity_; }

 private:
  SgdOptions options_;
  VectorD velocity_;
  std::size_t t_ = 0;
};

}  // namespace logz
