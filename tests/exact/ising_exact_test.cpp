// Exact Ising log Z: enumeration against an independent brute-force sum (long double),
// transfer matrix against enumeration, Kaufman's closed form against both and against
// Onsager's infinite-lattice limit; thread-count independence; pinned error messages.
#include "logz/exact/ising_exact.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

#include "logz/core/rng.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

/// Brute force, sharing no code with the library: every state's energy from the edge
/// list, in long double, summed as log-sum-exp; also <s_i> and <s_i s_j>.
struct Brute {
  long double log_z;
  std::vector<long double> mean, corr;
};
Brute brute_force(const Ising& m) {
  const std::size_t n = m.n_spins();
  const long double down = m.convention() == SpinConvention::plus_minus_one ? -1.0L : 0.0L;
  std::vector<long double> energies(std::size_t(1) << n);
  long double lo = INFINITY;
  for (std::size_t k = 0; k < energies.size(); ++k) {
    long double e = 0;
    auto x = [&](std::size_t i) { return ((k >> i) & 1) ? 1.0L : down; };
    for (std::size_t i = 0; i < n; ++i) e -= (long double)m.fields()[Eigen::Index(i)] * x(i);
    for (const IsingEdge& ed : m.edges()) e -= (long double)ed.coupling * x(ed.i) * x(ed.j);
    energies[k] = e;
    lo = std::min(lo, e);
  }
  Brute b{0, std::vector<long double>(n), std::vector<long double>(m.n_edges())};
  long double z = 0;
  for (std::size_t k = 0; k < energies.size(); ++k) {
    const long double w = std::exp(-(energies[k] - lo));
    z += w;
    auto x = [&](std::size_t i) { return ((k >> i) & 1) ? 1.0L : down; };
    for (std::size_t i = 0; i < n; ++i) b.mean[i] += w * x(i);
    for (std::size_t e = 0; e < m.n_edges(); ++e) b.corr[e] += w * x(m.edges()[e].i) * x(m.edges()[e].j);
  }
  for (auto& v : b.mean) v /= z;
  for (auto& v : b.corr) v /= z;
  b.log_z = -lo + std::log(z);
  return b;
}

/// A random graph: each pair an edge with probability p, couplings scale·N(0,1), fields N(0,1)·h_scale.
Ising random_graph(std::uint64_t seed, std::size_t n, double p, double scale, double h_scale, SpinConvention c) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  std::vector<IsingEdge> edges;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (rng.uniform_double() < p) edges.push_back({j, i, scale * rng.normal()});
  VectorD h{Eigen::Index(n)};
  for (Eigen::Index i = 0; i < h.size(); ++i) h[i] = h_scale * rng.normal();
  return Ising(n, std::move(edges), h, c);
}

/// Randomises every field and coupling of a model (keeps its graph and lattice shape).
Ising randomised(Ising m, std::uint64_t seed, double scale) {
  Stream rng = Stream::derive(seed, Purpose::user, 1);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = scale * rng.normal();
  m.set_parameters(theta);
  return m;
}

constexpr SpinConvention pm = SpinConvention::plus_minus_one, zo = SpinConvention::zero_one;

TEST(IsingEnumeration, EqualsBruteForceOnRandomGraphs) {
  struct Case {
    std::size_t n;
    double p, scale, h;
  };
  const Case cases[] = {{1, 0, 1, 1},     {2, 1, 1, 1},     {5, 0.5, 1, 0.5}, {10, 0.3, 1, 1},
                        {12, 0.5, 2, 0.5}, {13, 1.0, 0.5, 0}, {14, 0.2, 3, 2},  {11, 0.4, 20, 5}};
  std::uint64_t seed = 1;
  for (const Case& c : cases)
    for (SpinConvention conv : {pm, zo}) {
      const Ising m = random_graph(seed++, c.n, c.p, c.scale, c.h, conv);
      const Brute b = brute_force(m);
      EXPECT_NEAR(ising_enumeration_log_z(m, Exec(2)), double(b.log_z), 1e-10) << c.n << " " << c.scale;
      const IsingMoments mo = ising_enumeration_moments(m, Exec(2));
      EXPECT_NEAR(mo.log_z, double(b.log_z), 1e-10);
      for (std::size_t i = 0; i < c.n; ++i) EXPECT_NEAR(mo.mean[Eigen::Index(i)], double(b.mean[i]), 1e-10);
      for (std::size_t e = 0; e < m.n_edges(); ++e) EXPECT_NEAR(mo.correlation[Eigen::Index(e)], double(b.corr[e]), 1e-10);
    }
  // No couplings, no fields: Z = 2^n.
  EXPECT_NEAR(ising_enumeration_log_z(Ising(17, {}, VectorD::Zero(17)), Exec(1)), 17 * std::numbers::ln2, 1e-12);
}

