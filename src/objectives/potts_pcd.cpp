// Persistent contrastive divergence for Potts models: available-case data moments,
// persistent Gibbs or parallel-tempering chains, momentum SGD.
#include "logz/objectives/potts_pcd.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "logz/core/check.hpp"

namespace logz {

namespace {

/// Edges per task when moments are counted edge by edge (fixed: thread-independent).
constexpr std::size_t kEdgeBlock = 64;

void check_pcd_data(const char* who, const PottsData& d) {
  check_data(d.q >= 2 && d.q <= 255, "{}: q must be in [2, 255], got {}", who, d.q);
  check_data(d.states.rows() > 0 && d.states.cols() > 0, "{}: the data has {} sequences of {} sites", who,
             d.states.rows(), d.states.cols());
  check_data(d.weights.size() == d.states.rows(), "{}: {} weights for {} sequences", who, d.weights.size(),
             d.states.rows());
  double total = 0;
  for (Eigen::Index s = 0; s < d.weights.size(); ++s) {
    check_data(std::isfinite(d.weights[s]) && d.weights[s] >= 0, "{}: weight {} is {}, not finite and >= 0", who, s,
               d.weights[s]);
    total += d.weights[s];
  }
  check_data(total > 0, "{}: the weights sum to 0", who);
  for (Eigen::Index s = 0; s < d.states.rows(); ++s)
    for (Eigen::Index i = 0; i < d.states.cols(); ++i)
      check_data(d.states(s, i) <= d.q, "{}: sequence {} site {} has state {}, beyond q = {} (absent)", who, s, i,
                 int(d.states(s, i)), d.q);
}

/// Weighted counts of L × N site-major states (value q = absent, skipped), normalised by
/// the present weight of each site and pair. Each edge owns its block, summed in sequence
/// order: the same bits for any thread count. `who` names the caller in errors.
void count_moments(const char* who, const Matrix<std::uint8_t>& by_site, const VectorD& w, std::size_t q,
                   const std::vector<PottsEdge>& edges, const Exec& ex, PottsMoments& m) {
  const auto L = std::size_t(by_site.rows()), N = std::size_t(by_site.cols());
  // Reuses m's storage (a dense q = 21 model's pair block is megabytes, every update).
  m.site.setZero(Eigen::Index(L), Eigen::Index(q));
  m.edge.setZero(Eigen::Index(edges.size() * q * q));
  std::vector<double> site_present(L, 0.0);
  std::vector<std::uint8_t> empty(edges.size(), 0);
  auto count_site = [&](std::size_t i) {
    const std::uint8_t* x = by_site.row(Eigen::Index(i)).data();
    double present = 0;
    for (std::size_t s = 0; s < N; ++s)
      if (x[s] < q) m.site(Eigen::Index(i), x[s]) += w[Eigen::Index(s)], present += w[Eigen::Index(s)];
    if (present > 0) m.site.row(Eigen::Index(i)) /= present;
    site_present[i] = present;
  };
  auto count_edge = [&](std::size_t e) {
    const std::uint8_t* xi = by_site.row(Eigen::Index(edges[e].i)).data();
    const std::uint8_t* xj = by_site.row(Eigen::Index(edges[e].j)).data();
    double* b = m.edge.data() + e * q * q;
    double present = 0;
    for (std::size_t s = 0; s < N; ++s)
      if (xi[s] < q && xj[s] < q) b[xi[s] * q + xj[s]] += w[Eigen::Index(s)], present += w[Eigen::Index(s)];
    if (present > 0)
      for (std::size_t k = 0; k < q * q; ++k) b[k] /= present;
    else
      empty[e] = 1;
  };
  // One task per block of sites or edges; counts below about 2^20 terms (a dense q = 21,
  // L = 50 model with 100 chains: 0.7 M) stay on the calling thread, where they take well
  // under a millisecond, less than a parallel region can cost on a busy machine. Each
  // task owns its entries, summed in sequence order, so the bits never depend on the
  // threads.
  const Blocks site_blocks{L, kEdgeBlock}, edge_blocks{edges.size(), kEdgeBlock};
  const bool small = N * (L + edges.size()) + edges.size() * q * q < (std::size_t(1) << 20);
  parallel_for(small ? Exec(1) : ex, site_blocks.count() + edge_blocks.count(), [&](std::size_t t) {
    if (t < site_blocks.count()) {
      for (std::size_t i = site_blocks.begin(t); i < site_blocks.end(t); ++i) count_site(i);
    } else {
      t -= site_blocks.count();
      for (std::size_t e = edge_blocks.begin(t); e < edge_blocks.end(t); ++e) count_edge(e);
    }
  });
  for (std::size_t i = 0; i < L; ++i)
    check_data(site_present[i] > 0, "{}: site {} is absent in every sequence of positive weight", who, i);
  for (std::size_t e = 0; e < edges.size(); ++e)
    check_data(!empty[e], "{}: sites {} and {} (edge {}) are never both present in a sequence of positive weight", who,
               edges[e].i, edges[e].j, e);
}

void check_edges(const char* who, const std::vector<PottsEdge>& edges, std::size_t L) {
  for (std::size_t e = 0; e < edges.size(); ++e)
    check_arg(edges[e].i < L && edges[e].j < L, "{}: edge {} = ({}, {}) has a site beyond the data's {} sites", who, e,
              edges[e].i, edges[e].j, L);
}

PottsMoments data_moments(const char* who, const PottsData& data, const std::vector<PottsEdge>& edges,
                          const Exec& ex) {
  check_pcd_data(who, data);
  check_edges(who, edges, std::size_t(data.states.cols()));
  const Matrix<std::uint8_t> by_site = data.states.transpose();
  PottsMoments m;
  count_moments(who, by_site, data.weights, data.q, edges, ex, m);
  return m;
}

void check_lambda(const char* who, double lambda_h, double lambda_e) {
  check_arg(std::isfinite(lambda_h) && lambda_h >= 0, "{}: lambda_h must be finite and >= 0, got {}", who, lambda_h);
  check_arg(std::isfinite(lambda_e) && lambda_e >= 0, "{}: lambda_e must be finite and >= 0, got {}", who, lambda_e);
}

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

// ---- moments and gradient -----------------------------------------------------------

PottsMoments potts_data_moments(const PottsData& data, const std::vector<PottsEdge>& edges, const Exec& exec) {
  return data_moments("potts_data_moments", data, edges, exec);
}

namespace {
/// g = chain − data moments, its largest entry in absolute value, then g += 2λθ/W.
double gradient_into(const VectorD& theta, std::size_t lq, const PottsMoments& data, const PottsMoments& chains,
                     double lambda_h, double lambda_e, double total_weight, VectorD& g) {
  const auto n = Eigen::Index(lq), m = theta.size() - n;
  g.resize(theta.size());
  g.head(n) = (chains.site - data.site).reshaped<Eigen::RowMajor>();
  g.tail(m) = chains.edge - data.edge;
  const double worst = g.cwiseAbs().maxCoeff();
  g.head(n) += (2 * lambda_h / total_weight) * theta.head(n);
  g.tail(m) += (2 * lambda_e / total_weight) * theta.tail(m);
  return worst;
}
}  // namespace

VectorD potts_pcd_gradient(const Potts& model, const PottsMoments& data, const PottsMoments& chains, double lambda_h,
                           double lambda_e, double total_weight) {
  const std::size_t L = model.n_sites(), q = model.num_states(), E = model.n_edges();
  for (const PottsMoments* m : {&data, &chains})
    check_arg(std::size_t(m->site.rows()) == L && std::size_t(m->site.cols()) == q &&
                  std::size_t(m->edge.size()) == E * q * q,
              "potts_pcd_gradient: moments of shape {}×{} with {} pair entries do not fit the model ({} sites, q = {}, "
              "{} edges)",
              m->site.rows(), m->site.cols(), m->edge.size(), L, q, E);
  check_lambda("potts_pcd_gradient", lambda_h, lambda_e);
  check_arg(std::isfinite(total_weight) && total_weight > 0,
            "potts_pcd_gradient: total_weight must be finite and > 0, got {}", total_weight);
  VectorD g;
  gradient_into(model.parameters(), L * q, data, chains, lambda_h, lambda_e, total_weight, g);
  return g;
}

// ---- chains -------------------------------------------------------------------------

PottsPcdChains::PottsPcdChains(const Potts& model, std::size_t chains, std::size_t sweeps, std::vector<double> betas,
                               const Stream& init)
    : sweeps_(sweeps) {
  check_arg(chains >= 1, "PottsPcdChains: chains must be >= 1 (got {})", chains);
  check_arg(sweeps >= 1, "PottsPcdChains: sweeps must be >= 1 (got {})", sweeps);
  if (!betas.empty()) {
    ladder_.emplace(std::move(betas), SystematicPottsGibbs::Params{sweeps, 1.0});
    check_arg(ladder_->betas().back() == 1.0, "PottsPcdChains: the last beta must be 1 (the model), got {}",
              ladder_->betas().back());
  }
  states_.reserve(chains);
  for (std::size_t c = 0; c < chains; ++c) {
    Stream rng = init.derive(Purpose::chains, c);
    states_.push_back(independent_draw(model, rng));
  }
  if (ladder_) {
    ladders_.reserve(chains);
    for (const VectorD& x : states_) ladders_.push_back(ladder_->start(x));
  }
}

MatrixD PottsPcdChains::states() const {
  const auto C = Eigen::Index(states_.size());
  MatrixD out(C, states_.empty() ? 0 : states_[0].size());
  for (Eigen::Index c = 0; c < C; ++c)
    out.row(c) = (ladder_ ? ladders_[std::size_t(c)].replicas.back() : states_[std::size_t(c)]).transpose();
  return out;
}

void PottsPcdChains::advance(const Potts& model, const Stream& stream, const Exec& ex) {
  // Blocks of chains worth about 2^16 conditional-energy terms (a site's q states times
  // its neighbours and itself), fixed by the problem size: a small model's update is one
  // block on one thread, a dense q = 21 model's is one chain per block.
  const std::size_t rungs = ladder_ ? ladder_->num_replicas() : 1;
  const std::size_t per_chain =
      std::max<std::size_t>(1, sweeps_ * rungs * model.num_states() * (model.n_sites() + 2 * model.n_edges()));
  const Blocks blocks{states_.size(), std::max<std::size_t>(1, (std::size_t(1) << 16) / per_chain)};
  const SystematicPottsGibbs kernel({sweeps_, 1.0});
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    for (std::size_t c = blocks.begin(t); c < blocks.end(t); ++c) {
      Stream rng = stream.derive(Purpose::gibbs, c);
      if (ladder_)
        ladder_->step(model, ladders_[c], rng);
      else
        kernel.step(model, states_[c], rng);
    }
  });
}

