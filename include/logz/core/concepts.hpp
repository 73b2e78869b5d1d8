#pragma once
/// @file concepts.hpp
/// The small, separate concepts that algorithms are written against (DESIGN.md §3).
#include <concepts>
#include <cstddef>

#include "logz/core/types.hpp"

namespace logz {

/// A model with an energy: p(x) ∝ exp(-E(x)).
template <class M>
concept EnergyModel = requires(const M& m, const Eigen::Ref<const VectorD>& x) {
  { m.energy_of(x) } -> std::convertible_to<double>;
  { m.dimension() } -> std::convertible_to<std::size_t>;
};

/// A bipartite (visible, hidden) model with factorised block conditionals and a free
/// energy in closed form once one layer is summed out: RBMs and their relatives.
template <class M>
concept Bipartite = requires(const M& m, const Eigen::Ref<const VectorD>& v) {
  { m.n_visible() } -> std::convertible_to<std::size_t>;
  { m.n_hidden() } -> std::convertible_to<std::size_t>;
  { m.free_energy(v) } -> std::convertible_to<double>;
};

}  // namespace logz
