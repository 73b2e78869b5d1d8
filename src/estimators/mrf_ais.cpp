// AIS from the uniform distribution to a Potts (or Ising) model along p_β ∝ exp(-β E),
// one chain per task, Gibbs sweeps as transitions (Neal 2001).
#include "logz/estimators/mrf_ais.hpp"

#include <chrono>
#include <cmath>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"
#include "logz/kernels/potts_gibbs.hpp"

namespace logz {

LogZEstimate mrf_ais(const Potts& model, const MrfAisConfig& config, const Exec& ex, Observer& obs) {
  check_arg(config.chains >= 1, "mrf_ais: chains must be >= 1, got {}", config.chains);
  check_arg(config.sweeps >= 1, "mrf_ais: sweeps must be >= 1, got {}", config.sweeps);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<double>& betas = config.schedule.betas();
  const std::size_t K = config.schedule.steps(), n = model.n_sites(), q = model.num_states();
  // One kernel per intermediate β (validated once, not per chain).
  std::vector<SystematicPottsGibbs> kernels;
  kernels.reserve(K);
  for (std::size_t k = 0; k < K; ++k) kernels.emplace_back(SystematicPottsGibbs::Params{config.sweeps, betas[k]});

  std::vector<double> log_w(config.chains, 0.0);
  ProgressTicker ticker(obs, "AIS", config.chains);
  parallel_for(ex, config.chains, [&](std::size_t r) {
    Stream rng = Stream::derive(config.seed, Purpose::ais, r);
    VectorD x(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) x[Eigen::Index(i)] = double(rng.below(q));
    double w = 0;
    // Step k: weight by f_k / f_{k−1} at x_{k−1}, then x_k ~ T_k (leaves p_k invariant);
    // the last transition would change no weight and is skipped.
    for (std::size_t k = 1; k <= K; ++k) {
      w -= (betas[k] - betas[k - 1]) * model.energy(x);
      if (k < K) kernels[k].step(model, x, rng);
    }
    log_w[r] = w;
    ticker.add(1);
  });
  ticker.finish();

  return ais_estimate(std::move(log_w), double(n) * std::log(double(q)), seconds_since(t0));
}

LogZEstimate mrf_ais(const Ising& model, const MrfAisConfig& config, const Exec& ex, Observer& obs) {
  return mrf_ais(Potts::from_ising(model), config, ex, obs);
}

}  // namespace logz
