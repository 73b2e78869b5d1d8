#pragma once
/// @file user_energy.hpp
/// An energy on R^d given by the user as two C++ callables, the energy E(x) and its
/// gradient ∇E(x) (docs/continuous.md). It satisfies DifferentiableEnergy, so every
/// continuous kernel (random-walk Metropolis, ULA, MALA, HMC) and parallel tempering run
/// on it. The callables are called as given: whatever they throw propagates, and a
/// non-finite value they return is, inside a kernel, a rejected proposal. The gradient is
/// not checked against the energy (tests/models/gaussian_test.cpp shows a finite-difference
/// check worth running on a new energy).
#include <cstddef>
#include <functional>
#include <utility>

#include "logz/core/check.hpp"
#include "logz/core/types.hpp"

namespace logz {

class UserEnergy {
 public:
  using EnergyFn = std::function<double(const Eigen::Ref<const VectorD>&)>;
  /// Writes ∇E(x) into its second argument (size dimension()).
  using GradientFn = std::function<void(const Eigen::Ref<const VectorD>&, Eigen::Ref<VectorD>)>;

  /// Throws Error(Exit::usage) if dimension is 0 or a callable is empty.
  UserEnergy(std::size_t dimension, EnergyFn energy, GradientFn gradient)
      : d_(dimension), energy_(std::move(energy)), gradient_(std::move(gradient)) {
    check_arg(d_ >= 1, "UserEnergy: dimension must be >= 1 (got {})", d_);
    check_arg(bool(energy_), "UserEnergy: the energy function is empty");
    check_arg(bool(gradient_), "UserEnergy: the gradient function is empty");
  }

  std::size_t dimension() const { return d_; }

  /// E(x). Throws Error(Exit::usage) if x has the wrong size.
  double energy(const Eigen::Ref<const VectorD>& x) const {
    check_size("UserEnergy::energy", "x", x.size());
    return energy_(x);
  }
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy(x); }
  /// E(x), and ∇E(x) written to grad. Throws Error(Exit::usage) on a size mismatch.
  double energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
    check_size("UserEnergy::energy_and_gradient", "x", x.size());
    check_size("UserEnergy::energy_and_gradient", "grad", grad.size());
    gradient_(x, grad);
    return energy_(x);
  }

 private:
  void check_size(const char* who, const char* what, Eigen::Index n) const {
    check_arg(std::size_t(n) == d_, "{}: {} has {} entries but the model has dimension {}", who, what, n, d_);
  }

  std::size_t d_;
  EnergyFn energy_;
  GradientFn gradient_;
};

}  // namespace logz
