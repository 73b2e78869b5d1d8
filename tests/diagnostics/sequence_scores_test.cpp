// Sequence scores: energies of rows against Potts::energy (1 and 2 threads alike), every
// single-mutant ΔE against the energy difference of the two sequences, and the gap
// state of a gap-less model taking its sites out of the energy (checked by hand).
#include "logz/diagnostics/sequence_scores.hpp"

#include <gtest/gtest.h>

#include "logz/core/rng.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

Potts random_model(std::size_t l, std::size_t q, std::uint64_t seed) {
  Potts m = Potts::dense(l, q);
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  VectorD theta(Eigen::Index(m.num_parameters()));
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = rng.uniform_double() * 2 - 1;
  m.set_parameters(theta);
  return m;
}

MatrixU8 random_rows(std::size_t n, std::size_t l, std::size_t q, std::uint64_t seed) {
  Stream rng = Stream::derive(seed, Purpose::user, 1);
  MatrixU8 x(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(l));
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = std::uint8_t(rng.below(q));
  return x;
}

TEST(SequenceScores, EnergiesAreThoseOfTheModelForAnyThreadCount) {
  const Potts m = random_model(7, 4, 1);
  const MatrixU8 x = random_rows(50, 7, 4, 2);
  const VectorD e1 = sequence_energies(m, x, Exec(1));
  EXPECT_EQ(e1, sequence_energies(m, x, Exec(2)));
  for (Eigen::Index s = 0; s < x.rows(); ++s) EXPECT_EQ(e1[s], m.energy(x.row(s).cast<double>().transpose()));
  MatrixU8 bad = x;
  bad(3, 5) = 4;
  test::expect_error([&] { sequence_energies(m, bad); }, Exit::usage,
                     "sequence_energies: row 4 site 6 has state 4, not below q = 4");
  test::expect_error([&] { sequence_energies(m, MatrixU8::Zero(2, 6)); }, Exit::usage,
                     "sequence_energies: rows of 6 sites, the model has 7");
}

TEST(SequenceScores, MutantEffectsAreEnergyDifferences) {
  const Potts m = random_model(6, 5, 3);
  const VectorD wt = random_rows(1, 6, 5, 4).row(0).cast<double>().transpose();
  const MatrixD delta = single_mutant_effects(m, wt);
  ASSERT_EQ(delta.rows(), 6);
  ASSERT_EQ(delta.cols(), 5);
  const double e_wt = m.energy(wt);
  for (Eigen::Index i = 0; i < 6; ++i)
    for (Eigen::Index a = 0; a < 5; ++a) {
      VectorD mut = wt;
      mut[i] = double(a);
      // Both sides are sums of the same O(1) terms in a different order.
      EXPECT_NEAR(delta(i, a), m.energy(mut) - e_wt, 1e-12) << i << " " << a;
      if (double(a) == wt[i]) EXPECT_EQ(delta(i, a), 0.0);
    }
  test::expect_error([&] { single_mutant_effects(m, VectorD::Zero(5)); }, Exit::usage,
                     "single_mutant_effects: the reference: state has 5 sites but the model has 6");
}

TEST(SequenceScores, AGapStateTakesItsSiteOutOfTheEnergy) {
  const Potts m = random_model(3, 2, 5);
  const Potts g = with_gap_state(m);
  ASSERT_EQ(g.num_states(), 3u);
  // No gap: the same energy with states shifted by one.
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c)
        EXPECT_EQ(g.energy((VectorD(3) << a + 1, b + 1, c + 1).finished()),
                  m.energy((VectorD(3) << a, b, c).finished()));
  // A gap at site 1: only site 0, site 2 and their pair remain.
  const double by_hand = -m.fields()(0, 1) - m.fields()(2, 0) - m.coupling(0, 2, 1, 0);
  EXPECT_NEAR(g.energy((VectorD(3) << 2, 0, 1).finished()), by_hand, 1e-15);
  EXPECT_EQ(g.energy(VectorD::Zero(3)), 0.0);
}

}  // namespace
}  // namespace logz
