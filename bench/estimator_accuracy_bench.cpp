// Accuracy per CPU-second of every log Z estimator (Google Benchmark, one thread): the
// RMSE to the exact value over 10 seeds against the mean CPU time of one estimate, on the
// periodic 16×16 Ising lattice at the critical beta (exact: Kaufman) and on a 20-hidden
// RBM trained on Fashion-MNIST (exact: enumeration). The RBM is read from $LOGZ_RBM20
// (bench/estimator_accuracy.sh writes the one the PyTorch reference trains) or, without
// it, trained here with the same recipe (CD-1, lr 0.01, momentum 0.9, 2 epochs, 20,000
// rows). Counters: rmse, bias (mean error), mean_se (the estimators' own standard error),
// covered (fraction of 95% intervals holding the exact value), cpu_s (per estimate).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <numbers>

#include "logz/api/estimate.hpp"
#include "logz/api/rbm_tasks.hpp"
#include "logz/exact/ising_exact.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/dataset.hpp"
#include "logz/io/rbm_file.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "logz/tempering/rbm_path.hpp"

namespace {

using namespace logz;
constexpr std::size_t kSeeds = 10;

struct Config {
  std::string name;  // benchmark label
  api::EstimateConfig c;
};

api::EstimateConfig make(const std::string& method, std::size_t chains, std::size_t betas, const std::string& schedule,
                         std::size_t samples = 50, std::size_t chain_length = 4) {
  api::EstimateConfig c;
  c.method = method;
  c.chains = chains;
  c.betas = betas;
  c.schedule = schedule;
  c.options.set("samples", std::int64_t(samples));
  c.options.set("chain_length", std::int64_t(chain_length));
  c.options.set("runs", std::int64_t{1});  // one SMC run per estimate: the RMSE over seeds is its error
  return c;
}

/// Runs `estimate(config with seed s)` for kSeeds seeds and sets the counters.
template <class Estimate>
void measure(benchmark::State& state, api::EstimateConfig c, double exact, Estimate&& estimate) {
  double se2 = 0, err = 0, se_sum = 0, cpu = 0;
  std::size_t covered = 0, with_se = 0;
  for (auto _ : state) {
    for (std::size_t s = 0; s < kSeeds; ++s) {
      c.seed = 1000 + s;
      const std::clock_t t0 = std::clock();
      const LogZEstimate e = estimate(c);
      cpu += double(std::clock() - t0) / CLOCKS_PER_SEC;
      const double d = e.log_z - exact;
      se2 += d * d;
      err += d;
      if (std::isfinite(e.std_error)) {
        se_sum += e.std_error;
        ++with_se;
        covered += std::fabs(d) <= 1.959963984540054 * e.std_error;
      }
    }
  }
  const double n = double(kSeeds) * double(state.iterations());
  state.counters["rmse"] = std::sqrt(se2 / n);
  state.counters["bias"] = err / n;
  state.counters["mean_se"] = with_se ? se_sum / double(with_se) : std::nan("");
  state.counters["covered"] = with_se ? double(covered) / double(with_se) : std::nan("");
  state.counters["cpu_s"] = cpu / n;
}

void register_ising() {
  static const double kc = 0.5 * std::log(1 + std::numbers::sqrt2);
  static const Ising model = Ising::lattice_2d(16, 16, kc, 0.0, Boundary::periodic, Boundary::periodic);
  static const double exact = ising_kaufman_log_z(16, 16, kc);
  static const UniformStates base = uniform_base(model);
  const std::vector<Config> configs = {
      {"is/N=100000", make("is", 100000, 1, "linear")},
      {"ais/N=100,K=300", make("ais", 100, 300, "linear")},
      {"ais/N=100,K=1000", make("ais", 100, 1000, "linear")},
      {"ais/N=100,K=3000", make("ais", 100, 3000, "linear")},
      {"smc/N=100,K=300", make("smc", 100, 300, "linear")},
      {"smc/N=100,K=1000", make("smc", 100, 1000, "linear")},
      {"smc/N=300,adaptive", make("smc", 300, 0, "adaptive")},
      {"bridge/M=8,K=75,S=50", make("bridge", 8, 75, "linear")},
      {"bridge/M=8,K=250,S=50", make("bridge", 8, 250, "linear")},
      {"ti/M=8,K=75,S=50", make("ti", 8, 75, "linear")},
      {"ti/M=8,K=250,S=50", make("ti", 8, 250, "linear")},
      {"lis/N=100,K=150,n=4", make("lis", 100, 150, "linear")},
      {"lis/N=100,K=500,n=4", make("lis", 100, 500, "linear")},
  };
  for (const Config& cfg : configs)
    benchmark::RegisterBenchmark(("Ising16x16Kc/" + cfg.name).c_str(), [cfg](benchmark::State& st) {
      const Exec ex(1);
      measure(st, cfg.c, exact, [&](const api::EstimateConfig& c) {
        if (c.method == "lis") return api::estimate_on_path(reversible_mrf_path(base, model, 1), c, nullptr, ex);
        return api::estimate_on_path(mrf_path(base, model, 1), c, nullptr, ex);
      });
    })->Iterations(1)->Unit(benchmark::kSecond);
}

struct Rbm20 {
  RbmF model;
  VectorF base;
  double exact = 0;
  MatrixF exact_draws;
};

const Rbm20* rbm20() {
  static const Rbm20* r = [] () -> const Rbm20* {
    const Exec ex(2);
    if (!std::getenv("LOGZ_RBM20") &&
        !std::filesystem::exists(io::fashion_mnist_dir() + "/train-images-idx3-ubyte.gz"))
      return nullptr;
    auto* out = new Rbm20;
    const MatrixU8 train = io::load_binary_data("fashion-mnist:train").topRows(20000);
    if (const char* path = std::getenv("LOGZ_RBM20")) {
      out->model = io::load_rbm(path).model.cast<float>();
    } else {
      api::TrainConfig cfg;
      cfg.hidden = 20;
      cfg.method = "cd";
      cfg.epochs = 2;
      cfg.lr = 0.01;
      cfg.momentum = 0.9;
      cfg.seed = 5;
      out->model = api::train_rbm(train, MatrixU8(), cfg, {}, ex, silent_observer()).model;
    }
    out->base = base_rate_bias(train).cast<float>();
    out->exact = rbm_exact_log_z(out->model.cast<double>(), ex).log_z;
    out->exact_draws = rbm_exact_samples(out->model.cast<double>(), 100, 3, ex).cast<float>();
    return out;
  }();
  return r;
}

void register_rbm() {
  const std::vector<Config> configs = {
      {"is/N=100000", make("is", 100000, 1, "sm")},
      {"ais/N=100,K=1000", make("ais", 100, 1000, "sm")},
      {"ais/N=100,K=10000", make("ais", 100, 10000, "sm")},
      {"raise(exact draws)/N=100,K=1000", make("raise", 100, 1000, "sm")},
      {"smc/N=100,K=1000", make("smc", 100, 1000, "sm")},
      {"smc/N=300,adaptive", make("smc", 300, 0, "adaptive")},
      {"bridge/M=8,K=200,S=50", make("bridge", 8, 200, "sm")},
      {"ti/M=8,K=400,S=50", make("ti", 8, 400, "sm")},
      {"lis/N=100,K=500,n=4", make("lis", 100, 500, "sm")},
  };
  for (const Config& cfg : configs)
    benchmark::RegisterBenchmark(("Rbm20/" + cfg.name).c_str(), [cfg](benchmark::State& st) {
      const Rbm20* r = rbm20();
      if (!r) {
        st.SkipWithError("Fashion-MNIST not installed and LOGZ_RBM20 not set");
        for (auto _ : st) {
        }
        return;
      }
      const Exec ex(1);
      const RbmAnnealingPath path(r->model, r->base);
      measure(st, cfg.c, r->exact, [&](const api::EstimateConfig& c) {
        return api::estimate_on_path(path, c, c.method == "raise" ? &r->exact_draws : nullptr, ex);
      });
    })->Iterations(1)->Unit(benchmark::kSecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_ising();
  register_rbm();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
