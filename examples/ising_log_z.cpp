// log Z of an 8 × 8 periodic Ising lattice at the critical coupling, where local MCMC
// mixes slowest (critical slowing down), exactly and by three estimators with their
// error bars:
// - exact: a transfer matrix, checked against Kaufman's closed form (Kaufman 1949,
//   Phys. Rev. 76);
// - annealed importance sampling (Neal 2001, Statistics and Computing 11);
// - sequential Monte Carlo (Del Moral, Doucet & Jasra 2006, JRSS B 68) with adaptive
//   tempering (Jasra, Stephens, Doucet & Tsagaris 2011, Scand. J. Statist. 38), whose
//   error bar is the spread of independent runs;
// - bridge sampling between neighbouring temperatures of a ladder of equilibrium
//   chains (Meng & Wong 1996, Statistica Sinica 6), with Frühwirth-Schnatter's (2004,
//   Econometrics Journal 7) error bar.
// All three anneal along one path, p_β ∝ exp(−β E) from the uniform distribution on the
// 2^64 states (β = 0) to the model (β = 1), moved by systematic-scan Gibbs sweeps.
//
// Each estimate must lie within its 1 − 1e-5 interval around the exact value (4.42
// standard errors for AIS and bridge; Student's t for SMC, whose error comes from 10
// runs): a false alarm about once in 3 · 10^4 runs of this program, for three checks.
#include <cmath>
#include <cstdio>

#include "logz/core/parallel.hpp"          // Exec
#include "logz/estimators/ais.hpp"         // ais over any annealing path
#include "logz/estimators/bridge.hpp"      // bridge_sampling over any annealing path
#include "logz/estimators/smc.hpp"         // smc over any annealing path
#include "logz/exact/ising_exact.hpp"      // transfer matrix, Kaufman's closed form
#include "logz/models/ising.hpp"           // Ising: fields and couplings on a graph
#include "logz/tempering/mrf_path.hpp"     // the path from the uniform distribution
#include "logz/tempering/schedule.hpp"     // Schedule: the betas

using namespace logz;

int main() {
  const Exec ex;  // all cores; every result is the same for any thread count

  // The model: E(s) = −K Σ_<ij> s_i s_j on an 8 × 8 torus, K = K_c = ln(1 + √2)/2.
  const double coupling = ising_critical_coupling();
  const Ising model = Ising::lattice_2d(8, 8, coupling, /*field=*/0.0, Boundary::periodic, Boundary::periodic);

  // Exact: the transfer matrix works for any fields and couplings; Kaufman's formula
  // only for this uniform torus, which makes it an independent check.
  const double exact = ising_transfer_matrix_log_z(model, ex);
  const double kaufman = ising_kaufman_log_z(8, 8, coupling);
  std::printf("log Z exact   %.6f (transfer matrix), %.6f (Kaufman)\n", exact, kaufman);
  bool ok = std::fabs(exact - kaufman) < 1e-9 * std::fabs(exact);  // two exact methods: rounding only
  if (!ok) std::printf("FAIL: the transfer matrix and Kaufman's formula disagree\n");

  // One path for all three estimators: uniform base, one Gibbs sweep per move.
  const UniformStates base = uniform_base(model);
  const auto path = mrf_path(base, model, /*sweeps=*/1);

  // AIS: 100 independent annealing runs over 400 equal steps; E[Ẑ] = Z, so log Ẑ is a
  // stochastic lower bound on log Z, and the error bar is the delta method's.
  AisConfig ais_config;
  ais_config.particles = 100;
  ais_config.seed = 1;
  const LogZEstimate by_ais = ais(path, Schedule::linear(400), ais_config, ex);

  // SMC: AIS plus resampling when the weights degenerate; the betas are chosen on the
  // fly so that each step keeps 95% of the conditional ESS.
  SmcConfig smc_config;
  smc_config.particles = 100;
  smc_config.runs = 10;
  smc_config.seed = 2;
  const LogZEstimate by_smc = smc(path, smc_config, ex);

  // Bridge sampling: 8 chains run through 101 betas, 40 states kept at each, and each
  // ratio Z_{k+1}/Z_k bridged between the draws at β_k and β_{k+1}.
  BridgeConfig bridge_config;
  bridge_config.chains = 8;
  bridge_config.samples = 40;
  bridge_config.seed = 3;
  const LogZEstimate by_bridge = bridge_sampling(path, Schedule::linear(100), bridge_config, ex);

  for (const LogZEstimate* e : {&by_ais, &by_smc, &by_bridge}) {
    const auto [lo, hi] = e->interval(1 - 1e-5);
    // The bound on the error bar keeps a useless (huge) one from passing.
    const bool inside = lo <= exact && exact <= hi && e->std_error < 0.5;
    std::printf("log Z %-7s %.4f ± %.4f  (%+.2f SE from exact, in %.2f s)%s\n", e->method.c_str(), e->log_z,
                e->std_error, (e->log_z - exact) / e->std_error, e->seconds, inside ? "" : "  FAIL");
    ok = ok && inside;
  }
  return ok ? 0 : 1;
}
