#pragma once
/// @file gaussian_rbm.hpp
/// Gaussian–Bernoulli restricted Boltzmann machine (Hinton & Salakhutdinov 2006) with
/// learned or fixed visible standard deviations σ_i (Krizhevsky 2009), in the
/// parameterisation of Cho, Ilin & Raiko (2011), "Improved learning of Gaussian–Bernoulli
/// restricted Boltzmann machines", where the visibles enter the interaction as v_i/σ_i²:
///   E(v, h) = Σ_i (v_i − b_i)² / (2σ_i²) − Σ_ij (v_i / σ_i²) W_ij h_j − c·h,
///   v ∈ R^n, h ∈ {0,1}^m,
/// so that the block conditionals are
///   p(h_j = 1 | v) = sigmoid(c_j + Σ_i v_i W_ij / σ_i²),   p(v | h) = N(b + W h, diag σ²),
/// and, with the hidden layer summed out,
///   F(v) = Σ_i (v_i − b_i)² / (2σ_i²) − Σ_j softplus(c_j + Σ_i v_i W_ij / σ_i²),
///   log Z = log Σ_h exp(c·h + Σ_i [(b_i + (W h)_i)² − b_i²] / (2σ_i²)) + Σ_i log(√(2π) σ_i).
/// docs/gaussian-rbm.md derives each formula. GrbmFreeEnergy is the model on R^n
/// (energy F, its gradient and Laplacian): a DifferentiableEnergy, so log Z can also be
/// estimated by any continuous estimator (api::continuous_estimate). The exact log Z,
/// moments, draws and gradients by enumerating the hidden layer are in
/// exact/grbm_exact.hpp.
#include <cstddef>
#include <string_view>

#include "logz/core/parallel.hpp"
#include "logz/core/types.hpp"

namespace logz {

struct GaussianRbm {
  MatrixD weights;        ///< W, [n_visible, n_hidden]
  VectorD visible_bias;   ///< b, [n_visible]: the mean of v given h = 0
  VectorD hidden_bias;    ///< c, [n_hidden]
  VectorD visible_sigma;  ///< σ, [n_visible], every entry > 0
  /// Whether training updates σ (through log σ) or keeps it fixed. It does not change the
  /// distribution, only what num_parameters() counts.
  bool learn_sigma = false;

  GaussianRbm() = default;
  /// Zero weights and biases, σ = 1.
  GaussianRbm(std::size_t n_visible, std::size_t n_hidden);

  std::size_t n_visible() const { return std::size_t(weights.rows()); }
  std::size_t n_hidden() const { return std::size_t(weights.cols()); }
  /// n·m + n + m, plus n when σ is learned.
  std::size_t num_parameters() const {
    return n_visible() * n_hidden() + n_visible() + n_hidden() + (learn_sigma ? n_visible() : 0);
  }

  /// Throws Error(Exit::data) naming `what` and the field if shapes disagree, a parameter
  /// is not finite or a σ_i is not > 0.
  void validate(std::string_view what) const;

  /// E(v, h). Throws Error(Exit::usage) on a size mismatch.
  double energy(const Eigen::Ref<const VectorD>& v, const Eigen::Ref<const VectorD>& h) const;
  /// F(v) = −log Σ_h exp(−E(v, h)). Throws Error(Exit::usage) on a size mismatch.
  double free_energy(const Eigen::Ref<const VectorD>& v) const;
  /// F(v), and ∇F(v)_i = (v_i − b_i)/σ_i² − Σ_j W_ij p_j / σ_i² written to `grad`
  /// (p_j = p(h_j = 1 | v)). Throws Error(Exit::usage) on a size mismatch.
  double free_energy_and_gradient(const Eigen::Ref<const VectorD>& v, Eigen::Ref<VectorD> grad) const;
  /// ΔF(v) = Σ_i [1/σ_i² − Σ_j W_ij² p_j (1 − p_j) / σ_i⁴].
  double free_energy_laplacian(const Eigen::Ref<const VectorD>& v) const;
  /// p(h_j = 1 | v) for every j into `out` (size n_hidden).
  void hidden_probabilities(const Eigen::Ref<const VectorD>& v, Eigen::Ref<VectorD> out) const;
  /// E[v | h] = b + W h into `out` (size n_visible).
  void visible_mean(const Eigen::Ref<const VectorD>& h, Eigen::Ref<VectorD> out) const;

 private:
  void check_visible(const char* who, Eigen::Index n) const;
};

/// The GRBM's visible marginal exp(−F(v)) as an energy model on R^n_visible: energy F,
/// gradient ∇F and Laplacian ΔF (DifferentiableEnergy, and what score matching needs
/// to evaluate), and the flat parameter view with every derivative over θ that the
/// objectives of objectives/score_matching.hpp and nce.hpp need (FlatParameters,
/// ParametricEnergy, ScoreMatchable, SliceScoreMatchable):
///   θ = [W row-major (n×m), b (n), c (m), log σ (n) only when model().learn_sigma].
/// docs/gaussian-rbm.md ("Derivatives over the parameters") derives each formula. Holds
/// a validated copy of the model and what every evaluation reuses (1/σ², W/σ²); the
/// per-point methods use per-thread scratch, no heap allocation once warm.
class GrbmFreeEnergy {
 public:
  /// Throws Error(Exit::data) as GaussianRbm::validate("GrbmFreeEnergy").
  explicit GrbmFreeEnergy(GaussianRbm model);

