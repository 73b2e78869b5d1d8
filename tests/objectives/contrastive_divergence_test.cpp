// CD / PCD: the update equals the likelihood gradient it estimates.
#include "logz/objectives/contrastive_divergence.hpp"

#include <gtest/gtest.h>

#include "logz/kernels/rbm_gibbs.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

struct ExactGradient {
  MatrixD w;
  VectorD b, c;
  // Per-entry variance of one model sample's contribution (for the PCD tolerance).
  MatrixD var_w;
  VectorD var_b, var_c;
};

/// ∇ of the mean log-likelihood of `data`: data statistics minus exact model
/// statistics (the model expectation by enumerating every visible state).
ExactGradient exact_gradient(const RbmD& m, const MatrixD& data) {
  const auto nv = Eigen::Index(m.n_visible()), nh = Eigen::Index(m.n_hidden());
  auto hidden_probs = [&](const VectorD& v) {
    VectorD p = m.weights.transpose() * v + m.hidden_bias;
    return VectorD(p.array().logistic());
  };
  ExactGradient g{MatrixD::Zero(nv, nh), VectorD::Zero(nv), VectorD::Zero(nh), MatrixD::Zero(nv, nh), VectorD::Zero(nv),
                  VectorD::Zero(nh)};
  for (Eigen::Index r = 0; r < data.rows(); ++r) {
    const VectorD v = data.row(r).transpose();
    const VectorD p = hidden_probs(v);
    g.w += v * p.transpose() / double(data.rows());
    g.b += v / double(data.rows());
    g.c += p / double(data.rows());
  }
  const std::vector<double> pi = test::exact_visible_distribution(m);
  const MatrixU8 states = test::all_visible_states(m);
  MatrixD mw = MatrixD::Zero(nv, nh), mw2 = MatrixD::Zero(nv, nh);
  VectorD mb = VectorD::Zero(nv), mb2 = VectorD::Zero(nv), mc = VectorD::Zero(nh), mc2 = VectorD::Zero(nh);
  for (Eigen::Index k = 0; k < states.rows(); ++k) {
    const VectorD v = states.row(k).cast<double>().transpose();
    const VectorD p = hidden_probs(v);
    const MatrixD outer = v * p.transpose();
    mw += pi[std::size_t(k)] * outer;
    mw2 += pi[std::size_t(k)] * outer.cwiseProduct(outer);
    mb += pi[std::size_t(k)] * v;
    mb2 += pi[std::size_t(k)] * v.cwiseProduct(v);
    mc += pi[std::size_t(k)] * p;
    mc2 += pi[std::size_t(k)] * p.cwiseProduct(p);
  }
  g.w -= mw;
  g.b -= mb;
  g.c -= mc;
  g.var_w = mw2 - mw.cwiseProduct(mw);
  g.var_b = mb2 - mb.cwiseProduct(mb);
  g.var_c = mc2 - mc.cwiseProduct(mc);
  return g;
}

// With lr = 1, no momentum and no decay, one step moves the parameters by exactly the
// gradient estimate; PCD chains at equilibrium make it an unbiased estimate of the
// exact gradient with per-entry standard error sqrt(var / chains).
TEST(ContrastiveDivergence, PcdWithLongChainsApproachesTheExactGradient) {
  const RbmD md = test::random_rbm(11, 6, 4, 0.8, 0.5);
  const RbmF m = md.cast<float>();
  Stream rng = Stream::derive(3, Purpose::user, 1);
  MatrixF data(40, 6);
  for (Eigen::Index i = 0; i < data.size(); ++i) data.data()[i] = rng.uniform_double() < 0.4 ? 1.f : 0.f;

  const std::size_t chains = 20000;
  // Burn the persistent chains in: 200 sweeps from the base; a 6x4 RBM mixes in a few.
  RbmChains<float> c = RbmChains<float>::from_bias(m.visible_bias, chains, 5, Purpose::chains);
  gibbs_sample(m, c, 200, Exec(2));
  ContrastiveDivergence pcd(CdParams(10, true), c.v);

  RbmF after = m, vel(6, 4);
  pcd.step(after, data, Stream::derive(9, Purpose::gibbs, 0), 1.0, 0.0, 0.0, vel, Exec(2));

  const ExactGradient g = exact_gradient(md, data.cast<double>());
  // 34 entries tested; Bonferroni: each fails falsely with probability 1e-4 / 34, so the
  // whole test does with probability <= 1e-4 (normal approximation of a mean of 20000).
  const double z = test::normal_two_sided_z(1e-4 / 34);
  auto check = [&](double est, double exact, double var, const char* what, Eigen::Index i) {
    const double se = std::sqrt(std::max(var, 1e-12) / double(chains));
    EXPECT_LE(std::fabs(est - exact), z * se) << what << "[" << i << "] est " << est << " exact " << exact;
  };
  for (Eigen::Index i = 0; i < g.w.size(); ++i)
    check(double(after.weights.data()[i] - m.weights.data()[i]), g.w.data()[i], g.var_w.data()[i], "W", i);
  for (Eigen::Index i = 0; i < g.b.size(); ++i)
    check(double(after.visible_bias[i] - m.visible_bias[i]), g.b[i], g.var_b[i], "b", i);
  for (Eigen::Index i = 0; i < g.c.size(); ++i)
    check(double(after.hidden_bias[i] - m.hidden_bias[i]), g.c[i], g.var_c[i], "c", i);
}

