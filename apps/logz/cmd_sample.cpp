// `logz sample`: states from any model file — final states of independent Gibbs chains of
// an RBM, Ising or Potts model; for a continuous model, the draws of HMC or MALA chains with
// an adapted step size; exact draws where they exist: parse → io::load_model →
// api::sample → write.
#include <fmt/format.h>

#include <filesystem>

#include "common.hpp"
#include "logz/api/tasks.hpp"
#include "logz/core/observer.hpp"
#include "logz/io/alignment.hpp"
#include "logz/io/model_file.hpp"
#include "logz/io/npy.hpp"

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

// --out by its extension: sequences as FASTA / A2M, else .npy.
bool is_sequence_path(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  return ext == ".fasta" || ext == ".fa" || ext == ".fas" || ext == ".a2m";
}

int run_sample(const SampleOptions& o) {
  const auto start = Clock::now();
  api::SampleConfig c;
  c.chains = count_option(kCmd, "--chains", o.chains, 1);
  c.steps = count_option(kCmd, "--steps", o.steps, 1);
  c.seed = seed_option(kCmd, o.seed);
  c.exact = o.exact;
  if (!o.kernel.kernel.empty()) c.kernel = o.kernel.kernel;  // empty: the kind's default
  c.step_size = o.kernel.step_size;
  c.leapfrog = o.kernel.leapfrog;
  c.warmup = count_option(kCmd, "--warmup", o.warmup, 0);
  c.thin = count_option(kCmd, "--thin", o.thin, 1);
  c.target_acceptance = o.target_acceptance;
  const Exec ex = make_exec(kCmd, o.common);
  check_output_path(kCmd, "--out", o.out, {{"--model", o.model}});
  const io::ModelFile model = io::load_model(o.model);
  const bool sequences = is_sequence_path(o.out);
  if (sequences) {
    const ModelKind kind = kind_of(model.model);
    check_arg(kind == ModelKind::potts,
              "{}: --out {}: sequences (FASTA / A2M) come from a Potts model; {} holds a {} model (write .npy)", kCmd,
              o.out, o.model, kind_name(kind));
    check_arg(model.alphabet.has_value(),
              "{}: --out {}: sequences need the model's alphabet, and {} has none (write .npy)", kCmd, o.out, o.model);
  }
  ProgressBar obs(stderr, o.common.quiet);
  const api::Samples s = api::sample(model, c, ex, obs);
  if (sequences) {
    const MatrixU8 states = s.states.to_matrix<std::uint8_t>("samples");
    std::vector<std::string> names;
    for (Eigen::Index r = 0; r < states.rows(); ++r) names.push_back(fmt::format("sample_{}", r + 1));
    io::write_alignment(o.out, names, states, *model.alphabet);
  } else {
    io::write_npy(o.out, s.states);
  }
  const double seconds = seconds_since(start);
  summary(o.common, fmt::format("wrote {}: {}, {:.2f} s", o.out, s.how, seconds));
  if (o.common.json) {
    nlohmann::json j = {{"out", o.out},     {"model", o.model}, {"kind", kind_name(kind_of(model.model))},
                        {"chains", c.chains}, {"exact", c.exact}, {"seed", c.seed},
                        {"rows", s.states.shape[0]}, {"seconds", seconds}};
    j.update(s.details);
    print_json(j);
  }
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
      "in the model's convention (Ising) or uint8 states 0..q-1 (Potts). A Potts model with an\n"
      "alphabet writes sequences instead when --out ends in .fasta, .fa, .fas or .a2m: one record\n"
      "per chain, named sample_1, sample_2, ..., its letters from the alphabet (the gap as '-').\n"
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
      "  logz sample --model dhfr.npz --chains 100 --steps 500 --out designed.fasta\n"
      "  logz sample --model experts.npz --chains 4 --warmup 1000 --steps 5000 --thin 5 --out x.npy --json\n"
      "  python3 -c \"import numpy as np; print(np.load('samples.npy').shape)\"");
  sub->add_option("--model", o->model, "Model file (.npz): RBM, Ising, Potts or continuous")->required()->type_name("PATH");
  sub->add_option("--out", o->out, "Samples file to write (.npy, one sample per row; Potts: .fasta/.a2m for sequences)")
      ->required()
      ->type_name("PATH");
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
