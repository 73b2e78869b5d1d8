// Exact maximum likelihood and PCD for Ising models, and the fit_ising façade.
#include "logz/objectives/ising_ml.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include "logz/core/check.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/kernels/site_gibbs.hpp"
#include "logz/objectives/pseudolikelihood.hpp"
#include "logz/objectives/ratio_matching.hpp"

namespace logz {

namespace {

const char* convention_name(const Ising& m) {
  return m.convention() == SpinConvention::plus_minus_one ? "±1 spins" : "0/1 spins";
}

/// Sums of s_i and s_i s_j (per edge) over `rows` rows of `x` from row r0: one vector
/// of n + m entries.
VectorD moment_sums(const Ising& model, const MatrixD& x, Eigen::Index r0, Eigen::Index rows) {
  const auto n = Eigen::Index(model.n_spins());
  VectorD acc = VectorD::Zero(n + Eigen::Index(model.n_edges()));
  // Column-major copy: each column is one spin over the block's samples.
  const Eigen::MatrixXd s = x.middleRows(r0, rows);
  acc.head(n) = s.colwise().sum().transpose();
  const auto& edges = model.edges();
  for (std::size_t e = 0; e < edges.size(); ++e)
    acc[n + Eigen::Index(e)] = s.col(Eigen::Index(edges[e].i)).dot(s.col(Eigen::Index(edges[e].j)));
  return acc;
}

IsingDataMoments moments_over_blocks(const Ising& model, const MatrixD& x, const Exec& ex) {
  const Blocks blocks = row_blocks(std::size_t(x.rows()));
  const auto n = Eigen::Index(model.n_spins()), m = Eigen::Index(model.n_edges());
  const VectorD sum = parallel_reduce(
      ex, blocks.count(), VectorD(VectorD::Zero(n + m)),
      [&](std::size_t t) { return moment_sums(model, x, Eigen::Index(blocks.begin(t)), Eigen::Index(blocks.size(t))); },
      [](VectorD a, const VectorD& b) { return VectorD(a + b); });
  const double inv = 1.0 / double(x.rows());
  return IsingDataMoments{sum.head(n) * inv, sum.tail(m) * inv, std::size_t(x.rows())};
}

void check_moments(const char* who, const Ising& model, const IsingDataMoments& d) {
  check_arg(std::size_t(d.mean.size()) == model.n_spins() && std::size_t(d.correlation.size()) == model.n_edges(),
            "{}: the data moments have {} means and {} correlations; the model has {} spins and {} edges", who,
            d.mean.size(), d.correlation.size(), model.n_spins(), model.n_edges());
}

}  // namespace

void check_ising_data(const char* who, const Ising& model, const MatrixD& data) {
  check_arg(data.rows() > 0, "{}: the data has no rows", who);
  check_arg(std::size_t(data.cols()) == model.n_spins(), "{}: the data has {} columns but the model has {} spins", who,
            data.cols(), model.n_spins());
  const double down = model.down_value();
  for (Eigen::Index r = 0; r < data.rows(); ++r)
    for (Eigen::Index c = 0; c < data.cols(); ++c) {
      const double v = data(r, c);
      check_arg(v == 1.0 || v == down, "{}: data[{}, {}] = {} is not a spin value of the model ({})", who, r, c, v,
                convention_name(model));
    }
}

void check_ising_l2(const char* who, const IsingL2& l2) {
  check_arg(std::isfinite(l2.fields) && l2.fields >= 0, "{}: the L2 penalty on fields must be finite and >= 0 (got {})",
            who, l2.fields);
  check_arg(std::isfinite(l2.couplings) && l2.couplings >= 0,
            "{}: the L2 penalty on couplings must be finite and >= 0 (got {})", who, l2.couplings);
}

double ising_l2_penalty(const Ising& model, const IsingL2& l2, VectorD* gradient) {
  const auto n = Eigen::Index(model.n_spins());
  double v = 0.5 * l2.fields * model.fields().squaredNorm();
  if (gradient) gradient->head(n) += l2.fields * model.fields();
  const auto& edges = model.edges();
  for (std::size_t e = 0; e < edges.size(); ++e) {
    v += 0.5 * l2.couplings * edges[e].coupling * edges[e].coupling;
    if (gradient) (*gradient)[n + Eigen::Index(e)] += l2.couplings * edges[e].coupling;
  }
  return v;
}

IsingDataMoments ising_data_moments(const Ising& model, const MatrixD& data, const Exec& ex) {
  check_ising_data("ising_data_moments", model, data);
  return moments_over_blocks(model, data, ex);
}

double ising_exact_nll(const Ising& model, const IsingDataMoments& data, const IsingL2& l2, VectorD* gradient,
                       const Exec& ex) {
  check_arg(model.n_spins() <= max_ising_enumerated_spins,
            "ising_exact_nll: the model has {} spins; exact likelihood enumerates 2^n states, n <= {}", model.n_spins(),
            max_ising_enumerated_spins);
  check_moments("ising_exact_nll", model, data);
  check_ising_l2("ising_exact_nll", l2);
  const IsingMoments exact = ising_enumeration_moments(model, ex);
  const auto n = Eigen::Index(model.n_spins()), m = Eigen::Index(model.n_edges());
  VectorD J(m);
  for (Eigen::Index e = 0; e < m; ++e) J[e] = model.edges()[std::size_t(e)].coupling;
  double nll = exact.log_z - model.fields().dot(data.mean) - J.dot(data.correlation);
  if (gradient) {
    gradient->resize(n + m);
    gradient->head(n) = exact.mean - data.mean;
    gradient->tail(m) = exact.correlation - data.correlation;
  }
  return nll + ising_l2_penalty(model, l2, gradient);
}

IsingFit fit_ising_exact(const Ising& init, const IsingDataMoments& data, const IsingL2& l2, const LbfgsOptions& options,
                         const Exec& ex) {
  check_arg(init.n_spins() <= max_ising_enumerated_spins,
            "fit_ising_exact: the model has {} spins; exact likelihood enumerates 2^n states, n <= {}", init.n_spins(),
            max_ising_enumerated_spins);
  check_moments("fit_ising_exact", init, data);
  check_ising_l2("fit_ising_exact", l2);
  return fit_ising_lbfgs(
      init, [&](const Ising& m, VectorD* grad) { return ising_exact_nll(m, data, l2, grad, ex); }, options, "exact",
      "negative mean log-likelihood");
}

IsingFit fit_ising_lbfgs(const Ising& init, const std::function<double(const Ising&, VectorD*)>& objective,
                         const LbfgsOptions& options, std::string method, std::string trace_name) {
  Ising work = init;
  auto f = [&](const VectorD& theta, VectorD& grad) {
    work.set_parameters(theta);
    return objective(work, &grad);
  };
  LbfgsResult r = minimize_lbfgs(f, init.parameters(), options);
  work.set_parameters(r.x);
  return IsingFit{std::move(work),  std::move(method), std::move(trace_name), std::move(r.trace), r.iterations,
                  r.converged,      r.gradient_norm};
}

// ---- PCD ----------------------------------------------------------------------------

namespace {
void check_pcd_params(const IsingPcdParams& p) {
  check_arg(p.n_chains >= 1, "IsingPcd: n_chains must be >= 1 (got {})", p.n_chains);
  check_arg(p.sweeps >= 1, "IsingPcd: sweeps must be >= 1 (got {})", p.sweeps);
}
}  // namespace

IsingPcd::IsingPcd(const Ising& model, IsingPcdParams params, const Stream& init) : params_(params) {
  check_pcd_params(params_);
  const auto C = Eigen::Index(params_.n_chains), n = Eigen::Index(model.n_spins());
  chains_.resize(C, n);
  for (Eigen::Index c = 0; c < C; ++c) {
    Stream rng = init.derive(Purpose::chains, std::uint64_t(c));
    for (Eigen::Index i = 0; i < n; ++i) chains_(c, i) = model.spin_value(rng.uniform_double() < 0.5);
  }
}

IsingPcd::IsingPcd(IsingPcdParams params, MatrixD chains) : params_(params), chains_(std::move(chains)) {
  check_pcd_params(params_);
  check_arg(std::size_t(chains_.rows()) == params_.n_chains, "IsingPcd: {} chain states given for n_chains = {}",
            chains_.rows(), params_.n_chains);
}

void IsingPcd::advance(const Ising& model, const Stream& stream, const Exec& ex) {
  check_arg(std::size_t(chains_.cols()) == model.n_spins(), "IsingPcd: the chains have {} spins but the model has {}",
            chains_.cols(), model.n_spins());
  const SystematicGibbs kernel({params_.sweeps, 1.0});
  // Blocks of about 16k site updates (fixed by the problem size): a small model's
  // update stays on one thread, where a parallel region would cost more than the work.
  const std::size_t per_chain = std::max<std::size_t>(1, model.n_spins() * params_.sweeps);
  const Blocks blocks{params_.n_chains, std::max<std::size_t>(1, (std::size_t(1) << 14) / per_chain)};
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    VectorD s;
    for (std::size_t c = blocks.begin(t); c < blocks.end(t); ++c) {
      Stream rng = stream.derive(Purpose::gibbs, c);
      s = chains_.row(Eigen::Index(c)).transpose();
      kernel.step(model, s, rng);
      chains_.row(Eigen::Index(c)) = s.transpose();
    }
  });
}

