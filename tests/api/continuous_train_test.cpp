// The continuous training façade (api::train_continuous): the Gaussian's closed-form
// score-matching optimum (the inverse sample covariance, divisor n) reached through the
// façade, experts fitted by score matching with unit filters (rows of norm 1, the
// objective decreasing, the projected gradient vanishing at the end), NCE's learned log Z
// against the closed form of the experts it fitted, the same bits for 1 and 2 threads,
// and pinned errors (bad options, non-finite data, constant columns).
#include <gtest/gtest.h>

#include <Eigen/LU>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>

#include "logz/api/continuous_train.hpp"
#include "logz/io/continuous_file.hpp"
#include "logz/io/npz.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/models/student_t_experts.hpp"
#include "support/expect_error.hpp"
#include "support/gaussian_draws.hpp"

namespace logz {
namespace {

using test::gaussian_draws;

Gaussian truth() {
  MatrixD prec(3, 3);
  prec << 2.0, 0.6, -0.3,  //
      0.6, 1.5, 0.4,       //
      -0.3, 0.4, 1.0;
  VectorD mu(3);
  mu << 0.5, -1.0, 2.0;
  return Gaussian(mu, prec);
}

api::ContinuousTrainConfig config(std::string model, std::string method) {
  api::ContinuousTrainConfig c;
  c.model = std::move(model);
  c.method = std::move(method);
  c.hidden = 0;
  c.max_iterations = 500;
  c.tolerance = 1e-7;
  return c;
}

// SM's optimum for a Gaussian is N(x̄, S_n) exactly (Hyvärinen 2005, §3.1), so the façade
// must return it to L-BFGS's tolerance: |∇J| <= 1e-7 · |θ| with J's Hessian eigenvalues
// O(1) here puts θ within ~1e-6 of the optimum (the objective is a convex quadratic).
TEST(ContinuousTrain, GaussianScoreMatchingReturnsTheSampleMomentsWithDivisorN) {
  const MatrixD x = gaussian_draws(truth(), 400, 3);
  const api::ContinuousTrainResult r = api::train_continuous(x, config("gaussian", "sm"), Exec(1));
  ASSERT_TRUE(std::holds_alternative<Gaussian>(r.model));
  const Gaussian& g = std::get<Gaussian>(r.model);
  const VectorD mean = x.colwise().mean().transpose();
  const MatrixD centred = x.rowwise() - mean.transpose();
  const MatrixD s_n = centred.transpose() * centred / double(x.rows());
  EXPECT_LT((g.mean() - mean).lpNorm<Eigen::Infinity>(), 1e-5);
  EXPECT_LT((g.covariance() - s_n).lpNorm<Eigen::Infinity>(), 1e-5);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.parameters, 9u);
  EXPECT_FALSE(r.nce_log_z);
}

// Whatever the start, every filter of the experts fitted by SM has norm 1, and the fit
// decreased the objective to a point where its gradient (projected on the sphere) is tiny.
TEST(ContinuousTrain, ExpertsScoreMatchingKeepsUnitFilters) {
  const StudentTExperts t = StudentTExperts::random(3, 3, 2.0, 7);
  MatrixD x(600, 3);
  Stream s = Stream::derive(5, Purpose::sample, 0);
  VectorD y(3);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    t.sample(s, y);
    x.row(r) = y.transpose();
  }
  for (const char* method : {"sm", "ssm"}) {
    const api::ContinuousTrainResult r = api::train_continuous(x, config("experts", method), Exec(1));
    const auto& m = std::get<StudentTExperts>(r.model);
    for (Eigen::Index k = 0; k < m.filters().rows(); ++k) EXPECT_NEAR(m.filters().row(k).norm(), 1.0, 1e-12) << method;
    EXPECT_LT(r.trace.back(), r.trace.front()) << method;
    EXPECT_GE(r.iterations, 1u) << method;
    EXPECT_EQ(r.parameters, 9u) << method;  // 3 filters of 3 entries with unit norm (6) + 3 alphas
  }
}

// NCE learns c ≈ log Z of the model it fits: on 4,000 exact draws of complete experts
// (closed-form log Z) the gap |c − log Z(θ̂)| is O(1/√n) ≈ 0.02 (NCE's asymptotic
// variance with ν = 4 and a Gaussian noise close to the data); 0.15 is over 6 such
// standard deviations (false-failure rate below 1e-8 under normality).
TEST(ContinuousTrain, NceLearnsTheLogPartitionOfItsFit) {
  const StudentTExperts t = StudentTExperts::random(2, 2, 2.5, 11);
  MatrixD x(4000, 2);
  Stream s = Stream::derive(13, Purpose::sample, 0);
  VectorD y(2);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    t.sample(s, y);
    x.row(r) = y.transpose();
  }
  api::ContinuousTrainConfig c = config("experts", "nce");
  c.noise_ratio = 4;
  c.alpha = 2.0;
  const api::ContinuousTrainResult r = api::train_continuous(x, c, Exec(1));
  ASSERT_TRUE(r.nce_log_z);
  const auto& m = std::get<StudentTExperts>(r.model);
  EXPECT_NEAR(*r.nce_log_z, m.log_partition(), 0.15);
  EXPECT_NEAR(m.log_partition(), t.log_partition(), 0.3);  // and the fit is near the truth
}

