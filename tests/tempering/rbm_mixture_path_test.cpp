// The RBM path from a mixture of the modes' bases (tempering/rbm_mixture_path.hpp): summed
// over every visible state its base is normalised and its target is the RBM (exact log Z),
// increments add up along β and match the derivative, one Gibbs sweep keeps p_β (a
// chi-square test from exact draws), the fused step equals its parts, and AIS on it is
// exact within its error bar on a sharp model, with the same bits for any thread count.
#include "logz/tempering/rbm_mixture_path.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/estimators/ais.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/exact/rbm_modes.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

/// log f_0(v) = n_h log 2 + log Σ_k π_k q_k(v), from the modes directly.
double log_f0(const RbmD& m, const RbmModes& modes, std::size_t K, const Eigen::RowVectorXf& v) {
  LogSumExp mix, total;
  for (std::size_t k = 0; k < K; ++k) total.add(modes.log_weights[Eigen::Index(k)]);
  for (std::size_t k = 0; k < K; ++k) {
    const VectorD logit = m.visible_bias + m.weights * modes.states.row(Eigen::Index(k)).transpose().cast<double>();
    double lq = 0;
    for (Eigen::Index i = 0; i < logit.size(); ++i) lq += double(v[i]) * logit[i] - softplus(logit[i]);
    mix.add(modes.log_weights[Eigen::Index(k)] - total.value() + lq);
  }
  return double(m.n_hidden()) * std::numbers::ln2 + mix.value();
}

/// Any hidden states and masses make a valid base: three of them, unequal.
RbmModes three_modes(const RbmD& m) {
  RbmModes modes;
  const MatrixU8 all = test::all_states(m.n_hidden());
  modes.states = all.middleRows(1, 3);
  modes.log_weights = VectorD{{0.0, -0.5, -1.0}};
  return modes;
}

struct Fixture {
  RbmD m;
  RbmModes modes;
  RbmModeMixturePath path;
  MatrixF all;  // every visible state
  explicit Fixture(RbmD model)
      : m(std::move(model)),
        modes(three_modes(m)),
        path(m, modes),
        all(test::all_states(m.n_visible()).cast<float>()) {}
};

TEST(RbmModeMixturePath, SumsOverEveryStateGiveTheBaseAndTheModel) {
  const Fixture f(test::random_rbm(31, 8, 4, 2.0, 1.0));
  ASSERT_EQ(f.path.components(), 3u);
  std::vector<double> r(std::size_t(f.all.rows()));
  f.path.log_ratio(Exec(1), f.all, 0.0, 1.0, r);
  LogSumExp base, target;
  for (Eigen::Index s = 0; s < f.all.rows(); ++s) {
    const double l0 = log_f0(f.m, f.modes, f.path.components(), f.all.row(s));
    base.add(l0);
    target.add(l0 + r[std::size_t(s)]);
  }
  EXPECT_NEAR(base.value(), f.path.log_z_base(), 1e-9);
  EXPECT_NEAR(target.value(), rbm_exact_log_z(f.m, Exec(1)).log_z, 1e-4);  // float products
}

TEST(RbmModeMixturePath, IncrementsAddUpAndMatchTheDerivative) {
  const Fixture f(test::random_rbm(32, 8, 4, 1.5, 1.0));
  const std::size_t n = std::size_t(f.all.rows());
  std::vector<double> a(n), b(n), whole(n), lo(n), hi(n), d(n);
  f.path.log_ratio(Exec(1), f.all, 0.0, 0.3, a);
  f.path.log_ratio(Exec(1), f.all, 0.3, 1.0, b);
  f.path.log_ratio(Exec(2), f.all, 0.0, 1.0, whole);
  const double beta = 0.6, eps = 1e-3;
  f.path.log_ratio(Exec(1), f.all, beta - eps, beta + eps, lo);
  f.path.dlog_f(Exec(1), f.all, beta, d);
  for (std::size_t s = 0; s < n; ++s) {
    EXPECT_NEAR(a[s] + b[s], whole[s], 1e-9 * (1 + std::abs(whole[s])));
    // Central difference, error O(eps²·f''') plus float rounding of the products.
    EXPECT_NEAR(lo[s] / (2 * eps), d[s], 1e-3 * (1 + std::abs(d[s])));
  }
}

