// `logz info`: what a model file holds — sizes, dtype, data_marginals, parameter ranges.
#include <fmt/format.h>

#include <cmath>

#include "common.hpp"
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

int run_info(const InfoOptions& o) {
  (void)make_exec(kCmd, o.common);
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
      "log Z is feasible, min / max / mean / std of each array, and any extra arrays.\n\n"
      "Examples:\n"
      "  logz info model.npz\n"
      "  logz info model.npz --json");
  sub->add_option("model", o->model, "RBM model file (.npz)")->required()->type_name("MODEL");
  add_common_options(*sub, o->common);
  on_parsed(*sub, o, action, run_info);
}

}  // namespace logz::cli
