// Junction tree: log Z and marginals against Potts enumeration on random sparse graphs,
// chains, trees, cycles, small dense and disconnected graphs; against the Ising transfer
// matrix on open and periodic lattices up to 16×16; orders (treewidth of grids, user
// orders); thread-count independence; pinned errors.
#include "logz/exact/junction_tree.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/potts_exact.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

/// A Potts model on the given edges (orientation randomised), every block entry
/// scale·N(0,1) (asymmetric), fields h_scale·N(0,1).
Potts random_potts(std::uint64_t seed, std::size_t n, std::size_t q, std::vector<PottsEdge> edges, double scale,
                   double h_scale) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  for (auto& e : edges)
    if (rng.uniform_double() < 0.5) std::swap(e.i, e.j);
  MatrixD h{Eigen::Index(n), Eigen::Index(q)};
  for (Eigen::Index k = 0; k < h.size(); ++k) h.data()[k] = h_scale * rng.normal();
  VectorD j{Eigen::Index(edges.size() * q * q)};
  for (Eigen::Index k = 0; k < j.size(); ++k) j[k] = scale * rng.normal();
  return Potts(std::move(h), std::move(edges), std::move(j));
}

std::vector<PottsEdge> random_graph(std::uint64_t seed, std::size_t n, double p) {
  Stream rng = Stream::derive(seed, Purpose::user, 1);
  std::vector<PottsEdge> edges;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (rng.uniform_double() < p) edges.push_back({i, j});
  return edges;
}
std::vector<PottsEdge> chain(std::size_t n, bool cycle) {
  std::vector<PottsEdge> edges;
  for (std::size_t i = 0; i + 1 < n; ++i) edges.push_back({i, i + 1});
  if (cycle) edges.push_back({n - 1, 0});
  return edges;
}
/// Random tree: site i > 0 hangs from a uniformly drawn earlier site.
std::vector<PottsEdge> random_tree(std::uint64_t seed, std::size_t n) {
  Stream rng = Stream::derive(seed, Purpose::user, 2);
  std::vector<PottsEdge> edges;
  for (std::size_t i = 1; i < n; ++i) edges.push_back({std::size_t(rng.below(i)), i});
  return edges;
}

Ising random_lattice(std::uint64_t seed, std::size_t l1, std::size_t l2, Boundary b1, Boundary b2, double scale,
                     SpinConvention conv = SpinConvention::plus_minus_one) {
  Ising m = Ising::lattice_2d(l1, l2, 0.0, 0.0, b1, b2, conv);
  Stream rng = Stream::derive(seed, Purpose::user, 3);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = scale * rng.normal();
  m.set_parameters(theta);
  return m;
}

JunctionTreeOptions with_marginals() {
  JunctionTreeOptions o;
  o.marginals = true;
  return o;
}

void expect_matches_enumeration(const Potts& m) {
  const Exec ex(2);
  const PottsMarginals want = potts_enumeration_marginals(m, ex);
  const JunctionTreeResult got = junction_tree(m, with_marginals(), ex);
  EXPECT_NEAR(got.log_z, want.log_z, 1e-10);
  ASSERT_EQ(got.site_marginals.rows(), want.site.rows());
  for (Eigen::Index k = 0; k < want.site.size(); ++k) EXPECT_NEAR(got.site_marginals.data()[k], want.site.data()[k], 1e-10);
  ASSERT_EQ(got.edge_marginals.size(), want.edge.size());
  for (Eigen::Index k = 0; k < want.edge.size(); ++k) EXPECT_NEAR(got.edge_marginals[k], want.edge[k], 1e-10);
  // Without marginals the upward pass runs on scaled weights instead of logs.
  EXPECT_NEAR(junction_tree(m, {}, ex).log_z, want.log_z, 1e-10);
}

