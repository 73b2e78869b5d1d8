// AIS and RAISE on the RBM path against exact log Z. Every tolerance is z·SE with z for
// the false-failure rate written next to it; the log-scale SE of AIS is a delta-method
// (asymptotic) one, so the runs use enough chains and betas that the importance
// weights are nearly equal (ESS > 10% of chains is asserted first).
#include "logz/estimators/rbm_ais.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "logz/core/math.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

// Two-sided false-failure rate 1e-4: z = 3.8906.
const double kZ2 = test::normal_two_sided_z(1e-4);
// One-sided false-failure rate 1e-4: z = 3.7190.
const double kZ1 = test::normal_upper_quantile(1e-4);

struct Tiny {
  RbmF model;
  VectorF base;
  double exact;
};

/// A random tiny RBM in float, random base-rate biases, exact log Z of the float
/// parameters themselves.
Tiny tiny(std::uint64_t seed, std::size_t nv, std::size_t nh, double w_scale) {
  Tiny t;
  t.model = test::random_rbm(seed, nv, nh, w_scale, 1.0).cast<float>();
  Stream rng = Stream::derive(seed, Purpose::user, 1);
  t.base = VectorF(Eigen::Index(nv));
  for (Eigen::Index i = 0; i < t.base.size(); ++i) t.base[i] = float(0.5 * rng.normal());
  t.exact = rbm_exact_log_z(t.model.cast<double>(), Exec(2)).log_z;
  return t;
}

void check_result_fields(const LogZEstimate& e, const char* method, std::size_t n, const RbmF& m, const VectorF& base) {
  EXPECT_EQ(e.method, method);
  EXPECT_FALSE(e.error_method.empty());
  EXPECT_EQ(e.log_weights.size(), n);
  EXPECT_EQ(e.num_samples, n);
  EXPECT_DOUBLE_EQ(e.log_z_base, RbmPath<float>(m, base).log_z_base());
  EXPECT_TRUE(std::isfinite(e.log_z));
  EXPECT_TRUE(std::isfinite(e.std_error));
  EXPECT_GT(e.std_error, 0);
  EXPECT_GE(e.seconds, 0);
}

TEST(RbmAis, TinyModelsAgreeWithExact) {
  struct Case {
    std::size_t nv, nh;
    double w;
  };
  const std::size_t chains = 500;
  const Schedule schedule = Schedule::linear(2000);
  std::uint64_t seed = 1;
  for (const Case c : {Case{6, 4, 1.0}, Case{8, 5, 2.0}, Case{10, 3, 1.5}, Case{4, 9, 1.0}}) {
    const Tiny t = tiny(seed, c.nv, c.nh, c.w);
    const LogZEstimate e = rbm_ais(t.model, t.base, schedule, {chains, seed}, Exec(2));
    ++seed;
    check_result_fields(e, "ais", chains, t.model, t.base);
    ASSERT_GT(e.ess, 0.1 * chains);
    // log Z = log Z_0 + log mean exp(log w).
    EXPECT_NEAR(e.log_z, e.log_z_base + log_mean_exp(e.log_weights), 1e-12 * std::fabs(e.log_z));
    // Two-sided false-failure rate 1e-4.
    EXPECT_LE(std::fabs(e.log_z - t.exact), kZ2 * e.std_error)
        << c.nv << "x" << c.nh << ": ais " << e.log_z << " exact " << t.exact << " se " << e.std_error;
    // The reported interval is log_z ± 1.96 SE.
    const auto [lo, hi] = e.interval(0.95);
    EXPECT_NEAR(hi - e.log_z, 1.959963984540054 * e.std_error, 1e-12);
    EXPECT_NEAR(e.log_z - lo, 1.959963984540054 * e.std_error, 1e-12);
  }
}

TEST(RbmAis, WideModelAgreesWithExact) {
  // 784 visible x 20 hidden, weights 0.1·N(0,1): hidden pre-activations of sd ~2, so
  // the weights are far from equal (ESS ~80% with 1000 betas) but AIS is accurate.
  const Tiny t = tiny(77, 784, 20, 0.1);
  const std::size_t chains = 200;
  const LogZEstimate e = rbm_ais(t.model, t.base, Schedule::linear(1000), {chains, 3}, Exec(2));
  check_result_fields(e, "ais", chains, t.model, t.base);
  ASSERT_GT(e.ess, 0.1 * chains);
  ASSERT_LT(e.ess, 0.999 * chains);  // non-trivial: the weights do vary
  // Two-sided false-failure rate 1e-4.
  EXPECT_LE(std::fabs(e.log_z - t.exact), kZ2 * e.std_error) << "ais " << e.log_z << " exact " << t.exact << " se " << e.std_error;
}

