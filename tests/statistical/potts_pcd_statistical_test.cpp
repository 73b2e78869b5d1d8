// Statistical tests of Potts PCD on a known model (4 sites, q = 3, every pair coupled: 66
// parameters, 32 identifiable), with error bars computed exactly by enumerating its 81
// states:
// - the gradient estimate of many burnt-in chains (plain Gibbs, and the β = 1 replica of
//   parallel-tempering ladders) equals the exact gradient (potts_enumeration_marginals)
//   entry by entry within z·SE, SE = sqrt(p(1 − p)/C) of independent chains;
// - on data drawn exactly from the model, PCD (plain and tempered) recovers the
//   parameters in the zero-sum gauge within z·sqrt(SE_ML² + SE_PCD²): SE_ML from the
//   exact Fisher information, Cov(P θ̂) = P I⁺ Pᵀ / N (P the linear zero-sum-gauge map,
//   whose null space is I's: the gauge and constant directions), SE_PCD from the spread
//   of replicate fits; and it sits next to the exact MLE of the same data (L-BFGS on the
//   enumerated likelihood).
// Every comparison states its false-failure rate; all seeds are fixed.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "logz/exact/potts_exact.hpp"
#include "logz/objectives/ising_ml.hpp"  // minimize_lbfgs, for the exact MLE
#include "logz/objectives/potts_pcd.hpp"
#include "logz/training/mrf_pcd.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

constexpr std::size_t kL = 4, kQ = 3;

Potts truth_model() {
  Potts m = Potts::dense(kL, kQ);
  Stream rng = Stream::derive(2024, Purpose::user, 0);
  VectorD theta(Eigen::Index(m.num_parameters()));
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = (k < Eigen::Index(kL * kQ) ? 0.5 : 0.4) * rng.normal();
  m.set_parameters(theta);
  m.zero_sum_gauge();
  return m;
}

/// State k in mixed radix, site 0 fastest.
VectorD state(std::size_t k) {
  VectorD x(static_cast<Eigen::Index>(kL));
  for (std::size_t i = 0; i < kL; ++i, k /= kQ) x[Eigen::Index(i)] = double(k % kQ);
  return x;
}
constexpr std::size_t kStates = 81;

std::vector<double> probabilities(const Potts& m) {
  std::vector<double> p(kStates);
  double top = -INFINITY;
  for (std::size_t k = 0; k < kStates; ++k) top = std::max(top, p[k] = -m.energy(state(k)));
  double z = 0;
  for (double& v : p) z += (v = std::exp(v - top));
  for (double& v : p) v /= z;
  return p;
}

/// Sufficient statistics in the layout of Potts::parameters(): one-hot sites, one-hot pairs.
VectorD statistics(const Potts& m, const VectorD& x) {
  VectorD t = VectorD::Zero(Eigen::Index(m.num_parameters()));
  for (std::size_t i = 0; i < kL; ++i) t[Eigen::Index(i * kQ + std::size_t(x[Eigen::Index(i)]))] = 1;
  for (std::size_t e = 0; e < m.n_edges(); ++e)
    t[Eigen::Index(kL * kQ + e * kQ * kQ + std::size_t(x[Eigen::Index(m.edges()[e].i)]) * kQ +
                   std::size_t(x[Eigen::Index(m.edges()[e].j)]))] = 1;
  return t;
}

/// Cov_p(T): the Fisher information per sample.
MatrixD fisher(const Potts& m) {
  const std::vector<double> p = probabilities(m);
  const auto P = Eigen::Index(m.num_parameters());
  VectorD mean = VectorD::Zero(P);
  MatrixD second = MatrixD::Zero(P, P);
  for (std::size_t k = 0; k < kStates; ++k) {
    const VectorD t = statistics(m, state(k));
    mean += p[k] * t;
    second += p[k] * t * t.transpose();
  }
  return second - mean * mean.transpose();
}

/// The zero-sum gauge as a matrix (it is linear in θ).
MatrixD gauge_matrix(const Potts& shape) {
  const auto P = Eigen::Index(shape.num_parameters());
  MatrixD G(P, P);
  Potts m = shape;
  for (Eigen::Index k = 0; k < P; ++k) {
    m.set_parameters(VectorD::Unit(P, k));
    m.zero_sum_gauge();
    G.col(k) = m.parameters();
  }
  return G;
}

VectorD in_gauge(Potts m) {
  m.zero_sum_gauge();
  return m.parameters();
}

