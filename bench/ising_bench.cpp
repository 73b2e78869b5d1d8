// Ising and Potts samplers and exact log Z (Google Benchmark): site updates per second on
// a 64×64 periodic lattice at the critical coupling (Ising; q = 3 Potts), on a dense
// 64-site q = 21 Potts model (protein-sized), parallel tempering over 8 replicas, and the
// transfer matrix on open grids.
#include <benchmark/benchmark.h>

#include "logz/core/rng.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/kernels/metropolis.hpp"
#include "logz/kernels/potts_gibbs.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/kernels/swendsen_wang.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/potts.hpp"
#include "logz/tempering/parallel_tempering.hpp"

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

// q-state Potts on the 64×64 periodic lattice at its critical point: J(a, b) = K δ_ab with
// K = log(1 + √q) (Baxter 1973).
Potts critical_potts_lattice(std::size_t q) {
  const Ising grid = critical_lattice();
  std::vector<PottsEdge> edges;
  for (const IsingEdge& e : grid.edges()) edges.push_back({e.i, e.j});
  VectorD blocks = VectorD::Zero(Eigen::Index(edges.size() * q * q));
  for (std::size_t e = 0; e < edges.size(); ++e)
    for (std::size_t a = 0; a < q; ++a) blocks[Eigen::Index(e * q * q + a * q + a)] = std::log(1.0 + std::sqrt(double(q)));
  return Potts(MatrixD::Zero(Eigen::Index(grid.n_spins()), Eigen::Index(q)), std::move(edges), std::move(blocks));
}
// Dense L-site model with fields N(0, 1) and couplings N(0, 0.1²): the shape of a protein
// family model (L = 64, q = 21).
Potts dense_potts(std::size_t l, std::size_t q) {
  Potts m = Potts::dense(l, q);
  Stream rng = Stream::derive(3, Purpose::init, 0);
  VectorD theta = m.parameters();
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = (std::size_t(k) < l * q ? 1.0 : 0.1) * rng.normal();
  m.set_parameters(theta);
  return m;
}

// One step = one sweep (n site updates); items = site updates.
template <class Kernel>
void potts_sweeps(benchmark::State& state, const Potts& m) {
  Stream rng = Stream::derive(1, Purpose::gibbs, 0);
  VectorD x{Eigen::Index(m.n_sites())};
  for (Eigen::Index i = 0; i < x.size(); ++i) x[i] = double(rng.below(m.num_states()));
  const Kernel k;
  for (auto _ : state) benchmark::DoNotOptimize(k.step(m, x, rng));
  state.SetItemsProcessed(state.iterations() * std::int64_t(m.n_sites()));
}
void BM_PottsGibbsDense(benchmark::State& state) { potts_sweeps<SystematicPottsGibbs>(state, dense_potts(64, 21)); }
void BM_PottsMetropolisDense(benchmark::State& state) {
  potts_sweeps<SystematicPottsMetropolis>(state, dense_potts(64, 21));
}
void BM_PottsGibbsLattice(benchmark::State& state) { potts_sweeps<SystematicPottsGibbs>(state, critical_potts_lattice(3)); }
BENCHMARK(BM_PottsGibbsDense)->Name("BM_PottsSweep/gibbs_systematic/dense64_q21");
BENCHMARK(BM_PottsMetropolisDense)->Name("BM_PottsSweep/metropolis_systematic/dense64_q21");
BENCHMARK(BM_PottsGibbsLattice)->Name("BM_PottsSweep/gibbs_systematic/64x64_q3");

// Parallel tempering over systematic Gibbs on the critical 64×64 Ising lattice, 8 replicas
// at β = 0.9 .. 1 (equally spaced: adjacent energy histograms overlap at this size); one
// step = 8 sweeps and the swaps. items = site updates (8 × 4096 per step); swap_rate =
// accepted / proposed swaps over the run.
void BM_ParallelTempering(benchmark::State& state) {
  const Ising m = critical_lattice();
  std::vector<double> betas(8);
  for (std::size_t k = 0; k < 8; ++k) betas[k] = 0.9 + 0.1 * double(k) / 7.0;
  betas.back() = 1.0;
  const ParallelTempering<SystematicGibbs> pt(betas);
  Stream rng = Stream::derive(1, Purpose::gibbs, 0);
  auto s = pt.start(random_spins(m.n_spins(), rng));
  const Exec ex(int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(pt.step(m, s, rng, ex));
  state.SetItemsProcessed(state.iterations() * std::int64_t(8 * m.n_spins()));
  std::size_t att = 0, acc = 0;
  for (std::size_t k = 0; k < s.attempts.size(); ++k) att += s.attempts[k], acc += s.accepted[k];
  state.counters["swap_rate"] = att ? double(acc) / double(att) : 0.0;
}
BENCHMARK(BM_ParallelTempering)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();

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
