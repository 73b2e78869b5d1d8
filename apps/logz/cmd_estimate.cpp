// `logz estimate`: log Z of an RBM, Ising, Potts or continuous model (or a built-in 2-D
// energy) by any estimator of the suite (api::estimate_on_path over the model's annealing
// path) or exactly, with replicates, JSON and the per-β diagnostics table. Also home of
// the continuous-model options that `eval` and `sample` share (--kernel, --step-size,
// --leapfrog, --base).
#include <fmt/format.h>

#include "common.hpp"
#include "logz/api/estimate.hpp"
#include "logz/api/continuous_tasks.hpp"
#include "logz/api/mrf_tasks.hpp"
#include "logz/models/toy2d.hpp"
#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/io/continuous_file.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/rbm_file.hpp"

namespace logz::cli {

namespace {

constexpr std::string_view kCmd = "estimate";

struct EstimateOptions {
  CommonOptions common;
  LogZOptions log_z;
  std::string model, method = "ais", data, log_weights, diagnostics;
  std::int64_t sweeps = 1, replicates = 1, runs = 20, burn_in = 10, samples = 50, thin = 1, chain_length = 10;
  std::string resampling = "systematic", quadrature = "trapezoid";
  double ess_threshold = 0.5, cess = 0.95;
  std::string energy;  // a built-in continuous energy instead of --model
  api::ContinuousKernelConfig kernel;
  double base_sigma = 2.0;
  std::string base = "auto";  // continuous model files
};

/// What every model kind reports the same way: text, warning, files, JSON.
int report(const EstimateOptions& o, const api::EstimateConfig& c, const api::ReplicatedEstimate& r, nlohmann::json extra) {
  const LogZEstimate& e = r.combined;
  if (!o.log_weights.empty()) io::write_npy(o.log_weights, io::Array::from_values<double>({e.log_weights.size()}, e.log_weights));
  if (!o.diagnostics.empty()) api::write_diagnostics_csv(o.diagnostics, r.runs.front());
  std::string text = estimate_text(e, c);
  if (r.runs.size() > 1)
    text += fmt::format("\n{} replicates: between-run sd {:.4g}, mean own SE {:.4g}, R-hat {:.4g}, Cochran p = {:.3g}",
                        r.runs.size(), r.between_sd, r.within_se, r.rhat, r.p_value);
  if (e.method == "ais") text += "\n(AIS: log Z is a stochastic lower bound; E[Z-hat] = Z)";
  if (e.method == "raise") text += "\n(RAISE: log Z is a stochastic upper bound when started from exact samples)";
  summary(o.common, text);
  if (!r.warning.empty() && !o.common.quiet) fmt::print(stderr, "logz: warning: {}\n", r.warning);
  if (o.common.json) {
    nlohmann::json j = estimate_json(e, c);
    j.update(api::to_json(r));
    j.update(extra);
    j["model"] = o.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.model);
    j["sweeps"] = c.sweeps;
    if (c.method == "smc") j.update({{"runs", c.runs}, {"resampling", c.resampling}, {"ess_threshold", c.ess_threshold}});
    if (c.schedule == "adaptive") j["cess"] = c.cess;
    if (c.method == "bridge" || c.method == "ti")
      j.update({{"burn_in", c.burn_in}, {"samples", c.samples}, {"thin", c.thin}});
    if (c.method == "ti") j["quadrature"] = c.quadrature;
    if (c.method == "lis") j["chain_length"] = c.chain_length;
    if (!o.log_weights.empty()) j["log_weights_file"] = o.log_weights;
    if (!o.diagnostics.empty()) j["diagnostics_file"] = o.diagnostics;
    print_json(j);
  }
  return 0;
}

int run_estimate_mrf(const EstimateOptions& o, const api::EstimateConfig& c, const Exec& ex) {
  const api::MrfModel m = api::load_mrf_model(o.model);
  std::optional<MatrixD> start;
  if (c.method == "raise") {
    check_arg(!o.data.empty(), "{}: --method raise needs --data (a .npy of states, one reverse chain per row)", kCmd);
    start = io::read_npy(o.data).to_matrix<double>(o.data);
    check_data(std::size_t(start->cols()) == api::mrf_sites(m), "{}: --data {} has {} columns, the model has {} sites",
               kCmd, o.data, start->cols(), api::mrf_sites(m));
  } else {
    check_arg(o.data.empty(), "{}: --data is for --method raise with an Ising / Potts model (start states)", kCmd);
  }
  ProgressBar obs(stderr, o.common.quiet);
  const api::ReplicatedEstimate r = api::replicate(c, [&](const api::EstimateConfig& one) {
    return api::mrf_estimate(m, one, start ? &*start : nullptr, ex, obs);
  });
  return report(o, c, r, {{"kind", api::mrf_kind(m)}});
}

/// The continuous paths (--energy NAME and continuous model files): RAISE start rows from
/// --data, replicates of `one_run(config)`, the report with the kernel's settings.
template <class Run>
int run_continuous(const EstimateOptions& o, const api::EstimateConfig& c, std::size_t dimension, nlohmann::json extra,
                   Run&& one_run) {
  check_arg(o.data.empty() || c.method == "raise", "{}: --data is for --method raise (start states)", kCmd);
  std::optional<MatrixD> start;
  if (c.method == "raise") {
    check_arg(!o.data.empty(), "{}: --method raise needs --data (a .npy of states, one reverse chain per row)", kCmd);
    start = load_real_data(kCmd, "--data", o.data, dimension);
  }
  ProgressBar obs(stderr, o.common.quiet);
  const api::ReplicatedEstimate r = api::replicate(
      c, [&](const api::EstimateConfig& one) { return one_run(one, start ? &*start : nullptr, obs); });
  extra.update({{"kernel", o.kernel.kernel}, {"step_size", o.kernel.step_size}, {"leapfrog", o.kernel.leapfrog},
                {"dimension", dimension}});
  return report(o, c, r, extra);
}

int run_estimate_energy(const EstimateOptions& o, const api::EstimateConfig& c, const Exec& ex) {
  check_arg(o.model.empty(), "{}: give --model or --energy, not both", kCmd);
  check_arg(o.base == "auto", "{}: --base is for continuous model files; --energy takes --base-sigma", kCmd);
  check_arg(std::isfinite(o.base_sigma) && o.base_sigma > 0, "{}: --base-sigma must be positive, got {}", kCmd,
            o.base_sigma);
  const Toy2d energy = toy2d_by_name(o.energy);
  const Gaussian base = Gaussian::isotropic(energy.dimension(), o.base_sigma);
  return run_continuous(o, c, energy.dimension(), {{"kind", "energy"}, {"energy", o.energy}, {"base_sigma", o.base_sigma}},
                        [&](const api::EstimateConfig& one, const MatrixD* start, Observer& obs) {
                          return api::continuous_estimate(energy, base, one, o.kernel, start, ex, obs);
                        });
}

int run_estimate_continuous_model(const EstimateOptions& o, const api::EstimateConfig& c, const Exec& ex) {
  const api::ContinuousModel m = io::load_continuous(o.model);
  const std::size_t d = api::continuous_dimension(m);
  api::check_normalisable(kCmd.data(), m);
  const api::BaseSpec spec = base_spec(kCmd, o.base, d);
  // --method exact needs no base (and no pilot run).
  const Gaussian base = c.method == "exact" ? api::continuous_start(m) : api::continuous_base(m, spec, c.seed, ex);
  nlohmann::json extra = {{"kind", api::continuous_kind(m)}, {"base", api::base_choice_name(spec.choice)}};
  if (c.method != "exact")
    extra.update({{"base_mean", std::vector<double>(base.mean().data(), base.mean().data() + base.mean().size())},
                  {"base_log_z", base.log_partition()}});
  return run_continuous(o, c, d, extra, [&](const api::EstimateConfig& one, const MatrixD* start, Observer& obs) {
    return api::estimate_continuous(m, base, one, o.kernel, start, ex, obs);
  });
}

int run_estimate(const EstimateOptions& o) {
  api::EstimateConfig c = log_z_config(kCmd, o.log_z, o.method);
  c.sweeps = count_option(kCmd, "--sweeps", o.sweeps, 1);
  c.replicates = count_option(kCmd, "--replicates", o.replicates, 1);
  c.runs = count_option(kCmd, "--runs", o.runs, 1);
  c.burn_in = count_option(kCmd, "--burn-in", o.burn_in, 0);
  c.samples = count_option(kCmd, "--samples", o.samples, 4);
  c.thin = count_option(kCmd, "--thin", o.thin, 1);
  c.chain_length = count_option(kCmd, "--chain-length", o.chain_length, 1);
  c.resampling = o.resampling;
  c.quadrature = o.quadrature;
  c.ess_threshold = o.ess_threshold;
  c.cess = o.cess;
  c.validate();
  const Exec ex = make_exec(kCmd, o.common);
  check_arg(o.method != "exact" || o.log_weights.empty(), "{}: --log-weights needs a random method (exact has no weights)",
            kCmd);
  check_arg(o.method != "exact" || o.diagnostics.empty(), "{}: --diagnostics needs a random method (exact has no steps)",
            kCmd);
  if (!o.log_weights.empty()) check_output_path(kCmd, "--log-weights", o.log_weights);
  if (!o.diagnostics.empty()) check_output_path(kCmd, "--diagnostics", o.diagnostics);
  if (!o.energy.empty()) return run_estimate_energy(o, c, ex);
  check_arg(!o.model.empty(), "{}: give --model FILE or --energy NAME", kCmd);
  if (io::is_continuous_file(o.model)) return run_estimate_continuous_model(o, c, ex);
  check_arg(o.base == "auto", "{}: --base is for continuous model files (Gaussian, GRBM, experts, neural)", kCmd);
  if (api::is_mrf_file(o.model)) return run_estimate_mrf(o, c, ex);

  check_arg(o.method != "raise" || !o.data.empty(),
            "{}: --method raise needs --data (RAISE starts one reverse chain from each of --chains data rows)", kCmd);
  const io::RbmFile f = io::load_rbm(o.model);
  const MatrixU8 data = o.data.empty() ? MatrixU8() : load_data(kCmd, "--data", o.data, f.model.n_visible());
  check_arg(o.method != "raise" || std::size_t(data.rows()) >= c.chains,
            "{}: --chains {} exceeds the {} rows of --data {} (RAISE starts each chain from a different row)", kCmd,
            c.chains, data.rows(), o.data);
  ProgressBar obs(stderr, o.common.quiet);
  const api::ReplicatedEstimate r = api::replicate(c, [&](const api::EstimateConfig& one) {
    return api::estimate_log_z(f.model, one, data, f.data_marginals, ex, obs);
  });
  return report(o, c, r, {{"kind", "rbm"}, {"data", o.data.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.data)}});
}

}  // namespace

