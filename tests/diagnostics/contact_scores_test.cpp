// Contact scores: Frobenius norms and APC by hand, gauge invariance, the text table.
#include "logz/diagnostics/contact_scores.hpp"

#include <gtest/gtest.h>

#include "support/expect_error.hpp"

namespace logz {
namespace {

// Three sites, q = 2, blocks c·[[1, -1], [-1, 1]] (already zero-sum): ‖J‖_F = 2|c|.
Potts three_sites(double c01, double c02, double c12) {
  Potts m = Potts::dense(3, 2);
  VectorD th = VectorD::Zero(Eigen::Index(m.num_parameters()));
  const double c[3] = {c01, c02, c12};
  for (int e = 0; e < 3; ++e) th.segment(6 + 4 * e, 4) << c[e], -c[e], -c[e], c[e];
  m.set_parameters(th);
  return m;
}

TEST(ContactScores, FrobeniusAndApcByHand) {
  const auto s = contact_scores(three_sites(1.0, 0.5, 0.25));
  ASSERT_EQ(s.size(), 3u);
  const double f01 = 2, f02 = 1, f12 = 0.5;
  const double r0 = (f01 + f02) / 2, r1 = (f01 + f12) / 2, r2 = (f02 + f12) / 2, mean = (f01 + f02 + f12) / 3;
  EXPECT_NEAR(s[0].frobenius, f01, 1e-14);
  EXPECT_NEAR(s[0].apc, f01 - r0 * r1 / mean, 1e-14);
  EXPECT_NEAR(s[1].apc, f02 - r0 * r2 / mean, 1e-14);
  EXPECT_NEAR(s[2].apc, f12 - r1 * r2 / mean, 1e-14);
  EXPECT_EQ(s[2].i, 1u);
  EXPECT_EQ(s[2].j, 2u);
}

TEST(ContactScores, DoNotDependOnTheGauge) {
  Potts m = three_sites(1.0, -0.5, 0.25);
  const auto before = contact_scores(m);
  // Move a function of one site's state from the fields into a block: same p(x).
  VectorD th = m.parameters();
  th.segment(6, 4) += (VectorD(4) << 0.3, 0.3, -0.7, -0.7).finished();
  m.set_parameters(th);
  const auto after = contact_scores(m);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(before[k].apc, after[k].apc, 1e-14);
}

TEST(ContactScores, TableAndBadInput) {
  const auto s = contact_scores(three_sites(1.0, 0.5, 0.25));
  const std::string t = format_contact_scores(s, {10, 11, 13}, "MKV");
  EXPECT_EQ(t.substr(0, t.find('\n', t.find('\n') + 1)), "# i ai j aj frobenius apc\n10 M 11 K 2.000000 " +
                                                             fmt::format("{:.6f}", s[0].apc));
  test::expect_error([] { (void)contact_scores(Potts::dense(2, 3)); }, Exit::usage,
                     "contact_scores: the model needs at least 3 sites, got 2");
}

}  // namespace
}  // namespace logz
