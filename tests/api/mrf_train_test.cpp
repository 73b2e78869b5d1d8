// Training Ising and Potts models through the API (api/mrf_train.hpp), the config field
// tables front ends set keywords through (api/config_fields.hpp), and rows borrowed from a
// caller (api/data.hpp): read in place, the same energies as owned rows.
#include <gtest/gtest.h>

#include <set>

#include "logz/api/config_fields.hpp"
#include "logz/api/mrf_train.hpp"
#include "logz/api/tasks.hpp"
#include "logz/io/npy.hpp"
#include "logz/models/potts.hpp"
#include "support/expect_error.hpp"
#include "support/rbm_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace logz {
namespace {

MatrixD lattice_spins() {
  const io::ModelFile f{Ising::lattice_2d(3, 3, 0.4, 0.1, Boundary::open, Boundary::open)};
  api::SampleConfig s;
  s.chains = 200;
  s.steps = 20;
  return api::sample(f, s, Exec(1)).states.to_matrix<double>("states");
}

TEST(MrfTrain, IsingFitsAreTheSameForAnyThreadCount) {
  const MatrixD x = lattice_spins();
  for (const char* method : {"pl", "rm", "pcd"}) {
    api::IsingTrainConfig c;
    c.method = method;
    c.updates = 40;
    if (c.method != "pl") c.graph = "lattice:3x3";
    const IsingFit one = api::train_ising(x, c, Exec(1)), two = api::train_ising(x, c, Exec(2));
    EXPECT_EQ(one.model.parameters(), two.model.parameters()) << method;
  }
}

TEST(MrfTrain, IsingSettingsAndDataErrorsNameTheirFields) {
  const MatrixD x = lattice_spins();
  api::IsingTrainConfig c;
  c.graph = "torus:3x3";
  test::expect_error([&] { api::train_ising(x, c, Exec(1)); }, Exit::usage,
                     "train ising: method pl fits every pair of spins; use rm, exact or pcd with graph torus:3x3");
  c.method = "rm";
  c.graph = "lattice:2x4";
  test::expect_error([&] { api::train_ising(x, c, Exec(1)); }, Exit::usage,
                     "train ising: graph lattice:2x4 has 8 sites but the data has 9 spins per row");
  c.graph = "complete";
  c.momentum = 1.0;
  test::expect_error([&] { api::train_ising(x, c, Exec(1)); }, Exit::usage, "train ising: momentum must be in [0, 1), got 1");
  MatrixD bad = x;
  bad(1, 2) = 0.5;
  test::expect_error([&] { api::train_ising(bad, api::IsingTrainConfig{}, Exec(1), "s.npy"); }, Exit::data,
                     "train ising: data s.npy: entry 11 is 0.5, not a spin (-1/1 or 0/1)");
}

TEST(MrfTrain, PottsFromStatesCarriesItsWeightsAndNoFocus) {
  Potts truth = Potts::dense(4, 3);
  truth.fields().setConstant(0.1);
  api::SampleConfig s;
  s.chains = 150;
  s.steps = 10;
  const MatrixD x = api::sample(io::ModelFile{truth}, s, Exec(1)).states.to_matrix<double>("states");
  api::PottsDataConfig in;
  in.q = 3;
  const api::PottsTrainingData d = api::potts_training_data(x, in);
  EXPECT_EQ(d.data.q, 3u);
  EXPECT_DOUBLE_EQ(d.neff, 150.0);
  api::PottsTrainConfig c;
  c.lambda_e = 0.1;
  const api::PottsTrainResult one = api::train_potts(d, c, Exec(1)), two = api::train_potts(d, c, Exec(2));
  EXPECT_EQ(std::get<Potts>(one.file.model).parameters(), std::get<Potts>(two.file.model).parameters());
  EXPECT_FALSE(one.file.alphabet);  // integer states have no letters
  EXPECT_TRUE(one.file.extra.empty());
  EXPECT_EQ(one.details["method"], "pl");
  EXPECT_FALSE(one.trace.empty());
  // The contact table numbers sites 1..L without a focus, with '-' for letters.
  const api::ContactTable t = api::contact_table(one.file);
  EXPECT_EQ(t.scores.size(), 6u);
  EXPECT_NE(t.text().find("\n1 - 2 - "), std::string::npos);

  in.q = 2;
  test::expect_error([&] { api::potts_training_data(x, in, "x.npy"); }, Exit::data,
                     "train potts: x.npy: state 2 is not below q 2");
  c.method = "ml";
  test::expect_error([&] { api::train_potts(d, c, Exec(1)); }, Exit::usage,
                     "train potts: method must be one of pl, pcd, got 'ml'");
}

TEST(ConfigFields, TablesCoverTheConfigsJsonAndNamesAreUnique) {
  // TrainConfig's JSON lists its fields (replicas only for pt): the table must hold each.
  api::TrainConfig rbm;
  rbm.method = "pt";
  std::set<std::string> table;
  for (const auto& f : api::config_fields<api::TrainConfig>()) EXPECT_TRUE(table.insert(f.name).second) << f.name;
  const nlohmann::json json = rbm.to_json();
  for (const auto& [k, v] : json.items()) EXPECT_TRUE(table.count(k)) << k;
  EXPECT_EQ(table.size(), json.size());
  // Setting through the table sets the member.
  api::PottsTrainConfig p;
  const auto* lambda = api::find_config_field<api::PottsTrainConfig>("lambda_e");
  ASSERT_NE(lambda, nullptr);
  p.*std::get<double api::PottsTrainConfig::*>(lambda->member) = 16.0;
  EXPECT_EQ(p.lambda_e, 16.0);
  EXPECT_EQ(api::find_config_field<api::PottsTrainConfig>("lambda"), nullptr);
  EXPECT_EQ(api::config_field_names<api::TrainFiles>(), "checkpoint, log, resume");
}

TEST(BorrowedRows, AreReadInPlaceWithTheEnergiesOfOwnedRows) {
  const RbmD rbm = test::random_rbm(5, 8, 3, 0.5, 0.3);
  const io::ModelFile f{rbm};
  MatrixU8 v(6, 8);
  for (Eigen::Index k = 0; k < v.size(); ++k) v.data()[k] = std::uint8_t((k * 7 + k / 3) % 2);
  const api::Dataset owned{v, "owned"};
  const api::Dataset borrowed{api::BorrowedRows<std::uint8_t>{v.data(), v.rows(), v.cols()}, "borrowed"};
  EXPECT_EQ(api::binary_rows(borrowed.rows).data(), v.data());
  EXPECT_EQ(api::energies(f, owned, Exec(1)), api::energies(f, borrowed, Exec(2)));
  // Checked as owned rows are: a 2 is not a visible state.
  MatrixU8 bad = v;
  bad(2, 3) = 2;
  const api::Dataset bad_rows{api::BorrowedRows<std::uint8_t>{bad.data(), bad.rows(), bad.cols()}, "(array)"};
  test::expect_error([&] { api::energies(f, bad_rows, Exec(1)); }, Exit::data,
                     "energies: data (array): entry at row 2, column 3 (0-based) is 2, not 0 or 1");
  // RAISE's start rows picked from borrowed rows are the ones picked from owned rows.
  EXPECT_EQ(std::get<MatrixU8>(api::pick_rows(borrowed, 4, 3, "t")), std::get<MatrixU8>(api::pick_rows(owned, 4, 3, "t")));
}

}  // namespace
}  // namespace logz
