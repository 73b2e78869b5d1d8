// Exact Potts / Ising log Z (Google Benchmark): the junction tree on open L×L grids with
// random couplings and fields (time, peak table memory, treewidth), against the
// transfer matrix on the same grids, and Potts enumeration of a small model.
#include <benchmark/benchmark.h>

#include "logz/core/rng.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/junction_tree.hpp"
#include "logz/exact/potts_exact.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"

namespace {

using namespace logz;

/// Open L×L grid, ±1 spins, every coupling and field 0.5·N(0,1).
Ising random_grid(std::size_t l) {
  Ising m = Ising::lattice_2d(l, l, 0.0, 0.0);
  Stream rng = Stream::derive(2, Purpose::init, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] = 0.5 * rng.normal();
  m.set_parameters(theta);
  return m;
}

// Counters: peak table bytes, treewidth, total clique-table entries of the order.
void BM_JunctionTreeGrid(benchmark::State& state) {
  const Ising m = random_grid(std::size_t(state.range(0)));
  const Exec ex(int(state.range(1)));
  JunctionTreeResult r{};
  for (auto _ : state) benchmark::DoNotOptimize(r = junction_tree(m, {}, ex));
  state.counters["peak_bytes"] = double(r.peak_table_bytes);
  state.counters["treewidth"] = double(r.treewidth);
  state.counters["table_entries"] = r.total_table_entries;
}
BENCHMARK(BM_JunctionTreeGrid)
    ->ArgsProduct({{16, 18, 20}, {1, 2}})
    ->ArgNames({"L", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// With exact marginals: the log-domain upward pass plus the (single-threaded) downward pass.
void BM_JunctionTreeGridMarginals(benchmark::State& state) {
  const Ising m = random_grid(std::size_t(state.range(0)));
  JunctionTreeOptions o;
  o.marginals = true;
  JunctionTreeResult r{};
  for (auto _ : state) benchmark::DoNotOptimize(r = junction_tree(m, o, Exec(1)));
  state.counters["peak_bytes"] = double(r.peak_table_bytes);
}
BENCHMARK(BM_JunctionTreeGridMarginals)->Arg(12)->Arg(16)->ArgNames({"L"})->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_TransferMatrixGrid(benchmark::State& state) {
  const Ising m = random_grid(std::size_t(state.range(0)));
  const Exec ex(1);
  for (auto _ : state) benchmark::DoNotOptimize(ising_transfer_matrix_log_z(m, ex));
}
BENCHMARK(BM_TransferMatrixGrid)->Arg(16)->Arg(20)->ArgNames({"L"})->UseRealTime()->Unit(benchmark::kMillisecond);

/// Dense q-state model on n sites, blocks and fields 0.5·N(0,1).
Potts random_dense(std::size_t n, std::size_t q) {
  Potts m = Potts::dense(n, q);
  Stream rng = Stream::derive(3, Purpose::init, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] = 0.5 * rng.normal();
  m.set_parameters(theta);
  return m;
}

// Items = states visited: 3^12 = 531441 states, 66 edges.
void BM_PottsEnumeration(benchmark::State& state) {
  const Potts m = random_dense(12, 3);
  const Exec ex(int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(potts_enumeration_log_z(m, ex));
  state.SetItemsProcessed(state.iterations() * 531441);
}
BENCHMARK(BM_PottsEnumeration)->Arg(1)->Arg(2)->ArgNames({"threads"})->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_PottsEnumerationMarginals(benchmark::State& state) {
  const Potts m = random_dense(12, 3);
  const Exec ex(1);
  for (auto _ : state) benchmark::DoNotOptimize(potts_enumeration_marginals(m, ex));
  state.SetItemsProcessed(state.iterations() * 531441);
}
BENCHMARK(BM_PottsEnumerationMarginals)->UseRealTime()->Unit(benchmark::kMillisecond);

// The same dense model by junction tree (treewidth 11: one clique of 3^12 entries).
void BM_JunctionTreeDense(benchmark::State& state) {
  const Potts m = random_dense(12, 3);
  for (auto _ : state) benchmark::DoNotOptimize(junction_tree(m, {}, Exec(1)));
}
BENCHMARK(BM_JunctionTreeDense)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
