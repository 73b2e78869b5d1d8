// The annealing-path layer: the RBM path's fused step equals its parts bit for bit, the
// path derivatives match finite differences, the geometric path's increments are the
// energy differences, and the generic estimators' façade (schedules, replicates).
#include <gtest/gtest.h>

#include <cmath>

#include "logz/api/estimate.hpp"
#include "logz/api/mrf_tasks.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/expect_error.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

RbmF small_rbm() { return test::random_rbm(5, 7, 40, 0.5, 1.0).cast<float>(); }
VectorF small_base() { return VectorF::Constant(7, -0.3f); }

MatrixF base_draws(const RbmAnnealingPath& path, std::size_t n, std::vector<Stream>& streams) {
  streams = Stream::root(3).children(Purpose::user, n);
  MatrixF x;
  path.draw_base(Exec(1), x, streams);
  return x;
}

TEST(RbmAnnealingPath, FusedAdvanceEqualsWeightThenMove) {
  const RbmF m = small_rbm();
  const RbmAnnealingPath path(m, small_base());
  std::vector<Stream> s1, s2;
  MatrixF x1 = base_draws(path, 33, s1), x2 = base_draws(path, 33, s2);
  std::vector<double> w1(33, 0.0), w2(33, 0.0);
  for (double b : {0.1, 0.35, 0.8}) {
    path.advance(Exec(2), x1, b - 0.05, b, w1, s1, true);
    std::vector<double> inc(33);
    path.log_ratio(Exec(1), x2, b - 0.05, b, inc);
    for (std::size_t r = 0; r < 33; ++r) w2[r] += inc[r];
    path.move(Exec(1), x2, b, s2);
  }
  EXPECT_EQ(w1, w2);
  EXPECT_TRUE(x1 == x2);
  EXPECT_EQ(s1[5].word(), s2[5].word());
}

TEST(RbmAnnealingPath, DerivativeAndRatiosMatchTheDensity) {
  const RbmF m = small_rbm();
  const RbmAnnealingPath path(m, small_base());
  std::vector<Stream> s;
  const MatrixF x = base_draws(path, 9, s);
  std::vector<double> d(9), up(9), down(9), zero(9);
  const double beta = 0.4, h = 1e-4;
  path.dlog_f(Exec(1), x, beta, d);
  path.log_ratio(Exec(1), x, beta, beta + h, up);
  path.log_ratio(Exec(1), x, beta, beta - h, down);
  path.log_ratio(Exec(1), x, beta, beta, zero);
  for (std::size_t r = 0; r < 9; ++r) {
    // Central difference: truncation O(h²·f''') ~ 1e-8 here, rounding ~1e-12 / h.
    EXPECT_NEAR(d[r], (up[r] - down[r]) / (2 * h), 1e-6 * (1 + std::fabs(d[r])));
    EXPECT_EQ(zero[r], 0.0);
  }
  // Additivity: log f_1 / f_0 = (log f_1 / f_0.5) + (log f_0.5 / f_0).
  std::vector<double> a(9), b(9), c(9);
  path.log_ratio(Exec(1), x, 0, 1, a);
  path.log_ratio(Exec(1), x, 0, 0.5, b);
  path.log_ratio(Exec(1), x, 0.5, 1, c);
  for (std::size_t r = 0; r < 9; ++r) EXPECT_NEAR(a[r], b[r] + c[r], 1e-10 * (1 + std::fabs(a[r])));
}

TEST(GeometricPath, IncrementsAreScaledEnergyDifferences) {
  const Ising m = Ising::lattice_2d(3, 3, 0.4, 0.1, Boundary::periodic, Boundary::periodic);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  EXPECT_DOUBLE_EQ(path.log_z_base(), 9 * std::log(2.0));
  std::vector<Stream> s = Stream::root(1).children(Purpose::user, 20);
  MatrixD x;
  path.draw_base(Exec(1), x, s);
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index i = 0; i < x.cols(); ++i) EXPECT_TRUE(x(r, i) == -1 || x(r, i) == 1);
  std::vector<double> w(20), d(20);
  path.log_ratio(Exec(2), x, 0.25, 0.75, w);
  path.dlog_f(Exec(1), x, 0.3, d);
  for (Eigen::Index r = 0; r < 20; ++r) {
    const double e = m.energy(x.row(r).transpose());
    EXPECT_DOUBLE_EQ(d[std::size_t(r)], -e);
    EXPECT_DOUBLE_EQ(w[std::size_t(r)], -0.5 * e);
  }
  const MoveInfo info = path.move(Exec(2), x, 0.5, s);
  EXPECT_GT(info.acceptance, 0.0);
  EXPECT_LE(info.acceptance, 1.0);
}

