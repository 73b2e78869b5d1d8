// CD-k and PCD-k for binary RBMs, with the SGD-with-momentum update fused in.
#include "logz/objectives/contrastive_divergence.hpp"

#include <vector>

#include "logz/kernels/rbm_gibbs.hpp"

namespace logz {

CdInfo ContrastiveDivergence::step(RbmF& m, const MatrixF& v0, const Stream& stream, double lr, double momentum,
                                   double weight_decay, RbmF& vel, const Exec& ex) {
  const Eigen::Index B = v0.rows(), nv = Eigen::Index(m.n_visible());
  check_arg(B > 0 && v0.cols() == nv, "ContrastiveDivergence: batch has shape ({}, {}), expected (>0, {})", B, v0.cols(), nv);
  const Eigen::Index C = params_.persistent ? chains_.rows() : B;
  check_arg(chains_.rows() == 0 || chains_.cols() == nv, "ContrastiveDivergence: chains have {} columns, the model {}",
            chains_.cols(), nv);

  // Rows [0, B) hold the data, rows [B, B + C) the negative-phase chains.
  stacked_v_.resize(B + C, nv);
  stacked_v_.topRows(B) = v0;
  stacked_v_.bottomRows(C) = params_.persistent ? chains_ : v0;
  std::vector<Stream> streams;
  streams.reserve(std::size_t(C));
  for (Eigen::Index r = 0; r < C; ++r) streams.push_back(stream.derive(Purpose::gibbs, std::uint64_t(r)));

  // Negative phase: k sweeps of every chain, in row blocks fixed by C.
  const Blocks chain_blocks = row_blocks(std::size_t(C));
  parallel_for(ex, chain_blocks.count(), [&](std::size_t t) {
    const auto r0 = Eigen::Index(chain_blocks.begin(t)), n = Eigen::Index(chain_blocks.size(t));
    auto v = stacked_v_.middleRows(B + r0, n);
    GibbsScratch<float> s;
    for (std::size_t sweep = 0; sweep < params_.k; ++sweep) {
      hidden_preactivation(m, v, s.pre_h);
      gibbs_sweep_from_preactivation<float>(m, m.visible_bias, 1.0f, v, &streams[std::size_t(r0)], s);
    }
  });
  if (params_.persistent) chains_ = stacked_v_.bottomRows(C);

  // Hidden probabilities of data and chains in one pass: P = σ([v0; vk] W + c).
  stacked_p_.resize(B + C, Eigen::Index(m.n_hidden()));
  const Blocks all_rows = row_blocks(std::size_t(B + C));
  parallel_for(ex, all_rows.count(), [&](std::size_t t) {
    const auto r0 = Eigen::Index(all_rows.begin(t)), n = Eigen::Index(all_rows.size(t));
    auto p = stacked_p_.middleRows(r0, n);
    p.noalias() = stacked_v_.middleRows(r0, n) * m.weights;
    p.rowwise() += m.hidden_bias.transpose();
    p = p.array().logistic().matrix();
  });

  // Bias gradients (small, serial), then scale the rows so that one GEMM gives ∇W:
  // ∇W = [v0 / B; -vk / C]ᵀ P.
  const VectorF gb = (stacked_v_.topRows(B).colwise().mean() - stacked_v_.bottomRows(C).colwise().mean()).transpose();
  const VectorF gc = (stacked_p_.topRows(B).colwise().mean() - stacked_p_.bottomRows(C).colwise().mean()).transpose();
  stacked_v_.topRows(B) *= 1.0f / float(B);
  stacked_v_.bottomRows(C) *= -1.0f / float(C);

  const float mom = float(momentum), rate = float(lr), wd = float(weight_decay);
  // Blocks of visible units: each computes its rows of ∇W and updates them in place.
  const Blocks vis = row_blocks(std::size_t(nv));
  parallel_for(ex, vis.count(), [&](std::size_t t) {
    const auto i0 = Eigen::Index(vis.begin(t)), n = Eigen::Index(vis.size(t));
    MatrixF g;
    g.noalias() = stacked_v_.middleCols(i0, n).transpose() * stacked_p_;
    auto w = m.weights.middleRows(i0, n);
    auto vw = vel.weights.middleRows(i0, n);
    if (wd != 0) g -= wd * w;
    vw = mom * vw + rate * g;
    w += vw;
  });
  vel.visible_bias = mom * vel.visible_bias + rate * gb;
  vel.hidden_bias = mom * vel.hidden_bias + rate * gc;
  m.visible_bias += vel.visible_bias;
  m.hidden_bias += vel.hidden_bias;
  return CdInfo{std::size_t(C)};
}

}  // namespace logz
