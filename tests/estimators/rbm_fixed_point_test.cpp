// The RBM path's fixed-point intermediate distributions (tempering/rbm_path.hpp): AIS on
// them estimates the model's own log Z, because the path ends at the model itself; the
// test model is built so that the rounded model's log Z is many error bars away, so an
// endpoint left rounded would fail.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>

#include "logz/estimators/ais.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/exact/rbm_modes.hpp"
#include "logz/tempering/rbm_mixture_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "logz/tempering/schedule.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

/// A 10 x 8 RBM with one weight of 2000, so the fixed-point step is s = 2000 / 32767, and
/// every other weight 0.45 s above a level: each is rounded down by 0.45 s, which moves
/// the rounded model's log Z by about half a nat (about 50 of AIS's error bars here).
RbmD one_large_weight() {
  RbmD m = test::random_rbm(21, 10, 8, 0.5, 0.5);
  const float s = 2000.0f / 32767.0f;
  for (Eigen::Index i = 0; i < m.weights.rows(); ++i)
    for (Eigen::Index j = 0; j < m.weights.cols(); ++j)
      m.weights(i, j) = double(s * (std::round(float(m.weights(i, j)) / s) + 0.45f));
  m.weights(3, 2) = 2000;
  return m.cast<float>().cast<double>();  // the values the float path sees
}

/// The exact log Z of the model and of its twin with W rounded as the fixed-point path rounds it.
std::pair<double, double> exact_and_rounded(const RbmD& m) {
  const FixedPointMatrix q(m.weights.cast<float>().eval());
  RbmD rounded = m;
  for (Eigen::Index i = 0; i < m.weights.rows(); ++i)
    for (Eigen::Index j = 0; j < m.weights.cols(); ++j) rounded.weights(i, j) = q.value(std::size_t(i), std::size_t(j));
  return {rbm_exact_log_z(m, Exec(1)).log_z, rbm_exact_log_z(rounded, Exec(1)).log_z};
}

/// AIS on `path` is within 4 error bars of the model's own log Z (false-failure rate 6e-5
/// each), and the test can tell: the rounded model's is more than 10 error bars away.
template <class Path>
void expect_the_models_own_log_z(const Path& path, double exact, double exact_rounded) {
  const LogZEstimate e = ais(path, Schedule::sigmoid(1000), AisConfig{2000, 5}, Exec(2));
  ASSERT_GT(std::fabs(exact_rounded - exact), 10 * e.std_error);
  EXPECT_LT(std::fabs(e.log_z - exact), 4 * e.std_error)
      << "estimate " << e.log_z << " ± " << e.std_error << ", exact " << exact << ", rounded model " << exact_rounded;
}

TEST(RbmFixedPointPath, AisEstimatesTheModelsOwnLogZNotTheRoundedModels) {
  const RbmD m = one_large_weight();
  const RbmF mf = m.cast<float>();
  const auto [exact, exact_rounded] = exact_and_rounded(m);
  for (RbmProducts products : {RbmProducts::fixed_point, RbmProducts::exact})
    expect_the_models_own_log_z(RbmAnnealingPath(mf, VectorF::Zero(10), products), exact, exact_rounded);
}

TEST(RbmFixedPointPath, TheModeMixturePathEndsAtTheModelToo) {
  const RbmD m = one_large_weight();
  const auto [exact, exact_rounded] = exact_and_rounded(m);
  const RbmModes modes = rbm_mode_search(m, MatrixU8(), 50, 1, Exec(1));
  for (RbmProducts products : {RbmProducts::fixed_point, RbmProducts::exact})
    expect_the_models_own_log_z(RbmModeMixturePath(m, modes, products), exact, exact_rounded);
}

TEST(RbmFixedPointPath, MovesAtTheModelItselfAreTheFloatPathsAndProductsForTiAreExact) {
  const RbmF m = test::random_rbm(4, 30, 70, 0.3, 1.0).cast<float>();
  const RbmAnnealingPath fixed(m, VectorF::Constant(30, -0.1f), RbmProducts::fixed_point), exact(m, VectorF::Constant(30, -0.1f), RbmProducts::exact);
  std::vector<Stream> s1 = Stream::root(9).children(Purpose::user, 40), s2 = s1;
  MatrixF x1, x2;
  fixed.draw_base(Exec(1), x1, s1);
  exact.draw_base(Exec(1), x2, s2);
  std::vector<double> w1(40, 0.0), w2(40, 0.0);
  // At β = 1 both paths are the model: the same moves and increments, bit for bit.
  for (int sweep = 0; sweep < 3; ++sweep) {
    fixed.advance(Exec(2), x1, 1.0, 1.0, w1, s1, true);
    exact.advance(Exec(1), x2, 1.0, 1.0, w2, s2, true);
  }
  EXPECT_TRUE(x1 == x2);
  EXPECT_EQ(w1, w2);
  // Below 1 they differ by the rounding of W only.
  std::vector<double> r1(40), r2(40);
  fixed.log_ratio(Exec(1), x1, 0.2, 0.6, r1);
  exact.log_ratio(Exec(1), x1, 0.2, 0.6, r2);
  double largest = 0;
  for (std::size_t r = 0; r < 40; ++r) largest = std::max(largest, std::fabs(r1[r] - r2[r]));
  EXPECT_GT(largest, 0.0);
  EXPECT_LT(largest, 1e-2);
  EXPECT_EQ(RbmAnnealingPath::products_for("ti"), RbmProducts::exact);
  EXPECT_EQ(RbmAnnealingPath::products_for("ais"),
            binary_products_are_fast() ? RbmProducts::fixed_point : RbmProducts::exact);
}

}  // namespace
}  // namespace logz