TEST(RbmModeMixturePath, OneSweepKeepsTheTemperedDistribution) {
  const Fixture f(test::random_rbm(33, 5, 3, 2.0, 1.0));
  const double beta = 0.5;
  const std::size_t states = std::size_t(f.all.rows()), n = 40000;
  std::vector<double> r(states), p(states);
  f.path.log_ratio(Exec(1), f.all, 0.0, beta, r);
  LogSumExp z;
  for (std::size_t s = 0; s < states; ++s) z.add(r[s] += log_f0(f.m, f.modes, f.path.components(), f.all.row(Eigen::Index(s))));
  std::vector<double> cdf(states);
  double acc = 0;
  for (std::size_t s = 0; s < states; ++s) cdf[s] = acc += p[s] = std::exp(r[s] - z.value());
  // Exact draws from p_β, one sweep each, then the histogram against p_β.
  Stream pick = Stream::derive(5, Purpose::user, 0);
  MatrixF x(Eigen::Index(n), f.all.cols());
  for (std::size_t i = 0; i < n; ++i) {
    const auto s = std::min<std::size_t>(std::size_t(std::lower_bound(cdf.begin(), cdf.end(), pick.uniform_double() * acc) - cdf.begin()), states - 1);
    x.row(Eigen::Index(i)) = f.all.row(Eigen::Index(s));
  }
  std::vector<Stream> streams = Stream::root(6).children(Purpose::user, n);
  const MoveInfo info = f.path.move(Exec(2), x, beta, streams);
  EXPECT_GT(info.acceptance, 0.0);
  std::vector<double> count(states, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t s = 0;
    for (Eigen::Index u = 0; u < x.cols(); ++u) s |= std::size_t(x(Eigen::Index(i), u) > 0.5f) << u;
    count[s] += 1;
  }
  double chi2 = 0;
  for (std::size_t s = 0; s < states; ++s) chi2 += std::pow(count[s] - n * p[s], 2) / (n * p[s]);
  // χ² on 31 degrees of freedom: P(χ² > 69.4) = 1e-4 (Wilson–Hilferty), the false-failure rate.
  EXPECT_LT(chi2, 69.4);
}

TEST(RbmModeMixturePath, FusedStepEqualsItsPartsAndAisIsExact) {
  const RbmD sharp = test::random_rbm(34, 12, 6, 3.0, 1.0);
  const Fixture f(sharp);
  std::vector<Stream> s1 = Stream::root(7).children(Purpose::user, 30), s2 = s1;
  MatrixF x1, x2;
  f.path.draw_base(Exec(1), x1, s1);
  f.path.draw_base(Exec(2), x2, s2);
  ASSERT_EQ(x1, x2);
  std::vector<double> w1(30, 0.0), w2(30, 0.0);
  f.path.advance(Exec(1), x1, 0.2, 0.3, w1, s1, true);
  f.path.log_ratio(Exec(2), x2, 0.2, 0.3, w2);
  f.path.move(Exec(2), x2, 0.3, s2);
  EXPECT_EQ(x1, x2);
  EXPECT_EQ(w1, w2);

  // AIS from the modes the search finds.
  const double exact = rbm_exact_log_z(sharp, Exec(1)).log_z;
  const RbmModeMixturePath found(sharp, rbm_mode_search(sharp, MatrixU8(), 50, 1, Exec(1)));
  const LogZEstimate one = ais(found, Schedule::linear(200), AisConfig{200, 9}, Exec(1));
  const LogZEstimate two = ais(found, Schedule::linear(200), AisConfig{200, 9}, Exec(2));
  EXPECT_EQ(one.log_z, two.log_z);
  // 4.42 SE: false-failure rate 1e-5 for a normal error.
  EXPECT_NEAR(one.log_z, exact, 4.42 * one.std_error);
}

TEST(RbmModeMixturePath, RefusesModesItCannotUse) {
  const RbmD m = test::random_rbm(35, 8, 4, 1.0, 1.0);
  RbmModes none;  // no modes at all
  EXPECT_THROW(RbmModeMixturePath(m, none), Error);
  RbmModes visible = three_modes(m);
  visible.hidden_layer = false;  // modes of the visible layer have no p(v | h) to mix
  EXPECT_THROW(RbmModeMixturePath(m, visible), Error);
  RbmModes narrow = three_modes(m);
  narrow.states = MatrixU8::Zero(3, 3);  // 3 units, the model has 4 hidden
  EXPECT_THROW(RbmModeMixturePath(m, narrow), Error);
  EXPECT_EQ(RbmModeMixturePath::components_of(none), 0u);
  RbmModes far = three_modes(m);
  far.log_weights[2] = -40.0;  // below 1e-12 of the best: dropped
  EXPECT_EQ(RbmModeMixturePath::components_of(far), 2u);
}

}  // namespace
}  // namespace logz
