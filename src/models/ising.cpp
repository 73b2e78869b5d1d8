// Ising model: validation, graph constructors, energies and parameter views.
#include "logz/models/ising.hpp"

#include "logz/models/graph.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace logz {

Ising::Ising(std::size_t n_spins, std::vector<IsingEdge> edges, VectorD fields, SpinConvention convention)
    : n_(n_spins), edges_(std::move(edges)), fields_(std::move(fields)), convention_(convention) {
  check_data(n_ > 0, "Ising: the model needs at least one spin, got 0");
  check_data(std::size_t(fields_.size()) == n_, "Ising: fields has {} entries but the model has {} spins",
             fields_.size(), n_);
  for (std::size_t i = 0; i < n_; ++i)
    check_data(std::isfinite(fields_[Eigen::Index(i)]), "Ising: field {} is not finite ({})", i,
               fields_[Eigen::Index(i)]);
  detail::check_edges("Ising", n_, edges_);
  for (std::size_t e = 0; e < edges_.size(); ++e)
    check_data(std::isfinite(edges_[e].coupling), "Ising: edge {} ({}, {}) has a non-finite coupling {}", e,
               edges_[e].i, edges_[e].j, edges_[e].coupling);
  build_adjacency();
}

void Ising::build_adjacency() {
  offsets_.assign(n_ + 1, 0);
  for (const IsingEdge& e : edges_) ++offsets_[e.i + 1], ++offsets_[e.j + 1];
  for (std::size_t i = 0; i < n_; ++i) offsets_[i + 1] += offsets_[i];
  adjacency_.resize(offsets_[n_]);
  std::vector<std::size_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (std::size_t e = 0; e < edges_.size(); ++e) {
    adjacency_[fill[edges_[e].i]++] = {edges_[e].j, e};
    adjacency_[fill[edges_[e].j]++] = {edges_[e].i, e};
  }
}

namespace {
void check_periodic(std::string_view caller, std::string_view what, std::size_t l, Boundary b) {
  check_arg(b == Boundary::open || l >= 3, "{}: a periodic direction needs at least 3 sites, got {} = {}", caller,
            what, l);
}
VectorD uniform(std::size_t n, double v) { return VectorD::Constant(Eigen::Index(n), v); }
}  // namespace

Ising Ising::chain(std::size_t n, double coupling, double field, Boundary boundary, SpinConvention convention) {
  check_arg(n > 0, "Ising::chain: n must be positive, got 0");
  check_periodic("Ising::chain", "n", n, boundary);
  std::vector<IsingEdge> edges;
  for (std::size_t i = 0; i + 1 < n; ++i) edges.push_back({i, i + 1, coupling});
  if (boundary == Boundary::periodic) edges.push_back({n - 1, 0, coupling});
  return Ising(n, std::move(edges), uniform(n, field), convention);
}

Ising Ising::lattice_2d(std::size_t l1, std::size_t l2, double coupling, double field, Boundary boundary_rows,
                        Boundary boundary_cols, SpinConvention convention) {
  check_arg(l1 > 0 && l2 > 0, "Ising::lattice_2d: L1 and L2 must be positive, got {}x{}", l1, l2);
  check_periodic("Ising::lattice_2d", "L1", l1, boundary_rows);
  check_periodic("Ising::lattice_2d", "L2", l2, boundary_cols);
  std::vector<IsingEdge> edges;
  for (std::size_t r = 0; r < l1; ++r)
    for (std::size_t c = 0; c < l2; ++c) {
      const std::size_t s = r * l2 + c;
      if (c + 1 < l2) edges.push_back({s, s + 1, coupling});
      else if (boundary_cols == Boundary::periodic) edges.push_back({s, r * l2, coupling});
      if (r + 1 < l1) edges.push_back({s, s + l2, coupling});
      else if (boundary_rows == Boundary::periodic) edges.push_back({s, c, coupling});
    }
  Ising m(l1 * l2, std::move(edges), uniform(l1 * l2, field), convention);
  m.lattice_ = Lattice2D{l1, l2, boundary_rows, boundary_cols};
  return m;
}