TEST(IsingEnumeration, SymmetricModelHasZeroMagnetisation) {
  const IsingMoments mo = ising_enumeration_moments(Ising::lattice_2d(4, 4, 0.4, 0.0), Exec(2));
  for (Eigen::Index i = 0; i < mo.mean.size(); ++i) EXPECT_NEAR(mo.mean[i], 0.0, 1e-12);
  for (Eigen::Index e = 0; e < mo.correlation.size(); ++e) EXPECT_GT(mo.correlation[e], 0.0);
}

TEST(IsingEnumeration, OneAndTwoThreadsGiveTheSameBits) {
  const Ising m = random_graph(77, 20, 0.2, 1.0, 0.5, pm);
  const double a = ising_enumeration_log_z(m, Exec(1)), b = ising_enumeration_log_z(m, Exec(2));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a), std::bit_cast<std::uint64_t>(b));
  const Ising s = random_graph(78, 17, 0.3, 1.0, 0.5, zo);
  const IsingMoments x = ising_enumeration_moments(s, Exec(1)), y = ising_enumeration_moments(s, Exec(2));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(x.log_z), std::bit_cast<std::uint64_t>(y.log_z));
  EXPECT_EQ(x.mean, y.mean);
  EXPECT_EQ(x.correlation, y.correlation);
}

TEST(IsingTransferMatrix, EqualsEnumerationOnSmallLattices) {
  struct Case {
    std::size_t l1, l2;
  };
  const Case shapes[] = {{3, 4}, {4, 4}, {2, 7}, {7, 2}, {4, 3}, {1, 5}, {5, 1}, {3, 5}, {5, 3}};
  std::uint64_t seed = 10;
  for (const Case& c : shapes)
    for (Boundary b1 : {Boundary::open, Boundary::periodic})
      for (Boundary b2 : {Boundary::open, Boundary::periodic})
        for (SpinConvention conv : {pm, zo}) {
          if ((b1 == Boundary::periodic && c.l1 < 3) || (b2 == Boundary::periodic && c.l2 < 3)) continue;
          const Ising m = randomised(Ising::lattice_2d(c.l1, c.l2, 0, 0, b1, b2, conv), seed++, 1.0);
          EXPECT_NEAR(ising_transfer_matrix_log_z(m, Exec(2)), ising_enumeration_log_z(m, Exec(2)), 1e-10)
              << c.l1 << "x" << c.l2 << " " << int(b1) << int(b2) << " " << int(conv);
        }
  // Strong couplings and fields (every weight far from 1): rescaling keeps it finite and exact.
  const Ising strong = randomised(Ising::lattice_2d(4, 5, 0, 0, Boundary::periodic, Boundary::open), 99, 30.0);
  EXPECT_NEAR(ising_transfer_matrix_log_z(strong, Exec(1)), ising_enumeration_log_z(strong, Exec(1)), 1e-9);
}

TEST(IsingTransferMatrix, OneAndTwoThreadsGiveTheSameBits) {
  const Ising open = randomised(Ising::lattice_2d(16, 16, 0, 0), 5, 0.5);
  const double a = ising_transfer_matrix_log_z(open, Exec(1)), b = ising_transfer_matrix_log_z(open, Exec(2));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a), std::bit_cast<std::uint64_t>(b));
  EXPECT_TRUE(std::isfinite(a));
  const Ising per = randomised(Ising::lattice_2d(6, 7, 0, 0, Boundary::periodic, Boundary::periodic), 6, 0.5);
  const double c = ising_transfer_matrix_log_z(per, Exec(1)), d = ising_transfer_matrix_log_z(per, Exec(2));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(c), std::bit_cast<std::uint64_t>(d));
}

