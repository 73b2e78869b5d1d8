// Full-batch score-matching objectives with their gradients (Google Benchmark), one
// thread: one "epoch" = the objective and its θ-gradient over 50,000 rows of 64-d data,
// what each L-BFGS evaluation costs. A product of 64 Student-t experts (the model of
// bench/torch_score_matching.py, the PyTorch peer run beside it by
// bench/score_matching_peers.sh) and a Gaussian–Bernoulli RBM with 32 hidden units (σ
// learned). SM, SSM (one Rademacher projection a row) and DSM (σ = 0.1, one draw) go
// through the models' matrix-product overloads, drawing their projections / noise at each
// call; "_drawn" takes them drawn once beforehand, as the fits do; "_per_row" runs the
// generic per-row template for comparison. BM_Gemm times the products those paths are made of, over the
// same 50,000 rows a 256-row block at a time: U = X Wᵀ (256×64 by 64×64) and the gradient
// accumulation Wg += Aᵀ X (64×256 by 256×64); counter GFLOPs (2·N·K·d per pass), the
// ceiling of the block paths (bench/RESULTS.md). BM_Draws times drawing the projections
// and noise alone (50,000 × 64 values from the rows' streams). Counter: epochs (rate: epochs per second).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <cstdint>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/student_t_experts.hpp"
#include "logz/objectives/score_matching.hpp"

