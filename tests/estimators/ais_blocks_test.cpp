// AIS and RAISE over blocks of particles (estimators/ais.hpp, detail::anneal): a
// BlockwisePath runs fixed blocks of particles through segments of steps, one task per
// block. These tests check that the particles, log-weights and per-step diagnostics are
// those of running the population whole, bit for bit (a Potts path, whose particles
// share nothing), across segments of the kept log-weight history, and that the result
// does not depend on the thread count (the RBM paths, narrow and wide, and the RBM path
// from a mixture of the modes' bases).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "logz/estimators/ais.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/rbm_mixture_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/calibration.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

/// `path` without particle_block: the estimators run its population whole, step by step.
template <AnnealingPath P>
struct Whole {
  using Particles = typename P::Particles;
  const P& p;
  double log_z_base() const { return p.log_z_base(); }
  std::size_t dimension() const { return p.dimension(); }
  void draw_base(const Exec& ex, Particles& x, std::span<Stream> s) const { p.draw_base(ex, x, s); }
  void log_ratio(const Exec& ex, const Particles& x, double b0, double b1, std::span<double> w) const {
    p.log_ratio(ex, x, b0, b1, w);
  }
  void dlog_f(const Exec& ex, const Particles& x, double b, std::span<double> w) const { p.dlog_f(ex, x, b, w); }
  MoveInfo move(const Exec& ex, Particles& x, double b, std::span<Stream> s) const { return p.move(ex, x, b, s); }
};

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void expect_same_steps(const LogZEstimate& a, const LogZEstimate& b) {
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (std::size_t k = 0; k < a.steps.size(); ++k) {
    EXPECT_EQ(a.steps[k].beta, b.steps[k].beta) << k;
    EXPECT_TRUE(same(a.steps[k].ess, b.steps[k].ess)) << k;
    EXPECT_TRUE(same(a.steps[k].acceptance, b.steps[k].acceptance)) << k;
    EXPECT_TRUE(same(a.steps[k].log_weight_variance, b.steps[k].log_weight_variance)) << k;
  }
}

Potts random_lattice(std::size_t rows, std::size_t cols, std::size_t q, double scale) {
  return test::randomise(test::lattice_potts(rows, cols, q), 7, scale);
}

TEST(AisBlocks, PottsPathRunsInBlocksWithTheWholePopulationsBits) {
  const Potts m = random_lattice(3, 3, 3, 0.6);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  static_assert(BlockwisePath<decltype(path)>);
  static_assert(!BlockwisePath<Whole<decltype(path)>>);
  ASSERT_GT(path.particle_block(150), 0u);
  const Whole<decltype(path)> whole{path};
  const Schedule schedule = Schedule::sigmoid(60);
  for (int threads : {1, 2}) {
    const LogZEstimate blocks = ais(path, schedule, AisConfig{150, 11}, Exec(threads));
    const LogZEstimate one = ais(whole, schedule, AisConfig{150, 11}, Exec(threads));
    EXPECT_EQ(blocks.log_weights, one.log_weights);
    EXPECT_EQ(blocks.log_z, one.log_z);
    EXPECT_EQ(blocks.std_error, one.std_error);
    expect_same_steps(blocks, one);
  }
  // Importance sampling is the one-step schedule.
  const LogZEstimate is_blocks = importance_sampling(path, 90, 3, Exec(2));
  const LogZEstimate is_one = importance_sampling(whole, 90, 3, Exec(1));
  EXPECT_EQ(is_blocks.log_weights, is_one.log_weights);
  expect_same_steps(is_blocks, is_one);
}

TEST(AisBlocks, RaiseStartsWithAMoveAndMatchesTheWholePopulation) {
  const Potts m = random_lattice(2, 4, 3, 0.5);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Whole<decltype(path)> whole{path};
  MatrixD start(70, 8);
  Stream rng = Stream::derive(5, Purpose::user, 0);
  for (Eigen::Index r = 0; r < start.rows(); ++r)
    for (Eigen::Index i = 0; i < start.cols(); ++i) start(r, i) = double(rng.below(3));
  const Schedule schedule = Schedule::linear(40);
  const LogZEstimate blocks = raise(path, schedule, start, 9, Exec(2));
  const LogZEstimate one = raise(whole, schedule, start, 9, Exec(1));
  EXPECT_EQ(blocks.log_weights, one.log_weights);
  EXPECT_EQ(blocks.log_z, one.log_z);
  expect_same_steps(blocks, one);
  EXPECT_EQ(blocks.steps.back().beta, 0.0);
}

