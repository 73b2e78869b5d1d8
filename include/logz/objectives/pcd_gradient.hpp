#pragma once
/// @file pcd_gradient.hpp
/// The maximum-likelihood gradient of a continuous parametric energy estimated from
/// samples (stochastic approximation: Younes 1989; persistent chains: Tieleman 2008).
/// The mean negative log-likelihood −(1/N) Σ log p(x_n) = (1/N) Σ E(x_n; θ) + log Z(θ)
/// has the gradient
///   ∇θ = E_data[∂E/∂θ] − E_pθ[∂E/∂θ]
/// (∂ log Z/∂θ = −E_pθ[∂E/∂θ]); pcd_gradient estimates the first term by the mean over
/// data rows and the second by the mean over model samples (e.g. persistent chains,
/// training/continuous_pcd.hpp). With samples drawn exactly from pθ it is unbiased.
#include <cstddef>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"
#include "logz/objectives/score_matching.hpp"

namespace logz {

/// The PCD gradient: mean over the rows of `positive` of ∂E/∂θ minus the mean over the
/// rows of `negative` of ∂E/∂θ (fixed row blocks: the same bits for any thread count).
/// Throws Error(Exit::usage) "pcd_gradient: ..." on an empty matrix or a column count
/// other than the model's dimension.
template <ParametricEnergy M>
VectorD pcd_gradient(const M& model, const MatrixD& positive, const MatrixD& negative, const Exec& ex) {
  const std::size_t d = model.dimension(), p = model.num_parameters();
  for (const MatrixD* m : {&positive, &negative}) {
    check_arg(m->rows() >= 1, "pcd_gradient: the {} samples are empty", m == &positive ? "positive" : "negative");
    check_arg(std::size_t(m->cols()) == d, "pcd_gradient: the {} samples have {} columns but the model has dimension {}",
              m == &positive ? "positive" : "negative", m->cols(), d);
  }
  VectorD gp, gn;
  const auto mean_gradient = [&](const MatrixD& x, VectorD& g) {
    detail::sum_row_terms(std::size_t(x.rows()), p, true, double(x.rows()), &g, ex, [&](std::size_t r, VectorD& out) {
      auto t = out.tail(Eigen::Index(p));
      model.add_energy_gradient(VectorD(x.row(Eigen::Index(r)).transpose()), 1.0, t);
    });
  };
  mean_gradient(positive, gp);
  mean_gradient(negative, gn);
  return gp - gn;
}

}  // namespace logz
