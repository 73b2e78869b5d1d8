// The façade for Ising and Potts model files: exact log Z, AIS, Gibbs samples.
#include "logz/api/mrf_tasks.hpp"

#include <chrono>

#include "logz/core/ranks.hpp"
#include "logz/estimators/linked_is.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/io/mrf_file.hpp"
#include "logz/io/npz.hpp"
#include "logz/kernels/potts_gibbs.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz::api {

std::size_t mrf_sites(const MrfModel& m) {
  return std::visit([](const auto& x) { return x.dimension(); }, m);
}
std::size_t mrf_states(const MrfModel& m) {
  return std::holds_alternative<Ising>(m) ? 2 : std::get<Potts>(m).num_states();
}
std::string mrf_kind(const MrfModel& m) { return std::holds_alternative<Ising>(m) ? "ising" : "potts"; }

JunctionTreeResult mrf_exact_log_z(const MrfModel& m, const Exec& ex) {
  return std::visit([&](const auto& x) { return junction_tree(x, JunctionTreeOptions{}, ex); }, m);
}

MrfKernel mrf_kernel_by_name(const std::string& name, std::string_view who) {
  if (name.empty() || name == "gibbs") return MrfKernel::gibbs;
  if (name == "sw") return MrfKernel::swendsen_wang;
  if (name == "sw-gibbs") return MrfKernel::swendsen_wang_gibbs;
  check_config(false, {"kernel"}, "{}: @0 must be gibbs, sw or sw-gibbs for an Ising or Potts model, got '{}'", who,
               name);
  return MrfKernel::gibbs;
}

std::string mrf_kernel_name(MrfKernel kernel) {
  switch (kernel) {
    case MrfKernel::gibbs: return "gibbs";
    case MrfKernel::swendsen_wang: return "sw";
    case MrfKernel::swendsen_wang_gibbs: return "sw-gibbs";
  }
  return "gibbs";
}

namespace {
/// The Swendsen–Wang path, its kernel's refusal turned into a ConfigError naming `kernel`.
template <bool gibbs_after, class M>
auto swendsen_wang_path_or_refuse(const UniformStates& base, const M& model, std::size_t sweeps) {
  try {
    return mrf_swendsen_wang_path<gibbs_after>(base, model, sweeps);
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    check_config(false, {"kernel"}, "estimate: @0 {} cannot move this model: {}",
                 gibbs_after ? "sw-gibbs" : "sw", e.what());
    throw;
  }
}

template <class M>
LogZEstimate estimate_on_mrf(const M& model, const EstimateConfig& config, const MatrixD* start, const Exec& ex,
                             Observer& obs, MrfKernel kernel) {
  if (config.method == "exact") {
    const auto t0 = std::chrono::steady_clock::now();
    const JunctionTreeResult z = junction_tree(model, JunctionTreeOptions{}, ex);
    return exact_estimate(z.log_z, "exact (junction tree)", seconds_since(t0));
  }
  const UniformStates base = uniform_base(model);
  switch (kernel) {
    case MrfKernel::gibbs:
      // LIS runs chains backwards too: it needs the reversible random-scan sweeps.
      if (config.method == "lis")
        return estimate_on_path(reversible_mrf_path(base, model, config.sweeps), config, start, ex, obs);
      return estimate_on_path(mrf_path(base, model, config.sweeps), config, start, ex, obs);
    case MrfKernel::swendsen_wang:  // reversible: LIS takes it as it is
      return estimate_on_path(swendsen_wang_path_or_refuse<false>(base, model, config.sweeps), config, start, ex, obs);
    case MrfKernel::swendsen_wang_gibbs:
      check_config(config.method != "lis", {"kernel", "method"},
                   "estimate: @0 sw-gibbs is not reversible, which @1 lis needs; use @0 sw");
      return estimate_on_path(swendsen_wang_path_or_refuse<true>(base, model, config.sweeps), config, start, ex, obs);
  }
  return {};
}
}  // namespace

LogZEstimate mrf_estimate(const Ising& m, const EstimateConfig& config, const MatrixD* start, const Exec& ex,
                          Observer& obs, MrfKernel kernel) {
  return estimate_on_mrf(m, config, start, ex, obs, kernel);
}
LogZEstimate mrf_estimate(const Potts& m, const EstimateConfig& config, const MatrixD* start, const Exec& ex,
                          Observer& obs, MrfKernel kernel) {
  return estimate_on_mrf(m, config, start, ex, obs, kernel);
}
LogZEstimate mrf_estimate(const MrfModel& m, const EstimateConfig& config, const MatrixD* start, const Exec& ex,
                          Observer& obs, MrfKernel kernel) {
  config.validate();
  return std::visit([&](const auto& model) { return estimate_on_mrf(model, config, start, ex, obs, kernel); }, m);
}

namespace {
template <class Model, class Kernel>
MatrixD run_chains(const Model& m, const Kernel& kernel, std::size_t chains, std::uint64_t seed, const Exec& ex,
                   Observer& obs, double (*value)(const Model&, Stream&)) {
  const std::size_t n = m.dimension();
  MatrixD out(static_cast<Eigen::Index>(chains), static_cast<Eigen::Index>(n));
  // Under mpirun each rank runs its own range of the chains (each on its own stream), then
  // every rank receives every chain's final state.
  const bool spread = ranks::spreading();
  const ranks::Range mine = ranks::owned_if(spread, chains);
  ProgressTicker ticker(obs, "sampling", mine.size());
  parallel_for(ex, mine.size(), [&](std::size_t i) {
    const std::size_t r = mine.begin + i;
    Stream rng = Stream::derive(seed, Purpose::sample, r);
    VectorD x(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) x[Eigen::Index(i)] = value(m, rng);
    kernel.step(m, x, rng);
    out.row(Eigen::Index(r)) = x.transpose();
    ticker.add(1);
  });
  ticker.finish();
  if (spread) ranks::share(out.data(), ranks::item_bounds(chains, n * sizeof(double)));  // row-major: a chain's row
  return out;
}
}  // namespace

MatrixD sample_mrf(const Ising& m, std::size_t chains, std::size_t sweeps, std::uint64_t seed, const Exec& ex,
                   Observer& obs) {
  check_arg(chains >= 1 && sweeps >= 1, "sample_mrf: chains and sweeps must be >= 1, got {} and {}", chains, sweeps);
  return run_chains<Ising>(m, SystematicGibbs({.updates = sweeps, .beta = 1.0}), chains, seed, ex, obs,
                           [](const Ising& mm, Stream& r) { return mm.spin_value(r.uniform_double() < 0.5); });
}
MatrixD sample_mrf(const Potts& p, std::size_t chains, std::size_t sweeps, std::uint64_t seed, const Exec& ex,
                   Observer& obs) {
  check_arg(chains >= 1 && sweeps >= 1, "sample_mrf: chains and sweeps must be >= 1, got {} and {}", chains, sweeps);
  return run_chains<Potts>(p, SystematicPottsGibbs({.updates = sweeps, .beta = 1.0}), chains, seed, ex, obs,
                           [](const Potts& mm, Stream& r) { return double(r.below(std::uint32_t(mm.num_states()))); });
}
MatrixD sample_mrf(const MrfModel& m, std::size_t chains, std::size_t sweeps, std::uint64_t seed, const Exec& ex,
                   Observer& obs) {
  return std::visit([&](const auto& model) { return sample_mrf(model, chains, sweeps, seed, ex, obs); }, m);
}

}  // namespace logz::api