namespace {

using namespace logz;

constexpr Eigen::Index kRows = 50000, kDim = 64;

MatrixD standard_normal_rows(std::uint64_t seed) {
  Stream s = Stream::derive(seed, Purpose::data, 0);
  MatrixD x(kRows, kDim);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = s.normal();
  return x;
}

const MatrixD& data() {
  static const MatrixD x = standard_normal_rows(1);
  return x;
}

StudentTExperts experts() { return StudentTExperts::random(kDim, 64, 1.5, 1); }

GrbmFreeEnergy grbm() {
  GaussianRbm m(kDim, 32);
  Stream s = Stream::derive(1, Purpose::init, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = 0.1 * s.normal();
  m.learn_sigma = true;
  return GrbmFreeEnergy(m);
}

/// Threads for the objectives: LOGZ_BENCH_THREADS (default 1), as score_matching_peers.sh sets it.
Exec bench_exec() {
  const char* v = std::getenv("LOGZ_BENCH_THREADS");
  return Exec(v ? std::atoi(v) : 1);
}

template <class Model, class Objective>
void run(benchmark::State& state, const Model& m, Objective&& objective) {
  const Exec ex = bench_exec();
  VectorD g(Eigen::Index(m.num_parameters()));
  for (auto _ : state) benchmark::DoNotOptimize(objective(m, &g, ex));
  state.counters["epochs"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

template <class Model>
void sm(benchmark::State& state, const Model& m) {
  run(state, m, [](const Model& mm, VectorD* g, const Exec& ex) { return score_matching_objective(mm, data(), g, ex); });
}
template <class Model>
void ssm(benchmark::State& state, const Model& m) {
  const SlicedOptions o{.projections = 1, .kind = Projection::rademacher, .seed = 1};
  run(state, m, [&](const Model& mm, VectorD* g, const Exec& ex) {
    return sliced_score_matching_objective(mm, data(), o, g, ex);
  });
}
template <class Model>
void dsm(benchmark::State& state, const Model& m) {
  const DenoisingOptions o{.sigmas = {0.1}, .draws = 1, .seed = 1};
  run(state, m, [&](const Model& mm, VectorD* g, const Exec& ex) {
    return denoising_score_matching_objective(mm, data(), o, g, ex);
  });
}

template <class Model>
void ssm_per_row(benchmark::State& state, const Model& m) {
  const SlicedOptions o{.projections = 1, .kind = Projection::rademacher, .seed = 1};
  run(state, m, [&](const Model& mm, VectorD* g, const Exec& ex) {
    return sliced_score_matching_objective<Model>(mm, data(), o, g, ex);
  });
}
template <class Model>
void dsm_per_row(benchmark::State& state, const Model& m) {
  const DenoisingOptions o{.sigmas = {0.1}, .draws = 1, .seed = 1};
  run(state, m, [&](const Model& mm, VectorD* g, const Exec& ex) {
    return denoising_score_matching_objective<Model>(mm, data(), o, g, ex);
  });
}

// As a fit evaluates the block paths: the projections / noise drawn once beforehand.
void BM_ExpertsSsmDrawn(benchmark::State& state) {
  const SlicedOptions o{.projections = 1, .kind = Projection::rademacher, .seed = 1};
  const MatrixD drawn = sliced_projections_all(o, std::size_t(kRows), std::size_t(kDim), Exec(1));
  run(state, experts(), [&](const StudentTExperts& mm, VectorD* g, const Exec& ex) {
    return sliced_score_matching_objective(mm, data(), o, drawn, g, ex);
  });
}
void BM_ExpertsDsmDrawn(benchmark::State& state) {
  const DenoisingOptions o{.sigmas = {0.1}, .draws = 1, .seed = 1};
  const MatrixD drawn = denoising_noise_all(o, std::size_t(kRows), std::size_t(kDim), Exec(1));
  run(state, experts(), [&](const StudentTExperts& mm, VectorD* g, const Exec& ex) {
    return denoising_score_matching_objective(mm, data(), o, drawn, g, ex);
  });
}

// Drawing the random parts alone, as the objectives draw them at each call: one Rademacher
// projection, or one N(0, 1) noise draw (Box–Muller), per row, from each row's stream.
void BM_DrawProjections(benchmark::State& state) {
  const SlicedOptions o{.projections = 1, .kind = Projection::rademacher, .seed = 1};
  for (auto _ : state) benchmark::DoNotOptimize(sliced_projections_all(o, std::size_t(kRows), std::size_t(kDim), bench_exec()));
}
void BM_DrawNoise(benchmark::State& state) {
  const DenoisingOptions o{.sigmas = {0.1}, .draws = 1, .seed = 1};
  for (auto _ : state) benchmark::DoNotOptimize(denoising_noise_all(o, std::size_t(kRows), std::size_t(kDim), bench_exec()));
}

// One pass of a product shape over all rows, 256-row blocks as row_blocks makes them.
void gemm_pass(benchmark::State& state, bool accumulate) {
  const MatrixD& x = data();
  const MatrixD w = experts().filters();
  const Blocks blocks = row_blocks(std::size_t(kRows));
  MatrixD u(Eigen::Index(blocks.size(0)), w.rows()), wg = MatrixD::Zero(w.rows(), kDim);
  for (auto _ : state) {
    for (std::size_t t = 0; t < blocks.count(); ++t) {
      const auto xb = x.middleRows(Eigen::Index(blocks.begin(t)), Eigen::Index(blocks.size(t)));
      if (accumulate) {
        wg.noalias() += xb.transpose() * xb;  // Aᵀ X with A of X's shape
      } else {
        u.topRows(xb.rows()).noalias() = xb * w.transpose();
      }
    }
    benchmark::DoNotOptimize(u.data());
    benchmark::DoNotOptimize(wg.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * double(kRows) * double(w.rows()) * double(kDim) * 1e-9 *
                                                    double(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

void BM_ExpertsSm(benchmark::State& s) { sm(s, experts()); }
void BM_ExpertsSsmPerRow(benchmark::State& s) { ssm_per_row(s, experts()); }
void BM_ExpertsDsmPerRow(benchmark::State& s) { dsm_per_row(s, experts()); }
void BM_GemmForward(benchmark::State& s) { gemm_pass(s, false); }
void BM_GemmAccumulate(benchmark::State& s) { gemm_pass(s, true); }
void BM_ExpertsSsm(benchmark::State& s) { ssm(s, experts()); }
void BM_ExpertsDsm(benchmark::State& s) { dsm(s, experts()); }
void BM_GrbmSm(benchmark::State& s) { sm(s, grbm()); }
void BM_GrbmSsm(benchmark::State& s) { ssm(s, grbm()); }
void BM_GrbmDsm(benchmark::State& s) { dsm(s, grbm()); }
BENCHMARK(BM_ExpertsSm)->Name("BM_FullBatch/experts64/sm")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_ExpertsSsm)->Name("BM_FullBatch/experts64/ssm")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_ExpertsDsm)->Name("BM_FullBatch/experts64/dsm")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_ExpertsSsmPerRow)->Name("BM_FullBatch/experts64/ssm_per_row")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_ExpertsDsmPerRow)->Name("BM_FullBatch/experts64/dsm_per_row")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_ExpertsSsmDrawn)->Name("BM_FullBatch/experts64/ssm_drawn")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_ExpertsDsmDrawn)->Name("BM_FullBatch/experts64/dsm_drawn")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_DrawProjections)->Name("BM_Draws/experts64/projections")->Unit(benchmark::kMillisecond)->MinTime(1);
BENCHMARK(BM_DrawNoise)->Name("BM_Draws/experts64/noise")->Unit(benchmark::kMillisecond)->MinTime(1);
BENCHMARK(BM_GemmForward)->Name("BM_Gemm/experts64/x_wt")->Unit(benchmark::kMillisecond)->MinTime(1);
BENCHMARK(BM_GemmAccumulate)->Name("BM_Gemm/experts64/at_x")->Unit(benchmark::kMillisecond)->MinTime(1);
BENCHMARK(BM_GrbmSm)->Name("BM_FullBatch/grbm32/sm")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_GrbmSsm)->Name("BM_FullBatch/grbm32/ssm")->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_GrbmDsm)->Name("BM_FullBatch/grbm32/dsm")->Unit(benchmark::kMillisecond)->MinTime(2);

}  // namespace

BENCHMARK_MAIN();