void add_estimate(CLI::App& app, Action& action) {
  auto o = std::make_shared<EstimateOptions>();
  CLI::App* sub = app.add_subcommand("estimate", "Estimate log Z with an error bar (RBM, Ising, Potts, continuous models)");
  sub->footer(
      "Methods (docs/error-bars.md says how each error bar is computed and when not to trust it):\n"
      "  is      simple importance sampling from the base (--chains draws)\n"
      "  ais     annealed importance sampling (Neal 2001): --chains particles through --betas\n"
      "          distributions; E[Z-hat] = Z, so log Z-hat is a stochastic lower bound\n"
      "  raise   reverse AIS from --data rows (Burda et al. 2015): a stochastic upper bound\n"
      "          when the rows are exact samples; with ais, a sandwich\n"
      "  smc     sequential Monte Carlo (Del Moral et al. 2006): --chains particles, resampled\n"
      "          (--resampling) when ESS < --ess-threshold x N; --schedule adaptive picks each beta\n"
      "          at conditional ESS --cess; the error bar is the spread of --runs runs\n"
      "  bridge  iterative optimal bridge sampling (Meng & Wong 1996) between adjacent betas,\n"
      "          --chains equilibrium chains per beta (--burn-in, --samples, --thin); the error\n"
      "          bar accounts for autocorrelation (Fruhwirth-Schnatter 2004)\n"
      "  ti      thermodynamic integration of the mean of d log f / d beta over the same chains\n"
      "          (--quadrature trapezoid|simpson; the quadrature error is reported apart)\n"
      "  lis     linked importance sampling (Neal 2005): --chains runs, --chain-length states per beta\n"
      "  exact   RBM: enumeration of the smaller layer (<= 32 units); Ising / Potts: junction tree;\n"
      "          Gaussian: closed form; GRBM: the hidden layer enumerated (<= 30 units); experts with\n"
      "          as many filters as dimensions and no quadratic term: closed form\n"
      "Paths: RBM: from a base-rate RBM by annealing the weights (Salakhutdinov & Murray 2008);\n"
      "  the base rate is the logit of the smoothed --data means if --data is given, else the\n"
      "  model file's data_marginals, else uniform. Ising / Potts: p_beta ~ exp(-beta E) from the\n"
      "  uniform distribution, --sweeps Gibbs sweeps per beta. --energy: the geometric path from\n"
      "  N(0, --base-sigma^2 I) (its normaliser counted), --sweeps --kernel steps per beta.\n"
      "  Continuous model files: the same path from the Gaussian --base: auto is N(mu, diag Sigma)\n"
      "  for a Gaussian, the exact moments of a GRBM with <= 20 hidden units, else a Gaussian fitted\n"
      "  to a short HMC run (as --base fit); data:X.npy fits the rows of X.npy (e.g. training data).\n"
      "  --method raise starts one reverse chain from each row of --data X.npy. A model that\n"
      "  cannot be normalised (experts with alpha <= 1/2, filters that do not span the space) is\n"
      "  refused (exit 65). docs/continuous-cli.md has the details.\n"
      "--replicates R runs R independent copies (seeds seed .. seed+R-1: the same bits as R\n"
      "single runs), pools them, reports their spread, R-hat and Cochran's test, and warns when\n"
      "they disagree beyond their own error bars.\n"
      "--diagnostics FILE writes the per-beta table (beta, ess, acceptance, log_weight_variance,\n"
      "resampled) of the first run as CSV; --log-weights FILE the per-particle log-weights\n"
      "(per-run log Z with --replicates) as a float64 .npy.\n\n"
      "Examples:\n"
      "  logz estimate --model model.npz --method ais --chains 100 --betas 10000 --json\n"
      "  logz estimate --model model.npz --method raise --data fashion-mnist:test --chains 100\n"
      "  logz estimate --model small.npz --method exact\n"
      "  logz estimate --model ising.npz --method ais --betas 2000 --schedule linear --replicates 4\n"
      "  logz estimate --model potts.npz --method is --chains 100000 --diagnostics steps.csv\n"
      "  logz estimate --model ising.npz --method smc --chains 500 --schedule adaptive --runs 10\n"
      "  logz estimate --model ising.npz --method bridge --betas 50 --chains 8 --samples 200 --schedule linear\n"
      "  logz estimate --energy ring2d --method smc --chains 1000 --schedule adaptive --json\n"
      "  logz estimate --model grbm.npz --method ais --chains 200 --betas 1000 --base data:train.npy\n"
      "  logz estimate --model experts.npz --method smc --chains 500 --schedule adaptive --kernel mala --step-size 0.3");
  sub->add_option("--model", o->model, "Model file (.npz): RBM, Ising, Potts, or a continuous model (Gaussian, GRBM, experts, neural)")->type_name("PATH");
  sub->add_option("--energy", o->energy, "A built-in 2-D energy instead of --model: ring2d, mixture2d or banana2d")
      ->type_name("NAME");
  add_kernel_options(*sub, o->kernel, "--energy and continuous models");
  add_base_option(*sub, o->base);
  sub->add_option("--base-sigma", o->base_sigma, "--energy: the base is N(0, sigma^2 I), its normaliser included")
      ->capture_default_str();
  sub->add_option("--method", o->method, "exact, is, ais, raise, smc, bridge, ti or lis")->capture_default_str()->check(
      CLI::IsMember({"exact", "is", "ais", "raise", "smc", "bridge", "ti", "lis"}));
  add_log_z_options(*sub, o->log_z);
  sub->get_option("--chains")->description(
      "Draws (is), particles (ais; smc: per run), reverse chains (raise, one per data row), ladder chains "
      "(bridge, ti), runs (lis)");
  sub->get_option("--schedule")->description(
      "Spacing of the betas: sm (Salakhutdinov & Murray 2008), linear, geometric, sigmoid (Grosse et al. 2013), an "
      "explicit list:0,0.5,1, or adaptive (the betas of an adaptive SMC run at --cess)");
  sub->add_option("--sweeps", o->sweeps, "Gibbs sweeps (Ising / Potts) or kernel steps (--energy, continuous models) per move")
      ->capture_default_str()
      ->type_name("N");
  sub->add_option("--replicates", o->replicates, "Independent runs (seed, seed+1, ...), pooled and compared")
      ->capture_default_str()
      ->type_name("R");
  sub->add_option("--runs", o->runs, "smc: independent runs (their spread is the error bar)")
      ->capture_default_str()
      ->type_name("R");
  sub->add_option("--resampling", o->resampling, "smc: multinomial, systematic, stratified or residual")
      ->capture_default_str();
  sub->add_option("--ess-threshold", o->ess_threshold, "smc: resample when ESS < this x particles (0 never, 1 always)")
      ->capture_default_str();
  sub->add_option("--cess", o->cess, "--schedule adaptive: target conditional ESS / particles")->capture_default_str();
  sub->add_option("--burn-in", o->burn_in, "bridge, ti: moves at each beta before collecting")->capture_default_str();
  sub->add_option("--samples", o->samples, "bridge, ti: states collected per chain and beta")->capture_default_str();
  sub->add_option("--thin", o->thin, "bridge, ti: moves between collected states")->capture_default_str();
  sub->add_option("--quadrature", o->quadrature, "ti: trapezoid or simpson")->capture_default_str();
  sub->add_option("--chain-length", o->chain_length, "lis: states per distribution in each run")->capture_default_str();
  sub->add_option("--data", o->data,
                  "RBM: data (fashion-mnist:test or .npy) for the AIS base rate and the RAISE start rows; Ising / "
                  "Potts / continuous: .npy of start states for raise")
      ->type_name("SPEC");
  sub->add_option("--log-weights", o->log_weights, "Write the log-weights here (.npy, float64)")->type_name("PATH");
  sub->add_option("--diagnostics", o->diagnostics, "Write the per-beta table here (.csv)")->type_name("PATH");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_estimate);
}

}  // namespace logz::cli