TEST(JunctionTree, EqualsEnumerationOnRandomModels) {
  struct Case {
    const char* name;
    std::size_t n, q;
    std::vector<PottsEdge> edges;
    double scale;
  };
  const Case cases[] = {
      {"sparse q=3", 11, 3, random_graph(1, 11, 0.3), 1.0},
      {"sparse q=4", 9, 4, random_graph(2, 9, 0.35), 1.0},
      {"sparse q=2 strong", 16, 2, random_graph(3, 16, 0.25), 4.0},
      {"chain q=3", 12, 3, chain(12, false), 1.0},
      {"chain q=5 strong", 8, 5, chain(8, false), 5.0},
      {"tree q=3", 12, 3, random_tree(4, 12), 1.5},
      {"tree q=4", 10, 4, random_tree(5, 10), 1.0},
      {"cycle q=3", 11, 3, chain(11, true), 1.0},
      {"cycle q=4 strong", 9, 4, chain(9, true), 4.0},
      {"dense q=3", 8, 3, random_graph(6, 8, 1.0), 0.7},
      {"dense q=4", 6, 4, random_graph(7, 6, 1.0), 1.0},
      {"disconnected q=3", 10, 3, {{0, 1}, {1, 2}, {2, 0}, {4, 5}, {5, 6}, {6, 7}, {7, 4}, {4, 6}}, 1.0},
      {"no edges q=3", 5, 3, {}, 1.0},
  };
  std::uint64_t seed = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    expect_matches_enumeration(random_potts(seed++, c.n, c.q, c.edges, c.scale, 1.0));
  }
}

TEST(JunctionTree, OrientationOfBlocksMatters) {
  // The comparisons above can fail: transposing one asymmetric block changes log Z far
  // beyond 1e-10, and the junction tree follows the change.
  const Potts m = random_potts(8, 8, 3, random_graph(8, 8, 0.4), 1.0, 1.0);
  Potts wrong = m;
  std::vector<double> blk(wrong.block(0).begin(), wrong.block(0).end());
  for (std::size_t a = 0; a < 3; ++a)
    for (std::size_t b = a + 1; b < 3; ++b) std::swap(blk[a * 3 + b], blk[b * 3 + a]);
  wrong.set_block(0, blk);
  const Exec ex(1);
  EXPECT_GT(std::fabs(junction_tree(wrong, {}, ex).log_z - junction_tree(m, {}, ex).log_z), 1e-4);
  EXPECT_NEAR(junction_tree(wrong, {}, ex).log_z, potts_enumeration_log_z(wrong, ex), 1e-10);
}

TEST(JunctionTree, EqualsTransferMatrixOnLattices) {
  struct Case {
    std::size_t l1, l2;
    Boundary b1, b2;
    SpinConvention conv;
  };
  constexpr Boundary o = Boundary::open, p = Boundary::periodic;
  constexpr SpinConvention pm = SpinConvention::plus_minus_one, zo = SpinConvention::zero_one;
  const Case cases[] = {{6, 5, o, o, pm}, {5, 7, p, p, pm}, {4, 9, p, o, zo},   {9, 4, o, p, pm},
                        {3, 3, p, p, zo}, {8, 8, p, p, pm}, {16, 16, o, o, pm}, {12, 7, o, o, zo}};
  std::uint64_t seed = 200;
  const Exec ex(1);
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.l1 << "x" << c.l2);
    const Ising m = random_lattice(seed++, c.l1, c.l2, c.b1, c.b2, 0.7, c.conv);
    EXPECT_NEAR(junction_tree(m, {}, ex).log_z, ising_transfer_matrix_log_z(m, ex), 1e-10);
  }
}

TEST(JunctionTree, IsingMarginalsEqualEnumerationMoments) {
  const Ising m = random_lattice(9, 4, 5, Boundary::periodic, Boundary::open, 0.8);
  const Exec ex(2);
  const IsingMoments mo = ising_enumeration_moments(m, ex);
  const JunctionTreeResult r = junction_tree(m, with_marginals(), ex);
  EXPECT_NEAR(r.log_z, mo.log_z, 1e-10);
  for (Eigen::Index i = 0; i < mo.mean.size(); ++i)
    EXPECT_NEAR(r.site_marginals(i, 1) - r.site_marginals(i, 0), mo.mean[i], 1e-10);
  for (Eigen::Index e = 0; e < mo.correlation.size(); ++e) {
    const double* b = r.edge_marginals.data() + 4 * e;  // (down,down), (down,up), (up,down), (up,up)
    EXPECT_NEAR(b[0] - b[1] - b[2] + b[3], mo.correlation[e], 1e-10);
  }
}

