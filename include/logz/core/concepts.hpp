#pragma once
/// @file concepts.hpp
/// The small, separate concepts that algorithms are written against (DESIGN.md §3).
#include <concepts>
#include <cstddef>
#include <span>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"

namespace logz {

/// A model with an energy: p(x) ∝ exp(-E(x)).
template <class M>
concept EnergyModel = requires(const M& m, const Eigen::Ref<const VectorD>& x) {
  { m.energy_of(x) } -> std::convertible_to<double>;
  { m.dimension() } -> std::convertible_to<std::size_t>;
};

/// A model of discrete sites whose conditionals are cheap: site_energies(i, x, out) writes
/// for each value a of site i the energy E(x with x_i = a) up to a constant independent
/// of a, so that p(x_i = a | rest) ∝ exp(-out[a]); num_states() values per site. A state
/// stores value a of a site as the double state_value(a), and state_index(v) is the value
/// of a stored v; check_state(who, x) throws Error(Exit::usage) naming `who` on a state
/// single-site kernels cannot update. Ising and Potts models; what single-site kernels
/// (kernels/site_gibbs.hpp, metropolis.hpp) and pseudolikelihood need.
template <class M>
concept SiteConditionals =
    EnergyModel<M> && requires(const M& m, std::size_t i, const Eigen::Ref<const VectorD>& x, std::span<double> out,
                               double v, const char* who) {
      { m.num_states() } -> std::convertible_to<std::size_t>;
      m.site_energies(i, x, out);
      { m.state_value(i) } -> std::convertible_to<double>;
      { m.state_index(v) } -> std::convertible_to<std::size_t>;
      m.check_state(who, x);
    };

/// SiteConditionals with two values per site (0 = down, 1 = up) and a conditional given
/// by one number: up_log_odds(i, x, beta) = β (E(x_i = down) − E(x_i = up)) =
/// log p_β(up | rest) − log p_β(down | rest). Single-site kernels use it in place of
/// site_energies: one local sum per update, and the flip as the only Metropolis move (no
/// proposal draw). Ising models.
template <class M>
concept BinarySiteConditionals =
    SiteConditionals<M> && requires(const M& m, std::size_t i, const Eigen::Ref<const VectorD>& x, double beta) {
      { m.up_log_odds(i, x, beta) } -> std::convertible_to<double>;
    };

/// A model on R^d with the gradient of its energy: what Langevin, MALA and HMC kernels and
/// the geometric path between continuous distributions need. energy_and_gradient returns
/// E(x) and writes ∇ₓE(x) into `grad` (size dimension()).
template <class M>
concept DifferentiableEnergy =
    EnergyModel<M> && requires(const M& m, const Eigen::Ref<const VectorD>& x, Eigen::Ref<VectorD> grad) {
      { m.energy_and_gradient(x, grad) } -> std::convertible_to<double>;
    };

/// A normalised base distribution: exact independent draws and an exact log partition
/// function log Z = log ∫ exp(-E(x)) dx (or the sum over states), so that annealing and
/// importance sampling can start from it.
template <class M>
concept ExactlySampleable = EnergyModel<M> && requires(const M& m, Stream& rng, Eigen::Ref<VectorD> x) {
  { m.log_partition() } -> std::convertible_to<double>;
  m.sample(rng, x);
};

/// A bipartite (visible, hidden) model with factorised block conditionals and a free
/// energy in closed form once one layer is summed out: RBMs and their relatives.
template <class M>
concept Bipartite = requires(const M& m, const Eigen::Ref<const VectorD>& v) {
  { m.n_visible() } -> std::convertible_to<std::size_t>;
  { m.n_hidden() } -> std::convertible_to<std::size_t>;
  { m.free_energy(v) } -> std::convertible_to<double>;
};

// ---------------------------------------------------------------------------------------
// Parametric models: what training objectives (objectives/score_matching.hpp, nce.hpp,
// the PCD gradients) need from a model. All are const and called concurrently from
// several threads; `g` is a θ-sized vector that the model *adds* s · (a derivative) to.

/// Flat parameters θ: num_parameters(), parameters() and set_parameters(θ) (which may
/// throw Error(Exit::usage) on a wrong size or non-finite θ).
template <class M>
concept FlatParameters = requires(const M& m, M& mm, const VectorD& theta) {
  { m.num_parameters() } -> std::convertible_to<std::size_t>;
  { m.parameters() } -> std::convertible_to<VectorD>;
  mm.set_parameters(theta);
};

/// A parametric energy: E(x) and g += s · ∂E(x)/∂θ. What noise-contrastive estimation
/// needs (and maximum-likelihood gradients).
template <class M>
concept ParametricEnergy =
    EnergyModel<M> && FlatParameters<M> &&
    requires(const M& m, const Eigen::Ref<const VectorD>& x, double s, Eigen::Ref<VectorD> g) {
      m.add_energy_gradient(x, s, g);
    };

/// A parametric energy with its score: ∇ₓE (DifferentiableEnergy) and the vector–Jacobian
/// product g += s · ∂(rᵀ∇ₓE(x))/∂θ for a fixed r. Denoising score matching needs only
/// this.
template <class M>
concept ScoreParametric =
    DifferentiableEnergy<M> && FlatParameters<M> &&
    requires(const M& m, const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& r, double s,
             Eigen::Ref<VectorD> g) { m.add_score_vjp(x, r, s, g); };

/// Score matching also needs the Laplacian ΔₓE(x) = tr ∇²ₓE(x) and g += s · ∂ΔₓE(x)/∂θ.
template <class M>
concept ScoreMatchable = ScoreParametric<M> && requires(const M& m, const Eigen::Ref<const VectorD>& x, double s,
                                                        Eigen::Ref<VectorD> g) {
  { m.laplacian(x) } -> std::convertible_to<double>;
  m.add_laplacian_gradient(x, s, g);
};

/// Sliced score matching needs the Hessian's quadratic form vᵀ∇²ₓE(x) v and
/// g += s · ∂(vᵀ∇²ₓE(x) v)/∂θ, never the whole Hessian or its trace.
template <class M>
concept SliceScoreMatchable =
    ScoreParametric<M> && requires(const M& m, const Eigen::Ref<const VectorD>& x, const Eigen::Ref<const VectorD>& v,
                                   double s, Eigen::Ref<VectorD> g) {
      { m.hessian_quadratic(x, v) } -> std::convertible_to<double>;
      m.add_hessian_quadratic_gradient(x, v, s, g);
    };

}  // namespace logz
