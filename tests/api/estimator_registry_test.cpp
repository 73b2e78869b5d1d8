// The estimator registry: one declaration per method, everything derived from it —
// names, options (shared ones declared alike), validation through ConfigError naming the
// field, JSON of a config, dispatch on a path — and the random streams of the methods
// distinct from each other and from the library's shared purposes.
#include <gtest/gtest.h>

#include <set>

#include "logz/api/estimate.hpp"
#include "logz/api/estimator_registry.hpp"
#include "logz/api/mrf_tasks.hpp"
#include "logz/models/ising.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

TEST(EstimatorRegistry, ListsEveryMethodOnceInHelpOrder) {
  std::vector<std::string> names;
  for (const api::EstimatorInfo& e : api::estimators()) {
    names.push_back(e.name);
    EXPECT_FALSE(e.summary.empty()) << e.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"is", "ais", "raise", "smc", "bridge", "ti", "lis"}));
  EXPECT_EQ(api::estimator_names(), "is, ais, raise, smc, bridge, ti, lis");
  ASSERT_NE(api::find_estimator("smc"), nullptr);
  EXPECT_EQ(api::find_estimator("nope"), nullptr);
  // Unbiased on the Z scale: the ones whose replicates pool by log-mean-exp.
  for (const char* m : {"is", "ais", "smc", "lis"}) EXPECT_TRUE(api::find_estimator(m)->unbiased_z) << m;
  for (const char* m : {"raise", "bridge", "ti"}) EXPECT_FALSE(api::find_estimator(m)->unbiased_z) << m;
  EXPECT_TRUE(api::find_estimator("raise")->needs_start);
}

TEST(EstimatorRegistry, SharedOptionsAreDeclaredAlike) {
  for (const api::MethodOption& o : api::method_options()) {
    for (const api::EstimatorInfo& e : api::estimators())
      for (const OptionField& f : e.options)
        if (f.name == o.field.name) {
          EXPECT_EQ(f.type, o.field.type) << f.name;
          EXPECT_EQ(f.default_value, o.field.default_value) << f.name;
          EXPECT_EQ(f.range(), o.field.range()) << f.name;
        }
  }
  // No method option shadows a field every method has.
  for (const OptionField& c : api::common_estimate_fields())
    for (const api::MethodOption& o : api::method_options()) EXPECT_NE(c.name, o.field.name);
  const auto& ladder = api::method_options();
  const auto burn_in = std::find_if(ladder.begin(), ladder.end(), [](const auto& o) { return o.field.name == "burn_in"; });
  ASSERT_NE(burn_in, ladder.end());
  EXPECT_EQ(burn_in->methods, (std::vector<std::string>{"bridge", "ti"}));
}

TEST(EstimatorRegistry, StreamsAreDistinct) {
  std::set<std::uint32_t> ids;
  for (Purpose p : {Purpose::init, Purpose::shuffle, Purpose::gibbs, Purpose::chains, Purpose::monitor,
                    Purpose::sample, Purpose::replicate, Purpose::data, Purpose::noise, Purpose::user})
    EXPECT_TRUE(ids.insert(p.id).second) << p.id;
  std::set<std::uint32_t> method_ids;
  for (const api::EstimatorInfo& e : api::estimators())
    for (Purpose p : e.streams) {
      EXPECT_EQ(ids.count(p.id), 0u) << e.name << " uses a shared purpose " << p.id;
      method_ids.insert(p.id);
    }
  // bridge and ti share the ladder's streams (chains, swaps); is shares AIS's (it is AIS
  // with one step).
  EXPECT_EQ(method_ids, (std::set<std::uint32_t>{5, 6, 12, 13, 14, 15, 17}));
}

TEST(EstimatorRegistry, ValidateNamesTheField) {
  api::EstimateConfig c;
  c.options.set("samples", std::int64_t{2});
  try {
    c.validate();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "estimate: samples must be at least 4, got 2");
    EXPECT_EQ(e.render([](std::string_view f) { return "--" + std::string(f); }), "estimate: --samples must be at least 4, got 2");
    EXPECT_EQ(e.code(), Exit::usage);
  }
  c = {};
  c.options.set("quadrature", std::string("gauss"));
  test::expect_error([&] { c.validate("eval"); }, Exit::usage, "eval: quadrature must be trapezoid or simpson, got 'gauss'");
  c = {};
  c.options.set("ess_threshold", 1.5);
  test::expect_error([&] { c.validate(); }, Exit::usage, "estimate: ess_threshold must be in [0, 1], got 1.5");
  c = {};
  c.betas = 2;
  test::expect_error([&] { c.validate(); }, Exit::usage, "estimate: betas must be at least 3 with schedule sm, got 2");
  c = {};
  c.method = "mcmc";
  test::expect_error([&] { c.validate(); }, Exit::usage,
                     "estimate: method must be exact or one of is, ais, raise, smc, bridge, ti, lis, got 'mcmc'");
}

TEST(EstimatorRegistry, FieldsByNameAndJson) {
  api::EstimateConfig c;
  api::set_field(c, "method", std::string("ti"));
  api::set_field(c, "chains", std::int64_t{8});
  api::set_field(c, "quadrature", std::string("simpson"));
  EXPECT_EQ(c.chains, 8u);
  EXPECT_EQ(c.options.text("quadrature"), "simpson");
  EXPECT_EQ(std::get<std::int64_t>(api::get_field(c, "burn_in")), 10);
  const nlohmann::json j = api::to_json(c);
  EXPECT_EQ(j["method"], "ti");
  EXPECT_EQ(j["quadrature"], "simpson");
  EXPECT_EQ(j["samples"], 50);
  EXPECT_FALSE(j.contains("runs"));  // smc's, not ti's
  EXPECT_THROW(api::set_field(c, "no_such_field", std::int64_t{1}), std::logic_error);
}

TEST(EstimatorRegistry, DispatchRunsTheNamedMethod) {
  const Ising model = Ising::lattice_2d(3, 3, 0.3, 0.1, Boundary::periodic, Boundary::periodic);
  const Exec ex(1);
  for (const api::EstimatorInfo& e : api::estimators()) {
    if (e.needs_start) continue;
    api::EstimateConfig c;
    c.method = e.name;
    c.chains = 8;
    c.betas = 10;
    c.schedule = "linear";
    const LogZEstimate r = api::mrf_estimate(model, c, nullptr, ex);
    EXPECT_EQ(r.method, e.name);
    EXPECT_TRUE(std::isfinite(r.log_z)) << e.name;
  }
}

}  // namespace
}  // namespace logz
