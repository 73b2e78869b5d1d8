#pragma once
/// @file score_matching.hpp
/// Score matching for continuous energies on R^d (docs/score-matching.md): objectives
/// that need no partition function, with their gradients over a flat parameter vector θ.
///
/// - score matching (Hyvärinen 2005, "Estimation of non-normalized statistical models
///   by score matching", JMLR 6):
///     J_SM(θ) = (1/N) Σ_n [ ½ ‖∇ₓE(x_n)‖² − ΔₓE(x_n) ];
/// - sliced score matching (Song, Garg, Shi & Ermon 2019, UAI), M projections v per row:
///     J_SSM(θ) = (1/(N M)) Σ_n Σ_m [ ½ (vᵀ∇ₓE(x_n))² − vᵀ∇²ₓE(x_n) v ],
///   equal to J_SM in expectation over v whenever E[v vᵀ] = I (Rademacher or Gaussian v);
/// - denoising score matching (Vincent 2011, Neural Computation 23) over noise levels
///   σ_1..σ_L with the weights λ(σ) = σ² of Song & Ermon (2019), K draws per (row, level):
///     J_DSM(θ) = (1/(N L K)) Σ_n Σ_l Σ_k ½ ‖σ_l ∇ₓE(x_n + σ_l ε) − ε‖²,   ε ~ N(0, I),
///   i.e. ½ σ² ‖∇ₓE(x̃) − (x̃ − x)/σ²‖², the σ²-weighted distance of the model score to
///   the score of the noise kernel.
/// The random parts (projections, noise) are fixed per (seed, row, projection / level),
/// so each objective is a deterministic function of θ that L-BFGS can minimise.
/// Rows are split into fixed blocks (row_blocks) summed in block order: bit-identical
/// for any thread count.
///
/// The Student-t experts, the GRBM and (for J_SM) the neural energy also evaluate a block
/// of rows at a time with matrix products (non-template overloads below, the same values
/// to rounding as the per-row templates).
///
/// A model takes part through small concepts (core/concepts.hpp: FlatParameters,
/// ScoreParametric, ScoreMatchable, SliceScoreMatchable): the flat parameters, ∇ₓE, and
/// vector–Jacobian products of the quantities each objective needs. GaussianEnergy
/// (models/gaussian_energy.hpp) is the reference implementation.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/concepts.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/gaussian_energy.hpp"
#include "logz/optim/lbfgs.hpp"

