// Ising maximum likelihood: data moments, the exact likelihood and its L-BFGS fit, the PCD
// gradient.
#include "logz/objectives/ising_ml.hpp"

#include <cmath>

#include "logz/core/check.hpp"
#include "logz/exact/ising_exact.hpp"

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

}  // namespace

void check_ising_moments(const char* who, const Ising& model, const IsingDataMoments& d) {
  check_arg(std::size_t(d.mean.size()) == model.n_spins() && std::size_t(d.correlation.size()) == model.n_edges(),
            "{}: the data moments have {} means and {} correlations; the model has {} spins and {} edges", who,
            d.mean.size(), d.correlation.size(), model.n_spins(), model.n_edges());
}

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

IsingDataMoments ising_state_moments(const Ising& model, const MatrixD& states, const Exec& ex) {
  check_arg(std::size_t(states.cols()) == model.n_spins(), "ising_state_moments: the states have {} spins but the model has {}",
            states.cols(), model.n_spins());
  return moments_over_blocks(model, states, ex);
}

double ising_exact_nll(const Ising& model, const IsingDataMoments& data, const IsingL2& l2, VectorD* gradient,
                       const Exec& ex) {
  check_arg(model.n_spins() <= max_ising_enumerated_spins,
            "ising_exact_nll: the model has {} spins; exact likelihood enumerates 2^n states, n <= {}", model.n_spins(),
            max_ising_enumerated_spins);
  check_ising_moments("ising_exact_nll", model, data);
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
  check_ising_moments("fit_ising_exact", init, data);
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

VectorD ising_pcd_gradient(const Ising& model, const IsingDataMoments& data, const IsingDataMoments& chains,
                           const IsingL2& l2) {
  const auto n = Eigen::Index(model.n_spins()), m = Eigen::Index(model.n_edges());
  VectorD g(n + m);
  g.head(n) = chains.mean - data.mean;
  g.tail(m) = chains.correlation - data.correlation;
  ising_l2_penalty(model, l2, &g);
  return g;
}

}  // namespace logz