/// Moore–Penrose pseudo-inverse of a symmetric positive semi-definite matrix.
MatrixD pseudo_inverse(const MatrixD& a) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(a);
  const double cut = 1e-10 * es.eigenvalues().cwiseAbs().maxCoeff();
  VectorD inv = es.eigenvalues();
  for (Eigen::Index k = 0; k < inv.size(); ++k) inv[k] = inv[k] > cut ? 1 / inv[k] : 0;
  return es.eigenvectors() * inv.asDiagonal() * es.eigenvectors().transpose();
}

/// N exact draws by inverse CDF, draw r from stream.derive(Purpose::data, r); unit weights.
PottsData exact_sample(const Potts& m, std::size_t N, const Stream& stream) {
  const std::vector<double> p = probabilities(m);
  std::vector<double> cdf(kStates);
  double acc = 0;
  for (std::size_t k = 0; k < kStates; ++k) cdf[k] = (acc += p[k]);
  PottsData d;
  d.q = kQ;
  d.states.resize(Eigen::Index(N), Eigen::Index(kL));
  d.weights = VectorD::Ones(Eigen::Index(N));
  for (std::size_t r = 0; r < N; ++r) {
    Stream rng = stream.derive(Purpose::data, r);
    const double u = rng.uniform_double() * acc;
    const auto k = std::size_t(std::lower_bound(cdf.begin(), cdf.end() - 1, u) - cdf.begin());
    const VectorD x = state(k);
    for (std::size_t i = 0; i < kL; ++i) d.states(Eigen::Index(r), Eigen::Index(i)) = std::uint8_t(x[Eigen::Index(i)]);
  }
  return d;
}

// 66 entries per comparison, Bonferroni: a total false-failure rate of 1e-4 per
// comparison, 1.5e-6 per entry (z = 4.81).
const double kZ = test::normal_two_sided_z(1e-4 / 66);

void check_gradient(const std::vector<double>& betas, std::size_t C) {
  const Exec ex(1);
  const Potts truth = truth_model();
  const PottsMarginals exact = potts_enumeration_marginals(truth, ex);
  const PottsData d = exact_sample(truth, 300, Stream::root(7));
  const PottsMoments dm = potts_data_moments(d, truth.edges(), ex);
  const double lh = 0.5, le = 2.0, W = 300;
  const VectorD want = potts_pcd_gradient(truth, dm, PottsMoments{exact.site, exact.edge}, lh, le, W);
  VectorD p(want.size());
  p << exact.site.reshaped<Eigen::RowMajor>(), exact.edge;
  PottsPcdChains chains(truth, C, 1, betas, Stream::root(31));
  // Unburnt chains (independent draws from the fields alone) give a wrong gradient: the
  // check can fail.
  {
    const VectorD cold = potts_pcd_gradient(truth, dm, chains.moments(truth, ex), lh, le, W);
    double worst = 0;
    for (Eigen::Index k = 0; k < p.size(); ++k)
      worst = std::max(worst, std::abs(cold[k] - want[k]) / std::sqrt(p[k] * (1 - p[k]) / double(C)));
    EXPECT_GT(worst, 2 * kZ);
  }
  for (std::uint64_t t = 0; t < 100; ++t) chains.advance(truth, Stream::derive(32, Purpose::gibbs, t), ex);
  const VectorD g = potts_pcd_gradient(truth, dm, chains.moments(truth, ex), lh, le, W);
  // After 100 sweeps of a 4-site model the chains are independent draws of p (own
  // streams): each entry is a mean of C indicators, SE = sqrt(p(1 − p)/C).
  for (Eigen::Index k = 0; k < p.size(); ++k) {
    const double se = std::sqrt(p[k] * (1 - p[k]) / double(C));
    EXPECT_LE(std::abs(g[k] - want[k]), kZ * se) << "entry " << k << ": " << g[k] << " vs " << want[k];
  }
}

TEST(PottsPcdStatistical, GradientMatchesExactGradient) { check_gradient({}, 4000); }

TEST(PottsPcdStatistical, TemperedGradientMatchesExactGradient) { check_gradient({0.4, 0.7, 1.0}, 2000); }

struct Recovery {
  VectorD mean, se_pcd;
};

Recovery replicate_fits(const PottsData& d, const std::vector<double>& betas, int R, std::size_t updates) {
  PottsPcdConfig c;
  c.chains = 200;
  c.betas = betas;
  c.lambda_h = c.lambda_e = 0;
  c.sgd.updates = updates;
  c.sgd.learning_rate = 0.05;
  c.sgd.momentum = 0.9;
  c.sgd.decay_updates = updates / 10;
  c.sgd.average_last = updates / 2;
  MatrixD est(R, Eigen::Index(kL * kQ + 6 * kQ * kQ));
  for (int r = 0; r < R; ++r) {
    c.seed = 500 + std::uint64_t(r);
    est.row(r) = in_gauge(fit_potts_pcd(d, c, Exec(1)).model).transpose();
  }
  Recovery out;
  out.mean = est.colwise().mean().transpose();
  out.se_pcd.resize(out.mean.size());
  for (Eigen::Index k = 0; k < out.mean.size(); ++k)
    out.se_pcd[k] = std::sqrt((est.col(k).array() - out.mean[k]).square().sum() / (R - 1) / R);
  return out;
}

