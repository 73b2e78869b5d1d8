#pragma once
/// @file estimator_checks.hpp
/// Checks shared by the estimator-suite tests: an estimate against an exact value within
/// z·SE of its own error bar (z = 4.42: two-sided false-failure rate 1e-5 per check under
/// the normal approximation), with the SE bounded so that a useless error bar cannot pass.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "logz/api/estimate.hpp"

namespace logz::test {

constexpr double kSuiteZ = 4.42;

inline void expect_agrees(const LogZEstimate& e, double exact, double max_se, const std::string& what) {
  EXPECT_LT(e.std_error, max_se) << what << ": error bar too wide to test anything";
  EXPECT_LE(std::fabs(e.log_z - exact), kSuiteZ * e.std_error)
      << what << ": " << e.method << " " << e.log_z << " ± " << e.std_error << " (" << e.error_method << "), exact "
      << exact;
  ::testing::Test::RecordProperty(what + " " + e.method, std::to_string(e.log_z - exact) + " +- " +
                                                            std::to_string(e.std_error) + " in " +
                                                            std::to_string(e.seconds) + " s");
}

/// One method's settings on one model.
struct Setting {
  std::string method;
  std::size_t chains, betas;
  std::string schedule;
  std::size_t samples = 50;
};

inline api::EstimateConfig suite_config(const Setting& s, std::uint64_t seed) {
  api::EstimateConfig c;
  c.method = s.method;
  c.chains = s.chains;
  c.betas = s.betas;
  c.schedule = s.schedule;
  c.options.set("samples", std::int64_t(s.samples));
  c.options.set("runs", std::int64_t{10});
  c.seed = seed;
  return c;
}

}  // namespace logz::test
