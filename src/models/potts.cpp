// Potts model: validation, adjacency, energies, parameter views and the zero-sum gauge.
#include "logz/models/potts.hpp"

#include "logz/models/graph.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace logz {

Potts::Potts(MatrixD fields, std::vector<PottsEdge> edges, VectorD couplings)
    : n_(std::size_t(fields.rows())),
      q_(std::size_t(fields.cols())),
      fields_(std::move(fields)),
      edges_(std::move(edges)),
      couplings_(std::move(couplings)) {
  check_data(n_ > 0, "Potts: the model needs at least one site, got 0");
  check_data(q_ >= 2, "Potts: the model needs q >= 2 states, got {}", q_);
  check_data(std::size_t(couplings_.size()) == edges_.size() * q_ * q_,
             "Potts: couplings has {} entries but {} edges of {}x{} blocks need {}", couplings_.size(), edges_.size(),
             q_, q_, edges_.size() * q_ * q_);
  for (std::size_t i = 0; i < n_; ++i)
    for (std::size_t a = 0; a < q_; ++a)
      check_data(std::isfinite(fields_(Eigen::Index(i), Eigen::Index(a))), "Potts: field h_{}({}) is not finite ({})",
                 i, a, fields_(Eigen::Index(i), Eigen::Index(a)));
  detail::check_edges("Potts", n_, edges_);
  for (std::size_t e = 0; e < edges_.size(); ++e)
    for (double v : block(e))
      check_data(std::isfinite(v), "Potts: edge {} ({}, {}) has a non-finite coupling {}", e, edges_[e].i, edges_[e].j,
                 v);
  // Dense: every pair once, in the order dense() builds (i < j, lexicographic).
  dense_ = edges_.size() == n_ * (n_ - 1) / 2;
  for (std::size_t i = 0, e = 0; dense_ && i < n_; ++i)
    for (std::size_t j = i + 1; dense_ && j < n_; ++j, ++e) dense_ = edges_[e].i == i && edges_[e].j == j;
  build_adjacency();
  transpose_blocks();
}

void Potts::transpose_blocks() {
  transposed_.resize(couplings_.size());
  for (std::size_t e = 0; e < edges_.size(); ++e)
    for (std::size_t a = 0; a < q_; ++a)
      for (std::size_t b = 0; b < q_; ++b)
        transposed_[Eigen::Index(e * q_ * q_ + b * q_ + a)] = couplings_[Eigen::Index(e * q_ * q_ + a * q_ + b)];
}

void Potts::set_block(std::size_t e, std::span<const double> values) {
  check_data(e < edges_.size() && values.size() == q_ * q_, "Potts::set_block: edge {} of {} with {} values (q² = {})",
             e, edges_.size(), values.size(), q_ * q_);
  for (std::size_t k = 0; k < values.size(); ++k) {
    check_data(std::isfinite(values[k]), "Potts::set_block: value {} is not finite ({})", k, values[k]);
    couplings_[Eigen::Index(e * q_ * q_ + k)] = values[k];
  }
  for (std::size_t a = 0; a < q_; ++a)
    for (std::size_t b = 0; b < q_; ++b) transposed_[Eigen::Index(e * q_ * q_ + b * q_ + a)] = values[a * q_ + b];
}

Potts Potts::dense(std::size_t n_sites, std::size_t q) {
  check_arg(n_sites > 0 && q >= 2, "Potts::dense: need n_sites >= 1 and q >= 2, got {} and {}", n_sites, q);
  std::vector<PottsEdge> edges;
  edges.reserve(n_sites * (n_sites - 1) / 2);
  for (std::size_t i = 0; i < n_sites; ++i)
    for (std::size_t j = i + 1; j < n_sites; ++j) edges.push_back({i, j});
  const auto nq = Eigen::Index(n_sites), qq = Eigen::Index(q), m = Eigen::Index(edges.size());
  // m is read before the call: arguments are evaluated in no fixed order, and one moves `edges`.
  return Potts(MatrixD::Zero(nq, qq), std::move(edges), VectorD::Zero(m * qq * qq));
}

