// Fitting the Student-t experts and the neural energy to exact draws of a known model:
// score matching (fit_score_matching) and noise-contrastive estimation (fit_nce) recover
// the parameters, and NCE recovers log Z, within error bars derived from the sample.
//
// Error bars: both fits are M-estimators θ̂ = argmin (1/N) Σ_n ℓ_n(θ) with i.i.d. terms
// (NCE: data row n with its ν noise rows), so Cov θ̂ ≈ H⁻¹ V H⁻¹ / N (the sandwich), H the
// Hessian of the objective at θ̂ (central differences of its analytic gradient) and V the
// covariance of the per-row gradients ∇ℓ_n. Each parameter is checked as
// |θ̂_i − θ*_i| <= 4.42 SE_i: two-sided false-failure rate 1e-5 per check (normal
// approximation), under 2e-4 for the whole file. A fitted model is compared with the
// truth after undoing the symmetries that leave E unchanged: permutations of the
// experts / units, and sign flips (experts: w_k → −w_k; neural units:
// (w_j, b_j, c) → (−w_j, −b_j, c + a_j w_j), E changing by the constant a_j b_j).
// Every check must be able to fail: the same error bars reject a truth with a shape or an
// output weight moved by a few standard errors.
#include <gtest/gtest.h>

#include <Eigen/LU>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/models/neural_energy.hpp"
#include "logz/models/student_t_experts.hpp"
#include "logz/objectives/nce.hpp"
#include "logz/objectives/score_matching.hpp"