IsingDataMoments IsingPcd::chain_moments(const Ising& model, const Exec& ex) const {
  check_arg(std::size_t(chains_.cols()) == model.n_spins(), "IsingPcd: the chains have {} spins but the model has {}",
            chains_.cols(), model.n_spins());
  // Summation order is fixed by the blocks, so running small sums on one thread
  // changes no bit; it only skips a parallel region that would cost more than the sums.
  const std::size_t work = params_.n_chains * (model.n_spins() + model.n_edges());
  return moments_over_blocks(model, chains_, work < (std::size_t(1) << 16) ? Exec(1) : ex);
}

VectorD IsingPcd::gradient(const Ising& model, const IsingDataMoments& data, const IsingL2& l2, const Stream& stream,
                           const Exec& ex) {
  check_moments("IsingPcd", model, data);
  advance(model, stream, ex);
  const IsingDataMoments neg = chain_moments(model, ex);
  const auto n = Eigen::Index(model.n_spins()), m = Eigen::Index(model.n_edges());
  VectorD g(n + m);
  g.head(n) = neg.mean - data.mean;
  g.tail(m) = neg.correlation - data.correlation;
  ising_l2_penalty(model, l2, &g);
  return g;
}

IsingFit fit_ising_pcd(const Ising& init, const IsingDataMoments& data, const IsingL2& l2, const IsingPcdParams& pcd,
                       const IsingSgdParams& sgd, std::uint64_t seed, const Exec& ex) {
  check_moments("fit_ising_pcd", init, data);
  check_ising_l2("fit_ising_pcd", l2);
  check_arg(sgd.updates >= 1, "fit_ising_pcd: updates must be >= 1 (got {})", sgd.updates);
  check_arg(std::isfinite(sgd.learning_rate) && sgd.learning_rate > 0,
            "fit_ising_pcd: learning_rate must be finite and > 0 (got {})", sgd.learning_rate);
  check_arg(sgd.momentum >= 0 && sgd.momentum < 1, "fit_ising_pcd: momentum must be in [0, 1) (got {})", sgd.momentum);
  check_arg(sgd.average_last <= sgd.updates, "fit_ising_pcd: average_last ({}) exceeds updates ({})", sgd.average_last,
            sgd.updates);
  Ising model = init;
  IsingPcd chains(model, pcd, Stream::derive(seed, Purpose::chains, 0));
  VectorD theta = model.parameters();
  VectorD velocity = VectorD::Zero(theta.size()), average = VectorD::Zero(theta.size());
  std::vector<double> trace;
  trace.reserve(sgd.updates);
  for (std::size_t t = 0; t < sgd.updates; ++t) {
    const VectorD g = chains.gradient(model, data, l2, Stream::derive(seed, Purpose::gibbs, t), ex);
    trace.push_back(g.norm());
    const double lr = sgd.decay_updates == 0 ? sgd.learning_rate
                                             : sgd.learning_rate / (1.0 + double(t) / double(sgd.decay_updates));
    velocity = sgd.momentum * velocity - lr * g;
    theta += velocity;
    model.set_parameters(theta);
    if (t + sgd.average_last >= sgd.updates) average += theta;
  }
  if (sgd.average_last > 1) model.set_parameters(average / double(sgd.average_last));
  const double last = trace.back();
  return IsingFit{std::move(model), "pcd", "gradient-estimate norm", std::move(trace), sgd.updates, false, last};
}