// Momentum and weight decay follow vel <- mom vel + lr (grad - wd W); theta <- theta + vel.
TEST(ContrastiveDivergence, MomentumAndDecayFollowTheStatedUpdate) {
  const RbmF m = test::random_rbm(4, 5, 3, 0.5, 0.5).cast<float>();
  MatrixF data = MatrixF::Ones(8, 5);
  auto run = [&](double lr, double mom, double wd, RbmF vel) {
    RbmF x = m;
    ContrastiveDivergence cd(CdParams(1, false));
    cd.step(x, data, Stream::derive(1, Purpose::gibbs, 0), lr, mom, wd, vel, Exec(1));
    return std::pair{x, vel};
  };
  RbmF vel0(5, 3);
  vel0.weights.setConstant(0.25f);
  vel0.visible_bias.setConstant(0.5f);
  const auto [plain, plain_vel] = run(1.0, 0.0, 0.0, RbmF(5, 3));  // plain: Δ = gradient
  const MatrixF grad = plain.weights - m.weights;
  const auto [x, vel] = run(0.1, 0.9, 0.01, vel0);
  const MatrixF expected_vel = 0.9f * vel0.weights + 0.1f * (grad - 0.01f * m.weights);
  EXPECT_LE((vel.weights - expected_vel).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_LE((x.weights - (m.weights + expected_vel)).cwiseAbs().maxCoeff(), 1e-6);
  const VectorF grad_b = plain.visible_bias - m.visible_bias;
  EXPECT_LE((vel.visible_bias - (0.9f * vel0.visible_bias + 0.1f * grad_b)).cwiseAbs().maxCoeff(), 1e-6);
}

TEST(ContrastiveDivergence, RejectsBadArguments) {
  try {
    CdParams p(0, false);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "CdParams: k must be >= 1, got 0");
    EXPECT_EQ(e.code(), Exit::usage);
  }
  try {
    ContrastiveDivergence cd(CdParams(1, true));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "ContrastiveDivergence: PCD needs at least one persistent chain");
  }
  RbmF m(5, 3), vel(5, 3);
  ContrastiveDivergence cd(CdParams(1, false));
  try {
    cd.step(m, MatrixF::Zero(4, 6), Stream::root(1), 0.1, 0, 0, vel, Exec(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "ContrastiveDivergence: batch has shape (4, 6), expected (>0, 5)");
  }
}

}  // namespace
}  // namespace logz

namespace logz {
namespace {

// Fixed-point products (CdParams::fixed_point) make the same update as float products up
// to their rounding: the same draws (a unit flips only when its uniform falls within
// ~1e-5 of its probability) and gradients within 1e-4 — for CD and PCD, narrow and wide
// layers (one and two column blocks, a partial panel).
TEST(ContrastiveDivergence, FixedPointProductsMakeTheFloatUpdate) {
  for (auto [nv, nh, persistent] : {std::tuple<Eigen::Index, Eigen::Index, bool>{30, 15, true}, {70, 130, true},
                                    {33, 17, false}}) {
    const RbmF m = test::random_rbm(5, std::size_t(nv), std::size_t(nh), 0.5, 0.5).cast<float>();
    Stream rng = Stream::derive(6, Purpose::user, 0);
    MatrixF data(24, nv), chains(20, nv);
    for (Eigen::Index i = 0; i < data.size(); ++i) data.data()[i] = rng.uniform_double() < 0.4 ? 1.f : 0.f;
    for (Eigen::Index i = 0; i < chains.size(); ++i) chains.data()[i] = rng.uniform_double() < 0.5 ? 1.f : 0.f;
    RbmF updated[2] = {m, m};
    MatrixF chains_after[2];
    for (int fixed = 0; fixed < 2; ++fixed) {
      CdParams params(2, persistent);
      params.fixed_point = fixed == 1;
      ContrastiveDivergence cd(params, persistent ? chains : MatrixF());
      RbmF vel(static_cast<std::size_t>(nv), static_cast<std::size_t>(nh));
      cd.step(updated[fixed], data, Stream::derive(9, Purpose::gibbs, 0), 1.0, 0.0, 0.0, vel, Exec(2));
      chains_after[fixed] = cd.chains();
    }
    if (persistent) {
      EXPECT_TRUE(chains_after[0] == chains_after[1]) << nv << "x" << nh;
    }
    EXPECT_LT((updated[0].weights - updated[1].weights).cwiseAbs().maxCoeff(), 1e-4) << nv << "x" << nh;
    EXPECT_LT((updated[0].hidden_bias - updated[1].hidden_bias).cwiseAbs().maxCoeff(), 1e-4) << nv << "x" << nh;
    EXPECT_EQ(updated[0].visible_bias, updated[1].visible_bias) << nv << "x" << nh;
  }
}

}  // namespace
}  // namespace logz