namespace logz {

class GrbmFreeEnergy;
class NeuralEnergy;
class StudentTExperts;

// ---------------------------------------------------------------------------------------
// Options, results, data checks, the random parts.

enum class Projection { rademacher, gaussian };

struct SlicedOptions {
  std::size_t projections = 1;                 ///< M per row, >= 1
  Projection kind = Projection::rademacher;    ///< entries ±1, or N(0, 1)
  std::uint64_t seed = 0;
};

struct DenoisingOptions {
  std::vector<double> sigmas{0.1};  ///< noise levels σ_l, each finite and > 0
  std::size_t draws = 1;            ///< K noise draws per (row, level), >= 1
  std::uint64_t seed = 0;
};

/// What a fit returns: the fitted model and the L-BFGS record.
template <class M>
struct ScoreFit {
  M model;
  std::vector<double> trace;    ///< the objective at the start and after each iteration
  std::size_t iterations = 0;
  bool converged = false;       ///< the gradient test holds
  double gradient_norm = 0;
  std::string stopped_by;       ///< LbfgsResult::stopped_by
};

/// The data checks of the objectives: `data` has `dimension` columns (Exit::usage:
/// "<who>: data has C columns but the model has dimension D") and at least one row, every
/// entry is finite (Exit::data: "<who>: data(r, c) is not finite (v)"), and, when
/// `need_variance`, no column is constant (Exit::data: "<who>: column c has zero variance
/// (every sample is v)"; score matching's objective is unbounded below along it).
void check_continuous_data(const char* who, const MatrixD& data, std::size_t dimension, bool need_variance);
/// Throws Error(Exit::usage) naming `who` on projections == 0.
void check_sliced_options(const char* who, const SlicedOptions& options);
/// Throws Error(Exit::usage) naming `who` on no levels, a level that is not finite and
/// > 0, or draws == 0.
void check_denoising_options(const char* who, const DenoisingOptions& options);

/// The M projections of data row `row` (M × d, one per row): the stream
/// Stream::derive(seed, Purpose::noise, row) drawn in order, d values per projection
/// (Rademacher: the lowest bit of one word each; Gaussian: Stream::fill_normal), so
/// that projection m is the same for any M > m.
MatrixD sliced_projections(const SlicedOptions& options, std::size_t row, std::size_t d);
/// The K standard-normal draws ε of data row `row` at level `level` (K × d): the stream
/// Stream::derive(seed, Purpose::noise, row).derive(Purpose::noise, level) in order, one
/// Stream::fill_normal call per draw.
MatrixD denoising_noise(const DenoisingOptions& options, std::size_t row, std::size_t level, std::size_t d);
/// Every projection of J_SSM for `rows` data rows: row r·M + m is projection m of row r
/// (sliced_projections(options, r, d)), drawn by fixed row blocks (the same values for
/// any thread count). What a fit draws once and reuses at each evaluation.
MatrixD sliced_projections_all(const SlicedOptions& options, std::size_t rows, std::size_t d, const Exec& ex);
/// Every noise draw of J_DSM for `rows` data rows: row (l·rows + r)·K + k is draw k of
/// row r at level l (denoising_noise(options, r, l, d)), drawn by fixed row blocks.
MatrixD denoising_noise_all(const DenoisingOptions& options, std::size_t rows, std::size_t d, const Exec& ex);
/// sliced_projections written into `out` (options.projections × d, e.g. a slice of a
/// block's rows): the same values. Throws Error(Exit::usage) on another number of rows.
void sliced_projections_into(const SlicedOptions& options, std::size_t row, Eigen::Ref<MatrixD> out);
/// denoising_noise written into `out` (options.draws × d): the same values. Throws
/// Error(Exit::usage) on another number of rows.
void denoising_noise_into(const DenoisingOptions& options, std::size_t row, std::size_t level, Eigen::Ref<MatrixD> out);

// ---------------------------------------------------------------------------------------
// Objectives: the value at the model's parameters and, when `gradient` is not null, ∇θ.

namespace detail {

/// Σ over the fixed row blocks of row_blocks(rows) of block(first, count, out), where
/// out = [value, ∂/∂θ] (∂/∂θ only when want_gradient) starts at zero for each block and
/// the blocks are summed in block order (the same bits for any thread count); divided by
/// `norm`. For models that evaluate a block of rows at a time (matrix products).
template <class Block>
double sum_block_terms(std::size_t rows, std::size_t n_params, bool want_gradient, double norm, VectorD* gradient,
                       const Exec& ex, Block&& block) {
  const Blocks blocks = row_blocks(rows);
  const Eigen::Index width = 1 + (want_gradient ? Eigen::Index(n_params) : 0);
  const VectorD sum = parallel_reduce(
      ex, blocks.count(), VectorD(VectorD::Zero(width)),
      [&](std::size_t t) {
        VectorD out = VectorD::Zero(width);
        block(Eigen::Index(blocks.begin(t)), Eigen::Index(blocks.size(t)), out);
        return out;
      },
      [](VectorD a, const VectorD& b) { return VectorD(a + b); });
  if (gradient) *gradient = sum.tail(Eigen::Index(n_params)) / norm;
  return sum[0] / norm;
}

/// sum_block_terms with term(row, out) called for each row of the block in order.
template <class Term>
double sum_row_terms(std::size_t rows, std::size_t n_params, bool want_gradient, double norm, VectorD* gradient,
                     const Exec& ex, Term&& term) {
  return sum_block_terms(rows, n_params, want_gradient, norm, gradient, ex,
                         [&](Eigen::Index first, Eigen::Index count, VectorD& out) {
                           for (Eigen::Index r = first; r < first + count; ++r) term(std::size_t(r), out);
                         });
}

/// J_SM through the model's own block evaluation: model.add_score_matching_terms(rows, g)
/// returns Σ over `rows` of ½‖∇ₓE‖² − ΔₓE and adds its θ-gradient to g (g empty: no
/// gradient). What the score_matching_objective overloads of the models with a
/// matrix-product path call.
template <class M>
double block_score_matching_objective(const M& model, const MatrixD& data, VectorD* gradient, const Exec& ex) {
  check_continuous_data("score_matching_objective", data, model.dimension(), true);
  return sum_block_terms(std::size_t(data.rows()), model.num_parameters(), gradient != nullptr, double(data.rows()),
                         gradient, ex, [&](Eigen::Index first, Eigen::Index count, VectorD& out) {
                           out[0] += model.add_score_matching_terms(data.middleRows(first, count),
                                                                    out.tail(out.size() - 1));
                         });
}

/// J_SSM through the model's own block evaluation: the projections of a block's rows
/// (sliced_projections, M per row, row n·M + m) drawn into one matrix, or taken from
/// `drawn` (sliced_projections_all) when not null, then
/// model.add_sliced_score_matching_terms(rows, projections, g).
template <class M>
double block_sliced_score_matching_objective(const M& model, const MatrixD& data, const SlicedOptions& options,
                                             const MatrixD* drawn, VectorD* gradient, const Exec& ex) {
  check_continuous_data("sliced_score_matching_objective", data, model.dimension(), true);
  check_sliced_options("sliced_score_matching_objective", options);
  const Eigen::Index per_row = Eigen::Index(options.projections), d = data.cols();
  if (drawn)
    check_arg(drawn->rows() == data.rows() * per_row && drawn->cols() == d,
              "sliced_score_matching_objective: the drawn projections are {}x{} but the data need {}x{}", drawn->rows(),
              drawn->cols(), data.rows() * per_row, d);
  return sum_block_terms(std::size_t(data.rows()), model.num_parameters(), gradient != nullptr,
                         double(data.rows()) * double(options.projections), gradient, ex,
                         [&](Eigen::Index first, Eigen::Index count, VectorD& out) {
                           auto g = out.tail(out.size() - 1);
                           const auto x = data.middleRows(first, count);
                           if (drawn) {
                             out[0] += model.add_sliced_score_matching_terms(
                                 x, drawn->middleRows(first * per_row, count * per_row), g);
                             return;
                           }
                           thread_local MatrixD v;  // kept: a block's matrix lies above malloc's mmap threshold
                           v.resize(count * per_row, d);
                           for (Eigen::Index r = 0; r < count; ++r)
                             sliced_projections_into(options, std::size_t(first + r), v.middleRows(r * per_row, per_row));
                           out[0] += model.add_sliced_score_matching_terms(x, v, g);
                         });
}

/// J_DSM through the model's own block evaluation: per noise level, the draws of a block's
/// rows (denoising_noise, K per row, row n·K + k), drawn into one matrix or taken from
/// `drawn` (denoising_noise_all) when not null, and the noisy rows x + σε in another,
/// then model.add_denoising_score_matching_terms(noisy, noise, σ, g).
template <class M>
double block_denoising_score_matching_objective(const M& model, const MatrixD& data, const DenoisingOptions& options,
                                                const MatrixD* drawn, VectorD* gradient, const Exec& ex) {
  check_continuous_data("denoising_score_matching_objective", data, model.dimension(), false);
  check_denoising_options("denoising_score_matching_objective", options);
  const Eigen::Index draws = Eigen::Index(options.draws), d = data.cols(), n = data.rows();
  const Eigen::Index levels = Eigen::Index(options.sigmas.size());
  if (drawn)
    check_arg(drawn->rows() == n * levels * draws && drawn->cols() == d,
              "denoising_score_matching_objective: the drawn noise is {}x{} but the data need {}x{}", drawn->rows(),
              drawn->cols(), n * levels * draws, d);
  const double norm = double(n) * double(levels) * double(options.draws);
  return sum_block_terms(std::size_t(n), model.num_parameters(), gradient != nullptr, norm, gradient, ex,
                         [&](Eigen::Index first, Eigen::Index count, VectorD& out) {
                           thread_local MatrixD eps, noisy;  // kept, as v above
                           eps.resize(drawn ? 0 : count * draws, d);
                           noisy.resize(count * draws, d);
                           for (Eigen::Index l = 0; l < levels; ++l) {
                             const double sigma = options.sigmas[std::size_t(l)];
                             const Eigen::Ref<const MatrixD> e_all =
                                 drawn ? Eigen::Ref<const MatrixD>(drawn->middleRows((l * n + first) * draws, count * draws))
                                       : Eigen::Ref<const MatrixD>(eps);
                             for (Eigen::Index r = 0; r < count; ++r) {
                               if (!drawn)
                                 denoising_noise_into(options, std::size_t(first + r), std::size_t(l),
                                                      eps.middleRows(r * draws, draws));
                               // x + σε as the per-row path forms it (the same bits).
                               for (Eigen::Index k = 0; k < draws; ++k)
                                 noisy.row(r * draws + k) = data.row(first + r) + sigma * e_all.row(r * draws + k);
                             }
                             out[0] += model.add_denoising_score_matching_terms(noisy, e_all, sigma,
                                                                                out.tail(out.size() - 1));
                           }
                         });
}

/// Whether a fit draws its projections or noise once and keeps them (at most four times
/// the data's entries), instead of drawing them again at each evaluation.
inline bool keep_draws(std::size_t per_row) { return per_row <= 4; }

}  // namespace detail

/// J_SM at the model's parameters. Throws as check_continuous_data (variance required).
template <ScoreMatchable M>
double score_matching_objective(const M& model, const MatrixD& data, VectorD* gradient, const Exec& ex) {
  check_continuous_data("score_matching_objective", data, model.dimension(), true);
  const std::size_t d = model.dimension(), p = model.num_parameters();
  const bool want = gradient != nullptr;
  return detail::sum_row_terms(std::size_t(data.rows()), p, want, double(data.rows()), gradient, ex,
                               [&](std::size_t r, VectorD& out) {
                                 const VectorD x = data.row(Eigen::Index(r)).transpose();
                                 VectorD score = VectorD::Zero(Eigen::Index(d));
                                 model.energy_and_gradient(x, score);
                                 out[0] += 0.5 * score.squaredNorm() - model.laplacian(x);
                                 if (!want) return;
                                 auto g = out.tail(Eigen::Index(p));
                                 model.add_score_vjp(x, score, 1.0, g);  // ∂ ½‖s‖² = sᵀ ∂s
                                 model.add_laplacian_gradient(x, -1.0, g);
                               });
}

/// J_SM for the models that evaluate a row block at a time with matrix products (the
/// same value as the generic template to rounding; docs/gaussian-rbm.md, "Score matching
/// in blocks", for the GRBM). Being non-template functions of the exact types, they are
/// what score_matching_objective(model, ...) and fit_score_matching(model, ...) call for
/// these models. Rows are split by row_blocks and summed in block order: the same bits
/// for any thread count. Throws as check_continuous_data("score_matching_objective", ...).
double score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data, VectorD* gradient, const Exec& ex);
double score_matching_objective(const NeuralEnergy& model, const MatrixD& data, VectorD* gradient, const Exec& ex);
double score_matching_objective(const StudentTExperts& model, const MatrixD& data, VectorD* gradient, const Exec& ex);

