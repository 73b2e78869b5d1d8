// log Z of a Gaussian–Bernoulli RBM (4 visible, 6 hidden) by the continuous estimators
// on its free energy F(v) — AIS and SMC on the geometric path from a Gaussian base fitted
// to exact draws of the model (the data scale), HMC moves — against the enumeration of
// the hidden layer. Tolerance: |estimate − exact| <= 4.42 SE with the estimator's own
// standard error, two-sided false-failure rate 1e-5 per check under the normal
// approximation; the SE must also be below 0.2 so that a useless error bar cannot pass.
#include <gtest/gtest.h>

#include <vector>

#include "logz/api/continuous_tasks.hpp"
#include "logz/exact/grbm_exact.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "support/estimator_checks.hpp"

namespace logz {
namespace {

using test::expect_agrees;
using test::Setting;

/// W ~ N(0, 0.8²), b ~ N(0, 1), c ~ N(0, 0.5²), σ ∈ [0.5, 1.5] from a fixed stream: the
/// visible marginal is a mixture of 64 Gaussians with visibly separated modes.
GaussianRbm model() {
  GaussianRbm m(4, 6);
  Stream rng = Stream::derive(71, Purpose::user, 0);
  for (Eigen::Index i = 0; i < m.weights.size(); ++i) m.weights.data()[i] = 0.8 * rng.normal();
  for (Eigen::Index i = 0; i < 4; ++i) m.visible_bias[i] = rng.normal();
  for (Eigen::Index j = 0; j < 6; ++j) m.hidden_bias[j] = 0.5 * rng.normal();
  for (Eigen::Index i = 0; i < 4; ++i) m.visible_sigma[i] = 0.5 + rng.uniform_double();
  return m;
}

TEST(GaussianRbmLogZ, AisAndSmcAgreeWithTheEnumeration) {
  const GaussianRbm m = model();
  const double exact = grbm_exact_log_z(m);
  const GrbmFreeEnergy target(m);
  const Exec ex(2);
  // The base: mean and covariance of 2000 exact draws (what one would fit to data).
  const Gaussian base = Gaussian::fit(grbm_exact_samples(m, 2000, 72, ex).visible);
  api::ContinuousKernelConfig hmc;
  hmc.step_size = 0.1;
  hmc.leapfrog = 10;
  const std::vector<Setting> settings = {
      {"ais", 200, 100, "linear"}, {"smc", 200, 100, "linear"}, {"smc", 200, 0, "adaptive"}};
  for (const Setting& s : settings)
    expect_agrees(api::continuous_estimate(target, base, test::suite_config(s, 73), hmc, nullptr, ex), exact, 0.2,
                  "grbm " + s.schedule);
}

}  // namespace
}  // namespace logz
