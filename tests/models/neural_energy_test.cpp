// One-hidden-layer softplus energy. Exact first: the energy by hand, the θ layout, every
// derivative over x and θ against central differences at several points (saturated units
// included) and the checker catching a Laplacian with σ in place of σ' and a Hessian
// quadratic-form gradient without its factor 2, the batched score-matching terms against
// the per-row sum, stable values far out in the saturated tails. Then log Z of a 2-D
// model with multimodal density by quadrature (tails bounded analytically) against AIS
// from api::continuous_estimate within z·SE, with identical bits for 1 and 2 threads.
// Bad input errors are pinned.
#include "logz/models/neural_energy.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <Eigen/LU>

#include <cmath>
#include <numbers>
#include <string>
#include <type_traits>

#include "logz/api/continuous_tasks.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/math.hpp"
#include "logz/objectives/score_matching.hpp"
#include "support/expect_error.hpp"
#include "support/parametric_checks.hpp"

namespace logz {
namespace {

using test::expect_error;

static_assert(DifferentiableEnergy<NeuralEnergy>);
static_assert(ParametricEnergy<NeuralEnergy>);
static_assert(ScoreMatchable<NeuralEnergy>);
static_assert(SliceScoreMatchable<NeuralEnergy>);

// Two-sided z for a per-check false-failure rate of 1e-5 (normal approximation).
constexpr double kZ = 4.42;

/// H units on R^d: W ~ scale·N(0, 1), b ~ N(0, 1), a ~ 2·N(0, 1) (both signs), c ~ N(0, 0.5²)
/// from a fixed stream; quadratic λ.
NeuralEnergy varied(std::size_t d, std::size_t H, double scale, double lambda, std::uint64_t seed) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  const auto n = Eigen::Index(d), h = Eigen::Index(H);
  MatrixD w(h, n);
  VectorD b(h), a(h), c(n);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = scale * rng.normal();
  for (Eigen::Index j = 0; j < h; ++j) b[j] = rng.normal();
  for (Eigen::Index j = 0; j < h; ++j) a[j] = 2 * rng.normal();
  for (Eigen::Index i = 0; i < n; ++i) c[i] = 0.5 * rng.normal();
  return NeuralEnergy(w, b, a, c, lambda);
}

TEST(NeuralEnergy, EnergyByHand) {
  MatrixD w(2, 2);
  w << 1.0, -0.5, 0.3, 2.0;
  VectorD b(2), a(2), c(2), x(2);
  b << 0.1, -0.2;
  a << 1.5, -0.7;
  c << 0.4, -0.3;
  x << 0.6, -1.2;
  const NeuralEnergy m(w, b, a, c, 0.8);
  const double z0 = 0.6 + 0.6 + 0.1, z1 = 0.18 - 2.4 - 0.2;
  const double e = 1.5 * std::log1p(std::exp(z0)) - 0.7 * std::log1p(std::exp(z1)) + (0.24 + 0.36) + 0.4 * (0.36 + 1.44);
  EXPECT_NEAR(m.energy_of(x), e, 1e-14);
  VectorD grad(2);
  EXPECT_NEAR(m.energy_and_gradient(x, grad), e, 1e-14);
  const VectorD want = 1.5 / (1 + std::exp(-z0)) * w.row(0).transpose() - 0.7 / (1 + std::exp(-z1)) * w.row(1).transpose() +
                       c + 0.8 * x;
  EXPECT_LT((grad - want).norm(), 1e-14);
  EXPECT_EQ(m.dimension(), 2u);
  EXPECT_EQ(m.num_hidden(), 2u);
  EXPECT_EQ(m.num_parameters(), 4u + 2 + 2 + 2 + 1);
}

TEST(NeuralEnergy, ParametersAreWeightsBiasesOutputsLinearLogQuadratic) {
  NeuralEnergy m = varied(3, 2, 1.0, 0.7, 1);
  const VectorD theta = m.parameters();
  ASSERT_EQ(theta.size(), 6 + 2 + 2 + 3 + 1);
  for (Eigen::Index j = 0; j < 2; ++j) {
    for (Eigen::Index i = 0; i < 3; ++i) EXPECT_EQ(theta[3 * j + i], m.weights()(j, i));
    EXPECT_EQ(theta[6 + j], m.hidden_bias()[j]);
    EXPECT_EQ(theta[8 + j], m.output_weights()[j]);
  }
  for (Eigen::Index i = 0; i < 3; ++i) EXPECT_EQ(theta[10 + i], m.linear()[i]);
  EXPECT_EQ(theta[13], std::log(0.7));
  VectorD t2 = theta;
  t2[4] = 0.25;
  t2[7] = -1.0;
  t2[9] = 3.0;
  t2[12] = 0.5;
  t2[13] = std::log(2.0);
  m.set_parameters(t2);
  EXPECT_EQ(m.weights()(1, 1), 0.25);
  EXPECT_EQ(m.hidden_bias()[1], -1.0);
  EXPECT_EQ(m.output_weights()[1], 3.0);
  EXPECT_EQ(m.linear()[2], 0.5);
  EXPECT_NEAR(m.quadratic(), 2.0, 1e-15);
  EXPECT_EQ(m.parameters(), t2);
}

TEST(NeuralEnergy, RandomDrawsWeightsThenOutputsFromTheInitStream) {
  const NeuralEnergy m = NeuralEnergy::random(3, 2, 5);
  Stream rng = Stream::derive(5, Purpose::init, 0);
  const double scale = 1 / std::sqrt(3.0);
  for (Eigen::Index j = 0; j < 2; ++j)
    for (Eigen::Index i = 0; i < 3; ++i) EXPECT_EQ(m.weights()(j, i), scale * rng.normal());
  for (Eigen::Index j = 0; j < 2; ++j) EXPECT_EQ(m.output_weights()[j], 0.1 * rng.normal());
  EXPECT_EQ(m.hidden_bias(), VectorD::Zero(2));
  EXPECT_EQ(m.linear(), VectorD::Zero(3));
  EXPECT_EQ(m.quadratic(), 1.0);
}

// Every derivative against central differences at several points; scale-3 weights at
// points of scale up to 2 put some units deep in saturation (|z| ~ 10) and some at the
// bend.
TEST(NeuralEnergy, DerivativesMatchCentralDifferences) {
  const NeuralEnergy models[] = {varied(3, 4, 1.0, 0.5, 2), varied(2, 5, 3.0, 1.5, 3), varied(4, 1, 0.7, 0.1, 4)};
  for (const NeuralEnergy& m : models) {
    const auto d = Eigen::Index(m.dimension());
    for (std::uint64_t p = 0; p < 4; ++p) {
      SCOPED_TRACE(testing::Message() << "H = " << m.num_hidden() << ", point " << p);
      const VectorD x = (0.5 + 0.5 * double(p)) * test::normal_vector(d, 200 + p, 0);
      test::expect_derivatives_match_differences(m, x, test::normal_vector(d, 200 + p, 1),
                                                 test::normal_vector(d, 200 + p, 2));
    }
  }
}

/// Mistakes the checker must catch: σ in place of σ' in the Laplacian, and the Hessian
/// quadratic form's gradient without the factor 2 of its 2 σ' q v term.
struct LaplacianWithSigma : NeuralEnergy {
  using NeuralEnergy::NeuralEnergy;
  double laplacian(const Eigen::Ref<const VectorD>& x) const {
    double out = quadratic() * double(dimension());
    for (Eigen::Index j = 0; j < weights().rows(); ++j)
      out += output_weights()[j] * sigmoid(weights().row(j).dot(x) + hidden_bias()[j]) * weights().row(j).squaredNorm();
    return out;
  }
};
struct HessianGradientHalved : NeuralEnergy {
  using NeuralEnergy::NeuralEnergy;
  void add_hessian_quadratic_gradient(const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v, double s,
                                      Eigen::Ref<VectorD> g) const {
    NeuralEnergy::add_hessian_quadratic_gradient(x, v, s, g);
    const Eigen::Index d = x.size();
    for (Eigen::Index j = 0; j < weights().rows(); ++j) {
      const double z = weights().row(j).dot(x) + hidden_bias()[j], q = weights().row(j).dot(v);
      g.segment(j * d, d) -= s * output_weights()[j] * sigmoid(z) * sigmoid(-z) * q * v;
    }
  }
};

/// Runs f with its test failures intercepted; how many of them mention `what`.
template <class F>
int failures_mentioning(F&& f, const std::string& what) {
  testing::TestPartResultArray results;
  {
    testing::ScopedFakeTestPartResultReporter reporter(
        testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    f();
  }
  int n = 0;
  for (int i = 0; i < results.size(); ++i)
    n += std::string(results.GetTestPartResult(i).message()).find(what) != std::string::npos;
  return n;
}

TEST(NeuralEnergy, DerivativeCheckerCatchesWrongTerms) {
  const NeuralEnergy m = varied(3, 3, 1.0, 0.5, 6);
  const VectorD x = test::normal_vector(3, 9, 0), r = test::normal_vector(3, 9, 1), v = test::normal_vector(3, 9, 2);
  const auto copy = [&](auto* tag) {
    using W = std::remove_pointer_t<decltype(tag)>;
    return W(m.weights(), m.hidden_bias(), m.output_weights(), m.linear(), m.quadratic());
  };
  EXPECT_GE(failures_mentioning(
                [&] {
                  test::expect_derivatives_match_differences(copy(static_cast<LaplacianWithSigma*>(nullptr)), x, r, v);
                },
                "laplacian"),
            1);
  EXPECT_GE(failures_mentioning(
                [&] {
                  test::expect_derivatives_match_differences(copy(static_cast<HessianGradientHalved*>(nullptr)), x, r,
                                                             v);
                },
                "add_hessian_quadratic_gradient"),
            1);
}

TEST(NeuralEnergy, BatchedScoreMatchingTermsEqualThePerRowSum) {
  const NeuralEnergy m = varied(4, 6, 1.2, 0.6, 21);
  NeuralEnergy zero_a = m;  // a unit with a_j = 0 still has ∂/∂a_j ≠ 0
  VectorD theta = m.parameters();
  theta[4 * 6 + 6 + 2] = 0;
  zero_a.set_parameters(theta);
  for (const NeuralEnergy* mp : {&m, static_cast<const NeuralEnergy*>(&zero_a)}) {
    MatrixD rows(41, 4);
    for (Eigen::Index n = 0; n < rows.rows(); ++n) rows.row(n) = 1.5 * test::normal_vector(4, 22, std::uint64_t(n)).transpose();
    const auto p = Eigen::Index(mp->num_parameters());
    double value = 0;
    VectorD grad = VectorD::Zero(p), s(4);
    for (Eigen::Index n = 0; n < rows.rows(); ++n) {
      const VectorD x = rows.row(n).transpose();
      mp->energy_and_gradient(x, s);
      value += 0.5 * s.squaredNorm() - mp->laplacian(x);
      mp->add_score_vjp(x, s, 1.0, grad);
      mp->add_laplacian_gradient(x, -1.0, grad);
    }
    VectorD g = VectorD::Ones(p);
    const double batched = mp->add_score_matching_terms(rows, g);
    EXPECT_NEAR(batched, value, 1e-12 * (1 + std::abs(value)));
    EXPECT_LT((g - VectorD::Ones(p) - grad).lpNorm<Eigen::Infinity>(), 1e-11 * (1 + grad.lpNorm<Eigen::Infinity>()));
    VectorD none(0);
    EXPECT_EQ(mp->add_score_matching_terms(rows, none), batched);
    EXPECT_NEAR(score_matching_objective(*mp, rows, nullptr, Exec(1)) * double(rows.rows()), value,
                1e-12 * (1 + std::abs(value)));
  }
}

// score_matching_objective for this model sums row blocks in block order: the same bits for
// 1 and 2 threads (300 rows: six blocks), and the generic per-row template's value.
TEST(NeuralEnergy, ScoreMatchingObjectiveIsTheSameForOneAndTwoThreads) {
  const NeuralEnergy m = varied(3, 5, 1.0, 0.7, 27);
  MatrixD rows(300, 3);
  for (Eigen::Index n = 0; n < rows.rows(); ++n) rows.row(n) = test::normal_vector(3, 28, std::uint64_t(n)).transpose();
  VectorD g1, g2, g3;
  const double v1 = score_matching_objective(m, rows, &g1, Exec(1));
  EXPECT_EQ(v1, score_matching_objective(m, rows, &g2, Exec(2)));
  EXPECT_EQ(g1, g2);
  const double generic = score_matching_objective<NeuralEnergy>(m, rows, &g3, Exec(1));
  EXPECT_NEAR(v1, generic, 1e-12 * (1 + std::abs(generic)));
  EXPECT_LT((g1 - g3).lpNorm<Eigen::Infinity>(), 1e-12 * (1 + g3.lpNorm<Eigen::Infinity>()));
}

// Far out, softplus and σ saturate: E, ∇E and ΔE stay finite and equal their asymptotes.
TEST(NeuralEnergy, SaturatedUnitsStayFinite) {
  MatrixD w(1, 1);
  w << 1.0;
  const NeuralEnergy m(w, VectorD::Zero(1), VectorD::Constant(1, -2.0), VectorD::Zero(1), 1.0);
  for (const double x0 : {800.0, -800.0}) {
    const VectorD x = VectorD::Constant(1, x0);
    VectorD grad(1);
    const double e = m.energy_and_gradient(x, grad);
    const double lin = x0 > 0 ? x0 : 0.0;  // softplus(x) → max(x, 0)
    EXPECT_DOUBLE_EQ(e, -2 * lin + 0.5 * x0 * x0);
    EXPECT_DOUBLE_EQ(grad[0], (x0 > 0 ? -2.0 : 0.0) + x0);
    EXPECT_EQ(m.laplacian(x), 1.0);  // σ' underflows to 0
  }
}

// ---------------------------------------------------------------------------------------
// log Z in two dimensions: quadrature against AIS.

/// A 2-D model with a skewed, non-Gaussian density: three units of both signs.
NeuralEnergy planar() {
  MatrixD w(3, 2);
  w << 1.5, 0.5, -0.8, 1.2, 0.3, -1.4;
  VectorD b(3), a(3), c(2);
  b << 0.5, -1.0, 0.2;
  a << 3.0, -2.0, 1.5;
  c << 0.3, -0.2;
  return NeuralEnergy(w, b, a, c, 1.0);
}

struct GridMoments {
  double log_z;
  VectorD mean;
  MatrixD covariance;
};

/// The trapezoid rule on [−L, L]² with step h: log Z, mean and covariance. For this model,
/// E(x) >= ½λ‖x‖² − B‖x‖ − C with B = ‖c‖ + Σ_{a_j<0} |a_j| ‖w_j‖ and
/// C = Σ_{a_j<0} |a_j| (log 2 + |b_j|) (softplus(z) <= log 2 + |z|), so the mass outside the
/// box is at most 2π ∫_L^∞ r exp(C + B r − ½λr²) dr, which the test bounds.
GridMoments quadrature(const NeuralEnergy& m, double L, double h) {
  const auto n = long(std::lround(L / h));
  double z = 0;
  VectorD s1 = VectorD::Zero(2), x(2);
  MatrixD s2 = MatrixD::Zero(2, 2);
  for (long i = -n; i <= n; ++i)
    for (long j = -n; j <= n; ++j) {
      x << double(i) * h, double(j) * h;
      const double wgt = (std::abs(i) == n ? 0.5 : 1.0) * (std::abs(j) == n ? 0.5 : 1.0) * std::exp(-m.energy_of(x));
      z += wgt;
      s1 += wgt * x;
      s2 += wgt * x * x.transpose();
    }
  const VectorD mean = s1 / z;
  return {std::log(z * h * h), mean, MatrixD(s2 / z - mean * mean.transpose())};
}

double tail_bound(const NeuralEnergy& m, double L) {
  double B = m.linear().norm(), C = 0;
  for (Eigen::Index j = 0; j < m.weights().rows(); ++j)
    if (m.output_weights()[j] < 0) {
      B += -m.output_weights()[j] * m.weights().row(j).norm();
      C += -m.output_weights()[j] * (std::log(2.0) + std::abs(m.hidden_bias()[j]));
    }
  const double lambda = m.quadratic(), dr = 1e-3;
  double out = 0;
  for (double r = L; r < L + 100; r += dr) out += r * std::exp(C + B * r - 0.5 * lambda * r * r) * dr;
  return 2 * std::numbers::pi * out;  // left-endpoint sums over-estimate a decreasing tail
}

TEST(NeuralEnergy, LogZByQuadratureAgreesWithAisWithinZSe) {
  const NeuralEnergy m = planar();
  const double L = 12, h = 0.01;
  const GridMoments q = quadrature(m, L, h);
  const double tail = tail_bound(m, L);
  ASSERT_LT(tail, 1e-10);  // the box holds all but a negligible mass
  // Quadrature check at half the step: the trapezoid error (O(h²) at worst, far smaller
  // for a smooth integrand negligible at the box edges) is well below the AIS error bar.
  EXPECT_NEAR(quadrature(m, L, 2 * h).log_z, q.log_z, 1e-6);

  // Base: the model's own mean and twice its covariance (heavier than the target).
  const Gaussian base(q.mean, MatrixD((2 * q.covariance).inverse()));
  api::EstimateConfig config;
  config.method = "ais";
  config.chains = 200;
  config.betas = 200;
  config.schedule = "linear";
  config.seed = 17;
  api::ContinuousKernelConfig hmc;
  hmc.step_size = 0.15;
  hmc.leapfrog = 8;
  const LogZEstimate one = api::continuous_estimate(m, base, config, hmc, nullptr, Exec(1));
  const LogZEstimate two = api::continuous_estimate(m, base, config, hmc, nullptr, Exec(2));
  EXPECT_EQ(one.log_z, two.log_z);
  EXPECT_EQ(one.std_error, two.std_error);
  // |AIS − quadrature| <= 4.42 SE: two-sided false-failure rate 1e-5 (normal
  // approximation); the SE must be below 0.05 so that a useless error bar cannot pass.
  EXPECT_LT(one.std_error, 0.05);
  EXPECT_NEAR(one.log_z, q.log_z, kZ * one.std_error) << "AIS " << one.log_z << " ± " << one.std_error;
  RecordProperty("log Z", "quadrature " + std::to_string(q.log_z) + ", AIS " + std::to_string(one.log_z) + " +- " +
                              std::to_string(one.std_error));
}

// ---------------------------------------------------------------------------------------
// Bad input.

TEST(NeuralEnergy, ConstructorRefusesBadModels) {
  const MatrixD w = MatrixD::Ones(2, 3);
  const VectorD h2 = VectorD::Zero(2), d3 = VectorD::Zero(3);
  expect_error([&] { NeuralEnergy(MatrixD(2, 0), h2, h2, VectorD(0), 1.0); }, Exit::data,
               "NeuralEnergy: weights is 2x0 (need at least one hidden unit and one dimension)");
  expect_error([&] { NeuralEnergy(w, d3, h2, d3, 1.0); }, Exit::data,
               "NeuralEnergy: hidden_bias has 3 entries but weights has 2 rows (one per unit)");
  expect_error([&] { NeuralEnergy(w, h2, d3, d3, 1.0); }, Exit::data,
               "NeuralEnergy: output_weights has 3 entries but weights has 2 rows (one per unit)");
  expect_error([&] { NeuralEnergy(w, h2, h2, h2, 1.0); }, Exit::data,
               "NeuralEnergy: linear has 2 entries but weights has 3 columns (the dimension)");
  MatrixD bad = w;
  bad(1, 2) = INFINITY;
  expect_error([&] { NeuralEnergy(bad, h2, h2, d3, 1.0); }, Exit::data, "NeuralEnergy: weights(1, 2) is not finite (inf)");
  VectorD nan2 = h2;
  nan2[1] = std::nan("");
  expect_error([&] { NeuralEnergy(w, nan2, h2, d3, 1.0); }, Exit::data, "NeuralEnergy: hidden_bias[1] is not finite (nan)");
  expect_error([&] { NeuralEnergy(w, h2, nan2, d3, 1.0); }, Exit::data,
               "NeuralEnergy: output_weights[1] is not finite (nan)");
  VectorD nan3 = d3;
  nan3[0] = std::nan("");
  expect_error([&] { NeuralEnergy(w, h2, h2, nan3, 1.0); }, Exit::data, "NeuralEnergy: linear[0] is not finite (nan)");
  expect_error([&] { NeuralEnergy(w, h2, h2, d3, 0.0); }, Exit::data,
               "NeuralEnergy: quadratic must be finite and > 0 (got 0)");
  expect_error([&] { NeuralEnergy::random(2, 0, 1); }, Exit::usage,
               "NeuralEnergy::random: d and H must be >= 1 (got d = 2, H = 0)");
}

TEST(NeuralEnergy, MethodsRefuseBadArguments) {
  NeuralEnergy m = varied(2, 3, 1.0, 0.5, 13);  // 6 + 3 + 3 + 2 + 1 = 15 parameters
  expect_error([&] { m.set_parameters(VectorD::Zero(14)); }, Exit::usage,
               "NeuralEnergy::set_parameters: theta has 14 entries but the model has 15 parameters");
  VectorD theta = m.parameters();
  theta[9] = -INFINITY;
  expect_error([&] { m.set_parameters(theta); }, Exit::usage, "NeuralEnergy::set_parameters: theta[9] is not finite (-inf)");
  theta = m.parameters();
  theta[14] = -800;
  expect_error([&] { m.set_parameters(theta); }, Exit::usage,
               "NeuralEnergy::set_parameters: theta[14] = log quadratic = -800 is out of range (quadratic = 0)");
  EXPECT_EQ(m.quadratic(), 0.5);  // unchanged by the refused θ
  expect_error([&] { (void)m.laplacian(VectorD::Zero(3)); }, Exit::usage,
               "NeuralEnergy::laplacian: x has 3 entries but the model has dimension 2");
  VectorD g(3);
  expect_error([&] { m.add_score_vjp(VectorD::Zero(2), VectorD::Zero(2), 1.0, g); }, Exit::usage,
               "NeuralEnergy::add_score_vjp: g has 3 entries but the model has 15 parameters");
  expect_error([&] { (void)m.add_score_matching_terms(MatrixD::Zero(4, 2), g); }, Exit::usage,
               "NeuralEnergy::add_score_matching_terms: g has 3 entries but the model has 15 parameters");
}

}  // namespace
}  // namespace logz