TEST(JunctionTree, MarginalsAreDistributions) {
  const Potts m = random_potts(10, 12, 3, random_graph(10, 12, 0.3), 1.0, 1.0);
  const JunctionTreeResult r = junction_tree(m, with_marginals(), Exec(1));
  for (Eigen::Index i = 0; i < r.site_marginals.rows(); ++i) EXPECT_NEAR(r.site_marginals.row(i).sum(), 1.0, 1e-14);
  for (std::size_t e = 0; e < m.n_edges(); ++e) {
    EXPECT_NEAR(r.edge_marginals.segment(Eigen::Index(9 * e), 9).sum(), 1.0, 1e-14);
    for (std::size_t a = 0; a < 3; ++a) {  // the block's row sums are the marginal of edge.i
      double row = 0;
      for (std::size_t b = 0; b < 3; ++b) row += r.edge_marginals[Eigen::Index(9 * e + 3 * a + b)];
      EXPECT_NEAR(row, r.site_marginals(Eigen::Index(m.edges()[e].i), Eigen::Index(a)), 1e-12);
    }
  }
}

TEST(JunctionTree, StrongCouplingsDoNotOverflow) {
  // Open 10×10 ferromagnet, K = 50, no field: the two ground states dominate,
  // log Z = 180·50 + log 2 + O(e^-200) (180 bonds; a flipped corner costs 4K = 200).
  const Ising m = Ising::lattice_2d(10, 10, 50.0, 0.0);
  const double want = 180 * 50.0 + std::log(2.0);
  EXPECT_NEAR(junction_tree(m, {}, Exec(1)).log_z, want, 1e-12 * want);
  // Antiferromagnet with strong fields: no overflow either; equals the transfer matrix.
  const Ising af = random_lattice(11, 7, 6, Boundary::open, Boundary::open, 40.0);
  const double tm = ising_transfer_matrix_log_z(af, Exec(1));
  EXPECT_NEAR(junction_tree(af, {}, Exec(1)).log_z, tm, 1e-12 * std::fabs(tm));
}

TEST(JunctionTree, FactorsThatDisagreeByThousandsOfNatsFallBackToLogs) {
  // Site 0's field favours state 0 by 1000 nats, its bond to site 1 favours state 1 by
  // 1000: each scaled table is (1, e^-1000 = 0) and their product is 0 for both states.
  // The scaled pass gives up and the log-domain pass gets the exact answer.
  MatrixD h = MatrixD::Zero(3, 2);
  h(0, 1) = -1000, h(2, 0) = 0.3;
  VectorD j = VectorD::Zero(8);
  j[0] = j[1] = -1000;  // J_01(0, b)
  j[4 + 3] = 0.5;       // J_12(1, 1)
  const Potts m(h, {{0, 1}, {1, 2}}, j);
  JunctionTreeOptions o;
  o.elimination_order = {0, 1, 2};
  const double want = potts_enumeration_log_z(m, Exec(1));
  EXPECT_NEAR(junction_tree(m, o, Exec(1)).log_z, want, 1e-12 * std::fabs(want));
  o.marginals = true;
  EXPECT_NEAR(junction_tree(m, o, Exec(1)).log_z, want, 1e-12 * std::fabs(want));
}

TEST(JunctionTree, GridOrderHasTheGridWidth) {
  // An open L1×L2 grid swept along its narrower side has treewidth min(L1, L2).
  const Ising m = random_lattice(12, 16, 16, Boundary::open, Boundary::open, 0.5);
  const JunctionTreeResult r = junction_tree(m, {}, Exec(1));
  EXPECT_EQ(r.treewidth, 16u);
  EXPECT_EQ(r.largest_table_entries, std::size_t(1) << 17);
  // 20×9: min-fill may win on total cost with a wider order, but never costs more than
  // the row-by-row sweep of width 9.
  const Potts tall = Potts::from_ising(random_lattice(12, 20, 9, Boundary::open, Boundary::open, 0.5));
  JunctionTreeOptions rows;
  rows.elimination_order.resize(180);
  std::iota(rows.elimination_order.begin(), rows.elimination_order.end(), std::size_t(0));
  const JunctionTreeResult by_rows = junction_tree_plan(tall, rows);
  EXPECT_EQ(by_rows.treewidth, 9u);
  EXPECT_LE(junction_tree_plan(tall, {}).total_table_entries, by_rows.total_table_entries);
  // With a limit that min-fill's order breaks, the grid sweep is used.
  JunctionTreeOptions tight;
  tight.max_table_entries = 1024;
  const JunctionTreeResult swept = junction_tree_plan(tall, tight);
  EXPECT_EQ(swept.treewidth, 9u);
  EXPECT_EQ(swept.order_method, "grid rows");
  // Only messages in flight are kept: a few tables of 2^16 doubles, not 256 of them.
  EXPECT_LE(r.peak_table_bytes, 4u * (std::size_t(8) << 16));
}

