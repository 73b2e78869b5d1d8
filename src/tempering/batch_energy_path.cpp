// The geometric path to a population-at-a-time energy (tempering/batch_energy_path.hpp).
#include "logz/tempering/batch_energy_path.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "logz/core/check.hpp"

namespace logz {

void BatchEnergy::energies_and_gradients(const MatrixD&, std::span<double>, MatrixD&) const {
  fail(Exit::usage, "BatchEnergy: this energy has no gradient");
}

BatchEnergyPath::BatchEnergyPath(const Gaussian& base, const BatchEnergy& target, Moves moves)
    : base_(base), target_(target), moves_(std::move(moves)) {
  check_arg(base.dimension() == target.dimension(), "BatchEnergyPath: the base has dimension {} but the energy has {}",
            base.dimension(), target.dimension());
  check_config(moves_.kernel == "mala" || moves_.kernel == "rwm", {"kernel"},
               "estimate: @0 must be mala or rwm for a batch energy, got '{}'", moves_.kernel);
  check_config(moves_.kernel != "mala" || target.has_gradient(), {"kernel"},
               "estimate: @0 mala needs the energy's gradient; give one or use rwm");
  check_config(std::isfinite(moves_.step_size) && moves_.step_size > 0, {"step_size"},
               "estimate: @0 must be positive, got {}", moves_.step_size);
  check_config(moves_.sweeps >= 1, {"sweeps"}, "estimate: @0 must be >= 1, got {}", moves_.sweeps);
  scale_ = moves_.step_size * base.covariance().diagonal().cwiseSqrt();
}

void BatchEnergyPath::draw_base(const Exec&, Particles& x, std::span<Stream> streams) const {
  x.resize(Eigen::Index(streams.size()), Eigen::Index(dimension()));
  VectorD v{Eigen::Index(dimension())};
  for (std::size_t r = 0; r < streams.size(); ++r) {
    base_.sample(streams[r], v);
    x.row(Eigen::Index(r)) = v.transpose();
  }
}

void BatchEnergyPath::dlog_f(const Exec&, const Particles& x, double, std::span<double> out) const {
  check_arg(std::size_t(x.rows()) == out.size(), "BatchEnergyPath: {} particles but {} entries to fill", x.rows(),
            out.size());
  target_.energies(x, out);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const double e1 = out[std::size_t(r)];
    out[std::size_t(r)] = base_.energy(x.row(r).transpose()) - (std::isnan(e1) ? std::numeric_limits<double>::infinity() : e1);
  }
}

void BatchEnergyPath::log_ratio(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> out) const {
  dlog_f(ex, x, b0, out);
  for (double& v : out) v *= (b1 - b0);
}

void BatchEnergyPath::tempered(const Particles& x, double beta, std::span<double> u, MatrixD* grad) const {
  if (grad) target_.energies_and_gradients(x, u, *grad);
  else target_.energies(x, u);
  VectorD g0{Eigen::Index(dimension())};
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const double e0 = base_.energy_and_gradient(x.row(r).transpose(), g0);
    double& e = u[std::size_t(r)];
    e = std::isnan(e) ? std::numeric_limits<double>::infinity() : (1 - beta) * e0 + beta * e;
    if (grad) grad->row(r) = (1 - beta) * g0.transpose() + beta * grad->row(r);
  }
}

MoveInfo BatchEnergyPath::move(const Exec&, Particles& x, double beta, std::span<Stream> streams) const {
  const Eigen::Index n = x.rows(), d = x.cols();
  check_arg(std::size_t(n) == streams.size(), "BatchEnergyPath: {} particles but {} streams", n, streams.size());
  const bool mala = moves_.kernel == "mala";
  const VectorD eps2 = scale_.cwiseProduct(scale_);
  std::vector<double> u(static_cast<std::size_t>(n)), u_new(static_cast<std::size_t>(n));
  MatrixD g, g_new, proposal(n, d);
  tempered(x, beta, u, mala ? &g : nullptr);
  double accepted = 0;
  std::size_t non_finite = 0;
  for (std::size_t sweep = 0; sweep < moves_.sweeps; ++sweep) {
    for (Eigen::Index r = 0; r < n; ++r) {
      Stream& s = streams[std::size_t(r)];
      for (Eigen::Index j = 0; j < d; ++j) {
        const double drift = mala ? -0.5 * eps2(j) * g(r, j) : 0.0;
        proposal(r, j) = x(r, j) + drift + scale_(j) * s.normal();
      }
    }
    tempered(proposal, beta, u_new, mala ? &g_new : nullptr);
    for (Eigen::Index r = 0; r < n; ++r) {
      const std::size_t i = std::size_t(r);
      double log_alpha = u[i] - u_new[i];
      if (mala) {  // the Langevin proposal's densities, q(x | x') / q(x' | x)
        double back = 0, forth = 0;
        for (Eigen::Index j = 0; j < d; ++j) {
          const double b = (x(r, j) - proposal(r, j) + 0.5 * eps2(j) * g_new(r, j)) / scale_(j);
          const double f = (proposal(r, j) - x(r, j) + 0.5 * eps2(j) * g(r, j)) / scale_(j);
          back += b * b, forth += f * f;
        }
        log_alpha += 0.5 * (forth - back);
      }
      // Every particle draws its uniform, accepted or not, so streams stay in step.
      const double log_u = std::log(streams[i].uniform_double());
      if (!std::isfinite(u_new[i]) || std::isnan(log_alpha)) {
        ++non_finite;
        continue;
      }
      if (log_u < log_alpha) {
        x.row(r) = proposal.row(r);
        u[i] = u_new[i];
        if (mala) g.row(r) = g_new.row(r);
        accepted += 1;
      }
    }
  }
  MoveInfo info;
  info.acceptance = accepted / double(std::size_t(n) * moves_.sweeps);
  info.non_finite = non_finite;
  return info;
}

}  // namespace logz
