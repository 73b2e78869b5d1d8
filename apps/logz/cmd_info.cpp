// `logz info`: what a model file holds — sizes, dtype, data_marginals, parameter ranges;
// for Ising / Potts files, sites, states, edges and whether exact log Z is feasible; for
// continuous model files, kind, dimension, whether the model is normalisable (and why)
// and log Z where it is cheap (closed forms, GRBM enumeration of up to 20 hidden units).
#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "common.hpp"
#include "logz/api/mrf_tasks.hpp"
#include "logz/exact/junction_tree.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/exact/grbm_exact.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/io/continuous_file.hpp"
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

/// What a continuous model file holds, in words and numbers.
struct ContinuousInfo {
  std::string model;                 ///< human name of the kind
  std::size_t num_parameters = 0;
  std::optional<bool> normalisable;  ///< nullopt: not known
  std::string normalisable_reason;
  std::optional<double> log_z;
  std::string log_z_method;          ///< "closed form", "exact enumeration", or why there is none
  std::vector<std::pair<std::string, Range>> ranges;
};

/// Largest hidden layer that `info` enumerates for a GRBM's log Z (2^20 terms: instant).
constexpr std::size_t kInfoMaxGrbmHidden = 20;

ContinuousInfo describe(const Gaussian& g, const Exec&) {
  const std::size_t d = g.dimension();
  return {"Gaussian",
          d + d * (d + 1) / 2,
          true,
          "the precision matrix is positive definite",
          g.log_partition(),
          "closed form",
          {{"mean", range_of(g.mean())}, {"precision", range_of(g.precision())}}};
}

ContinuousInfo describe(const GaussianRbm& m, const Exec& ex) {
  ContinuousInfo c{"Gaussian-Bernoulli RBM",
                   m.num_parameters(),
                   true,
                   "Gaussian in v for each hidden state, every visible sigma > 0",
                   std::nullopt,
                   "",
                   {{"weights", range_of(m.weights)},
                    {"visible_bias", range_of(m.visible_bias)},
                    {"hidden_bias", range_of(m.hidden_bias)},
                    {"visible_sigma", range_of(m.visible_sigma)}}};
  if (m.n_hidden() <= kInfoMaxGrbmHidden) {
    c.log_z = grbm_exact_log_z(m, ex);
    c.log_z_method = fmt::format("exact enumeration of 2^{} hidden states", m.n_hidden());
  } else {
    c.log_z_method = fmt::format("not computed: {} hidden units > {}; use logz estimate", m.n_hidden(),
                                 kInfoMaxGrbmHidden);
  }
  return c;
}

ContinuousInfo describe(const StudentTExperts& m, const Exec&) {
  ContinuousInfo c{"product of Student-t experts",
                   m.num_parameters(),
                   std::nullopt,
                   "",
                   std::nullopt,
                   "",
                   {{"filters", range_of(m.filters())}, {"alpha", range_of(m.alpha())}}};
  if (m.quadratic() > 0) {
    c.normalisable = true;
    c.normalisable_reason = fmt::format("the quadratic term lambda = {:g} > 0 bounds the tails", m.quadratic());
  } else if (m.has_closed_form()) {
    try {
      c.log_z = m.log_partition();
      c.log_z_method = "closed form";
      c.normalisable = true;
      c.normalisable_reason = "complete (K = d): W is non-singular and every alpha_k > 1/2";
    } catch (const Error& e) {
      if (e.code() != Exit::data) throw;
      c.normalisable = false;
      c.normalisable_reason = e.what();
    }
  } else {
    switch (m.normalisable()) {
      case Normalisable::yes:
        c.normalisable = true;
        c.normalisable_reason = "the filters with alpha_k > 1/2 span R^d";
        break;
      case Normalisable::no:
        c.normalisable = false;
        c.normalisable_reason =
            m.alpha().sum() <= 0.5 * double(m.dimension())
                ? fmt::format("lambda = 0 and sum of alpha_k = {:g} <= d/2 = {:g}: the tails decay too slowly",
                              m.alpha().sum(), 0.5 * double(m.dimension()))
                : std::string("lambda = 0 and W has rank < d: E is constant along a direction with W x = 0");
        break;
      case Normalisable::unknown:
        c.normalisable_reason = "not decided: lambda = 0 and neither the sufficient nor a necessary condition settles it";
        break;
    }
  }
  if (!c.log_z)
    c.log_z_method = c.normalisable == false ? "none: the model is not normalisable"
                                             : "no closed form (K != d or lambda > 0); use logz estimate";
  return c;
}