PottsMoments PottsPcdChains::moments(const Potts& model, const Exec& ex) const {
  PottsMoments m;
  moments(model, ex, m);
  return m;
}

void PottsPcdChains::moments(const Potts& model, const Exec& ex, PottsMoments& out) const {
  const std::size_t L = model.n_sites(), C = states_.size();
  Matrix<std::uint8_t> by_site(static_cast<Eigen::Index>(L), static_cast<Eigen::Index>(C));
  for (std::size_t c = 0; c < C; ++c) {
    const VectorD& x = ladder_ ? ladders_[c].replicas.back() : states_[c];
    check_arg(std::size_t(x.size()) == L, "PottsPcdChains: the chains have {} sites but the model has {}", x.size(), L);
    for (std::size_t i = 0; i < L; ++i) by_site(Eigen::Index(i), Eigen::Index(c)) = std::uint8_t(x[Eigen::Index(i)]);
  }
  count_moments("PottsPcdChains", by_site, VectorD::Ones(Eigen::Index(C)), model.num_states(), model.edges(), ex, out);
}

std::vector<double> PottsPcdChains::swap_acceptance() const {
  if (!ladder_) return {};
  const std::size_t pairs = ladder_->num_replicas() - 1;
  std::vector<double> accepted(pairs, 0), attempts(pairs, 0);
  for (const Ladder::State& s : ladders_)
    for (std::size_t k = 0; k < pairs; ++k) accepted[k] += double(s.accepted[k]), attempts[k] += double(s.attempts[k]);
  for (std::size_t k = 0; k < pairs; ++k) accepted[k] = attempts[k] > 0 ? accepted[k] / attempts[k] : 0.0;
  return accepted;
}

