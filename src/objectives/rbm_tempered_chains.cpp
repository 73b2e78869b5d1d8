// Parallel-tempering chains of a binary RBM for training (objectives/rbm_tempered_chains.hpp).
#include "logz/objectives/rbm_tempered_chains.hpp"

#include <cmath>
#include <limits>
#include <utility>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/ranks.hpp"
#include "logz/kernels/rbm_gibbs.hpp"

namespace logz {

std::vector<double> default_tempering_ladder(std::size_t replicas) {
  check_arg(replicas >= 2, "default_tempering_ladder: replicas must be >= 2, got {}", replicas);
  std::vector<double> betas(replicas);
  for (std::size_t r = 0; r < replicas; ++r) {
    const double x = 1.0 - double(r) / double(replicas - 1);
    betas[r] = 1.0 - x * std::sqrt(x);
  }
  betas.back() = 1.0;
  return betas;
}

void check_tempering_ladder(const char* who, const std::vector<double>& betas) {
  check_arg(betas.size() >= 2, "{}: tempering needs at least 2 betas, got {}", who, betas.size());
  for (std::size_t k = 0; k < betas.size(); ++k)
    check_arg(std::isfinite(betas[k]) && betas[k] >= 0 && betas[k] <= 1, "{}: beta[{}] must be in [0, 1] (got {})", who,
              k, betas[k]);
  for (std::size_t k = 1; k < betas.size(); ++k)
    check_arg(betas[k] > betas[k - 1], "{}: betas must increase strictly; beta[{}] = {} follows beta[{}] = {}", who, k,
              betas[k], k - 1, betas[k - 1]);
  check_arg(betas.back() == 1.0, "{}: the last beta must be 1 (the model), got {}", who, betas.back());
}

RbmTemperedChains::RbmTemperedChains(std::vector<double> betas, VectorF base_bias, std::vector<MatrixF> replicas)
    : betas_(std::move(betas)), base_bias_(std::move(base_bias)), replicas_(std::move(replicas)) {
  const char* who = "RbmTemperedChains";
  check_tempering_ladder(who, betas_);
  check_arg(replicas_.size() == betas_.size(), "{}: {} replica sets for {} betas", who, replicas_.size(), betas_.size());
  check_arg(replicas_[0].rows() > 0, "{}: chains must be >= 1 (got 0)", who);
  for (const MatrixF& x : replicas_)
    check_arg(x.rows() == replicas_[0].rows() && x.cols() == base_bias_.size(),
              "{}: replicas have shape ({}, {}), expected ({}, {})", who, x.rows(), x.cols(), replicas_[0].rows(),
              base_bias_.size());
  for (Eigen::Index i = 0; i < base_bias_.size(); ++i)
    check_arg(std::isfinite(base_bias_[i]), "{}: base bias {} is not finite", who, i);
  reset_swap_counts();
  up_.assign(betas_.size(), std::vector<double>(num_chains(), 0.0));
  down_ = up_;
}

RbmTemperedChains RbmTemperedChains::from_starts(std::vector<double> betas, VectorF base_bias, const MatrixF& starts) {
  std::vector<MatrixF> replicas(betas.size(), starts);
  return RbmTemperedChains(std::move(betas), std::move(base_bias), std::move(replicas));
}

void RbmTemperedChains::reset_swap_counts() {
  attempts_.assign(betas_.size() - 1, 0);
  accepted_.assign(betas_.size() - 1, 0);
}

std::vector<double> RbmTemperedChains::swap_rates() const {
  std::vector<double> rates(attempts_.size());
  for (std::size_t k = 0; k < rates.size(); ++k)
    rates[k] = attempts_[k] ? double(accepted_[k]) / double(attempts_[k]) : std::numeric_limits<double>::quiet_NaN();
  return rates;
}

void RbmTemperedChains::advance(const RbmF& model, std::size_t k, const Stream& update_stream, std::uint64_t update,
                                const Exec& ex) {
  const std::size_t R = num_replicas(), C = num_chains();
  check_arg(model.n_visible() == std::size_t(base_bias_.size()),
            "RbmTemperedChains: the chains have {} visible units but the model has {}", base_bias_.size(),
            model.n_visible());
  std::vector<Stream> streams = update_stream.children(Purpose::gibbs, R * C);
  std::vector<VectorF> visible_bias(R);
  for (std::size_t r = 0; r < R; ++r)
    visible_bias[r] = (float(1 - betas_[r]) * base_bias_ + float(betas_[r]) * model.visible_bias).eval();
  const VectorD bias_gap = model.visible_bias.cast<double>() - base_bias_.cast<double>();
  const Blocks blocks = row_blocks(C);

  // Moves, then log f at the neighbouring betas of every state (for the swaps). Under
  // mpirun each rank takes its own range of the blocks of chains at every beta; the states
  // and log f values are then shared, and every rank makes the same swaps.
  const bool spread = ranks::spreading();
  const ranks::Range mine = ranks::owned_if(spread, blocks.count());
  parallel_for(ex, R * mine.size(), [&](std::size_t job) {
    const std::size_t r = job / mine.size(), t = mine.begin + job % mine.size();
    const auto r0 = Eigen::Index(blocks.begin(t)), n = Eigen::Index(blocks.size(t));
    auto v = replicas_[r].middleRows(r0, n);
    GibbsScratch<float> s;
    for (std::size_t sweep = 0; sweep < k; ++sweep) {
      hidden_preactivation(model, v, s.pre_h);
      gibbs_sweep_from_preactivation<float>(model, visible_bias[r], float(betas_[r]), v, &streams[r * C + std::size_t(r0)], s);
    }
    hidden_preactivation(model, v, s.pre_h);
    const double beta = betas_[r];
    const double beta_up = r + 1 < R ? betas_[r + 1] : beta, beta_down = r > 0 ? betas_[r - 1] : beta;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double visible = v.row(i).cast<double>().dot(bias_gap.transpose());
      double up = (beta_up - beta) * visible, down = (beta - beta_down) * visible;
      for (Eigen::Index j = 0; j < s.pre_h.cols(); ++j) {
        const double x = double(s.pre_h(i, j)), here = softplus(beta * x);
        up += softplus(beta_up * x) - here;
        down += here - softplus(beta_down * x);
      }
      up_[r][std::size_t(r0 + i)] = up;
      down_[r][std::size_t(r0 + i)] = down;
    }
  });
  if (spread) {
    const std::vector<std::size_t> states = ranks::block_bounds(blocks, std::size_t(base_bias_.size()) * sizeof(float)),
                                   values = ranks::block_bounds(blocks, sizeof(double));
    for (std::size_t r = 0; r < R; ++r) {
      ranks::share(replicas_[r].data(), states);  // row-major: a block's chains are contiguous
      ranks::share(up_[r].data(), values);
      ranks::share(down_[r].data(), values);
    }
  }

  // Swaps, chain by chain (each ladder's swaps touch only its own rows).
  std::vector<std::uint64_t> accepted(R - 1, 0);
  for (std::size_t c = 0; c < C; ++c) {
    Stream rng = update_stream.derive(Purpose::chains, c);
    for (std::size_t p = update % 2; p + 1 < R; p += 2) {
      const double u = rng.uniform_double();  // drawn always: one uniform per proposed pair
      const double log_ratio = up_[p][c] - down_[p + 1][c];
      if (!std::isfinite(log_ratio) || !(log_ratio >= 0 || u < std::exp(log_ratio))) continue;
      replicas_[p].row(Eigen::Index(c)).swap(replicas_[p + 1].row(Eigen::Index(c)));
      ++accepted[p];
    }
  }
  for (std::size_t p = update % 2; p + 1 < R; p += 2) attempts_[p] += C, accepted_[p] += accepted[p];
}

}  // namespace logz