TEST(RbmRaise, FromExactSamplesAgreesWithExact) {
  // RAISE from exact draws of the model: E[implied log Z] = log Z + KL(p || q) + (Jensen
  // gap of each chain's log q̂) >= log Z. The Jensen gap is ½ Var(r) to second order, and
  // KL(p || q) is of the same order in the per-step mismatch, so the upper tolerance
  // adds Var(r) (twice the second-order gap) to z·SE. One-sided rates 1e-4 each way.
  const std::size_t n = 500;
  const Schedule schedule = Schedule::linear(2000);
  std::uint64_t seed = 10;
  for (auto [nv, nh, w] : {std::tuple{6u, 4u, 1.0}, std::tuple{8u, 5u, 2.0}, std::tuple{3u, 10u, 1.0}}) {
    const Tiny t = tiny(seed, nv, nh, w);
    Stream rng = Stream::derive(seed, Purpose::data, 0);
    const MatrixU8 start = test::exact_samples(test::exact_visible_distribution(t.model), nv, n, rng);
    const LogZEstimate r = rbm_raise(t.model, t.base, schedule, start, seed, Exec(2));
    ++seed;
    check_result_fields(r, "raise", n, t.model, t.base);
    MeanVar mv;
    for (double x : r.log_weights) mv.add(x);
    EXPECT_NEAR(r.log_z, r.log_z_base - mv.mean, 1e-12 * std::fabs(r.log_z));
    EXPECT_NEAR(r.std_error, mv.std_error(), 1e-15);
    EXPECT_GE(r.log_z, t.exact - kZ1 * r.std_error) << nv << "x" << nh;
    EXPECT_LE(r.log_z, t.exact + kZ1 * r.std_error + mv.variance()) << nv << "x" << nh;
  }
}

TEST(RbmRaise, ShortScheduleSandwichesExact) {
  // With 30 betas the annealing is poor: AIS is a stochastic lower bound and RAISE an
  // upper bound, and the gap is visible. Over 5 seeds: AIS <= exact + z·SE and RAISE >=
  // exact - z·SE one-sided (1e-4 each), and the mean of RAISE - AIS is positive; its
  // expected value is about ½ Var(r) ≈ 0.1 here, some 8 standard errors of the mean
  // difference, so that check fails falsely with probability < 1e-12.
  const Tiny t = tiny(20, 8, 5, 2.0);
  const Schedule schedule = Schedule::linear(30);
  const std::size_t n = 500;
  double sum_gap = 0;
  const int seeds = 5;
  for (int s = 0; s < seeds; ++s) {
    const LogZEstimate a = rbm_ais(t.model, t.base, schedule, {n, std::uint64_t(100 + s)}, Exec(2));
    Stream rng = Stream::derive(200 + s, Purpose::data, 0);
    const MatrixU8 start = test::exact_samples(test::exact_visible_distribution(t.model), 8, n, rng);
    const LogZEstimate r = rbm_raise(t.model, t.base, schedule, start, 300 + s, Exec(2));
    ASSERT_GT(a.ess, 0.1 * n);
    EXPECT_LE(a.log_z, t.exact + kZ1 * a.std_error) << "seed " << s;
    EXPECT_GE(r.log_z, t.exact - kZ1 * r.std_error) << "seed " << s;
    sum_gap += r.log_z - a.log_z;
  }
  EXPECT_GT(sum_gap / seeds, 0.0);
}

