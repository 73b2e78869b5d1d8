#pragma once
/// @file toy2d.hpp
/// Two-dimensional toy energies with analytic gradients, Laplacians and closed-form
/// log Z (docs/continuous.md), for testing samplers and log Z estimators where the answer
/// is known and the density can be drawn:
/// - `Ring`: E = a (x² + y² − 1)², a ring-shaped density around the unit circle;
///   log Z = log(π^{3/2} (1 + erf √a) / (2 √a)) (substitute u = r², then a Gaussian
///   integral over u − 1 > −1).
/// - `GaussianMixture2d`: E = −log Σ_k w_k N(x; μ_k, Σ_k) (log-sum-exp), log Z = log Σ_k w_k.
/// - `Banana`: the twisted Gaussian of Haario, Saksman & Tamminen (1999, "Adaptive proposal
///   distribution for random walk Metropolis algorithm", Computational Statistics 14,
///   375–395): N(0, diag(s², 1)) composed with (x₁, x₂) ↦ (x₁, x₂ + b (x₁² − s²)),
///   E = x₁² / (2 s²) + ½ (x₂ + b (x₁² − s²))². The map has Jacobian 1, so
///   log Z = log(2π s), the Gaussian's.
/// `Toy2d` holds any of them behind one type (what `toy2d_by_name` returns for the CLI's
/// `--energy ring2d | mixture2d | banana2d`); each type, and Toy2d, satisfies
/// DifferentiableEnergy. Every method throws Error(Exit::usage) if x (or grad) does not
/// have 2 entries.
#include <Eigen/Core>
#include <Eigen/LU>

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/types.hpp"

namespace logz {

namespace detail {
inline void check_toy2d_size(const char* who, Eigen::Index n) {
  check_arg(n == 2, "{}: x has {} entries but the model has dimension 2", who, n);
}
inline void check_toy2d_grad(const char* who, Eigen::Index n) {
  check_arg(n == 2, "{}: grad has {} entries but the model has dimension 2", who, n);
}
}  // namespace detail

/// E(x, y) = a (x² + y² − 1)², a > 0.
class Ring {
 public:
  /// Throws Error(Exit::data) unless a is finite and > 0.
  explicit Ring(double a = 0.1) : a_(a) {
    check_data(std::isfinite(a) && a > 0, "Ring: a must be finite and > 0 (got {})", a);
  }
  static constexpr const char* name() { return "ring2d"; }
  static constexpr std::size_t dimension() { return 2; }
  double a() const { return a_; }

  double energy(const Eigen::Ref<const VectorD>& x) const {
    detail::check_toy2d_size("Ring::energy", x.size());
    const double s = x.squaredNorm() - 1.0;
    return a_ * s * s;
  }
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy(x); }
  /// ∇E = 4a (r² − 1) x.
  double energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
    detail::check_toy2d_size("Ring::energy_and_gradient", x.size());
    detail::check_toy2d_grad("Ring::energy_and_gradient", grad.size());
    const double s = x.squaredNorm() - 1.0;
    grad = (4.0 * a_ * s) * x;
    return a_ * s * s;
  }
  /// ΔE = 8a (2r² − 1).
  double laplacian(const Eigen::Ref<const VectorD>& x) const {
    detail::check_toy2d_size("Ring::laplacian", x.size());
    return 8.0 * a_ * (2.0 * x.squaredNorm() - 1.0);
  }
  /// log(π^{3/2} (1 + erf √a) / (2 √a)).
  double log_partition() const {
    const double ra = std::sqrt(a_);
    return 1.5 * std::log(std::numbers::pi) + std::log1p(std::erf(ra)) - std::log(2.0 * ra);
  }

 private:
  double a_;
};