Potts Potts::from_ising(const Ising& model) {
  // h_i(a) = h_i s(a), J_ij(a, b) = J_ij s(a) s(b) with s(0) = down value, s(1) = 1:
  // the same energy for every state, in either spin convention.
  const double s[2] = {model.down_value(), 1.0};
  MatrixD fields(Eigen::Index(model.n_spins()), 2);
  for (std::size_t i = 0; i < model.n_spins(); ++i)
    for (int a = 0; a < 2; ++a) fields(Eigen::Index(i), a) = model.fields()[Eigen::Index(i)] * s[a];
  std::vector<PottsEdge> edges;
  VectorD couplings(Eigen::Index(4 * model.n_edges()));
  for (std::size_t e = 0; e < model.n_edges(); ++e) {
    const IsingEdge& ed = model.edges()[e];
    edges.push_back({ed.i, ed.j});
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) couplings[Eigen::Index(4 * e + 2 * a + b)] = ed.coupling * s[a] * s[b];
  }
  return Potts(std::move(fields), std::move(edges), std::move(couplings));
}

Ising Potts::to_ising(SpinConvention convention, double* shift) const {
  check_arg(q_ == 2, "Potts::to_ising: needs q = 2, the model has q = {}", q_);
  // In 0/1 states: J(x_i, x_j) = J00 + (J10 - J00) x_i + (J01 - J00) x_j + K x_i x_j with
  // K = J11 - J10 - J01 + J00, so the 0/1 model has coupling K and field gains
  // g_i = h_i(1) - h_i(0) + Σ (J10 - J00 or J01 - J00); E_potts = E_01 + c.
  VectorD g(static_cast<Eigen::Index>(n_));
  double c = 0;
  for (std::size_t i = 0; i < n_; ++i) {
    g[Eigen::Index(i)] = fields_(Eigen::Index(i), 1) - fields_(Eigen::Index(i), 0);
    c -= fields_(Eigen::Index(i), 0);
  }
  std::vector<IsingEdge> edges;
  for (std::size_t e = 0; e < edges_.size(); ++e) {
    const auto b = block(e);
    g[Eigen::Index(edges_[e].i)] += b[2] - b[0];
    g[Eigen::Index(edges_[e].j)] += b[1] - b[0];
    c -= b[0];
    edges.push_back({edges_[e].i, edges_[e].j, b[3] - b[2] - b[1] + b[0]});
  }
  if (convention == SpinConvention::plus_minus_one) {
    // x = (s + 1) / 2: K x_i x_j = K/4 (s_i s_j + s_i + s_j + 1), g x = g/2 (s + 1).
    VectorD h = g / 2;
    for (IsingEdge& e : edges) {
      h[Eigen::Index(e.i)] += e.coupling / 4, h[Eigen::Index(e.j)] += e.coupling / 4;
      c -= e.coupling / 4;
      e.coupling /= 4;
    }
    c -= g.sum() / 2;
    g = h;
  }
  if (shift) *shift = c;
  return Ising(n_, std::move(edges), std::move(g), convention);
}

void Potts::build_adjacency() {
  offsets_.assign(n_ + 1, 0);
  for (const PottsEdge& e : edges_) ++offsets_[e.i + 1], ++offsets_[e.j + 1];
  for (std::size_t i = 0; i < n_; ++i) offsets_[i + 1] += offsets_[i];
  adjacency_.resize(offsets_[n_]);
  std::vector<std::size_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (std::size_t e = 0; e < edges_.size(); ++e) {
    adjacency_[fill[edges_[e].i]++] = {edges_[e].j, e, false};
    adjacency_[fill[edges_[e].j]++] = {edges_[e].i, e, true};
  }
}

std::size_t Potts::edge_index(std::size_t i, std::size_t j) const {
  if (i >= n_ || j >= n_ || i == j) return edges_.size();
  if (dense_) {
    const std::size_t a = std::min(i, j), b = std::max(i, j);
    return a * n_ - a * (a + 1) / 2 + (b - a - 1);
  }
  for (const Neighbor* nb = neighbors_begin(i); nb != neighbors_end(i); ++nb)
    if (nb->site == j) return nb->edge;
  return edges_.size();
}

