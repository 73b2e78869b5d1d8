// Block Gibbs for RBMs: the exact transition matrix of one sweep v -> h -> v on a tiny
// model leaves the (tempered) visible marginal invariant and satisfies detailed balance;
// the sampler's one-sweep frequencies match that matrix; gibbs_sample converges to the
// exact marginal. Statistical checks: Pearson chi-square with the threshold at the
// chi-square upper quantile for false-failure rate 1e-4 (Wilson–Hilferty, see
// support/rbm_fixtures.hpp), fixed seeds.
#include "logz/kernels/rbm_gibbs.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "logz/tempering/rbm_path.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

using Mat = std::vector<std::vector<double>>;

/// The exact one-sweep matrix T[v][v'] = Σ_h p(h | v) p(v' | h) at inverse temperature
/// beta with visible biases vb: p(h_j = 1 | v) = σ(β (c + vᵀW)_j) as the kernel's own
/// sample_logistic reports it, p(v'_i = 1 | h) = σ(β (W h)_i + vb_i).
template <class T>
Mat transition_matrix(const Rbm<T>& m, const Vector<T>& vb, double beta) {
  const std::size_t nv = m.n_visible(), nh = m.n_hidden(), sv = std::size_t(1) << nv, sh = std::size_t(1) << nh;
  const Matrix<T> V = test::all_states(nv).cast<T>(), H = test::all_states(nh).cast<T>();
  Matrix<T> pre_h, ph, pre_v, pv, out;
  GibbsScratch<T> s;
  std::vector<Stream> streams(std::max(sv, sh), Stream::root(0));
  hidden_preactivation(m, V, pre_h);
  sample_logistic(pre_h, T(beta), streams.data(), out, s, &ph);
  pre_v = (T(beta) * (H * m.weights.transpose())).eval();
  pre_v.rowwise() += vb.transpose();
  sample_logistic(pre_v, T(1), streams.data(), out, s, &pv);
  auto bern = [](double p, bool on) { return on ? p : 1 - p; };
  Mat t(sv, std::vector<double>(sv, 0.0));
  for (std::size_t v = 0; v < sv; ++v)
    for (std::size_t h = 0; h < sh; ++h) {
      double p_h = 1;
      for (std::size_t j = 0; j < nh; ++j) p_h *= bern(double(ph(Eigen::Index(v), Eigen::Index(j))), (h >> j) & 1);
      for (std::size_t w = 0; w < sv; ++w) {
        double p_v = 1;
        for (std::size_t i = 0; i < nv; ++i) p_v *= bern(double(pv(Eigen::Index(h), Eigen::Index(i))), (w >> i) & 1);
        t[v][w] += p_h * p_v;
      }
    }
  return t;
}

/// The tempered visible marginal π_β(v) ∝ exp(vb·v) Π_j (1 + exp(β (c + vᵀW)_j)), in
/// long double, normalised.
template <class T>
std::vector<double> tempered_marginal(const Rbm<T>& m, const Vector<T>& vb, double beta) {
  const std::size_t nv = m.n_visible(), nh = m.n_hidden(), sv = std::size_t(1) << nv;
  std::vector<long double> lf(sv);
  test::LogSumExpL acc;
  for (std::size_t v = 0; v < sv; ++v) {
    long double x = 0;
    for (std::size_t i = 0; i < nv; ++i)
      if ((v >> i) & 1) x += (long double)vb[Eigen::Index(i)];
    for (std::size_t j = 0; j < nh; ++j) {
      long double a = (long double)m.hidden_bias[Eigen::Index(j)];
      for (std::size_t i = 0; i < nv; ++i)
        if ((v >> i) & 1) a += (long double)m.weights(Eigen::Index(i), Eigen::Index(j));
      x += std::log1p(std::exp((long double)beta * a));
    }
    acc.add(lf[v] = x);
  }
  std::vector<double> p(sv);
  for (std::size_t v = 0; v < sv; ++v) p[v] = double(std::exp(lf[v] - acc.value()));
  return p;
}

double max_stationarity_error(const Mat& t, const std::vector<double>& pi) {
  double worst = 0;
  for (std::size_t w = 0; w < pi.size(); ++w) {
    long double s = 0;
    for (std::size_t v = 0; v < pi.size(); ++v) s += (long double)pi[v] * t[v][w];
    worst = std::max(worst, double(std::fabs(s - pi[w])));
  }
  return worst;
}

