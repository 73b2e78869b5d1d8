// The path to a population-at-a-time energy (tempering/batch_energy_path.hpp): AIS on it
// recovers a known log Z with either move, the moves leave p_β invariant, and bad
// settings are refused with the field named.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "logz/core/check.hpp"
#include "logz/estimators/ais.hpp"
#include "logz/tempering/batch_energy_path.hpp"
#include "logz/tempering/schedule.hpp"

namespace logz {
namespace {

/// N(mu, s² I) as a batch energy, with its gradient; log Z = (d/2) log(2π s²).
class GaussianBatch final : public BatchEnergy {
 public:
  GaussianBatch(std::size_t d, double mu, double s, bool gradient) : d_(d), mu_(mu), s_(s), gradient_(gradient) {}
  std::size_t dimension() const override { return d_; }
  bool has_gradient() const override { return gradient_; }
  void energies(const MatrixD& x, std::span<double> out) const override {
    for (Eigen::Index r = 0; r < x.rows(); ++r) out[std::size_t(r)] = 0.5 * (x.row(r).array() - mu_).square().sum() / (s_ * s_);
  }
  void energies_and_gradients(const MatrixD& x, std::span<double> out, MatrixD& grad) const override {
    energies(x, out);
    grad = (x.array() - mu_) / (s_ * s_);
  }
  double log_z() const { return 0.5 * double(d_) * std::log(2 * std::numbers::pi * s_ * s_); }

 private:
  std::size_t d_;
  double mu_, s_;
  bool gradient_;
};

TEST(BatchEnergyPath, AisRecoversAGaussiansLogZWithEitherMove) {
  const Gaussian base = Gaussian::isotropic(3, 2.0);
  for (const char* kernel : {"mala", "rwm"}) {
    const GaussianBatch target(3, 0.7, 0.5, true);
    const BatchEnergyPath path(base, target, {kernel, 0.5, 1});
    const LogZEstimate e = ais(path, Schedule::linear(300), AisConfig{400, 3}, Exec(1));
    // 4 SE: false failure 6.3e-5 per kernel for normal errors.
    EXPECT_LE(std::abs(e.log_z - target.log_z()), 4 * e.std_error) << kernel << " " << e.log_z << " +- " << e.std_error;
    EXPECT_LT(e.std_error, 0.1) << kernel;
  }
}

TEST(BatchEnergyPath, MovesLeaveTheTargetInvariant) {
  // Target and base the same N(0.7, 0.5²): exact draws stay N(0.7, 0.5²) under the moves.
  const GaussianBatch target(2, 0.7, 0.5, true);
  const Gaussian base(VectorD::Constant(2, 0.7), MatrixD::Identity(2, 2) * 4.0);
  for (const char* kernel : {"mala", "rwm"}) {
    const BatchEnergyPath path(base, target, {kernel, 1.0, 5});
    const std::size_t n = 20000;
    std::vector<Stream> streams = Stream::root(4).children(Purpose::gibbs, n);
    MatrixD x;
    path.draw_base(Exec(1), x, streams);
    const MoveInfo info = path.move(Exec(1), x, 0.6, streams);
    EXPECT_GT(info.acceptance, 0.3) << kernel;
    const VectorD mean = x.colwise().mean();
    const VectorD var = (x.rowwise() - mean.transpose()).array().square().colwise().sum() / double(n - 1);
    // The moved draws are still independent (one chain each): mean SE 0.5/√n = 0.0035,
    // variance SE 0.25·√(2/n) = 0.0025; 4.5 SE each (false failure about 2.7e-5 for 8 checks).
    for (Eigen::Index j = 0; j < 2; ++j) {
      EXPECT_NEAR(mean(j), 0.7, 4.5 * 0.5 / std::sqrt(double(n))) << kernel;
      EXPECT_NEAR(var(j), 0.25, 4.5 * 0.25 * std::sqrt(2.0 / double(n))) << kernel;
    }
  }
}

TEST(BatchEnergyPath, RefusesBadSettingsNamingTheField) {
  const Gaussian base = Gaussian::isotropic(2, 1.0);
  const GaussianBatch no_grad(2, 0.0, 1.0, false), wide(3, 0.0, 1.0, true);
  try {
    BatchEnergyPath(base, no_grad, {"mala", 0.5, 1});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "estimate: kernel mala needs the energy's gradient; give one or use rwm");
  }
  EXPECT_THROW(BatchEnergyPath(base, no_grad, {"hmc", 0.5, 1}), ConfigError);
  EXPECT_THROW(BatchEnergyPath(base, no_grad, {"rwm", 0.0, 1}), ConfigError);
  EXPECT_THROW(BatchEnergyPath(base, wide, {"rwm", 0.5, 1}), Error);
}

}  // namespace
}  // namespace logz