bool same_bits(const VectorD& a, const VectorD& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

TEST(ContinuousTrain, SameBitsForOneAndTwoThreads) {
  const MatrixD x = gaussian_draws(truth(), 3000, 4);
  for (const char* model : {"grbm", "experts"}) {
    for (const char* method : {"sm", "dsm", "nce"}) {
      api::ContinuousTrainConfig c = config(model, method);
      c.hidden = 3;
      c.max_iterations = 15;
      const auto params = [](const io::ContinuousModel& m) {
        if (const auto* e = std::get_if<StudentTExperts>(&m)) return e->parameters();
        const GaussianRbm& g = std::get<GaussianRbm>(m);
        return VectorD(g.weights.reshaped());
      };
      const auto a = api::train_continuous(x, c, Exec(1)), b = api::train_continuous(x, c, Exec(2));
      EXPECT_TRUE(same_bits(params(a.model), params(b.model))) << model << " " << method;
      EXPECT_EQ(a.trace, b.trace) << model << " " << method;
    }
  }
}

/// Stops the run (by throwing) once `stop_after` epochs are done: a run cut off there.
struct StopAfter final : Observer {
  std::size_t stop_after;
  explicit StopAfter(std::size_t n) : stop_after(n) {}
  void progress(std::string_view phase, std::size_t done, std::size_t) override {
    if (phase == "epochs" && done == stop_after) throw std::runtime_error("cut off");
  }
};

// A run cut off after epoch 2 and resumed from its checkpoint ends with the same bits as
// an uninterrupted run, for each epoch-based trainer (Adam minibatches, PCD with MALA
// chains, GRBM PCD with Gibbs chains); a checkpoint of other settings is refused.
TEST(ContinuousTrain, ResumeAfterACutOffGivesTheSameBits) {
  const MatrixD x = gaussian_draws(truth(), 300, 6);
  const std::string dir = ::testing::TempDir();
  int run = 0;
  for (const auto& [model, method, optimizer] : {std::tuple{"experts", "dsm", "adam"}, std::tuple{"neural", "pcd", "adam"},
                                                 std::tuple{"grbm", "pcd", "adam"}, std::tuple{"gaussian", "nce", "adam"}}) {
    api::ContinuousTrainConfig c = config(model, method);
    c.optimizer = optimizer;
    c.hidden = 3;
    c.epochs = 4;
    c.batch = 50;
    c.chains = 20;
    c.lr = 0.01;
    const auto whole = api::train_continuous(x, c, Exec(1));
    c.checkpoint = dir + "/logz_resume_" + std::to_string(run++) + ".npz";
    std::remove(c.checkpoint.c_str());
    StopAfter stop(2);
    EXPECT_THROW(api::train_continuous(x, c, Exec(1), stop), std::runtime_error);
    c.resume = true;
    const auto resumed = api::train_continuous(x, c, Exec(2));
    EXPECT_EQ(resumed.trace, whole.trace) << model << " " << method;
    EXPECT_EQ(resumed.acceptance, whole.acceptance) << model << " " << method;
    EXPECT_EQ(resumed.nce_log_z, whole.nce_log_z) << model << " " << method;
    const auto bytes = [&](const io::ContinuousModel& m) {
      const std::string p = c.checkpoint + ".model.npz";
      io::save_continuous(p, m);
      return io::read_npz(p);
    };
    const auto a = bytes(whole.model), b = bytes(resumed.model);
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [name, arr] : a)
      EXPECT_EQ(arr.to_vector<double>(), b.at(name).to_vector<double>()) << model << " " << method << " " << name;
    c.seed = 99;
    test::expect_error([&] { api::train_continuous(x, c, Exec(1)); }, Exit::usage,
                       "train " + std::string(model) + ": resume: checkpoint " + c.checkpoint +
                           " was written by a run with other settings or data; rerun the same command, or remove the "
                           "checkpoint to start afresh");
  }
}

TEST(ContinuousTrain, RefusesBadInput) {
  const MatrixD x = gaussian_draws(truth(), 50, 1);
  test::expect_error([&] { api::train_continuous(x, config("donut", "sm"), Exec(1)); }, Exit::usage,
                     "train: unknown model 'donut' (known: gaussian, grbm, experts, neural)");
  test::expect_error([&] { api::train_continuous(x, config("grbm", "mle"), Exec(1)); }, Exit::usage,
                     "train grbm: method must be sm, ssm, dsm, nce or pcd, got 'mle'");
  api::ContinuousTrainConfig adam = config("experts", "sm");
  adam.optimizer = "adam";
  test::expect_error([&] { api::train_continuous(x, adam, Exec(1)); }, Exit::usage,
                     "train experts: method sm with optimizer adam would fit free filter norms, along which the "
                     "sample objective is unbounded below; use optimizer lbfgs (unit-norm filters), or method dsm "
                     "or nce");
  api::ContinuousTrainConfig c = config("gaussian", "dsm");
  c.sigmas = {0.1, -1};
  test::expect_error([&] { api::train_continuous(x, c, Exec(1)); }, Exit::usage,
                     "train gaussian: every sigmas level must be finite and > 0, got -1");
  MatrixD bad = x;
  bad(4, 2) = std::nan("");
  test::expect_error([&] { api::train_continuous(bad, config("gaussian", "sm"), Exec(1)); }, Exit::data,
                     "train gaussian: data(4, 2) is not finite (nan)");
  MatrixD flat = x;
  flat.col(1).setConstant(2.5);
  test::expect_error([&] { api::train_continuous(flat, config("experts", "sm"), Exec(1)); }, Exit::data,
                     "train experts: column 1 has zero variance (every sample is 2.5)");
}

}  // namespace
}  // namespace logz
