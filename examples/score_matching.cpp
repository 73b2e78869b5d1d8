// Fit a continuous energy model without its partition function: score matching
// (Hyvärinen 2005, "Estimation of non-normalized statistical models by score matching",
// JMLR 6) minimises
//   J(θ) = mean over data of [ ½ ‖∇ₓE(x)‖² − ΔₓE(x) ],
// which needs the gradient and the Laplacian of the energy in x, never log Z. Here the
// model is a Gaussian energy E(x) = ½ xᵀΛx − bᵀx with free precision Λ and linear term
// b, fitted by L-BFGS (Liu & Nocedal 1989) to draws from a known 3-D Gaussian.
//
// Hyvärinen (2005) works this model out: the minimiser is the maximum-likelihood
// estimate, Λ = S⁻¹ (S the sample covariance with divisor n) and Λ⁻¹b = the sample mean.
// The program checks (1) that L-BFGS reached that closed form, and (2) that the fit is
// as close to the truth as n draws allow: 2n·KL(truth ‖ fit) is asymptotically χ² with
// 9 degrees of freedom (3 means + 6 precision entries), and it must stay below 39.34,
// its 1 − 1e-5 quantile (a false alarm once in 10^5 seeds).
#include <cmath>
#include <cstdio>

#include <Eigen/LU>

#include "logz/core/parallel.hpp"               // Exec
#include "logz/core/rng.hpp"                    // Stream
#include "logz/models/gaussian.hpp"             // Gaussian: the truth, exact draws, closed-form log Z
#include "logz/objectives/score_matching.hpp"   // GaussianEnergy, fit_score_matching
#include "logz/optim/lbfgs.hpp"                 // LbfgsOptions

using namespace logz;

namespace {

// KL(p ‖ q) of two Gaussians: ½ [tr(Λ_q Σ_p) + (μ_q − μ_p)ᵀ Λ_q (μ_q − μ_p) − d + log det Σ_q − log det Σ_p].
double kl_divergence(const Gaussian& p, const Gaussian& q) {
  const VectorD dm = q.mean() - p.mean();
  const double log_det_ratio = std::log(p.precision().determinant()) - std::log(q.precision().determinant());
  return 0.5 * ((q.precision() * p.covariance()).trace() + dm.dot(q.precision() * dm) - double(p.dimension()) +
                log_det_ratio);
}

}  // namespace

int main() {
  const Exec ex;  // all cores; the objective is summed in fixed blocks, so the bits do not depend on it

  // The truth: a correlated, off-centre Gaussian, and n exact draws from it (one per row).
  VectorD mean(3);
  mean << 0.5, -1.0, 2.0;
  MatrixD precision(3, 3);
  precision << 2.0, 0.6, -0.3,  //
      0.6, 1.5, 0.4,            //
      -0.3, 0.4, 1.0;
  const Gaussian truth(mean, precision);
  const std::size_t n = 2000;
  MatrixD x(Eigen::Index(n), 3);
  Stream rng = Stream::derive(/*seed=*/5, Purpose::sample, 0);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    VectorD draw(3);
    truth.sample(rng, draw);
    x.row(r) = draw.transpose();
  }

  // The fit: from the standard normal energy (Λ = I, b = 0); the objective is a convex
  // quadratic in θ = (b, Λ), so L-BFGS converges to its unique minimum.
  LbfgsOptions options;
  options.gradient_tolerance = 1e-8;  // about where rounding of J floors the gradient
  const ScoreFit<GaussianEnergy> fit = fit_score_matching(GaussianEnergy::standard(3), x, options, ex);
  const Gaussian fitted = fit.model.to_gaussian();  // N(Λ⁻¹b, Λ⁻¹): now log Z is a closed form

  // The closed form the fit must reach: the maximum-likelihood Gaussian (divisor n).
  const VectorD x_bar = x.colwise().mean().transpose();
  const MatrixD centred = x.rowwise() - x_bar.transpose();
  const MatrixD ml_precision = (centred.transpose() * centred / double(n)).inverse();
  const double precision_gap = (fitted.precision() - ml_precision).lpNorm<Eigen::Infinity>();
  const double mean_gap = (fitted.mean() - x_bar).lpNorm<Eigen::Infinity>();

  const double kl = kl_divergence(truth, fitted);
  std::printf("L-BFGS: %zu iterations, J = %.6f, stopped by the %s test\n", fit.iterations, fit.trace.back(),
              fit.stopped_by.c_str());
  std::printf("fitted mean       %8.4f %8.4f %8.4f (truth %.1f %.1f %.1f)\n", fitted.mean()[0], fitted.mean()[1],
              fitted.mean()[2], mean[0], mean[1], mean[2]);
  std::printf("fitted precision  %8.4f %8.4f %8.4f (truth %.1f %.1f %.1f on the diagonal)\n",
              fitted.precision()(0, 0), fitted.precision()(1, 1), fitted.precision()(2, 2), precision(0, 0),
              precision(1, 1), precision(2, 2));
  std::printf("log Z             %.4f (truth %.4f)\n", fitted.log_partition(), truth.log_partition());
  std::printf("gap to the maximum-likelihood closed form: precision %.2e, mean %.2e\n", precision_gap, mean_gap);
  std::printf("2n KL(truth || fit) = %.3f (chi-squared, 9 degrees of freedom: mean 9, 1e-5 quantile 39.34)\n",
              2.0 * double(n) * kl);

  bool ok = true;
  // Optimisation: a gradient of 1e-8 on a quadratic whose Hessian has eigenvalues of
  // order one leaves the parameters within ~1e-8 of the minimum; 1e-6 is safe.
  if (!(fit.converged && precision_gap < 1e-6 && mean_gap < 1e-6)) {
    std::printf("FAIL: score matching did not reach the maximum-likelihood closed form\n");
    ok = false;
  }
  if (!(2.0 * double(n) * kl < 39.34)) {
    std::printf("FAIL: the fit is further from the truth than %zu draws explain\n", n);
    ok = false;
  }
  return ok ? 0 : 1;
}