/// J_SSM at the model's parameters with the projections of sliced_projections.
template <SliceScoreMatchable M>
double sliced_score_matching_objective(const M& model, const MatrixD& data, const SlicedOptions& options,
                                       VectorD* gradient, const Exec& ex) {
  check_continuous_data("sliced_score_matching_objective", data, model.dimension(), true);
  check_sliced_options("sliced_score_matching_objective", options);
  const std::size_t d = model.dimension(), p = model.num_parameters();
  const bool want = gradient != nullptr;
  return detail::sum_row_terms(
      std::size_t(data.rows()), p, want, double(data.rows()) * double(options.projections), gradient, ex,
      [&](std::size_t r, VectorD& out) {
        const VectorD x = data.row(Eigen::Index(r)).transpose();
        VectorD score = VectorD::Zero(Eigen::Index(d));
        model.energy_and_gradient(x, score);
        const MatrixD v = sliced_projections(options, r, d);
        for (Eigen::Index m = 0; m < v.rows(); ++m) {
          const VectorD vm = v.row(m).transpose();
          const double a = vm.dot(score);
          out[0] += 0.5 * a * a - model.hessian_quadratic(x, vm);
          if (!want) continue;
          auto g = out.tail(Eigen::Index(p));
          model.add_score_vjp(x, vm, a, g);  // ∂ ½(vᵀs)² = (vᵀs) vᵀ∂s
          model.add_hessian_quadratic_gradient(x, vm, -1.0, g);
        }
      });
}

