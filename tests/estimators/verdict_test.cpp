// The verdict on an estimate (estimators/verdict.hpp): each check fires on the evidence it
// names and stays quiet without it; replicates share the budget; the reported error bar is
// the wider of the runs' spread and their own error bars; an RBM without data gets a base
// fitted to its own samples and a reverse check, and the verdict catches an AIS run that
// is far off on a sharp model.
#include <gtest/gtest.h>

#include <cmath>

#include "logz/api/estimate.hpp"
#include "logz/api/tasks.hpp"
#include "logz/estimators/verdict.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

bool has_warning(const LogZEstimate& e, const std::string& name) {
  for (const EstimateWarning& w : e.warnings)
    if (w.name == name) return true;
  return false;
}

LogZEstimate estimate_of(std::string method, double log_z, double se) {
  LogZEstimate e;
  e.method = std::move(method);
  e.log_z = log_z;
  e.std_error = se;
  return e;
}

TEST(Verdict, WarnMakesAnEstimateUnreliableOncePerName) {
  LogZEstimate e = estimate_of("ais", 1, 0.1);
  EXPECT_TRUE(e.reliable);
  e.warn({"low_ess", "first", "a"});
  e.warn({"low_ess", "second", "b"});
  EXPECT_FALSE(e.reliable);
  ASSERT_EQ(e.warnings.size(), 1u);
  EXPECT_EQ(e.warnings[0].message, "second");
}

TEST(Verdict, NoErrorBarIsNotReliable) {
  LogZEstimate e = estimate_of("ais", 1, std::numeric_limits<double>::quiet_NaN());
  verdict::assess_run(e);
  EXPECT_TRUE(has_warning(e, "no_error_bar"));
  LogZEstimate exact = estimate_of("exact", 1, 0);
  verdict::assess_run(exact);
  EXPECT_TRUE(exact.reliable);
}

TEST(Verdict, NonFiniteEstimateSaysSoNotThatItLacksAnErrorBar) {
  // Energies past a double's range (couplings near 1e308) make log Z itself NaN or inf.
  for (double log_z : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    LogZEstimate e = estimate_of("ais", log_z, std::numeric_limits<double>::quiet_NaN());
    verdict::assess_run(e);
    EXPECT_FALSE(e.reliable);
    EXPECT_TRUE(has_warning(e, "not_finite"));
    EXPECT_FALSE(has_warning(e, "no_error_bar"));
  }
}

TEST(Verdict, EssThresholdFollowsTheRunSize) {
  EXPECT_DOUBLE_EQ(verdict::ess_fraction_threshold(25), 0.5);
  EXPECT_DOUBLE_EQ(verdict::ess_fraction_threshold(100), 0.3);
  EXPECT_DOUBLE_EQ(verdict::ess_fraction_threshold(900), 0.1);
  // Four runs of 100 weights: pooled ESS 119 of 400 (29.75% < 30%) is flagged, 121 is not.
  auto runs_with = [](double ess) {
    std::vector<LogZEstimate> runs(4, estimate_of("ais", 0, 0.1));
    for (LogZEstimate& r : runs) r.ess = ess / 4, r.log_weights.assign(100, 0.0);
    return runs;
  };
  LogZEstimate low = estimate_of("ais", 0, 0.1), ok = low;
  verdict::assess_weights(low, runs_with(119));
  verdict::assess_weights(ok, runs_with(121));
  EXPECT_TRUE(has_warning(low, "low_ess"));
  EXPECT_TRUE(ok.reliable);
  // One run of 100 weights (lis: 100 independent runs' ratio estimates) at a given ESS.
  const auto assessed = [](const std::string& method, double ess) {
    std::vector<LogZEstimate> one(1, estimate_of(method, 0, 0.2));
    one[0].ess = ess;
    one[0].log_weights.assign(100, 0.0);
    LogZEstimate e = estimate_of(method, 0, 0.2);
    verdict::assess_weights(e, one);
    return e;
  };
  // lis at ESS 16 (the 32×32 critical lattice).
  const LogZEstimate lis = assessed("lis", 16);
  ASSERT_TRUE(has_warning(lis, "low_ess"));
  EXPECT_NE(lis.warnings[0].advice.find("--chains"), std::string::npos);
  // ESS 33 of 100: above AIS's 3/sqrt(100) = 30%, below the 50% that LIS's heavier-tailed
  // ratios need (the critical 24x24 lattice: such a run was 4.9 SE low).
  EXPECT_TRUE(has_warning(assessed("lis", 33), "low_ess"));
  EXPECT_FALSE(has_warning(assessed("ais", 33), "low_ess"));
}

