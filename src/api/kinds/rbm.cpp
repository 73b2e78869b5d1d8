// Per-kind traits of binary RBMs (api/kinds.hpp).
#include <algorithm>

#include <fmt/format.h>

#include "logz/api/kinds.hpp"
#include "logz/api/rbm_tasks.hpp"
#include "logz/exact/rbm_enumeration.hpp"
#include "logz/kernels/rbm_gibbs.hpp"
#include "logz/models/rbm.hpp"
#include "logz/tempering/rbm_mixture_path.hpp"
#include "logz/tempering/rbm_path.hpp"
#include "ranges.hpp"

namespace logz::api {

using Traits = KindTraits<RbmD>;

/// Gibbs chains whose final states fit the base when there is no data (prepare).
constexpr std::size_t model_sample_chains = 100;
/// Data rows the mode search starts from besides its random starts, when there is data.
constexpr std::size_t mode_search_rows = 100;
/// Prepared::source of the base without data: the mixture of the modes' conditionals.
constexpr const char* mode_mixture_base = "modes";

CertainBound Traits::Prepared::lower_bound() const {
  return {modes.log_lower_bound,
          fmt::format("the exact mass of {} {} states found by {} greedy ascents", modes.states_counted,
                      modes.hidden_layer ? "hidden" : "visible", modes.starts)};
}

ExactResult Traits::exact(const RbmD& m, const io::ModelFile&, const Exec& ex) {
  m.validate("exact");
  const ExactLogZ z = rbm_exact_log_z(m, ex);
  const char* layer = z.enumerated_hidden ? "hidden" : "visible";
  return {z.log_z,
          fmt::format("exact: enumerated the {} {} units, 2^{} states", z.enumerated_units, layer, z.enumerated_units),
          0.0,
          {{"enumerated_units", z.enumerated_units},
           {"enumerated_layer", layer},
           {"n_visible", m.n_visible()},
           {"n_hidden", m.n_hidden()}}};
}

Traits::Prepared Traits::prepare(const RbmD& m, const io::ModelFile& f, const EstimateConfig& c,
                                 const EstimateInputs& in, const Exec& ex, std::string_view who) {
  m.validate("estimate");
  check_config(in.base == BaseChoice::model_default, {"base"},
               "{}: @0 is for continuous models; an RBM's AIS base rate comes from base_data or data", who);
  check_config(in.kernel.kernel.empty() || in.kernel.kernel == "gibbs", {"kernel"},
               "{}: @0 {} is not available for an RBM: its path moves by block Gibbs (gibbs)", who, in.kernel.kernel);
  // The modes of the smaller layer, from random states and from data rows when given: a
  // certain lower bound on log Z for every estimate (sharp trained models hide nearly all
  // of Z in a few states that annealing chains miss; exact/rbm_modes.hpp).
  const Dataset* rows = in.base_data ? in.base_data : in.start_data;
  const MatrixU8 none;
  const MatrixU8 search_rows =
      rows ? std::get<MatrixU8>(pick_rows(*rows, std::min(mode_search_rows, rows->count()), c.seed, who)) : none;
  RbmModes modes = rbm_mode_search(m, search_rows, default_mode_starts(m), c.seed, ex);
  // The base rate: base_data's means, else the start rows' (RAISE's data), else the file's,
  // else the model's own samples.
  if (rows || f.data_marginals)
    return {choose_base_bias(m, rows ? MatrixU8(binary_rows(rows->rows)) : none, f.data_marginals),
            rows ? "data" : "data_marginals", std::nullopt, std::move(modes)};
  // No data: the path starts from a mixture of the modes' own conditionals p(v | h_k),
  // weighted by their exact masses (tempering/rbm_mixture_path.hpp: a uniform base is far
  // from any trained model, and a single product base misses whole modes; docs/error-bars.md).
  // Model samples for the reverse check (and the product base when the modes are of the
  // visible layer): chains started in the modes by their exact masses (Gibbs chains from
  // anywhere else stay in whichever mode they fall into first), run as long as a tenth of
  // the annealing, within [100, 1000] sweeps.
  const std::size_t sweeps = std::clamp<std::size_t>(c.betas / 10, 100, 1000);
  const RbmF mf = m.cast<float>();
  RbmChains<float> chains{rbm_mode_draws(m, modes, model_sample_chains, c.seed, Purpose::chains).cast<float>(),
                          Stream::root(c.seed).children(Purpose::sample, model_sample_chains)};
  gibbs_sample(mf, chains, sweeps, ex);
  MatrixU8 samples = chains.v.cast<std::uint8_t>();
  // Laplace's rule (count + 1) / (n + 2): a unit on (or off) in every sample keeps a finite bias.
  const Eigen::ArrayXd p =
      (samples.cast<double>().colwise().sum().transpose().array() + 1.0) / (double(samples.rows()) + 2.0);
  VectorF bias = (p.log() - (1.0 - p).log()).cast<float>().matrix();
  const char* source = modes.hidden_layer ? mode_mixture_base : "model samples";
  return {std::move(bias), source, Rows(std::move(samples)), std::move(modes)};
}

LogZEstimate Traits::estimate(const RbmD& m, const Prepared& base, const EstimateConfig& c, const EstimateInputs&,
                              const Rows* start, const Exec& ex, Observer& obs) {
  const MatrixF s = start ? std::get<MatrixU8>(*start).cast<float>().eval() : MatrixF();
  if (base.source == mode_mixture_base)
    return estimate_on_path(RbmModeMixturePath(m, base.modes, RbmAnnealingPath::products_for(c.method)), c,
                            start ? &s : nullptr, ex, obs);
  const RbmF mf = m.cast<float>();
  return estimate_on_path(RbmAnnealingPath(mf, base.bias, RbmAnnealingPath::products_for(c.method)), c,
                          start ? &s : nullptr, ex, obs);
}

nlohmann::json Traits::details(const RbmD&, const Prepared& base, const EstimateConfig&, const EstimateInputs& in) {
  const Dataset* rows = in.base_data ? in.base_data : in.start_data;
  nlohmann::json j = {{"base", base.source}, {"data", rows ? nlohmann::json(rows->spec) : nlohmann::json(nullptr)}};
  if (base.model_samples)
    j["base_samples"] = {{"chains", model_sample_chains}, {"rows", std::get<MatrixU8>(*base.model_samples).rows()},
                         {"start", "modes"}};
  const RbmModes& md = base.modes;
  if (base.source == mode_mixture_base)
    j["base_components"] = RbmModeMixturePath::components_of(md);
  j["mode_bound"] = {{"log_lower_bound", md.log_lower_bound},
                     {"layer", md.hidden_layer ? "hidden" : "visible"},
                     {"modes", md.states.rows()},
                     {"best_log_weight", md.log_weights.size() ? md.log_weights[0] : 0.0},
                     {"states_counted", md.states_counted},
                     {"starts", md.starts}};
  return j;
}

VectorD Traits::energies(const RbmD& m, const Rows& rows, const Exec& ex) {
  return free_energies(m, binary_rows(rows), ex);
}

Samples Traits::sample(const RbmD& m, const io::ModelFile&, const SampleConfig& c, const Exec& ex, Observer& obs) {
  const MatrixU8 x = c.exact ? rbm_exact_samples(m, c.chains, c.seed, ex) : sample_rbm(m, c.chains, c.steps, c.seed, ex, obs);
  const double mean = x.size() ? x.cast<double>().mean() : 0.0;
  Samples s{io::Array::from_matrix<std::uint8_t>(x),
            c.exact ? std::string("exact draws") : fmt::format("{} Gibbs sweeps each", c.steps),
            {{"steps", c.exact ? nlohmann::json(nullptr) : nlohmann::json(c.steps)},
             {"n_visible", x.cols()},
             {"mean", mean}}};
  s.how = fmt::format("{} samples x {} visible units (uint8), {}, mean {:.4f}", x.rows(), x.cols(), s.how, mean);
  return s;
}

Description Traits::describe(const RbmD& m, const io::ModelFile& f, const Exec&) {
  using namespace detail;
  const std::size_t smaller = std::min(m.n_visible(), m.n_hidden());
  const bool exact = smaller <= max_enumerated_units;
  Ranges ranges = {{"weights", range_of(m.weights)},
                   {"visible_bias", range_of(m.visible_bias)},
                   {"hidden_bias", range_of(m.hidden_bias)}};
  if (f.data_marginals) ranges.emplace_back("data_marginals", range_of(*f.data_marginals));
  Description d;
  d.text = fmt::format(
      "  model            binary RBM\n  n_visible        {}\n  n_hidden         {}\n  parameters       {}\n"
      "  dtype            {}\n  data_marginals   {}\n  exact log Z      {}\n",
      m.n_visible(), m.n_hidden(), m.num_parameters(), io::dtype_name(f.dtype),
      f.data_marginals ? "present (AIS base rate)" : "absent (the path starts from the model's hidden modes unless given data)",
      exact ? fmt::format("feasible (enumerates {} units: 2^{} states)", smaller, smaller)
            : fmt::format("infeasible (smaller layer has {} > {} units); use AIS / RAISE", smaller, max_enumerated_units));
  d.text += ranges_text(ranges);
  for (const auto& [name, a] : f.extra)
    d.text += fmt::format("  extra array      {} {} {}\n", name, io::dtype_name(a.dtype), a.shape_string());
  nlohmann::json jx = nlohmann::json::object();
  for (const auto& [name, a] : f.extra) jx[name] = {{"dtype", io::dtype_name(a.dtype)}, {"shape", a.shape}};
  d.json = {{"type", "rbm"},
            {"n_visible", m.n_visible()},
            {"n_hidden", m.n_hidden()},
            {"num_parameters", m.num_parameters()},
            {"dtype", io::dtype_name(f.dtype)},
            {"data_marginals", f.data_marginals.has_value()},
            {"exact_log_z_feasible", exact},
            {"ranges", ranges_json(ranges)},
            {"extra", jx}};
  return d;
}

}  // namespace logz::api