TEST(RbmAis, ArgumentErrors) {
  const Tiny t = tiny(30, 4, 3, 1.0);
  const Schedule s = Schedule::linear(10);
  try {
    rbm_ais(t.model, t.base, s, {0, 1}, Exec(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rbm_ais: chains must be >= 1, got 0");
    EXPECT_EQ(e.code(), Exit::usage);
  }
  try {
    rbm_ais(t.model, VectorF::Zero(5), s, {10, 1}, Exec(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "RbmPath: base visible biases have 5 entries, the model has 4 visible units");
  }
  try {
    rbm_raise(t.model, t.base, s, MatrixU8::Zero(3, 5), 1, Exec(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rbm_raise: start data has 5 columns, the model has 4 visible units");
    EXPECT_EQ(e.code(), Exit::usage);
  }
  try {
    rbm_raise(t.model, t.base, s, MatrixU8::Zero(0, 4), 1, Exec(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rbm_raise: needs at least one start vector, got 0");
  }
  RbmF bad = t.model;
  bad.hidden_bias[1] = std::nanf("");
  try {
    rbm_ais(bad, t.base, s, {10, 1}, Exec(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rbm_ais: hidden_bias has a non-finite value nan at flat index 1");
    EXPECT_EQ(e.code(), Exit::data);
  }
  // A single chain: an estimate without an error bar, and the reason.
  const LogZEstimate one = rbm_ais(t.model, t.base, s, {1, 1}, Exec(1));
  EXPECT_TRUE(std::isnan(one.std_error));
  EXPECT_EQ(one.error_method, "none: a single chain gives no error estimate");
}

TEST(LogZEstimate, WeightSummaryAndQuantile) {
  EXPECT_NEAR(normal_two_sided_quantile(0.95), 1.959963984540054, 1e-13);
  EXPECT_NEAR(normal_two_sided_quantile(1 - 1e-4), 3.89059188641312, 1e-12);
  const std::vector<double> lw = {-1.0, 0.5, 2.0, 700.0, 699.0};
  const WeightSummary s = summarize_log_weights(lw);
  long double sw = 0, sw2 = 0;
  for (double x : lw) {
    sw += std::exp((long double)x - 700);
    sw2 += std::exp(2 * ((long double)x - 700));
  }
  EXPECT_NEAR(s.log_mean, double(700 + std::log(sw / 5)), 1e-12);
  EXPECT_NEAR(s.ess, double(sw * sw / sw2), 1e-12);
  const long double mean = sw / 5, var = (sw2 - sw * sw / 5) / 4;
  EXPECT_NEAR(s.std_error, double(std::sqrt(var / 5) / mean), 1e-12);
  EXPECT_TRUE(std::isnan(summarize_log_weights(std::vector<double>{1.0}).std_error));
}

TEST(LogZEstimate, BytesRoundTripEveryFieldBitForBit) {
  LogZEstimate e;
  e.method = "bridge";
  e.log_z = -1234.5678901234567, e.std_error = std::numeric_limits<double>::quiet_NaN();
  e.error_method = "sd over runs", e.ess = 17.25, e.dof = 3, e.num_samples = 99, e.log_z_base = -0.0;
  e.log_weights = {1e-300, -std::numeric_limits<double>::infinity(), 3.5};
  StepDiagnostics d;
  d.beta = 0.5, d.ess = 3, d.resampled = true, d.rhat = 1.01, d.unique_ancestors = 7;
  e.steps = {d, StepDiagnostics{}};
  e.seconds = 2.5;
  e.warn({"low_ess", "ESS 3 < 10", "more chains"});
  e.warn({"rhat", "", "é ✓"});
  const std::string bytes = to_bytes(e);
  const LogZEstimate r = estimate_from_bytes(bytes);
  EXPECT_EQ(to_bytes(r), bytes);  // every field, NaN and -0.0 included, bit for bit
  EXPECT_EQ(r.method, "bridge");
  EXPECT_EQ(r.log_z, e.log_z);
  EXPECT_TRUE(std::isnan(r.std_error));
  EXPECT_TRUE(std::signbit(r.log_z_base));
  EXPECT_EQ(r.log_weights, e.log_weights);
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_TRUE(r.steps[0].resampled);
  EXPECT_EQ(r.steps[0].unique_ancestors, 7);
  EXPECT_FALSE(r.reliable);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[1].advice, "é ✓");
  // Bytes cut short or with bytes left over are refused, not read past their end.
  for (std::size_t cut : {std::size_t(0), std::size_t(5), bytes.size() / 2, bytes.size() - 1})
    EXPECT_THROW(estimate_from_bytes(std::string_view(bytes).substr(0, cut)), std::logic_error) << cut;
  EXPECT_THROW(estimate_from_bytes(bytes + "x"), std::logic_error);
}

}  // namespace
}  // namespace logz
