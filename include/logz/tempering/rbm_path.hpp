#pragma once
/// @file rbm_path.hpp
/// The RBM annealing path of Salakhutdinov & Murray (2008), "On the quantitative
/// analysis of deep belief networks", ICML: a base-rate model A (visible biases a, no
/// couplings) annealed into the RBM by scaling its weights:
///   f_β(v) = exp(((1-β) a + β b)·v) Π_j (1 + exp(β (c + vᵀW)_j)),
///   log Z_0 = Σ_i softplus(a_i) + n_h log 2.
/// f_1 = exp(-F(v)); p_0 is a product of Bernoullis with exact draws.
#include <cmath>
#include <numbers>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/models/rbm.hpp"

namespace logz {

template <class T>
struct RbmPath {
  const Rbm<T>& model;
  Vector<T> base_bias;  ///< a: visible biases of the base-rate model

  RbmPath(const Rbm<T>& m, Vector<T> a) : model(m), base_bias(std::move(a)) {
    check_arg(std::size_t(base_bias.size()) == m.n_visible(), "RbmPath: base visible biases have {} entries, the model has {} visible units",
              base_bias.size(), m.n_visible());
    for (Eigen::Index i = 0; i < base_bias.size(); ++i)
      check_arg(std::isfinite(double(base_bias[i])), "RbmPath: base visible bias {} is not finite", i);
  }

  double log_z_base() const {
    double s = double(model.n_hidden()) * std::numbers::ln2;
    for (Eigen::Index i = 0; i < base_bias.size(); ++i) s += softplus(double(base_bias[i]));
    return s;
  }
  /// (1-β) a + β b.
  Vector<T> visible_bias_at(double beta) const {
    return (T(1 - beta) * base_bias + T(beta) * model.visible_bias).eval();
  }
};

/// Base-rate visible biases from data marginals with Salakhutdinov & Murray's smoothing:
/// a_i = logit((count_i + 0.05 N) / (1.05 N)).
inline VectorD base_rate_bias(const MatrixU8& data) {
  check_arg(data.rows() > 0, "base_rate_bias: data has no rows");
  const double n = double(data.rows());
  // Counts row by row: the data are row-major (a column walk misses the cache).
  std::vector<double> count(std::size_t(data.cols()), 0.0);
  for (Eigen::Index r = 0; r < data.rows(); ++r)
    for (Eigen::Index i = 0; i < data.cols(); ++i) count[std::size_t(i)] += data(r, i);
  VectorD a(data.cols());
  for (Eigen::Index i = 0; i < data.cols(); ++i) {
    const double p = (count[std::size_t(i)] + 0.05 * n) / (1.05 * n);
    a[i] = std::log(p) - std::log1p(-p);
  }
  return a;
}

}  // namespace logz