/// E(x) = −log Σ_k w_k N(x; μ_k, Σ_k) with weights w_k > 0 (not necessarily summing to 1).
class GaussianMixture2d {
 public:
  /// Components with full covariances. Throws Error(Exit::data) on no component, lists of
  /// different lengths, a weight that is not finite and > 0, a non-finite mean, or a
  /// covariance that is not finite, symmetric (to 1e-12 of its largest entry) and
  /// positive definite.
  GaussianMixture2d(std::vector<double> weights, std::vector<Eigen::Vector2d> means,
                    std::vector<Eigen::Matrix2d> covariances) {
    const std::size_t k = weights.size();
    check_data(k >= 1, "GaussianMixture2d: needs at least one component");
    check_data(means.size() == k && covariances.size() == k,
               "GaussianMixture2d: {} weights, {} means and {} covariances; the counts must agree", k, means.size(),
               covariances.size());
    double total = 0;
    for (std::size_t c = 0; c < k; ++c) {
      check_data(std::isfinite(weights[c]) && weights[c] > 0,
                 "GaussianMixture2d: weight {} must be finite and > 0 (got {})", c, weights[c]);
      check_data(means[c].allFinite(), "GaussianMixture2d: mean {} is not finite ({}, {})", c, means[c][0], means[c][1]);
      const Eigen::Matrix2d& s = covariances[c];
      check_data(s.allFinite(), "GaussianMixture2d: covariance {} is not finite", c);
      check_data(std::abs(s(0, 1) - s(1, 0)) <= 1e-12 * s.cwiseAbs().maxCoeff(),
                 "GaussianMixture2d: covariance {} is not symmetric ({} vs {})", c, s(0, 1), s(1, 0));
      const Eigen::Matrix2d sym = 0.5 * (s + s.transpose());
      const double det = sym.determinant();
      check_data(sym(0, 0) > 0 && det > 0 && std::isfinite(std::log(det)),
                 "GaussianMixture2d: covariance {} is not positive definite", c);
      Component comp;
      comp.mean = means[c];
      comp.covariance = sym;
      comp.precision = sym.inverse();
      comp.log_norm = std::log(weights[c]) - std::log(2 * std::numbers::pi) - 0.5 * std::log(det);
      comps_.push_back(comp);
      total += weights[c];
    }
    weights_ = std::move(weights);
    log_total_ = std::log(total);
  }
  /// Components with Σ_k = σ_k² I; σ_k must be finite and > 0 (Error(Exit::data)).
  static GaussianMixture2d isotropic(std::vector<double> weights, std::vector<Eigen::Vector2d> means,
                                     const std::vector<double>& sigmas) {
    std::vector<Eigen::Matrix2d> covs;
    for (std::size_t c = 0; c < sigmas.size(); ++c) {
      check_data(std::isfinite(sigmas[c]) && sigmas[c] > 0, "GaussianMixture2d: sigma {} must be finite and > 0 (got {})",
                 c, sigmas[c]);
      covs.push_back(sigmas[c] * sigmas[c] * Eigen::Matrix2d::Identity());
    }
    return GaussianMixture2d(std::move(weights), std::move(means), std::move(covs));
  }
  /// Eight components of weight 1/8 and σ = 0.5 evenly spaced on the circle of radius 3
  /// (neighbours 4.6 σ apart: well separated modes). log Z = 0.
  static GaussianMixture2d eight_modes() {
    std::vector<double> w(8, 0.125), sig(8, 0.5);
    std::vector<Eigen::Vector2d> mu;
    for (int k = 0; k < 8; ++k) {
      const double t = 2 * std::numbers::pi * k / 8;
      mu.emplace_back(3 * std::cos(t), 3 * std::sin(t));
    }
    return isotropic(std::move(w), std::move(mu), sig);
  }

  static constexpr const char* name() { return "mixture2d"; }
  static constexpr std::size_t dimension() { return 2; }
  std::size_t num_components() const { return comps_.size(); }
  const std::vector<double>& weights() const { return weights_; }
  const Eigen::Vector2d& mean(std::size_t k) const { return comps_[k].mean; }
  const Eigen::Matrix2d& covariance(std::size_t k) const { return comps_[k].covariance; }

