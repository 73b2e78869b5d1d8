// Train a small binary RBM and measure it:
// - training by persistent contrastive divergence (PCD: Tieleman 2008, "Training
//   restricted Boltzmann machines using approximations to the likelihood gradient",
//   ICML; CD: Hinton 2002, Neural Computation 14);
// - log Z exactly, by enumerating the 2^8 hidden states;
// - log Z by annealed importance sampling (Neal 2001, Statistics and Computing 11) on
//   the RBM path of Salakhutdinov & Murray (2008, "On the quantitative analysis of deep
//   belief networks", ICML);
// - the held-out log-likelihood.
//
// The data are exact draws from a known 16 × 8 "teacher" RBM, so the best possible
// held-out log-likelihood is known too. The program exits non-zero when AIS disagrees
// with the exact log Z by more than 4.42 of its own standard errors (a false alarm
// once in 10^5 runs under the normal approximation) or when training did not get close
// to the teacher.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "logz/core/parallel.hpp"                    // Exec: how many threads a call may use
#include "logz/core/rng.hpp"                         // Stream: counter-based random streams
#include "logz/estimators/rbm_ais.hpp"               // rbm_ais
#include "logz/exact/rbm_enumeration.hpp"            // rbm_exact_log_z, rbm_exact_samples, rbm_log_likelihoods
#include "logz/kernels/rbm_gibbs.hpp"                // RbmChains: the persistent chains
#include "logz/objectives/contrastive_divergence.hpp"  // ContrastiveDivergence: the PCD gradient step

using namespace logz;

int main() {
  const Exec ex;  // all cores; every result below is the same for any thread count

  // 1. A teacher with random weights, and exact draws from it (enumeration makes them exact).
  Stream rng = Stream::derive(/*seed=*/7, Purpose::user, 0);
  RbmD teacher(16, 8);
  for (Eigen::Index i = 0; i < teacher.weights.size(); ++i) teacher.weights.data()[i] = 1.2 * rng.normal();
  for (Eigen::Index i = 0; i < 16; ++i) teacher.visible_bias[i] = 0.5 * rng.normal();
  for (Eigen::Index j = 0; j < 8; ++j) teacher.hidden_bias[j] = 0.5 * rng.normal();
  const MatrixU8 train = rbm_exact_samples(teacher, 5000, /*seed=*/11, ex);
  const MatrixU8 test = rbm_exact_samples(teacher, 2000, /*seed=*/12, ex);

  // 2. The student: small random weights, visible biases at the logit of the data means.
  //    (Means smoothed by one pseudo-count each way, so that no logit is infinite.)
  const VectorD means = (train.cast<double>().colwise().sum().transpose().array() + 1) / (train.rows() + 2.0);
  const VectorF data_mean_bias = (means.array() / (1 - means.array())).log().cast<float>();
  RbmF model(16, 8), velocity(16, 8);
  for (Eigen::Index i = 0; i < model.weights.size(); ++i) model.weights.data()[i] = float(0.01 * rng.normal());
  model.visible_bias = data_mean_bias;

  // 3. PCD-1: 100 persistent chains started from the data-mean model, minibatches of 50,
  //    SGD with momentum. The chains live in the objective, never in the model.
  RbmChains<float> chains = RbmChains<float>::from_bias(model.visible_bias, 100, /*seed=*/13, Purpose::chains);
  ContrastiveDivergence pcd(CdParams(/*k=*/1, /*persistent=*/true), chains.v);
  const MatrixF data = train.cast<float>();
  const Eigen::Index batch = 50;
  std::uint64_t update = 0;
  for (int epoch = 0; epoch < 30; ++epoch) {
    const double lr = 0.05 * (1.0 - epoch / 30.0);  // linear decay: PCD settles as lr -> 0
    for (Eigen::Index r = 0; r < data.rows(); r += batch, ++update)
      pcd.step(model, data.middleRows(r, batch), Stream::derive(13, Purpose::gibbs, update), lr, /*momentum=*/0.5,
               /*weight_decay=*/1e-4, velocity, ex);
  }

  // 4. log Z exactly: 2^8 hidden states, the visible layer summed analytically.
  const RbmD trained = model.cast<double>();
  const double exact = rbm_exact_log_z(trained, ex).log_z;

  // 5. log Z by AIS from the data-mean model (Salakhutdinov & Murray's base), 200 chains
  //    over 1000 betas. AIS is unbiased for Z, so log Ẑ is slightly low on average. On a
  //    model this small the annealing is easy and the error bar is tiny.
  const LogZEstimate ais = rbm_ais(model, data_mean_bias, Schedule::linear(1000), RbmAisConfig{200, /*seed=*/17}, ex);

  // 6. Held-out log-likelihood log p(v) = −F(v) − log Z, per test row, and the teacher's
  //    own (the best any model can do on average); the gap estimates KL(teacher ‖ model).
  const double student_ll = rbm_log_likelihoods(trained, test, exact, ex).mean();
  const double teacher_ll = rbm_log_likelihoods(teacher, test, rbm_exact_log_z(teacher, ex).log_z, ex).mean();

  std::printf("log Z exact        %.4f\n", exact);
  std::printf("log Z AIS          %.4f ± %.1e (%+.2f SE from exact; ESS %.0f of %zu chains)\n", ais.log_z,
              ais.std_error, (ais.log_z - exact) / ais.std_error, ais.ess, ais.num_samples);
  std::printf("held-out log p(v)  model %.4f, teacher %.4f, uniform %.4f (nats per row)\n", student_ll, teacher_ll,
              -16 * std::log(2.0));

  const double z = 4.42;  // two-sided false-failure rate 1e-5 per check
  bool ok = true;
  if (!(std::fabs(ais.log_z - exact) <= z * ais.std_error && ais.std_error < 0.05)) {
    std::printf("FAIL: AIS is %.2f standard errors from the exact log Z\n", (ais.log_z - exact) / ais.std_error);
    ok = false;
  }
  // A fixed seed makes this deterministic; 0.1 nats per row leaves room for other
  // compilers' rounding while failing any training that did not learn the teacher.
  if (!(teacher_ll - student_ll < 0.1)) {
    std::printf("FAIL: the model is %.3f nats per row below the teacher\n", teacher_ll - student_ll);
    ok = false;
  }
  return ok ? 0 : 1;
}
