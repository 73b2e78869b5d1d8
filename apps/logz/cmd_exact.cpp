// `logz exact`: exact log Z of any model file that has an exact method (RBM: enumeration of
// the smaller layer; Ising / Potts: junction tree; Gaussian and complete Student-t experts:
// closed form; GRBM: the hidden layer enumerated): parse → io::load_model →
// api::exact_log_z → print.
#include <fmt/format.h>

#include "common.hpp"
#include "logz/api/tasks.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/model_file.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "exact";

struct ExactOptions {
  CommonOptions common;
  std::string model;
};

int run_exact(const ExactOptions& o) {
  const Exec ex = make_exec(kCmd, o.common);
  const io::ModelFile model = io::load_model(o.model);
  const api::ExactResult r = api::exact_log_z(model, ex);
  summary(o.common, fmt::format("log Z = {:.10g}  ({}, in {:.3f} s)", r.log_z, r.how, r.seconds));
  if (o.common.json) {
    nlohmann::json j = {{"model", o.model},
                        {"kind", kind_name(kind_of(model.model))},
                        {"log_z", r.log_z},
                        {"method", r.how},
                        {"seconds", r.seconds}};
    j.update(r.details);
    print_json(j);
  }
  return 0;
}

}  // namespace

void add_exact(CLI::App& app, Action& action) {
  auto o = std::make_shared<ExactOptions>();
  CLI::App* sub = app.add_subcommand("exact", "Exact log Z of any model that has an exact method");
  sub->footer(fmt::format(
      "RBM: sums the smaller layer's 2^n states and the other layer analytically:\n"
      "  log Z = log sum_h exp(c.h + sum_i softplus(b_i + (W h)_i)).\n"
      "Needs a layer with at most {} units; about 25 units take seconds, each extra unit\n"
      "doubles the time. The result is the same for any --threads.\n"
      "Ising or Potts: a junction tree (variable elimination in a min-fill or grid-following\n"
      "order): exact for any graph whose largest clique table has at most 2^26 entries; a\n"
      "wider one is refused with the treewidth found.\n"
      "Gaussian-Bernoulli RBM: the hidden layer enumerated (at most 30 hidden units).\n"
      "Gaussian, and Student-t experts with as many filters as dimensions and no quadratic\n"
      "term: closed form. A neural energy has none: use logz estimate.\n\n"
      "Examples:\n"
      "  logz exact --model small.npz\n"
      "  logz exact --model small.npz --json\n"
      "  logz exact --model ising.npz\n"
      "  logz exact --model grbm.npz",
      max_enumerated_units));
  sub->add_option("--model", o->model, "Model file (.npz) of any kind: RBM, GRBM, Ising, Potts, Gaussian, experts")
      ->required()
      ->type_name("PATH");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_exact);
}

}  // namespace logz::cli
