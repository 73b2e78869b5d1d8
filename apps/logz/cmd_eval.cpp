// `logz eval`: the held-out log-likelihood of data under any model file, −mean E(x) − log Z
// (E the free energy for RBMs), with log Z exact or estimated and the error bars carried
// through, per row (and per site for Ising / Potts) in --json: parse → io::load_model →
// api::evaluate → print. --log-z sandwich runs AIS and RAISE.
#include <fmt/format.h>

#include "common.hpp"
#include "logz/api/tasks.hpp"
#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/estimators/verdict.hpp"
#include "logz/io/model_file.hpp"

namespace logz::cli {

namespace {

constexpr std::string_view kCmd = "eval";

struct EvalOptions {
  CommonOptions common;
  EstimateFlags flags;
  std::string model, data, method = "ais", base_data;
  api::ContinuousKernelConfig kernel;  // continuous models
  std::string base = "auto";
  bool strict = false;
};

std::vector<double> values(const VectorD& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

nlohmann::json evaluation_json(const api::Evaluation& r, const api::EstimateConfig& c) {
  return {{"mean_log_likelihood", r.mean_log_likelihood},
          {"std_error", r.std_error},
          {"log_z", r.log_z.log_z},
          {"log_z_std_error", r.log_z.std_error},
          {"log_z_method", r.log_z.method},
          {"mean_" + r.energy_name, r.mean_energy},
          {r.energy_name + "_std_error", r.energy_std_error},
          {"rows", r.rows},
          {"log_z_estimate", estimate_json(r.log_z, c)}};
}

int run_eval(const EvalOptions& o) {
  const auto start = Clock::now();
  const bool sandwich = o.method == "sandwich";
  api::EstimateConfig ais = estimate_config(kCmd, o.flags);
  ais.method = sandwich ? "ais" : o.method;
  ais.validate(kCmd);
  api::EstimateConfig raise = ais;
  if (sandwich) raise.method = "raise";
  const Exec ex = make_exec(kCmd, o.common);

  const io::ModelFile model = io::load_model(o.model);
  check_arg(o.base_data.empty() || o.base == "auto", "{}: give --base data:PATH or --base-data PATH, not both", kCmd);
  check_arg(o.base_data.empty() || o.method != "raise",
            "{}: --base-data is used by --log-z ais or sandwich only (RAISE starts from --data)", kCmd);
  const api::Dataset data = api::load_dataset(o.data, model, "data", kCmd);
  std::optional<api::Dataset> base_data;
  api::EstimateInputs in;
  in.kernel = o.kernel;
  in.base = base_choice(kCmd, o.base);
  if (in.base == api::BaseChoice::data) base_data = api::load_dataset(o.base.substr(5), model, "base", kCmd);
  if (!o.base_data.empty()) base_data = api::load_dataset(o.base_data, model, "base_data", kCmd);
  if (base_data) in.base_data = &*base_data;

  ProgressBar obs(stderr, o.common.quiet);
  nlohmann::json j;
  api::Evaluation a = api::evaluate(model, data, ais, in, ex, obs, kCmd);
  const std::string energy_words = a.energy_name == "energy" ? "mean energy" : "mean free energy";
  if (!sandwich) {
    const std::string_view bound = o.method == "ais"     ? " (AIS: a stochastic upper estimate)"
                                   : o.method == "raise" ? " (RAISE: a stochastic lower, conservative estimate)"
                                                         : "";
    summary(o.common, fmt::format("mean log-likelihood = {} nats over {} rows{}\n  {}\n  {} = {}\n{}",
                                  plus_minus(a.mean_log_likelihood, a.std_error), a.rows, bound,
                                  estimate_text(a.log_z, ais), energy_words, plus_minus(a.mean_energy, a.energy_std_error),
                                  verdict_text(a.log_z)));
    j = evaluation_json(a, ais);
    if (a.per_site.size() > 0) j["per_site_log_likelihood"] = values(a.per_site);
    j["per_row_log_likelihood"] = values(a.per_row);
  } else {
    api::Evaluation r = api::evaluate(model, data, raise, in, ex, obs, kCmd);
    verdict::assess_sandwich(a.log_z, r.log_z);  // forward above reverse, or far below: log Z is between them
    for (const EstimateWarning& w : r.log_z.warnings) a.log_z.warn({"raise_" + w.name, w.message, w.advice});
    summary(o.common, fmt::format("test log-likelihood sandwich over {} rows:\n"
                                  "  RAISE (lower, conservative): {}\n"
                                  "  AIS   (upper estimate):      {}\n"
                                  "  AIS   {}\n  RAISE {}\nAIS {}\nRAISE {}",
                                  a.rows, plus_minus(r.mean_log_likelihood, r.std_error),
                                  plus_minus(a.mean_log_likelihood, a.std_error), estimate_text(a.log_z, ais),
                                  estimate_text(r.log_z, raise), verdict_text(a.log_z), verdict_text(r.log_z)));
    j = {{"ais", evaluation_json(a, ais)},
         {"raise", evaluation_json(r, raise)},
         {"rows", a.rows},
         {"mean_" + a.energy_name, a.mean_energy},
         {a.energy_name + "_std_error", a.energy_std_error}};
    if (a.per_site.size() > 0) j["per_site_log_likelihood"] = values(a.per_site);
  }
  if (o.common.json) {
    j.update(a.details);
    j.update({{"model", o.model}, {"data", o.data}, {"seconds", seconds_since(start)}});
    print_json(j);
  }
  return verdict_exit(a.log_z, o.strict);
}

}  // namespace

void add_eval(CLI::App& app, Action& action) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* sub = app.add_subcommand("eval", "Held-out log-likelihood of data under any model, with log Z exact or estimated");
  sub->footer(
      "log p(x) = -E(x) - log Z (RBM: -F(v) - log Z), averaged over the rows of --data. The\n"
      "standard error combines the spread of E over rows and the standard error of log Z:\n"
      "SE^2 = Var(E)/N + SE(log Z)^2 (the data and the estimator's random streams are independent).\n"
      "--log-z exact:    enumeration (RBM, GRBM), junction tree (Ising, Potts), closed form.\n"
      "--log-z ais:      AIS; log Z tends to be low, so the log-likelihood is an upper estimate.\n"
      "                  RBM base rate from --base-data, else the model's data_marginals, else uniform.\n"
      "--log-z raise:    reverse AIS started from --chains rows of --data; a lower, conservative\n"
      "                  estimate of the log-likelihood.\n"
      "--log-z sandwich: both; the JSON has {\"ais\": {...}, \"raise\": {...}}.\n"
      "--log-z is, smc, bridge, ti, lis: the other estimators of `logz estimate`, with its options.\n"
      "--method is another name for --log-z.\n\n"
      "Data: RBM: fashion-mnist:test or a .npy of 0/1 rows; Ising: a .npy of spins in the model's\n"
      "convention; Potts: a .npy of states 0..q-1 or a FASTA / A2M alignment read with the model's\n"
      "alphabet; continuous models: a float .npy, one sample per row. --json adds the log-likelihood\n"
      "of every row and, for Ising / Potts, each site's mean conditional log-likelihood.\n"
      "Continuous models run the estimators on the geometric path from the Gaussian --base (auto,\n"
      "standard, fit or data:X.npy; --base-data X.npy is data:X.npy) with --kernel moves, as in\n"
      "`logz estimate`. A model that cannot be normalised is refused (exit 65).\n\n"
      "Examples:\n"
      "  logz eval --model model.npz --data fashion-mnist:test --log-z sandwich --json\n"
      "  logz eval --model small.npz --data test.npy --log-z exact\n"
      "  logz eval --model potts.npz --data test.a2m --log-z ais --betas 2000 --json\n"
      "  logz eval --model grbm.npz --data test.npy --method ais --chains 200 --betas 1000 --base-data train.npy --json");
  sub->add_option("--model", o->model, "Model file (.npz) of any kind")->required()->type_name("PATH");
  sub->add_option("--data", o->data, "Data to evaluate (see below)")->required()->type_name("SPEC");
  std::vector<std::string> methods{"exact", "sandwich"};
  for (const api::EstimatorInfo& e : api::estimators()) methods.push_back(e.name);
  sub->add_option("--log-z,--method", o->method, "How to get log Z: exact, sandwich (ais and raise) or an estimator")
      ->capture_default_str()
      ->check(CLI::IsMember(methods));
  add_estimate_options(*sub, o->flags, {"method"});
  sub->add_option("--base-data", o->base_data,
                  "Data the base is fitted to (RBM: the AIS base rate; continuous: the Gaussian base)")
      ->type_name("SPEC");
  add_kernel_options(*sub, o->kernel, "Continuous models");
  add_base_option(*sub, o->base);
  add_strict_option(*sub, o->strict);
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_eval);
}

}  // namespace logz::cli
