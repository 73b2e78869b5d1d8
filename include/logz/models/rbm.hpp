#pragma once
/// @file rbm.hpp
/// Bernoulli–Bernoulli restricted Boltzmann machine (Smolensky 1986; Hinton 2002):
///   E(v, h) = -b·v - c·h - vᵀ W h,    v ∈ {0,1}^n_v, h ∈ {0,1}^n_h,
///   F(v) = -log Σ_h exp(-E(v, h)) = -b·v - Σ_j softplus(c_j + (vᵀW)_j).
/// Parameters are stored in T (float for the fast batched paths, double for exact
/// work); energies, free energies and every reduction are accumulated in double.
#include <cmath>
#include <cstddef>
#include <string_view>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/core/vecmath.hpp"

namespace logz {

template <class T>
struct Rbm {
  Matrix<T> weights;       ///< [n_visible, n_hidden]
  Vector<T> visible_bias;  ///< b, [n_visible]
  Vector<T> hidden_bias;   ///< c, [n_hidden]

  Rbm() = default;
  Rbm(std::size_t n_visible, std::size_t n_hidden)
      : weights(Matrix<T>::Zero(Eigen::Index(n_visible), Eigen::Index(n_hidden))),
        visible_bias(Vector<T>::Zero(Eigen::Index(n_visible))),
        hidden_bias(Vector<T>::Zero(Eigen::Index(n_hidden))) {}

  std::size_t n_visible() const { return std::size_t(weights.rows()); }
  std::size_t n_hidden() const { return std::size_t(weights.cols()); }
  std::size_t num_parameters() const { return n_visible() * n_hidden() + n_visible() + n_hidden(); }

  template <class U>
  Rbm<U> cast() const {
    Rbm<U> r;
    r.weights = weights.template cast<U>();
    r.visible_bias = visible_bias.template cast<U>();
    r.hidden_bias = hidden_bias.template cast<U>();
    return r;
  }

  /// Throws Error(Exit::data) naming `what` if shapes disagree or a parameter is not finite.
  void validate(std::string_view what) const {
    check_data(weights.rows() > 0 && weights.cols() > 0, "{}: weights must be non-empty, got shape ({}, {})", what,
               weights.rows(), weights.cols());
    check_data(visible_bias.size() == weights.rows(),
               "{}: visible_bias has {} entries but weights has {} rows (n_visible)", what, visible_bias.size(),
               weights.rows());
    check_data(hidden_bias.size() == weights.cols(),
               "{}: hidden_bias has {} entries but weights has {} columns (n_hidden)", what, hidden_bias.size(),
               weights.cols());
    check_finite(weights, what, "weights");
    check_finite(visible_bias, what, "visible_bias");
    check_finite(hidden_bias, what, "hidden_bias");
  }

  /// E(v, h) in double.
  double energy(const Eigen::Ref<const VectorD>& v, const Eigen::Ref<const VectorD>& h) const {
    const MatrixD w = weights.template cast<double>();
    return -(visible_bias.template cast<double>().dot(v)) - hidden_bias.template cast<double>().dot(h) -
           v.dot(w * h);
  }

  /// F(v) in double.
  double free_energy(const Eigen::Ref<const VectorD>& v) const {
    double f = -visible_bias.template cast<double>().dot(v);
    const VectorD pre = weights.template cast<double>().transpose() * v + hidden_bias.template cast<double>();
    for (Eigen::Index j = 0; j < pre.size(); ++j) f -= softplus(pre[j]);
    return f;
  }

 private:
  template <class M>
  static void check_finite(const M& m, std::string_view what, std::string_view name) {
    for (Eigen::Index i = 0; i < m.size(); ++i)
      check_data(std::isfinite(double(m.data()[i])), "{}: {} has a non-finite value {} at flat index {}", what, name,
                 double(m.data()[i]), i);
  }
};

using RbmF = Rbm<float>;
using RbmD = Rbm<double>;

/// F(v) for every row of `data` (entries 0/1, any numeric type; a matrix or a map of
/// one, read in place), in double. The GEMM runs in the model's precision T; softplus and
/// sums in double.
template <class T, class Derived>
VectorD free_energies(const Rbm<T>& m, const Eigen::MatrixBase<Derived>& data, const Exec& ex) {
  check_arg(std::size_t(data.cols()) == m.n_visible(), "free_energies: data has {} columns, the model has {} visible units",
            data.cols(), m.n_visible());
  VectorD out(data.rows());
  const Blocks blocks = row_blocks(std::size_t(data.rows()));
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    const auto r0 = Eigen::Index(blocks.begin(t)), n = Eigen::Index(blocks.size(t));
    const Matrix<T> v = data.middleRows(r0, n).template cast<T>();
    Matrix<T> pre = v * m.weights;
    pre.rowwise() += m.hidden_bias.transpose();
    const VectorD vb = v.template cast<double>() * m.visible_bias.template cast<double>();
    for (Eigen::Index i = 0; i < n; ++i) out[r0 + i] = -vb[i] - sum_softplus(pre.row(i).data(), std::size_t(pre.cols()));
  });
  return out;
}

}  // namespace logz
