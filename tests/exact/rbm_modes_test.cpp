// Mode search on an RBM's smaller layer (exact/rbm_modes.hpp): the bound never exceeds the
// exact log Z, the modes are local maxima of the exact marginal, a sharp model's bound is
// tight, the search gives the same bits for any thread count, and draws from the modes
// follow their masses.
#include "logz/exact/rbm_modes.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

/// log p~ of a state of the searched layer, from the model's own free energy: the hidden
/// marginal log Σ_v exp(-E(v, h)) = c·h + Σ_i softplus(b_i + (W h)_i), or the visible one.
double log_marginal(const RbmD& m, bool hidden, const Eigen::Matrix<double, 1, Eigen::Dynamic>& s) {
  const VectorD& own = hidden ? m.hidden_bias : m.visible_bias;
  const VectorD x = hidden ? VectorD(m.visible_bias + m.weights * s.transpose()) : VectorD(m.hidden_bias + m.weights.transpose() * s.transpose());
  double v = own.dot(s.transpose());
  for (Eigen::Index i = 0; i < x.size(); ++i) v += softplus(x[i]);
  return v;
}

TEST(RbmModes, BoundNeverExceedsExactAndModesAreLocalMaxima) {
  struct Case {
    std::size_t nv, nh;
    double w, b;
  };
  const Case cases[] = {{12, 6, 1.0, 0.5}, {12, 6, 3.0, 1.0}, {20, 10, 2.0, 1.0}, {6, 12, 2.0, 1.0}, {9, 9, 0.1, 0.1}};
  std::uint64_t seed = 40;
  for (const Case& c : cases) {
    const RbmD m = test::random_rbm(seed++, c.nv, c.nh, c.w, c.b);
    const double exact = rbm_exact_log_z(m, Exec(1)).log_z;
    const RbmModes modes = rbm_mode_search(m, MatrixU8(), 50, 7, Exec(2));
    EXPECT_EQ(modes.hidden_layer, c.nh <= c.nv);
    EXPECT_EQ(modes.starts, 50u);
    EXPECT_LE(modes.log_lower_bound, exact + 1e-9) << c.nv << "x" << c.nh;
    EXPECT_GE(modes.states_counted, std::size_t(modes.states.rows()));
    ASSERT_GE(modes.states.rows(), 1);
    for (Eigen::Index k = 0; k < modes.states.rows(); ++k) {
      Eigen::Matrix<double, 1, Eigen::Dynamic> s = modes.states.row(k).cast<double>();
      const double value = log_marginal(m, modes.hidden_layer, s);
      EXPECT_NEAR(modes.log_weights[k], value, 1e-9);
      if (k > 0) EXPECT_LE(modes.log_weights[k], modes.log_weights[k - 1]);  // best first
      for (Eigen::Index j = 0; j < s.size(); ++j) {  // no single flip gains more than the search's threshold
        s[j] = 1 - s[j];
        EXPECT_LE(log_marginal(m, modes.hidden_layer, s), value + 1e-8);
        s[j] = 1 - s[j];
      }
    }
  }
}

TEST(RbmModes, SharpModelsBoundIsTight) {
  // Weights of scale 3 on 40 visible units: the hidden marginal has a few sharp modes, as
  // PCD-trained models do (docs/error-bars.md); the search finds them from random starts.
  const RbmD m = test::random_rbm(3, 40, 10, 3.0, 1.0);
  const double exact = rbm_exact_log_z(m, Exec(1)).log_z;
  const RbmModes modes = rbm_mode_search(m, MatrixU8(), 200, 1, Exec(1));
  EXPECT_LE(modes.log_lower_bound, exact + 1e-9);
  EXPECT_GT(modes.log_lower_bound, exact - 0.05);  // the modes and neighbours hold over 95% of Z
  EXPECT_LT(modes.states.rows(), 200);  // many starts share a mode
}

TEST(RbmModes, SameBitsForAnyThreadCountAndRowStarts) {
  const RbmD m = test::random_rbm(9, 16, 8, 2.0, 1.0);
  MatrixU8 rows = test::all_states(4).replicate(1, 4);  // 16 rows of 16 units
  const RbmModes one = rbm_mode_search(m, rows, 30, 5, Exec(1));
  const RbmModes two = rbm_mode_search(m, rows, 30, 5, Exec(2));
  EXPECT_EQ(one.starts, 46u);
  EXPECT_EQ(one.states, two.states);
  EXPECT_EQ(one.log_weights, two.log_weights);
  EXPECT_EQ(one.log_lower_bound, two.log_lower_bound);
  EXPECT_EQ(one.states_counted, two.states_counted);
  EXPECT_THROW(rbm_mode_search(m, MatrixU8::Zero(2, 5), 3, 5, Exec(1)), Error);
  EXPECT_THROW(rbm_mode_search(m, MatrixU8(), 0, 5, Exec(1)), Error);
}

TEST(RbmModes, DrawsFollowTheModesMasses) {
  // Two hidden modes with masses 3 : 1 and weights so strong that v given h is the mode's
  // pattern: visible unit i copies hidden unit i mod 2.
  RbmD m(6, 2);
  for (Eigen::Index i = 0; i < 6; ++i) {
    m.weights(i, i % 2) = 40.0;
    m.visible_bias[i] = -20.0;
  }
  RbmModes modes;
  modes.hidden_layer = true;
  modes.states = MatrixU8{{1, 0}, {0, 1}};
  modes.log_weights = VectorD{{0.0, std::log(1.0 / 3.0)}};
  const std::size_t n = 4000;
  const MatrixU8 v = rbm_mode_draws(m, modes, n, 11, Purpose::chains);
  std::size_t first = 0;
  for (Eigen::Index r = 0; r < v.rows(); ++r) {
    const bool a = v(r, 0) == 1 && v(r, 1) == 0, b = v(r, 0) == 0 && v(r, 1) == 1;
    ASSERT_TRUE(a || b);
    first += a;
  }
  // Binomial(4000, 0.75): sd 27.4; 5 sd gives a false failure rate of 5.7e-7.
  EXPECT_NEAR(double(first), 0.75 * n, 5 * std::sqrt(n * 0.75 * 0.25));
  EXPECT_EQ(v, rbm_mode_draws(m, modes, n, 11, Purpose::chains));
}

TEST(RbmModes, DefaultStartsShrinkWithTheModel) {
  EXPECT_EQ(default_mode_starts(RbmD(784, 20)), 200u);
  EXPECT_EQ(default_mode_starts(RbmD(784, 500)), 16u);
}

}  // namespace
}  // namespace logz
