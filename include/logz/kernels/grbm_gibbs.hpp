#pragma once
/// @file grbm_gibbs.hpp
/// Batched block Gibbs sampling for Gaussian–Bernoulli RBMs (Hinton & Salakhutdinov
/// 2006; conditionals in models/gaussian_rbm.hpp): many chains, one per row, each sweep
///   h_j ~ Bernoulli(sigmoid(c_j + Σ_i v_i W_ij / σ_i²)),  then  v ~ N(b + W h, diag σ²).
/// Chain r draws from its own stream a fixed number of values per sweep (n_hidden
/// uniform doubles, then n_visible normals), and rows are processed in blocks fixed by
/// the number of chains, so results are bit-identical for any thread (and rank) count.
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "logz/core/parallel.hpp"
#include "logz/core/ranks.hpp"
#include "logz/core/rng.hpp"
#include "logz/models/gaussian_rbm.hpp"

namespace logz {

/// Many chains of one GRBM: the visible and hidden state of each, one chain per row.
struct GrbmChains {
  MatrixD v;                    ///< [chains, n_visible]
  MatrixD h;                    ///< [chains, n_hidden], entries 0/1 (the last sweep's h)
  std::vector<Stream> streams;  ///< one per chain

  /// Chains started from v ~ N(b, diag σ²) (the conditional given h = 0), h = 0, chain r
  /// on stream derive(seed, purpose, r), which draws the n_visible start normals first.
  static GrbmChains from_visible_bias(const GaussianRbm& m, std::size_t chains, std::uint64_t seed,
                                      Purpose purpose = Purpose::gibbs) {
    m.validate("GrbmChains::from_visible_bias");
    check_arg(chains >= 1, "GrbmChains::from_visible_bias: chains must be >= 1, got {}", chains);
    GrbmChains c;
    const Eigen::Index n = Eigen::Index(m.n_visible());
    c.v.resize(Eigen::Index(chains), n);
    c.h = MatrixD::Zero(Eigen::Index(chains), Eigen::Index(m.n_hidden()));
    c.streams = Stream::root(seed).children(purpose, chains);
    for (std::size_t r = 0; r < chains; ++r)
      for (Eigen::Index i = 0; i < n; ++i)
        c.v(Eigen::Index(r), i) = m.visible_bias[i] + m.visible_sigma[i] * c.streams[r].normal();
    return c;
  }
};

/// `sweeps` block-Gibbs sweeps (h | v, then v | h) of every chain. Throws
/// Error(Exit::data) from validate and Error(Exit::usage) if the chains' shapes do not
/// match the model.
inline void grbm_gibbs_sample(const GaussianRbm& m, GrbmChains& chains, std::size_t sweeps, const Exec& ex) {
  m.validate("grbm_gibbs_sample");
  const Eigen::Index rows = chains.v.rows(), n = Eigen::Index(m.n_visible()), k = Eigen::Index(m.n_hidden());
  check_arg(chains.v.cols() == n && chains.h.cols() == k && chains.h.rows() == rows &&
                chains.streams.size() == std::size_t(rows),
            "grbm_gibbs_sample: chains hold v [{}, {}], h [{}, {}] and {} streams; the model needs {} visible and {} "
            "hidden units and one stream per chain",
            rows, chains.v.cols(), chains.h.rows(), chains.h.cols(), chains.streams.size(), n, k);
  // W scaled by 1/σ_i² row-wise, so that the hidden pre-activations are one product.
  const MatrixD ws = m.visible_sigma.array().square().inverse().matrix().asDiagonal() * m.weights;
  const Blocks blocks = row_blocks(std::size_t(rows));
  const std::size_t work = 2 * sweeps * std::size_t(rows) * std::size_t(n) * std::size_t(k);
  // Under mpirun each rank sweeps its own range of the blocks, then every chain (its state
  // and its stream) is sent to every rank: a chain's moves depend on its own stream alone.
  const bool spread = ranks::spreading();
  const ranks::Range mine = ranks::owned_if(spread, blocks.count());
  parallel_for(exec_for_work(ex, work), mine.size(), [&](std::size_t i) {
    const std::size_t t = mine.begin + i;
    const auto r0 = Eigen::Index(blocks.begin(t)), nr = Eigen::Index(blocks.size(t));
    MatrixD pre(nr, k), mean(nr, n);
    for (std::size_t s = 0; s < sweeps; ++s) {
      pre.noalias() = chains.v.middleRows(r0, nr) * ws;
      pre.rowwise() += m.hidden_bias.transpose();
      for (Eigen::Index r = 0; r < nr; ++r) {
        Stream& st = chains.streams[std::size_t(r0 + r)];
        for (Eigen::Index j = 0; j < k; ++j) chains.h(r0 + r, j) = st.uniform_double() < sigmoid(pre(r, j)) ? 1.0 : 0.0;
      }
      mean.noalias() = chains.h.middleRows(r0, nr) * m.weights.transpose();
      mean.rowwise() += m.visible_bias.transpose();
      for (Eigen::Index r = 0; r < nr; ++r) {
        Stream& st = chains.streams[std::size_t(r0 + r)];
        for (Eigen::Index i = 0; i < n; ++i) chains.v(r0 + r, i) = mean(r, i) + m.visible_sigma[i] * st.normal();
      }
    }
  });
  if (spread) {
    static_assert(std::is_trivially_copyable_v<Stream>);
    ranks::share(chains.v.data(), ranks::block_bounds(blocks, std::size_t(n) * sizeof(double)));  // row-major
    ranks::share(chains.h.data(), ranks::block_bounds(blocks, std::size_t(k) * sizeof(double)));
    ranks::share(chains.streams.data(), ranks::block_bounds(blocks, sizeof(Stream)));
  }
}

}  // namespace logz