namespace logz {
namespace {

constexpr double kZ = 4.42;

// ---------------------------------------------------------------------------------------
// Error bars.

/// The Hessian of an objective at θ by central differences of its analytic gradient,
/// symmetrised.
template <class Gradient>
MatrixD hessian_by_differences(const VectorD& theta, Gradient&& gradient, double h = 1e-5) {
  const Eigen::Index p = theta.size();
  MatrixD out(p, p);
  for (Eigen::Index k = 0; k < p; ++k) {
    VectorD tp = theta, tm = theta;
    tp[k] += h;
    tm[k] -= h;
    out.col(k) = (gradient(tp) - gradient(tm)) / (2 * h);
  }
  return MatrixD(0.5 * (out + out.transpose()));
}

/// H⁻¹ V H⁻¹ / N with V the covariance of the rows of psi (the per-row gradients).
MatrixD sandwich(const MatrixD& hessian, const MatrixD& psi) {
  const double n = double(psi.rows());
  const MatrixD centred = psi.rowwise() - psi.colwise().mean();
  const MatrixD v = centred.transpose() * centred / n;
  const MatrixD hinv = hessian.inverse();
  return hinv * v * hinv.transpose() / n;
}

/// Per-row gradients of score matching's ½‖∇ₓE‖² − ΔₓE.
template <class M>
MatrixD sm_row_gradients(const M& m, const MatrixD& x) {
  const auto p = Eigen::Index(m.num_parameters()), d = x.cols();
  MatrixD out = MatrixD::Zero(x.rows(), p);
  VectorD s(d), g(p);
  for (Eigen::Index n = 0; n < x.rows(); ++n) {
    const VectorD xi = x.row(n).transpose();
    m.energy_and_gradient(xi, s);
    g.setZero();
    m.add_score_vjp(xi, s, 1.0, g);
    m.add_laplacian_gradient(xi, -1.0, g);
    out.row(n) = g.transpose();
  }
  return out;
}

/// The sandwich covariance of a score-matching fit at the model's parameters.
template <class M>
MatrixD sm_covariance(const M& fitted, const MatrixD& x) {
  M m = fitted;
  const MatrixD h = hessian_by_differences(fitted.parameters(), [&](const VectorD& t) {
    m.set_parameters(t);
    VectorD g;
    score_matching_objective(m, x, &g, Exec(2));
    return g;
  });
  return sandwich(h, sm_row_gradients(fitted, x));
}

/// Per-row gradients of NCE's ℓ_n over (θ, c) (objectives/nce.hpp):
/// σ(−z(x_n)) [∂E(x_n), 1] − Σ_k σ(z(y_nk)) [∂E(y_nk), 1].
template <class M>
MatrixD nce_row_gradients(const M& m, double log_z, const NceProblem& problem) {
  const auto p = Eigen::Index(m.num_parameters());
  const MatrixD& x = problem.data();
  const MatrixD& y = problem.noise_samples();
  const auto nu = Eigen::Index(problem.noise_ratio());
  const double log_nu = std::log(double(nu));
  const auto z = [&](const VectorD& u) { return -m.energy_of(u) - log_z - problem.noise().log_density(u) - log_nu; };
  MatrixD out = MatrixD::Zero(x.rows(), p + 1);
  VectorD g(p + 1);
  for (Eigen::Index n = 0; n < x.rows(); ++n) {
    g.setZero();
    auto gt = g.head(p);
    const VectorD xi = x.row(n).transpose();
    const double wx = detail::logistic(-z(xi));
    m.add_energy_gradient(xi, wx, gt);
    g[p] += wx;
    for (Eigen::Index k = 0; k < nu; ++k) {
      const VectorD yk = y.row(n * nu + k).transpose();
      const double wy = detail::logistic(z(yk));
      m.add_energy_gradient(yk, -wy, gt);
      g[p] -= wy;
    }
    out.row(n) = g.transpose();
  }
  return out;
}

/// The sandwich covariance of an NCE fit over (θ, c).
template <class M>
MatrixD nce_covariance(const M& fitted, double log_z, const NceProblem& problem) {
  M m = fitted;
  const auto p = Eigen::Index(fitted.num_parameters());
  VectorD w(p + 1);
  w << fitted.parameters(), log_z;
  const MatrixD h = hessian_by_differences(w, [&](const VectorD& t) {
    m.set_parameters(t.head(p));
    VectorD g;
    problem.objective(m, t[p], &g, Exec(2));
    return g;
  });
  return sandwich(h, nce_row_gradients(fitted, log_z, problem));
}

/// How many entries of estimate lie further than kZ SE from truth; prints each one.
int count_rejected(const VectorD& estimate, const VectorD& truth, const MatrixD& covariance, const std::string& what,
                   bool report = true) {
  int rejected = 0;
  for (Eigen::Index i = 0; i < estimate.size(); ++i) {
    const double se = std::sqrt(covariance(i, i));
    const bool bad = !(std::abs(estimate[i] - truth[i]) <= kZ * se);
    rejected += bad;
    if (bad && report)
      ADD_FAILURE() << what << ": parameter " << i << " estimate " << estimate[i] << ", truth " << truth[i] << ", SE "
                    << se << " (" << (estimate[i] - truth[i]) / se << " SE)";
  }
  return rejected;
}

/// max_i |estimate_i − truth_i| / SE_i, recorded as a test property with `extra`.
void record_deviation(const VectorD& estimate, const VectorD& truth, const MatrixD& covariance, const std::string& extra) {
  double worst = 0;
  for (Eigen::Index i = 0; i < estimate.size(); ++i)
    worst = std::max(worst, std::abs(estimate[i] - truth[i]) / std::sqrt(covariance(i, i)));
  ::testing::Test::RecordProperty("largest deviation in SE", std::to_string(worst) + extra);
}

// ---------------------------------------------------------------------------------------
// Student-t experts.

/// A complete model on R² with finite fourth moments (α > 5/2), so the sandwich's V is
/// estimated consistently.
StudentTExperts experts_truth() {
  MatrixD w(2, 2);
  w << 1.0, 0.4, -0.3, 0.8;
  VectorD alpha(2);
  alpha << 3.0, 4.0;
  return StudentTExperts(w, alpha);
}

MatrixD experts_draws(const StudentTExperts& m, std::size_t n, std::uint64_t seed) {
  MatrixD out(Eigen::Index(n), Eigen::Index(m.dimension()));
  VectorD x(Eigen::Index(m.dimension()));
  for (std::size_t r = 0; r < n; ++r) {
    Stream rng = Stream::derive(seed, Purpose::sample, r);
    m.sample(rng, x);
    out.row(Eigen::Index(r)) = x.transpose();
  }
  return out;
}

/// The expert order and row signs that bring `fitted` closest to `truth` (same energy).
StudentTExperts align_experts(const StudentTExperts& fitted, const StudentTExperts& truth) {
  const auto K = Eigen::Index(fitted.num_experts());
  std::vector<Eigen::Index> perm(std::size_t(K), 0);
  for (Eigen::Index k = 0; k < K; ++k) perm[std::size_t(k)] = k;
  StudentTExperts best = fitted;
  double best_dist = INFINITY;
  do {
    MatrixD w(K, fitted.filters().cols());
    VectorD a(K);
    for (Eigen::Index k = 0; k < K; ++k) {
      const VectorD row = fitted.filters().row(perm[std::size_t(k)]).transpose();
      const VectorD want = truth.filters().row(k).transpose();
      w.row(k) = ((row - want).norm() <= (row + want).norm() ? row : VectorD(-row)).transpose();
      a[k] = fitted.alpha()[perm[std::size_t(k)]];
    }
    const StudentTExperts candidate(w, a, fitted.quadratic());
    const double dist = (candidate.parameters() - truth.parameters()).norm();
    if (dist < best_dist) best = candidate, best_dist = dist;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

TEST(EnergyModelsFit, ScoreMatchingRecoversStudentTExperts) {
  const StudentTExperts truth = experts_truth();
  const MatrixD x = experts_draws(truth, 20000, 41);
  LbfgsOptions lbfgs;
  lbfgs.gradient_tolerance = 1e-6;
  lbfgs.max_iterations = 2000;
  const auto fit = fit_score_matching(StudentTExperts::random(2, 2, 1.0, 42), x, lbfgs, Exec(2));
  EXPECT_TRUE(fit.converged) << fit.stopped_by << ", |grad| " << fit.gradient_norm << " after " << fit.iterations;
  RecordProperty("iterations", int(fit.iterations));
  const StudentTExperts aligned = align_experts(fit.model, truth);
  const MatrixD cov = sm_covariance(aligned, x);
  EXPECT_EQ(count_rejected(aligned.parameters(), truth.parameters(), cov, "score matching"), 0);
  record_deviation(aligned.parameters(), truth.parameters(), cov, "");
  // A truth with α_0 larger by 10 SE of log α_0 is rejected.
  VectorD wrong = truth.parameters();
  wrong[4] += 10 * std::sqrt(cov(4, 4));
  EXPECT_GE(count_rejected(aligned.parameters(), wrong, cov, "", false), 1);
}

TEST(EnergyModelsFit, NceRecoversStudentTExpertsAndTheirLogZ) {
  const StudentTExperts truth = experts_truth();
  const MatrixD x = experts_draws(truth, 20000, 51);
  // Noise: N(0, 2 Σ) with Σ the model's covariance W⁻¹ diag(2/(2α − 3)) W⁻ᵀ, wider than the
  // data in every direction.
  const MatrixD winv = truth.filters().inverse();
  VectorD var(2);
  for (Eigen::Index k = 0; k < 2; ++k) var[k] = 2 / (2 * truth.alpha()[k] - 3);
  const MatrixD sigma = 2 * winv * var.asDiagonal() * winv.transpose();
  NceOptions opt;
  opt.noise = Gaussian(VectorD::Zero(2), MatrixD(sigma.inverse()));
  opt.noise_ratio = 5;
  opt.seed = 52;
  LbfgsOptions lbfgs;
  lbfgs.gradient_tolerance = 1e-6;
  lbfgs.max_iterations = 2000;
  const auto fit = fit_nce(StudentTExperts::random(2, 2, 1.0, 53), x, opt, lbfgs, Exec(2));
  EXPECT_TRUE(fit.converged) << fit.stopped_by << ", |grad| " << fit.gradient_norm << " after " << fit.iterations;
  RecordProperty("iterations", int(fit.iterations));
  const StudentTExperts aligned = align_experts(fit.model, truth);
  const NceProblem problem(x, opt, Exec(2));
  const MatrixD cov = nce_covariance(aligned, fit.log_z, problem);
  VectorD estimate(7), want(7);
  estimate << aligned.parameters(), fit.log_z;
  want << truth.parameters(), truth.log_partition();
  EXPECT_EQ(count_rejected(estimate, want, cov, "NCE"), 0);
  record_deviation(estimate, want, cov,
                   "; c = " + std::to_string(fit.log_z) + " +- " + std::to_string(std::sqrt(cov(6, 6))) +
                       ", log Z = " + std::to_string(want[6]));
  // c estimates log Z of the fitted model too (the same error bar covers the difference,
  // which is much smaller: both move together).
  EXPECT_LE(std::abs(fit.log_z - aligned.log_partition()), kZ * std::sqrt(cov(6, 6)));
  // log Z off by 10 SE is rejected.
  want[6] += 10 * std::sqrt(cov(6, 6));
  EXPECT_GE(count_rejected(estimate, want, cov, "", false), 1);
}

// ---------------------------------------------------------------------------------------
// The neural energy in two dimensions.

NeuralEnergy neural_truth() {
  MatrixD w(2, 2);
  w << 1.5, 0.5, -0.5, 1.2;
  VectorD b(2), a(2), c(2);
  b << 0.5, -0.5;
  a << 1.5, -1.0;
  c << 0.2, -0.1;
  return NeuralEnergy(w, b, a, c, 1.0);
}

/// Exact draws by rejection: E(x) >= ½λ‖x‖² − B‖x‖ − C (docs/energy-models.md) and
/// B r − ¼λr² <= B²/λ give exp(−E(x)) <= exp(C + B²/λ) exp(−¼λ‖x‖²), a Gaussian envelope
/// N(0, (2/λ) I). Row r uses Stream::derive(seed, Purpose::sample, r) only.
MatrixD neural_draws(const NeuralEnergy& m, std::size_t n, std::uint64_t seed) {
  double B = m.linear().norm(), C = 0;
  for (Eigen::Index j = 0; j < m.weights().rows(); ++j)
    if (m.output_weights()[j] < 0) {
      B -= m.output_weights()[j] * m.weights().row(j).norm();
      C -= m.output_weights()[j] * (std::log(2.0) + std::abs(m.hidden_bias()[j]));
    }
  const double lambda = m.quadratic(), log_m = C + B * B / lambda, sd = std::sqrt(2 / lambda);
  const auto d = Eigen::Index(m.dimension());
  MatrixD out(Eigen::Index(n), d);
  VectorD x(d);
  for (std::size_t r = 0; r < n; ++r) {
    Stream rng = Stream::derive(seed, Purpose::sample, r);
    for (;;) {
      for (Eigen::Index i = 0; i < d; ++i) x[i] = sd * rng.normal();
      const double log_ratio = -m.energy_of(x) - log_m + 0.25 * lambda * x.squaredNorm();
      EXPECT_LE(log_ratio, 0.0);
      if (std::log(rng.uniform_double()) < log_ratio) break;
    }
    out.row(Eigen::Index(r)) = x.transpose();
  }
  return out;
}

/// log Z on [−L, L]² by the trapezoid rule (the tails are Gaussian: L = 12 leaves
/// nothing measurable for λ = 1).
double neural_log_z(const NeuralEnergy& m, double L = 12, double h = 0.01) {
  const auto n = long(std::lround(L / h));
  double z = 0;
  VectorD x(2);
  for (long i = -n; i <= n; ++i)
    for (long j = -n; j <= n; ++j) {
      x << double(i) * h, double(j) * h;
      z += std::exp(-m.energy_of(x));
    }
  return std::log(z * h * h);
}

/// ∇θ log Z = −E_p[∂E/∂θ] on the same grid (step 0.02: the moments of this smooth,
/// Gaussian-tailed density need no finer grid).
VectorD neural_log_z_gradient(const NeuralEnergy& m, double L = 12, double h = 0.02) {
  const auto n = long(std::lround(L / h));
  const auto p = Eigen::Index(m.num_parameters());
  double z = 0;
  VectorD x(2), g = VectorD::Zero(p), gi(p);
  for (long i = -n; i <= n; ++i)
    for (long j = -n; j <= n; ++j) {
      x << double(i) * h, double(j) * h;
      const double w = std::exp(-m.energy_of(x));
      z += w;
      gi.setZero();
      m.add_energy_gradient(x, w, gi);
      g += gi;
    }
  return -g / z;
}

/// The unit order and sign flips that bring `fitted` closest to `truth` (the same energy
/// up to a constant).
NeuralEnergy align_neural(const NeuralEnergy& fitted, const NeuralEnergy& truth) {
  const auto H = Eigen::Index(fitted.num_hidden()), d = Eigen::Index(fitted.dimension());
  std::vector<Eigen::Index> perm(std::size_t(H), 0);
  for (Eigen::Index j = 0; j < H; ++j) perm[std::size_t(j)] = j;
  NeuralEnergy best = fitted;
  double best_dist = INFINITY;
  do {
    for (std::uint64_t flips = 0; flips < (std::uint64_t(1) << H); ++flips) {
      MatrixD w(H, d);
      VectorD b(H), a(H), c = fitted.linear();
      for (Eigen::Index j = 0; j < H; ++j) {
        const Eigen::Index src = perm[std::size_t(j)];
        const double sign = (flips >> j) & 1 ? -1.0 : 1.0;
        w.row(j) = sign * fitted.weights().row(src);
        b[j] = sign * fitted.hidden_bias()[src];
        a[j] = fitted.output_weights()[src];
        if (sign < 0) c += a[j] * fitted.weights().row(src).transpose();
      }
      const NeuralEnergy candidate(w, b, a, c, fitted.quadratic());
      const double dist = (candidate.parameters() - truth.parameters()).norm();
      if (dist < best_dist) best = candidate, best_dist = dist;
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

/// The truth with every parameter moved by 0.3: SM and NCE objectives of the neural energy
/// are not convex, and these tests are of the estimators' error bars, not of global
/// optimisation.
NeuralEnergy neural_start(const NeuralEnergy& truth) {
  NeuralEnergy m = truth;
  VectorD theta = truth.parameters();
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] += (i % 2 == 0 ? 0.3 : -0.3);
  m.set_parameters(theta);
  return m;
}

TEST(EnergyModelsFit, ScoreMatchingRecoversTheNeuralEnergy) {
  const NeuralEnergy truth = neural_truth();
  const MatrixD x = neural_draws(truth, 20000, 61);
  LbfgsOptions lbfgs;
  lbfgs.gradient_tolerance = 1e-6;
  lbfgs.max_iterations = 3000;
  const auto fit = fit_score_matching(neural_start(truth), x, lbfgs, Exec(2));
  EXPECT_TRUE(fit.converged) << fit.stopped_by << ", |grad| " << fit.gradient_norm << " after " << fit.iterations;
  RecordProperty("iterations", int(fit.iterations));
  const NeuralEnergy aligned = align_neural(fit.model, truth);
  const MatrixD cov = sm_covariance(aligned, x);
  EXPECT_EQ(count_rejected(aligned.parameters(), truth.parameters(), cov, "score matching (neural)"), 0);
  record_deviation(aligned.parameters(), truth.parameters(), cov, "");
  // An output weight a_1 moved by 10 SE is rejected.
  VectorD wrong = truth.parameters();
  wrong[7] += 10 * std::sqrt(cov(7, 7));
  EXPECT_GE(count_rejected(aligned.parameters(), wrong, cov, "", false), 1);
}

TEST(EnergyModelsFit, NceRecoversTheNeuralEnergyAndItsLogZ) {
  const NeuralEnergy truth = neural_truth();
  const double log_z = neural_log_z(truth);
  // The trapezoid rule at twice the step agrees to far below the error bars.
  ASSERT_NEAR(neural_log_z(truth, 12, 0.02), log_z, 1e-6);
  const MatrixD x = neural_draws(truth, 8000, 71);
  NceOptions opt;  // noise: the Gaussian fitted to the data
  opt.noise_ratio = 3;
  opt.seed = 72;
  LbfgsOptions lbfgs;
  lbfgs.gradient_tolerance = 1e-6;
  lbfgs.max_iterations = 3000;
  const auto fit = fit_nce(neural_start(truth), x, opt, lbfgs, Exec(2));
  EXPECT_TRUE(fit.converged) << fit.stopped_by << ", |grad| " << fit.gradient_norm << " after " << fit.iterations;
  RecordProperty("iterations", int(fit.iterations));
  // c is tied to the energy's constant: a sign flip changes E by a_j b_j, so c moves with
  // it when the fit is aligned.
  const NeuralEnergy aligned = align_neural(fit.model, truth);
  VectorD probe = VectorD::Zero(2);
  const double c_aligned = fit.log_z + (fit.model.energy_of(probe) - aligned.energy_of(probe));
  const NceProblem problem(x, opt, Exec(2));
  const MatrixD cov = nce_covariance(aligned, c_aligned, problem);
  const auto p = Eigen::Index(truth.num_parameters());
  VectorD estimate(p + 1), want(p + 1);
  estimate << aligned.parameters(), c_aligned;
  want << truth.parameters(), log_z;
  EXPECT_EQ(count_rejected(estimate, want, cov, "NCE (neural)"), 0);
  record_deviation(estimate, want, cov,
                   "; c = " + std::to_string(c_aligned) + " +- " + std::to_string(std::sqrt(cov(p, p))) +
                       ", log Z = " + std::to_string(log_z));
  // c and θ are strongly correlated (a constant in E trades against the biases and
  // output weights), so c's own error bar is wide; the difference D = c − log Z(θ̂) is
  // what NCE pins down. Its error bar by the delta method: ∇D = [−∇θ log Z(θ̂), 1],
  // Var D = ∇Dᵀ Cov ∇D, with ∇θ log Z = −E_p[∂E/∂θ] by quadrature. |D| <= 4.42 SE_D
  // (false-failure rate 1e-5), and SE_D must be small enough to mean something.
  const double d_hat = c_aligned - neural_log_z(aligned);
  VectorD grad_d(p + 1);
  grad_d << -neural_log_z_gradient(aligned), 1.0;
  const double se_d = std::sqrt(grad_d.dot(cov * grad_d));
  EXPECT_LT(se_d, 0.05);
  EXPECT_LE(std::abs(d_hat), kZ * se_d) << "c − log Z(fit) = " << d_hat << " ± " << se_d;
  RecordProperty("c - log Z(fit)", std::to_string(d_hat) + " +- " + std::to_string(se_d));
  // The log Z of a model with λ 5% larger (a different density) is rejected.
  NeuralEnergy tighter = aligned;
  VectorD t = aligned.parameters();
  t[p - 1] += std::log(1.05);
  tighter.set_parameters(t);
  EXPECT_GT(std::abs(c_aligned - neural_log_z(tighter)), kZ * se_d);
  want[p] += 10 * std::sqrt(cov(p, p));
  EXPECT_GE(count_rejected(estimate, want, cov, "", false), 1);
}

}  // namespace
}  // namespace logz
