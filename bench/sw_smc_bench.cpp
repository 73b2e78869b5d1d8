// Swendsen–Wang against single-site Gibbs moves on the annealing path of a critical Ising
// lattice, for AIS and for SMC (plain, waste-free, adaptive moves): error to the exact value,
// the estimators' own SE and CPU seconds per estimate over 10 seeds, one thread. Models:
//  - 24×24 periodic, K = K_c, zero field (exact: Kaufman);
//  - 24×16, open, K = K_c, h = 0.05 (exact: transfer matrix), where
//    the fields make clusters heavier: sw against sw followed by a Gibbs sweep.
// Prints a Markdown table (bench/results/sw-smc.md). Usage: sw_smc_bench [seeds] [filter].
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "logz/estimators/ais.hpp"
#include "logz/estimators/smc.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/tempering/mrf_path.hpp"

namespace {

using namespace logz;

struct Row {
  std::string model, method, kernel;
  std::function<LogZEstimate(std::uint64_t seed)> run;
};

void report(const Row& row, double exact, std::size_t seeds) {
  double sum_err = 0, sum_sq = 0, sum_se = 0, cpu = 0, worst_z = 0;
  std::size_t within4 = 0;
  for (std::size_t s = 1; s <= seeds; ++s) {
    const std::clock_t t0 = std::clock();
    const LogZEstimate e = row.run(s);
    cpu += double(std::clock() - t0) / CLOCKS_PER_SEC;
    const double err = e.log_z - exact;
    sum_err += err, sum_sq += err * err, sum_se += e.std_error;
    const double z = std::abs(err) / e.std_error;
    worst_z = std::max(worst_z, z);
    within4 += z <= 4;
  }
  const double n = double(seeds);
  std::printf("| %s | %s | %s | %+.3f | %.3f | %.3f | %zu/%zu | %.1f | %.2f |\n", row.model.c_str(), row.method.c_str(),
              row.kernel.c_str(), sum_err / n, std::sqrt(sum_sq / n), sum_se / n, within4, seeds, worst_z, cpu / n);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t seeds = argc > 1 ? std::size_t(std::atoi(argv[1])) : 10;
  const std::string filter = argc > 2 ? argv[2] : "";
  const Exec ex(1);
  const double kc = ising_critical_coupling();
  const Ising crit = Ising::lattice_2d(24, 24, kc, 0.0, Boundary::periodic, Boundary::periodic);
  const double crit_exact = ising_kaufman_log_z(24, 24, kc);
  const Ising field = Ising::lattice_2d(24, 16, kc, 0.05, Boundary::open, Boundary::open);
  const double field_exact = ising_transfer_matrix_log_z(field, ex);
  const UniformStates crit_base = uniform_base(crit), field_base = uniform_base(field);
  const auto gibbs = mrf_path(crit_base, crit, 1);
  const auto sw = mrf_swendsen_wang_path(crit_base, crit, 1);
  const auto f_gibbs = mrf_path(field_base, field, 1);
  const auto f_sw = mrf_swendsen_wang_path(field_base, field, 1);
  const auto f_swg = mrf_swendsen_wang_path<true>(field_base, field, 1);
  const Schedule ais_betas = Schedule::named("sm", 1000);
  auto smc_config = [](std::uint64_t seed, bool adaptive_moves, std::size_t waste_free) {
    SmcConfig c{.particles = 200, .runs = 10, .cess_target = 0.95, .seed = seed};
    c.adaptive_moves = adaptive_moves;
    c.waste_free = waste_free;
    return c;
  };
  const std::string m1 = "24x24 periodic, K_c, h = 0";
  const std::string m2 = "24x16 open, K_c, h = 0.05";
  const std::vector<std::pair<Row, double>> rows = {
      {{m1, "ais 100 x 1000 (sm)", "gibbs", [&](std::uint64_t s) { return ais(gibbs, ais_betas, {100, s}, ex); }}, crit_exact},
      {{m1, "ais 100 x 1000 (sm)", "sw", [&](std::uint64_t s) { return ais(sw, ais_betas, {100, s}, ex); }}, crit_exact},
      {{m1, "smc 200 x 10 runs, cess 0.95", "gibbs", [&](std::uint64_t s) { return smc(gibbs, smc_config(s, false, 0), ex); }}, crit_exact},
      {{m1, "smc 200 x 10 runs, cess 0.95", "sw", [&](std::uint64_t s) { return smc(sw, smc_config(s, false, 0), ex); }}, crit_exact},
      {{m1, "smc, moves adaptive", "gibbs", [&](std::uint64_t s) { return smc(gibbs, smc_config(s, true, 0), ex); }}, crit_exact},
      {{m1, "smc, moves adaptive", "sw", [&](std::uint64_t s) { return smc(sw, smc_config(s, true, 0), ex); }}, crit_exact},
      {{m1, "smc, waste-free P = 10", "gibbs", [&](std::uint64_t s) { return smc(gibbs, smc_config(s, false, 10), ex); }}, crit_exact},
      {{m1, "smc, waste-free P = 10", "sw", [&](std::uint64_t s) { return smc(sw, smc_config(s, false, 10), ex); }}, crit_exact},
      {{m2, "ais 100 x 1000 (sm)", "gibbs", [&](std::uint64_t s) { return ais(f_gibbs, ais_betas, {100, s}, ex); }}, field_exact},
      {{m2, "ais 100 x 1000 (sm)", "sw", [&](std::uint64_t s) { return ais(f_sw, ais_betas, {100, s}, ex); }}, field_exact},
      {{m2, "ais 100 x 1000 (sm)", "sw-gibbs", [&](std::uint64_t s) { return ais(f_swg, ais_betas, {100, s}, ex); }}, field_exact},
  };
  std::printf("| model | method | kernel | mean error | RMSE | mean SE | \\|error\\| <= 4 SE | max \\|error\\|/SE | CPU s per estimate |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& [row, exact] : rows)
    if (filter.empty() || (row.method + " " + row.kernel + " " + row.model).find(filter) != std::string::npos)
      report(row, exact, seeds);
  return 0;
}