TEST(EstimateFacade, SchedulesByNameAndList) {
  EXPECT_EQ(api::make_schedule("list:0,0.25,1", 99).betas(), (std::vector<double>{0, 0.25, 1}));
  EXPECT_EQ(api::make_schedule("linear", 4).betas(), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  const Schedule g = api::make_schedule("geometric", 4);
  EXPECT_NEAR(g[1], 1e-3, 1e-15);
  EXPECT_NEAR(g[2] / g[1], g[3] / g[2], 1e-12);
  test::expect_error([] { api::make_schedule("list:0,x,1", 3); }, Exit::usage,
                     "estimate: schedule list: 'x' is not a number");
  test::expect_error([] { api::make_schedule("list:0,0.6,0.5,1", 3); }, Exit::usage,
                     "Schedule: betas must increase strictly; beta[2] = 0.5 follows beta[1] = 0.6");
  test::expect_error([] { api::make_schedule("cubic", 3); }, Exit::usage,
                     "Schedule: unknown schedule 'cubic' (expected linear, geometric, sm or sigmoid)");
}

TEST(EstimateFacade, ReplicatesInOneCallEqualRunsOneByOne) {
  const Ising m = Ising::lattice_2d(3, 3, 0.3, 0.0, Boundary::periodic, Boundary::periodic);
  api::EstimateConfig c;
  c.method = "ais";
  c.chains = 50;
  c.betas = 30;
  c.schedule = "linear";
  c.seed = 11;
  c.replicates = 3;
  const api::MrfModel model = m;
  // Two threads: the three runs are the tasks of one region (with one progress stream and
  // their messages in run order); three threads: one after the other.
  struct Recorder : Observer {
    std::size_t last_done = 0, last_total = 0, calls = 0;
    void progress(std::string_view, std::size_t d, std::size_t t) override { last_done = d, last_total = t, ++calls; }
  } seen;
  const auto run = [&](const api::EstimateConfig& one, const Exec& run_ex, Observer& run_obs) {
    return api::mrf_estimate(model, one, nullptr, run_ex, run_obs);
  };
  const api::ReplicatedEstimate r = api::replicate(c, Exec(2), seen, run);
  const api::ReplicatedEstimate r3 = api::replicate(c, Exec(3), silent_observer(), run);
  ASSERT_EQ(r.runs.size(), 3u);
  EXPECT_GT(seen.calls, 0u);
  EXPECT_LE(seen.last_done, seen.last_total);
  for (std::size_t k = 0; k < 3; ++k) {
    const api::EstimateConfig one = api::replicate_config(c, k, 3);  // seed 11 + k, 17 / 17 / 16 chains
    EXPECT_EQ(one.seed, 11 + k);
    EXPECT_EQ(api::mrf_estimate(model, one, nullptr, Exec(1)).log_weights, r.runs[k].log_weights);
    EXPECT_EQ(r3.runs[k].log_weights, r.runs[k].log_weights);
  }
  EXPECT_EQ(r3.combined.log_z, r.combined.log_z);
  // Pooled on the Z scale: log mean exp of the runs' log Z.
  const double l0 = r.runs[0].log_z, l1 = r.runs[1].log_z, l2 = r.runs[2].log_z;
  const double mx = std::max({l0, l1, l2});
  EXPECT_NEAR(r.combined.log_z, mx + std::log((std::exp(l0 - mx) + std::exp(l1 - mx) + std::exp(l2 - mx)) / 3), 1e-12);
  EXPECT_TRUE(r.warning.empty()) << r.warning;
  EXPECT_TRUE(std::isfinite(r.rhat));
  // The truth lies within the pooled interval (z = 4.42: false-failure rate 1e-5).
  EXPECT_NEAR(r.combined.log_z, ising_enumeration_log_z(m, Exec(1)), 4.42 * r.combined.std_error);
}

TEST(EstimateFacade, RunsThatDisagreeBeyondTheirErrorBarsAreFlagged) {
  auto run = [](double log_z, double se) {
    LogZEstimate e;
    e.method = "raise";
    e.log_z = log_z;
    e.std_error = se;
    return e;
  };
  // Spread 1 with SEs 0.01: Q ≈ 2e4 on 2 degrees of freedom.
  const api::ReplicatedEstimate bad = api::combine_replicates({run(10, 0.01), run(11, 0.01), run(12, 0.01)});
  EXPECT_LT(bad.p_value, 1e-10);
  EXPECT_NE(bad.warning.find("disagree beyond their own error bars"), std::string::npos);
  EXPECT_DOUBLE_EQ(bad.combined.log_z, 11.0);
  EXPECT_DOUBLE_EQ(bad.combined.std_error, 1.0 / std::sqrt(3.0));
  ASSERT_FALSE(bad.combined.reliable);
  EXPECT_EQ(bad.combined.warnings.front().name, "replicates_disagree");
  // Q = 2·(0.01/0.01)² = 2 on 2 degrees of freedom: p = e^{-1} ≈ 0.37 (Wilson–Hilferty within 0.01).
  const api::ReplicatedEstimate good = api::combine_replicates({run(10.99, 0.01), run(11, 0.01), run(11.01, 0.01)});
  EXPECT_NEAR(good.p_value, std::exp(-1.0), 0.01);
  EXPECT_TRUE(good.warning.empty());
  EXPECT_TRUE(good.combined.reliable);
  // Their spread (sd 0.01 / √3) is narrower than their own error bars pooled (0.01 / √3 ·
  // √3 / √3 = 0.0058 vs 0.0058): the wider of the two is the error bar.
  EXPECT_GE(good.combined.std_error, std::sqrt(3 * 0.01 * 0.01) / 3 - 1e-15);
}

TEST(Stream, WordIsTheSeekPosition) {
  Stream a = Stream::root(4);
  EXPECT_EQ(a.word(), 0u);
  for (int k = 0; k < 7; ++k) a.next_u32();
  EXPECT_EQ(a.word(), 7u);
  Stream b = Stream::root(4);
  b.seek(a.word());
  EXPECT_EQ(a.next_u32(), b.next_u32());
  float f[70];
  a.fill_uniform(f, 70);
  EXPECT_EQ(a.word(), 78u);
}

}  // namespace
}  // namespace logz
