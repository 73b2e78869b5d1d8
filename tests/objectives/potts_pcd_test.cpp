// Potts PCD, exact parts: data moments by hand (weights, absent sites, duplicated rows
// equal to a weight of 2), chain moments equal a brute-force count of the chain states,
// the gradient is chain − data moments + 2λθ/W entry by entry, the chains' documented
// starting draws and streams, settings and data errors with their messages pinned, the
// same bits for 1 and 2 threads (plain and tempered chains), progress reports.
#include "logz/objectives/potts_pcd.hpp"
#include "logz/training/mrf_pcd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "support/expect_error.hpp"

namespace logz {
namespace {

PottsData make_data(std::vector<std::vector<int>> rows, std::vector<double> w, std::size_t q) {
  PottsData d;
  d.q = q;
  d.states.resize(Eigen::Index(rows.size()), Eigen::Index(rows[0].size()));
  for (std::size_t s = 0; s < rows.size(); ++s)
    for (std::size_t i = 0; i < rows[s].size(); ++i) d.states(Eigen::Index(s), Eigen::Index(i)) = std::uint8_t(rows[s][i]);
  d.weights = Eigen::Map<VectorD>(w.data(), Eigen::Index(w.size()));
  return d;
}

Potts random_potts(std::size_t L, std::size_t q, std::uint64_t seed, double scale) {
  Potts m = Potts::dense(L, q);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta(Eigen::Index(m.num_parameters()));
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = scale * rng.normal();
  m.set_parameters(theta);
  return m;
}

TEST(PottsDataMoments, WeightedAvailableCaseFrequenciesByHand) {
  // q = 3, state 3 is absent. Sequences (weights): (0,1,2) w=1, (1,1,3) w=2, (0,3,2) w=0.5, (2,0,0) w=0.
  const PottsData d = make_data({{0, 1, 2}, {1, 1, 3}, {0, 3, 2}, {2, 0, 0}}, {1, 2, 0.5, 0}, 3);
  const std::vector<PottsEdge> edges{{0, 1}, {0, 2}, {2, 1}};
  const PottsMoments m = potts_data_moments(d, edges, Exec(1));
  // Site 0: present in all (weight 3.5): state 0 weight 1.5, state 1 weight 2.
  EXPECT_DOUBLE_EQ(m.site(0, 0), 1.5 / 3.5);
  EXPECT_DOUBLE_EQ(m.site(0, 1), 2 / 3.5);
  EXPECT_EQ(m.site(0, 2), 0.0);
  // Site 1: present in sequences 0, 1, 3 (weight 3): all in state 1 with positive weight.
  EXPECT_EQ(m.site(1, 1), 1.0);
  EXPECT_EQ(m.site(1, 0), 0.0);
  // Site 2: present in 0, 2, 3 (weight 1.5), state 2 throughout.
  EXPECT_EQ(m.site(2, 2), 1.0);
  // Edge (0, 1): both present in 0, 1, 3 (weight 3): (0,1) weight 1, (1,1) weight 2.
  EXPECT_DOUBLE_EQ(m.edge[0 * 3 + 1], 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.edge[1 * 3 + 1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.edge.segment(0, 9).sum(), 1.0);
  // Edge (0, 2): sequences 0, 2, 3 (weight 1.5): (0,2) only.
  EXPECT_EQ(m.edge[9 + 0 * 3 + 2], 1.0);
  EXPECT_DOUBLE_EQ(m.edge.segment(9, 9).sum(), 1.0);
  // Edge (2, 1), a = state of site 2: sequences 0, 3: (2,1) weight 1.
  EXPECT_EQ(m.edge[18 + 2 * 3 + 1], 1.0);
  EXPECT_DOUBLE_EQ(m.edge.segment(18, 9).sum(), 1.0);
}

TEST(PottsDataMoments, DuplicatedRowEqualsWeightTwoAndThreadsAgree) {
  const PottsData a = make_data({{0, 1, 2, 1}, {1, 1, 0, 2}, {0, 2, 2, 0}}, {1, 2, 1}, 3);
  const PottsData b = make_data({{0, 1, 2, 1}, {1, 1, 0, 2}, {1, 1, 0, 2}, {0, 2, 2, 0}}, {1, 1, 1, 1}, 3);
  const std::vector<PottsEdge> edges = Potts::dense(4, 3).edges();
  const PottsMoments ma = potts_data_moments(a, edges, Exec(1)), mb = potts_data_moments(b, edges, Exec(2));
  EXPECT_EQ(ma.site, mb.site);
  EXPECT_EQ(ma.edge, mb.edge);
  // Enough data for the counts to be spread over threads (N·(L + edges) >= 2^20).
  PottsData big;
  big.q = 3;
  big.states.resize(30000, 8);
  big.weights.resize(30000);
  Stream rng = Stream::root(8);
  for (Eigen::Index s = 0; s < big.states.rows(); ++s) {
    for (Eigen::Index i = 0; i < 8; ++i) big.states(s, i) = std::uint8_t(rng.below(4));
    big.weights[s] = rng.uniform_double();
  }
  const std::vector<PottsEdge> big_edges = Potts::dense(8, 3).edges();
  const PottsMoments b1 = potts_data_moments(big, big_edges, Exec(1)), b2 = potts_data_moments(big, big_edges, Exec(2));
  EXPECT_EQ(b1.site, b2.site);
  EXPECT_EQ(b1.edge, b2.edge);
}

TEST(PottsDataMoments, BadDataMessages) {
  const std::vector<PottsEdge> edges{{0, 1}};
  auto moments = [&](const PottsData& d) { return [&, d] { potts_data_moments(d, edges, Exec(1)); }; };
  test::expect_error(moments(make_data({{0, 1}}, {1}, 1)), Exit::data, "potts_data_moments: q must be in [2, 255], got 1");
  test::expect_error(moments(make_data({{0, 4}}, {1}, 3)), Exit::data,
                     "potts_data_moments: sequence 0 site 1 has state 4, beyond q = 3 (absent)");
  test::expect_error(moments(make_data({{0, 1}}, {-1}, 3)), Exit::data,
                     "potts_data_moments: weight 0 is -1, not finite and >= 0");
  test::expect_error(moments(make_data({{0, 1}}, {NAN}, 3)), Exit::data,
                     "potts_data_moments: weight 0 is nan, not finite and >= 0");
  test::expect_error(moments(make_data({{0, 1}, {1, 1}}, {0, 0}, 3)), Exit::data, "potts_data_moments: the weights sum to 0");
  PottsData short_w = make_data({{0, 1}, {1, 1}}, {1, 1}, 3);
  short_w.weights.resize(1);
  test::expect_error(moments(short_w), Exit::data, "potts_data_moments: 1 weights for 2 sequences");
  // Absent everywhere it has weight: site 1 is present only in a sequence of weight 0.
  test::expect_error(moments(make_data({{0, 3}, {1, 2}}, {1, 0}, 3)), Exit::data,
                     "potts_data_moments: site 1 is absent in every sequence of positive weight");
  // Both sites present, never together.
  test::expect_error(moments(make_data({{0, 3}, {3, 2}}, {1, 1}, 3)), Exit::data,
                     "potts_data_moments: sites 0 and 1 (edge 0) are never both present in a sequence of positive weight");
  test::expect_error([&] { potts_data_moments(make_data({{0, 1}}, {1}, 3), {{0, 2}}, Exec(1)); }, Exit::usage,
                     "potts_data_moments: edge 0 = (0, 2) has a site beyond the data's 2 sites");
}

TEST(PottsPcdChains, MomentsCountTheStatesAndGradientIsTheFormula) {
  const Potts m = random_potts(5, 3, 7, 0.5);
  PottsPcdChains chains(m, 37, 2, {}, Stream::root(3));
  chains.advance(m, Stream::root(4), Exec(1));
  const MatrixD x = chains.states();
  ASSERT_EQ(x.rows(), 37);
  const PottsMoments cm = chains.moments(m, Exec(2));
  // Brute-force count.
  MatrixD site = MatrixD::Zero(5, 3);
  VectorD edge = VectorD::Zero(Eigen::Index(m.n_edges() * 9));
  for (Eigen::Index c = 0; c < x.rows(); ++c) {
    for (Eigen::Index i = 0; i < 5; ++i) site(i, Eigen::Index(x(c, i))) += 1.0 / 37;
    for (std::size_t e = 0; e < m.n_edges(); ++e)
      edge[Eigen::Index(e * 9 + std::size_t(x(c, Eigen::Index(m.edges()[e].i))) * 3 +
                        std::size_t(x(c, Eigen::Index(m.edges()[e].j))))] += 1;
  }
  edge /= 37;
  EXPECT_LT((cm.site - site).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_LT((cm.edge - edge).cwiseAbs().maxCoeff(), 1e-15);
  // The gradient, entry by entry.
  const PottsData d = make_data({{0, 1, 2, 1, 0}, {1, 1, 0, 2, 2}, {0, 2, 2, 0, 1}}, {1, 2, 0.5}, 3);
  const PottsMoments dm = potts_data_moments(d, m.edges(), Exec(1));
  const double lh = 0.3, le = 1.7, W = 3.5;
  const VectorD g = potts_pcd_gradient(m, dm, cm, lh, le, W);
  const VectorD theta = m.parameters();
  for (Eigen::Index i = 0; i < 5; ++i)
    for (Eigen::Index a = 0; a < 3; ++a)
      EXPECT_NEAR(g[i * 3 + a], cm.site(i, a) - dm.site(i, a) + 2 * lh * theta[i * 3 + a] / W, 1e-15);
  for (Eigen::Index k = 0; k < cm.edge.size(); ++k)
    EXPECT_NEAR(g[15 + k], cm.edge[k] - dm.edge[k] + 2 * le * theta[15 + k] / W, 1e-15);
  test::expect_error([&] { potts_pcd_gradient(m, dm, cm, -1, le, W); }, Exit::usage,
                     "potts_pcd_gradient: lambda_h must be finite and >= 0, got -1");
  test::expect_error([&] { potts_pcd_gradient(m, dm, cm, lh, le, 0); }, Exit::usage,
                     "potts_pcd_gradient: total_weight must be finite and > 0, got 0");
  test::expect_error([&] { potts_pcd_gradient(random_potts(4, 3, 1, 1), dm, cm, lh, le, W); }, Exit::usage,
                     "potts_pcd_gradient: moments of shape 5×3 with 90 pair entries do not fit the model (4 sites, q = "
                     "3, 6 edges)");
}

TEST(PottsPcdChains, StartAndStepFollowTheDocumentedStreams) {
  const Potts m = random_potts(4, 3, 11, 0.8);
  PottsPcdChains chains(m, 3, 2, {}, Stream::root(5));
  const MatrixD x0 = chains.states();
  for (Eigen::Index c = 0; c < 3; ++c) {
    // Site i from p ∝ exp(h_i), one uniform per site, inverse CDF.
    Stream rng = Stream::root(5).derive(Purpose::chains, std::uint64_t(c));
    for (Eigen::Index i = 0; i < 4; ++i) {
      const VectorD p = (m.fields().row(i).array() - m.fields().row(i).maxCoeff()).exp().transpose();
      const double u = rng.uniform_double() * p.sum();
      Eigen::Index a = 0;
      for (double cum = p[0]; u >= cum && a < 2;) cum += p[++a];
      EXPECT_EQ(x0(c, i), double(a)) << "chain " << c << " site " << i;
    }
  }
  chains.advance(m, Stream::root(6), Exec(2));
  const SystematicPottsGibbs kernel({2, 1.0});
  for (Eigen::Index c = 0; c < 3; ++c) {
    VectorD x = x0.row(c).transpose();
    Stream rng = Stream::root(6).derive(Purpose::gibbs, std::uint64_t(c));
    kernel.step(m, x, rng);
    EXPECT_EQ(chains.states().row(c), x.transpose());
  }
  EXPECT_TRUE(chains.swap_acceptance().empty());
  test::expect_error([&] { PottsPcdChains(m, 0, 1, {}, Stream::root(1)); }, Exit::usage,
                     "PottsPcdChains: chains must be >= 1 (got 0)");
  test::expect_error([&] { PottsPcdChains(m, 2, 1, {0.5, 0.9}, Stream::root(1)); }, Exit::usage,
                     "PottsPcdChains: the last beta must be 1 (the model), got 0.9");
}

PottsData sample_data() {
  // 30 sequences of 6 sites, q = 3 plus some absent entries, from a fixed stream.
  PottsData d;
  d.q = 3;
  d.states.resize(30, 6);
  d.weights.resize(30);
  Stream rng = Stream::root(99);
  for (Eigen::Index s = 0; s < 30; ++s) {
    for (Eigen::Index i = 0; i < 6; ++i) d.states(s, i) = std::uint8_t(rng.below(s % 7 == 3 ? 4 : 3));
    d.weights[s] = 0.5 + rng.uniform_double();
  }
  return d;
}

TEST(FitPottsPcd, SameBitsForOneAndTwoThreadsPlainAndTempered) {
  const PottsData d = sample_data();
  for (bool tempered : {false, true}) {
    PottsPcdConfig c;
    c.chains = 700;  // 3 blocks of chains (7 with tempering), so 2 threads share them
    c.sweeps = 2;
    c.sgd.updates = 20;
    c.sgd.average_last = 10;
    c.lambda_e = 1.0;
    c.seed = 12;
    if (tempered) c.betas = {0.2, 0.6, 1.0};
    const PottsPcdFit a = fit_potts_pcd(d, c, Exec(1)), b = fit_potts_pcd(d, c, Exec(2));
    EXPECT_EQ(a.model.parameters(), b.model.parameters()) << "tempered " << tempered;
    EXPECT_EQ(a.trace, b.trace);
    EXPECT_EQ(a.swap_acceptance, b.swap_acceptance);
    EXPECT_EQ(a.round_trips, b.round_trips);
    ASSERT_EQ(a.trace.size(), 20u);
    EXPECT_EQ(a.updates, 20u);
    EXPECT_EQ(a.swap_acceptance.size(), tempered ? 2u : 0u);
    for (double r : a.swap_acceptance) EXPECT_TRUE(r > 0 && r <= 1) << r;
    // Another seed gives another fit (the seed is used).
    c.seed = 13;
    EXPECT_NE(fit_potts_pcd(d, c, Exec(2)).model.parameters(), a.model.parameters());
  }
}

TEST(FitPottsPcd, StartsAtPlmcFieldsWithZeroCouplingsAndReportsProgress) {
  const PottsData d = sample_data();
  const PottsMoments dm = potts_data_moments(d, Potts::dense(6, 3).edges(), Exec(1));
  const double W = d.weights.sum();
  struct Recorder : Observer {
    std::vector<std::pair<std::size_t, std::size_t>> calls;
    void progress(std::string_view phase, std::size_t done, std::size_t total) override {
      EXPECT_EQ(phase, "pcd");
      calls.emplace_back(done, total);
    }
  } rec;
  PottsPcdConfig c;
  c.sgd.updates = 3;
  c.sgd.learning_rate = 1e-300;  // steps of ~1e-300: the fit stays at its start
  c.chains = 10;
  const PottsPcdFit f = fit_potts_pcd(d, c, Exec(1), rec);
  ASSERT_EQ(rec.calls.size(), 3u);
  for (std::size_t t = 0; t < 3; ++t) EXPECT_EQ(rec.calls[t], std::make_pair(t + 1, std::size_t(3)));
  EXPECT_TRUE(f.model.is_dense());
  for (std::size_t e = 0; e < f.model.n_edges(); ++e)
    for (double v : f.model.block(e)) EXPECT_LT(std::abs(v), 1e-290);
  for (Eigen::Index i = 0; i < 6; ++i) {
    VectorD h(3);
    for (Eigen::Index a = 0; a < 3; ++a) h[a] = std::log(dm.site(i, a) * W + 1);
    h.array() -= h.mean();
    EXPECT_LT((f.model.fields().row(i).transpose() - h).cwiseAbs().maxCoeff(), 1e-12);
  }
  EXPECT_GE(f.seconds, 0.0);
}

TEST(FitPottsPcd, SparseGraphAndInitModel) {
  const PottsData d = sample_data();
  PottsPcdConfig c;
  c.sgd.updates = 5;
  c.chains = 8;
  c.edges = {{0, 1}, {1, 2}, {5, 4}};
  const PottsPcdFit f = fit_potts_pcd(d, c, Exec(1));
  EXPECT_EQ(f.model.n_edges(), 3u);
  EXPECT_EQ(f.model.edges()[2].i, 5u);
  // init: the fit continues from it on its graph.
  c.init = f.model;
  c.edges.clear();
  EXPECT_EQ(fit_potts_pcd(d, c, Exec(1)).model.n_edges(), 3u);
  c.init = Potts::dense(5, 3);
  test::expect_error([&] { fit_potts_pcd(d, c, Exec(1)); }, Exit::usage,
                     "fit_potts_pcd: the init model has 5 sites and q = 3; the data has 6 sites and q = 3");
  c.init.reset();
  c.edges = {{0, 1}, {1, 0}};
  test::expect_error([&] { fit_potts_pcd(d, c, Exec(1)); }, Exit::usage,
                     std::string("fit_potts_pcd: bad edge list: ") + [&] {
                       try {
                         Potts(MatrixD::Zero(6, 3), c.edges, VectorD::Zero(18));
                       } catch (const Error& e) {
                         return std::string(e.what());
                       }
                       return std::string();
                     }());
  c.edges = {{0, 6}};
  test::expect_error([&] { fit_potts_pcd(d, c, Exec(1)); }, Exit::usage,
                     "fit_potts_pcd: edge 0 = (0, 6) has a site beyond the data's 6 sites");
}

TEST(FitPottsPcd, BadSettingsMessages) {
  const PottsData d = sample_data();
  auto bad = [&](auto edit, const std::string& message) {
    PottsPcdConfig c;
    c.sgd.updates = 2;
    edit(c);
    test::expect_error([&] { c.validate(); }, Exit::usage, message);
    test::expect_error([&] { fit_potts_pcd(d, c, Exec(1)); }, Exit::usage, message);
  };
  bad([](PottsPcdConfig& c) { c.chains = 0; }, "fit_potts_pcd: chains must be >= 1 (got 0)");
  bad([](PottsPcdConfig& c) { c.sweeps = 0; }, "fit_potts_pcd: sweeps must be >= 1 (got 0)");
  bad([](PottsPcdConfig& c) { c.betas = {1.0}; }, "fit_potts_pcd: tempering needs at least 2 betas, got 1");
  bad([](PottsPcdConfig& c) { c.betas = {-0.5, 1.0}; }, "fit_potts_pcd: beta[0] must be finite and >= 0 (got -0.5)");
  bad([](PottsPcdConfig& c) { c.betas = {0.0, NAN, 1.0}; }, "fit_potts_pcd: beta[1] must be finite and >= 0 (got nan)");
  bad([](PottsPcdConfig& c) { c.betas = {0.5, 0.5, 1.0}; },
      "fit_potts_pcd: betas must increase strictly; beta[1] = 0.5 follows beta[0] = 0.5");
  bad([](PottsPcdConfig& c) { c.betas = {0.2, 0.8}; }, "fit_potts_pcd: the last beta must be 1 (the model), got 0.8");
  bad([](PottsPcdConfig& c) { c.lambda_h = -1; }, "fit_potts_pcd: lambda_h must be finite and >= 0, got -1");
  bad([](PottsPcdConfig& c) { c.lambda_e = INFINITY; }, "fit_potts_pcd: lambda_e must be finite and >= 0, got inf");
  bad([](PottsPcdConfig& c) { c.sgd.updates = 0; }, "fit_potts_pcd: updates must be >= 1 (got 0)");
  bad([](PottsPcdConfig& c) { c.sgd.learning_rate = 0; }, "fit_potts_pcd: learning_rate must be finite and > 0 (got 0)");
  bad([](PottsPcdConfig& c) { c.sgd.momentum = 1; }, "fit_potts_pcd: momentum must be in [0, 1) (got 1)");
  bad([](PottsPcdConfig& c) { c.sgd.average_last = 3; }, "fit_potts_pcd: average_last (3) exceeds updates (2)");
  // A learning rate that makes the parameters overflow.
  PottsPcdConfig c;
  c.sgd.updates = 50;
  c.sgd.learning_rate = 1e306;
  c.chains = 4;
  test::expect_error([&] { fit_potts_pcd(d, c, Exec(1)); }, Exit::usage,
                     "fit_potts_pcd: the parameters stopped being finite at update 1 (lower the learning rate)");
  // Data errors carry the fit's name.
  PottsData zero = d;
  zero.weights.setZero();
  test::expect_error([&] { fit_potts_pcd(zero, PottsPcdConfig(), Exec(1)); }, Exit::data,
                     "fit_potts_pcd: the weights sum to 0");
}

}  // namespace
}  // namespace logz
