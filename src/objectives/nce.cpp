// Noise-contrastive estimation: the noise distribution, its samples and log-densities.
#include "logz/objectives/nce.hpp"

#include <cmath>
#include <utility>

#include "logz/core/check.hpp"
#include "logz/core/rng.hpp"

namespace logz {

namespace {

Gaussian checked_noise(const MatrixD& data, const NceOptions& options) {
  check_continuous_data("NceProblem", data, std::size_t(data.cols()), true);
  check_arg(options.noise_ratio >= 1, "NceProblem: noise_ratio must be >= 1 (got 0)");
  check_arg(std::isfinite(options.initial_log_z), "NceProblem: initial_log_z must be finite (got {})",
            options.initial_log_z);
  if (!options.noise) return Gaussian::fit(data);
  check_arg(options.noise->dimension() == std::size_t(data.cols()),
            "NceProblem: the noise distribution has dimension {} but the data has {} columns",
            options.noise->dimension(), data.cols());
  return *options.noise;
}

}  // namespace

MatrixD nce_noise_samples(const Gaussian& noise, std::size_t rows, std::size_t ratio, std::uint64_t seed,
                          const Exec& ex) {
  const auto d = Eigen::Index(noise.dimension());
  MatrixD out(Eigen::Index(rows * ratio), d);
  const Blocks blocks = row_blocks(rows);
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    VectorD y(d);
    for (std::size_t r = blocks.begin(t); r < blocks.end(t); ++r) {
      Stream s = Stream::derive(seed, Purpose::noise, r);
      for (std::size_t k = 0; k < ratio; ++k) {
        noise.sample(s, y);
        out.row(Eigen::Index(r * ratio + k)) = y.transpose();
      }
    }
  });
  return out;
}

NceProblem::NceProblem(const MatrixD& data, const NceOptions& options, const Exec& ex)
    : data_(data), noise_(checked_noise(data, options)), ratio_(options.noise_ratio) {
  noise_samples_ = nce_noise_samples(noise_, std::size_t(data_.rows()), ratio_, options.seed, ex);
  log_q_data_.resize(data_.rows());
  log_q_noise_.resize(noise_samples_.rows());
  for (Eigen::Index r = 0; r < data_.rows(); ++r) log_q_data_[r] = noise_.log_density(data_.row(r).transpose());
  for (Eigen::Index r = 0; r < noise_samples_.rows(); ++r)
    log_q_noise_[r] = noise_.log_density(noise_samples_.row(r).transpose());
}

}  // namespace logz