void check_exact_kernel(const RbmD& m, const VectorD& vb, double beta) {
  const Mat t = transition_matrix(m, vb, beta);
  const std::vector<double> pi = tempered_marginal(m, vb, beta);
  for (const auto& row : t) {
    double s = 0;
    for (double x : row) s += x;
    EXPECT_NEAR(s, 1.0, 1e-14);
  }
  EXPECT_LE(max_stationarity_error(t, pi), 1e-12) << "beta " << beta;
  for (std::size_t v = 0; v < pi.size(); ++v)
    for (std::size_t w = 0; w < pi.size(); ++w)
      EXPECT_NEAR(pi[v] * t[v][w], pi[w] * t[w][v], 1e-12) << "beta " << beta << " v " << v << " v' " << w;
}

RbmD tiny_model() { return test::random_rbm(3, 3, 2, 1.5, 1.0); }

TEST(RbmGibbsExact, ModelMarginalIsStationaryWithDetailedBalance) {
  const RbmD m = tiny_model();
  check_exact_kernel(m, m.visible_bias, 1.0);
  // At β = 1 the tempered marginal is the model's own p(v).
  const std::vector<double> p = test::exact_visible_distribution(m), pi = tempered_marginal(m, m.visible_bias, 1.0);
  for (std::size_t v = 0; v < p.size(); ++v) EXPECT_NEAR(pi[v], p[v], 1e-15);
  // A larger model (4 x 3), strongly coupled.
  const RbmD m2 = test::random_rbm(4, 4, 3, 3.0, 1.0);
  check_exact_kernel(m2, m2.visible_bias, 1.0);
}

TEST(RbmGibbsExact, TemperedPathMarginalIsStationary) {
  const RbmD m = tiny_model();
  VectorD a(3);
  a << -1.0, 0.3, 2.0;  // base-rate biases
  const RbmPath<double> path(m, a);
  for (double beta : {0.0, 0.1, 0.5, 0.9}) check_exact_kernel(m, path.visible_bias_at(beta), beta);
  // At β = 0 the marginal is the base-rate product distribution, normalised by log Z_0.
  const std::vector<double> pi0 = tempered_marginal(m, path.visible_bias_at(0.0), 0.0);
  for (std::size_t v = 0; v < 8; ++v) {
    double lf = 2 * std::log(2.0);  // the two hidden units contribute (1 + 1) each
    for (int i = 0; i < 3; ++i) lf += ((v >> i) & 1) ? a[i] : 0.0;
    EXPECT_NEAR(pi0[v], std::exp(lf - path.log_z_base()), 1e-15);
  }
  // Power check: a kernel that forgets to scale the hidden pre-activations by β is
  // caught (its stationarity error is far above 1e-12).
  const double beta = 0.5;
  const VectorD vb = path.visible_bias_at(beta);
  const Mat wrong = transition_matrix(m, vb, 1.0);  // p(h | v) at β = 1
  EXPECT_GT(max_stationarity_error(wrong, tempered_marginal(m, vb, beta)), 1e-3);
}

/// Counts of the states reached by one sweep of gibbs_sweep_from_preactivation from
/// every start state, `per_start` chains each; chi-square against the exact T summed
/// over start states (independent multinomials: 8 × 7 degrees of freedom).
template <class T>
void check_one_sweep_frequencies(const Rbm<T>& m, const Vector<T>& vb, double beta, std::size_t per_start, std::uint64_t seed) {
  const std::size_t nv = m.n_visible(), sv = std::size_t(1) << nv;
  const Mat t = transition_matrix(m, vb, beta);
  double x2 = 0, min_expected = 1e300;
  for (std::size_t v0 = 0; v0 < sv; ++v0) {
    Matrix<T> v{Eigen::Index(per_start), Eigen::Index(nv)};
    for (std::size_t i = 0; i < nv; ++i) v.col(Eigen::Index(i)).setConstant(T((v0 >> i) & 1));
    std::vector<Stream> streams;
    for (std::size_t r = 0; r < per_start; ++r) streams.push_back(Stream::derive(seed, Purpose::gibbs, v0 * per_start + r));
    GibbsScratch<T> s;
    hidden_preactivation(m, v, s.pre_h);
    gibbs_sweep_from_preactivation<T>(m, vb, T(beta), v, streams.data(), s);
    std::vector<std::size_t> counts(sv, 0);
    for (Eigen::Index r = 0; r < v.rows(); ++r) ++counts[test::state_index(v.row(r))];
    x2 += test::chi_square_statistic(counts, t[v0]);
    for (double p : t[v0]) min_expected = std::min(min_expected, p * double(per_start));
  }
  ASSERT_GE(min_expected, 5.0) << "chi-square approximation needs expected counts >= 5";
  // False-failure rate 1e-4.
  EXPECT_LT(x2, test::chi_square_upper_quantile(double(sv * (sv - 1)), 1e-4)) << "beta " << beta;
}

