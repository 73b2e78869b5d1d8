#pragma once
/// @file parametric_checks.hpp
/// One test of every derivative a continuous energy model offers the objectives
/// (objectives/score_matching.hpp concepts): each analytic quantity against central
/// differences of the quantity it differentiates, over x (∇ₓE, ΔₓE, vᵀ∇²ₓE v) and over the
/// flat parameters θ (∂E/∂θ, ∂(rᵀ∇ₓE)/∂θ, ∂ΔₓE/∂θ, ∂(vᵀ∇²ₓE v)/∂θ). Only the methods
/// the model has are checked. The add_* methods are called on a non-zero g with a scale
/// s ≠ 1, so "adds s times the derivative" is what is checked, not "writes it".
///
/// Tolerance: a central difference with step h of a smooth f has truncation error
/// h² |f'''| / 6 and rounding error about ε |f| / h; with h = 1e-5 both are below 1e-9
/// for the O(1) scales of these tests, so `tol` = 1e-6 (relative to 1 + |value|) is
/// a thousand times the error budget yet fails any wrong term, whose error is O(1).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"

namespace logz::test {

namespace detail {

/// Central difference of f along direction e at x: (f(x + h e) − f(x − h e)) / 2h.
template <class F>
double directional_difference(F&& f, const VectorD& x, const VectorD& e, double h) {
  return (f(VectorD(x + h * e)) - f(VectorD(x - h * e))) / (2 * h);
}

inline void expect_close(const VectorD& analytic, const VectorD& numeric, double tol, const std::string& what) {
  ASSERT_EQ(analytic.size(), numeric.size()) << what;
  for (Eigen::Index k = 0; k < analytic.size(); ++k)
    EXPECT_NEAR(analytic[k], numeric[k], tol * (1 + std::abs(numeric[k]))) << what << ", entry " << k;
}

/// g0 + s · (what add(g) adds), from a g0 of ones and s = −0.7.
template <class Add>
VectorD added(Eigen::Index n, Add&& add) {
  const double s = -0.7;
  VectorD g = VectorD::Ones(n);
  add(s, g);
  return (g - VectorD::Ones(n)) / s;
}

}  // namespace detail

/// Central differences of f(model) over each θ_k, step h.
template <class M, class F>
VectorD parameter_differences(const M& model, F&& f, double h) {
  M m = model;
  const VectorD theta = model.parameters();
  VectorD out(theta.size());
  for (Eigen::Index k = 0; k < theta.size(); ++k) {
    VectorD tp = theta, tm = theta;
    tp[k] += h;
    tm[k] -= h;
    m.set_parameters(tp);
    const double fp = f(m);
    m.set_parameters(tm);
    const double fm = f(m);
    out[k] = (fp - fm) / (2 * h);
  }
  return out;
}

/// Checks every derivative of `model` at x against central differences; r and v are the
/// vectors of the score vector–Jacobian product and of the Hessian's quadratic form.
template <class M>
void expect_derivatives_match_differences(const M& model, const VectorD& x, const VectorD& r, const VectorD& v,
                                          double tol = 1e-6, double h = 1e-5) {
  const auto d = Eigen::Index(model.dimension());
  ASSERT_EQ(x.size(), d);
  const auto energy = [&](const M& m) { return [&m](const VectorD& y) { return double(m.energy_of(y)); }; };
  const auto score = [](const M& m, const VectorD& y) {
    VectorD g(y.size());
    m.energy_and_gradient(y, g);
    return g;
  };

  // Over x: ∇ₓE, and the Hessian's column j from differences of ∇ₓE along e_j.
  VectorD grad(d);
  const double e = model.energy_and_gradient(x, grad);
  EXPECT_NEAR(e, model.energy_of(x), 1e-12 * (1 + std::abs(e))) << "energy_and_gradient's energy";
  VectorD fd_grad(d);
  MatrixD hessian(d, d);
  for (Eigen::Index j = 0; j < d; ++j) {
    const VectorD ej = VectorD::Unit(d, j);
    fd_grad[j] = detail::directional_difference(energy(model), x, ej, h);
    hessian.col(j) = (score(model, VectorD(x + h * ej)) - score(model, VectorD(x - h * ej))) / (2 * h);
  }
  detail::expect_close(grad, fd_grad, tol, "gradient over x");
  if constexpr (requires { model.laplacian(x); }) {
    const double lap = model.laplacian(x);
    EXPECT_NEAR(lap, hessian.trace(), tol * (1 + std::abs(lap)) * double(d)) << "laplacian";
  }
  if constexpr (requires { model.hessian_quadratic(x, v); }) {
    const double q = model.hessian_quadratic(x, v);
    EXPECT_NEAR(q, v.dot(hessian * v), tol * (1 + std::abs(q)) * double(d)) << "hessian_quadratic";
  }

  // Over θ.
  if constexpr (requires { model.parameters(); }) {
    const auto p = Eigen::Index(model.num_parameters());
    ASSERT_EQ(model.parameters().size(), p);
    if constexpr (requires(VectorD& g) { model.add_energy_gradient(x, 1.0, g); }) {
      const VectorD a = detail::added(p, [&](double s, VectorD& g) { model.add_energy_gradient(x, s, g); });
      detail::expect_close(a, parameter_differences(model, [&](const M& m) { return double(m.energy_of(x)); }, h),
                           tol, "add_energy_gradient");
    }
    if constexpr (requires(VectorD& g) { model.add_score_vjp(x, r, 1.0, g); }) {
      const VectorD a = detail::added(p, [&](double s, VectorD& g) { model.add_score_vjp(x, r, s, g); });
      detail::expect_close(
          a, parameter_differences(model, [&](const M& m) { return r.dot(score(m, x)); }, h), tol,
          "add_score_vjp");
    }
    if constexpr (requires(VectorD& g) { model.add_laplacian_gradient(x, 1.0, g); }) {
      const VectorD a = detail::added(p, [&](double s, VectorD& g) { model.add_laplacian_gradient(x, s, g); });
      detail::expect_close(a, parameter_differences(model, [&](const M& m) { return m.laplacian(x); }, h), tol,
                           "add_laplacian_gradient");
    }
    if constexpr (requires(VectorD& g) { model.add_hessian_quadratic_gradient(x, v, 1.0, g); }) {
      const VectorD a =
          detail::added(p, [&](double s, VectorD& g) { model.add_hessian_quadratic_gradient(x, v, s, g); });
      detail::expect_close(
          a, parameter_differences(model, [&](const M& m) { return m.hessian_quadratic(x, v); }, h), tol,
          "add_hessian_quadratic_gradient");
    }
  }
}

/// A vector of n standard normals from stream (seed, Purpose::noise, index) (test points).
inline VectorD normal_vector(Eigen::Index n, std::uint64_t seed, std::uint64_t index = 0) {
  Stream s = Stream::derive(seed, Purpose::noise, index);
  VectorD out(n);
  for (Eigen::Index i = 0; i < n; ++i) out[i] = s.normal();
  return out;
}

}  // namespace logz::test
