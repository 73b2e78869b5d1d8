// Score matching: the data and option checks, and the fixed projections and noise
// draws of sliced and denoising score matching, per row and for all rows at once.
#include "logz/objectives/score_matching.hpp"

#include <cmath>

#include "logz/core/check.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"

namespace logz {

void check_continuous_data(const char* who, const MatrixD& data, std::size_t dimension, bool need_variance) {
  check_arg(data.cols() == Eigen::Index(dimension), "{}: data has {} columns but the model has dimension {}", who,
            data.cols(), dimension);
  check_arg(data.rows() >= 1, "{}: data has no rows", who);
  for (Eigen::Index r = 0; r < data.rows(); ++r)
    for (Eigen::Index c = 0; c < data.cols(); ++c)
      check_data(std::isfinite(data(r, c)), "{}: data({}, {}) is not finite ({})", who, r, c, data(r, c));
  if (!need_variance) return;
  // On the values themselves: a computed variance of n copies of v need not be exactly 0.
  for (Eigen::Index c = 0; c < data.cols(); ++c)
    check_data((data.col(c).array() != data(0, c)).any(), "{}: column {} has zero variance (every sample is {})", who, c,
               data(0, c));
}

void check_sliced_options(const char* who, const SlicedOptions& options) {
  check_arg(options.projections >= 1, "{}: projections must be >= 1 (got 0)", who);
}

void check_denoising_options(const char* who, const DenoisingOptions& options) {
  check_arg(!options.sigmas.empty(), "{}: sigmas must hold at least one noise level", who);
  for (std::size_t l = 0; l < options.sigmas.size(); ++l)
    check_arg(std::isfinite(options.sigmas[l]) && options.sigmas[l] > 0, "{}: sigmas[{}] must be finite and > 0 (got {})",
              who, l, options.sigmas[l]);
  check_arg(options.draws >= 1, "{}: draws must be >= 1 (got 0)", who);
}

void sliced_projections_into(const SlicedOptions& options, std::size_t row, Eigen::Ref<MatrixD> out) {
  check_arg(out.rows() == Eigen::Index(options.projections),
            "sliced_projections_into: out has {} rows for {} projections", out.rows(), options.projections);
  Stream s = Stream::derive(options.seed, Purpose::noise, row);
  for (Eigen::Index m = 0; m < out.rows(); ++m) {
    if (options.kind == Projection::gaussian) {
      s.fill_normal(&out(m, 0), std::size_t(out.cols()));
    } else {
      // One word a sign, the lowest bit: 64 words at a time.
      std::uint32_t w[64];
      for (Eigen::Index i0 = 0; i0 < out.cols(); i0 += 64) {
        const auto take = std::min<Eigen::Index>(64, out.cols() - i0);
        s.fill_words(w, std::size_t(take));
        for (Eigen::Index i = 0; i < take; ++i) out(m, i0 + i) = w[i] & 1u ? 1.0 : -1.0;
      }
    }
  }
}

MatrixD sliced_projections(const SlicedOptions& options, std::size_t row, std::size_t d) {
  MatrixD v(Eigen::Index(options.projections), Eigen::Index(d));
  sliced_projections_into(options, row, v);
  return v;
}

MatrixD sliced_projections_all(const SlicedOptions& options, std::size_t rows, std::size_t d, const Exec& ex) {
  const Eigen::Index per_row = Eigen::Index(options.projections);
  MatrixD v(Eigen::Index(rows) * per_row, Eigen::Index(d));
  const Blocks blocks = row_blocks(rows);
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    for (std::size_t r = blocks.begin(t); r < blocks.begin(t) + blocks.size(t); ++r)
      sliced_projections_into(options, r, v.middleRows(Eigen::Index(r) * per_row, per_row));
  });
  return v;
}

MatrixD denoising_noise_all(const DenoisingOptions& options, std::size_t rows, std::size_t d, const Exec& ex) {
  const Eigen::Index draws = Eigen::Index(options.draws), n = Eigen::Index(rows);
  MatrixD eps(n * Eigen::Index(options.sigmas.size()) * draws, Eigen::Index(d));
  const Blocks blocks = row_blocks(rows);
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    for (std::size_t l = 0; l < options.sigmas.size(); ++l)
      for (std::size_t r = blocks.begin(t); r < blocks.begin(t) + blocks.size(t); ++r)
        denoising_noise_into(options, r, l, eps.middleRows((Eigen::Index(l) * n + Eigen::Index(r)) * draws, draws));
  });
  return eps;
}

void denoising_noise_into(const DenoisingOptions& options, std::size_t row, std::size_t level, Eigen::Ref<MatrixD> out) {
  check_arg(out.rows() == Eigen::Index(options.draws), "denoising_noise_into: out has {} rows for {} draws", out.rows(),
            options.draws);
  Stream s = Stream::derive(options.seed, Purpose::noise, row).derive(Purpose::noise, level);
  for (Eigen::Index k = 0; k < out.rows(); ++k) s.fill_normal(&out(k, 0), std::size_t(out.cols()));
}

MatrixD denoising_noise(const DenoisingOptions& options, std::size_t row, std::size_t level, std::size_t d) {
  MatrixD eps(Eigen::Index(options.draws), Eigen::Index(d));
  denoising_noise_into(options, row, level, eps);
  return eps;
}

}  // namespace logz