TEST(AisBlocks, SegmentsOfTheWeightHistoryJoinWithoutASeam) {
  // 1,100 steps of 1,000 particles keep more log-weights than one segment holds, so the
  // run is two parallel regions; the second must go on from where the first left off.
  ASSERT_GT(1100u * 1000u, detail::anneal_history_doubles);
  const Potts m = random_lattice(1, 3, 2, 0.8);
  const UniformStates base = uniform_base(m);
  const auto path = mrf_path(base, m, 1);
  const Whole<decltype(path)> whole{path};
  const Schedule schedule = Schedule::linear(1100);
  const LogZEstimate blocks = ais(path, schedule, AisConfig{1000, 2}, Exec(2));
  const LogZEstimate one = ais(whole, schedule, AisConfig{1000, 2}, Exec(1));
  EXPECT_EQ(blocks.log_weights, one.log_weights);
  expect_same_steps(blocks, one);
}

TEST(AisBlocks, NarrowRbmPathRunsInBlocksWithTheSameBitsForAnyThreadCount) {
  const RbmF m = test::random_rbm(3, 12, 9, 0.5, 1.0).cast<float>();
  const RbmAnnealingPath path(m, VectorF::Constant(12, -0.2f));
  static_assert(BlockwisePath<RbmAnnealingPath>);
  ASSERT_GT(path.particle_block(100), 0u);
  const Schedule schedule = Schedule::sigmoid(200);
  const LogZEstimate one = ais(path, schedule, AisConfig{100, 4}, Exec(1));
  const LogZEstimate two = ais(path, schedule, AisConfig{100, 4}, Exec(2));
  EXPECT_EQ(one.log_weights, two.log_weights);
  expect_same_steps(one, two);
  // Against the whole population: the same draws, products of other shapes (float rounding).
  const LogZEstimate whole = ais(Whole<RbmAnnealingPath>{path}, schedule, AisConfig{100, 4}, Exec(1));
  for (std::size_t r = 0; r < 100; ++r) EXPECT_NEAR(one.log_weights[r], whole.log_weights[r], 1e-4) << r;
}

TEST(AisBlocks, WideRbmPathRunsInAPowerOfTwoOfBlocksOrSplitsItsSteps) {
  const RbmF m = test::random_rbm(3, 12, 130, 0.1, 0.5).cast<float>();
  const RbmAnnealingPath path(m, VectorF::Constant(12, -0.2f));
  // A power of two of blocks of at least wide_block_rows particles; under two such
  // blocks the steps split their products by columns (no blocks).
  EXPECT_EQ(path.particle_block(99), 0u);
  EXPECT_EQ(path.particle_block(100), 50u);
  EXPECT_EQ(path.particle_block(199), 100u);
  EXPECT_EQ(path.particle_block(200), 50u);
  EXPECT_EQ(path.particle_block(100000), 98u);  // 1,024 blocks: many ranks can share them
  const Schedule schedule = Schedule::sigmoid(150);
  const LogZEstimate one = ais(path, schedule, AisConfig{120, 6}, Exec(1));
  const LogZEstimate two = ais(path, schedule, AisConfig{120, 6}, Exec(2));
  EXPECT_EQ(one.log_weights, two.log_weights);
  expect_same_steps(one, two);
  const LogZEstimate whole = ais(Whole<RbmAnnealingPath>{path}, schedule, AisConfig{120, 6}, Exec(2));
  for (std::size_t r = 0; r < 120; ++r) EXPECT_NEAR(one.log_weights[r], whole.log_weights[r], 1e-4) << r;
}

TEST(AisBlocks, ModeMixturePathRunsItsRowBlocksThroughEveryStep) {
  const RbmD m = test::random_rbm(8, 10, 70, 0.3, 1.0);
  RbmModes modes;
  modes.states = MatrixU8::Zero(2, 70);
  modes.states.row(1).setOnes();
  modes.log_weights = VectorD{{0.0, -0.7}};
  const RbmModeMixturePath path(m, modes);
  static_assert(BlockwisePath<RbmModeMixturePath>);
  EXPECT_EQ(path.particle_block(99), 0u);
  EXPECT_EQ(path.particle_block(100), 50u);
  const Whole<RbmModeMixturePath> whole{path};
  const Schedule schedule = Schedule::sigmoid(120);
  // Each row's products are its own: the blocks give the whole population's bits.
  for (std::size_t n : {100u, 260u}) {
    const LogZEstimate blocks = ais(path, schedule, AisConfig{n, 5}, Exec(2));
    const LogZEstimate one = ais(whole, schedule, AisConfig{n, 5}, Exec(1));
    EXPECT_EQ(blocks.log_weights, one.log_weights) << n;
    expect_same_steps(blocks, one);
  }
}

}  // namespace
}  // namespace logz
