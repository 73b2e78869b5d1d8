// The Potts PCD objective: available-case data moments, chain moments, the gradient.
#include "logz/objectives/potts_pcd.hpp"

#include <cmath>

#include "logz/core/check.hpp"

namespace logz {

namespace {

/// Edges per task when moments are counted edge by edge (fixed: thread-independent).
constexpr std::size_t kEdgeBlock = 64;

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

}  // namespace

void check_potts_pcd_data(const char* who, const PottsData& d) {
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

void check_potts_pcd_edges(const char* who, const std::vector<PottsEdge>& edges, std::size_t L) {
  for (std::size_t e = 0; e < edges.size(); ++e)
    check_arg(edges[e].i < L && edges[e].j < L, "{}: edge {} = ({}, {}) has a site beyond the data's {} sites", who, e,
              edges[e].i, edges[e].j, L);
}

void check_potts_pcd_penalty(const char* who, double lambda_h, double lambda_e) {
  check_arg(std::isfinite(lambda_h) && lambda_h >= 0, "{}: lambda_h must be finite and >= 0, got {}", who, lambda_h);
  check_arg(std::isfinite(lambda_e) && lambda_e >= 0, "{}: lambda_e must be finite and >= 0, got {}", who, lambda_e);
}

// ---- moments and gradient -----------------------------------------------------------

PottsMoments potts_data_moments(const PottsData& data, const std::vector<PottsEdge>& edges, const Exec& exec,
                                const char* who) {
  check_potts_pcd_data(who, data);
  check_potts_pcd_edges(who, edges, std::size_t(data.states.cols()));
  const Matrix<std::uint8_t> by_site = data.states.transpose();
  PottsMoments m;
  count_moments(who, by_site, data.weights, data.q, edges, exec, m);
  return m;
}

void potts_state_moments(const Potts& model, const MatrixD& states, const Exec& exec, PottsMoments& out) {
  const std::size_t L = model.n_sites(), C = std::size_t(states.rows());
  check_arg(std::size_t(states.cols()) == L, "potts_state_moments: the states have {} sites but the model has {}",
            states.cols(), L);
  Matrix<std::uint8_t> by_site(static_cast<Eigen::Index>(L), static_cast<Eigen::Index>(C));
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t i = 0; i < L; ++i)
      by_site(Eigen::Index(i), Eigen::Index(c)) = std::uint8_t(states(Eigen::Index(c), Eigen::Index(i)));
  count_moments("potts_state_moments", by_site, VectorD::Ones(Eigen::Index(C)), model.num_states(), model.edges(), exec,
                out);
}

double potts_pcd_gradient(const VectorD& theta, std::size_t lq, const PottsMoments& data, const PottsMoments& chains,
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

VectorD potts_pcd_gradient(const Potts& model, const PottsMoments& data, const PottsMoments& chains, double lambda_h,
                           double lambda_e, double total_weight) {
  const std::size_t L = model.n_sites(), q = model.num_states(), E = model.n_edges();
  for (const PottsMoments* m : {&data, &chains})
    check_arg(std::size_t(m->site.rows()) == L && std::size_t(m->site.cols()) == q &&
                  std::size_t(m->edge.size()) == E * q * q,
              "potts_pcd_gradient: moments of shape {}×{} with {} pair entries do not fit the model ({} sites, q = {}, "
              "{} edges)",
              m->site.rows(), m->site.cols(), m->edge.size(), L, q, E);
  check_potts_pcd_penalty("potts_pcd_gradient", lambda_h, lambda_e);
  check_arg(std::isfinite(total_weight) && total_weight > 0,
            "potts_pcd_gradient: total_weight must be finite and > 0, got {}", total_weight);
  VectorD g;
  potts_pcd_gradient(model.parameters(), L * q, data, chains, lambda_h, lambda_e, total_weight, g);
  return g;
}

}  // namespace logz
