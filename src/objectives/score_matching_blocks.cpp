// Score matching's J_SM for the models that evaluate it a row block at a time with
// matrix products: the GRBM (docs/gaussian-rbm.md, "Score matching in blocks"), the
// neural energy and the Student-t experts (their add_score_matching_terms); sliced
// (Song et al. 2019) and denoising (Vincent 2011) score matching likewise for the GRBM
// and the experts (their add_sliced_score_matching_terms and
// add_denoising_score_matching_terms).
#include <Eigen/Core>

#include "logz/core/math.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/neural_energy.hpp"
#include "logz/models/student_t_experts.hpp"
#include "logz/objectives/score_matching.hpp"

namespace logz {
namespace {
using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
}  // namespace

double score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data, VectorD* gradient, const Exec& ex) {
  check_continuous_data("score_matching_objective", data, model.dimension(), true);
  const GaussianRbm& rbm = model.model();
  const Eigen::Index n = Eigen::Index(rbm.n_visible()), m = Eigen::Index(rbm.n_hidden());
  const Eigen::Index p = Eigen::Index(model.num_parameters());
  const bool want = gradient != nullptr, learn = rbm.learn_sigma;
  const VectorD& sv = model.inverse_variance();
  const MatrixD& sw = model.scaled_weights();
  const VectorD a = sw.array().square().colwise().sum().transpose().matrix();  // Σ_i W_ij² / σ_i⁴
  const double trace = sv.sum();
  // Per block (rows X): Pre = X (W/σ²) + c, P, Q, Q' elementwise; the score
  // G = (X − b − P Wᵀ) diag(s); Ψ = G diag(s); D = Q ⊙ (Ψ W) − Q' diag(a); then
  // (docs/gaussian-rbm.md) ∂J/∂W = −ΨᵀP − UᵀD + 2 diag(s) (W/σ²) diag(Σ_r Q_r) with
  // U = X diag(s), and the other blocks by column sums.
  return detail::sum_block_terms(
      std::size_t(data.rows()), std::size_t(p), want, double(data.rows()), gradient, ex,
      [&](Eigen::Index r0, Eigen::Index nr, VectorD& out) {
        const auto x = data.middleRows(r0, nr);
        MatrixD pre(nr, m);
        pre.noalias() = x * sw;
        pre.rowwise() += rbm.hidden_bias.transpose();
        MatrixD pr(nr, m), q(nr, m), q1(nr, m);
        for (Eigen::Index j = 0; j < m; ++j)
          for (Eigen::Index r = 0; r < nr; ++r) {
            const double pj = sigmoid(pre(r, j));
            pr(r, j) = pj;
            q(r, j) = pj * (1 - pj);
            q1(r, j) = q(r, j) * (1 - 2 * pj);
          }
        MatrixD resid(nr, n);  // X − b − P Wᵀ
        resid.noalias() = -pr * rbm.weights.transpose();
        resid += x;
        resid.rowwise() -= rbm.visible_bias.transpose();
        const MatrixD score = resid * sv.asDiagonal();
        const VectorD lap = trace - (q * a).array();
        out[0] = 0.5 * score.squaredNorm() - lap.sum();
        if (!want) return;
        const MatrixD psi = score * sv.asDiagonal();
        MatrixD dd(nr, m);
        dd.noalias() = psi * rbm.weights;
        dd = (dd.array() * q.array()).matrix() - q1 * a.asDiagonal();
        const MatrixD u = x * sv.asDiagonal();
        const VectorD qsum = q.colwise().sum().transpose();
        auto g = out.tail(p);
        auto gw = Eigen::Map<RowMajorD>(g.data(), n, m);
        gw.noalias() = -psi.transpose() * pr;
        gw.noalias() -= u.transpose() * dd;
        gw += 2 * sv.asDiagonal() * sw * qsum.asDiagonal();
        g.segment(n * m, n) = -psi.colwise().sum().transpose();
        g.segment(n * m + n, m) = -dd.colwise().sum().transpose();
        if (learn) {
          // Σ_r [−2 Ψ ⊙ R + 2 U ⊙ (D Wᵀ)] + 2 N s − 4 s ⊙ ((W/σ² ⊙ W) Σ_r Q_r).
          MatrixD dw(nr, n);
          dw.noalias() = dd * rbm.weights.transpose();
          g.segment(n * m + n + m, n) =
              (-2 * (psi.array() * resid.array()) + 2 * (u.array() * dw.array())).colwise().sum().transpose().matrix() +
              (2 * double(nr) * sv.array() -
               4 * sv.array() * ((sw.array() * rbm.weights.array()).matrix() * qsum).array())
                  .matrix();
        }
      });
}

double score_matching_objective(const NeuralEnergy& model, const MatrixD& data, VectorD* gradient, const Exec& ex) {
  return detail::block_score_matching_objective(model, data, gradient, ex);
}

double score_matching_objective(const StudentTExperts& model, const MatrixD& data, VectorD* gradient, const Exec& ex) {
  return detail::block_score_matching_objective(model, data, gradient, ex);
}

double sliced_score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data, const SlicedOptions& options,
                                       VectorD* gradient, const Exec& ex) {
  return detail::block_sliced_score_matching_objective(model, data, options, nullptr, gradient, ex);
}

