// `logz train gaussian|grbm|experts|neural`: fits a continuous energy model to real-valued
// data (.npy, one sample per row) by score matching, sliced or denoising score matching,
// noise-contrastive estimation or PCD (api::train_continuous), and writes the model file.
#include <fmt/format.h>

#include <cmath>
#include <sstream>

#include "common.hpp"
#include "logz/api/continuous_train.hpp"
#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/io/continuous_file.hpp"

namespace logz::cli {
namespace {

struct ContinuousOptions {
  CommonOptions common;
  std::string model, data, out, sigmas = "0.1", checkpoint;
  bool resume = false;
  api::ContinuousTrainConfig defaults;
  std::string method = defaults.method, optimizer = defaults.optimizer, kernel = defaults.kernel;
  std::int64_t hidden = 0, draws = 1, projections = 1, noise_ratio = 1, max_iterations = 500, epochs = 20,
               batch = 100, chains = 100, steps = 1, leapfrog = 5, seed = 1;
  double alpha = defaults.alpha, init_scale = defaults.init_scale, tolerance = defaults.tolerance, lr = defaults.lr,
         step_size = defaults.step_size;
  bool fixed_sigma = false;
};

/// "0.1,0.3,1" → {0.1, 0.3, 1}; each must be finite and > 0.
std::vector<double> parse_levels(std::string_view cmd, const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    double v = 0;
    std::size_t used = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    check_arg(used == item.size() && used > 0 && std::isfinite(v) && v > 0,
              "{}: --sigmas must be a comma-separated list of numbers > 0, got '{}'", cmd, text);
    out.push_back(v);
  }
  check_arg(!out.empty(), "{}: --sigmas must be a comma-separated list of numbers > 0, got '{}'", cmd, text);
  return out;
}

int run_continuous(const ContinuousOptions& o) {
  const auto start = Clock::now();
  const std::string cmd = "train " + o.model;
  api::ContinuousTrainConfig c;
  c.model = o.model;
  c.method = o.method;
  c.optimizer = o.optimizer;
  c.hidden = count_option(cmd, "--hidden", o.hidden, 0);
  c.learn_sigma = !o.fixed_sigma;
  c.alpha = positive_option(cmd, "--alpha", o.alpha);
  c.init_scale = positive_option(cmd, "--init-scale", o.init_scale);
  c.sigmas = parse_levels(cmd, o.sigmas);
  c.draws = count_option(cmd, "--draws", o.draws, 1);
  c.projections = count_option(cmd, "--projections", o.projections, 1);
  c.noise_ratio = count_option(cmd, "--noise-ratio", o.noise_ratio, 1);
  c.max_iterations = count_option(cmd, "--max-iterations", o.max_iterations, 1);
  c.tolerance = positive_option(cmd, "--tolerance", o.tolerance);
  c.epochs = count_option(cmd, "--epochs", o.epochs, 1);
  c.batch = count_option(cmd, "--batch", o.batch, 1);
  c.lr = positive_option(cmd, "--lr", o.lr);
  c.chains = count_option(cmd, "--chains", o.chains, 1);
  c.steps = count_option(cmd, "--steps", o.steps, 1);
  c.kernel = o.kernel;
  c.step_size = positive_option(cmd, "--step-size", o.step_size);
  c.leapfrog = count_option(cmd, "--leapfrog", o.leapfrog, 1);
  c.seed = seed_option(cmd, o.seed);
  c.checkpoint = o.checkpoint;
  c.resume = o.resume;
  c.validate();
  const Exec ex = make_exec(cmd, o.common);
  check_output_path(cmd, "--out", o.out, {{"--data", o.data}});
  if (!o.checkpoint.empty()) check_output_path(cmd, "--checkpoint", o.checkpoint, {{"--data", o.data}, {"--out", o.out}});
  const OutputLocks locks(cmd, {o.out, o.checkpoint});

  const MatrixD data = load_real_data(cmd, "--data", o.data);
  summary(o.common, fmt::format("{}: {} samples x {} dimensions, method {} ({})", cmd, data.rows(), data.cols(),
                                o.method, c.method == "pcd" ? "adam" : c.optimizer));
  ProgressBar obs(stderr, o.common.quiet);
  const api::ContinuousTrainResult r = api::train_continuous(data, c, ex, obs);

  io::NamedArrays extra;
  extra.emplace_back("train_trace", io::Array::from_values<double>({r.trace.size()}, r.trace));
  if (r.nce_log_z) extra.emplace_back("nce_log_z", io::Array::from_values<double>({}, {*r.nce_log_z}));
  io::save_continuous(o.out, r.model, extra);

  const double secs = seconds_since(start);
  const double final_value = r.trace.empty() ? NAN : r.trace.back();
  std::string text = fmt::format("{}: {} {} {}{}, {} {:.6g} -> {:.6g}; {} parameters; {:.2f} s -> {}", cmd, r.iterations,
                                 r.stopped_by == "epochs" ? "epochs" : "iterations",
                                 r.converged ? "(converged)" : "(stopped by ", r.converged ? "" : r.stopped_by + ")",
                                 r.objective, r.trace.empty() ? NAN : r.trace.front(), final_value, r.parameters,
                                 secs, o.out);
  if (r.nce_log_z) text += fmt::format("\nNCE's estimate of log Z (the learned c): {:.4f}", *r.nce_log_z);
  if (!r.acceptance.empty()) text += fmt::format("\nPCD chains' acceptance in the last epoch: {:.3f}", r.acceptance.back());
  summary(o.common, text);
  if (o.common.json) {
    nlohmann::json j{{"command", cmd},
                     {"model", o.model},
                     {"method", o.method},
                     {"optimizer", c.method == "pcd" ? "adam" : c.optimizer},
                     {"samples", data.rows()},
                     {"dimension", data.cols()},
                     {"parameters", r.parameters},
                     {"objective", r.objective},
                     {"initial", r.trace.empty() ? NAN : r.trace.front()},
                     {"final", final_value},
                     {"iterations", r.iterations},
                     {"converged", r.converged},
                     {"stopped_by", r.stopped_by},
                     {"seed", c.seed},
                     {"seconds", secs},
                     {"out", o.out}};
    j["nce_log_z"] = r.nce_log_z ? nlohmann::json(*r.nce_log_z) : nlohmann::json(nullptr);
    j["trace"] = r.trace;
    j["acceptance"] = r.acceptance;
    print_json(j);
  }
  return 0;
}

void add_one(CLI::App& train, Action& action, const std::string& model, const std::string& description,
             const std::string& sizes) {
  auto o = std::make_shared<ContinuousOptions>();
  o->model = model;
  o->hidden = model == "grbm" ? 16 : model == "neural" ? 32 : 0;  // 16: the GRBM's log Z stays exact
  CLI::App* sub = train.add_subcommand(model, description);
  sub->footer(
      "Methods:\n"
      "  sm   score matching (Hyvarinen 2005): 1/2 |grad E|^2 - laplacian E over the data\n"
      "  ssm  sliced score matching (Song et al. 2019): random projections instead of the laplacian\n"
      "  dsm  denoising score matching (Vincent 2011) at the noise levels --sigmas\n"
      "  nce  noise-contrastive estimation (Gutmann & Hyvarinen 2010) against a Gaussian fitted\n"
      "       to the data; learns log Z as one more parameter (printed and saved as nce_log_z)\n"
      "  pcd  persistent contrastive divergence (Tieleman 2008): --chains persistent chains moved\n"
      "       --steps steps per update (grbm: block Gibbs; others: --kernel mala|hmc|ula with the\n"
      "       step size adapted by dual averaging during the first epoch), Adam\n"
      "sm, ssm, dsm and nce are minimised by L-BFGS over the whole data set (random parts fixed\n"
      "by --seed), or with --optimizer adam over --epochs of minibatches (fresh noise and\n"
      "projections per epoch), the model averaged over the second half of the epochs.\n"
      "Epoch-based runs write --checkpoint after every epoch; --resume continues from it and\n"
      "ends with the same bits as an uninterrupted run.\n"
      "DATA: a .npy 2-D float array, one sample per row, finite; all methods but dsm refuse a\n"
      "constant column (score matching's objective is unbounded below along it).\n" +
      sizes +
      "The model file (.npz) is read by `logz estimate|sample|eval|info --model`.\n"
      "Same bits for any --threads.\n\n"
      "Examples:\n"
      "  logz train " + model + " --data train.npy --method sm --out " + model + ".npz\n"
      "  logz train " + model + " --data train.npy --method nce --noise-ratio 4 --out " + model + ".npz\n"
      "  logz train " + model + " --data train.npy --method dsm --sigmas 0.1,0.3 --optimizer adam --epochs 50 --out " +
      model + ".npz\n"
      "  logz train " + model + " --data train.npy --method pcd --epochs 20 --checkpoint run.ckpt.npz --resume --out " +
      model + ".npz");
  sub->add_option("--data", o->data, "Training data: .npy, one sample per row")->required()->type_name("PATH");
  sub->add_option("--out", o->out, "Model file to write (.npz)")->required()->type_name("PATH");
  sub->add_option("--method", o->method, "sm, ssm, dsm, nce or pcd")
      ->capture_default_str()
      ->check(CLI::IsMember({"sm", "ssm", "dsm", "nce", "pcd"}));
  sub->add_option("--optimizer", o->optimizer, "lbfgs (full batch) or adam (minibatches); pcd uses adam")
      ->capture_default_str()
      ->check(CLI::IsMember({"lbfgs", "adam"}));
  if (model != "gaussian")
    sub->add_option("--hidden", o->hidden,
                    model == "experts" ? "Experts K (0 = the data's dimension: the complete model)"
                                       : "Hidden units")
        ->capture_default_str();
  if (model == "grbm") {
    sub->add_flag("--fixed-sigma", o->fixed_sigma, "Keep the visible sigmas at the data's standard deviations");
    sub->add_option("--init-scale", o->init_scale, "Initial weights: this times sigma_i times N(0, 1)")
        ->capture_default_str();
  }
  if (model == "experts") sub->add_option("--alpha", o->alpha, "Initial alpha of every expert")->capture_default_str();
  sub->add_option("--sigmas", o->sigmas, "dsm noise levels, comma-separated")->capture_default_str();
  sub->add_option("--draws", o->draws, "dsm noise draws per sample and level")->capture_default_str();
  sub->add_option("--projections", o->projections, "ssm projections per sample")->capture_default_str();
  sub->add_option("--noise-ratio", o->noise_ratio, "nce noise samples per data sample")->capture_default_str();
  sub->add_option("--max-iterations", o->max_iterations, "L-BFGS iterations at most")->capture_default_str();
  sub->add_option("--tolerance", o->tolerance, "L-BFGS stop: |gradient| <= tolerance * max(1, |theta|)")
      ->capture_default_str();
  sub->add_option("--epochs", o->epochs, "adam, pcd: passes over the data")->capture_default_str();
  sub->add_option("--batch", o->batch, "adam, pcd: rows per update")->capture_default_str();
  sub->add_option("--lr", o->lr, "adam, pcd: Adam's learning rate")->capture_default_str();
  sub->add_option("--chains", o->chains, "pcd: persistent chains")->capture_default_str();
  sub->add_option("--steps", o->steps, "pcd: kernel steps (grbm: Gibbs sweeps) per update")->capture_default_str();
  if (model != "grbm") {
    sub->add_option("--kernel", o->kernel, "pcd: mala, hmc or ula")
        ->capture_default_str()
        ->check(CLI::IsMember({"mala", "hmc", "ula"}));
    sub->add_option("--step-size", o->step_size, "pcd: initial kernel step size")->capture_default_str();
    sub->add_option("--leapfrog", o->leapfrog, "pcd: HMC leapfrog steps")->capture_default_str();
  }
  sub->add_option("--checkpoint", o->checkpoint, "adam, pcd: state file written after every epoch (.npz)")
      ->type_name("PATH");
  sub->add_flag("--resume", o->resume, "adam, pcd: continue from --checkpoint if it exists");
  sub->add_option("--seed", o->seed, "Random seed (initial parameters, projections, noise, chains)")
      ->capture_default_str();
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_continuous);
}

}  // namespace

void add_train_continuous(CLI::App& train, Action& action) {
  add_one(train, action, "gaussian", "Fit a Gaussian (full precision matrix) to real-valued data (.npy)", "");
  add_one(train, action, "grbm", "Fit a Gaussian-Bernoulli RBM to real-valued data (.npy)",
          "MODEL: E(v,h) = sum (v-b)^2/(2 sigma^2) - sum v_i W_ij h_j / sigma_i^2 - c.h, h binary;\n"
          "sigma learned unless --fixed-sigma. Exact log Z by enumeration up to 30 hidden units.\n");
  add_one(train, action, "experts", "Fit a product of Student-t experts to real-valued data (.npy)",
          "MODEL: E(x) = sum_k alpha_k log(1 + (w_k.x)^2 / 2); with K = dimension (the default)\n"
          "log Z has a closed form when every alpha_k > 1/2.\n");
  add_one(train, action, "neural", "Fit a one-hidden-layer softplus energy to real-valued data (.npy)",
          "MODEL: E(x) = sum_j a_j softplus(w_j.x + b_j) + c.x + lambda |x|^2 / 2, lambda > 0.\n");
}

}  // namespace logz::cli
