// Swendsen–Wang moves on the annealing path of Ising and Potts models
// (tempering/mrf_path.hpp: mrf_swendsen_wang_path), at critical and first-order points
// where single-site moves slow down:
//  - a 16×16 periodic Ising lattice at K_c = ln(1 + √2)/2, against Kaufman's closed form;
//  - a q = 10 Potts model on a 4×3 periodic lattice at its transition K_t = ln(1 + √10),
//    against the junction tree (4×4 needs tables of 10^9 entries).
// AIS's standard error is the delta method over independent chains: |error| <= 4.42 SE is a
// two-sided false-failure rate of 1e-5 under the normal approximation. SMC's comes from R
// runs, so its tolerance is Student's t with R − 1 degrees of freedom at the same rate. Each
// check also bounds the SE, so a useless error bar fails. 1 and 2 threads give identical bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "logz/diagnostics/mcmc.hpp"
#include "logz/estimators/ais.hpp"
#include "logz/estimators/smc.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/junction_tree.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "support/estimator_checks.hpp"

namespace logz {
namespace {

/// A rows × cols lattice, periodic both ways, q states, J_ij(a, b) = k δ_ab, no fields.
Potts periodic_potts(std::size_t rows, std::size_t cols, std::size_t q, double k) {
  std::vector<PottsEdge> edges;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      edges.push_back({r * cols + c, r * cols + (c + 1) % cols});
      edges.push_back({r * cols + c, ((r + 1) % rows) * cols + c});
    }
  VectorD blocks = VectorD::Zero(Eigen::Index(edges.size() * q * q));
  for (std::size_t e = 0; e < edges.size(); ++e)
    for (std::size_t a = 0; a < q; ++a) blocks[Eigen::Index(e * q * q + a * q + a)] = k;
  return Potts(MatrixD::Zero(Eigen::Index(rows * cols), Eigen::Index(q)), edges, blocks);
}

Ising critical_ising(std::size_t l) {
  return Ising::lattice_2d(l, l, ising_critical_coupling(), 0.0, Boundary::periodic, Boundary::periodic);
}

/// |error| <= t_{R−1}(1e-5) SE for an SMC estimate from R runs, and SE < max_se.
void expect_smc_agrees(const LogZEstimate& e, double exact, double max_se, const std::string& what) {
  const double t = student_t_two_sided_quantile(1 - 1e-5, e.dof);
  EXPECT_LT(e.std_error, max_se) << what;
  EXPECT_LE(std::abs(e.log_z - exact), t * e.std_error)
      << what << ": " << e.log_z << " ± " << e.std_error << ", exact " << exact;
  std::printf("%s: error %+.4f, SE %.4f, %.2f s\n", what.c_str(), e.log_z - exact, e.std_error, e.seconds);
}

TEST(MrfSwendsenWang, CriticalIsingAgreesWithKaufman) {
  const Ising m = critical_ising(16);
  const double exact = ising_kaufman_log_z(16, 16, ising_critical_coupling());
  const UniformStates base = uniform_base(m);
  const auto path = mrf_swendsen_wang_path(base, m, 1);
  const LogZEstimate a = ais(path, Schedule::named("sm", 1000), {100, 31}, Exec(2));
  test::expect_agrees(a, exact, 0.15, "ising 16x16 K_c, sw");
  std::printf("AIS sw: error %+.4f, SE %.4f, %.2f s\n", a.log_z - exact, a.std_error, a.seconds);
  const LogZEstimate s = smc(path, SmcConfig{.particles = 100, .runs = 10, .cess_target = 0.9, .seed = 32}, Exec(2));
  expect_smc_agrees(s, exact, 0.3, "SMC sw, ising 16x16 K_c");
  // A Gibbs sweep after each cluster update: the same distribution, the same answer.
  const auto mixed = mrf_swendsen_wang_path<true>(base, m, 1);
  const LogZEstimate g = ais(mixed, Schedule::named("sm", 400), {50, 33}, Exec(2));
  test::expect_agrees(g, exact, 0.3, "ising 16x16 K_c, sw-gibbs");
  std::printf("AIS sw-gibbs: error %+.4f, SE %.4f, %.2f s\n", g.log_z - exact, g.std_error, g.seconds);
}

TEST(MrfSwendsenWang, FirstOrderPottsAgreesWithJunctionTree) {
  const double kt = std::log(1 + std::sqrt(10.0));
  const Potts m = periodic_potts(4, 3, 10, kt);
  const double exact = junction_tree(m, JunctionTreeOptions{}, Exec(2)).log_z;
  const UniformStates base = uniform_base(m);
  const auto path = mrf_swendsen_wang_path(base, m, 1);
  const LogZEstimate a = ais(path, Schedule::linear(400), {200, 34}, Exec(2));
  test::expect_agrees(a, exact, 0.15, "potts q=10 4x3 K_t, sw");
  std::printf("AIS sw: error %+.4f, SE %.4f, %.2f s\n", a.log_z - exact, a.std_error, a.seconds);
  // A first-order transition: adaptive tempering with few particles takes big steps across
  // it, so SMC runs on AIS's fixed schedule.
  const LogZEstimate s = smc(
      path, SmcConfig{.particles = 100, .runs = 10, .schedule = Schedule::linear(400), .seed = 35}, Exec(2));
  expect_smc_agrees(s, exact, 0.15, "SMC sw, potts q=10 4x3 K_t");
}

TEST(MrfSwendsenWang, OneAndTwoThreadsGiveIdenticalBits) {
  // 200 particles × 256 sites is above the size where the path's moves go parallel.
  const Ising m = critical_ising(16);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_swendsen_wang_path<true>(base, m, 1);
  const SmcConfig c{.particles = 200, .runs = 2, .cess_target = 0.8, .seed = 37};
  const LogZEstimate one = smc(path, c, Exec(1)), two = smc(path, c, Exec(2));
  EXPECT_EQ(one.log_weights, two.log_weights);
  ASSERT_EQ(one.steps.size(), two.steps.size());
  for (std::size_t k = 0; k + 1 < one.steps.size(); ++k) EXPECT_EQ(one.steps[k].acceptance, two.steps[k].acceptance);
  EXPECT_TRUE(std::isnan(one.steps.back().acceptance));  // no move after the last step
  const auto sw = mrf_swendsen_wang_path(base, m, 2);
  EXPECT_EQ(ais(sw, Schedule::linear(20), {200, 38}, Exec(1)).log_weights,
            ais(sw, Schedule::linear(20), {200, 38}, Exec(2)).log_weights);
}

TEST(MrfSwendsenWang, PathRefusesModelsItDoesNotCover) {
  const Ising anti = Ising::lattice_2d(3, 3, -0.2, 0.0);
  const UniformStates base = uniform_base(anti);
  EXPECT_THROW(mrf_swendsen_wang_path(base, anti, 1), Error);
}

}  // namespace
}  // namespace logz
