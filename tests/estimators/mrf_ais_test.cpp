// AIS for Potts and Ising models against exact log Z. Exact first: with the one-step
// schedule {0, 1} AIS is importance sampling from the uniform distribution, and every
// log-weight is -E(x_0) of the chain's documented uniform draw. Then |estimate − exact|
// ≤ z·SE on Potts models (exact log Z by enumeration written here) and Ising models
// (ising_enumeration_log_z, both spin conventions), with the false-failure rate next to
// z; the log-scale SE is a delta-method (asymptotic) one, so the runs use enough chains
// and betas that the weights are nearly equal (ESS > 30% of chains is asserted first).
#include "logz/estimators/mrf_ais.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "logz/core/math.hpp"
#include "logz/estimators/ais.hpp"  // ais_stream
#include "logz/exact/ising_exact.hpp"
#include "support/calibration.hpp"
#include "support/expect_error.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

// Two-sided false-failure rate 1e-4: z = 3.8906.
const double kZ = test::normal_two_sided_z(1e-4);

using test::randomise;
Potts lattice(std::size_t rows, std::size_t cols, std::size_t q) { return test::lattice_potts(rows, cols, q); }

/// log Σ_x exp(-E(x)) over all q^L states, E from the fields and blocks (not Potts::energy).
double enumerate_log_z(const Potts& m) {
  const std::size_t n = m.n_sites(), q = m.num_states();
  std::vector<std::size_t> x(n, 0);
  std::vector<double> minus_e;
  for (;;) {
    double e = 0;
    for (std::size_t i = 0; i < n; ++i) e -= m.fields()(Eigen::Index(i), Eigen::Index(x[i]));
    for (std::size_t k = 0; k < m.n_edges(); ++k) e -= m.block(k)[x[m.edges()[k].i] * q + x[m.edges()[k].j]];
    minus_e.push_back(-e);
    std::size_t i = 0;
    while (i < n && ++x[i] == q) x[i++] = 0;
    if (i == n) break;
  }
  return log_sum_exp(minus_e);
}

void expect_agrees(const LogZEstimate& e, double exact, std::size_t chains) {
  EXPECT_EQ(e.method, "ais");
  EXPECT_EQ(e.num_samples, chains);
  EXPECT_EQ(e.log_weights.size(), chains);
  ASSERT_GT(e.ess, 0.3 * double(chains));
  ASSERT_TRUE(std::isfinite(e.std_error));
  // The test has power: an error of a tenth of a nat (e.g. a wrong base log Z) would fail.
  EXPECT_LT(kZ * e.std_error, 0.1);
  EXPECT_LE(std::abs(e.log_z - exact), kZ * e.std_error)  // false-failure rate 1e-4
      << "estimate " << e.log_z << " exact " << exact << " se " << e.std_error;
}

TEST(MrfAisExact, OneStepScheduleIsImportanceSamplingFromUniformDraws) {
  const Potts m = randomise(Potts::dense(5, 4), 51, 0.5);
  const MrfAisConfig config{.schedule = Schedule::linear(1), .chains = 7, .sweeps = 1, .seed = 9};
  const LogZEstimate e = mrf_ais(m, config, Exec(1));
  std::vector<double> expected(7);
  for (std::size_t r = 0; r < 7; ++r) {
    Stream rng = Stream::derive(9, ais_stream, r);
    VectorD x(5);
    for (Eigen::Index i = 0; i < 5; ++i) x[i] = double(rng.below(4));
    expected[r] = -m.energy(x);
    EXPECT_EQ(e.log_weights[r], expected[r]);
  }
  EXPECT_DOUBLE_EQ(e.log_z_base, 5 * std::log(4.0));
  EXPECT_NEAR(e.log_z, 5 * std::log(4.0) + log_mean_exp(expected), 1e-12);
}

TEST(MrfAis, PottsModelsAgreeWithEnumeration) {
  struct Case {
    const char* name;
    Potts model;
    std::size_t steps;
  };
  const std::vector<Case> cases{{"dense 5 sites q=4", randomise(Potts::dense(5, 4), 52, 0.6), 300},
                                {"3x3 lattice q=3", randomise(lattice(3, 3, 3), 53, 0.6), 300}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::size_t chains = 400;
    const LogZEstimate e = mrf_ais(c.model, {.schedule = Schedule::linear(c.steps), .chains = chains, .seed = 3}, Exec(2));
    expect_agrees(e, enumerate_log_z(c.model), chains);
    EXPECT_DOUBLE_EQ(e.log_z_base, double(c.model.n_sites()) * std::log(double(c.model.num_states())));
  }
}

TEST(MrfAis, IsingModelsAgreeWithEnumeration) {
  for (SpinConvention conv : {SpinConvention::plus_minus_one, SpinConvention::zero_one}) {
    SCOPED_TRACE(int(conv));
    Ising m = Ising::lattice_2d(3, 4, 0.0, 0.0, Boundary::open, Boundary::open, conv);
    Stream rng = Stream::derive(54, Purpose::user, 0);
    VectorD theta = m.parameters();
    for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = 0.4 * rng.normal();
    m.set_parameters(theta);
    const std::size_t chains = 400;
    const LogZEstimate e =
        mrf_ais(m, {.schedule = Schedule::sigmoid(300), .chains = chains, .sweeps = 2, .seed = 4}, Exec(2));
    expect_agrees(e, ising_enumeration_log_z(m, Exec(2)), chains);
    EXPECT_DOUBLE_EQ(e.log_z_base, 12 * std::log(2.0));
  }
}

TEST(MrfAis, OneAndTwoThreadsGiveIdenticalBits) {
  const Potts m = randomise(lattice(4, 4, 3), 55, 0.5);
  const MrfAisConfig config{.schedule = Schedule::linear(50), .chains = 37, .sweeps = 1, .seed = 5};
  const LogZEstimate a = mrf_ais(m, config, Exec(1)), b = mrf_ais(m, config, Exec(2));
  EXPECT_EQ(a.log_weights, b.log_weights);
  EXPECT_EQ(a.log_z, b.log_z);
  EXPECT_EQ(a.std_error, b.std_error);
  const Ising im = Ising::lattice_2d(4, 4, 0.3, 0.1);
  EXPECT_EQ(mrf_ais(im, config, Exec(1)).log_weights, mrf_ais(im, config, Exec(2)).log_weights);
}

TEST(MrfAis, BadInputMessages) {
  const Potts m = Potts::dense(3, 3);
  test::expect_error([&] { mrf_ais(m, {.chains = 0}, Exec(1)); }, Exit::usage, "mrf_ais: chains must be >= 1, got 0");
  test::expect_error([&] { mrf_ais(m, {.sweeps = 0}, Exec(1)); }, Exit::usage, "mrf_ais: sweeps must be >= 1, got 0");
  const LogZEstimate one = mrf_ais(m, {.schedule = Schedule::linear(3), .chains = 1}, Exec(1));
  EXPECT_TRUE(std::isnan(one.std_error));
  EXPECT_EQ(one.error_method, "none: a single chain gives no error estimate");
}

}  // namespace
}  // namespace logz
