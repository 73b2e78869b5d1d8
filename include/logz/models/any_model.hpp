#pragma once
/// @file any_model.hpp
/// One type for a model of any kind logz reads and writes: a variant over the seven
/// model classes, and the kind of each as a small enum whose names are the values of the
/// `logz_kind` marker in model files (io/model_file.hpp).
///
/// The enum and the variant list the kinds in the same order, so that
/// `ModelKind(model.index())` is the kind of a model; a static_assert below keeps them
/// in step.
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include "logz/models/gaussian.hpp"
#include "logz/models/gaussian_rbm.hpp"
#include "logz/models/ising.hpp"
#include "logz/models/neural_energy.hpp"
#include "logz/models/potts.hpp"
#include "logz/models/rbm.hpp"
#include "logz/models/student_t_experts.hpp"

namespace logz {

/// The kinds of model, in the order of AnyModel's alternatives.
enum class ModelKind { rbm, grbm, ising, potts, gaussian, experts, neural };

/// A model of any kind. The binary RBM is held in double precision (a file's dtype is
/// kept next to it by io::ModelFile).
using AnyModel = std::variant<RbmD, GaussianRbm, Ising, Potts, Gaussian, StudentTExperts, NeuralEnergy>;

/// Every kind, in enum order.
inline constexpr std::array<ModelKind, 7> kAllModelKinds = {ModelKind::rbm,      ModelKind::grbm,    ModelKind::ising,
                                                            ModelKind::potts,    ModelKind::gaussian, ModelKind::experts,
                                                            ModelKind::neural};

static_assert(std::variant_size_v<AnyModel> == kAllModelKinds.size());
static_assert(std::is_same_v<std::variant_alternative_t<std::size_t(ModelKind::grbm), AnyModel>, GaussianRbm>);
static_assert(std::is_same_v<std::variant_alternative_t<std::size_t(ModelKind::potts), AnyModel>, Potts>);
static_assert(std::is_same_v<std::variant_alternative_t<std::size_t(ModelKind::neural), AnyModel>, NeuralEnergy>);

/// "rbm", "grbm", "ising", "potts", "gaussian", "experts", "neural": the kind's name in
/// messages and the value of a file's `logz_kind` marker.
constexpr std::string_view kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::rbm: return "rbm";
    case ModelKind::grbm: return "grbm";
    case ModelKind::ising: return "ising";
    case ModelKind::potts: return "potts";
    case ModelKind::gaussian: return "gaussian";
    case ModelKind::experts: return "experts";
    case ModelKind::neural: return "neural";
  }
  return "unknown";
}

/// The kind with this name (exactly, case-sensitive), or nullopt.
constexpr std::optional<ModelKind> kind_by_name(std::string_view name) {
  for (ModelKind k : kAllModelKinds)
    if (kind_name(k) == name) return k;
  return std::nullopt;
}

/// The kind of the model held.
inline ModelKind kind_of(const AnyModel& model) { return ModelKind(model.index()); }

/// The number of variables the model is over: n_visible for the two RBMs, the number of
/// sites for Ising and Potts, d for the continuous energies.
template <class M>
std::size_t model_dimension(const M& m) {
  if constexpr (std::is_same_v<M, RbmD> || std::is_same_v<M, GaussianRbm>) return m.n_visible();
  else if constexpr (std::is_same_v<M, Ising>) return m.n_spins();
  else if constexpr (std::is_same_v<M, Potts>) return m.n_sites();
  else return m.dimension();
}
inline std::size_t dimension_of(const AnyModel& model) {
  return std::visit([](const auto& m) { return model_dimension(m); }, model);
}

/// Whether models of this kind have real-valued variables (grbm, gaussian, experts,
/// neural); the others have discrete states.
constexpr bool is_continuous(ModelKind kind) {
  return kind == ModelKind::grbm || kind == ModelKind::gaussian || kind == ModelKind::experts ||
         kind == ModelKind::neural;
}

}  // namespace logz
