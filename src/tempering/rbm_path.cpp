// The RBM weight-annealing path (Salakhutdinov & Murray 2008) as a batched AnnealingPath.
#include "logz/tempering/rbm_path.hpp"

#include "logz/core/vecmath.hpp"

namespace logz {

RbmAnnealingPath::RbmAnnealingPath(const RbmF& model, const VectorF& base_bias, RbmProducts products)
    : m_(model),
      path_(model, base_bias),
      diff_((model.visible_bias.cast<double>() - base_bias.cast<double>()).eval()),
      hid_(column_blocks(model.n_hidden())),
      vis_(column_blocks(model.n_visible())),
      hid_fixed_(panel_blocks(hid_)),
      vis_fixed_(panel_blocks(vis_)),
      scratch_(std::max(hid_.count(), vis_.count())) {
  model.validate("RbmAnnealingPath");
  if (products == RbmProducts::fixed_point) fixed_ = std::make_shared<const FixedPointWeights>(model.weights);
}

std::size_t RbmAnnealingPath::particle_block(std::size_t n) const {
  if (hid_.count() == 1) return std::clamp<std::size_t>((n + 3) / 4, 16, 256);
  // A power of two of blocks (threads and ranks share them evenly), each of at least
  // wide_block_rows particles; a smaller population splits each step's products by columns.
  std::size_t blocks = 1;
  while (2 * blocks * wide_block_rows <= n) blocks *= 2;
  return blocks == 1 ? 0 : (n + blocks - 1) / blocks;
}

void RbmAnnealingPath::draw_base(const Exec&, Particles& x, std::span<Stream> streams) const {
  // v ~ Π_i Bernoulli(σ(a_i)): n_v uniforms from each particle's stream, in order.
  const auto p = path_.base_bias.array().logistic().eval();
  x.resize(Eigen::Index(streams.size()), p.size());
  for (std::size_t r = 0; r < streams.size(); ++r)
    for (Eigen::Index i = 0; i < p.size(); ++i) x(Eigen::Index(r), i) = streams[r].uniform_float() < p[i] ? 1.0f : 0.0f;
}

template <class RowTerm>
void RbmAnnealingPath::hidden_pass(const Exec& ex, const Particles& x, std::span<double> out, RowTerm&& row_term,
                                   const Stream* streams, double beta_h, bool fixed) const {
  const Eigen::Index n = x.rows();
  check_arg(out.empty() || out.size() == std::size_t(n), "RbmAnnealingPath: {} particles but {} entries to fill", n,
            out.size());
  pre_h_.resize(n, Eigen::Index(m_.n_hidden()));
  if (streams) h_.resize(n, Eigen::Index(m_.n_hidden()));
  const Blocks& cols = fixed ? hid_fixed_ : hid_;
  const std::size_t nb = cols.count();
  if (!out.empty()) partial_.assign(std::size_t(n) * nb, 0.0);
  if (fixed) pairs_.pack(x, 0, std::size_t(n));
  parallel_for(ex, nb, [&](std::size_t t) {
    const auto j0 = Eigen::Index(cols.begin(t)), w = Eigen::Index(cols.size(t));
    auto pre = pre_h_.middleCols(j0, w);
    if (fixed) {
      fixed_->w.multiply(pairs_, std::size_t(j0), std::size_t(j0 + w), 1.0f, m_.hidden_bias.data(), &pre_h_(0, j0),
                         std::size_t(pre_h_.cols()));
    } else {
      pre.noalias() = x * m_.weights.middleCols(j0, w);
      pre.rowwise() += m_.hidden_bias.segment(j0, w).transpose();
    }
    if (!out.empty())
      for (Eigen::Index r = 0; r < n; ++r) partial_[std::size_t(r) * nb + t] = row_term(pre.row(r).data(), std::size_t(w));
    if (streams) {
      GibbsScratch<float>& s = scratch_[t];
      s.pre_h = pre;
      sample_logistic_columns(s.pre_h, float(beta_h), streams, std::uint64_t(j0), h_.middleCols(j0, w), s);
    }
  });
  // The blocks' sums are added in block order: the same bits for any thread count.
  for (std::size_t r = 0; r < out.size(); ++r) {
    double sum = 0;
    for (std::size_t t = 0; t < nb; ++t) sum += partial_[r * nb + t];
    out[r] = sum;
  }
}

void RbmAnnealingPath::visible_pass(const Exec& ex, Particles& x, double beta, std::span<Stream> streams,
                                    bool fixed) const {
  const VectorF bias = path_.visible_bias_at(beta);
  const std::uint64_t nh = m_.n_hidden();
  const Blocks& rows = fixed ? vis_fixed_ : vis_;
  if (fixed) pairs_.pack(h_, 0, std::size_t(h_.rows()));
  parallel_for(ex, rows.count(), [&](std::size_t t) {
    const auto i0 = Eigen::Index(rows.begin(t)), w = Eigen::Index(rows.size(t));
    GibbsScratch<float>& s = scratch_[t];
    if (fixed) {
      s.pre_v.resize(h_.rows(), w);
      fixed_->wt.multiply(pairs_, std::size_t(i0), std::size_t(i0 + w), float(beta), bias.data(), s.pre_v.data(),
                          std::size_t(w));
    } else {
      s.pre_v.noalias() = h_ * m_.weights.middleRows(i0, w).transpose();
      if (beta != 1.0) s.pre_v *= float(beta);
      s.pre_v.rowwise() += bias.segment(i0, w).transpose();
    }
    sample_logistic_columns(s.pre_v, 1.0f, streams.data(), nh + std::uint64_t(i0), x.middleCols(i0, w), s);
  });
  for (Stream& st : streams) st.seek(st.word() + nh + m_.n_visible());
}

/// (b − a)·v in double.
static double visible_dot(const MatrixF& x, Eigen::Index r, const VectorD& d) {
  const float* v = &x(r, 0);
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (Eigen::Index i = 0; i < x.cols(); ++i) sum += double(v[i]) * d[i];
  return sum;
}

void RbmAnnealingPath::log_ratio(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> out) const {
  weight_increment(ex, x, b0, b1, out, nullptr);
  for (std::size_t r = 0; r < out.size(); ++r) out[r] += (b1 - b0) * visible_dot(x, Eigen::Index(r), diff_);
}

void RbmAnnealingPath::weight_increment(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> out,
                                        const Stream* streams) const {
  const bool fixed0 = fixed_at(b0), fixed1 = fixed_at(b1);
  if (fixed0 == fixed1 || out.empty()) {
    // One product serves both ends (and the draw at b1).
    hidden_pass(ex, x, out, [&](const float* pre, std::size_t w) { return sum_softplus_difference(pre, w, b1, b0); },
                streams, b1, fixed1);
    return;
  }
  // A step to or from β = 1 leaves the fixed-point model: log f_b1 and log f_b0 from
  // their own products (the n_h log 2 of softplus(0) cancels).
  std::vector<double> at_b0(out.size());
  hidden_pass(ex, x, at_b0, [&](const float* pre, std::size_t w) { return sum_softplus_difference(pre, w, b0, 0.0); },
              nullptr, 0.0, fixed0);
  hidden_pass(ex, x, out, [&](const float* pre, std::size_t w) { return sum_softplus_difference(pre, w, b1, 0.0); },
              streams, b1, fixed1);
  for (std::size_t r = 0; r < out.size(); ++r) out[r] -= at_b0[r];
}

void RbmAnnealingPath::dlog_f(const Exec& ex, const Particles& x, double beta, std::span<double> out) const {
  // ∂/∂β [β (b − a)·v + Σ_j softplus(β pre_j)] = (b − a)·v + Σ_j pre_j σ(β pre_j).
  hidden_pass(
      ex, x, out,
      [&](const float* pre, std::size_t w) {
        double sum = 0;
        for (std::size_t j = 0; j < w; ++j) sum += double(pre[j]) * sigmoid(beta * double(pre[j]));
        return sum;
      },
      nullptr, 0.0, fixed_at(beta));
  for (std::size_t r = 0; r < out.size(); ++r) out[r] += visible_dot(x, Eigen::Index(r), diff_);
}

MoveInfo RbmAnnealingPath::move(const Exec& ex, Particles& x, double beta, std::span<Stream> streams) const {
  return advance(ex, x, beta, beta, {}, streams, true);
}

MoveInfo RbmAnnealingPath::advance(const Exec& ex, Particles& x, double b0, double b1, std::span<double> log_w,
                                   std::span<Stream> streams, bool move) const {
  check_arg(!move || streams.size() == std::size_t(x.rows()), "RbmAnnealingPath: {} particles but {} streams", x.rows(),
            streams.size());
  if (log_w.empty() && !move) return {};
  std::vector<double> inc(log_w.empty() ? 0 : log_w.size());
  weight_increment(ex, x, b0, b1, inc, move ? streams.data() : nullptr);
  for (std::size_t r = 0; r < inc.size(); ++r)
    log_w[r] += inc[r] + (b1 - b0) * visible_dot(x, Eigen::Index(r), diff_);
  if (move) visible_pass(ex, x, b1, streams, fixed_at(b1));
  return {};
}

}  // namespace logz