Ising Ising::lattice_3d(std::size_t l1, std::size_t l2, std::size_t l3, double coupling, double field,
                        Boundary boundary, SpinConvention convention) {
  check_arg(l1 > 0 && l2 > 0 && l3 > 0, "Ising::lattice_3d: L1, L2 and L3 must be positive, got {}x{}x{}", l1, l2,
            l3);
  check_periodic("Ising::lattice_3d", "L1", l1, boundary);
  check_periodic("Ising::lattice_3d", "L2", l2, boundary);
  check_periodic("Ising::lattice_3d", "L3", l3, boundary);
  const std::size_t l[3] = {l1, l2, l3};
  auto site = [&](std::size_t a, std::size_t b, std::size_t c) { return (a * l2 + b) * l3 + c; };
  std::vector<IsingEdge> edges;
  for (std::size_t a = 0; a < l1; ++a)
    for (std::size_t b = 0; b < l2; ++b)
      for (std::size_t c = 0; c < l3; ++c) {
        const std::size_t x[3] = {a, b, c};
        for (int d = 0; d < 3; ++d) {
          std::size_t y[3] = {x[0], x[1], x[2]};
          if (x[d] + 1 < l[d]) y[d] = x[d] + 1;
          else if (boundary == Boundary::periodic) y[d] = 0;
          else continue;
          edges.push_back({site(a, b, c), site(y[0], y[1], y[2]), coupling});
        }
      }
  return Ising(l1 * l2 * l3, std::move(edges), uniform(l1 * l2 * l3, field), convention);
}

Ising Ising::fully_connected(std::size_t n, double coupling, double field, SpinConvention convention) {
  check_arg(n > 0, "Ising::fully_connected: n must be positive, got 0");
  std::vector<IsingEdge> edges;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) edges.push_back({i, j, coupling});
  return Ising(n, std::move(edges), uniform(n, field), convention);
}

void Ising::check_spins(std::string_view caller, const Eigen::Ref<const VectorD>& s) const {
  check_arg(std::size_t(s.size()) == n_, "{}: the state has {} entries but the model has {} spins", caller, s.size(),
            n_);
  const double down = down_value();
  for (Eigen::Index i = 0; i < s.size(); ++i)
    check_arg(s[i] == 1.0 || s[i] == down, "{}: entry {} of the state is {}, not a spin value ({} or 1)", caller, i,
              s[i], down);
}

double Ising::energy(const Eigen::Ref<const VectorD>& s) const {
  check_spins("Ising::energy", s);
  double e = -fields_.dot(s);
  for (const IsingEdge& ed : edges_) e -= ed.coupling * s[Eigen::Index(ed.i)] * s[Eigen::Index(ed.j)];
  return e;
}

double Ising::local_field(std::size_t i, const Eigen::Ref<const VectorD>& s) const {
  check_arg(i < n_, "Ising::local_field: site {} is out of range [0, {})", i, n_);
  check_spins("Ising::local_field", s);
  return field_sum(i, s);
}

std::array<double, 2> Ising::site_energies(std::size_t i, const Eigen::Ref<const VectorD>& s) const {
  const double f = local_field(i, s);
  return {-down_value() * f, -f};
}

VectorD Ising::parameters() const {
  VectorD theta{Eigen::Index(num_parameters())};
  theta.head(Eigen::Index(n_)) = fields_;
  for (std::size_t e = 0; e < edges_.size(); ++e) theta[Eigen::Index(n_ + e)] = edges_[e].coupling;
  return theta;
}

void Ising::set_parameters(const Eigen::Ref<const VectorD>& theta) {
  check_data(std::size_t(theta.size()) == num_parameters(),
             "Ising::set_parameters: theta has {} entries but the model has {} parameters ({} fields + {} couplings)",
             theta.size(), num_parameters(), n_, edges_.size());
  for (Eigen::Index k = 0; k < theta.size(); ++k)
    check_data(std::isfinite(theta[k]), "Ising::set_parameters: entry {} is not finite ({})", k, theta[k]);
  fields_ = theta.head(Eigen::Index(n_));
  for (std::size_t e = 0; e < edges_.size(); ++e) edges_[e].coupling = theta[Eigen::Index(n_ + e)];
}

MatrixD Ising::couplings_matrix() const {
  MatrixD j = MatrixD::Zero(Eigen::Index(n_), Eigen::Index(n_));
  for (const IsingEdge& e : edges_) j(Eigen::Index(e.i), Eigen::Index(e.j)) = j(Eigen::Index(e.j), Eigen::Index(e.i)) = e.coupling;
  return j;
}

}  // namespace logz
