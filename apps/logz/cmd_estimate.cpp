// `logz estimate`: log Z of any model file by any estimator of the registry (or exactly),
// with replicates, JSON and the per-β diagnostics table: parse → io::load_model →
// api::estimate_log_z → print. Also a built-in 2-D energy (--energy) for trying the
// estimators on a known log Z.
#include <fmt/format.h>

#include "common.hpp"
#include "logz/api/tasks.hpp"
#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/io/model_file.hpp"
#include "logz/io/npy.hpp"
#include "logz/models/toy2d.hpp"

namespace logz::cli {

namespace {

constexpr std::string_view kCmd = "estimate";

struct EstimateOptions {
  CommonOptions common;
  EstimateFlags flags;
  std::string model, data, base_data, log_weights, diagnostics;
  std::string energy;  // a built-in continuous energy instead of --model
  api::ContinuousKernelConfig kernel;
  double base_sigma = 2.0;
  std::string base = "auto";  // continuous model files
  bool strict = false;
};

/// What every model kind reports the same way: text, warning, files, JSON.
int report(const EstimateOptions& o, const api::EstimateConfig& c, const api::ReplicatedEstimate& r,
           const nlohmann::json& details) {
  const LogZEstimate& e = r.combined;
  if (!o.log_weights.empty()) io::write_npy(o.log_weights, io::Array::from_values<double>({e.log_weights.size()}, e.log_weights));
  if (!o.diagnostics.empty()) api::write_diagnostics_csv(o.diagnostics, r.runs.front());
  std::string text = estimate_text(e, c);
  if (r.runs.size() > 1)
    text += fmt::format("\n{} replicates: between-run sd {:.4g}, mean own SE {:.4g}, R-hat {:.4g}, Cochran p = {:.3g}",
                        r.runs.size(), r.between_sd, r.within_se, r.rhat, r.p_value);
  if (e.method == "ais") text += "\n(AIS: log Z is a stochastic lower bound; E[Z-hat] = Z)";
  if (e.method == "raise") text += "\n(RAISE: log Z is a stochastic upper bound when started from exact samples)";
  if (details.contains("base_components"))
    text += fmt::format("\nbase: modes (a mixture of the {} best hidden modes' p(v | h), weighted by their exact masses)",
                        details["base_components"].get<std::size_t>());
  else if (details.contains("base") && details["base"].is_string())
    text += fmt::format("\nbase: {}", details["base"].get<std::string>());
  if (details.contains("reverse_check"))
    text += fmt::format("\nreverse check: RAISE from model samples {}",
                        plus_minus(details["reverse_check"]["log_z"], details["reverse_check"]["std_error"]));
  if (details.contains("mode_bound")) {
    const nlohmann::json& b = details["mode_bound"];
    text += fmt::format("\nmode bound: log Z >= {:.4f} (exact mass of {} {} states: {} modes from {} ascents and their "
                        "neighbours)",
                        b["log_lower_bound"].get<double>(), b["states_counted"].get<std::size_t>(),
                        b["layer"].get<std::string>(), b["modes"].get<std::size_t>(), b["starts"].get<std::size_t>());
  }
  text += "\n" + verdict_text(e);
  summary(o.common, text);
  if (o.common.json) {
    nlohmann::json j = api::to_json(c);
    j.update(estimate_json(e, c));
    j.update(api::to_json(r));
    j.update(details);
    j["model"] = o.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.model);
    if (!o.log_weights.empty()) j["log_weights_file"] = o.log_weights;
    if (!o.diagnostics.empty()) j["diagnostics_file"] = o.diagnostics;
    print_json(j);
  }
  return verdict_exit(e, o.strict);
}

int run_estimate_energy(const EstimateOptions& o, const api::EstimateConfig& c, const Exec& ex) {
  check_arg(o.model.empty(), "{}: give --model or --energy, not both", kCmd);
  check_arg(o.base == "auto" && o.base_data.empty(), "{}: --base is for continuous model files; --energy takes --base-sigma",
            kCmd);
  check_arg(std::isfinite(o.base_sigma) && o.base_sigma > 0, "{}: --base-sigma must be positive, got {}", kCmd,
            o.base_sigma);
  check_arg(o.data.empty() || c.method == "raise", "{}: --data is for --method raise (start states)", kCmd);
  check_arg(!o.data.empty() || c.method != "raise",
            "{}: --method raise needs --data (a .npy of states, one reverse chain per row)", kCmd);
  const Toy2d energy = toy2d_by_name(o.energy);
  const Gaussian base = Gaussian::isotropic(energy.dimension(), o.base_sigma);
  o.kernel.validate();
  const MatrixD start = o.data.empty() ? MatrixD() : load_real_data(kCmd, "--data", o.data, energy.dimension());
  ProgressBar obs(stderr, o.common.quiet);
  const api::ReplicatedEstimate r =
      api::replicate(c, ex, obs, [&](const api::EstimateConfig& one, const Exec& run_ex, Observer& run_obs) {
        return api::continuous_estimate(energy, base, one, o.kernel, o.data.empty() ? nullptr : &start, run_ex, run_obs);
      });
  return report(o, c, r,
                {{"kind", "energy"}, {"energy", o.energy}, {"base_sigma", o.base_sigma}, {"kernel", o.kernel.name()},
                 {"step_size", o.kernel.step_size}, {"leapfrog", o.kernel.leapfrog}, {"dimension", energy.dimension()}});
}

int run_estimate(const EstimateOptions& o) {
  const api::EstimateConfig c = estimate_config(kCmd, o.flags);
  const Exec ex = make_exec(kCmd, o.common);
  check_arg(c.method != "exact" || o.log_weights.empty(), "{}: --log-weights needs a random method (exact has no weights)",
            kCmd);
  check_arg(c.method != "exact" || o.diagnostics.empty(), "{}: --diagnostics needs a random method (exact has no steps)",
            kCmd);
  if (!o.log_weights.empty()) check_output_path(kCmd, "--log-weights", o.log_weights, {{"--model", o.model}, {"--data", o.data}});
  if (!o.diagnostics.empty()) check_output_path(kCmd, "--diagnostics", o.diagnostics, {{"--model", o.model}, {"--data", o.data}});
  if (!o.energy.empty()) return run_estimate_energy(o, c, ex);
  check_arg(!o.model.empty(), "{}: give --model FILE or --energy NAME", kCmd);

  const io::ModelFile model = io::load_model(o.model);
  check_arg(o.base == "auto" || o.base_data.empty(), "{}: give --base data:PATH or --base-data PATH, not both", kCmd);
  // --data: RAISE's start rows (and an RBM's base rate); --base data:PATH or --base-data: the base.
  std::optional<api::Dataset> data, base_data;
  api::EstimateInputs in;
  in.kernel = o.kernel;
  in.base = base_choice(kCmd, o.base);
  if (!o.data.empty()) data = api::load_dataset(o.data, model, "data", kCmd);
  if (in.base == api::BaseChoice::data) base_data = api::load_dataset(o.base.substr(5), model, "base", kCmd);
  if (!o.base_data.empty()) base_data = api::load_dataset(o.base_data, model, "base_data", kCmd);
  if (data) in.start_data = &*data;
  if (base_data) in.base_data = &*base_data;
  ProgressBar obs(stderr, o.common.quiet);
  const api::LogZResult r = api::estimate_log_z(model, c, in, ex, obs, kCmd);
  return report(o, c, r.estimate, r.details);
}

}  // namespace