TEST(RbmGibbsSampling, OneSweepMatchesExactTransitionMatrix) {
  const RbmD m = test::random_rbm(5, 3, 2, 1.0, 0.5);
  VectorD a(3);
  a << -0.5, 0.3, 1.0;
  const RbmPath<double> path(m, a);
  check_one_sweep_frequencies<double>(m, m.visible_bias, 1.0, 20000, 1);
  check_one_sweep_frequencies<double>(m, path.visible_bias_at(0.4), 0.4, 20000, 2);
  const RbmF mf = m.cast<float>();
  check_one_sweep_frequencies<float>(mf, mf.visible_bias, 1.0, 20000, 3);
}

/// gibbs_sample from all-zero chains, enough sweeps that the exact distribution after
/// them is within 1e-9 of π (checked with the exact matrix; 1e-6 for a float model,
/// whose conditionals are rounded to float so that its kernel's stationary law differs
/// from π by ~1e-7), then chi-square of the final states of N independent chains
/// against π.
template <class T>
void check_gibbs_sample(const Rbm<T>& m, std::size_t chains, std::uint64_t seed) {
  const std::size_t sv = std::size_t(1) << m.n_visible();
  const Mat t = transition_matrix(m, m.visible_bias, 1.0);
  const std::vector<double> pi = test::exact_visible_distribution(m);
  std::vector<double> dist(sv, 0.0);
  dist[0] = 1;
  std::size_t sweeps = 0;
  double gap = 1;
  const double target = sizeof(T) == sizeof(double) ? 1e-9 : 1e-6;
  while (gap > target && sweeps < 1000) {
    std::vector<double> next(sv, 0.0);
    for (std::size_t v = 0; v < sv; ++v)
      for (std::size_t w = 0; w < sv; ++w) next[w] += dist[v] * t[v][w];
    dist = next;
    ++sweeps;
    gap = 0;
    for (std::size_t v = 0; v < sv; ++v) gap = std::max(gap, std::fabs(dist[v] - pi[v]));
  }
  ASSERT_LE(gap, target);
  RbmChains<T> c = RbmChains<T>::from_bias(Vector<T>::Constant(m.visible_bias.size(), T(-1e30)), chains, seed, Purpose::gibbs);
  ASSERT_TRUE(c.v.isZero());
  gibbs_sample(m, c, sweeps, Exec(2));
  std::vector<std::size_t> counts(sv, 0);
  for (Eigen::Index r = 0; r < c.v.rows(); ++r) ++counts[test::state_index(c.v.row(r))];
  for (double p : pi) ASSERT_GE(p * double(chains), 5.0);
  // False-failure rate 1e-4 (the residual gap shifts expected counts by < 0.05).
  EXPECT_LT(test::chi_square_statistic(counts, pi), test::chi_square_upper_quantile(double(sv - 1), 1e-4))
      << sweeps << " sweeps";
}

TEST(RbmGibbsSampling, GibbsSampleReachesExactMarginal) {
  const RbmD m = test::random_rbm(6, 3, 2, 1.5, 0.5);
  check_gibbs_sample<double>(m, 40000, 11);
  check_gibbs_sample<float>(m.cast<float>(), 40000, 12);
  const RbmD m2 = test::random_rbm(7, 4, 3, 1.0, 0.5);
  check_gibbs_sample<double>(m2, 40000, 13);
}

TEST(RbmGibbsSampling, ChainsFromBiasAreExactProductDraws) {
  VectorF bias(3);
  bias << -1.0f, 0.0f, 2.0f;
  const std::size_t n = 40000;
  const RbmChains<float> c = RbmChains<float>::from_bias(bias, n, 21, Purpose::chains);
  ASSERT_EQ(c.streams.size(), n);
  std::vector<double> p(8, 1.0);
  for (std::size_t k = 0; k < 8; ++k)
    for (int i = 0; i < 3; ++i) {
      const double q = 1 / (1 + std::exp(-double(bias[i])));
      p[k] *= ((k >> i) & 1) ? q : 1 - q;
    }
  std::vector<std::size_t> counts(8, 0);
  for (Eigen::Index r = 0; r < c.v.rows(); ++r) ++counts[test::state_index(c.v.row(r))];
  // False-failure rate 1e-4.
  EXPECT_LT(test::chi_square_statistic(counts, p), test::chi_square_upper_quantile(7, 1e-4));
  // Chain r's stream is derive(seed, purpose, r), advanced past its start draws.
  Stream s = Stream::derive(21, Purpose::chains, 5);
  EXPECT_EQ(c.streams[5].key(), s.key());
  EXPECT_EQ(c.streams[5].id(), s.id());
}

}  // namespace
}  // namespace logz