/// J_DSM at the model's parameters with the noise of denoising_noise. Constant columns
/// are allowed (the noise makes the objective bounded).
template <ScoreParametric M>
double denoising_score_matching_objective(const M& model, const MatrixD& data, const DenoisingOptions& options,
                                          VectorD* gradient, const Exec& ex) {
  check_continuous_data("denoising_score_matching_objective", data, model.dimension(), false);
  check_denoising_options("denoising_score_matching_objective", options);
  const std::size_t d = model.dimension(), p = model.num_parameters(), levels = options.sigmas.size();
  const bool want = gradient != nullptr;
  const double norm = double(data.rows()) * double(levels) * double(options.draws);
  return detail::sum_row_terms(std::size_t(data.rows()), p, want, norm, gradient, ex, [&](std::size_t r, VectorD& out) {
    const VectorD x = data.row(Eigen::Index(r)).transpose();
    VectorD score = VectorD::Zero(Eigen::Index(d)), xt = VectorD::Zero(Eigen::Index(d));
    for (std::size_t l = 0; l < levels; ++l) {
      const double sigma = options.sigmas[l];
      const MatrixD eps = denoising_noise(options, r, l, d);
      for (Eigen::Index k = 0; k < eps.rows(); ++k) {
        xt = x + sigma * eps.row(k).transpose();
        model.energy_and_gradient(xt, score);
        const VectorD resid = sigma * score - eps.row(k).transpose();  // σ∇E(x̃) − ε
        out[0] += 0.5 * resid.squaredNorm();
        if (!want) continue;
        auto g = out.tail(Eigen::Index(p));
        model.add_score_vjp(xt, resid, sigma, g);  // ∂ ½‖σs − ε‖² = σ (σs − ε)ᵀ ∂s
      }
    }
  });
}