// ---- façade -------------------------------------------------------------------------

std::string_view ising_fit_method_name(IsingFitMethod method) {
  switch (method) {
    case IsingFitMethod::ratio_matching: return "rm";
    case IsingFitMethod::exact_ml: return "exact";
    case IsingFitMethod::pcd: return "pcd";
    case IsingFitMethod::pseudolikelihood: return "pl";
  }
  fail(Exit::software, "ising_fit_method_name: unknown method {}", int(method));
}

IsingFitMethod parse_ising_fit_method(std::string_view name) {
  for (IsingFitMethod m : {IsingFitMethod::ratio_matching, IsingFitMethod::exact_ml, IsingFitMethod::pcd,
                           IsingFitMethod::pseudolikelihood})
    if (name == ising_fit_method_name(m)) return m;
  fail(Exit::usage, "parse_ising_fit_method: unknown method '{}' (expected rm, exact, pcd or pl)", name);
}

namespace {
// Pseudolikelihood through the binary Potts fit (state 1 = up). Penalty ½λ‖θ‖² on the
// mean objective is λN/2 ‖θ‖² on the sum that fit_pseudolikelihood minimises.
IsingFit fit_ising_pseudolikelihood(const MatrixD& spins, SpinConvention conv, const IsingFitConfig& config,
                                    const Exec& ex) {
  check_arg(config.edges.empty(), "fit_ising: pseudolikelihood fits every pair of spins; got {} edges",
            config.edges.size());
  PottsData d;
  d.q = 2;
  d.states = (spins.array() == 1).cast<std::uint8_t>();
  d.weights = VectorD::Ones(spins.rows());
  const double n = double(spins.rows());
  PseudolikelihoodConfig c;
  c.lambda_h = config.l2.fields * n / 2;
  c.lambda_e = config.l2.couplings * n / 2;
  c.max_iterations = config.lbfgs.max_iterations;
  c.gradient_tolerance = config.lbfgs.gradient_tolerance;
  c.relative_decrease = 0;
  const PseudolikelihoodFit pl = fit_pseudolikelihood(d, c, ex);
  return IsingFit{.model = pl.model.to_ising(conv),
                  .method = "pl",
                  .trace_name = "pseudolikelihood objective (sum over samples, penalty included)",
                  .trace = pl.objective_trace,
                  .iterations = pl.iterations,
                  .converged = pl.stopped_by == "gradient",
                  .gradient_norm = std::numeric_limits<double>::quiet_NaN()};
}
}  // namespace