void add_estimate(CLI::App& app, Action& action) {
  auto o = std::make_shared<EstimateOptions>();
  CLI::App* sub = app.add_subcommand("estimate", "Estimate log Z with an error bar (RBM, Ising, Potts, continuous models)");
  sub->footer(methods_help() +
      "Paths: RBM: from a base-rate RBM by annealing the weights (Salakhutdinov & Murray 2008);\n"
      "  the base rate is the logit of the smoothed --data (or --base-data) means if given, else\n"
      "  the model file's data_marginals, else the means of 100 Gibbs chains of the model (betas/10\n"
      "  sweeps, in [100, 1000]); AIS is then checked against RAISE from those samples.\n"
      "  Ising / Potts: p_beta ~ exp(-beta E) from the uniform distribution, --sweeps Gibbs sweeps\n"
      "  per beta (--kernel sw: Swendsen-Wang cluster updates, which do not slow down at a critical\n"
      "  point; sw-gibbs: each followed by a Gibbs sweep; ferromagnetic couplings only). --energy:\n"
      "  the geometric path from\n"
      "  N(0, --base-sigma^2 I) (its normaliser counted), --sweeps --kernel steps per beta.\n"
      "  Continuous model files: the same path from the Gaussian --base: auto is N(mu, diag Sigma)\n"
      "  for a Gaussian, the exact moments of a GRBM with <= 20 hidden units, else a Gaussian fitted\n"
      "  to a short HMC run (as --base fit); data:X.npy (or --base-data X.npy) fits the rows of X.npy.\n"
      "  --method raise starts one reverse chain from each of --chains rows picked from --data\n"
      "  (any kind). A model that cannot be normalised (experts with alpha <= 1/2, filters that do\n"
      "  not span the space) is refused (exit 65). docs/continuous-cli.md has the details.\n"
      "Model files: any kind logz reads (RBM, GRBM, Ising, Potts, Gaussian, experts, neural), with a\n"
      "logz_kind marker or told by their arrays (docs/file-formats.md); NumPy C or Fortran order.\n"
      "Replicates: R independent runs (seeds seed .. seed+R-1) share the budget (--chains; smc: --runs);\n"
      "by default R = 4 (1 for smc, lis, bridge and ti, whose runs or chains are already independent). They are pooled,\n"
      "their spread, R-hat and Cochran's test reported; the error bar is the larger of their spread\n"
      "and their own error bars.\n"
      "Verdict: every estimate is checked (ESS, replicates, R-hat, swaps, forward vs reverse;\n"
      "docs/error-bars.md) and the summary says 'verdict: reliable' or 'NOT RELIABLE: why. Advice: ...'.\n"
      "--json carries reliable and warnings; --strict exits with 75 when it is not reliable.\n"
      "--diagnostics FILE writes the per-beta table (beta, ess, acceptance, log_weight_variance,\n"
      "resampled) of the first run as CSV; --log-weights FILE the per-particle log-weights\n"
      "(per-run log Z with --replicates) as a float64 .npy.\n\n"
      "Examples:\n"
      "  logz estimate --model model.npz --method ais --chains 100 --betas 10000 --json\n"
      "  logz estimate --model model.npz --method raise --data fashion-mnist:test --chains 100\n"
      "  logz estimate --model small.npz --method exact\n"
      "  logz estimate --model ising.npz --method ais --betas 2000 --schedule linear --replicates 4\n"
      "  logz estimate --model potts.npz --method is --chains 100000 --diagnostics steps.csv\n"
      "  logz estimate --model ising.npz --method smc --chains 500 --schedule adaptive --runs 10\n"      "  logz estimate --model ising.npz --method smc --kernel sw --chains 500 --schedule adaptive --waste-free 10\n"
      "  logz estimate --model ising.npz --method bridge --betas 50 --chains 8 --samples 200 --schedule linear\n"
      "  logz estimate --energy ring2d --method smc --chains 1000 --schedule adaptive --json\n"
      "  logz estimate --model grbm.npz --method ais --chains 200 --betas 1000 --base data:train.npy\n"
      "  logz estimate --model experts.npz --method smc --chains 500 --schedule adaptive --kernel mala --step-size 0.3");
  sub->add_option("--model", o->model, "Model file (.npz): RBM, Ising, Potts, or a continuous model (Gaussian, GRBM, experts, neural)")->type_name("PATH");
  sub->add_option("--energy", o->energy, "A built-in 2-D energy instead of --model: ring2d, mixture2d or banana2d")
      ->type_name("NAME");
  add_estimate_options(*sub, o->flags);
  add_kernel_options(*sub, o->kernel, "--energy and continuous models");
  add_base_option(*sub, o->base);
  sub->add_option("--base-sigma", o->base_sigma, "--energy: the base is N(0, sigma^2 I), its normaliser included")
      ->capture_default_str();
  sub->add_option("--data", o->data,
                  "RBM: data (fashion-mnist:test or .npy) for the AIS base rate and the RAISE start rows; other kinds: "
                  "RAISE start rows (.npy of states; Potts: also a FASTA / A2M alignment)")
      ->type_name("SPEC");
  sub->add_option("--base-data", o->base_data, "Data the base is fitted to (RBM: base rate; continuous: the Gaussian)")
      ->type_name("SPEC");
  sub->add_option("--log-weights", o->log_weights, "Write the log-weights here (.npy, float64)")->type_name("PATH");
  sub->add_option("--diagnostics", o->diagnostics, "Write the per-beta table here (.csv)")->type_name("PATH");
  add_strict_option(*sub, o->strict);
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_estimate);
}

}  // namespace logz::cli
