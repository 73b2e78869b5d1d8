// `logz sample`: final states of independent Gibbs chains of an RBM (api::sample_rbm).
#include <fmt/format.h>

#include "common.hpp"
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
};

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
  CLI::App* sub = app.add_subcommand("sample", "Draw samples by Gibbs sampling: RBM (0/1 rows), Ising (spins), Potts (states)");
  sub->footer(
      "Runs --chains independent chains for --steps block-Gibbs sweeps each, started from the\n"
      "model's visible biases, and writes the final visible states as a uint8 array of shape\n"
      "(chains, n_visible). Chain r uses the random stream (seed, r): the file is the same\n"
      "for any --threads. With --exact, draws are exact instead (the smaller layer enumerated,\n"
      "at most 24 units): ground truth for checking samplers and for reverse AIS.\n"
      "For an Ising or Potts model file (fields, couplings) each chain starts uniformly at\n"
      "random and runs --steps systematic single-site Gibbs sweeps; the file holds int32 spins\n"
      "in the model's convention (Ising) or uint8 states 0..q-1 (Potts).\n\n"
      "Examples:\n"
      "  logz sample --model model.npz --chains 64 --steps 1000 --seed 1 --out samples.npy\n"
      "  logz sample --model potts.npz --chains 1000 --steps 200 --out sequences.npy\n"
      "  python3 -c \"import numpy as np; print(np.load('samples.npy').shape)\"");
  sub->add_option("--model", o->model, "Model file (.npz): RBM, Ising or Potts")->required()->type_name("PATH");
  sub->add_option("--out", o->out, "Samples file to write (.npy, one sample per row)")->required()->type_name("PATH");
  sub->add_option("--chains", o->chains, "Number of independent chains (samples)")->capture_default_str()->type_name("N");
  sub->add_option("--steps", o->steps, "Gibbs sweeps per chain")->capture_default_str()->type_name("N");
  sub->add_option("--seed", o->seed, "Random seed")->capture_default_str()->type_name("N");
  sub->add_flag("--exact", o->exact, "Exact draws by enumerating the smaller layer (at most 24 units); ignores --steps");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_sample);
}

}  // namespace logz::cli
