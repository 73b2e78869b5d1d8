// The tasks on the one model type (api/tasks.hpp): the same answers as the per-kind code
// they stand on, for every kind; the same bits for 1 and 2 threads; replicates equal to
// single runs with seeds seed + r; RAISE's start rows picked the one way; evaluation's
// error bar and per-row / per-site numbers; errors that name config fields.
#include <gtest/gtest.h>

#include <cmath>

#include "logz/api/tasks.hpp"
#include "logz/exact/junction_tree.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "support/expect_error.hpp"
#include "logz/io/npy.hpp"
#include "support/rbm_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace logz {
namespace {

io::ModelFile file_of(AnyModel m) {
  io::ModelFile f{std::move(m)};
  return f;
}

Ising small_ising() { return Ising::lattice_2d(3, 3, 0.35, 0.1, Boundary::periodic, Boundary::periodic); }

TEST(Tasks, ExactMatchesTheKindsOwnMethods) {
  const Exec ex(1);
  const RbmD rbm = test::random_rbm(3, 7, 4, 0.5, 0.3);
  EXPECT_EQ(api::exact_log_z(file_of(rbm), ex).log_z, rbm_exact_log_z(rbm, ex).log_z);
  const Ising is = small_ising();
  EXPECT_EQ(api::exact_log_z(file_of(is), ex).log_z, junction_tree(is, {}, ex).log_z);
  const Gaussian g = Gaussian::isotropic(3, 1.5);
  EXPECT_DOUBLE_EQ(api::exact_log_z(file_of(g), ex).log_z, g.log_partition());
  // A neural energy has no exact method: a usage error that says so.
  const NeuralEnergy n(MatrixD::Constant(2, 2, 0.1), VectorD::Zero(2), VectorD::Ones(2), VectorD::Zero(2), 1.0);
  test::expect_error([&] { api::exact_log_z(file_of(n), ex); }, Exit::usage,
                     "exact: no exact log Z for this model: a neural energy has no closed form for log Z");
}

TEST(Tasks, EstimatesAreTheSameForAnyThreadCountAndReplicatesAreSingleRuns) {
  const io::ModelFile f = file_of(small_ising());
  api::EstimateConfig c;
  c.method = "ais";
  c.chains = 16;
  c.betas = 50;
  c.replicates = 3;
  c.seed = 11;
  const api::LogZResult one = api::estimate_log_z(f, c, {}, Exec(1));
  const api::LogZResult two = api::estimate_log_z(f, c, {}, Exec(2));
  EXPECT_EQ(one.estimate.combined.log_z, two.estimate.combined.log_z);
  ASSERT_EQ(one.estimate.runs.size(), 3u);
  for (std::size_t r = 0; r < 3; ++r) {
    // Run r: seed + r and its share of the 16 chains (6, 5, 5).
    const api::EstimateConfig single = api::replicate_config(c, r, 3);
    EXPECT_EQ(single.seed, c.seed + r);
    EXPECT_EQ(single.chains, r == 0 ? 6u : 5u);
    EXPECT_EQ(api::estimate_log_z(f, single, {}, Exec(1)).estimate.combined.log_weights, one.estimate.runs[r].log_weights);
  }
  EXPECT_EQ(one.details["kind"], "ising");
}

TEST(Tasks, RaiseNeedsStartRowsAndPicksThemTheOneWay) {
  const io::ModelFile f = file_of(small_ising());
  api::EstimateConfig c;
  c.method = "raise";
  c.chains = 4;
  c.betas = 20;
  c.replicates = 1;  // all 4 chains in one run: more than the 3 rows below
  try {
    api::estimate_log_z(f, c, {}, Exec(1));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.fields(), (std::vector<std::string>{"method", "data", "chains"}));
  }
  api::Dataset data{MatrixD(MatrixD::Ones(3, 9)), "ones"};
  api::EstimateInputs in;
  in.start_data = &data;
  test::expect_error([&] { api::estimate_log_z(f, c, in, Exec(1)); }, Exit::usage,
                     "estimate: chains 4 exceeds the 3 rows of data ones (RAISE starts each chain from a different row)");
  // The rows picked: a partial Fisher-Yates shuffle on Stream::derive(seed, data, 0).
  MatrixD rows(5, 1);
  rows << 0, 1, 2, 3, 4;
  const api::Rows picked = api::pick_rows(api::Dataset{rows, "r"}, 5, 7, "estimate");
  const MatrixD& p = std::get<MatrixD>(picked);
  std::vector<double> seen(p.data(), p.data() + 5);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<double>{0, 1, 2, 3, 4}));
}