double sliced_score_matching_objective(const StudentTExperts& model, const MatrixD& data, const SlicedOptions& options,
                                       VectorD* gradient, const Exec& ex) {
  return detail::block_sliced_score_matching_objective(model, data, options, nullptr, gradient, ex);
}

double denoising_score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data,
                                          const DenoisingOptions& options, VectorD* gradient, const Exec& ex) {
  return detail::block_denoising_score_matching_objective(model, data, options, nullptr, gradient, ex);
}

double denoising_score_matching_objective(const StudentTExperts& model, const MatrixD& data,
                                          const DenoisingOptions& options, VectorD* gradient, const Exec& ex) {
  return detail::block_denoising_score_matching_objective(model, data, options, nullptr, gradient, ex);
}

double sliced_score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data, const SlicedOptions& options,
                                       const MatrixD& drawn, VectorD* gradient, const Exec& ex) {
  return detail::block_sliced_score_matching_objective(model, data, options, &drawn, gradient, ex);
}

double sliced_score_matching_objective(const StudentTExperts& model, const MatrixD& data, const SlicedOptions& options,
                                       const MatrixD& drawn, VectorD* gradient, const Exec& ex) {
  return detail::block_sliced_score_matching_objective(model, data, options, &drawn, gradient, ex);
}

double denoising_score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data,
                                          const DenoisingOptions& options, const MatrixD& drawn, VectorD* gradient,
                                          const Exec& ex) {
  return detail::block_denoising_score_matching_objective(model, data, options, &drawn, gradient, ex);
}

double denoising_score_matching_objective(const StudentTExperts& model, const MatrixD& data,
                                          const DenoisingOptions& options, const MatrixD& drawn, VectorD* gradient,
                                          const Exec& ex) {
  return detail::block_denoising_score_matching_objective(model, data, options, &drawn, gradient, ex);
}

namespace {

template <class M>
ScoreFit<M> fit_sliced_blocks(const M& init, const MatrixD& data, const SlicedOptions& sliced,
                              const LbfgsOptions& options, const Exec& ex, const LbfgsCallback& on_iteration) {
  check_continuous_data("fit_sliced_score_matching", data, init.dimension(), true);
  check_sliced_options("fit_sliced_score_matching", sliced);
  MatrixD drawn;
  const bool keep = detail::keep_draws(sliced.projections);
  if (keep) drawn = sliced_projections_all(sliced, std::size_t(data.rows()), init.dimension(), ex);
  return detail::fit_lbfgs(init, options, on_iteration, [&](const M& m, VectorD* g) {
    return detail::block_sliced_score_matching_objective(m, data, sliced, keep ? &drawn : nullptr, g, ex);
  });
}

template <class M>
ScoreFit<M> fit_denoising_blocks(const M& init, const MatrixD& data, const DenoisingOptions& denoising,
                                 const LbfgsOptions& options, const Exec& ex, const LbfgsCallback& on_iteration) {
  check_continuous_data("fit_denoising_score_matching", data, init.dimension(), false);
  check_denoising_options("fit_denoising_score_matching", denoising);
  MatrixD drawn;
  const bool keep = detail::keep_draws(denoising.sigmas.size() * denoising.draws);
  if (keep) drawn = denoising_noise_all(denoising, std::size_t(data.rows()), init.dimension(), ex);
  return detail::fit_lbfgs(init, options, on_iteration, [&](const M& m, VectorD* g) {
    return detail::block_denoising_score_matching_objective(m, data, denoising, keep ? &drawn : nullptr, g, ex);
  });
}

}  // namespace

ScoreFit<GrbmFreeEnergy> fit_sliced_score_matching(const GrbmFreeEnergy& init, const MatrixD& data,
                                                   const SlicedOptions& sliced, const LbfgsOptions& options,
                                                   const Exec& ex, const LbfgsCallback& on_iteration) {
  return fit_sliced_blocks(init, data, sliced, options, ex, on_iteration);
}

ScoreFit<StudentTExperts> fit_sliced_score_matching(const StudentTExperts& init, const MatrixD& data,
                                                    const SlicedOptions& sliced, const LbfgsOptions& options,
                                                    const Exec& ex, const LbfgsCallback& on_iteration) {
  return fit_sliced_blocks(init, data, sliced, options, ex, on_iteration);
}

ScoreFit<GrbmFreeEnergy> fit_denoising_score_matching(const GrbmFreeEnergy& init, const MatrixD& data,
                                                      const DenoisingOptions& denoising, const LbfgsOptions& options,
                                                      const Exec& ex, const LbfgsCallback& on_iteration) {
  return fit_denoising_blocks(init, data, denoising, options, ex, on_iteration);
}

ScoreFit<StudentTExperts> fit_denoising_score_matching(const StudentTExperts& init, const MatrixD& data,
                                                       const DenoisingOptions& denoising, const LbfgsOptions& options,
                                                       const Exec& ex, const LbfgsCallback& on_iteration) {
  return fit_denoising_blocks(init, data, denoising, options, ex, on_iteration);
}

}  // namespace logz