TEST(JunctionTree, UserOrderGivesTheSameLogZ) {
  const Potts m = random_potts(13, 10, 3, random_graph(13, 10, 0.3), 1.0, 1.0);
  JunctionTreeOptions o;
  o.elimination_order.resize(10);
  std::iota(o.elimination_order.rbegin(), o.elimination_order.rend(), std::size_t(0));
  const JunctionTreeResult r = junction_tree(m, o, Exec(1));
  EXPECT_EQ(r.order_method, "user");
  EXPECT_EQ(r.elimination_order, o.elimination_order);
  EXPECT_NEAR(r.log_z, potts_enumeration_log_z(m, Exec(1)), 1e-10);
}

TEST(JunctionTree, IdenticalBitsForOneAndTwoThreads) {
  // Dense, q = 3, 12 sites: the first clique holds every site, its message 3^11 entries in
  // six blocks of 32778 (scaled pass) or 44 blocks of 4096 (log-domain pass), the next
  // one 3^10 in two; 3^12 states, so enumeration checks both passes too.
  const Potts m = random_potts(16, 12, 3, random_graph(16, 12, 1.0), 0.7, 0.5);
  const double scaled = junction_tree(m, {}, Exec(1)).log_z;
  EXPECT_EQ(std::bit_cast<std::uint64_t>(scaled), std::bit_cast<std::uint64_t>(junction_tree(m, {}, Exec(2)).log_z));
  const JunctionTreeResult a = junction_tree(m, with_marginals(), Exec(1)), b = junction_tree(m, with_marginals(), Exec(2));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a.log_z), std::bit_cast<std::uint64_t>(b.log_z));
  EXPECT_TRUE((a.site_marginals.array() == b.site_marginals.array()).all());
  EXPECT_TRUE((a.edge_marginals.array() == b.edge_marginals.array()).all());
  const double want = potts_enumeration_log_z(m, Exec(1));
  EXPECT_NEAR(scaled, want, 1e-10);
  EXPECT_NEAR(a.log_z, want, 1e-10);
  EXPECT_EQ(a.treewidth, 11u);
}

TEST(JunctionTree, RefusesWideModels) {
  test::expect_error([] { junction_tree(Ising::fully_connected(40, 0.1, 0.0), {}, Exec(1)); }, Exit::usage,
                     "junction_tree: treewidth 39 (largest clique table 2^40 entries, min-fill order) exceeds the limit "
                     "of 2^26 entries (max_table_entries); exact log Z is out of reach, use an estimator");
  JunctionTreeOptions small;
  small.max_table_entries = 1000;
  test::expect_error([&] { junction_tree(Potts::from_ising(Ising::lattice_2d(12, 12, 0.3, 0.0)), small, Exec(1)); },
                     Exit::usage,
                     "junction_tree: treewidth 12 (largest clique table 2^13 entries, grid rows order) exceeds the limit "
                     "of 1000 entries (max_table_entries); exact log Z is out of reach, use an estimator");
}

TEST(JunctionTree, RejectsBadOrders) {
  const Potts m = random_potts(16, 4, 3, chain(4, false), 1.0, 1.0);
  JunctionTreeOptions o;
  o.elimination_order = {0, 1, 2};
  test::expect_error([&] { junction_tree(m, o, Exec(1)); }, Exit::usage,
                     "junction_tree: elimination_order has 3 entries but the model has 4 sites");
  o.elimination_order = {0, 1, 2, 4};
  test::expect_error([&] { junction_tree(m, o, Exec(1)); }, Exit::usage,
                     "junction_tree: elimination_order entry 3 is 4, not a site in [0, 4)");
  o.elimination_order = {0, 1, 1, 3};
  test::expect_error([&] { junction_tree(m, o, Exec(1)); }, Exit::usage,
                     "junction_tree: elimination_order lists site 1 twice");
  JunctionTreeOptions zero;
  zero.max_table_entries = 0;
  test::expect_error([&] { junction_tree(m, zero, Exec(1)); }, Exit::usage,
                     "junction_tree: max_table_entries must be >= 1, got 0");
}

}  // namespace
}  // namespace logz