TEST(Tasks, EvaluationCarriesTheErrorBarAndGivesRowsAndSites) {
  const Ising is = small_ising();
  const io::ModelFile f = file_of(is);
  const Exec ex(2);
  MatrixD x(4, 9);
  x << MatrixD::Ones(1, 9), -MatrixD::Ones(1, 9), MatrixD::Ones(1, 9), -MatrixD::Ones(1, 9);
  x(2, 4) = -1;
  const api::Dataset data{x, "x"};
  api::EstimateConfig c;
  c.method = "exact";
  const api::Evaluation ev = api::evaluate(f, data, c, {}, ex);
  const double log_z = junction_tree(is, {}, ex).log_z;
  double mean = 0;
  for (Eigen::Index r = 0; r < 4; ++r) {
    const double ll = -is.energy(x.row(r).transpose()) - log_z;
    EXPECT_NEAR(ev.per_row[r], ll, 1e-12);
    mean += ll / 4;
  }
  EXPECT_NEAR(ev.mean_log_likelihood, mean, 1e-12);
  EXPECT_EQ(ev.log_z.std_error, 0.0);
  ASSERT_EQ(ev.per_site.size(), 9);
  // Site 0's conditional log-likelihood by hand: p(s_0 | rest) from its two site energies.
  double site0 = 0;
  for (Eigen::Index r = 0; r < 4; ++r) {
    const VectorD row = x.row(r).transpose();
    const auto e = is.site_energies(0, row);
    const double lse = std::log(std::exp(-e[0]) + std::exp(-e[1]));
    site0 += (-(row[0] == 1.0 ? e[1] : e[0]) - lse) / 4;
  }
  EXPECT_NEAR(ev.per_site[0], site0, 1e-12);
  // Data of the wrong width: the field is named.
  EXPECT_THROW(api::load_dataset("/nonexistent.npy", f, "data", "eval"), Error);
}

TEST(Tasks, DataTheModelCannotTakeIsRefusedNamingTheField) {
  test::TempDir dir;
  const io::ModelFile ising = file_of(small_ising());
  const std::string wide = dir.file("wide.npy"), zero = dir.file("zero.npy");
  io::write_npy(wide, io::Array::from_matrix<double>(MatrixD::Ones(2, 10)));
  MatrixD spins = MatrixD::Ones(2, 9);
  spins(1, 3) = 0;  // not a +-1 spin
  io::write_npy(zero, io::Array::from_matrix<double>(spins));
  test::expect_error([&] { api::load_dataset(wide, ising, "data", "eval"); }, Exit::data,
                     "eval: data " + wide + " has 10 columns but the model has 9 sites");
  test::expect_error([&] { api::load_dataset(zero, ising, "base_data", "eval"); }, Exit::data,
                     "eval: base_data " + zero + ": entry at row 1, column 3 (0-based) is 0, not a spin of the model (-1 or 1)");
  const io::ModelFile potts = file_of(Potts::from_ising(small_ising()));
  MatrixD states = MatrixD::Zero(1, 9);
  states(0, 2) = 2;  // q = 2
  const std::string bad = dir.file("states.npy");
  io::write_npy(bad, io::Array::from_matrix<double>(states));
  test::expect_error([&] { api::load_dataset(bad, potts, "data", "eval"); }, Exit::data,
                     "eval: data " + bad + ": entry at row 0, column 2 (0-based) is 2, not a state in [0, 2)");
  MatrixD nan = MatrixD::Zero(1, 2);
  nan(0, 1) = std::nan("");
  const std::string nan_file = dir.file("nan.npy");
  io::write_npy(nan_file, io::Array::from_matrix<double>(nan));
  test::expect_error([&] { api::load_dataset(nan_file, file_of(Gaussian::isotropic(2, 1.0)), "data", "eval"); },
                     Exit::data, "eval: data " + nan_file + ": entry at row 0, column 1 (0-based) is nan; data must be finite");
}

TEST(Tasks, SampleAndDescribeEveryKind) {
  const Exec ex(1);
  api::SampleConfig c;
  c.chains = 3;
  c.steps = 5;
  c.warmup = 5;
  for (const AnyModel& m : std::vector<AnyModel>{test::random_rbm(3, 5, 3, 0.5, 0.3), small_ising(),
                                                 Gaussian::isotropic(2, 1.0)}) {
    const io::ModelFile f = file_of(m);
    const api::Samples s = api::sample(f, c, ex);
    // Continuous chains keep every draw after warm-up; the others their final states.
    EXPECT_EQ(s.states.shape[0], is_continuous(kind_of(m)) ? 15u : 3u);
    EXPECT_EQ(s.states.shape[1], dimension_of(m));
    const api::Description d = api::describe(f, ex);
    EXPECT_EQ(d.json["type"], kind_name(kind_of(m)));
    EXPECT_FALSE(d.text.empty());
  }
}

}  // namespace
}  // namespace logz
