// CD-k and PCD-k for binary RBMs, with the SGD-with-momentum update fused in.
//
// Every phase splits its matrix product by output columns (column_blocks, grown to whole
// panels for the fixed-point products), so each block packs only its slice of W; the
// blocks depend on the model size alone, and the random words a block draws are fixed by
// its columns (Stream::seek), so the result is the same for any thread count.
//
// Under mpirun, with fixed-point products, the ranks share the rows: each rank runs the
// Gibbs sweeps of its own chains and the hidden probabilities of its own rows, and the
// gradient of its own blocks of visible units; the chains, the probabilities and the
// gradient are then shared, and every rank applies the same update to its copy of the
// model. A fixed-point product's sums are exact, so a row's result does not depend on the
// rows that share its product: the bits are one process's for any number of ranks. Float
// products (Eigen's) may block a product by its shape, so with them every rank does all
// the work.
#include "logz/objectives/contrastive_divergence.hpp"

#include <vector>

#include "logz/core/ranks.hpp"
#include "logz/kernels/rbm_gibbs.hpp"

namespace logz {

namespace {
/// Output-column blocks of a product over n columns: whole panels for fixed-point products.
Blocks product_blocks(std::size_t n, bool fixed) {
  return fixed ? panel_blocks(column_blocks(n)) : column_blocks(n);
}
}  // namespace

CdInfo ContrastiveDivergence::step(RbmF& m, const MatrixF& v0, const Stream& stream, double lr, double momentum,
                                   double weight_decay, RbmF& vel, const Exec& ex) {
  const Eigen::Index B = v0.rows(), nv = Eigen::Index(m.n_visible()), nh = Eigen::Index(m.n_hidden());
  check_arg(B > 0 && v0.cols() == nv, "ContrastiveDivergence: batch has shape ({}, {}), expected (>0, {})", B, v0.cols(), nv);
  const Eigen::Index C = params_.persistent ? chains_.rows() : B;
  check_arg(chains_.rows() == 0 || chains_.cols() == nv, "ContrastiveDivergence: chains have {} columns, the model {}",
            chains_.cols(), nv);
  const bool fixed = fixed_now_ = params_.fixed_point && w_fixed_.try_assign(m.weights, ex);
  const Blocks hid = product_blocks(std::size_t(nh), fixed), vis = product_blocks(std::size_t(nv), fixed);
  scratch_.resize(std::max(hid.count(), vis.count()));

  // Rows [0, B) hold the data, rows [B, B + C) the negative-phase chains; the same
  // rows of stacked_p_ hold their hidden pre-activations, then probabilities.
  stacked_v_.resize(B + C, nv);
  stacked_v_.topRows(B) = v0;
  stacked_v_.bottomRows(C) = params_.persistent ? chains_ : v0;
  const std::vector<Stream> streams = stream.children(Purpose::gibbs, std::size_t(C));

  // This rank's chains (all of them unless spread over the ranks).
  const bool spread = fixed && ranks::spreading();
  const ranks::Range mine = ranks::owned_if(spread, std::size_t(C));
  const auto c0 = Eigen::Index(mine.begin), cn = Eigen::Index(mine.size());

  // CD chains start at the data, so the data's hidden pre-activations serve both the
  // positive phase and the first hidden sample: one product fewer than PCD.
  stacked_p_.resize(B + C, nh);
  const bool reuse_data_preactivation = !params_.persistent;
  if (reuse_data_preactivation) {
    pack_rows(stacked_v_, c0, cn, ex);
    parallel_for(ex, hid.count(), [&](std::size_t t) {
      hidden_preactivations(m, stacked_v_, c0, cn, hid.begin(t), hid.size(t), &stacked_p_(c0, 0), std::size_t(nh));
    });
  }

  // Negative phase: k sweeps h ~ p(h | v), v ~ p(v | h) of every chain.
  chain_h_.resize(C, nh);
  auto chains = stacked_v_.bottomRows(C);
  for (std::size_t sweep = 0; sweep < params_.k; ++sweep) {
    const std::uint64_t word0 = sweep * std::uint64_t(nh + nv);
    if (fixed && !(sweep == 0 && reuse_data_preactivation)) rows_.pack(stacked_v_, std::size_t(B + c0), std::size_t(cn), ex);
    parallel_for(ex, hid.count(), [&](std::size_t t) {
      const auto j0 = Eigen::Index(hid.begin(t)), w = Eigen::Index(hid.size(t));
      GibbsScratch<float>& s = scratch_[t];
      if (sweep == 0 && reuse_data_preactivation) {
        s.pre_h = stacked_p_.middleRows(c0, cn).middleCols(j0, w);
      } else if (fixed) {
        s.pre_h.resize(cn, w);
        w_fixed_.w.multiply(rows_, std::size_t(j0), std::size_t(j0 + w), 1.0f, m.hidden_bias.data(), s.pre_h.data(),
                            std::size_t(w));
      } else {
        s.pre_h.noalias() = chains * m.weights.middleCols(j0, w);
        s.pre_h.rowwise() += m.hidden_bias.segment(j0, w).transpose();
      }
      sample_logistic_columns(s.pre_h, 1.0f, streams.data() + c0, word0 + std::uint64_t(j0),
                              chain_h_.middleRows(c0, cn).middleCols(j0, w), s);
    });
    if (fixed) rows_.pack(chain_h_, std::size_t(c0), std::size_t(cn), ex);
    parallel_for(ex, vis.count(), [&](std::size_t t) {
      const auto i0 = Eigen::Index(vis.begin(t)), w = Eigen::Index(vis.size(t));
      GibbsScratch<float>& s = scratch_[t];
      if (fixed) {
        s.pre_v.resize(cn, w);
        w_fixed_.wt.multiply(rows_, std::size_t(i0), std::size_t(i0 + w), 1.0f, m.visible_bias.data(), s.pre_v.data(),
                             std::size_t(w));
      } else {
        s.pre_v.noalias() = chain_h_ * m.weights.middleRows(i0, w).transpose();
        s.pre_v.rowwise() += m.visible_bias.segment(i0, w).transpose();
      }
      sample_logistic_columns(s.pre_v, 1.0f, streams.data() + c0, word0 + std::uint64_t(nh + i0),
                              chains.middleRows(c0, cn).middleCols(i0, w), s);
    });
  }
  if (spread) {
    ranks::share(chains.data(), ranks::item_bounds(std::size_t(C), std::size_t(nv) * sizeof(float)));
    // CD: the data's pre-activations, each rank's rows (its chains' first rows).
    if (reuse_data_preactivation)
      ranks::share(stacked_p_.data(), ranks::item_bounds(std::size_t(B), std::size_t(nh) * sizeof(float)));
  }
  if (params_.persistent) chains_ = chains;

  fused_update(m, B, C, reuse_data_preactivation ? B : 0, lr, momentum, weight_decay, vel, ex);
  return CdInfo{std::size_t(C)};
}

CdInfo ContrastiveDivergence::step_with_negatives(RbmF& m, const MatrixF& v0, const MatrixF& vk, double lr,
                                                  double momentum, double weight_decay, RbmF& vel, const Exec& ex) {
  const Eigen::Index B = v0.rows(), C = vk.rows(), nv = Eigen::Index(m.n_visible());
  check_arg(B > 0 && v0.cols() == nv, "ContrastiveDivergence: batch has shape ({}, {}), expected (>0, {})", B, v0.cols(), nv);
  check_arg(C > 0 && vk.cols() == nv, "ContrastiveDivergence: negatives have shape ({}, {}), expected (>0, {})", C,
            vk.cols(), nv);
  stacked_v_.resize(B + C, nv);
  stacked_v_.topRows(B) = v0;
  stacked_v_.bottomRows(C) = vk;
  stacked_p_.resize(B + C, Eigen::Index(m.n_hidden()));
  fixed_now_ = params_.fixed_point && w_fixed_.try_assign(m.weights, ex);
  fused_update(m, B, C, 0, lr, momentum, weight_decay, vel, ex);
  return CdInfo{std::size_t(C)};
}

void ContrastiveDivergence::pack_rows(const MatrixF& x, Eigen::Index r0, Eigen::Index n, const Exec& ex) {
  if (fixed_now_) rows_.pack(x, std::size_t(r0), std::size_t(n), ex);
}

void ContrastiveDivergence::hidden_preactivations(const RbmF& m, const MatrixF& x, Eigen::Index r0, Eigen::Index n,
                                                  std::size_t j0, std::size_t w, float* out, std::size_t ld) const {
  if (n == 0) return;
  if (fixed_now_) {
    w_fixed_.w.multiply(rows_, j0, j0 + w, 1.0f, m.hidden_bias.data(), out + j0, ld);
  } else {
    Eigen::Map<MatrixF, 0, Eigen::OuterStride<>> p(out + j0, n, Eigen::Index(w), Eigen::OuterStride<>(Eigen::Index(ld)));
    p.noalias() = x.middleRows(r0, n) * m.weights.middleCols(Eigen::Index(j0), Eigen::Index(w));
    p.rowwise() += m.hidden_bias.segment(Eigen::Index(j0), Eigen::Index(w)).transpose();
  }
}

void ContrastiveDivergence::fused_update(RbmF& m, Eigen::Index B, Eigen::Index C, Eigen::Index first, double lr,
                                         double momentum, double weight_decay, RbmF& vel, const Exec& ex) {
  const bool fixed = fixed_now_, spread = fixed && ranks::spreading();
  const Blocks hid = product_blocks(m.n_hidden(), fixed), vis = column_blocks(m.n_visible());
  const auto nh = Eigen::Index(m.n_hidden());
  const float mom = float(momentum), rate = float(lr), wd = float(weight_decay);
  // The rows [first, B + C) whose pre-activations are still to compute: this rank's share.
  const ranks::Range mine = ranks::owned_if(spread, std::size_t(B + C - first));
  const auto r0 = first + Eigen::Index(mine.begin), rn = Eigen::Index(mine.size());
  // Hidden pre-activations of the rows not done yet, then P = σ([v0; vk] W + c) and the
  // hidden-bias step: block j owns c_j (no other block reads it). Probabilities lie in
  // [0, 1], so their fixed-point scale is known before they are: each block rounds its own
  // columns of P here (blocks start at panels).
  pack_rows(stacked_v_, r0, rn, ex);
  if (fixed) {
    p_data_.prepare(std::size_t(B), std::size_t(nh), 1.0f);
    p_chains_.prepare(std::size_t(C), std::size_t(nh), 1.0f);
    grad_rows_.resize(vis.count());
  }
  // Rows [0, first) hold pre-activations on every rank: each rank takes their logistic.
  const auto probabilities = [&](std::size_t t) {
    hidden_preactivations(m, stacked_v_, r0, rn, hid.begin(t), hid.size(t), &stacked_p_(r0, 0), std::size_t(nh));
    const auto j0 = Eigen::Index(hid.begin(t)), w = Eigen::Index(hid.size(t));
    for (auto p : {stacked_p_.topRows(first).middleCols(j0, w), stacked_p_.middleRows(r0, rn).middleCols(j0, w)})
      p = p.array().logistic().matrix();
  };
  const auto hidden_step = [&](std::size_t t) {
    const auto j0 = Eigen::Index(hid.begin(t)), w = Eigen::Index(hid.size(t));
    auto p = stacked_p_.middleCols(j0, w);
    if (fixed) {
      p_data_.assign_columns(stacked_p_.topRows(B), hid.begin(t), hid.end(t));
      p_chains_.assign_columns(stacked_p_.bottomRows(C), hid.begin(t), hid.end(t));
    }
    const VectorF gc = (p.topRows(B).colwise().mean() - p.bottomRows(C).colwise().mean()).transpose();
    auto vc = vel.hidden_bias.segment(j0, w);
    vc = mom * vc + rate * gc;
    m.hidden_bias.segment(j0, w) += vc;
  };
  if (spread) {
    parallel_for(ex, hid.count(), probabilities);
    ranks::share(&stacked_p_(first, 0), ranks::item_bounds(std::size_t(B + C - first), std::size_t(nh) * sizeof(float)));
    parallel_for(ex, hid.count(), hidden_step);
  } else {
    parallel_for(ex, hid.count(), [&](std::size_t t) {
      probabilities(t);
      hidden_step(t);
    });
  }

  // ∇W = v0ᵀ P_data / B − vkᵀ P_chains / C, by blocks of visible units; block i owns rows i
  // of W and entries i of b, and updates them as soon as their gradient is known. Spread
  // over the ranks, each rank computes its own blocks' rows of ∇W, which are then shared.
  const auto gradient = [&](std::size_t t, float* g) {
    const auto i0 = Eigen::Index(vis.begin(t)), w = Eigen::Index(vis.size(t));
    if (fixed) {
      BinaryPairs& rows = grad_rows_[t];
      rows.pack_transposed(stacked_v_, 0, std::size_t(B), std::size_t(i0), std::size_t(w));
      p_data_.multiply<float>(rows, 0, std::size_t(nh), 1.0f / float(B), nullptr, g, std::size_t(nh));
      rows.pack_transposed(stacked_v_, std::size_t(B), std::size_t(C), std::size_t(i0), std::size_t(w));
      p_chains_.multiply<float>(rows, 0, std::size_t(nh), -1.0f / float(C), nullptr, g, std::size_t(nh), true);
    } else {
      auto a = stacked_v_.middleCols(i0, w);
      a.topRows(B) *= 1.0f / float(B);
      a.bottomRows(C) *= -1.0f / float(C);
      Eigen::Map<MatrixF>(g, w, nh).noalias() = a.transpose() * stacked_p_;
    }
  };
  const auto update = [&](std::size_t t, MatrixF& g) {
    const auto i0 = Eigen::Index(vis.begin(t)), w = Eigen::Index(vis.size(t));
    auto wi = m.weights.middleRows(i0, w);
    auto vw = vel.weights.middleRows(i0, w);
    if (wd != 0) g -= wd * wi;
    vw = mom * vw + rate * g;
    wi += vw;
  };
  // Before the block's gradient: the float path scales the visible states in place.
  const auto visible_step = [&](std::size_t t) {
    const auto i0 = Eigen::Index(vis.begin(t)), w = Eigen::Index(vis.size(t));
    auto a = stacked_v_.middleCols(i0, w);
    const VectorF gb = (a.topRows(B).colwise().mean() - a.bottomRows(C).colwise().mean()).transpose();
    auto vb = vel.visible_bias.segment(i0, w);
    vb = mom * vb + rate * gb;
    m.visible_bias.segment(i0, w) += vb;
  };
  if (spread) {
    grad_.resize(m.weights.rows(), nh);
    const ranks::Range own = ranks::owned(vis.count());
    parallel_for(ex, own.size(), [&](std::size_t i) { gradient(own.begin + i, &grad_(Eigen::Index(vis.begin(own.begin + i)), 0)); });
    ranks::share(grad_.data(), ranks::block_bounds(vis, std::size_t(nh) * sizeof(float)));
    parallel_for(ex, vis.count(), [&](std::size_t t) {
      visible_step(t);
      MatrixF g = grad_.middleRows(Eigen::Index(vis.begin(t)), Eigen::Index(vis.size(t)));
      update(t, g);
    });
  } else {
    parallel_for(ex, vis.count(), [&](std::size_t t) {
      visible_step(t);
      MatrixF g(Eigen::Index(vis.size(t)), nh);
      gradient(t, g.data());
      update(t, g);
    });
  }
}

}  // namespace logz
