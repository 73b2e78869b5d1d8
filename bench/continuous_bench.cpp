// Continuous samplers (Google Benchmark): HMC and MALA on a 50-d correlated Gaussian
// (Σ_ij = 0.9^|i−j|, condition number ≈ 360) and on the 2-D ring (a = 0.1). The step size
// is tuned in setup by dual averaging (HMC: δ = 0.8, MALA: δ = 0.574, Roberts & Rosenthal's
// optimum), then each iteration runs 4 chains × 500 steps from where the last iteration
// left them. Counters: grad_evals (rate: gradient evaluations per second), ess_per_grad
// (the smallest multi-chain ESS over coordinates of one iteration's draws, divided by the
// gradient evaluations it took: the sampler's efficiency, independent of the machine),
// accept (mean acceptance probability), step (the tuned ε).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/diagnostics/mcmc.hpp"
#include "logz/kernels/hmc.hpp"
#include "logz/kernels/langevin.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/models/toy2d.hpp"

namespace {

using namespace logz;

constexpr std::size_t kChains = 4, kSteps = 500, kWarmup = 1000;

/// N(0, Σ) with Σ_ij = ρ^|i−j| (an AR(1) process): its precision is tridiagonal,
/// (1 / (1 − ρ²)) · (diagonal 1, 1 + ρ², …, 1 + ρ², 1; off-diagonal −ρ).
Gaussian ar1_gaussian(int d, double rho) {
  MatrixD lam = MatrixD::Zero(d, d);
  for (int i = 0; i < d; ++i) {
    lam(i, i) = (i == 0 || i == d - 1) ? 1.0 : 1.0 + rho * rho;
    if (i + 1 < d) lam(i, i + 1) = lam(i + 1, i) = -rho;
  }
  return Gaussian(VectorD::Zero(d), lam / (1 - rho * rho));
}

/// Kernel K with the step size it takes: HMC keeps L fixed, MALA one proposal per step.
Hmc make(const Hmc&, double eps) { return Hmc({.step_size = eps, .leapfrog_steps = 10, .beta = 1.0}); }
Mala make(const Mala&, double eps) { return Mala({.step_size = eps, .steps = 1, .beta = 1.0}); }

template <class Kernel, class Model>
void run(benchmark::State& state, const Model& m, double target) {
  const std::size_t d = m.dimension();
  std::vector<Stream> rngs;
  std::vector<VectorD> xs;
  for (std::size_t c = 0; c < kChains; ++c) {
    rngs.push_back(Stream::derive(1, Purpose::gibbs, c));
    xs.push_back(VectorD::Constant(Eigen::Index(d), 0.5));
  }
  // Warm-up: one dual-averaging run on chain 0, then every chain burns in at ε̄.
  DualAveraging da(0.1, {.target_acceptance = target});
  for (std::size_t t = 0; t < kWarmup; ++t)
    da.update(make(Kernel(), da.step_size()).step(m, xs[0], rngs[0]).acceptance_probability);
  const Kernel k = make(Kernel(), da.final_step_size());
  for (std::size_t c = 0; c < kChains; ++c)
    for (std::size_t t = 0; t < kWarmup / 4; ++t) k.step(m, xs[c], rngs[c]);

  std::vector<MatrixD> draws(d, MatrixD(kChains, kSteps));
  std::int64_t grads = 0;
  double accept = 0, ess_per_grad = 0;
  std::int64_t iterations = 0;
  for (auto _ : state) {
    std::int64_t g = 0;
    for (std::size_t c = 0; c < kChains; ++c)
      for (std::size_t t = 0; t < kSteps; ++t) {
        const ContinuousInfo info = k.step(m, xs[c], rngs[c]);
        g += std::int64_t(info.gradient_evaluations);
        accept += info.acceptance_probability;
        for (std::size_t i = 0; i < d; ++i) draws[i](Eigen::Index(c), Eigen::Index(t)) = xs[c][Eigen::Index(i)];
      }
    state.PauseTiming();
    double ess = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < d; ++i) ess = std::min(ess, ess_mean(draws[i]));
    ess_per_grad += ess / double(g);
    state.ResumeTiming();
    grads += g;
    ++iterations;
  }
  state.counters["grad_evals"] = benchmark::Counter(double(grads), benchmark::Counter::kIsRate);
  state.counters["ess_per_grad"] = ess_per_grad / double(iterations);
  state.counters["accept"] = accept / double(iterations * std::int64_t(kChains * kSteps));
  state.counters["step"] = da.final_step_size();
}

void BM_HmcGaussian50(benchmark::State& state) { run<Hmc>(state, ar1_gaussian(50, 0.9), 0.8); }
void BM_MalaGaussian50(benchmark::State& state) { run<Mala>(state, ar1_gaussian(50, 0.9), 0.574); }
void BM_HmcRing(benchmark::State& state) { run<Hmc>(state, Ring(0.1), 0.8); }
void BM_MalaRing(benchmark::State& state) { run<Mala>(state, Ring(0.1), 0.574); }
BENCHMARK(BM_HmcGaussian50)->Name("BM_Continuous/hmc_L10/gaussian50")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MalaGaussian50)->Name("BM_Continuous/mala/gaussian50")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HmcRing)->Name("BM_Continuous/hmc_L10/ring2d")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MalaRing)->Name("BM_Continuous/mala/ring2d")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
