// Per-kind traits of Ising and Potts models (api/kinds.hpp).
#include <fmt/format.h>

#include "logz/api/kinds.hpp"
#include "logz/api/mrf_tasks.hpp"
#include "logz/exact/junction_tree.hpp"
#include "logz/kernels/potts_swendsen_wang.hpp"
#include "logz/tempering/mrf_path.hpp"
#include "ranges.hpp"

namespace logz::api {

namespace {
template <class M>
constexpr const char* kind_word() {
  return std::is_same_v<M, Ising> ? "ising" : "potts";
}
}  // namespace

template <class M>
ExactResult MrfTraits<M>::exact(const M& m, const io::ModelFile&, const Exec& ex) {
  const JunctionTreeResult r = junction_tree(m, JunctionTreeOptions{}, ex);
  return {r.log_z,
          fmt::format("exact: junction tree of treewidth {} ({} order), {} sites, q = {}, peak tables {:.1f} MB",
                      r.treewidth, r.order_method, m.dimension(), m.num_states(), double(r.peak_table_bytes) / 1e6),
          0.0,
          {{"treewidth", r.treewidth},
           {"order", r.order_method},
           {"peak_table_bytes", r.peak_table_bytes},
           {"sites", m.dimension()},
           {"q", m.num_states()}}};
}

template <class M>
typename MrfTraits<M>::Prepared MrfTraits<M>::prepare(const M& m, const io::ModelFile&, const EstimateConfig& c,
                                                      const EstimateInputs& in, const Exec&, std::string_view who) {
  const EstimatorInfo* info = find_estimator(c.method);
  check_config(in.start_data == nullptr || (info && info->needs_start), {"data", "method"},
               "{}: @0 is for @1 raise (start states) with an Ising or Potts model", who);
  check_config(in.base == BaseChoice::model_default, {"base"},
               "{}: @0 is for continuous models; an Ising or Potts path starts from the uniform distribution", who);
  check_config(in.base_data == nullptr, {"base_data"},
               "{}: @0 is for RBMs (the AIS base rate) and continuous models (the Gaussian base); an Ising or Potts "
               "path starts from the uniform distribution", who);
  const MrfKernel kernel = mrf_kernel_by_name(in.kernel.kernel, who);
  if (kernel != MrfKernel::gibbs) {
    try {
      (void)swendsen_wang_form(m);
    } catch (const Error& e) {
      check_config(false, {"kernel"}, "{}: @0 {} cannot move this model: {}", who, in.kernel.kernel, e.what());
    }
    check_config(kernel != MrfKernel::swendsen_wang_gibbs || c.method != "lis", {"kernel", "method"},
                 "{}: @0 sw-gibbs is not reversible, which @1 lis needs; use @0 sw", who);
  }
  return {};
}

template <class M>
LogZEstimate MrfTraits<M>::estimate(const M& m, const Prepared&, const EstimateConfig& c, const EstimateInputs& in,
                                    const Rows* start, const Exec& ex, Observer& obs) {
  return mrf_estimate(m, c, start ? &std::get<MatrixD>(*start) : nullptr, ex, obs, mrf_kernel_by_name(in.kernel.kernel));
}

template <class M>
nlohmann::json MrfTraits<M>::details(const M& m, const Prepared&, const EstimateConfig&, const EstimateInputs& in) {
  return {{"sites", m.dimension()}, {"q", m.num_states()}, {"kernel", mrf_kernel_name(mrf_kernel_by_name(in.kernel.kernel))}};
}

template <class M>
VectorD MrfTraits<M>::energies(const M& m, const Rows& rows, const Exec& ex) {
  return row_energies(m, real_rows(rows), ex);
}

template <class M>
Samples MrfTraits<M>::sample(const M& m, const io::ModelFile&, const SampleConfig& c, const Exec& ex, Observer& obs) {
  check_config(!c.exact, {"exact"},
               "sample: @0 is for RBMs and continuous models; use exact draws from an Ising / Potts model by many steps");
  const MatrixD x = sample_mrf(m, c.chains, c.steps, c.seed, ex, obs);
  Samples s;
  std::string type;
  if constexpr (std::is_same_v<M, Ising>) {
    s.states = io::Array::from_matrix<std::int32_t>(x.cast<std::int32_t>());
    type = "int32 spins";
  } else if (m.num_states() <= 256) {
    s.states = io::Array::from_matrix<std::uint8_t>(x.cast<std::uint8_t>());
    type = "uint8 states";
  } else {  // states past 255 do not fit a byte
    s.states = io::Array::from_matrix<std::int32_t>(x.cast<std::int32_t>());
    type = "int32 states";
  }
  s.how = fmt::format("{} samples x {} sites ({}), {} Gibbs sweeps each, mean {:.4f}", x.rows(), x.cols(), type, c.steps,
                      x.mean());
  s.details = {{"steps", c.steps}, {"sites", x.cols()}, {"mean", x.mean()}};
  return s;
}

template <class M>
Description MrfTraits<M>::describe(const M& model, const io::ModelFile& f, const Exec&) {
  using namespace detail;
  const Potts p = [&] {
    if constexpr (std::is_same_v<M, Ising>) return Potts::from_ising(model);
    else return model;
  }();
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
  constexpr bool ising = std::is_same_v<M, Ising>;
  const VectorD theta = model.parameters();
  const auto nf = Eigen::Index(p.n_sites() * (ising ? 1 : p.num_states()));
  const Ranges ranges = {{"fields", range_of(theta.head(nf))},
                         {"couplings", theta.size() > nf ? range_of(theta.tail(theta.size() - nf)) : Range{0, 0, 0, 0}}};
  Description d;
  d.text = fmt::format("  model            {}\n  sites            {}\n  states           {}\n  edges            {}{}\n"
                       "  parameters       {}\n  exact log Z      {}\n",
                       ising ? "Ising" : "Potts", p.n_sites(), p.num_states(), p.n_edges(),
                       p.is_dense() ? " (every pair)" : "", theta.size(), exact);
  if constexpr (ising)
    d.text += fmt::format("  spins            {}\n", model.convention() == SpinConvention::zero_one ? "0/1" : "-1/+1");
  else if (f.alphabet)
    d.text += fmt::format("  alphabet         {}\n", *f.alphabet);
  d.text += ranges_text(ranges) + extras_text(f.extra);
  d.json = {{"type", kind_word<M>()},
            {"sites", p.n_sites()},
            {"q", p.num_states()},
            {"edges", p.n_edges()},
            {"num_parameters", theta.size()},
            {"exact_log_z_feasible", feasible},
            {"treewidth", feasible ? nlohmann::json(treewidth) : nlohmann::json(nullptr)},
            {"ranges", ranges_json(ranges)},
            {"extra", extras_json(f.extra)}};
  if (f.alphabet) d.json["alphabet"] = *f.alphabet;
  return d;
}

template struct MrfTraits<Ising>;
template struct MrfTraits<Potts>;

}  // namespace logz::api
