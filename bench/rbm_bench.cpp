// Micro-benchmarks of the RBM kernels (Google Benchmark). Random binary data from a
// Philox Stream, so they run without the Fashion-MNIST files. Sizes follow the peer
// comparison (bench/compare_peers.sh, bench/RESULTS.md): 784 visible, 500 hidden,
// batch 100, AIS with 100 chains, exact log Z of a 784x20 RBM.
//
//   build/bench/rbm_bench                                   # everything
//   build/bench/rbm_bench --benchmark_filter='BM_PcdStep'   # one family
//
// Threads go through logz::Exec (OpenMP), so every case that uses more than one thread
// is timed in real (wall) time.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/estimators/rbm_ais.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/models/rbm.hpp"
#include "logz/objectives/contrastive_divergence.hpp"
#include "logz/tempering/schedule.hpp"

namespace {

using namespace logz;

constexpr std::size_t kVisible = 784;
constexpr std::size_t kHidden = 500;
constexpr std::size_t kBatch = 100;

/// 0/1 matrix with P(1) = p (Fashion-MNIST binarized has about 0.36 ones per pixel).
template <class T>
Matrix<T> random_binary(std::size_t rows, std::size_t cols, std::uint64_t seed, double p = 0.36) {
  Stream s = Stream::derive(seed, Purpose::user, 0);
  Matrix<T> m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = s.uniform_double() < p ? T(1) : T(0);
  return m;
}

/// An RBM with W ~ N(0, scale²), visible biases ~ N(-0.5, 1), hidden biases ~ N(0, 0.1²):
/// a stand-in for a trained model (the kernels' cost does not depend on the values).
template <class T>
Rbm<T> random_rbm(std::size_t nv, std::size_t nh, std::uint64_t seed, double scale = 0.05) {
  Stream s = Stream::derive(seed, Purpose::init, 0);
  Rbm<T> m(nv, nh);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = T(scale * s.normal());
  for (Eigen::Index i = 0; i < m.visible_bias.size(); ++i) m.visible_bias[i] = T(-0.5 + s.normal());
  for (Eigen::Index j = 0; j < m.hidden_bias.size(); ++j) m.hidden_bias[j] = T(0.1 * s.normal());
  return m;
}

/// FLOPs of one CD-1 / PCD-1 update of a 784x500 RBM on a batch of 100, counted as in
/// RESULTS.md: 6 GEMM-equivalents of 2·B·n_v·n_h (chain sweep h and v, hidden
/// probabilities of data and chains, the two halves of the gradient).
constexpr double kStepFlops = 6.0 * 2.0 * double(kBatch) * double(kVisible) * double(kHidden);

void cd_step(benchmark::State& state, bool persistent) {
  const Exec ex(int(state.range(0)));
  RbmF m = random_rbm<float>(kVisible, kHidden, 1, 0.01);
  RbmF vel(kVisible, kHidden);
  // 20 distinct batches, cycled, so the data are not always the same cache-hot rows.
  constexpr std::size_t kBatches = 20;
  const MatrixF data = random_binary<float>(kBatches * kBatch, kVisible, 2);
  std::vector<MatrixF> batches;
  for (std::size_t b = 0; b < kBatches; ++b) batches.push_back(data.middleRows(Eigen::Index(b * kBatch), Eigen::Index(kBatch)));
  ContrastiveDivergence cd(CdParams(1, persistent), persistent ? random_binary<float>(kBatch, kVisible, 3) : MatrixF());
  const Stream root = Stream::root(4);
  std::uint64_t t = 0;
  for (auto _ : state) {
    const Stream s = root.derive(Purpose::gibbs, t);
    cd.step(m, batches[t % kBatches], s, 0.01, 0.9, 0.0, vel, ex);
    ++t;
    benchmark::DoNotOptimize(m.weights.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(kBatch));
  state.counters["GFLOP/s"] =
      benchmark::Counter(kStepFlops * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["threads"] = double(ex.threads());
}

void BM_PcdStep(benchmark::State& state) { cd_step(state, true); }
void BM_CdStep(benchmark::State& state) { cd_step(state, false); }

/// AIS with 100 chains on a 784x500 model; per-beta cost = time / betas. The schedule
/// has state.range(1) betas; compare_peers.sh times the full 10,000.
void BM_AisStep(benchmark::State& state) {
  const Exec ex(int(state.range(0)));
  const std::size_t betas = std::size_t(state.range(1));
  const RbmF m = random_rbm<float>(kVisible, kHidden, 5);
  const VectorF base = m.visible_bias;
  const Schedule schedule = Schedule::salakhutdinov_murray(betas);
  RbmAisConfig cfg;
  cfg.chains = 100;
  std::uint64_t seed = 1;
  for (auto _ : state) {
    cfg.seed = seed++;
    LogZEstimate e = rbm_ais(m, base, schedule, cfg, ex);
    benchmark::DoNotOptimize(e);
  }
  // items = betas: items_per_second is betas/s, so 1/items_per_second is the time per beta.
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(betas));
  // Per beta: 2 GEMM-equivalents of 2·100·784·500 (hidden pre-activations, which also
  // give the weight increment, and the visible half of the Gibbs sweep).
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * 2.0 * 100.0 * double(kVisible) * double(kHidden) * double(betas) * double(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
  state.counters["time_per_beta"] = benchmark::Counter(double(state.iterations()) * double(betas),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["threads"] = double(ex.threads());
}

/// Exact log Z of a 784x20 RBM: 2^20 hidden states, Gray-code enumeration.
void BM_ExactLogZ20(benchmark::State& state) {
  const Exec ex(int(state.range(0)));
  const RbmD m = random_rbm<double>(kVisible, 20, 6, 0.1);
  for (auto _ : state) {
    ExactLogZ z = rbm_exact_log_z(m, ex);
    benchmark::DoNotOptimize(z);
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) << 20);  // states per second
  state.counters["threads"] = double(ex.threads());
}

/// F(v) of 10,000 rows against 500 hidden units (the test-set log-likelihood pass).
void BM_FreeEnergies(benchmark::State& state) {
  const Exec ex(int(state.range(0)));
  const RbmF m = random_rbm<float>(kVisible, kHidden, 7);
  const MatrixU8 data = random_binary<std::uint8_t>(10000, kVisible, 8);
  for (auto _ : state) {
    VectorD f = free_energies(m, data, ex);
    benchmark::DoNotOptimize(f.data());
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * 10000);
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * 10000.0 * double(kVisible) * double(kHidden) * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["threads"] = double(ex.threads());
}

}  // namespace

BENCHMARK(BM_PcdStep)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CdStep)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AisStep)->ArgNames({"threads", "betas"})->Args({1, 200})->Args({2, 200})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExactLogZ20)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FreeEnergies)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
