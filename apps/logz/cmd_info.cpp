// `logz info`: what a model file of any kind holds (api::describe): sizes, parameter ranges,
// extras; whether exact log Z is feasible; for continuous models, whether the model is
// normalisable (and why) and log Z where it is cheap.
#include <fmt/format.h>

#include <string>

#include "common.hpp"
#include "logz/api/tasks.hpp"
#include "logz/io/model_file.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "info";

struct InfoOptions {
  CommonOptions common;
  std::string model;
};

int run_info(const InfoOptions& o) {
  const Exec ex = make_exec(kCmd, o.common);
  check_arg(!o.model.empty(), "{}: give the model file (as MODEL or --model)", kCmd);
  const io::ModelFile model = io::load_model(o.model);
  const api::Description d = api::describe(model, ex);
  std::string text = o.model + "\n" + d.text;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  summary(o.common, text);
  if (o.common.json) {
    nlohmann::json j = {{"model", o.model}};
    j.update(d.json);
    print_json(j);
  }
  return 0;
}

}  // namespace

void add_info(CLI::App& app, Action& action) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* sub = app.add_subcommand("info", "Show what a model file holds: sizes, dtype, parameter ranges");
  sub->footer(
      "Reads and validates an RBM model file (.npz with weights [n_visible, n_hidden],\n"
      "visible_bias, hidden_bias; optional data_marginals) and prints its sizes, the dtype\n"
      "of the weights, whether data_marginals (the AIS base rate) is present, whether exact\n"
      "log Z is feasible, min / max / mean / std of each array, and any extra arrays.\n"
      "For an Ising or Potts file (fields, couplings): sites, states, edges, the spin\n"
      "convention, whether the junction tree can give exact log Z (and its treewidth), and\n"
      "the ranges of the fields and couplings.\n"
      "For a continuous model file (gaussian, grbm, experts, neural; see docs/file-formats.md):\n"
      "kind, dimension, number of parameters, whether the model is normalisable and why,\n"
      "log Z where it is cheap (Gaussian and complete Student-t experts: closed form; GRBM:\n"
      "enumeration of up to 20 hidden units), the parameter ranges and extra arrays.\n\n"
      "Examples:\n"
      "  logz info model.npz\n"
      "  logz info model.npz --json\n"
      "  logz info dhfr.npz\n"
      "  logz info --model grbm.npz --json");
  sub->add_option("model,--model", o->model, "Model file (.npz): RBM, Ising, Potts or continuous")
      ->required()
      ->type_name("MODEL");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_info);
}

}  // namespace logz::cli