TEST(Verdict, LadderChecksNameTheBeta) {
  LogZEstimate e = estimate_of("bridge", 0, 0.1);
  e.steps.resize(3);
  for (std::size_t k = 0; k < 3; ++k) e.steps[k].beta = 0.5 * double(k), e.steps[k].acceptance = 0.5;
  e.steps[1].rhat = 1.05;
  e.steps[2].rhat = 1.02;
  e.steps[1].swap_rate = 0.3;
  verdict::assess_run(e);
  EXPECT_TRUE(e.reliable);
  e.steps[2].rhat = 1.3;
  e.steps[1].swap_rate = 0.001;
  e.steps[2].acceptance = 0.0;
  verdict::assess_run(e);
  ASSERT_TRUE(has_warning(e, "rhat"));
  EXPECT_TRUE(has_warning(e, "swap_collapse"));
  EXPECT_TRUE(has_warning(e, "frozen_moves"));
  EXPECT_NE(e.warnings[0].message.find("beta = 1"), std::string::npos) << e.warnings[0].message;
  // The same evidence on AIS: the ladder checks do not apply.
  LogZEstimate a = e;
  a.method = "ais";
  a.warnings.clear();
  a.reliable = true;
  verdict::assess_run(a);
  EXPECT_TRUE(a.reliable);
}

TEST(Verdict, RaiseWithWidelySpreadReverseWeightsIsALooseBound) {
  LogZEstimate e = estimate_of("raise", 0, 0.1);
  e.log_weights = {-1, 1, -1, 1};  // variance 4/3: gap 0.67 > 2 · 0.1
  verdict::assess_run(e);
  EXPECT_TRUE(has_warning(e, "loose_bound"));
  LogZEstimate tight = estimate_of("raise", 0, 0.1);
  tight.log_weights = {-0.1, 0.1, -0.1, 0.1};  // gap 0.0067
  verdict::assess_run(tight);
  EXPECT_TRUE(tight.reliable);
}

TEST(Verdict, SmcWeightCollapse) {
  LogZEstimate e = estimate_of("smc", 0, 0.1);
  e.num_samples = 1000;                 // 10 runs of 100 particles
  e.log_weights.assign(10, 0.0);
  e.steps.resize(2);
  e.steps[0].ess = 80;
  e.steps[1].ess = 2.5;
  verdict::assess_run(e);
  EXPECT_TRUE(e.reliable);
  e.steps[1].ess = 1.5;
  verdict::assess_run(e);
  EXPECT_TRUE(has_warning(e, "weight_collapse"));
}

TEST(Verdict, ForwardAgainstReverse) {
  LogZEstimate ok = estimate_of("ais", 10.0, 0.1);
  verdict::assess_sandwich(ok, estimate_of("raise", 10.3, 0.1));  // 0.3 < 4 · 0.14
  EXPECT_TRUE(ok.reliable);
  LogZEstimate gap = estimate_of("ais", 10.0, 0.1);
  verdict::assess_sandwich(gap, estimate_of("raise", 12.0, 0.1));
  ASSERT_TRUE(has_warning(gap, "sandwich"));
  EXPECT_NE(gap.warnings[0].message.find("between them"), std::string::npos);
  LogZEstimate above = estimate_of("ais", 12.0, 0.1);
  verdict::assess_sandwich(above, estimate_of("raise", 10.0, 0.1));
  ASSERT_TRUE(has_warning(above, "sandwich"));
  EXPECT_NE(above.warnings[0].message.find("lower bound above an upper bound"), std::string::npos);
}

