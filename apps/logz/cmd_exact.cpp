// `logz exact`: exact log Z of an RBM by enumerating its smaller layer, or of an Ising /
// Potts model by the junction tree.
#include <fmt/format.h>

#include "common.hpp"
#include "logz/api/mrf_tasks.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/rbm_file.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "exact";

struct ExactOptions {
  CommonOptions common;
  std::string model;
};

int run_exact_mrf(const ExactOptions& o, const Exec& ex) {
  const api::MrfModel m = api::load_mrf_model(o.model);
  const auto start = Clock::now();
  const JunctionTreeResult r = api::mrf_exact_log_z(m, ex);
  const double seconds = seconds_since(start);
  summary(o.common, fmt::format("log Z = {:.10g}  (exact: junction tree of treewidth {} ({} order), {} sites, q = {}, "
                                "peak tables {:.1f} MB, in {:.3f} s)",
                                r.log_z, r.treewidth, r.order_method, api::mrf_sites(m), api::mrf_states(m),
                                double(r.peak_table_bytes) / 1e6, seconds));
  if (o.common.json)
    print_json({{"model", o.model},
                {"kind", api::mrf_kind(m)},
                {"log_z", r.log_z},
                {"method", "junction tree"},
                {"treewidth", r.treewidth},
                {"order", r.order_method},
                {"peak_table_bytes", r.peak_table_bytes},
                {"sites", api::mrf_sites(m)},
                {"q", api::mrf_states(m)},
                {"seconds", seconds}});
  return 0;
}

int run_exact(const ExactOptions& o) {
  const Exec ex = make_exec(kCmd, o.common);
  if (api::is_mrf_file(o.model)) return run_exact_mrf(o, ex);
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
  CLI::App* sub = app.add_subcommand("exact", "Exact log Z: RBM by enumeration, Ising / Potts by junction tree");
  sub->footer(fmt::format(
      "Sums the smaller layer's 2^n states and the other layer analytically:\n"
      "  log Z = log sum_h exp(c.h + sum_i softplus(b_i + (W h)_i)).\n"
      "Needs a layer with at most {} units; about 25 units take seconds, each extra unit\n"
      "doubles the time. The result is the same for any --threads.\n"
      "For an Ising or Potts model file (fields, couplings) log Z comes from a junction tree\n"
      "(variable elimination in a min-fill or grid-following order): exact for any graph\n"
      "whose largest clique table has at most 2^26 entries; a wider one is refused with\n"
      "the treewidth found.\n\n"
      "Examples:\n"
      "  logz exact --model small.npz\n"
      "  logz exact --model small.npz --json\n"
      "  logz exact --model ising.npz",
      max_enumerated_units));
  sub->add_option("--model", o->model, "Model file: RBM (.npz: weights, visible_bias, hidden_bias) or Ising / Potts (fields, couplings)")
      ->required()
      ->type_name("PATH");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_exact);
}

}  // namespace logz::cli