TEST(IsingKaufman, EqualsEnumerationAndTransferMatrix) {
  const double kc = ising_critical_coupling();
  EXPECT_NEAR(kc, 0.44068679350977151, 1e-15);
  for (double k : {0.2, kc, 0.7}) {
    for (auto [l1, l2] : {std::pair<std::size_t, std::size_t>{4, 4}, {3, 5}, {5, 3}}) {
      const Ising m = Ising::lattice_2d(l1, l2, k, 0, Boundary::periodic, Boundary::periodic);
      const double kaufman = ising_kaufman_log_z(l1, l2, k);
      EXPECT_NEAR(kaufman, ising_enumeration_log_z(m, Exec(2)), 1e-10) << l1 << "x" << l2 << " K=" << k;
      EXPECT_NEAR(kaufman, ising_transfer_matrix_log_z(m, Exec(2)), 1e-10) << l1 << "x" << l2 << " K=" << k;
    }
    for (auto [l1, l2] : {std::pair<std::size_t, std::size_t>{4, 6}, {6, 4}, {8, 8}, {3, 10}}) {
      const Ising m = Ising::lattice_2d(l1, l2, k, 0, Boundary::periodic, Boundary::periodic);
      EXPECT_NEAR(ising_kaufman_log_z(l1, l2, k), ising_transfer_matrix_log_z(m, Exec(2)), 1e-10)
          << l1 << "x" << l2 << " K=" << k;
    }
  }
}

TEST(IsingKaufman, EqualsEnumerationOnFourBySix) {
  // 24 spins, 2^24 states: one coupling only, to keep the test short.
  const double k = ising_critical_coupling();
  const Ising m = Ising::lattice_2d(4, 6, k, 0, Boundary::periodic, Boundary::periodic);
  EXPECT_NEAR(ising_kaufman_log_z(4, 6, k), ising_enumeration_log_z(m, Exec(2)), 1e-10);
}

TEST(IsingKaufman, ApproachesOnsagersLimit) {
  // log Z per site of the infinite lattice at K_c (Onsager 1944): 0.929695398341610...
  const double kc = ising_critical_coupling();
  EXPECT_NEAR(ising_onsager_log_z_per_site(kc), 0.9296953983416102, 1e-12);
  // At K_c the finite-size error decays like 1/L²; it shrinks monotonically, below 1e-3 per site at 64×64.
  double previous = INFINITY;
  for (std::size_t l : {8, 16, 32, 64}) {
    const double err = std::fabs(ising_kaufman_log_z(l, l, kc) / double(l * l) - ising_onsager_log_z_per_site(kc));
    EXPECT_LT(err, previous) << l;
    previous = err;
  }
  EXPECT_LT(previous, 1e-3);
  // Away from K_c the correlation length is finite and the error exponentially small, once
  // the two-fold degeneracy of the ordered phase (log 2, K > K_c) is taken out.
  EXPECT_NEAR(ising_kaufman_log_z(64, 64, 0.25) / 4096.0, ising_onsager_log_z_per_site(0.25), 1e-10);
  EXPECT_NEAR((ising_kaufman_log_z(64, 64, 0.6) - std::numbers::ln2) / 4096.0, ising_onsager_log_z_per_site(0.6),
              1e-10);
  // A rectangular lattice too.
  EXPECT_NEAR((ising_kaufman_log_z(48, 80, 0.6) - std::numbers::ln2) / (48.0 * 80.0),
              ising_onsager_log_z_per_site(0.6), 1e-10);
}