TEST(Verdict, ASecondBaseFarAboveMeansMissedMass) {
  LogZEstimate e = estimate_of("ais", 100.0, 0.05);
  verdict::assess_second_base(e, estimate_of("ais", 99.0, 1.0), "the uniform base");  // below: no evidence
  verdict::assess_second_base(e, estimate_of("ais", 103.0, 1.0), "the uniform base");  // 3 < 4 · 1.001
  EXPECT_TRUE(e.reliable);
  verdict::assess_second_base(e, estimate_of("ais", 113.0, 1.0), "the uniform base");
  ASSERT_TRUE(has_warning(e, "missed_mass"));
  EXPECT_NE(e.warnings[0].message.find("uniform base"), std::string::npos);
}

TEST(Verdict, BelowACertainLowerBound) {
  LogZEstimate e = estimate_of("ais", 100.0, 0.05);
  verdict::assess_lower_bound(e, 100.12, "a test bound");  // 0.12 < 2.5 · 0.05
  verdict::assess_lower_bound(e, 90.0, "a test bound");    // far below: no evidence
  EXPECT_TRUE(e.reliable);
  verdict::assess_lower_bound(e, 100.13, "a test bound");  // 0.13 > 2.5 · 0.05
  ASSERT_TRUE(has_warning(e, "below_bound"));
  EXPECT_NE(e.warnings[0].message.find("a test bound"), std::string::npos);
  LogZEstimate exact = estimate_of("exact", 1.0, 0.0);
  verdict::assess_lower_bound(exact, 1.0 + 1e-12, "rounding");
  EXPECT_TRUE(exact.reliable);
}

TEST(Replicates, ShareTheBudgetByDefault) {
  api::EstimateConfig c;
  c.method = "ais";
  c.chains = 10;
  EXPECT_EQ(api::replicate_count(c), 4u);  // automatic
  EXPECT_EQ(api::replicate_config(c, 0, 4).chains, 3u);
  EXPECT_EQ(api::replicate_config(c, 1, 4).chains, 3u);
  EXPECT_EQ(api::replicate_config(c, 2, 4).chains, 2u);
  EXPECT_EQ(api::replicate_config(c, 3, 4).seed, c.seed + 3);
  c.chains = 2;
  EXPECT_EQ(api::replicate_count(c), 2u);  // never more runs than chains
  c.method = "smc";
  c.chains = 100;
  EXPECT_EQ(api::replicate_count(c), 1u);  // its runs already are replicates
  for (const char* ladder : {"bridge", "ti"}) {
    api::EstimateConfig l = c;
    l.method = ladder;
    l.chains = 8;
    EXPECT_EQ(api::replicate_count(l), 1u) << ladder;  // its chains already are
  }
  c.replicates = 4;
  EXPECT_EQ(api::replicate_count(c), 4u);
  EXPECT_EQ(api::replicate_config(c, 0, 4).options.count("runs"), 5);  // 20 runs shared
  EXPECT_EQ(api::replicate_config(c, 0, 4).chains, 100u);                // particles per run kept
}

TEST(Replicates, TheErrorBarIsTheWiderOfSpreadAndOwnErrorBars) {
  // Four runs that agree to 1e-3 with own SEs 0.1: the spread alone would claim 5e-4.
  std::vector<LogZEstimate> runs;
  for (double d : {0.0, 1e-3, -1e-3, 0.0}) runs.push_back(estimate_of("bridge", 5 + d, 0.1));
  const api::ReplicatedEstimate r = api::combine_replicates(runs);
  EXPECT_NEAR(r.combined.std_error, 0.05, 1e-12);  // √(4 · 0.01) / 4
  EXPECT_TRUE(std::isinf(r.combined.dof));
  EXPECT_TRUE(r.combined.reliable);
}