/// J_SSM and J_DSM for the models with a matrix-product path (add_sliced_score_matching_terms
/// and add_denoising_score_matching_terms: a block of rows, its projections or noisy
/// copies, through a few matrix products, the Hessian quadratic in closed form). The same
/// projections and noise draws as the generic templates, so the same value and gradient
/// to rounding (within 1e-10 relative; tests/objectives/score_matching_blocks_test.cpp);
/// rows split by row_blocks and summed in block order, the same bits for any thread
/// count. Being non-template functions of the exact types, they are what
/// sliced_score_matching_objective(model, ...), denoising_score_matching_objective(model,
/// ...) and the fits call for these models. Throw as the generic templates.
double sliced_score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data, const SlicedOptions& options,
                                       VectorD* gradient, const Exec& ex);
double sliced_score_matching_objective(const StudentTExperts& model, const MatrixD& data, const SlicedOptions& options,
                                       VectorD* gradient, const Exec& ex);
double denoising_score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data,
                                          const DenoisingOptions& options, VectorD* gradient, const Exec& ex);
double denoising_score_matching_objective(const StudentTExperts& model, const MatrixD& data,
                                          const DenoisingOptions& options, VectorD* gradient, const Exec& ex);
/// The same with the projections or noise drawn beforehand (sliced_projections_all,
/// denoising_noise_all for these options and data): the same bits as drawing them here.
/// Throws Error(Exit::usage) when `drawn` does not have the shape those give.
double sliced_score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data, const SlicedOptions& options,
                                       const MatrixD& drawn, VectorD* gradient, const Exec& ex);
double sliced_score_matching_objective(const StudentTExperts& model, const MatrixD& data, const SlicedOptions& options,
                                       const MatrixD& drawn, VectorD* gradient, const Exec& ex);
double denoising_score_matching_objective(const GrbmFreeEnergy& model, const MatrixD& data,
                                          const DenoisingOptions& options, const MatrixD& drawn, VectorD* gradient,
                                          const Exec& ex);
double denoising_score_matching_objective(const StudentTExperts& model, const MatrixD& data,
                                          const DenoisingOptions& options, const MatrixD& drawn, VectorD* gradient,
                                          const Exec& ex);

