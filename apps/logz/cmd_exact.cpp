// `logz exact`: exact log Z of an RBM by enumerating its smaller layer.
#include <fmt/format.h>

#include "common.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/rbm_file.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "exact";

struct ExactOptions {
  CommonOptions common;
  std::string model;
};

int run_exact(const ExactOptions& o) {
  const Exec ex = make_exec(kCmd, o.common);
  const io::RbmFile f = io::load_rbm(o.model);
  const auto start = Clock::now();
  const ExactLogZ r = rbm_exact_log_z(f.model, ex);
  const double seconds = seconds_since(start);
  const char* layer = r.enumerated_hidden ? "hidden" : "visible";
  summary(o.common, fmt::format("log Z = {:.10g}  (exact: enumerated the {} {} units, 2^{} states, in {:.3f} s)", r.log_z,
                                r.enumerated_units, layer, r.enumerated_units, seconds));
  if (o.common.json)
    print_json({{"model", o.model},
                {"log_z", r.log_z},
                {"enumerated_units", r.enumerated_units},
                {"enumerated_layer", layer},
                {"n_visible", f.model.n_visible()},
                {"n_hidden", f.model.n_hidden()},
                {"seconds", seconds}});
  return 0;
}

}  // namespace

void add_exact(CLI::App& app, Action& action) {
  auto o = std::make_shared<ExactOptions>();
  CLI::App* sub = app.add_subcommand("exact", "Exact log Z of an RBM by enumeration (smaller layer <= 32 units)");
  sub->footer(fmt::format(
      "Sums the smaller layer's 2^n states and the other layer analytically:\n"
      "  log Z = log sum_h exp(c.h + sum_i softplus(b_i + (W h)_i)).\n"
      "Needs a layer with at most {} units; about 25 units take seconds, each extra unit\n"
      "doubles the time. The result is the same for any --threads.\n\n"
      "Examples:\n"
      "  logz exact --model small.npz\n"
      "  logz exact --model small.npz --json",
      max_enumerated_units));
  sub->add_option("--model", o->model, "RBM model file (.npz: weights, visible_bias, hidden_bias)")
      ->required()
      ->type_name("PATH");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_exact);
}

}  // namespace logz::cli