// A 12-visible RBM with strong weights (the sharpened models users bring): AIS from a
// uniform base with few betas is many nats off; the verdict must not call that reliable.
TEST(Verdict, SharpRbmFromAUniformBaseIsFlaggedNotTrusted) {
  const RbmD sharp = test::random_rbm(21, 12, 6, 3.0, 1.0);
  const Exec ex(1);
  const double exact = rbm_exact_log_z(sharp, ex).log_z;
  io::ModelFile f{sharp};
  f.data_marginals = VectorD::Constant(12, 0.5);  // forces the uniform base
  api::EstimateConfig c;
  c.method = "ais";
  c.chains = 40;
  c.betas = 20;
  c.schedule = "linear";
  std::size_t far_trusted = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    c.seed = seed;
    const LogZEstimate e = api::estimate_log_z(f, c, {}, ex).estimate.combined;
    if (std::abs(e.log_z - exact) > 4 * e.std_error && e.reliable) ++far_trusted;
  }
  // |error| > 4 SE on a reliable run: at most one in ten by chance would need a 6e-5 event.
  EXPECT_EQ(far_trusted, 0u);
}

// The same sharp model without data marginals: the mode search bounds log Z from below
// with certainty, the base comes from chains started in the modes, and the runs are
// within their error bars or flagged.
TEST(Verdict, SharpRbmWithoutDataIsBoundedByItsModes) {
  const RbmD sharp = test::random_rbm(21, 12, 6, 3.0, 1.0);
  const Exec ex(1);
  const double exact = rbm_exact_log_z(sharp, ex).log_z;
  const io::ModelFile f{sharp};
  api::EstimateConfig c;
  c.method = "ais";
  c.chains = 40;
  c.betas = 200;
  std::size_t far_trusted = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    c.seed = seed;
    const api::LogZResult r = api::estimate_log_z(f, c, {}, ex);
    const double bound = r.details["mode_bound"]["log_lower_bound"].get<double>();
    EXPECT_LE(bound, exact + 1e-9);
    EXPECT_EQ(r.details["base_samples"]["start"], "modes");
    const LogZEstimate& e = r.estimate.combined;
    if (std::abs(e.log_z - exact) > 4 * e.std_error && e.reliable) ++far_trusted;
    if (e.log_z + verdict::bound_ses * e.std_error < bound) EXPECT_TRUE(has_warning(e, "below_bound"));
  }
  EXPECT_EQ(far_trusted, 0u);  // as above: 5 runs, 6e-5 each
}

TEST(Verdict, RbmWithoutDataGetsABaseFromItsOwnSamplesAndAReverseCheck) {
  const RbmD m = test::random_rbm(5, 10, 4, 1.0, 0.5);
  const io::ModelFile f{m};
  api::EstimateConfig c;
  c.method = "ais";
  c.chains = 40;
  c.betas = 400;
  const api::LogZResult r = api::estimate_log_z(f, c, {}, Exec(1));
  EXPECT_EQ(r.details["base"], "modes");
  ASSERT_TRUE(r.details.contains("reverse_check"));
  EXPECT_EQ(r.details["base_check"]["base"], "uniform");
  EXPECT_EQ(r.details["reverse_check"]["chains"], 10);
  const double exact = rbm_exact_log_z(m, Exec(1)).log_z;
  // 4.42 SE: false-failure rate 1e-5.
  EXPECT_NEAR(r.estimate.combined.log_z, exact, 4.42 * r.estimate.combined.std_error);
  EXPECT_NEAR(r.details["reverse_check"]["log_z"].get<double>(), exact,
              4.42 * r.details["reverse_check"]["std_error"].get<double>() + 0.05);
  EXPECT_TRUE(r.estimate.combined.reliable) << r.estimate.combined.warnings.front().message;
}

}  // namespace
}  // namespace logz
