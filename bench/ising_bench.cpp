// Ising samplers and exact log Z (Google Benchmark): site updates per second on a
// 64×64 periodic lattice at the critical coupling, and the transfer matrix on open grids.
#include <benchmark/benchmark.h>

#include "logz/core/rng.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/kernels/metropolis.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/kernels/swendsen_wang.hpp"
#include "logz/models/ising.hpp"

namespace {

using namespace logz;

Ising critical_lattice() {
  return Ising::lattice_2d(64, 64, ising_critical_coupling(), 0.0, Boundary::periodic, Boundary::periodic);
}

VectorD random_spins(std::size_t n, Stream& s) {
  VectorD x{Eigen::Index(n)};
  for (Eigen::Index i = 0; i < x.size(); ++i) x[i] = s.uniform_double() < 0.5 ? -1.0 : 1.0;
  return x;
}

// One step = one sweep (4096 site updates); items = site updates.
template <class Kernel>
void BM_IsingSweep(benchmark::State& state) {
  const Ising m = critical_lattice();
  Stream rng = Stream::derive(1, Purpose::gibbs, 0);
  VectorD s = random_spins(m.n_spins(), rng);
  const Kernel k;
  for (auto _ : state) benchmark::DoNotOptimize(k.step(m, s, rng));
  state.SetItemsProcessed(state.iterations() * std::int64_t(m.n_spins()));
}
BENCHMARK(BM_IsingSweep<SystematicGibbs>)->Name("BM_IsingSweep/gibbs_systematic/64x64");
BENCHMARK(BM_IsingSweep<SiteMetropolis<Scan::systematic>>)->Name("BM_IsingSweep/metropolis_systematic/64x64");
BENCHMARK(BM_IsingSweep<SwendsenWang>)->Name("BM_IsingSweep/swendsen_wang/64x64");

// Exact log Z of an open L×L grid with random couplings, by the transfer matrix.
void BM_TransferMatrix(benchmark::State& state) {
  const auto l = std::size_t(state.range(0));
  Ising m = Ising::lattice_2d(l, l, 0.0, 0.0);
  Stream rng = Stream::derive(2, Purpose::init, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] = 0.5 * rng.normal();
  m.set_parameters(theta);
  const Exec ex(int(state.range(1)));
  for (auto _ : state) benchmark::DoNotOptimize(ising_transfer_matrix_log_z(m, ex));
}
BENCHMARK(BM_TransferMatrix)->ArgsProduct({{16, 20}, {1, 2}})->ArgNames({"L", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