std::size_t PottsPcdChains::round_trips() const {
  std::size_t n = 0;
  for (const Ladder::State& s : ladders_) n += s.round_trips;
  return n;
}

// ---- the fit ------------------------------------------------------------------------

void PottsPcdConfig::validate() const {
  check_arg(chains >= 1, "fit_potts_pcd: chains must be >= 1 (got {})", chains);
  check_arg(sweeps >= 1, "fit_potts_pcd: sweeps must be >= 1 (got {})", sweeps);
  if (!betas.empty()) {
    check_arg(betas.size() >= 2, "fit_potts_pcd: tempering needs at least 2 betas, got {}", betas.size());
    for (std::size_t k = 0; k < betas.size(); ++k)
      check_arg(std::isfinite(betas[k]) && betas[k] >= 0, "fit_potts_pcd: beta[{}] must be finite and >= 0 (got {})", k,
                betas[k]);
    for (std::size_t k = 1; k < betas.size(); ++k)
      check_arg(betas[k] > betas[k - 1], "fit_potts_pcd: betas must increase strictly; beta[{}] = {} follows beta[{}] = {}",
                k, betas[k], k - 1, betas[k - 1]);
    check_arg(betas.back() == 1.0, "fit_potts_pcd: the last beta must be 1 (the model), got {}", betas.back());
  }
  check_lambda("fit_potts_pcd", lambda_h, lambda_e);
  check_arg(sgd.updates >= 1, "fit_potts_pcd: updates must be >= 1 (got {})", sgd.updates);
  check_arg(std::isfinite(sgd.learning_rate) && sgd.learning_rate > 0,
            "fit_potts_pcd: learning_rate must be finite and > 0 (got {})", sgd.learning_rate);
  check_arg(sgd.momentum >= 0 && sgd.momentum < 1, "fit_potts_pcd: momentum must be in [0, 1) (got {})", sgd.momentum);
  check_arg(sgd.average_last <= sgd.updates, "fit_potts_pcd: average_last ({}) exceeds updates ({})", sgd.average_last,
            sgd.updates);
}

