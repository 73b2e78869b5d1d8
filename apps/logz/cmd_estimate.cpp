// `logz estimate`: log Z of an RBM by AIS, RAISE or enumeration (api::estimate_log_z), or of
// an Ising / Potts model by AIS or the junction tree (api::mrf_ais_log_z).
#include <fmt/format.h>

#include "common.hpp"
#include "logz/api/mrf_tasks.hpp"
#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/io/npy.hpp"
#include "logz/io/rbm_file.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "estimate";

struct EstimateOptions {
  CommonOptions common;
  LogZOptions log_z;
  std::string model, method = "ais", data, log_weights;
};

int run_estimate_mrf(const EstimateOptions& o, const api::EstimateConfig& c, const Exec& ex) {
  check_arg(o.method != "raise", "{}: --method raise is for RBMs; use ais or exact for an Ising / Potts model", kCmd);
  check_arg(o.data.empty(), "{}: --data is for RBMs (AIS base rate, RAISE starts); an Ising / Potts AIS starts uniform",
            kCmd);
  const api::MrfModel m = api::load_mrf_model(o.model);
  ProgressBar obs(stderr, o.common.quiet);
  LogZEstimate e;
  if (o.method == "exact") {
    const auto start = Clock::now();
    e.method = "exact";
    e.log_z = api::mrf_exact_log_z(m, ex).log_z;
    e.std_error = 0;
    e.error_method = "exact (junction tree)";
    e.seconds = seconds_since(start);
  } else {
    e = api::mrf_ais_log_z(m, c.chains, c.betas, c.schedule, c.seed, ex, obs);
  }
  if (!o.log_weights.empty()) io::write_npy(o.log_weights, io::Array::from_values<double>({e.log_weights.size()}, e.log_weights));
  std::string text = estimate_text(e, c);
  if (e.method == "ais") text += "\n(AIS: log Z is a stochastic lower bound; E[Z-hat] = Z)";
  summary(o.common, text);
  if (o.common.json) {
    nlohmann::json j = estimate_json(e, c);
    j["model"] = o.model;
    j["kind"] = api::mrf_kind(m);
    if (!o.log_weights.empty()) j["log_weights_file"] = o.log_weights;
    print_json(j);
  }
  return 0;
}

int run_estimate(const EstimateOptions& o) {
  const api::EstimateConfig c = log_z_config(kCmd, o.log_z, o.method);
  const Exec ex = make_exec(kCmd, o.common);
  if (api::is_mrf_file(o.model)) {
    check_arg(o.method != "exact" || o.log_weights.empty(),
              "{}: --log-weights needs --method ais or raise (exact has no weights)", kCmd);
    if (!o.log_weights.empty()) check_output_path(kCmd, "--log-weights", o.log_weights);
    return run_estimate_mrf(o, c, ex);
  }
  check_arg(o.method != "raise" || !o.data.empty(),
            "{}: --method raise needs --data (RAISE starts one reverse chain from each of --chains data rows)", kCmd);
  check_arg(o.method != "exact" || o.log_weights.empty(), "{}: --log-weights needs --method ais or raise (exact has no weights)",
            kCmd);
  if (!o.log_weights.empty()) check_output_path(kCmd, "--log-weights", o.log_weights);

  const io::RbmFile f = io::load_rbm(o.model);
  const MatrixU8 data = o.data.empty() ? MatrixU8() : load_data(kCmd, "--data", o.data, f.model.n_visible());
  check_arg(o.method != "raise" || std::size_t(data.rows()) >= c.chains,
            "{}: --chains {} exceeds the {} rows of --data {} (RAISE starts each chain from a different row)", kCmd,
            c.chains, data.rows(), o.data);

  ProgressBar obs(stderr, o.common.quiet);
  const LogZEstimate e = api::estimate_log_z(f.model, c, data, f.data_marginals, ex, obs);
  if (!o.log_weights.empty()) io::write_npy(o.log_weights, io::Array::from_values<double>({e.log_weights.size()}, e.log_weights));

  std::string text = estimate_text(e, c);
  if (e.method == "ais") text += "\n(AIS: log Z is a stochastic lower bound; E[Z-hat] = Z)";
  if (e.method == "raise") text += "\n(RAISE: log Z is a stochastic upper bound)";
  summary(o.common, text);
  if (o.common.json) {
    nlohmann::json j = estimate_json(e, c);
    j["model"] = o.model;
    j["data"] = o.data.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.data);
    if (!o.log_weights.empty()) j["log_weights_file"] = o.log_weights;
    print_json(j);
  }
  return 0;
}

}  // namespace

void add_estimate(CLI::App& app, Action& action) {
  auto o = std::make_shared<EstimateOptions>();
  CLI::App* sub = app.add_subcommand("estimate", "Estimate log Z with an error bar: RBM (AIS, RAISE, exact), Ising / Potts (AIS, exact)");
  sub->footer(
      "ais: annealed importance sampling (Neal 2001) from a base-rate RBM along the path of\n"
      "  Salakhutdinov & Murray (2008). The base rate is the logit of the smoothed --data\n"
      "  means if --data is given, else the model file's data_marginals, else uniform.\n"
      "  E[Z-hat] = Z, so log Z-hat tends to sit below log Z: a stochastic lower bound.\n"
      "raise: reverse AIS started from --data rows (Burda, Grosse & Salakhutdinov 2015);\n"
      "  a stochastic upper bound on log Z. Needs --data. Together with ais: a sandwich.\n"
      "exact: enumeration of the smaller layer (at most 32 units).\n"
      "std_error is the delta-method standard error of the weights (ais) or over chains\n"
      "(raise); ess is Kish's effective sample size. --log-weights writes the per-chain\n"
      "log-weights as a float64 .npy to recompute anything.\n"
      "Ising / Potts model files (fields, couplings): ais anneals p_beta ~ exp(-beta E) from\n"
      "the uniform distribution with one Gibbs sweep per beta; exact is the junction tree.\n\n"
      "Examples:\n"
      "  logz estimate --model model.npz --method ais --chains 100 --betas 10000 --json\n"
      "  logz estimate --model model.npz --method raise --data fashion-mnist:test --chains 100\n"
      "  logz estimate --model small.npz --method exact\n"
      "  logz estimate --model potts.npz --method ais --chains 200 --betas 2000 --schedule linear");
  sub->add_option("--model", o->model, "Model file (.npz): RBM, Ising or Potts")->required()->type_name("PATH");
  sub->add_option("--method", o->method, "ais, raise or exact")->capture_default_str()->check(
      CLI::IsMember({"ais", "raise", "exact"}));
  add_log_z_options(*sub, o->log_z);
  sub->add_option("--data", o->data, "Data (fashion-mnist:test or .npy): AIS base rate; RAISE start rows (required)")
      ->type_name("SPEC");
  sub->add_option("--log-weights", o->log_weights, "Write the per-chain log-weights here (.npy, float64)")->type_name("PATH");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_estimate);
}

}  // namespace logz::cli
