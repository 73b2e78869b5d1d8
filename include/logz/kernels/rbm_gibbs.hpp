#pragma once
/// @file rbm_gibbs.hpp
/// Batched block Gibbs sampling for binary RBMs (Hinton 2002): many chains, one per row,
/// updated h ~ p(h | v), then v ~ p(v | h), at inverse temperature β of the annealing
/// path p_β(v, h) ∝ exp(((1-β) a + β b)·v + β (c·h + vᵀ W h)) (β = 1 with the model's
/// own biases is the model itself). Chain r draws its uniforms from its own stream, and
/// rows are processed in blocks fixed by the number of chains, so results do not depend
/// on the thread count.
#include <cstddef>
#include <type_traits>
#include <vector>

#include "logz/core/parallel.hpp"
#include "logz/core/rng.hpp"
#include "logz/models/rbm.hpp"

namespace logz {

/// Working memory for one block of rows.
template <class T>
struct GibbsScratch {
  Matrix<T> pre_h, h, pre_v;
  Eigen::Array<float, Eigen::Dynamic, 1> u;
  Eigen::Array<T, Eigen::Dynamic, 1> p;
};

/// dst[c] = 1{u[c] < σ(scale · pre[c])} for c < n, with s.p = the probabilities: the
/// logistic in Eigen's vectorised form, the comparison as a plain loop (Eigen evaluates
/// a bool-to-float cast one element at a time).
template <class T, class Row>
void bernoulli_logistic_row(const Row& pre, T scale, const float* u, T* dst, GibbsScratch<T>& s) {
  const Eigen::Index n = pre.size();
  s.p = (scale * pre.array()).logistic();
  const T* p = s.p.data();
#pragma omp simd
  for (Eigen::Index c = 0; c < n; ++c) dst[c] = T(u[c]) < p[c] ? T(1) : T(0);
}

/// out(r, :) = 1{u < σ(scale · pre(r, :))}, u ~ U(0, 1) from streams[r]; optionally
/// also the probabilities into `prob`.
template <class T>
void sample_logistic(const Matrix<T>& pre, T scale, Stream* streams, Matrix<T>& out, GibbsScratch<T>& s,
                     Matrix<T>* prob = nullptr) {
  const Eigen::Index n = pre.cols();
  out.resize(pre.rows(), n);
  if (prob) prob->resize(pre.rows(), n);
  s.u.resize(n);
  for (Eigen::Index r = 0; r < pre.rows(); ++r) {
    streams[r].fill_uniform(s.u.data(), std::size_t(n));
    bernoulli_logistic_row(pre.row(r), scale, s.u.data(), &out(r, 0), s);
    if (prob) prob->row(r) = s.p.transpose();
  }
}

/// Column block [j0, j0 + w) of a sampled layer: out(r, j) = 1{u < σ(scale · pre(r, j))}
/// with u the uniform at word `word0 + j0 + j` after stream r's current position (which
/// is left unchanged), so the draws are the same however the columns are split into
/// blocks. `out` is a block of a row-major matrix.
template <class T, class Out>
void sample_logistic_columns(const Matrix<T>& pre, T scale, const Stream* streams, std::uint64_t word0, Out&& out,
                             GibbsScratch<T>& s) {
  static_assert(std::remove_reference_t<Out>::IsRowMajor, "rows of `out` must be contiguous");
  const Eigen::Index n = pre.cols();
  s.u.resize(n);
  for (Eigen::Index r = 0; r < pre.rows(); ++r) {
    Stream st = streams[r];
    st.seek(st.word() + word0);
    st.fill_uniform(s.u.data(), std::size_t(n));
    bernoulli_logistic_row(pre.row(r), scale, s.u.data(), &out(r, 0), s);
  }
}

/// pre_h = V W + c.
template <class T, class V>
void hidden_preactivation(const Rbm<T>& m, const V& v, Matrix<T>& pre_h) {
  pre_h.noalias() = v * m.weights;
  pre_h.rowwise() += m.hidden_bias.transpose();
}

/// One sweep for the rows of `v`, given pre_h = V W + c for the current V:
/// h ~ σ(β pre_h), then v ~ σ(β (h Wᵀ) + visible_bias), visible_bias = (1-β) a + β b.
template <class T>
void gibbs_sweep_from_preactivation(const Rbm<T>& m, const Vector<T>& visible_bias, T beta, Eigen::Ref<Matrix<T>> v,
                                    Stream* streams, GibbsScratch<T>& s) {
  sample_logistic(s.pre_h, beta, streams, s.h, s);
  s.pre_v.noalias() = s.h * m.weights.transpose();
  if (beta != T(1)) s.pre_v *= beta;
  s.pre_v.rowwise() += visible_bias.transpose();
  Matrix<T> next;
  sample_logistic(s.pre_v, T(1), streams, next, s);
  v = next;
}

/// Many chains of the plain model (β = 1), one per row of `v`.
template <class T>
struct RbmChains {
  Matrix<T> v;                  ///< [chains, n_visible], entries 0/1
  std::vector<Stream> streams;  ///< one per chain

  /// Chains started from independent draws of the product of Bernoullis σ(start_bias),
  /// chain r on stream derive(seed, purpose, r).
  static RbmChains from_bias(const Vector<T>& start_bias, std::size_t chains, std::uint64_t seed, Purpose purpose) {
    RbmChains c;
    c.v.resize(Eigen::Index(chains), start_bias.size());
    c.streams = Stream::root(seed).children(purpose, chains);
    const auto p = start_bias.array().logistic().eval();
    for (std::size_t r = 0; r < chains; ++r) {
      for (Eigen::Index i = 0; i < start_bias.size(); ++i)
        c.v(Eigen::Index(r), i) = c.streams[r].uniform_float() < float(p[i]) ? T(1) : T(0);
    }
    return c;
  }
};

/// `sweeps` block-Gibbs sweeps of every chain of the model at β = 1.
template <class T>
void gibbs_sample(const Rbm<T>& m, RbmChains<T>& chains, std::size_t sweeps, const Exec& ex) {
  const Blocks blocks = row_blocks(std::size_t(chains.v.rows()));
  parallel_for(ex, blocks.count(), [&](std::size_t t) {
    GibbsScratch<T> s;
    const auto r0 = Eigen::Index(blocks.begin(t)), n = Eigen::Index(blocks.size(t));
    for (std::size_t k = 0; k < sweeps; ++k) {
      hidden_preactivation(m, chains.v.middleRows(r0, n), s.pre_h);
      gibbs_sweep_from_preactivation<T>(m, m.visible_bias, T(1), chains.v.middleRows(r0, n), &chains.streams[std::size_t(r0)], s);
    }
  });
}

}  // namespace logz
