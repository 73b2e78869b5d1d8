// The verdict on easy models, through the task API at its defaults (4 replicates sharing
// the budget; an RBM without data gets the mode search, a base from its own samples and the
// reverse and uniform-base checks): over 100 seeds per model and method, the 95% intervals
// cover the exact log Z at a rate consistent with 95%, and the verdict raises a flag in at
// most 5% of the seeds. Models: a random 3×3 Potts model (q = 3), a 4×4 Ising lattice, a
// 12×6 RBM; methods: is, ais, smc, bridge, ti, lis at modest budgets.
//
// Tests, per model × method (18 cells): coverage by a one-sided exact binomial test against
// 95% (false failure 1e-3 per cell), and the flag count by a one-sided binomial test against
// a flag rate of 5% (fails when P(Bin(100, 0.05) >= count) < 1e-3, i.e. 14 or more flags;
// false failure below 1e-3 per cell when the true rate is at most 5%). 18 cells: under 4%
// in all. IS from the uniform base is the exception, reported and not asserted: its low_ess
// check (ESS fraction < 3/sqrt(1000) per run) fires on the Potts model in nearly every seed
// and on the Ising lattice in about 40%, while the intervals still cover at 95%: the
// threshold is derived for log-normal weights with a margin (docs/error-bars.md), and IS's
// weights here sit at ESS 2-9%, where the derivation does not promise coverage.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "logz/api/tasks.hpp"
#include "logz/io/model_file.hpp"
#include "logz/models/ising.hpp"
#include "support/calibration.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

constexpr int kSeeds = 100;

/// Fewest flags that fail: P(Bin(n, 0.05) >= c) < alpha.
int flag_limit(int n, double alpha) {
  int c = 0;
  while (1.0 - test::binomial_cdf(c - 1, n, 0.05) >= alpha) ++c;
  return c;
}

struct Method {
  std::string name;
  std::size_t chains, betas;
};

void check_cells(const std::string& label, const io::ModelFile& file) {
  const Exec ex(2);
  const double exact = api::exact_log_z(file, ex).log_z;
  const Method methods[] = {{"is", 4000, 1},   {"ais", 100, 300}, {"smc", 100, 100},
                            {"bridge", 8, 30}, {"ti", 8, 100},    {"lis", 40, 50}};
  const int fail_coverage = test::binomial_critical(kSeeds, 0.95, 1e-3), fail_flags = flag_limit(kSeeds, 1e-3);
  for (const Method& m : methods) {
    api::EstimateConfig c;
    c.method = m.name;
    c.chains = m.chains;
    c.betas = m.betas;
    int flagged = 0;
    std::vector<std::string> names;
    const test::Coverage cov = test::coverage(exact, kSeeds, [&](int s) {
      c.seed = std::uint64_t(7000 + 10 * s);  // replicates use seed .. seed + R + 1
      const LogZEstimate e = api::estimate_log_z(file, c, {}, ex).estimate.combined;
      if (!e.reliable) {
        ++flagged;
        for (const EstimateWarning& w : e.warnings) names.push_back(w.name);
      }
      return e;
    });
    std::string first = names.empty() ? "-" : names.front();
    std::printf("%-6s %-6s covered %3d / %d (fails at <= %d), flagged %3d (fails at >= %d; first: %s), mean error %+.4f, mean SE %.4f\n",
                label.c_str(), m.name.c_str(), cov.covered, kSeeds, fail_coverage, flagged, fail_flags, first.c_str(),
                cov.mean_error, cov.mean_se);
    EXPECT_GT(cov.covered, fail_coverage) << label << " " << m.name;
    if (m.name != "is") EXPECT_LT(flagged, fail_flags) << label << " " << m.name << ": " << first;
  }
}

TEST(VerdictOnEasyModels, PottsIsingAndRbmCoverAndStayQuiet) {
  EXPECT_EQ(flag_limit(kSeeds, 1e-3), 14);
  check_cells("potts", io::ModelFile{test::randomise(test::lattice_potts(3, 3, 3), 11, 0.5)});
  check_cells("ising", io::ModelFile{Ising::lattice_2d(4, 4, 0.3, 0.05)});
  check_cells("rbm", io::ModelFile{test::random_rbm(12, 12, 6, 1.0, 0.5)});
}

}  // namespace
}  // namespace logz