/// The exact MLE of the data (zero-sum gauge), by L-BFGS on the enumerated likelihood.
VectorD exact_mle(const Potts& shape, const PottsMoments& dm) {
  const Exec ex(1);
  VectorD target(Eigen::Index(shape.num_parameters()));
  target << dm.site.reshaped<Eigen::RowMajor>(), dm.edge;
  Potts work = shape;
  auto f = [&](const VectorD& theta, VectorD& grad) {
    work.set_parameters(theta);
    const PottsMarginals m = potts_enumeration_marginals(work, ex);
    grad.resize(theta.size());
    grad << m.site.reshaped<Eigen::RowMajor>(), m.edge;
    grad -= target;
    return m.log_z - theta.dot(target);
  };
  LbfgsOptions opt;
  opt.gradient_tolerance = 1e-9;
  const LbfgsResult r = minimize_lbfgs(f, VectorD::Zero(Eigen::Index(shape.num_parameters())), opt);
  work.set_parameters(r.x);
  return in_gauge(work);
}

void check_recovery(const std::vector<double>& betas, int R, std::size_t updates) {
  const Potts truth = truth_model();
  const VectorD theta = truth.parameters();  // already in the gauge
  const std::size_t N = 16000;
  const PottsData d = exact_sample(truth, N, Stream::root(41));
  const PottsMoments dm = potts_data_moments(d, truth.edges(), Exec(1));
  const MatrixD G = gauge_matrix(truth);
  const MatrixD cov_ml = G * pseudo_inverse(fisher(truth)) * G.transpose() / double(N);
  const VectorD mle = exact_mle(truth, dm);
  const Recovery fit = replicate_fits(d, betas, R, updates);
  double worst_truth = 0, worst_mle = 0, worst_mle_pcd = 0, worst_zero = 0;
  for (Eigen::Index k = 0; k < theta.size(); ++k) {
    const double se_ml = std::sqrt(cov_ml(k, k)), se = std::hypot(se_ml, fit.se_pcd[k]);
    // The check can fail: a truth off by 0.2 in any entry is outside z·SE.
    EXPECT_LT(kZ * se, 0.2) << "entry " << k;
    // PCD's own noise is the smaller term, so the estimated SE_PCD (few replicates)
    // barely moves the rate from the normal one: 66 entries, 1e-4 in all.
    EXPECT_LT(fit.se_pcd[k], se_ml) << "entry " << k;
    EXPECT_LE(std::abs(fit.mean[k] - theta[k]), kZ * se)
        << "entry " << k << ": " << fit.mean[k] << " vs " << theta[k] << ", SE " << se;
    // The MLE of the same data, which PCD approximates: their difference is PCD's noise
    // (SE_PCD) plus its bias from the lag of the iterates; bounded by z·SE_ML / 2 (the
    // optimisation error is to be well below the statistical error).
    EXPECT_LE(std::abs(fit.mean[k] - mle[k]), 0.5 * kZ * se_ml)
        << "entry " << k << ": PCD " << fit.mean[k] << ", MLE " << mle[k];
    worst_truth = std::max(worst_truth, std::abs(fit.mean[k] - theta[k]) / se);
    worst_mle = std::max(worst_mle, std::abs(fit.mean[k] - mle[k]) / se_ml);
    worst_mle_pcd = std::max(worst_mle_pcd, std::abs(fit.mean[k] - mle[k]) / fit.se_pcd[k]);
    if (k >= Eigen::Index(kL * kQ)) worst_zero = std::max(worst_zero, std::abs(theta[k]) / se);
  }
  // A fit that learnt no couplings (J = 0) would fail the check against the truth.
  EXPECT_GT(worst_zero, kZ);
  std::printf("worst |PCD - truth| / SE = %.2f, |PCD - MLE| / SE_ML = %.2f, / SE_PCD = %.2f, |J| / SE = %.2f\n",
              worst_truth, worst_mle, worst_mle_pcd, worst_zero);
}

TEST(PottsPcdStatistical, RecoversTruthAndTheMle) { check_recovery({}, 8, 2000); }

TEST(PottsPcdStatistical, TemperedRecoversTruthAndTheMle) { check_recovery({0.5, 1.0}, 4, 1000); }

}  // namespace
}  // namespace logz
