// fit_ising: the Ising training façade over ratio matching, exact ML, PCD and
// pseudolikelihood.
#include "logz/training/ising_fit.hpp"

#include <cstdint>
#include <limits>

#include "logz/core/check.hpp"
#include "logz/objectives/pseudolikelihood.hpp"
#include "logz/objectives/rbm_tempered_chains.hpp"
#include "logz/objectives/ratio_matching.hpp"

namespace logz {

std::string_view ising_fit_method_name(IsingFitMethod method) {
  switch (method) {
    case IsingFitMethod::ratio_matching: return "rm";
    case IsingFitMethod::exact_ml: return "exact";
    case IsingFitMethod::pcd: return "pcd";
    case IsingFitMethod::pseudolikelihood: return "pl";
    case IsingFitMethod::pt: return "pt";
  }
  fail(Exit::software, "ising_fit_method_name: unknown method {}", int(method));
}

IsingFitMethod parse_ising_fit_method(std::string_view name) {
  for (IsingFitMethod m : {IsingFitMethod::ratio_matching, IsingFitMethod::exact_ml, IsingFitMethod::pcd,
                           IsingFitMethod::pseudolikelihood, IsingFitMethod::pt})
    if (name == ising_fit_method_name(m)) return m;
  fail(Exit::usage, "parse_ising_fit_method: unknown method '{}' (expected rm, exact, pcd, pt or pl)", name);
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
      return fit_ising_pcd(init, ising_data_moments(init, spins, ex), config.l2, config.pcd, config.sgd, config.seed, ex,
                           silent_observer(), config.checkpoints);
    case IsingFitMethod::pseudolikelihood: return fit_ising_pseudolikelihood(spins, conv, config, ex);
    case IsingFitMethod::pt: {
      IsingPcdParams pcd = config.pcd;
      if (pcd.betas.empty()) pcd.betas = default_tempering_ladder(10);
      return fit_ising_pcd(init, ising_data_moments(init, spins, ex), config.l2, pcd, config.sgd, config.seed, ex,
                           silent_observer(), config.checkpoints);
    }
  }
  fail(Exit::software, "fit_ising: unknown method {}", int(config.method));
}

}  // namespace logz
