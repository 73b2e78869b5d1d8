// Ratio matching for binary Ising models: objective and closed-form gradient over fixed
// row blocks, L-BFGS fit.
#include "logz/objectives/ratio_matching.hpp"

#include <cmath>

#include "logz/core/check.hpp"

namespace logz {

namespace {

/// [J-sum, ∂/∂h (n), ∂/∂J (m)] of the rows [r0, r0 + rows), unnormalised.
VectorD block_terms(const Ising& model, const MatrixD& data, Eigen::Index r0, Eigen::Index rows, bool want_gradient) {
  const auto n = Eigen::Index(model.n_spins()), m = Eigen::Index(model.n_edges());
  const auto& edges = model.edges();
  // Column-major copy: every operation below runs down a column, over the block's samples.
  const Eigen::MatrixXd x = data.middleRows(r0, rows);
  Eigen::MatrixXd f = model.fields().transpose().replicate(rows, 1);  // f_i = h_i + Σ_j J_ij x_j
  for (const IsingEdge& e : edges) {
    f.col(Eigen::Index(e.i)) += e.coupling * x.col(Eigen::Index(e.j));
    f.col(Eigen::Index(e.j)) += e.coupling * x.col(Eigen::Index(e.i));
  }
  // d = x − x̄: ±(1 − down), + for an up spin.
  const double gap = 1.0 - model.down_value();
  const Eigen::ArrayXXd d = (x.array() == 1.0).select(Eigen::ArrayXXd::Constant(rows, n, gap), -gap);
  const Eigen::ArrayXXd delta = d * f.array();
  // σ(−Δ) and σ(Δ) from one exp(−|Δ|) (never overflows): each keeps its digits when
  // small, which 1 − σ would not.
  const Eigen::ArrayXXd e = (-delta.abs()).exp();
  const Eigen::ArrayXXd big = 1.0 / (1.0 + e), small = e * big;  // σ(|Δ|), σ(−|Δ|)
  const Eigen::ArrayXXd s_minus = (delta >= 0).select(small, big);
  VectorD out = VectorD::Zero(1 + (want_gradient ? n + m : 0));
  out[0] = s_minus.square().sum();
  if (!want_gradient) return out;
  const Eigen::ArrayXXd s_plus = (delta >= 0).select(big, small);
  const Eigen::MatrixXd g = (-2.0 * s_minus.square() * s_plus * d).matrix();  // ∂(σ(−Δ)²)/∂f_i
  out.segment(1, n) = g.colwise().sum().transpose();
  for (Eigen::Index e = 0; e < m; ++e) {
    const auto i = Eigen::Index(edges[std::size_t(e)].i), j = Eigen::Index(edges[std::size_t(e)].j);
    out[1 + n + e] = g.col(i).dot(x.col(j)) + g.col(j).dot(x.col(i));
  }
  return out;
}

double objective_unchecked(const Ising& model, const MatrixD& data, const IsingL2& l2, VectorD* gradient, const Exec& ex) {
  const Blocks blocks = row_blocks(std::size_t(data.rows()));
  const auto n = Eigen::Index(model.n_spins()), m = Eigen::Index(model.n_edges());
  const bool want = gradient != nullptr;
  const VectorD sum = parallel_reduce(
      ex, blocks.count(), VectorD(VectorD::Zero(1 + (want ? n + m : 0))),
      [&](std::size_t t) {
        return block_terms(model, data, Eigen::Index(blocks.begin(t)), Eigen::Index(blocks.size(t)), want);
      },
      [](VectorD a, const VectorD& b) { return VectorD(a + b); });
  const double inv = 1.0 / double(data.rows());
  if (gradient) *gradient = sum.tail(n + m) * inv;
  return sum[0] * inv + ising_l2_penalty(model, l2, gradient);
}

}  // namespace

double ratio_matching_objective(const Ising& model, const MatrixD& data, const IsingL2& l2, VectorD* gradient,
                                const Exec& ex) {
  check_ising_data("ratio_matching_objective", model, data);
  check_ising_l2("ratio_matching_objective", l2);
  return objective_unchecked(model, data, l2, gradient, ex);
}

IsingFit fit_ratio_matching(const Ising& init, const MatrixD& data, const IsingL2& l2, const LbfgsOptions& options,
                            const Exec& ex) {
  check_ising_data("fit_ratio_matching", init, data);
  check_ising_l2("fit_ratio_matching", l2);
  return fit_ising_lbfgs(
      init, [&](const Ising& m, VectorD* grad) { return objective_unchecked(m, data, l2, grad, ex); }, options, "rm",
      "ratio matching objective");
}

}  // namespace logz
