// Potts enumeration: log Z and marginals against an independent brute-force sum in long
// double, Ising models against ising_enumeration_log_z, thread-count independence, and
// the pinned size limit.
#include "logz/exact/potts_exact.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/exact/ising_exact.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

/// Brute force sharing no code with the library: plain counting over all states, each
/// energy summed from the fields and blocks in long double.
struct Brute {
  long double log_z;
  std::vector<long double> site, edge;
};
Brute brute_force(const Potts& m) {
  const std::size_t n = m.n_sites(), q = m.num_states();
  std::size_t total = 1;
  for (std::size_t i = 0; i < n; ++i) total *= q;
  std::vector<long double> neg_e(total);
  std::vector<std::size_t> x(n);
  long double top = -INFINITY;
  for (std::size_t k = 0; k < total; ++k) {
    for (std::size_t i = 0, r = k; i < n; ++i, r /= q) x[i] = r % q;
    long double w = 0;
    for (std::size_t i = 0; i < n; ++i) w += (long double)m.fields()(Eigen::Index(i), Eigen::Index(x[i]));
    for (std::size_t e = 0; e < m.n_edges(); ++e) w += (long double)m.block(e)[x[m.edges()[e].i] * q + x[m.edges()[e].j]];
    neg_e[k] = w;
    top = std::max(top, w);
  }
  Brute b{0, std::vector<long double>(n * q), std::vector<long double>(m.n_edges() * q * q)};
  long double z = 0;
  for (std::size_t k = 0; k < total; ++k) {
    for (std::size_t i = 0, r = k; i < n; ++i, r /= q) x[i] = r % q;
    const long double w = std::exp(neg_e[k] - top);
    z += w;
    for (std::size_t i = 0; i < n; ++i) b.site[i * q + x[i]] += w;
    for (std::size_t e = 0; e < m.n_edges(); ++e) b.edge[e * q * q + x[m.edges()[e].i] * q + x[m.edges()[e].j]] += w;
  }
  for (auto& v : b.site) v /= z;
  for (auto& v : b.edge) v /= z;
  b.log_z = top + std::log(z);
  return b;
}

/// Random Potts model: each pair an edge with probability p (p = 1: the dense model),
/// every block entry scale·N(0,1) (asymmetric blocks), fields h_scale·N(0,1).
Potts random_potts(std::uint64_t seed, std::size_t n, std::size_t q, double p, double scale, double h_scale) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  std::vector<PottsEdge> edges;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (p >= 1 || rng.uniform_double() < p) edges.push_back(rng.uniform_double() < 0.5 ? PottsEdge{i, j} : PottsEdge{j, i});
  if (p >= 1)
    for (auto& e : edges) e = {std::min(e.i, e.j), std::max(e.i, e.j)};  // dense() order
  MatrixD h{Eigen::Index(n), Eigen::Index(q)};
  for (Eigen::Index k = 0; k < h.size(); ++k) h.data()[k] = h_scale * rng.normal();
  VectorD j{Eigen::Index(edges.size() * q * q)};
  for (Eigen::Index k = 0; k < j.size(); ++k) j[k] = scale * rng.normal();
  return Potts(std::move(h), std::move(edges), std::move(j));
}

struct Case {
  std::size_t n, q;
  double p, scale, h_scale;
};

TEST(PottsEnumeration, EqualsBruteForce) {
  // 3^9 = 19683 states is not a multiple of the 4096-state chunk: the last chunk is short.
  const Case cases[] = {{7, 3, 1.0, 0.5, 0.5},  {6, 4, 0.4, 0.8, 1.0}, {9, 3, 0.3, 1.0, 0.3},
                        {6, 3, 1.0, 4.0, 2.0},  {5, 5, 1.0, 1.0, 1.0}, {10, 2, 0.5, 1.5, 1.0},
                        {8, 3, 0.5, 10.0, 5.0}, {1, 4, 0.0, 0.0, 3.0}};
  std::uint64_t seed = 10;
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "n=" << c.n << " q=" << c.q << " p=" << c.p << " scale=" << c.scale);
    const Potts m = random_potts(seed++, c.n, c.q, c.p, c.scale, c.h_scale);
    EXPECT_EQ(m.is_dense(), c.p >= 1 || c.n == 1);  // one site: trivially every pair
    const Brute b = brute_force(m);
    const Exec ex(2);
    EXPECT_NEAR(potts_enumeration_log_z(m, ex), double(b.log_z), 1e-10);
    const PottsMarginals pm = potts_enumeration_marginals(m, ex);
    EXPECT_NEAR(pm.log_z, double(b.log_z), 1e-10);
    for (std::size_t i = 0; i < c.n; ++i)
      for (std::size_t a = 0; a < c.q; ++a) EXPECT_NEAR(pm.site(Eigen::Index(i), Eigen::Index(a)), double(b.site[i * c.q + a]), 1e-12);
    ASSERT_EQ(std::size_t(pm.edge.size()), b.edge.size());
    for (std::size_t k = 0; k < b.edge.size(); ++k) EXPECT_NEAR(pm.edge[Eigen::Index(k)], double(b.edge[k]), 1e-12);
  }
}

