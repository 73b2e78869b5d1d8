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
  CLI::App* sub = app.add_subcommand("info", "Show what a model file of any kind holds: sizes, parameter ranges, exact log Z feasibility");
  sub->footer(
      "Reads a model file of any kind (io::load_model: the logz_kind marker, or the arrays of a\n"
      "file saved by NumPy or PyTorch, C or Fortran order) and prints what it holds:\n"
      "RBM: sizes, the dtype of the weights, whether data_marginals (the AIS base rate) is\n"
      "present, whether exact log Z is feasible. Ising / Potts: sites, states, edges, the spin\n"
      "convention or alphabet, whether the junction tree can give exact log Z (and its treewidth).\n"
      "A continuous model file (gaussian, grbm, experts, neural; docs/file-formats.md): dimension,\n"
      "whether the model is normalisable and why, log Z where it is cheap (Gaussian and complete\n"
      "Student-t experts: closed form; GRBM: enumeration of up to 20 hidden units).\n"
      "Every kind: min / max / mean / std of each parameter array, and any extra arrays.\n\n"
      "Examples:\n"
      "  logz info model.npz\n"
      "  logz info model.npz --json\n"
      "  logz info dhfr.npz\n"
      "  logz info --model grbm.npz --json");
  sub->add_option("model,--model", o->model, "Model file (.npz) of any kind: RBM, GRBM, Ising, Potts, Gaussian, experts, neural")
      ->required()
      ->type_name("MODEL");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_info);
}

}  // namespace logz::cli
