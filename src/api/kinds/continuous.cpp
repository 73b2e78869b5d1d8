// Per-kind traits of the continuous models: Gaussian, Gaussian–Bernoulli RBM, product of
// Student-t experts, neural energy (api/kinds.hpp). Each converts to the continuous
// variant of api/continuous_tasks.hpp, whose functions hold the algorithms.
#include <fmt/format.h>

#include "logz/api/continuous_tasks.hpp"
#include "logz/api/kinds.hpp"
#include "logz/exact/grbm_exact.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "ranges.hpp"

namespace logz::api {

namespace {

/// Largest hidden layer that a description enumerates for a GRBM's log Z (2^20 terms: instant).
constexpr std::size_t kDescribeMaxGrbmHidden = 20;

/// What a continuous model is, in words and numbers.
struct ContinuousFacts {
  std::string model;  ///< human name of the kind
  std::size_t num_parameters = 0;
  std::optional<bool> normalisable;  ///< nullopt: not known
  std::string normalisable_reason;
  std::optional<double> log_z;
  std::string log_z_method;  ///< "closed form", "exact enumeration", or why there is none
  detail::Ranges ranges;
};

using detail::range_of;

ContinuousFacts facts(const Gaussian& g, const Exec&) {
  const std::size_t d = g.dimension();
  return {"Gaussian",
          d + d * (d + 1) / 2,
          true,
          "the precision matrix is positive definite",
          g.log_partition(),
          "closed form",
          {{"mean", range_of(g.mean())}, {"precision", range_of(g.precision())}}};
}

ContinuousFacts facts(const GaussianRbm& m, const Exec& ex) {
  ContinuousFacts c{"Gaussian-Bernoulli RBM",
                    m.num_parameters(),
                    true,
                    "Gaussian in v for each hidden state, every visible sigma > 0",
                    std::nullopt,
                    "",
                    {{"weights", range_of(m.weights)},
                     {"visible_bias", range_of(m.visible_bias)},
                     {"hidden_bias", range_of(m.hidden_bias)},
                     {"visible_sigma", range_of(m.visible_sigma)}}};
  if (m.n_hidden() <= kDescribeMaxGrbmHidden) {
    c.log_z = grbm_exact_log_z(m, ex);
    c.log_z_method = fmt::format("exact enumeration of 2^{} hidden states", m.n_hidden());
  } else {
    c.log_z_method = fmt::format("not computed: {} hidden units > {}; use logz estimate", m.n_hidden(),
                                 kDescribeMaxGrbmHidden);
  }
  return c;
}

ContinuousFacts facts(const StudentTExperts& m, const Exec&) {
  ContinuousFacts c{"product of Student-t experts",
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
            m.alpha().sum() <= 0.5 * double(model_dimension(m))
                ? fmt::format("lambda = 0 and sum of alpha_k = {:g} <= d/2 = {:g}: the tails decay too slowly",
                              m.alpha().sum(), 0.5 * double(model_dimension(m)))
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

ContinuousFacts facts(const NeuralEnergy& m, const Exec&) {
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

/// The kind's own lines of a description (sizes beyond the dimension).
std::string kind_lines(const Gaussian&) { return ""; }
std::string kind_lines(const GaussianRbm& g) {
  return fmt::format("  n_hidden         {}\n  sigma            {}\n", g.n_hidden(), g.learn_sigma ? "learned" : "fixed");
}
std::string kind_lines(const StudentTExperts& e) {
  const std::size_t d = e.dimension();
  return fmt::format("  experts          {}{}\n  quadratic        {:g}\n", e.num_experts(),
                     e.num_experts() > d ? " (overcomplete)" : e.num_experts() == d ? " (complete)" : "", e.quadratic());
}
std::string kind_lines(const NeuralEnergy& n) {
  return fmt::format("  hidden units     {}\n  quadratic        {:g}\n", n.num_hidden(), n.quadratic());
}

std::vector<double> to_vector(const VectorD& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

}  // namespace

template <class M>
std::string ContinuousTraits<M>::no_exact(const M& m, std::string_view who) {
  const io::ContinuousModel cm(m);
  check_normalisable(std::string(who).c_str(), cm);
  return no_exact_reason(cm);
}

template <class M>
ExactResult ContinuousTraits<M>::exact(const M& m, const io::ModelFile&, const Exec& ex) {
  const std::optional<double> z = continuous_exact_log_z(io::ContinuousModel(m), ex);
  check_arg(z.has_value(), "exact: no exact log Z for this model");  // no_exact said why first
  if constexpr (std::is_same_v<M, GaussianRbm>)
    return {*z, fmt::format("exact: the {} hidden units enumerated, 2^{} states", m.n_hidden(), m.n_hidden()), 0.0,
            {{"dimension", model_dimension(m)}, {"n_hidden", m.n_hidden()}}};
  else
    return {*z, "exact: closed form", 0.0, {{"dimension", model_dimension(m)}}};
}

template <class M>
typename ContinuousTraits<M>::Prepared ContinuousTraits<M>::prepare(const M& m, const io::ModelFile&,
                                                                    const EstimateConfig& c, const EstimateInputs& in,
                                                                    const Exec& ex, std::string_view who) {
  in.kernel.validate();
  const io::ContinuousModel cm(m);
  check_normalisable(std::string(who).c_str(), cm);
  const EstimatorInfo* info = find_estimator(c.method);
  check_config(in.start_data == nullptr || (info && info->needs_start), {"data", "method"},
               "{}: @0 is for @1 raise (start states) with a continuous model", who);
  check_config(in.base == BaseChoice::data ? in.base_data != nullptr : true, {"base", "base_data"},
               "{}: @0 data needs @1 (the rows to fit the Gaussian base to)", who);
  BaseSpec spec{in.base_data ? BaseChoice::data : in.base, {}};
  if (in.base_data) spec.data = real_rows(in.base_data->rows);
  return continuous_base(cm, spec, c.seed, ex);
}

template <class M>
LogZEstimate ContinuousTraits<M>::estimate(const M& m, const Prepared& base, const EstimateConfig& c,
                                           const EstimateInputs& in, const Rows* start, const Exec& ex, Observer& obs) {
  return estimate_continuous(io::ContinuousModel(m), base, c, in.kernel, start ? &std::get<MatrixD>(*start) : nullptr,
                             ex, obs);
}

template <class M>
nlohmann::json ContinuousTraits<M>::details(const M& m, const Prepared& base, const EstimateConfig&,
                                            const EstimateInputs& in) {
  return {{"base", base_choice_name(in.base_data ? BaseChoice::data : in.base)},
          {"base_mean", to_vector(base.mean())},
          {"base_log_z", base.log_partition()},
          {"kernel", in.kernel.name()},
          {"step_size", in.kernel.step_size},
          {"leapfrog", in.kernel.leapfrog},
          {"dimension", model_dimension(m)}};
}

template <class M>
VectorD ContinuousTraits<M>::energies(const M& m, const Rows& rows, const Exec& ex) {
  if constexpr (std::is_same_v<M, GaussianRbm>) return row_energies(GrbmFreeEnergy(m), real_rows(rows), ex);
  else return row_energies(m, real_rows(rows), ex);
}

template <class M>
Samples ContinuousTraits<M>::sample(const M& m, const io::ModelFile& f, const SampleConfig& c, const Exec& ex,
                                    Observer& obs) {
  const io::ContinuousModel cm(m);
  Samples s;
  s.details = {{"dimension", model_dimension(m)}};
  MatrixD x;
  std::string how;
  if (c.exact) {
    x = exact_continuous_samples(cm, c.chains, c.seed, ex);
    how = "exact draws";
  } else {
    ContinuousSampleConfig sc;
    sc.kernel = c.kernel;
    sc.step_size = c.step_size;
    sc.leapfrog = c.leapfrog;
    sc.chains = c.chains;
    sc.warmup = c.warmup;
    sc.steps = c.steps;
    sc.thin = c.thin;
    sc.target_acceptance = c.target_acceptance;
    sc.seed = c.seed;
    const ContinuousSamples r = sample_continuous_model(cm, sc, ex, obs);
    x = r.draws;
    double mean_eps = 0;
    for (double e : r.step_sizes) mean_eps += e / double(r.step_sizes.size());
    how = fmt::format("{} chains x {} draws ({}, {} warm-up steps, mean step size {:.4g}); acceptance {:.3f}, "
                      "min ESS {:.1f}, ESS per gradient evaluation {:.3g}",
                      r.chains, r.kept, sc.kernel, sc.warmup, mean_eps, r.acceptance_rate, r.min_ess,
                      r.ess_per_gradient);
    s.details.update({{"kernel", sc.kernel},
                      {"steps", sc.steps},
                      {"warmup", sc.warmup},
                      {"thin", sc.thin},
                      {"leapfrog", sc.leapfrog},
                      {"target_acceptance", sc.acceptance_target()},
                      {"draws_per_chain", r.kept},
                      {"step_sizes", r.step_sizes},
                      {"acceptance_rate", r.acceptance_rate},
                      {"ess", to_vector(r.ess)},
                      {"min_ess", r.min_ess},
                      {"gradient_evaluations", r.gradient_evaluations},
                      {"warmup_gradient_evaluations", r.warmup_gradient_evaluations},
                      {"ess_per_gradient", r.ess_per_gradient},
                      {"non_finite", r.non_finite}});
  }
  s.states = io::Array::from_matrix<double>(x);
  s.how = fmt::format("{} samples x {} dimensions (float64, {}), {}", x.rows(), x.cols(),
                      kind_name(kind_of(f.model)), how);
  return s;
}

template <class M>
Description ContinuousTraits<M>::describe(const M& m, const io::ModelFile& f, const Exec& ex) {
  using namespace detail;
  const ContinuousFacts c = facts(m, ex);
  const std::string kind(kind_name(kind_of(f.model)));
  Description d;
  d.text = fmt::format("  model            {} ({})\n  dimension        {}\n", c.model, kind, model_dimension(m));
  d.text += kind_lines(m);
  d.text += fmt::format("  parameters       {}\n  normalisable     {} ({})\n", c.num_parameters,
                        !c.normalisable ? "unknown" : *c.normalisable ? "yes" : "no", c.normalisable_reason);
  d.text += c.log_z ? fmt::format("  log Z            {:.10g} ({})\n", *c.log_z, c.log_z_method)
                    : fmt::format("  log Z            {}\n", c.log_z_method);
  d.text += ranges_text(c.ranges) + extras_text(f.extra);
  d.json = {{"type", kind},
            {"dimension", model_dimension(m)},
            {"num_parameters", c.num_parameters},
            {"normalisable", c.normalisable ? nlohmann::json(*c.normalisable) : nlohmann::json(nullptr)},
            {"normalisable_reason", c.normalisable_reason},
            {"log_z", c.log_z ? nlohmann::json(*c.log_z) : nlohmann::json(nullptr)},
            {"log_z_method", c.log_z ? nlohmann::json(c.log_z_method) : nlohmann::json(nullptr)},
            {"log_z_note", c.log_z ? nlohmann::json(nullptr) : nlohmann::json(c.log_z_method)},
            {"ranges", ranges_json(c.ranges)},
            {"extra", extras_json(f.extra)}};
  return d;
}

template struct ContinuousTraits<GaussianRbm>;
template struct ContinuousTraits<Gaussian>;
template struct ContinuousTraits<StudentTExperts>;
template struct ContinuousTraits<NeuralEnergy>;

}  // namespace logz::api