ContinuousInfo describe(const NeuralEnergy& m, const Exec&) {
  return {"one-hidden-layer softplus energy",
          m.num_parameters(),
          true,
          fmt::format("the quadratic term lambda = {:g} > 0 dominates the linear growth of the softplus units",
                      m.quadratic()),
          std::nullopt,
          "no closed form; use logz estimate",
          {{"weights", range_of(m.weights())},
           {"hidden_bias", range_of(m.hidden_bias())},
           {"output_weights", range_of(m.output_weights())},
           {"linear", range_of(m.linear())}}};
}

std::string extra_value(const io::Array& a) {
  return a.size() == 1 ? fmt::format(" = {:.10g}", a.at(0)) : std::string();
}

int run_info_continuous(const InfoOptions& o, const Exec& ex) {
  const io::ContinuousFile f = io::load_continuous_file(o.model);
  const io::ContinuousKind kind = io::kind_of(f.model);
  const ContinuousInfo c = std::visit([&](const auto& m) { return describe(m, ex); }, f.model);
  const std::size_t d = io::dimension_of(f.model);
  std::string text = fmt::format("{}\n  model            {} ({})\n  dimension        {}\n", o.model, c.model,
                                 io::kind_name(kind), d);
  if (const auto* g = std::get_if<GaussianRbm>(&f.model))
    text += fmt::format("  n_hidden         {}\n  sigma            {}\n", g->n_hidden(),
                        g->learn_sigma ? "learned" : "fixed");
  if (const auto* e = std::get_if<StudentTExperts>(&f.model))
    text += fmt::format("  experts          {}{}\n  quadratic        {:g}\n", e->num_experts(),
                        e->num_experts() > d ? " (overcomplete)" : e->num_experts() == d ? " (complete)" : "",
                        e->quadratic());
  if (const auto* n = std::get_if<NeuralEnergy>(&f.model))
    text += fmt::format("  hidden units     {}\n  quadratic        {:g}\n", n->num_hidden(), n->quadratic());
  text += fmt::format("  parameters       {}\n  normalisable     {} ({})\n", c.num_parameters,
                      !c.normalisable ? "unknown" : *c.normalisable ? "yes" : "no", c.normalisable_reason);
  text += c.log_z ? fmt::format("  log Z            {:.10g} ({})\n", *c.log_z, c.log_z_method)
                  : fmt::format("  log Z            {}\n", c.log_z_method);
  text += fmt::format("  {:<16} {:>12} {:>12} {:>12} {:>12}\n", "array", "min", "max", "mean", "std");
  for (const auto& [name, r] : c.ranges)
    text += fmt::format("  {:<16} {:>12.5g} {:>12.5g} {:>12.5g} {:>12.5g}\n", name, r.min, r.max, r.mean, r.std);
  for (const auto& [name, a] : f.extra)
    text += fmt::format("  extra array      {} {} {}{}\n", name, io::dtype_name(a.dtype), a.shape_string(), extra_value(a));
  text.pop_back();
  summary(o.common, text);
  if (o.common.json) {
    nlohmann::json jr = nlohmann::json::object();
    for (const auto& [name, r] : c.ranges) jr[name] = {{"min", r.min}, {"max", r.max}, {"mean", r.mean}, {"std", r.std}};
    nlohmann::json jx = nlohmann::json::object();
    for (const auto& [name, a] : f.extra) {
      jx[name] = {{"dtype", io::dtype_name(a.dtype)}, {"shape", a.shape}};
      if (a.size() == 1) jx[name]["value"] = a.at(0);
    }
    print_json({{"model", o.model},
                {"type", io::kind_name(kind)},
                {"dimension", d},
                {"num_parameters", c.num_parameters},
                {"normalisable", c.normalisable ? nlohmann::json(*c.normalisable) : nlohmann::json(nullptr)},
                {"normalisable_reason", c.normalisable_reason},
                {"log_z", c.log_z ? nlohmann::json(*c.log_z) : nlohmann::json(nullptr)},
                {"log_z_method", c.log_z ? nlohmann::json(c.log_z_method) : nlohmann::json(nullptr)},
                {"log_z_note", c.log_z ? nlohmann::json(nullptr) : nlohmann::json(c.log_z_method)},
                {"ranges", jr},
                {"extra", jx}});
  }
  return 0;
}

int run_info(const InfoOptions& o) {
  const Exec ex = make_exec(kCmd, o.common);
  check_arg(!o.model.empty(), "{}: give the model file (as MODEL or --model)", kCmd);
  if (api::is_mrf_file(o.model)) return run_info_mrf(o);
  if (io::is_continuous_file(o.model)) return run_info_continuous(o, ex);
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
