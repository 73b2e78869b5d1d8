// The PCD trainer shared by Ising and Potts models (training/mrf_pcd.hpp): the chains
// follow their documented streams with and without tempering (an Ising ladder, which only
// the shared chains give Ising fits), the SGD loop is the documented update rule (replayed
// by hand from the same chains), reports progress, and stops with a clear message when
// the parameters overflow.
#include "logz/training/mrf_pcd.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "logz/core/check.hpp"
#include "support/expect_error.hpp"

namespace logz {
namespace {

Ising small_ising() {
  Ising m = Ising::lattice_2d(2, 3, 0.4, 0.1, Boundary::open, Boundary::open, SpinConvention::zero_one);
  VectorD theta = m.parameters();
  Stream rng = Stream::root(5);
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = 0.7 * rng.normal();
  m.set_parameters(theta);
  return m;
}

std::vector<VectorD> spin_starts(const Ising& m, std::size_t chains, const Stream& init) {
  return draw_chain_starts(chains, init, [&](Stream& rng) {
    VectorD s(Eigen::Index(m.n_spins()));
    for (Eigen::Index i = 0; i < s.size(); ++i) s[i] = m.spin_value(rng.uniform_double() < 0.5);
    return s;
  });
}

TEST(MrfChains, PlainAndTemperedChainsFollowTheirStreams) {
  const Ising m = small_ising();
  const std::vector<VectorD> starts = spin_starts(m, 5, Stream::root(1));
  MrfChains<Ising> plain("chains", starts, 2);
  MrfChains<Ising> tempered("chains", starts, 2, {0.3, 0.6, 1.0});
  EXPECT_FALSE(plain.tempered());
  EXPECT_TRUE(tempered.tempered());
  const Stream stream = Stream::root(2);
  plain.advance(m, stream, Exec(2));
  tempered.advance(m, stream, Exec(2));
  const SystematicGibbs kernel({2, 1.0});
  const MrfChains<Ising>::Ladder ladder({0.3, 0.6, 1.0}, {2, 1.0});
  for (std::size_t c = 0; c < 5; ++c) {
    VectorD x = starts[c];
    Stream rng = stream.derive(Purpose::gibbs, c);
    kernel.step(m, x, rng);
    EXPECT_EQ(plain.state(c), x) << "chain " << c;
    auto rungs = ladder.start(starts[c]);
    Stream rng_t = stream.derive(Purpose::gibbs, c);
    ladder.step(m, rungs, rng_t);
    EXPECT_EQ(tempered.state(c), rungs.replicas.back()) << "chain " << c;
    EXPECT_EQ(tempered.states().row(Eigen::Index(c)), rungs.replicas.back().transpose());
  }
  EXPECT_TRUE(plain.swap_acceptance().empty());
  EXPECT_EQ(tempered.swap_acceptance().size(), 2u);
  test::expect_error([&] { MrfChains<Ising>("chains", {}, 1); }, Exit::usage, "chains: chains must be >= 1 (got 0)");
  test::expect_error([&] { MrfChains<Ising>("chains", starts, 0); }, Exit::usage, "chains: sweeps must be >= 1 (got 0)");
  test::expect_error([&] { MrfChains<Ising>("chains", starts, 1, {0.5, 0.8}); }, Exit::usage,
                     "chains: the last beta must be 1 (the model), got 0.8");
}

TEST(RunMrfPcd, IsTheDocumentedMomentumSgdWithAveraging) {
  const Ising m = small_ising();
  const IsingDataMoments data{VectorD::Constant(6, 0.5), VectorD::Constant(Eigen::Index(m.n_edges()), 0.25), 10};
  const PcdSgdParams sgd{.updates = 6, .learning_rate = 0.1, .momentum = 0.5, .decay_updates = 2, .average_last = 3};
  struct Recorder : Observer {
    std::vector<std::size_t> done;
    void progress(std::string_view phase, std::size_t d, std::size_t total) override {
      EXPECT_EQ(phase, "pcd");
      EXPECT_EQ(total, 6u);
      done.push_back(d);
    }
  } rec;
  Ising fitted = m;
  MrfChains<Ising> chains("chains", spin_starts(m, 8, Stream::root(3)), 1);
  const std::vector<double> trace =
      run_mrf_pcd("test", fitted, chains, sgd, 9, Exec(1), rec, {}, [&](const Ising& model, const VectorD&, VectorD& g) {
        g = ising_pcd_gradient(model, data, ising_state_moments(model, chains.states(), Exec(1)), {});
        return g.norm();
      });
  EXPECT_EQ(rec.done, (std::vector<std::size_t>{1, 2, 3, 4, 5, 6}));
  // Replay: the same chains, by hand.
  Ising model = m;
  MrfChains<Ising> again("chains", spin_starts(m, 8, Stream::root(3)), 1);
  VectorD theta = m.parameters(), v = VectorD::Zero(theta.size()), average = VectorD::Zero(theta.size());
  for (std::size_t t = 0; t < 6; ++t) {
    again.advance(model, Stream::derive(9, Purpose::gibbs, t), Exec(1));
    const VectorD g = ising_pcd_gradient(model, data, ising_state_moments(model, again.states(), Exec(1)), {});
    EXPECT_EQ(trace[t], g.norm());
    v = 0.5 * v - (0.1 / (1.0 + double(t) / 2.0)) * g;
    theta += v;
    model.set_parameters(theta);
    if (t >= 3) average += theta;
  }
  EXPECT_EQ(fitted.parameters(), VectorD(average / 3.0));
}

TEST(RunMrfPcd, ResumedFromAnyCheckpointEndsWithTheUninterruptedBits) {
  const Ising m = small_ising();
  const IsingDataMoments data{VectorD::Constant(6, 0.5), VectorD::Constant(Eigen::Index(m.n_edges()), 0.25), 10};
  const PcdSgdParams sgd{.updates = 9, .learning_rate = 0.1, .momentum = 0.5, .decay_updates = 2, .average_last = 3};
  for (const std::vector<double> betas : {std::vector<double>{}, std::vector<double>{0.4, 1.0}}) {
    const std::vector<VectorD> starts = spin_starts(m, 6, Stream::root(3));
    // Runs from `from` (none: from the start), keeping every checkpoint it writes.
    const auto run = [&](const training::Checkpoint* from, std::vector<training::Checkpoint>& saved, Ising& fitted,
                         const PcdSgdParams& settings) {
      fitted = m;
      MrfChains<Ising> chains("chains", starts, 1, betas);
      PcdCheckpointing ck{.every = 2, .save = [&](const training::Checkpoint& c) { saved.push_back(c); },
                          .resume_from = from};
      std::vector<double> trace = run_mrf_pcd(
          "test", fitted, chains, settings, 9, Exec(1), silent_observer(), ck,
          [&](const Ising& model, const VectorD&, VectorD& g) {
            g = ising_pcd_gradient(model, data, ising_state_moments(model, chains.states(), Exec(1)), {});
            return g.norm();
          });
      return std::pair{trace, chains.states()};
    };
    std::vector<training::Checkpoint> saved, ignored;
    Ising whole = m, resumed = m;
    const auto [trace, states] = run(nullptr, saved, whole, sgd);
    ASSERT_EQ(saved.size(), 5u);  // after updates 2, 4, 6, 8 and the last, 9
    for (const training::Checkpoint& c : saved) {
      const auto [t, x] = run(&c, ignored, resumed, sgd);
      EXPECT_EQ(t, trace);
      EXPECT_EQ(x, states);
      EXPECT_EQ(resumed.parameters(), whole.parameters()) << "resumed after " << c.counter("t", "updates")[0];
    }
    // More updates from a checkpoint written before the average began: allowed. After it
    // began, the average would mix two windows: refused, as is a state of other chains.
    PcdSgdParams longer = sgd;
    longer.updates = 12;
    EXPECT_NO_THROW(run(&saved[1], ignored, resumed, longer));
    test::expect_error([&] { run(&saved[3], ignored, resumed, longer); }, Exit::usage,
                       "test: the checkpoint's average holds 2 iterates where 12 updates averaging the last 3 hold 0 "
                       "after update 8; resume with the updates and average-last of the run that wrote it");
    training::Checkpoint other = saved[0];
    other.erase(betas.empty() ? "chains" : "replicas");
    other.put(betas.empty() ? "chains" : "replicas", MatrixD(MatrixD::Zero(5, 6)));
    test::expect_error([&] { run(&other, ignored, resumed, sgd); }, Exit::data,
                       betas.empty() ? "test: the checkpoint's chains have shape (5, 6) but this run has 6 chains of 6 sites"
                                     : "test: the checkpoint's chains have shape (5, 6) but this run has 6 chains of 2 "
                                       "betas of 6 sites");
  }
}

TEST(FitIsingPcd, StopsWhenTheParametersOverflow) {
  // Data with every spin down: the gradient never changes sign, so a step of ~1e307 and
  // its momentum (a geometric sum of 10 such steps) overflow within a few updates.
  const Ising m = small_ising();
  const IsingDataMoments data{VectorD::Zero(6), VectorD::Zero(Eigen::Index(m.n_edges())), 10};
  IsingSgdParams sgd;
  sgd.updates = 50;
  sgd.learning_rate = 1e308;
  try {
    fit_ising_pcd(m, data, {}, {4, 1, {}}, sgd, 1, Exec(1));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    const std::string prefix = "fit_ising_pcd: the parameters stopped being finite at update ";
    EXPECT_EQ(std::string(e.what()).substr(0, prefix.size()), prefix) << e.what();
  }
}

}  // namespace
}  // namespace logz
