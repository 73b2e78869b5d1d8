// Pseudolikelihood on a real protein alignment (Google Benchmark): one evaluation of
// the objective and its gradient — the cost of one L-BFGS iteration when the line
// search takes its first step — on DHFR.a2m with plmc's README settings (focus
// DYR_ECOLI, gaps ignored, theta 0.8, lh 0.01, le 16): 3,616 sequences × 159 sites, q 20.
#include <benchmark/benchmark.h>

#include <string>

#include "logz/io/alignment.hpp"
#include "logz/objectives/pseudolikelihood.hpp"

namespace {

using namespace logz;

const PottsData& dhfr() {
  static const PottsData data = [] {
    io::AlignmentOptions opt;
    opt.focus = "DYR_ECOLI";
    opt.unknown = io::UnknownLetters::skip;
    const io::Alignment aln = io::read_alignment(std::string(LOGZ_SOURCE_DIR) + "/../shared/data/DHFR.a2m", opt);
    return potts_data(aln.matrix, aln.alphabet, io::sequence_weights(aln, 0.8), true);
  }();
  return data;
}

void BM_PseudolikelihoodEvaluation(benchmark::State& state) {
  const auto precision = state.range(0) == 32 ? PlPrecision::float32 : PlPrecision::float64;
  PseudolikelihoodObjective f(dhfr(), PlVariant::symmetric, precision, 0.01, 16.0, Exec(int(state.range(1))));
  VectorD theta = f.initial_parameters(), grad;
  for (auto _ : state) benchmark::DoNotOptimize(f(theta, grad));
  state.counters["objective"] = f(theta, grad);
}
BENCHMARK(BM_PseudolikelihoodEvaluation)
    ->ArgNames({"bits", "threads"})
    ->Args({64, 1})
    ->Args({64, 2})
    ->Args({32, 1})
    ->Args({32, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
BENCHMARK_MAIN();