TEST(PottsEnumeration, MarginalsAreConsistentDistributions) {
  const Potts m = random_potts(3, 8, 3, 0.5, 1.0, 1.0);
  const PottsMarginals pm = potts_enumeration_marginals(m, Exec(1));
  const std::size_t q = 3;
  for (Eigen::Index i = 0; i < pm.site.rows(); ++i) EXPECT_NEAR(pm.site.row(i).sum(), 1.0, 1e-14);
  for (std::size_t e = 0; e < m.n_edges(); ++e) {
    // The block's row sums are the marginal of edge.i, its column sums that of edge.j.
    for (std::size_t a = 0; a < q; ++a) {
      double row = 0, col = 0;
      for (std::size_t b = 0; b < q; ++b) row += pm.edge[Eigen::Index(e * q * q + a * q + b)], col += pm.edge[Eigen::Index(e * q * q + b * q + a)];
      EXPECT_NEAR(row, pm.site(Eigen::Index(m.edges()[e].i), Eigen::Index(a)), 1e-14);
      EXPECT_NEAR(col, pm.site(Eigen::Index(m.edges()[e].j), Eigen::Index(a)), 1e-14);
    }
  }
}

TEST(PottsEnumeration, OrientationOfBlocksMatters) {
  // The test above can fail: reading one asymmetric block transposed changes log Z by far
  // more than its 1e-10 tolerance.
  const Potts m = random_potts(4, 6, 3, 0.6, 1.0, 1.0);
  Potts wrong = m;
  std::vector<double> blk(wrong.block(0).begin(), wrong.block(0).end());
  for (std::size_t a = 0; a < 3; ++a)
    for (std::size_t b = a + 1; b < 3; ++b) std::swap(blk[a * 3 + b], blk[b * 3 + a]);
  wrong.set_block(0, blk);
  EXPECT_GT(std::fabs(potts_enumeration_log_z(wrong, Exec(1)) - double(brute_force(m).log_z)), 1e-4);
}

TEST(PottsEnumeration, IsingThroughFromIsingEqualsIsingEnumeration) {
  Stream rng = Stream::derive(5, Purpose::user, 0);
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    Ising ising = Ising::lattice_2d(3, 5, 0.0, 0.0, Boundary::periodic, Boundary::periodic, conv);
    VectorD theta = ising.parameters();
    for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = 0.8 * rng.normal();
    ising.set_parameters(theta);
    const Exec ex(2);
    EXPECT_NEAR(potts_enumeration_log_z(Potts::from_ising(ising), ex), ising_enumeration_log_z(ising, ex), 1e-10);
    // Site marginals give the magnetisations: <s_i> = s(up) p(up) + s(down) p(down).
    const PottsMarginals pm = potts_enumeration_marginals(Potts::from_ising(ising), ex);
    const IsingMoments mo = ising_enumeration_moments(ising, ex);
    for (Eigen::Index i = 0; i < mo.mean.size(); ++i)
      EXPECT_NEAR(pm.site(i, 1) + ising.down_value() * pm.site(i, 0), mo.mean[i], 1e-12);
  }
}

TEST(PottsEnumeration, IdenticalBitsForOneAndTwoThreads) {
  // 3^13 = 1594323 states: 390 chunks in 390 tasks.
  const Potts m = random_potts(6, 13, 3, 0.3, 1.0, 1.0);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(potts_enumeration_log_z(m, Exec(1))),
            std::bit_cast<std::uint64_t>(potts_enumeration_log_z(m, Exec(2))));
  const Potts small = random_potts(7, 10, 3, 0.4, 1.0, 1.0);
  const PottsMarginals a = potts_enumeration_marginals(small, Exec(1)), b = potts_enumeration_marginals(small, Exec(2));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a.log_z), std::bit_cast<std::uint64_t>(b.log_z));
  EXPECT_TRUE((a.site.array() == b.site.array()).all());
  EXPECT_TRUE((a.edge.array() == b.edge.array()).all());
}

TEST(PottsEnumeration, StrongCouplingsDoNotOverflow) {
  // Ferromagnetic 4-state Potts chain of 10 sites with J(a, a) = 200: the q ground states
  // dominate, log Z = 9·200 + log 4 + log(1 + O(e^-200)).
  std::vector<PottsEdge> edges;
  for (std::size_t i = 0; i + 1 < 10; ++i) edges.push_back({i, i + 1});
  VectorD j = VectorD::Zero(Eigen::Index(9 * 16));
  for (Eigen::Index e = 0; e < 9; ++e)
    for (Eigen::Index a = 0; a < 4; ++a) j[e * 16 + a * 4 + a] = 200;
  const Potts m(MatrixD::Zero(10, 4), edges, j);
  EXPECT_NEAR(potts_enumeration_log_z(m, Exec(1)), 1800 + std::log(4.0), 1e-10 * 1800);
}

TEST(PottsEnumeration, RefusesTooManyStates) {
  const Potts m = Potts::dense(16, 4);
  test::expect_error([&] { potts_enumeration_log_z(m, Exec(1)); }, Exit::usage,
                     "potts_enumeration_log_z: enumeration visits q^L states; q = 4 and L = 16 give 4.295e+09 states, "
                     "above the limit of 2^30 = 1073741824");
  test::expect_error([&] { potts_enumeration_marginals(Potts::dense(31, 2), Exec(1)); }, Exit::usage,
                     "potts_enumeration_marginals: enumeration visits q^L states; q = 2 and L = 31 give 2.147e+09 "
                     "states, above the limit of 2^30 = 1073741824");
  // Exactly 2^30 states is allowed (checked without running it: 2^30 = 4^15).
}

}  // namespace
}  // namespace logz