  double energy(const Eigen::Ref<const VectorD>& x) const {
    detail::check_toy2d_size("GaussianMixture2d::energy", x.size());
    return -accumulate(x).log_sum;
  }
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy(x); }
  /// ∇E = Σ_k r_k Λ_k (x − μ_k), r_k the responsibilities (posterior of component k).
  double energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
    detail::check_toy2d_size("GaussianMixture2d::energy_and_gradient", x.size());
    detail::check_toy2d_grad("GaussianMixture2d::energy_and_gradient", grad.size());
    const Sums s = accumulate(x);
    grad[0] = s.grad[0];  // by entry: a fixed-size to dynamic copy trips GCC 12's -Warray-bounds
    grad[1] = s.grad[1];
    return -s.log_sum;
  }
  /// ΔE = −Δp/p + |∇ log p|² = Σ_k r_k (tr Λ_k − |Λ_k d_k|²) + |Σ_k r_k Λ_k d_k|², d_k = x − μ_k.
  double laplacian(const Eigen::Ref<const VectorD>& x) const {
    detail::check_toy2d_size("GaussianMixture2d::laplacian", x.size());
    const Sums s = accumulate(x);
    return s.lap + s.grad.squaredNorm();
  }
  /// log Σ_k w_k (0 when the weights sum to 1).
  double log_partition() const { return log_total_; }

 private:
  struct Component {
    Eigen::Vector2d mean;
    Eigen::Matrix2d covariance, precision;
    double log_norm;  // log w_k − log 2π − ½ log det Σ_k
  };
  struct Sums {
    double log_sum;        // log Σ_k w_k N_k(x)
    Eigen::Vector2d grad;  // Σ_k r_k Λ_k d_k
    double lap;            // Σ_k r_k (tr Λ_k − |Λ_k d_k|²)
  };
  /// One pass over the components, log-sum-exp style: the running sums are kept relative
  /// to the largest log term so far and rescaled when a larger one arrives.
  Sums accumulate(const Eigen::Ref<const VectorD>& x) const {
    const Eigen::Vector2d p(x[0], x[1]);
    double top = -std::numeric_limits<double>::infinity(), sum = 0, lap = 0;
    Eigen::Vector2d g = Eigen::Vector2d::Zero();
    for (const Component& c : comps_) {
      const Eigen::Vector2d d = p - c.mean;
      const Eigen::Vector2d ld = c.precision * d;
      const double t = c.log_norm - 0.5 * d.dot(ld);
      if (std::isnan(t)) return {std::numeric_limits<double>::quiet_NaN(), Eigen::Vector2d::Constant(t), t};
      if (t == -std::numeric_limits<double>::infinity()) continue;
      if (t > top) {
        const double scale = std::exp(top - t);
        sum *= scale, lap *= scale, g *= scale;
        top = t;
      }
      const double w = std::exp(t - top);
      sum += w;
      g += w * ld;
      lap += w * (c.precision.trace() - ld.squaredNorm());
    }
    if (sum == 0) {  // every term underflowed: far outside every component
      const double inf = std::numeric_limits<double>::infinity();
      return {-inf, Eigen::Vector2d::Constant(std::numeric_limits<double>::quiet_NaN()), inf};
    }
    return {top + std::log(sum), g / sum, lap / sum};
  }

  std::vector<Component> comps_;
  std::vector<double> weights_;
  double log_total_ = 0;
};

/// Haario et al.'s twisted Gaussian: E = x₁² / (2 s²) + ½ (x₂ + b (x₁² − s²))².
/// Defaults are the paper's moderately twisted case (s² = 100, b = 0.03).
class Banana {
 public:
  /// Throws Error(Exit::data) unless b is finite and s finite and > 0.
  explicit Banana(double b = 0.03, double s = 10.0) : b_(b), s_(s) {
    check_data(std::isfinite(b), "Banana: b must be finite (got {})", b);
    check_data(std::isfinite(s) && s > 0, "Banana: s must be finite and > 0 (got {})", s);
  }
  static constexpr const char* name() { return "banana2d"; }
  static constexpr std::size_t dimension() { return 2; }
  double b() const { return b_; }
  double s() const { return s_; }

