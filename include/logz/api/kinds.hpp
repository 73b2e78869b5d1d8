#pragma once
/// @file kinds.hpp
/// Per-kind traits: everything the tasks of api/tasks.hpp do differently for each kind
/// of model, in one place per kind, so that the tasks (and every front end above them)
/// are one std::visit with no switches of their own. `KindTraits<M>` for each model type
/// M of AnyModel (models/any_model.hpp) has:
///
///   using Prepared = ...;   // what an estimate needs once, before its replicates (a base);
///                           // with a member `std::optional<Rows> model_samples`, AIS is
///                           // checked against RAISE from those rows and against AIS from
///                           // `prepared.uniform()` (estimators/verdict.hpp); with a
///                           // member `CertainBound lower_bound() const`, every estimate
///                           // is checked against that bound (verdict: below_bound)
///   static std::string no_exact(const M&, std::string_view who);  // why no exact method, or ""
///   static ExactResult exact(const M&, const io::ModelFile&, const Exec&);
///   static Prepared prepare(const M&, const io::ModelFile&, const EstimateConfig&,
///                           const EstimateInputs&, const Exec&, std::string_view who);
///   static LogZEstimate estimate(const M&, const Prepared&, const EstimateConfig& one_run,
///                                const EstimateInputs&, const Rows* start, const Exec&, Observer&);
///   static nlohmann::json details(const M&, const Prepared&, const EstimateConfig&, const EstimateInputs&);
///   static VectorD energies(const M&, const Rows&, const Exec&);   // E(x) (RBM: F(v)) per row
///   static Samples sample(const M&, const io::ModelFile&, const SampleConfig&, const Exec&, Observer&);
///   static Description describe(const M&, const io::ModelFile&, const Exec&);
///
/// Adding a model kind: its model files (models/), its file reader (io/, one entry in the
/// kind rule of io/model_file.cpp and in AnyModel), and its traits here, defined in
/// src/api/kinds/ (docs/architecture.md).
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "logz/api/tasks.hpp"
#include "logz/exact/rbm_modes.hpp"
#include "logz/models/any_model.hpp"

namespace logz::api {

template <class M>
struct KindTraits;

/// A lower bound on log Z that holds with certainty, and how it was found.
struct CertainBound {
  double log_z;
  std::string how;
};

/// Binary RBMs: exact log Z by enumerating the smaller layer, AIS on the weight-annealing
/// path from a base-rate RBM, block-Gibbs chains, exact draws for small models.
template <>
struct KindTraits<RbmD> {
  /// The base-rate RBM the AIS path starts from, and where its biases came from.
  struct Prepared {
    VectorF bias;                       ///< visible biases of the base
    std::string source;                 ///< "data", "data_marginals", "modes" (mixture path) or "model samples"
    std::optional<Rows> model_samples;  ///< the states the base was fitted to, when from the model
    RbmModes modes;                     ///< the modes a search found (exact/rbm_modes.hpp)
    /// The uniform base: the second opinion that AIS from a fitted base is checked against.
    Prepared uniform() const {
      return {VectorF::Zero(bias.size()), "uniform", std::nullopt, modes};
    }
    /// log Z >= the exact mass of the modes found and their neighbours.
    CertainBound lower_bound() const;
  };
  /// "": enumeration is the method (it says itself when both layers are too large).
  static std::string no_exact(const RbmD&, std::string_view) { return ""; }
  static ExactResult exact(const RbmD& m, const io::ModelFile& f, const Exec& ex);
  static Prepared prepare(const RbmD& m, const io::ModelFile& f, const EstimateConfig& c, const EstimateInputs& in,
                          const Exec& ex, std::string_view who);
  static LogZEstimate estimate(const RbmD& m, const Prepared& p, const EstimateConfig& c, const EstimateInputs& in,
                               const Rows* start, const Exec& ex, Observer& obs);
  static nlohmann::json details(const RbmD& m, const Prepared& p, const EstimateConfig& c, const EstimateInputs& in);
  static VectorD energies(const RbmD& m, const Rows& rows, const Exec& ex);
  static Samples sample(const RbmD& m, const io::ModelFile& f, const SampleConfig& c, const Exec& ex, Observer& obs);
  static Description describe(const RbmD& m, const io::ModelFile& f, const Exec& ex);
};

/// Ising and Potts models: exact log Z by the junction tree, the geometric path from the
/// uniform distribution with Gibbs sweeps (random-scan for lis), Gibbs chains.
template <class M>
struct MrfTraits {
  struct Prepared {};
  /// "": the junction tree is the method (it says itself when the graph is too wide).
  static std::string no_exact(const M&, std::string_view) { return ""; }
  static ExactResult exact(const M& m, const io::ModelFile& f, const Exec& ex);
  static Prepared prepare(const M& m, const io::ModelFile& f, const EstimateConfig& c, const EstimateInputs& in,
                          const Exec& ex, std::string_view who);
  static LogZEstimate estimate(const M& m, const Prepared& p, const EstimateConfig& c, const EstimateInputs& in,
                               const Rows* start, const Exec& ex, Observer& obs);
  static nlohmann::json details(const M& m, const Prepared& p, const EstimateConfig& c, const EstimateInputs& in);
  static VectorD energies(const M& m, const Rows& rows, const Exec& ex);
  static Samples sample(const M& m, const io::ModelFile& f, const SampleConfig& c, const Exec& ex, Observer& obs);
  static Description describe(const M& m, const io::ModelFile& f, const Exec& ex);
};
template <>
struct KindTraits<Ising> : MrfTraits<Ising> {};
template <>
struct KindTraits<Potts> : MrfTraits<Potts> {};

/// Continuous models (Gaussian, GRBM, Student-t experts, neural energy): exact log Z by a
/// closed form or the GRBM's enumeration, the geometric path from a Gaussian base with HMC
/// or MALA moves, HMC / MALA chains with dual averaging, exact draws where they exist.
template <class M>
struct ContinuousTraits {
  using Prepared = Gaussian;  ///< the base of the path
  /// Refuses a model that cannot be normalised (check_normalisable), then says why a
  /// model has no closed form or enumeration ("" when it has one).
  static std::string no_exact(const M& m, std::string_view who);
  static ExactResult exact(const M& m, const io::ModelFile& f, const Exec& ex);
  static Prepared prepare(const M& m, const io::ModelFile& f, const EstimateConfig& c, const EstimateInputs& in,
                          const Exec& ex, std::string_view who);
  static LogZEstimate estimate(const M& m, const Prepared& p, const EstimateConfig& c, const EstimateInputs& in,
                               const Rows* start, const Exec& ex, Observer& obs);
  static nlohmann::json details(const M& m, const Prepared& p, const EstimateConfig& c, const EstimateInputs& in);
  static VectorD energies(const M& m, const Rows& rows, const Exec& ex);
  static Samples sample(const M& m, const io::ModelFile& f, const SampleConfig& c, const Exec& ex, Observer& obs);
  static Description describe(const M& m, const io::ModelFile& f, const Exec& ex);
};
template <>
struct KindTraits<GaussianRbm> : ContinuousTraits<GaussianRbm> {};
template <>
struct KindTraits<Gaussian> : ContinuousTraits<Gaussian> {};
template <>
struct KindTraits<StudentTExperts> : ContinuousTraits<StudentTExperts> {};
template <>
struct KindTraits<NeuralEnergy> : ContinuousTraits<NeuralEnergy> {};

}  // namespace logz::api