TEST(IsingKaufman, MatchesPublishedLowTemperatureSeries) {
  // Beale (1996, PRL 76, 78) lists the exact partition function of the periodic 32×32
  // lattice as Z = e^{2048K} Σ_k g_k x^k, x = e^{-2K}; its coefficients up to x^64 (and,
  // for any n, m > 5, g_4 = 2mn, g_6 = 4mn, g_8 = (mn)² + 9mn, g_10 = 4(mn)² + 24mn).
  // At K = 1 the terms beyond x^64 add < 1e-18 relative (x² ≈ 0.018, coefficients grow
  // about 10× per step), so the sum is exact to double precision.
  const long double g32[] = {2.0L,
                             2048.0L,
                             4096.0L,
                             1057792.0L,
                             4218880.0L,
                             371621888.0L,
                             2191790080.0L,
                             100903637504.0L,
                             768629792768.0L,
                             22748079183872.0L,
                             205394991329280.0L,
                             4449893079195648.0L,
                             44743561136807936.0L,
                             776335369907888128.0L,
                             8296338816339398656.0L,
                             122868315209973770496.0L,
                             1348964107338697842688.0L,
                             17832940430689993684992.0L,
                             196523971814021975830528.0L,
                             2391406180740483290926080.0L,
                             26065481800659863486496768.0L,
                             298044124622553465145298944.0L,
                             3185666524478313863851044864.0L,
                             34699120806036636726464401408.0L,
                             362130971398695260784899284992.0L,
                             3791345208840452468065820620800.0L,
                             38569361472886182609543396929536.0L,
                             390468333064795797623009891880960.0L,
                             3871553755823196043657602074615808.0L,
                             38057017987760849668592216619089920.0L,
                             368038492491826519223092138855485440.0L,
                             3523173455605142701375696893142359104.0L};
  const long double x = std::exp(-2.0L);
  long double sum = g32[0];
  for (int k = 1; k < 32; ++k) sum += g32[k] * std::pow(x, 2 * k + 2);
  EXPECT_NEAR(ising_kaufman_log_z(32, 32, 1.0), double(2048.0L + std::log(sum)), 1e-10);
  // 16×16 at K = 2 from the general first terms: the omitted x^12 term is < 1e-13 relative.
  const long double mn = 256, y = std::exp(-4.0L);
  const long double s16 = 2 + 2 * mn * std::pow(y, 4) + 4 * mn * std::pow(y, 6) + (mn * mn + 9 * mn) * std::pow(y, 8) +
                          (4 * mn * mn + 24 * mn) * std::pow(y, 10);
  EXPECT_NEAR(ising_kaufman_log_z(16, 16, 2.0), double(2 * mn * 2 + std::log(s16)), 1e-10);
}

TEST(IsingExact, BadInputIsRejectedWithPinnedMessages) {
  using test::expect_error;
  expect_error([] { ising_enumeration_log_z(Ising::chain(31, 1, 0), Exec(1)); }, Exit::usage,
               "ising_enumeration_log_z: enumeration visits 2^n states; the model has n = 31 spins, above the limit "
               "of 30");
  expect_error([] { ising_enumeration_moments(Ising::chain(40, 1, 0), Exec(1)); }, Exit::usage,
               "ising_enumeration_moments: enumeration visits 2^n states; the model has n = 40 spins, above the limit "
               "of 30");
  expect_error([] { ising_transfer_matrix_log_z(Ising::chain(5, 1, 0), Exec(1)); }, Exit::usage,
               "ising_transfer_matrix_log_z: the model is not a 2-D lattice (build it with Ising::lattice_2d)");
  expect_error([] { ising_transfer_matrix_log_z(Ising::lattice_2d(21, 22, 1, 0), Exec(1)); }, Exit::usage,
               "ising_transfer_matrix_log_z: the 21x22 lattice is too wide: the transfer state is one line of W sites, "
               "W <= 20 across an open direction and W <= 12 across a periodic one");
  expect_error(
      [] {
        ising_transfer_matrix_log_z(Ising::lattice_2d(13, 40, 1, 0, Boundary::periodic, Boundary::periodic), Exec(1));
      },
      Exit::usage,
      "ising_transfer_matrix_log_z: the 13x40 lattice is too wide: the transfer state is one line of W sites, "
      "W <= 20 across an open direction and W <= 12 across a periodic one");
  expect_error([] { ising_kaufman_log_z(2, 5, 0.3); }, Exit::usage,
               "ising_kaufman_log_z: L1 and L2 must be >= 3 (periodic lattice), got 2x5");
  expect_error([] { ising_kaufman_log_z(4, 4, -0.3); }, Exit::usage,
               "ising_kaufman_log_z: K must be finite and > 0, got -0.3");
  expect_error([] { ising_kaufman_log_z(4, 4, std::numeric_limits<double>::quiet_NaN()); }, Exit::usage,
               "ising_kaufman_log_z: K must be finite and > 0, got nan");
  expect_error([] { ising_onsager_log_z_per_site(0); }, Exit::usage,
               "ising_onsager_log_z_per_site: K must be finite and > 0, got 0");
}

}  // namespace
}  // namespace logz
