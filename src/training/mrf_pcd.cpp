// Persistent contrastive divergence for Ising and Potts models: their chains' first
// states, moments and gradients plugged into the one PCD loop of mrf_pcd.hpp.
#include "logz/training/mrf_pcd.hpp"

#include <chrono>
#include <cmath>

namespace logz {

void check_pcd_sgd(const char* who, const PcdSgdParams& sgd) {
  check_arg(sgd.updates >= 1, "{}: updates must be >= 1 (got {})", who, sgd.updates);
  check_arg(std::isfinite(sgd.learning_rate) && sgd.learning_rate > 0,
            "{}: learning_rate must be finite and > 0 (got {})", who, sgd.learning_rate);
  check_arg(sgd.momentum >= 0 && sgd.momentum < 1, "{}: momentum must be in [0, 1) (got {})", who, sgd.momentum);
  check_arg(sgd.average_last <= sgd.updates, "{}: average_last ({}) exceeds updates ({})", who, sgd.average_last,
            sgd.updates);
}

// ---- Ising --------------------------------------------------------------------------

namespace {

void check_ising_pcd_params(const IsingPcdParams& p) {
  check_arg(p.n_chains >= 1, "IsingPcd: n_chains must be >= 1 (got {})", p.n_chains);
  check_arg(p.sweeps >= 1, "IsingPcd: sweeps must be >= 1 (got {})", p.sweeps);
}

/// Each spin up or down with probability 1/2 (one uniform per spin, in site order).
std::vector<VectorD> uniform_spin_starts(const Ising& model, const IsingPcdParams& p, const Stream& init) {
  check_ising_pcd_params(p);
  return draw_chain_starts(p.n_chains, init, [&](Stream& rng) {
    VectorD s(Eigen::Index(model.n_spins()));
    for (Eigen::Index i = 0; i < s.size(); ++i) s[i] = model.spin_value(rng.uniform_double() < 0.5);
    return s;
  });
}

std::vector<VectorD> given_starts(const IsingPcdParams& p, const MatrixD& chains) {
  check_ising_pcd_params(p);
  check_arg(std::size_t(chains.rows()) == p.n_chains, "IsingPcd: {} chain states given for n_chains = {}",
            chains.rows(), p.n_chains);
  std::vector<VectorD> starts;
  for (Eigen::Index c = 0; c < chains.rows(); ++c) starts.push_back(chains.row(c).transpose());
  return starts;
}

}  // namespace

IsingPcd::IsingPcd(const Ising& model, IsingPcdParams params, const Stream& init)
    : params_(params), chains_("IsingPcd", uniform_spin_starts(model, params, init), params.sweeps, params.betas) {}

IsingPcd::IsingPcd(IsingPcdParams params, const MatrixD& chains)
    : params_(params), chains_("IsingPcd", given_starts(params, chains), params.sweeps, params.betas) {}

void IsingPcd::check_model(const Ising& model) const {
  check_arg(std::size_t(chains_.state(0).size()) == model.n_spins(),
            "IsingPcd: the chains have {} spins but the model has {}", chains_.state(0).size(), model.n_spins());
}

void IsingPcd::advance(const Ising& model, const Stream& stream, const Exec& ex) {
  check_model(model);
  chains_.advance(model, stream, ex);
}

IsingDataMoments IsingPcd::chain_moments(const Ising& model, const Exec& ex) const {
  check_model(model);
  // Summation order is fixed by the blocks, so running small sums on one thread
  // changes no bit; it only skips a parallel region that would cost more than the sums.
  const std::size_t work = params_.n_chains * (model.n_spins() + model.n_edges());
  return ising_state_moments(model, chains_.states(), work < (std::size_t(1) << 16) ? Exec(1) : ex);
}

VectorD IsingPcd::gradient(const Ising& model, const IsingDataMoments& data, const IsingL2& l2, const Stream& stream,
                           const Exec& ex) {
  check_ising_moments("IsingPcd", model, data);
  advance(model, stream, ex);
  return ising_pcd_gradient(model, data, chain_moments(model, ex), l2);
}

IsingFit fit_ising_pcd(const Ising& init, const IsingDataMoments& data, const IsingL2& l2, const IsingPcdParams& pcd,
                       const IsingSgdParams& sgd, std::uint64_t seed, const Exec& ex, Observer& obs,
                       const PcdCheckpointing& checkpoints) {
  const char* who = "fit_ising_pcd";
  check_ising_moments(who, init, data);
  check_ising_l2(who, l2);
  check_pcd_sgd(who, sgd);
  Ising model = init;
  IsingPcd chains(model, pcd, Stream::derive(seed, Purpose::chains, 0));
  std::vector<double> trace =
      run_mrf_pcd(who, model, chains, sgd, seed, ex, obs, checkpoints, [&](const Ising& m, const VectorD&, VectorD& g) {
        g = ising_pcd_gradient(m, data, chains.chain_moments(m, ex), l2);
        return g.norm();
      });
  const double last = trace.back();
  return IsingFit{std::move(model), pcd.betas.empty() ? "pcd" : "pt", "gradient-estimate norm", std::move(trace),
                  sgd.updates, false, last, chains.swap_acceptance(), chains.round_trips()};
}

// ---- Potts --------------------------------------------------------------------------

namespace {

/// Site i's state drawn from p(a) ∝ exp(h_i(a)) by inverse CDF (one uniform per site).
VectorD independent_draw(const Potts& model, Stream& rng) {
  const auto L = Eigen::Index(model.n_sites()), q = Eigen::Index(model.num_states());
  VectorD x(L);
  for (Eigen::Index i = 0; i < L; ++i) {
    const auto h = model.fields().row(i);
    const double top = h.maxCoeff();
    double sum = 0;
    for (Eigen::Index a = 0; a < q; ++a) sum += std::exp(h[a] - top);
    const double u = rng.uniform_double() * sum;
    Eigen::Index pick = q - 1;  // rounding past the last partial sum takes the last state
    double cum = 0;
    for (Eigen::Index a = 0; a < q; ++a) {
      cum += std::exp(h[a] - top);
      if (u < cum) {
        pick = a;
        break;
      }
    }
    x[i] = double(pick);
  }
  return x;
}

}  // namespace

PottsPcdChains::PottsPcdChains(const Potts& model, std::size_t chains, std::size_t sweeps, std::vector<double> betas,
                               const Stream& init)
    : MrfChains<Potts>("PottsPcdChains",
                       draw_chain_starts(chains, init, [&](Stream& rng) { return independent_draw(model, rng); }),
                       sweeps, std::move(betas)) {}

PottsMoments PottsPcdChains::moments(const Potts& model, const Exec& ex) const {
  PottsMoments m;
  moments(model, ex, m);
  return m;
}

void PottsPcdChains::moments(const Potts& model, const Exec& ex, PottsMoments& out) const {
  check_arg(std::size_t(state(0).size()) == model.n_sites(), "PottsPcdChains: the chains have {} sites but the model has {}",
            state(0).size(), model.n_sites());
  potts_state_moments(model, states(), ex, out);
}

void PottsPcdConfig::validate() const {
  const char* who = "fit_potts_pcd";
  check_arg(chains >= 1, "{}: chains must be >= 1 (got {})", who, chains);
  check_arg(sweeps >= 1, "{}: sweeps must be >= 1 (got {})", who, sweeps);
  if (!betas.empty()) {
    check_arg(betas.size() >= 2, "{}: tempering needs at least 2 betas, got {}", who, betas.size());
    for (std::size_t k = 0; k < betas.size(); ++k)
      check_arg(std::isfinite(betas[k]) && betas[k] >= 0, "{}: beta[{}] must be finite and >= 0 (got {})", who, k,
                betas[k]);
    for (std::size_t k = 1; k < betas.size(); ++k)
      check_arg(betas[k] > betas[k - 1], "{}: betas must increase strictly; beta[{}] = {} follows beta[{}] = {}", who, k,
                betas[k], k - 1, betas[k - 1]);
    check_arg(betas.back() == 1.0, "{}: the last beta must be 1 (the model), got {}", who, betas.back());
  }
  check_potts_pcd_penalty(who, lambda_h, lambda_e);
  check_pcd_sgd(who, sgd);
}

PottsPcdFit fit_potts_pcd(const PottsData& data, const PottsPcdConfig& config, const Exec& exec, Observer& obs) {
  const auto t0 = std::chrono::steady_clock::now();
  config.validate();
  const char* who = "fit_potts_pcd";
  check_potts_pcd_data(who, data);
  const auto L = std::size_t(data.states.cols());
  const std::size_t q = data.q;
  // The graph and the starting model.
  Potts model = [&] {
    if (config.init) {
      const Potts& m = *config.init;
      check_arg(m.n_sites() == L && m.num_states() == q,
                "{}: the init model has {} sites and q = {}; the data has {} sites and q = {}", who, m.n_sites(),
                m.num_states(), L, q);
      return m;
    }
    if (config.edges.empty()) return Potts::dense(L, q);
    check_potts_pcd_edges(who, config.edges, L);
    try {
      return Potts(MatrixD::Zero(Eigen::Index(L), Eigen::Index(q)), config.edges,
                   VectorD::Zero(Eigen::Index(config.edges.size() * q * q)));
    } catch (const Error& e) {
      fail(Exit::usage, "{}: bad edge list: {}", who, e.what());
    }
  }();
  const PottsMoments target = potts_data_moments(data, model.edges(), exec, who);
  const double W = data.weights.sum();
  if (!config.init) {
    // plmc's start: h_i(a) = log(f_i(a)·W + 1), centred over a.
    for (std::size_t i = 0; i < L; ++i) {
      auto h = model.fields().row(Eigen::Index(i));
      for (std::size_t a = 0; a < q; ++a)
        h[Eigen::Index(a)] = std::log(target.site(Eigen::Index(i), Eigen::Index(a)) * W + 1);
      h.array() -= h.mean();
    }
  }

  PottsPcdChains chains(model, config.chains, config.sweeps, config.betas,
                        Stream::derive(config.seed, Purpose::chains, 0));
  PottsPcdFit fit;
  PottsMoments neg;
  fit.trace = run_mrf_pcd(who, model, chains, config.sgd, config.seed, exec, obs, config.checkpoints,
                          [&](const Potts& m, const VectorD& theta, VectorD& g) {
                            chains.moments(m, exec, neg);
                            return potts_pcd_gradient(theta, L * q, target, neg, config.lambda_h, config.lambda_e, W, g);
                          });
  fit.model = std::move(model);
  fit.updates = config.sgd.updates;
  fit.swap_acceptance = chains.swap_acceptance();
  fit.round_trips = chains.round_trips();
  fit.seconds = seconds_since(t0);
  return fit;
}

}  // namespace logz
