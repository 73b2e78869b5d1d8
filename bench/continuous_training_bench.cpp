// Minibatch training of continuous energies (Google Benchmark), one thread: epochs of
// score matching, sliced score matching (one Rademacher projection) and denoising score
// matching (one level, one draw) by Adam over 50,000 × 64 synthetic rows in batches of
// 100 (500 updates an epoch), for the 64-d Gaussian energy (2,144 parameters), a
// product of 64 Student-t experts (4,160 parameters) and a Gaussian-Bernoulli RBM with 32
// hidden units and fixed σ (2,144 parameters), each through the generic per-row terms;
// and PCD updates (100 MALA chains, one proposal each, batch 100) on the Gaussian energy
// over 5,000 rows. Counters: epochs (rate: epochs per second of CPU time), rows (rows per second);
// PCD: updates (updates per second), accept (the chains' mean acceptance).
#include <benchmark/benchmark.h>

#include <cstdint>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/training/continuous_pcd.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/student_t_experts.hpp"
#include "logz/training/stochastic_fit.hpp"

namespace {

using namespace logz;

constexpr Eigen::Index kRows = 50000, kDim = 64;

/// Rows x = z L with z ~ N(0, I) and L lower triangular with unit diagonal and entries
/// 0.1·N(0, 1) below it: a correlated Gaussian.
MatrixD synthetic(Eigen::Index rows, std::uint64_t seed) {
  Stream s = Stream::derive(seed, Purpose::data, 0);
  MatrixD l = MatrixD::Identity(kDim, kDim);
  for (Eigen::Index i = 0; i < kDim; ++i)
    for (Eigen::Index j = 0; j < i; ++j) l(i, j) = 0.1 * s.normal();
  MatrixD z(rows, kDim);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < kDim; ++c) z(r, c) = s.normal();
  return z * l.transpose();
}

const MatrixD& data() {
  static const MatrixD x = synthetic(kRows, 1);
  return x;
}

/// A GRBM with weights 0.05·N(0, 1), zero biases, σ = 1.
GrbmFreeEnergy grbm32() {
  GaussianRbm m(std::size_t(kDim), 32);
  Stream s = Stream::derive(3, Purpose::init, 0);
  for (Eigen::Index i = 0; i < m.weights.rows(); ++i)
    for (Eigen::Index j = 0; j < m.weights.cols(); ++j) m.weights(i, j) = 0.05 * s.normal();
  return GrbmFreeEnergy(m);
}

template <class M>
void epochs(benchmark::State& state, M model, StochasticObjective objective) {
  StochasticOptions o;
  o.objective = objective;
  o.training.batch_size = 100;
  o.training.adam.learning_rate = 1e-3;
  StochasticTrainer<M> t(std::move(model), data(), o);
  const Exec ex(1);
  for (auto _ : state) benchmark::DoNotOptimize(t.run_epoch(ex));
  state.counters["epochs"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["rows"] = benchmark::Counter(double(state.iterations()) * double(kRows), benchmark::Counter::kIsRate);
}

const GaussianEnergy gaussian = GaussianEnergy::standard(std::size_t(kDim));
void BM_ScoreMatchingEpoch(benchmark::State& state) { epochs(state, gaussian, StochasticObjective::sm); }
void BM_SlicedScoreMatchingEpoch(benchmark::State& state) { epochs(state, gaussian, StochasticObjective::ssm); }
void BM_DenoisingScoreMatchingEpoch(benchmark::State& state) { epochs(state, gaussian, StochasticObjective::dsm); }
void BM_ExpertsScoreMatchingEpoch(benchmark::State& state) {
  epochs(state, StudentTExperts::random(std::size_t(kDim), 64, 1.0, 4), StochasticObjective::sm);
}
void BM_ExpertsSlicedScoreMatchingEpoch(benchmark::State& state) {
  epochs(state, StudentTExperts::random(std::size_t(kDim), 64, 1.0, 4), StochasticObjective::ssm);
}
void BM_ExpertsDenoisingScoreMatchingEpoch(benchmark::State& state) {
  epochs(state, StudentTExperts::random(std::size_t(kDim), 64, 1.0, 4), StochasticObjective::dsm);
}
void BM_GrbmScoreMatchingEpoch(benchmark::State& state) { epochs(state, grbm32(), StochasticObjective::sm); }
void BM_GrbmSlicedScoreMatchingEpoch(benchmark::State& state) { epochs(state, grbm32(), StochasticObjective::ssm); }
void BM_GrbmDenoisingScoreMatchingEpoch(benchmark::State& state) { epochs(state, grbm32(), StochasticObjective::dsm); }

void BM_PcdMalaUpdates(benchmark::State& state) {
  static const MatrixD x = synthetic(5000, 2);
  ContinuousPcdOptions o;
  o.chains = 100;
  o.step_size = 0.3;
  o.training.batch_size = 100;  // 50 updates an epoch
  o.training.adam.learning_rate = 1e-3;
  ContinuousPcd<GaussianEnergy> pcd(GaussianEnergy::standard(std::size_t(kDim)), x, o);
  const Exec ex(1);
  double accept = 0;
  for (auto _ : state) accept = pcd.run_epoch(ex).acceptance;
  state.counters["updates"] = benchmark::Counter(double(state.iterations()) * 50, benchmark::Counter::kIsRate);
  state.counters["accept"] = accept;
}

BENCHMARK(BM_ScoreMatchingEpoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_SlicedScoreMatchingEpoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_DenoisingScoreMatchingEpoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_ExpertsScoreMatchingEpoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_ExpertsSlicedScoreMatchingEpoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_ExpertsDenoisingScoreMatchingEpoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_GrbmScoreMatchingEpoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_GrbmSlicedScoreMatchingEpoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_GrbmDenoisingScoreMatchingEpoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_PcdMalaUpdates)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