PottsPcdFit fit_potts_pcd(const PottsData& data, const PottsPcdConfig& config, const Exec& exec, Observer& obs) {
  const auto t0 = std::chrono::steady_clock::now();
  config.validate();
  const char* who = "fit_potts_pcd";
  check_pcd_data(who, data);
  const auto L = std::size_t(data.states.cols());
  const std::size_t q = data.q;
  // The graph and the starting model.
  Potts model = [&] {
    if (config.init) {
      const Potts& m = *config.init;
      check_arg(m.n_sites() == L && m.num_states() == q,
                "fit_potts_pcd: the init model has {} sites and q = {}; the data has {} sites and q = {}", m.n_sites(),
                m.num_states(), L, q);
      return m;
    }
    if (config.edges.empty()) return Potts::dense(L, q);
    check_edges(who, config.edges, L);
    try {
      return Potts(MatrixD::Zero(Eigen::Index(L), Eigen::Index(q)), config.edges,
                   VectorD::Zero(Eigen::Index(config.edges.size() * q * q)));
    } catch (const Error& e) {
      fail(Exit::usage, "fit_potts_pcd: bad edge list: {}", e.what());
    }
  }();
  const PottsMoments target = data_moments(who, data, model.edges(), exec);
  const double W = data.weights.sum();
  if (!config.init) {
    // plmc's start: h_i(a) = log(f_i(a)·W + 1), centred over a.
    for (std::size_t i = 0; i < L; ++i) {
      auto h = model.fields().row(Eigen::Index(i));
      for (std::size_t a = 0; a < q; ++a) h[Eigen::Index(a)] = std::log(target.site(Eigen::Index(i), Eigen::Index(a)) * W + 1);
      h.array() -= h.mean();
    }
  }

  PottsPcdChains chains(model, config.chains, config.sweeps, config.betas, Stream::derive(config.seed, Purpose::chains, 0));
  const IsingSgdParams& sgd = config.sgd;
  VectorD theta = model.parameters();
  VectorD velocity = VectorD::Zero(theta.size()), average = VectorD::Zero(theta.size());
  PottsPcdFit fit;
  fit.trace.reserve(sgd.updates);
  PottsMoments neg;
  VectorD g;
  for (std::size_t t = 0; t < sgd.updates; ++t) {
    chains.advance(model, Stream::derive(config.seed, Purpose::gibbs, t), exec);
    chains.moments(model, exec, neg);
    fit.trace.push_back(gradient_into(theta, L * q, target, neg, config.lambda_h, config.lambda_e, W, g));
    const double lr = sgd.decay_updates == 0 ? sgd.learning_rate
                                             : sgd.learning_rate / (1.0 + double(t) / double(sgd.decay_updates));
    velocity = sgd.momentum * velocity - lr * g;
    theta += velocity;
    check_arg(theta.allFinite(), "fit_potts_pcd: the parameters stopped being finite at update {} (lower the learning rate)",
              t);
    model.set_parameters(theta);
    if (t + sgd.average_last >= sgd.updates) average += theta;
    obs.progress("pcd", t + 1, sgd.updates);
  }
  if (sgd.average_last > 1) model.set_parameters(average / double(sgd.average_last));
  fit.model = std::move(model);
  fit.updates = sgd.updates;
  fit.swap_acceptance = chains.swap_acceptance();
  fit.round_trips = chains.round_trips();
  fit.seconds = seconds_since(t0);
  return fit;
}

}  // namespace logz
