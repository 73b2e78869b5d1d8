// Same seed => identical output, and 1 thread vs 2 threads => identical bits, for every
// RBM computation that runs in parallel.
#include <gtest/gtest.h>

#include <cstring>

#include "logz/estimators/rbm_ais.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/kernels/rbm_gibbs.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

template <class A, class B>
bool same_bits(const A& a, const B& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(*a.data()) * std::size_t(a.size())) == 0;
}

void expect_same(const LogZEstimate& a, const LogZEstimate& b) {
  EXPECT_EQ(a.log_z, b.log_z);
  EXPECT_EQ(a.std_error, b.std_error);
  EXPECT_EQ(a.ess, b.ess);
  EXPECT_EQ(a.log_z_base, b.log_z_base);
  EXPECT_TRUE(same_bits(a.log_weights, b.log_weights));
}

// 500 chains = 2 row blocks, so two threads really split the work.
const RbmF kModel = test::random_rbm(1, 50, 12, 0.3, 0.5).cast<float>();
VectorF base() { return VectorF::Constant(50, -0.3f); }

TEST(Threads, AisIsBitIdentical) {
  const Schedule s = Schedule::linear(200);
  const LogZEstimate a1 = rbm_ais(kModel, base(), s, {500, 7}, Exec(1));
  const LogZEstimate a2 = rbm_ais(kModel, base(), s, {500, 7}, Exec(2));
  const LogZEstimate a4 = rbm_ais(kModel, base(), s, {500, 7}, Exec(4));
  expect_same(a1, a2);
  expect_same(a1, a4);
  // And a different seed gives a different answer (the seed is used).
  EXPECT_NE(rbm_ais(kModel, base(), s, {500, 8}, Exec(2)).log_z, a1.log_z);
}

TEST(Threads, RaiseIsBitIdentical) {
  Stream rng = Stream::derive(2, Purpose::data, 0);
  MatrixU8 start(500, 50);
  for (Eigen::Index i = 0; i < start.size(); ++i) start.data()[i] = std::uint8_t(rng.below(2));
  const Schedule s = Schedule::linear(200);
  const LogZEstimate r1 = rbm_raise(kModel, base(), s, start, 9, Exec(1));
  const LogZEstimate r2 = rbm_raise(kModel, base(), s, start, 9, Exec(2));
  expect_same(r1, r2);
}

TEST(Threads, GibbsSampleIsBitIdentical) {
  for (std::size_t chains : {1u, 100u, 777u}) {
    RbmChains<float> c1 = RbmChains<float>::from_bias(kModel.visible_bias, chains, 3, Purpose::gibbs);
    RbmChains<float> c2 = c1;
    gibbs_sample(kModel, c1, 25, Exec(1));
    gibbs_sample(kModel, c2, 25, Exec(2));
    EXPECT_TRUE(same_bits(c1.v, c2.v)) << chains;
    for (std::size_t r = 0; r < chains; ++r) ASSERT_EQ(c1.streams[r].position(), c2.streams[r].position());
  }
  const RbmD md = kModel.cast<double>();
  RbmChains<double> d1 = RbmChains<double>::from_bias(md.visible_bias, 300, 4, Purpose::gibbs), d2 = d1;
  gibbs_sample(md, d1, 10, Exec(1));
  gibbs_sample(md, d2, 10, Exec(2));
  EXPECT_TRUE(same_bits(d1.v, d2.v));
}

TEST(Threads, FreeEnergiesAreBitIdentical) {
  Stream rng = Stream::derive(5, Purpose::data, 0);
  MatrixU8 data(1000, 50);
  for (Eigen::Index i = 0; i < data.size(); ++i) data.data()[i] = std::uint8_t(rng.below(2));
  EXPECT_TRUE(same_bits(free_energies(kModel, data, Exec(1)), free_energies(kModel, data, Exec(2))));
  const RbmD md = kModel.cast<double>();
  EXPECT_TRUE(same_bits(free_energies(md, data, Exec(1)), free_energies(md, data, Exec(2))));
  EXPECT_TRUE(same_bits(rbm_log_likelihoods(md, data, 3.0, Exec(1)), rbm_log_likelihoods(md, data, 3.0, Exec(2))));
}

TEST(Threads, ExactLogZIsBitIdentical) {
  // 16 enumerated units: 16 chunks of 2^12 states.
  const RbmD m = test::random_rbm(6, 100, 16, 0.3, 0.5);
  const double z1 = rbm_exact_log_z(m, Exec(1)).log_z, z2 = rbm_exact_log_z(m, Exec(2)).log_z;
  EXPECT_EQ(std::memcmp(&z1, &z2, sizeof z1), 0) << z1 << " vs " << z2;
  const RbmD mt = test::random_rbm(7, 15, 80, 0.3, 0.5);  // visible layer enumerated
  const double t1 = rbm_exact_log_z(mt, Exec(1)).log_z, t2 = rbm_exact_log_z(mt, Exec(2)).log_z;
  EXPECT_EQ(std::memcmp(&t1, &t2, sizeof t1), 0);
}

}  // namespace
}  // namespace logz
