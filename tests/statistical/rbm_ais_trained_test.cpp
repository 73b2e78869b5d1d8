// AIS and RAISE against exact log Z on a 20-hidden RBM trained on Fashion-MNIST: the
// case users have, with correlated, far-from-uniform weights.
#include <gtest/gtest.h>

#include <filesystem>

#include "logz/api/rbm_tasks.hpp"
#include "logz/estimators/rbm_ais.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/dataset.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/rbm_fixtures.hpp"
#include "support/trained_rbm.hpp"

namespace logz {
namespace {

TEST(RbmAisTrained, AisAndRaiseAgreeWithExactLogZOfATrained20HiddenRbm) {
  if (!std::filesystem::exists(io::fashion_mnist_dir() + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed";
  const MatrixU8 train = io::load_binary_data("fashion-mnist:train").topRows(20000);
  const MatrixU8 test = io::load_binary_data("fashion-mnist:test");
  const Exec ex(2);
  const RbmF model = test::trained_fashion_rbm20(train, ex);
  const double exact = rbm_exact_log_z(model.cast<double>(), ex).log_z;

  const VectorF base = base_rate_bias(train).cast<float>();
  const Schedule schedule = Schedule::salakhutdinov_murray(3000);
  const LogZEstimate ais = rbm_ais(model, base, schedule, RbmAisConfig{400, 7}, ex);
  // The delta-method SE is trustworthy only with a healthy ESS (here about 250 of 400);
  // require at least a quarter first.
  ASSERT_GT(ais.ess, 0.25 * 400) << "weights degenerate; the z-test below would be meaningless";
  // Two-sided, false-failure rate 1e-4 under the normal approximation of log Ẑ.
  const double z = test::normal_two_sided_z(1e-4);
  RecordProperty("ais", std::to_string(ais.log_z) + " +- " + std::to_string(ais.std_error) + " ess " + std::to_string(ais.ess));
  EXPECT_LE(std::fabs(ais.log_z - exact), z * ais.std_error)
      << "AIS " << ais.log_z << " ± " << ais.std_error << ", exact " << exact;

  // RAISE started from exact model samples: log q̂(v) is unbiased for the annealed
  // model's q(v), so for v ~ p the implied log Z is at least the exact one on average
  // (Burda et al. 2015). One-sided, false-failure rate 1e-4. (Started from data instead,
  // no direction is guaranteed: a trained RBM can put its mass far from the data, where
  // the annealed model does not follow it; docs/error-bars.md.)
  const MatrixU8 exact_draws = rbm_exact_samples(model.cast<double>(), 400, 13, ex);
  const LogZEstimate raise = rbm_raise(model, base, schedule, exact_draws, 11, ex);
  EXPECT_GE(raise.log_z, exact - test::normal_upper_quantile(1e-4) * raise.std_error)
      << "RAISE " << raise.log_z << " ± " << raise.std_error << ", exact " << exact;
  // ... and above AIS, which sits below on average: the sandwich.
  EXPECT_GE(raise.log_z, ais.log_z - test::normal_upper_quantile(1e-4) * std::hypot(raise.std_error, ais.std_error));
}

}  // namespace
}  // namespace logz