double Potts::coupling(std::size_t i, std::size_t j, std::size_t a, std::size_t b) const {
  const std::size_t e = edge_index(i, j);
  if (e == edges_.size()) return 0.0;
  const auto blk = block(e);
  return edges_[e].i == i ? blk[a * q_ + b] : blk[b * q_ + a];
}

void Potts::check_state(const char* caller, const Eigen::Ref<const VectorD>& x) const {
  check_arg(std::size_t(x.size()) == n_, "{}: state has {} sites but the model has {}", caller, x.size(), n_);
  for (Eigen::Index i = 0; i < x.size(); ++i)
    check_arg(x[i] >= 0 && x[i] < double(q_) && x[i] == std::floor(x[i]),
              "{}: site {} has value {}, not a state in [0, {})", caller, i, x[i], q_);
}

double Potts::energy(const Eigen::Ref<const VectorD>& x) const {
  check_state("Potts::energy", x);
  double e = 0;
  for (std::size_t i = 0; i < n_; ++i) e -= fields_(Eigen::Index(i), Eigen::Index(x[Eigen::Index(i)]));
  for (std::size_t k = 0; k < edges_.size(); ++k) {
    const auto a = std::size_t(x[Eigen::Index(edges_[k].i)]), b = std::size_t(x[Eigen::Index(edges_[k].j)]);
    e -= couplings_[Eigen::Index(k * q_ * q_ + a * q_ + b)];
  }
  return e;
}

void Potts::site_energies(std::size_t i, const Eigen::Ref<const VectorD>& x, std::span<double> out) const {
  for (std::size_t a = 0; a < q_; ++a) out[a] = -fields_(Eigen::Index(i), Eigen::Index(a));
  // J_ij(a, b) over a for the neighbour's state b: row b of the transposed block when i
  // is the edge's first site, row b of the block itself when it is the second.
  for (const Neighbor* nb = neighbors_begin(i); nb != neighbors_end(i); ++nb) {
    const auto b = std::size_t(x[Eigen::Index(nb->site)]);
    const double* row = (nb->transposed ? couplings_.data() : transposed_.data()) + nb->edge * q_ * q_ + b * q_;
    for (std::size_t a = 0; a < q_; ++a) out[a] -= row[a];
  }
}

VectorD Potts::parameters() const {
  VectorD theta(static_cast<Eigen::Index>(num_parameters()));
  theta.head(Eigen::Index(n_ * q_)) = Eigen::Map<const VectorD>(fields_.data(), Eigen::Index(n_ * q_));
  theta.tail(couplings_.size()) = couplings_;
  return theta;
}

void Potts::set_parameters(const Eigen::Ref<const VectorD>& theta) {
  check_data(std::size_t(theta.size()) == num_parameters(), "Potts::set_parameters: got {} values, the model has {}",
             theta.size(), num_parameters());
  for (Eigen::Index k = 0; k < theta.size(); ++k)
    check_data(std::isfinite(theta[k]), "Potts::set_parameters: value {} is not finite ({})", k, theta[k]);
  Eigen::Map<VectorD>(fields_.data(), Eigen::Index(n_ * q_)) = theta.head(Eigen::Index(n_ * q_));
  couplings_ = theta.tail(couplings_.size());
  transpose_blocks();
}

double Potts::zero_sum_gauge() {
  double shift = 0;
  const auto q = Eigen::Index(q_);
  for (std::size_t e = 0; e < edges_.size(); ++e) {
    Eigen::Map<MatrixD> j(couplings_.data() + e * q_ * q_, q, q);
    const VectorD rows = j.rowwise().mean(), cols = j.colwise().mean().transpose();
    const double mean = rows.mean();
    fields_.row(Eigen::Index(edges_[e].i)) += (rows.array() - mean).matrix().transpose();
    fields_.row(Eigen::Index(edges_[e].j)) += (cols.array() - mean).matrix().transpose();
    j.colwise() -= rows;
    j.rowwise() -= cols.transpose();
    j.array() += mean;
    shift += mean;
  }
  for (std::size_t i = 0; i < n_; ++i) {
    const double mean = fields_.row(Eigen::Index(i)).mean();
    fields_.row(Eigen::Index(i)).array() -= mean;
    shift += mean;
  }
  transpose_blocks();
  return shift;
}

}  // namespace logz
