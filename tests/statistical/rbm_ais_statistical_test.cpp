// AIS and RAISE on a model shaped like real use: 784 visible units with base rates and
// visible biases from Fashion-MNIST, 20 hidden units (so that exact log Z is known).
// Skipped when the Fashion-MNIST files are not installed.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "logz/estimators/rbm_ais.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/dataset.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

TEST(RbmAisFashionMnist, AisAndRaiseSandwichExact) {
  if (!std::filesystem::exists(io::fashion_mnist_dir() + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed at " << io::fashion_mnist_dir();
  const MatrixU8 data = io::load_binary_data("fashion-mnist:train");
  ASSERT_EQ(data.cols(), 784);
  ASSERT_EQ(data.rows(), 60000);

  // The model, deterministically from the data: visible biases = the smoothed base
  // rates, hidden biases = -½ Σ_i W_ij p̂_i (hidden units centred on the mean image),
  // weights 0.05·N(0, 1) from a fixed stream.
  const VectorD a = base_rate_bias(data);
  RbmD md(784, 20);
  Stream rng = Stream::derive(2026, Purpose::init, 0);
  for (Eigen::Index i = 0; i < md.weights.size(); ++i) md.weights.data()[i] = 0.05 * rng.normal();
  md.visible_bias = a;
  VectorD mean_image = data.cast<double>().colwise().mean().transpose();
  md.hidden_bias = -0.5 * (md.weights.transpose() * mean_image);
  const RbmF model = md.cast<float>();
  const VectorF base = a.cast<float>();
  const double exact = rbm_exact_log_z(model.cast<double>(), Exec(2)).log_z;

  const Schedule schedule = Schedule::linear(1000);
  const LogZEstimate ais = rbm_ais(model, base, schedule, {200, 1}, Exec(2));
  // RAISE from 200 data rows chosen by a fixed stream.
  MatrixU8 start(200, 784);
  Stream pick = Stream::derive(2026, Purpose::data, 0);
  for (Eigen::Index r = 0; r < start.rows(); ++r) start.row(r) = data.row(Eigen::Index(pick.below(60000)));
  const LogZEstimate raise = rbm_raise(model, base, schedule, start, 2, Exec(2));

  ASSERT_GT(ais.ess, 0.1 * 200);
  // AIS: two-sided, false-failure rate 1e-4 (z = 3.89).
  const double z2 = test::normal_two_sided_z(1e-4), z1 = test::normal_upper_quantile(1e-4);
  EXPECT_LE(std::fabs(ais.log_z - exact), z2 * ais.std_error) << "ais " << ais.log_z << " exact " << exact;
  // Stochastic bounds, one-sided 1e-4 each (z = 3.72): AIS is not above exact, RAISE
  // not below it beyond z·SE.
  EXPECT_LE(ais.log_z, exact + z1 * ais.std_error);
  EXPECT_GE(raise.log_z, exact - z1 * raise.std_error) << "raise " << raise.log_z << " exact " << exact;
  // RAISE sits above AIS: one-sided 1e-4 on the difference of two independent estimates.
  EXPECT_GE(raise.log_z - ais.log_z, -z1 * std::hypot(ais.std_error, raise.std_error));
  // RAISE's upward bias from data (model mismatch plus the Jensen gap, both second
  // order in the per-step mismatch, ~Var(r)) is small with 1000 betas.
  MeanVar mv;
  for (double r : raise.log_weights) mv.add(r);
  EXPECT_LE(raise.log_z, exact + z1 * raise.std_error + mv.variance()) << "raise " << raise.log_z << " exact " << exact;
  std::printf("exact %.5f  ais %.5f ± %.5f (ess %.1f)  raise %.5f ± %.5f (var r %.5f)\n", exact, ais.log_z, ais.std_error,
              ais.ess, raise.log_z, raise.std_error, mv.variance());
}

}  // namespace
}  // namespace logz
