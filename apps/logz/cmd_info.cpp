// `logz info`: what a model file holds — sizes, dtype, data_marginals, parameter ranges;
// for Ising / Potts files, sites, states, edges and whether exact log Z is feasible.
#include <fmt/format.h>

#include <cmath>

#include "common.hpp"
#include "logz/api/mrf_tasks.hpp"
#include "logz/exact/junction_tree.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/io/rbm_file.hpp"

namespace logz::cli {
namespace {

constexpr std::string_view kCmd = "info";

struct InfoOptions {
  CommonOptions common;
  std::string model;
};

struct Range {
  double min, max, mean, std;
};

template <class M>
Range range_of(const M& m) {
  const double mean = m.mean();
  const double var = (m.array() - mean).square().mean();
  return {m.minCoeff(), m.maxCoeff(), mean, std::sqrt(var)};
}

int run_info_mrf(const InfoOptions& o) {
  const api::MrfModel mm = api::load_mrf_model(o.model);
  const Potts p = std::holds_alternative<Potts>(mm) ? std::get<Potts>(mm) : Potts::from_ising(std::get<Ising>(mm));
  std::string exact;
  bool feasible = true;
  std::size_t treewidth = 0;
  try {
    const JunctionTreeResult plan = junction_tree_plan(p, JunctionTreeOptions{});
    treewidth = plan.treewidth;
    exact = fmt::format("feasible (junction tree of treewidth {}, {} order, largest table {} entries)", plan.treewidth,
                        plan.order_method, plan.largest_table_entries);
  } catch (const Error& e) {
    feasible = false;
    exact = fmt::format("infeasible: {}", e.what());
  }
  const std::string kind = api::mrf_kind(mm);
  const VectorD theta = std::visit([](const auto& m) { return m.parameters(); }, mm);
  const auto nf = Eigen::Index(p.n_sites() * (kind == "ising" ? 1 : p.num_states()));
  const std::vector<std::pair<std::string, Range>> ranges = {
      {"fields", range_of(theta.head(nf))},
      {"couplings", theta.size() > nf ? range_of(theta.tail(theta.size() - nf)) : Range{0, 0, 0, 0}}};
  std::string text = fmt::format("{}\n  model            {}\n  sites            {}\n  states           {}\n  edges            {}{}\n"
                                 "  parameters       {}\n  exact log Z      {}\n",
                                 o.model, kind == "ising" ? "Ising" : "Potts", p.n_sites(), p.num_states(), p.n_edges(),
                                 p.is_dense() ? " (every pair)" : "", theta.size(), exact);
  if (const auto* is = std::get_if<Ising>(&mm))
    text += fmt::format("  spins            {}\n", is->convention() == SpinConvention::zero_one ? "0/1" : "-1/+1");
  text += fmt::format("  {:<16} {:>12} {:>12} {:>12} {:>12}\n", "array", "min", "max", "mean", "std");
  for (const auto& [name, r] : ranges)
    text += fmt::format("  {:<16} {:>12.5g} {:>12.5g} {:>12.5g} {:>12.5g}\n", name, r.min, r.max, r.mean, r.std);
  text.pop_back();
  summary(o.common, text);
  if (o.common.json) {
    nlohmann::json jr = nlohmann::json::object();
    for (const auto& [name, r] : ranges) jr[name] = {{"min", r.min}, {"max", r.max}, {"mean", r.mean}, {"std", r.std}};
    print_json({{"model", o.model},
                {"type", kind},
                {"sites", p.n_sites()},
                {"q", p.num_states()},
                {"edges", p.n_edges()},
                {"num_parameters", theta.size()},
                {"exact_log_z_feasible", feasible},
                {"treewidth", feasible ? nlohmann::json(treewidth) : nlohmann::json(nullptr)},
                {"ranges", jr}});
  }
  return 0;
}

int run_info(const InfoOptions& o) {
  (void)make_exec(kCmd, o.common);
  if (api::is_mrf_file(o.model)) return run_info_mrf(o);
  const io::RbmFile f = io::load_rbm(o.model);
  const RbmD& m = f.model;
  const std::size_t smaller = std::min(m.n_visible(), m.n_hidden());
  const bool exact = smaller <= max_enumerated_units;

  std::vector<std::pair<std::string, Range>> ranges = {{"weights", range_of(m.weights)},
                                                      {"visible_bias", range_of(m.visible_bias)},
                                                      {"hidden_bias", range_of(m.hidden_bias)}};
  if (f.data_marginals) ranges.emplace_back("data_marginals", range_of(*f.data_marginals));

  std::string text = fmt::format(
      "{}\n  model            binary RBM\n  n_visible        {}\n  n_hidden         {}\n  parameters       {}\n"
      "  dtype            {}\n  data_marginals   {}\n  exact log Z      {}\n",
      o.model, m.n_visible(), m.n_hidden(), m.num_parameters(), io::dtype_name(f.dtype),
      f.data_marginals ? "present (AIS base rate)" : "absent (AIS uses a uniform base unless given --data)",
      exact ? fmt::format("feasible (enumerates {} units: 2^{} states)", smaller, smaller)
            : fmt::format("infeasible (smaller layer has {} > {} units); use AIS / RAISE", smaller, max_enumerated_units));
  text += fmt::format("  {:<16} {:>12} {:>12} {:>12} {:>12}\n", "array", "min", "max", "mean", "std");
  for (const auto& [name, r] : ranges)
    text += fmt::format("  {:<16} {:>12.5g} {:>12.5g} {:>12.5g} {:>12.5g}\n", name, r.min, r.max, r.mean, r.std);
  std::vector<std::string> extra;
  for (const auto& [name, a] : f.extra) {
    extra.push_back(name);
    text += fmt::format("  extra array      {} {} {}\n", name, io::dtype_name(a.dtype), a.shape_string());
  }
  text.pop_back();
  summary(o.common, text);

  if (o.common.json) {
    nlohmann::json jr = nlohmann::json::object();
    for (const auto& [name, r] : ranges) jr[name] = {{"min", r.min}, {"max", r.max}, {"mean", r.mean}, {"std", r.std}};
    nlohmann::json jx = nlohmann::json::object();
    for (const auto& [name, a] : f.extra) jx[name] = {{"dtype", io::dtype_name(a.dtype)}, {"shape", a.shape}};
    print_json({{"model", o.model},
                {"type", "rbm"},
                {"n_visible", m.n_visible()},
                {"n_hidden", m.n_hidden()},
                {"num_parameters", m.num_parameters()},
                {"dtype", io::dtype_name(f.dtype)},
                {"data_marginals", f.data_marginals.has_value()},
                {"exact_log_z_feasible", exact},
                {"ranges", jr},
                {"extra", jx}});
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
      "the ranges of the fields and couplings.\n\n"
      "Examples:\n"
      "  logz info model.npz\n"
      "  logz info model.npz --json\n"
      "  logz info dhfr.npz");
  sub->add_option("model", o->model, "Model file (.npz): RBM, Ising or Potts")->required()->type_name("MODEL");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_info);
}

}  // namespace logz::cli