  std::size_t dimension() const { return model_.n_visible(); }
  const GaussianRbm& model() const { return model_; }
  double energy_of(const Eigen::Ref<const VectorD>& v) const;
  double energy_and_gradient(const Eigen::Ref<const VectorD>& v, Eigen::Ref<VectorD> grad) const;
  /// ΔF(v) = Σ_i 1/σ_i² − Σ_j p_j (1 − p_j) a_j with a_j = Σ_i W_ij² / σ_i⁴.
  double laplacian(const Eigen::Ref<const VectorD>& v) const;
  /// zᵀ∇²F(v) z = Σ_i z_i² / σ_i² − Σ_j p_j (1 − p_j) y_j², y_j = Σ_i z_i W_ij / σ_i².
  double hessian_quadratic(const Eigen::Ref<const VectorD>& v, const Eigen::Ref<const VectorD>& z) const;

  /// n·m + n + m (+ n with learn_sigma).
  std::size_t num_parameters() const { return model_.num_parameters(); }
  /// θ as above.
  VectorD parameters() const;
  /// Sets W, b, c (and σ = exp(log σ) with learn_sigma) from θ. Throws Error(Exit::usage)
  /// "GrbmFreeEnergy::set_parameters: theta has K entries but the model has P parameters",
  /// "...: theta[k] is not finite (x)", or, when exp(log σ_i) leaves (0, ∞) as a double,
  /// "...: log sigma[i] = x is out of range"; the model is unchanged after a throw.
  void set_parameters(const VectorD& theta);

  /// g += s ∂F(v)/∂θ.
  void add_energy_gradient(const Eigen::Ref<const VectorD>& v, double s, Eigen::Ref<VectorD> g) const;
  /// g += s ∂(rᵀ∇F(v))/∂θ.
  void add_score_vjp(const Eigen::Ref<const VectorD>& v, const Eigen::Ref<const VectorD>& r, double s,
                     Eigen::Ref<VectorD> g) const;
  /// g += s ∂ΔF(v)/∂θ.
  void add_laplacian_gradient(const Eigen::Ref<const VectorD>& v, double s, Eigen::Ref<VectorD> g) const;
  /// g += s ∂(zᵀ∇²F(v) z)/∂θ.
  void add_hessian_quadratic_gradient(const Eigen::Ref<const VectorD>& v, const Eigen::Ref<const VectorD>& z,
                                      double s, Eigen::Ref<VectorD> g) const;

  // ---- batched score-matching objectives -----------------------------------------
  /// Σ_n Σ_m [½ (z_nmᵀ∇F(v_n))² − z_nmᵀ∇²F(v_n) z_nm] over the rows v_n of `rows` (N×n)
  /// and their M projections, row n·M + m of `projections` (N·M × n), and, when g is not
  /// empty, g += its θ-gradient: the per-row terms of sliced_score_matching_objective as
  /// matrix products over the block (five; seven with learn_sigma). Throws
  /// Error(Exit::usage) on a wrong number of columns, a projection count that is not a
  /// multiple of N, or a g of another non-zero size.
  double add_sliced_score_matching_terms(const Eigen::Ref<const MatrixD>& rows,
                                         const Eigen::Ref<const MatrixD>& projections, Eigen::Ref<VectorD> g) const;
  /// Σ_n ½‖σ∇F(ṽ_n) − ε_n‖² over the noisy rows ṽ_n of `noisy` (N×n) and the noise ε_n
  /// that made them (the rows of `noise`) at level σ, and, when g is not empty, g += its
  /// θ-gradient: the per-row terms of denoising_score_matching_objective as matrix
  /// products over the block (five; six with learn_sigma). Throws Error(Exit::usage) on a
  /// wrong shape or a g of another non-zero size.
  double add_denoising_score_matching_terms(const Eigen::Ref<const MatrixD>& noisy, const Eigen::Ref<const MatrixD>& noise,
                                            double sigma, Eigen::Ref<VectorD> g) const;

  /// 1/σ_i² (cached).
  const VectorD& inverse_variance() const { return inv_var_; }
  /// W_ij / σ_i² (cached): the hidden pre-activations are c + (W/σ²)ᵀ v.
  const MatrixD& scaled_weights() const { return scaled_weights_; }

 private:
  void refresh();
  void check_point(const char* who, Eigen::Index v_size, Eigen::Index g_size) const;
  GaussianRbm model_;
  VectorD inv_var_;         // 1/σ²
  MatrixD scaled_weights_;  // diag(1/σ²) W
  VectorD lap_weights_;     // a_j = Σ_i W_ij² / σ_i⁴
};

/// (1/rows) Σ_r ∂F(v_r)/∂θ over the rows of `rows` (one state per row), θ as in
/// GrbmFreeEnergy: ∂F/∂W_ij = −u_i p_j, ∂F/∂b_i = −s_i (v_i − b_i), ∂F/∂c_j = −p_j,
/// ∂F/∂log σ_i = −s_i (v_i − b_i)² + 2 u_i (W p)_i (s = 1/σ², u = s ⊙ v, p = p(h = 1 | v)),
/// a row block at a time with matrix products; fixed row blocks summed in block order
/// (the same bits for any thread count). Throws Error(Exit::usage) on a column count
/// other than n_visible or no rows.
VectorD grbm_mean_free_energy_gradient(const GrbmFreeEnergy& model, const Eigen::Ref<const MatrixD>& rows,
                                       const Exec& ex);

}  // namespace logz
