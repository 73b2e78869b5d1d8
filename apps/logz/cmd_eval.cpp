// `logz eval`: mean log-likelihood of data under an RBM, -mean F(v) - log Z, with log Z
// exact or estimated, error bars carried through (api::mean_log_likelihood).
#include <fmt/format.h>

#include "common.hpp"
#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"
#include "logz/io/rbm_file.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "eval";

struct EvalOptions {
  CommonOptions common;
  LogZOptions log_z;
  std::string model, data, method = "ais", base_data;
};

struct Evaluated {
  LogZEstimate log_z;
  api::LikelihoodSummary ll;
  nlohmann::json json;
};

Evaluated evaluate(const io::RbmFile& f, const MatrixU8& data, const MatrixU8& base_data, const api::EstimateConfig& c,
                   const Exec& ex, Observer& obs) {
  Evaluated r;
  r.log_z = api::estimate_log_z(f.model, c, c.method == "raise" ? data : base_data, f.data_marginals, ex, obs);
  r.ll = api::mean_log_likelihood(f.model, data, r.log_z, ex);
  r.json = {{"mean_log_likelihood", r.ll.mean_log_likelihood},
            {"std_error", r.ll.std_error},
            {"log_z", r.log_z.log_z},
            {"log_z_std_error", r.log_z.std_error},
            {"log_z_method", r.log_z.method},
            {"mean_free_energy", r.ll.mean_free_energy},
            {"free_energy_std_error", r.ll.free_energy_std_error},
            {"rows", r.ll.rows},
            {"log_z_estimate", estimate_json(r.log_z, c)}};
  return r;
}

std::string evaluated_text(const Evaluated& r, const api::EstimateConfig& c, std::string_view bound) {
  return fmt::format("mean log-likelihood = {} nats over {} rows{}\n  {}\n  mean free energy = {}",
                     plus_minus(r.ll.mean_log_likelihood, r.ll.std_error), r.ll.rows, bound, estimate_text(r.log_z, c),
                     plus_minus(r.ll.mean_free_energy, r.ll.free_energy_std_error));
}

int run_eval(const EvalOptions& o) {
  const auto start = Clock::now();
  const bool sandwich = o.method == "sandwich";
  const api::EstimateConfig ais = log_z_config(kCmd, o.log_z, sandwich ? "ais" : o.method);
  const api::EstimateConfig raise = sandwich ? log_z_config(kCmd, o.log_z, "raise") : ais;
  const Exec ex = make_exec(kCmd, o.common);
  check_arg(o.base_data.empty() || (o.method == "ais" || sandwich),
            "{}: --base-data is used by --log-z ais or sandwich only (RAISE starts from --data)", kCmd);

  const io::RbmFile f = io::load_rbm(o.model);
  const MatrixU8 data = load_data(kCmd, "--data", o.data, f.model.n_visible());
  const MatrixU8 base = o.base_data.empty() ? MatrixU8() : load_data(kCmd, "--base-data", o.base_data, f.model.n_visible());
  if (o.method == "raise" || sandwich)
    check_arg(std::size_t(data.rows()) >= raise.chains,
              "{}: --chains {} exceeds the {} rows of --data {} (RAISE starts each chain from a different row)", kCmd,
              raise.chains, data.rows(), o.data);

  ProgressBar obs(stderr, o.common.quiet);
  nlohmann::json j;
  if (!sandwich) {
    const Evaluated r = evaluate(f, data, base, ais, ex, obs);
    const std::string_view bound = o.method == "ais"     ? " (AIS: a stochastic upper estimate)"
                                   : o.method == "raise" ? " (RAISE: a stochastic lower, conservative estimate)"
                                                         : "";
    summary(o.common, evaluated_text(r, ais, bound));
    j = r.json;
  } else {
    const Evaluated a = evaluate(f, data, base, ais, ex, obs);
    const Evaluated r = evaluate(f, data, base, raise, ex, obs);
    summary(o.common,
            fmt::format("test log-likelihood sandwich over {} rows:\n"
                        "  RAISE (lower, conservative): {}\n"
                        "  AIS   (upper estimate):      {}\n"
                        "  AIS   {}\n  RAISE {}",
                        a.ll.rows, plus_minus(r.ll.mean_log_likelihood, r.ll.std_error),
                        plus_minus(a.ll.mean_log_likelihood, a.ll.std_error), estimate_text(a.log_z, ais),
                        estimate_text(r.log_z, raise)));
    j = {{"ais", a.json},
         {"raise", r.json},
         {"rows", a.ll.rows},
         {"mean_free_energy", a.ll.mean_free_energy},
         {"free_energy_std_error", a.ll.free_energy_std_error}};
  }
  if (o.common.json) {
    j["model"] = o.model;
    j["data"] = o.data;
    j["seconds"] = seconds_since(start);
    print_json(j);
  }
  return 0;
}

}  // namespace

void add_eval(CLI::App& app, Action& action) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* sub = app.add_subcommand("eval", "Mean log-likelihood of data under an RBM, with log Z exact or estimated");
  sub->footer(
      "log p(v) = -F(v) - log Z, averaged over the rows of --data. The standard error\n"
      "combines the spread of -F(v) over rows and the standard error of log Z.\n"
      "--log-z exact:    enumeration (a layer with at most 32 units).\n"
      "--log-z ais:      AIS; log Z tends to be low, so the log-likelihood is an upper estimate.\n"
      "                  Base rate from --base-data, else the model's data_marginals, else uniform.\n"
      "--log-z raise:    reverse AIS started from --chains rows of --data; a lower, conservative\n"
      "                  estimate of the log-likelihood.\n"
      "--log-z sandwich: both; the JSON has {\"ais\": {...}, \"raise\": {...}}.\n\n"
      "Examples:\n"
      "  logz eval --model model.npz --data fashion-mnist:test --log-z sandwich --json\n"
      "  logz eval --model small.npz --data test.npy --log-z exact");
  sub->add_option("--model", o->model, "RBM model file (.npz)")->required()->type_name("PATH");
  sub->add_option("--data", o->data, "Data to evaluate: fashion-mnist:test or a .npy file of 0/1 rows")
      ->required()
      ->type_name("SPEC");
  sub->add_option("--log-z", o->method, "How to get log Z: exact, ais, raise or sandwich (ais and raise)")
      ->capture_default_str()
      ->check(CLI::IsMember({"exact", "ais", "raise", "sandwich"}));
  add_log_z_options(*sub, o->log_z);
  sub->add_option("--base-data", o->base_data, "Data whose means set the AIS base rate (ais, sandwich)")->type_name("SPEC");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_eval);
}

}  // namespace logz::cli
