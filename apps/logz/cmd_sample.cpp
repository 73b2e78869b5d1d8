// `logz sample`: final states of independent Gibbs chains of an RBM (api::sample_rbm),
// Ising or Potts model (api::sample_mrf); for a continuous model, the draws of HMC or MALA
// chains with an adapted step size (api::sample_continuous_model) or exact draws.
#include <fmt/format.h>

#include "common.hpp"
#include "logz/api/continuous_tasks.hpp"
#include "logz/io/continuous_file.hpp"
#include "logz/api/mrf_tasks.hpp"
#include "logz/core/observer.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/rbm_file.hpp"

namespace logz::cli {

namespace {

constexpr std::string_view kCmd = "sample";

struct SampleOptions {
  CommonOptions common;
  std::string model, out;
  std::int64_t chains = 64, steps = 1000, seed = 1;
  bool exact = false;
  // continuous models
  std::int64_t warmup = 500, thin = 1;
  api::ContinuousKernelConfig kernel;
  double target_acceptance = 0;
};

int run_sample_continuous(const SampleOptions& o, std::size_t chains, std::size_t steps, std::uint64_t seed,
                          const Exec& ex) {
  const auto start = Clock::now();
  const api::ContinuousModel m = io::load_continuous(o.model);
  const std::string kind = api::continuous_kind(m);
  nlohmann::json j = {{"out", o.out}, {"model", o.model}, {"kind", kind}, {"chains", chains}, {"seed", seed},
                      {"exact", o.exact}, {"dimension", api::continuous_dimension(m)}};
  std::string how;
  MatrixD x;
  if (o.exact) {
    x = api::exact_continuous_samples(m, chains, seed, ex);
    how = "exact draws";
  } else {
    api::ContinuousSampleConfig c;
    c.kernel = o.kernel.kernel;
    c.step_size = o.kernel.step_size;
    c.leapfrog = o.kernel.leapfrog;
    c.chains = chains;
    c.warmup = count_option(kCmd, "--warmup", o.warmup, 0);
    c.steps = steps;
    c.thin = count_option(kCmd, "--thin", o.thin, 1);
    c.target_acceptance = o.target_acceptance;
    c.seed = seed;
    ProgressBar obs(stderr, o.common.quiet);
    const api::ContinuousSamples s = api::sample_continuous_model(m, c, ex, obs);
    x = s.draws;
    double mean_eps = 0;
    for (double e : s.step_sizes) mean_eps += e / double(s.step_sizes.size());
    how = fmt::format("{} chains x {} draws ({}, {} warm-up steps, mean step size {:.4g}); acceptance {:.3f}, "
                      "min ESS {:.1f}, ESS per gradient evaluation {:.3g}",
                      s.chains, s.kept, c.kernel, c.warmup, mean_eps, s.acceptance_rate, s.min_ess, s.ess_per_gradient);
    j.update({{"kernel", c.kernel},
              {"steps", steps},
              {"warmup", c.warmup},
              {"thin", c.thin},
              {"leapfrog", c.leapfrog},
              {"target_acceptance", c.acceptance_target()},
              {"draws_per_chain", s.kept},
              {"step_sizes", s.step_sizes},
              {"acceptance_rate", s.acceptance_rate},
              {"ess", std::vector<double>(s.ess.data(), s.ess.data() + s.ess.size())},
              {"min_ess", s.min_ess},
              {"gradient_evaluations", s.gradient_evaluations},
              {"warmup_gradient_evaluations", s.warmup_gradient_evaluations},
              {"ess_per_gradient", s.ess_per_gradient},
              {"non_finite", s.non_finite}});
  }
  io::write_npy(o.out, io::Array::from_matrix<double>(x));
  const double seconds = seconds_since(start);
  summary(o.common, fmt::format("wrote {}: {} samples x {} dimensions (float64, {}), {}, {:.2f} s", o.out, x.rows(),
                                x.cols(), kind, how, seconds));
  if (o.common.json) {
    j["rows"] = x.rows();
    j["seconds"] = seconds;
    print_json(j);
  }
  return 0;
}

int run_sample_mrf(const SampleOptions& o, std::size_t chains, std::size_t steps, std::uint64_t seed, const Exec& ex) {
  check_arg(!o.exact, "{}: --exact is for RBMs; use exact draws from an Ising / Potts model by many --steps", kCmd);
  const auto start = Clock::now();
  const api::MrfModel m = api::load_mrf_model(o.model);
  ProgressBar obs(stderr, o.common.quiet);
  const MatrixD x = api::sample_mrf(m, chains, steps, seed, ex, obs);
  const bool ising = api::mrf_kind(m) == "ising";
  if (ising) io::write_npy(o.out, io::Array::from_matrix<std::int32_t>(x.cast<std::int32_t>()));
  else io::write_npy(o.out, io::Array::from_matrix<std::uint8_t>(x.cast<std::uint8_t>()));
  const double seconds = seconds_since(start);
  summary(o.common, fmt::format("wrote {}: {} samples x {} sites ({}), {} Gibbs sweeps each, mean {:.4f}, {:.2f} s", o.out,
                                x.rows(), x.cols(), ising ? "int32 spins" : "uint8 states", steps, x.mean(), seconds));
  if (o.common.json)
    print_json({{"out", o.out}, {"model", o.model}, {"kind", api::mrf_kind(m)}, {"chains", chains}, {"steps", steps},
                {"exact", false}, {"seed", seed}, {"sites", x.cols()}, {"mean", x.mean()}, {"seconds", seconds}});
  return 0;
}

int run_sample(const SampleOptions& o) {
  const auto start = Clock::now();
  const std::size_t chains = count_option(kCmd, "--chains", o.chains, 1);
  const std::size_t steps = count_option(kCmd, "--steps", o.steps, 1);
  const std::uint64_t seed = seed_option(kCmd, o.seed);
  const Exec ex = make_exec(kCmd, o.common);
  check_output_path(kCmd, "--out", o.out);
  if (io::is_continuous_file(o.model)) return run_sample_continuous(o, chains, steps, seed, ex);
  if (api::is_mrf_file(o.model)) return run_sample_mrf(o, chains, steps, seed, ex);
  const io::RbmFile f = io::load_rbm(o.model);

  ProgressBar obs(stderr, o.common.quiet);
  const MatrixU8 x = o.exact ? rbm_exact_samples(f.model, chains, seed, ex) : api::sample_rbm(f.model, chains, steps, seed, ex, obs);
  io::write_npy(o.out, io::Array::from_matrix<std::uint8_t>(x));
  const double mean = x.size() ? x.cast<double>().mean() : 0.0;
  const double seconds = seconds_since(start);
  summary(o.common, fmt::format("wrote {}: {} samples x {} visible units (uint8), {}, mean {:.4f}, {:.2f} s", o.out,
                                x.rows(), x.cols(), o.exact ? std::string("exact draws") : fmt::format("{} Gibbs sweeps each", steps),
                                mean, seconds));
  if (o.common.json)
    print_json({{"out", o.out},
                {"model", o.model},
                {"chains", chains},
                {"steps", o.exact ? nlohmann::json(nullptr) : nlohmann::json(steps)},
                {"exact", o.exact},
                {"seed", seed},
                {"n_visible", x.cols()},
                {"mean", mean},
                {"seconds", seconds}});
  return 0;
}

}  // namespace

void add_sample(CLI::App& app, Action& action) {
  auto o = std::make_shared<SampleOptions>();
  CLI::App* sub = app.add_subcommand("sample", "Draw samples: RBM (0/1 rows), Ising (spins), Potts (states) by Gibbs sampling; continuous models by HMC / MALA");
  sub->footer(
      "Runs --chains independent chains for --steps block-Gibbs sweeps each, started from the\n"
      "model's visible biases, and writes the final visible states as a uint8 array of shape\n"
      "(chains, n_visible). Chain r uses the random stream (seed, r): the file is the same\n"
      "for any --threads. With --exact, draws are exact instead (the smaller layer enumerated,\n"
      "at most 24 units): ground truth for checking samplers and for reverse AIS.\n"
      "For an Ising or Potts model file (fields, couplings) each chain starts uniformly at\n"
      "random and runs --steps systematic single-site Gibbs sweeps; the file holds int32 spins\n"
      "in the model's convention (Ising) or uint8 states 0..q-1 (Potts).\n"
      "For a continuous model file (Gaussian, GRBM, experts, neural) each chain starts from a\n"
      "Gaussian guess (the model itself, N(b, diag sigma^2) for a GRBM, else N(0, I)), runs\n"
      "--warmup steps of --kernel (hmc or mala) while dual averaging (Hoffman & Gelman 2014)\n"
      "adapts its step size towards --target-acceptance, then --steps steps with the step size\n"
      "frozen; every --thin-th state is kept. The file holds every kept draw as float64, shape\n"
      "(chains x steps/thin, d), chain by chain. The summary (and --json) gives the acceptance\n"
      "rate, the effective sample size of each coordinate and ESS per gradient evaluation.\n"
      "--exact draws --chains exact samples instead (Gaussian; GRBM with <= 20 hidden units;\n"
      "experts with as many filters as dimensions and no quadratic term).\n\n"
      "Examples:\n"
      "  logz sample --model model.npz --chains 64 --steps 1000 --seed 1 --out samples.npy\n"
      "  logz sample --model potts.npz --chains 1000 --steps 200 --out sequences.npy\n"
      "  logz sample --model experts.npz --chains 4 --warmup 1000 --steps 5000 --thin 5 --out x.npy --json\n"
      "  python3 -c \"import numpy as np; print(np.load('samples.npy').shape)\"");
  sub->add_option("--model", o->model, "Model file (.npz): RBM, Ising, Potts or continuous")->required()->type_name("PATH");
  sub->add_option("--out", o->out, "Samples file to write (.npy, one sample per row)")->required()->type_name("PATH");
  sub->add_option("--chains", o->chains, "Number of independent chains (samples)")->capture_default_str()->type_name("N");
  sub->add_option("--steps", o->steps, "Gibbs sweeps per chain (continuous: kernel steps after warm-up)")
      ->capture_default_str()
      ->type_name("N");
  sub->add_option("--warmup", o->warmup, "Continuous: steps adapting the step size, then discarded (0: no adaptation)")
      ->capture_default_str()
      ->type_name("N");
  sub->add_option("--thin", o->thin, "Continuous: keep every N-th state after warm-up")->capture_default_str()->type_name("N");
  add_kernel_options(*sub, o->kernel, "Continuous");
  sub->get_option("--step-size")->description("Continuous: the step size warm-up starts from (kept as is with --warmup 0)");
  sub->add_option("--target-acceptance", o->target_acceptance,
                  "Continuous: acceptance rate the warm-up aims at (0: 0.65 for hmc, 0.574 for mala)")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "Random seed")->capture_default_str()->type_name("N");
  sub->add_flag("--exact", o->exact, "Exact draws (RBM: the smaller layer enumerated, at most 24 units; continuous: see below); ignores --steps");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_sample);
}

}  // namespace logz::cli