namespace detail {

/// Sets θ on `model` for a line-search trial; false when θ lies outside the model's
/// parameter domain (e.g. log α so negative that α underflows to 0). The trial then
/// counts as +∞, so the line search backtracks instead of the fit failing; the starting
/// point itself must be valid (its error propagates).
template <class M>
bool trial_parameters(M& model, const VectorD& theta, bool first) {
  if (first) {
    model.set_parameters(theta);
    return true;
  }
  try {
    model.set_parameters(theta);
    return true;
  } catch (const Error&) {
    return false;
  }
}

template <class M, class Objective>
ScoreFit<M> fit_lbfgs(const M& init, const LbfgsOptions& options, const LbfgsCallback& on_iteration,
                      Objective&& objective) {
  M model = init;
  bool first = true;
  const auto f = [&](const VectorD& theta, VectorD& grad) {
    const bool inside = trial_parameters(model, theta, std::exchange(first, false));
    if (!inside) grad.setZero(theta.size());
    return inside ? objective(model, &grad) : std::numeric_limits<double>::infinity();
  };
  LbfgsResult res = minimize_lbfgs(f, init.parameters(), options, on_iteration);
  model.set_parameters(res.x);
  return ScoreFit<M>{std::move(model), std::move(res.trace), res.iterations, res.converged, res.gradient_norm,
                     std::move(res.stopped_by)};
}

}  // namespace detail

/// Minimises J_SM by L-BFGS from the parameters of `init` (on_iteration: progress).
template <ScoreMatchable M>
ScoreFit<M> fit_score_matching(const M& init, const MatrixD& data, const LbfgsOptions& options, const Exec& ex,
                               const LbfgsCallback& on_iteration = {}) {
  check_continuous_data("fit_score_matching", data, init.dimension(), true);
  return detail::fit_lbfgs(init, options, on_iteration, [&](const M& m, VectorD* g) { return score_matching_objective(m, data, g, ex); });
}

/// Minimises J_SSM (projections fixed by options.seed) by L-BFGS from `init`.
template <SliceScoreMatchable M>
ScoreFit<M> fit_sliced_score_matching(const M& init, const MatrixD& data, const SlicedOptions& sliced,
                                      const LbfgsOptions& options, const Exec& ex,
                                      const LbfgsCallback& on_iteration = {}) {
  check_continuous_data("fit_sliced_score_matching", data, init.dimension(), true);
  check_sliced_options("fit_sliced_score_matching", sliced);
  return detail::fit_lbfgs(init, options, on_iteration, [&](const M& m, VectorD* g) {
    return sliced_score_matching_objective(m, data, sliced, g, ex);
  });
}

/// Minimises J_DSM (noise fixed by options.seed) by L-BFGS from `init`.
template <ScoreParametric M>
ScoreFit<M> fit_denoising_score_matching(const M& init, const MatrixD& data, const DenoisingOptions& denoising,
                                         const LbfgsOptions& options, const Exec& ex,
                                         const LbfgsCallback& on_iteration = {}) {
  check_continuous_data("fit_denoising_score_matching", data, init.dimension(), false);
  check_denoising_options("fit_denoising_score_matching", denoising);
  return detail::fit_lbfgs(init, options, on_iteration, [&](const M& m, VectorD* g) {
    return denoising_score_matching_objective(m, data, denoising, g, ex);
  });
}

/// The fits of J_SSM and J_DSM for the models with a matrix-product path: as the
/// templates, with the projections or noise drawn once before the first evaluation and
/// reused (when detail::keep_draws(M or L·K) holds; drawn at each evaluation otherwise).
/// The same objective values, so the same iterates as drawing them every time.
ScoreFit<GrbmFreeEnergy> fit_sliced_score_matching(const GrbmFreeEnergy& init, const MatrixD& data,
                                                   const SlicedOptions& sliced, const LbfgsOptions& options,
                                                   const Exec& ex, const LbfgsCallback& on_iteration = {});
ScoreFit<StudentTExperts> fit_sliced_score_matching(const StudentTExperts& init, const MatrixD& data,
                                                    const SlicedOptions& sliced, const LbfgsOptions& options,
                                                    const Exec& ex, const LbfgsCallback& on_iteration = {});
ScoreFit<GrbmFreeEnergy> fit_denoising_score_matching(const GrbmFreeEnergy& init, const MatrixD& data,
                                                      const DenoisingOptions& denoising, const LbfgsOptions& options,
                                                      const Exec& ex, const LbfgsCallback& on_iteration = {});
ScoreFit<StudentTExperts> fit_denoising_score_matching(const StudentTExperts& init, const MatrixD& data,
                                                       const DenoisingOptions& denoising, const LbfgsOptions& options,
                                                       const Exec& ex, const LbfgsCallback& on_iteration = {});

}  // namespace logz
