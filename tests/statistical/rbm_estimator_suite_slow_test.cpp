// Every estimator of the suite against exact log Z (by enumeration) of a 20-hidden RBM
// trained on Fashion-MNIST, through the façade (api::estimate_on_path), as `logz estimate`
// runs them; tolerances as in support/estimator_checks.hpp.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>


#include "logz/api/estimate.hpp"
#include "logz/api/rbm_tasks.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/dataset.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/estimator_checks.hpp"
#include "support/trained_rbm.hpp"

namespace logz {
namespace {

using test::expect_agrees;
using test::Setting;
constexpr double kZ = test::kSuiteZ;

TEST(RbmSuite, EveryEstimatorAgreesWithEnumerationOnATrained20HiddenRbm) {
  if (!std::filesystem::exists(io::fashion_mnist_dir() + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed";
  const MatrixU8 train = io::load_binary_data("fashion-mnist:train").topRows(20000);
  const Exec ex(2);
  const RbmF model = test::trained_fashion_rbm20(train, ex);
  const double exact = rbm_exact_log_z(model.cast<double>(), ex).log_z;
  const RbmAnnealingPath path(model, base_rate_bias(train).cast<float>());
  const std::vector<Setting> settings = {
      {"ais", 200, 1000, "sm"},  {"smc", 100, 500, "sm"},     {"smc", 200, 0, "adaptive"},
      {"bridge", 8, 200, "sm"},  {"ti", 8, 400, "sm"},        {"lis", 100, 200, "sm"},
  };
  for (const Setting& s : settings) {
    const api::EstimateConfig c = test::suite_config(s, 37);
    expect_agrees(api::estimate_on_path(path, c, nullptr, ex), exact, 1.0, "rbm");
  }
  // RAISE from exact model draws: above the truth on average (one-sided, rate 1e-5).
  const MatrixF draws = rbm_exact_samples(model.cast<double>(), 200, 41, ex).cast<float>();
  const LogZEstimate r = api::estimate_on_path(path, test::suite_config({"raise", 200, 1000, "sm"}, 43), &draws, ex);
  EXPECT_GE(r.log_z, exact - kZ * r.std_error) << r.log_z << " ± " << r.std_error << " vs " << exact;
}

}  // namespace
}  // namespace logz