  double energy(const Eigen::Ref<const VectorD>& x) const {
    detail::check_toy2d_size("Banana::energy", x.size());
    const double t = twisted(x);
    return 0.5 * x[0] * x[0] / (s_ * s_) + 0.5 * t * t;
  }
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy(x); }
  /// ∇E = (x₁ / s² + 2 b x₁ t, t), t = x₂ + b (x₁² − s²).
  double energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
    detail::check_toy2d_size("Banana::energy_and_gradient", x.size());
    detail::check_toy2d_grad("Banana::energy_and_gradient", grad.size());
    const double t = twisted(x);
    grad[0] = x[0] / (s_ * s_) + 2.0 * b_ * x[0] * t;
    grad[1] = t;
    return 0.5 * x[0] * x[0] / (s_ * s_) + 0.5 * t * t;
  }
  /// ΔE = 1/s² + 4 b² x₁² + 2 b t + 1.
  double laplacian(const Eigen::Ref<const VectorD>& x) const {
    detail::check_toy2d_size("Banana::laplacian", x.size());
    return 1.0 / (s_ * s_) + 4.0 * b_ * b_ * x[0] * x[0] + 2.0 * b_ * twisted(x) + 1.0;
  }
  /// log(2π s).
  double log_partition() const { return std::log(2 * std::numbers::pi * s_); }

 private:
  double twisted(const Eigen::Ref<const VectorD>& x) const { return x[1] + b_ * (x[0] * x[0] - s_ * s_); }

  double b_, s_;
};

/// Any of the 2-D toys behind one type (DifferentiableEnergy); calls are forwarded.
class Toy2d {
 public:
  using Variant = std::variant<Ring, GaussianMixture2d, Banana>;
  explicit Toy2d(Variant v) : v_(std::move(v)) {}

  /// "ring2d", "mixture2d" or "banana2d".
  const char* name() const {
    return std::visit([](const auto& m) { return m.name(); }, v_);
  }
  static constexpr std::size_t dimension() { return 2; }
  const Variant& variant() const { return v_; }

  double energy(const Eigen::Ref<const VectorD>& x) const {
    return std::visit([&](const auto& m) { return m.energy(x); }, v_);
  }
  double energy_of(const Eigen::Ref<const VectorD>& x) const { return energy(x); }
  double energy_and_gradient(const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) const {
    return std::visit([&](const auto& m) { return m.energy_and_gradient(x, grad); }, v_);
  }
  double laplacian(const Eigen::Ref<const VectorD>& x) const {
    return std::visit([&](const auto& m) { return m.laplacian(x); }, v_);
  }
  double log_partition() const {
    return std::visit([](const auto& m) { return m.log_partition(); }, v_);
  }

 private:
  Variant v_;
};

/// The names toy2d_by_name knows, in the order docs/continuous.md lists them.
inline constexpr std::array<std::string_view, 3> toy2d_names{"ring2d", "mixture2d", "banana2d"};

/// The toy of a name, with its default parameters: "ring2d" = Ring(0.1),
/// "mixture2d" = GaussianMixture2d::eight_modes(), "banana2d" = Banana(0.03, 10); the
/// short names "ring", "mixture", "banana" are accepted too. Throws Error(Exit::usage)
/// on any other name.
inline Toy2d toy2d_by_name(std::string_view name) {
  if (name == "ring2d" || name == "ring") return Toy2d(Ring());
  if (name == "mixture2d" || name == "mixture") return Toy2d(GaussianMixture2d::eight_modes());
  if (name == "banana2d" || name == "banana") return Toy2d(Banana());
  fail(Exit::usage, "toy2d_by_name: unknown 2-D energy '{}' (known: ring2d, mixture2d, banana2d)", name);
}

}  // namespace logz