IsingFit fit_ising(const MatrixD& spins, const IsingFitConfig& config, const Exec& ex) {
  check_arg(spins.rows() > 0 && spins.cols() > 0, "fit_ising: spins has shape ({}, {}); expected at least one row and column",
            spins.rows(), spins.cols());
  // The convention is read from the data: any -1 means ±1, any 0 means 0/1.
  Eigen::Index minus_r = -1, minus_c = -1, zero_r = -1, zero_c = -1;
  for (Eigen::Index r = 0; r < spins.rows(); ++r)
    for (Eigen::Index c = 0; c < spins.cols(); ++c) {
      const double v = spins(r, c);
      check_arg(v == 1 || v == -1 || v == 0, "fit_ising: spins[{}, {}] = {} is neither ±1 nor 0/1", r, c, v);
      if (v == -1 && minus_r < 0) minus_r = r, minus_c = c;
      if (v == 0 && zero_r < 0) zero_r = r, zero_c = c;
    }
  check_arg(minus_r < 0 || zero_r < 0,
            "fit_ising: spins mix the conventions: spins[{}, {}] = -1 but spins[{}, {}] = 0; use all ±1 or all 0/1",
            minus_r, minus_c, zero_r, zero_c);
  const SpinConvention conv = zero_r >= 0 ? SpinConvention::zero_one : SpinConvention::plus_minus_one;
  const auto n = std::size_t(spins.cols());
  std::vector<IsingEdge> edges;
  if (config.edges.empty()) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j) edges.push_back({i, j, 0.0});
  } else {
    for (const auto& [i, j] : config.edges) edges.push_back({i, j, 0.0});
  }
  Ising init = [&] {
    try {
      return Ising(n, std::move(edges), VectorD::Zero(Eigen::Index(n)), conv);
    } catch (const Error& e) {
      fail(Exit::usage, "fit_ising: bad graph: {}", e.what());
    }
  }();
  switch (config.method) {
    case IsingFitMethod::ratio_matching: return fit_ratio_matching(init, spins, config.l2, config.lbfgs, ex);
    case IsingFitMethod::exact_ml:
      return fit_ising_exact(init, ising_data_moments(init, spins, ex), config.l2, config.lbfgs, ex);
    case IsingFitMethod::pcd:
      return fit_ising_pcd(init, ising_data_moments(init, spins, ex), config.l2, config.pcd, config.sgd, config.seed, ex);
    case IsingFitMethod::pseudolikelihood: return fit_ising_pseudolikelihood(spins, conv, config, ex);
  }
  fail(Exit::software, "fit_ising: unknown method {}", int(config.method));
}

}  // namespace logz
