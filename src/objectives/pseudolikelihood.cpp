// Pseudolikelihood objective of Potts models: tiled gather/scatter gradient kernel,
// data preparation, and the L-BFGS fit.
#include "logz/objectives/pseudolikelihood.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "logz/core/check.hpp"
#include "logz/core/memory.hpp"
#include "logz/optim/lbfgs.hpp"

namespace logz {

namespace {

// A tile holds the conditionals of about this many states (sites × q) so that one
// site's (q+1) coupling rows of the tile stay in L1 while a block of sequences streams
// through them; a block of this many sequences keeps the tile's potentials in L2 while
// the tile's slab of the coupling matrix (L(q+1) rows) is read once per block.
constexpr std::size_t kTileStates = 128;
constexpr std::size_t kSequenceBlock = 512;
constexpr std::size_t kAlign = 16;

std::size_t round_up(std::size_t n, std::size_t k) { return (n + k - 1) / k * k; }

template <class T>
inline void add_row(T* __restrict dst, const T* __restrict src, std::size_t n) {
#pragma omp simd
  for (std::size_t c = 0; c < n; ++c) dst[c] += src[c];
}

// dst0..dst3 += src: four different rows, src read once.
template <class T>
inline void add_to_rows4(T* __restrict d0, T* __restrict d1, T* __restrict d2, T* __restrict d3,
                         const T* __restrict src, std::size_t n) {
#pragma omp simd
  for (std::size_t k = 0; k < n; ++k) {
    const T v = src[k];
    d0[k] += v, d1[k] += v, d2[k] += v, d3[k] += v;
  }
}

template <class T>
inline void add_rows4(T* __restrict dst, const T* __restrict a, const T* __restrict b, const T* __restrict c,
                      const T* __restrict d, std::size_t n) {
#pragma omp simd
  for (std::size_t k = 0; k < n; ++k) dst[k] += (a[k] + b[k]) + (c[k] + d[k]);
}

}  // namespace

// ---------------------------------------------------------------------------------
// Data

void check_potts_data(const PottsData& d) {
  check_data(d.q >= 2 && d.q <= 255, "pseudolikelihood: q must be in [2, 255], got {}", d.q);
  check_data(d.states.rows() > 0 && d.states.cols() > 0, "pseudolikelihood: the data has {} sequences of {} sites",
             d.states.rows(), d.states.cols());
  check_data(d.weights.size() == d.states.rows(), "pseudolikelihood: {} weights for {} sequences", d.weights.size(),
             d.states.rows());
  double total = 0;
  for (Eigen::Index s = 0; s < d.weights.size(); ++s) {
    check_data(std::isfinite(d.weights[s]) && d.weights[s] >= 0,
               "pseudolikelihood: weight {} is {}, not finite and >= 0", s, d.weights[s]);
    total += d.weights[s];
  }
  check_data(total > 0, "pseudolikelihood: the weights sum to 0");
  for (Eigen::Index s = 0; s < d.states.rows(); ++s)
    for (Eigen::Index i = 0; i < d.states.cols(); ++i)
      check_data(d.states(s, i) <= d.q, "pseudolikelihood: sequence {} site {} has state {}, beyond q = {}", s, i,
                 int(d.states(s, i)), d.q);
}

PottsData potts_data(const Matrix<std::uint8_t>& states, const std::string& alphabet, const VectorD& weights,
                     bool ignore_gaps) {
  check_arg(weights.size() == states.rows(), "potts_data: {} weights for {} sequences", weights.size(), states.rows());
  const bool has_gap = !alphabet.empty() && (alphabet[0] == '-' || alphabet[0] == '.');
  check_arg(!ignore_gaps || has_gap, "potts_data: the alphabet '{}' has no gap (first letter '-' or '.') to ignore",
            alphabet);
  PottsData d;
  d.weights = weights;
  if (!ignore_gaps) {
    d.states = states;
    d.q = alphabet.size();
    d.alphabet = alphabet;
    return d;
  }
  d.q = alphabet.size() - 1;
  d.alphabet = alphabet.substr(1);
  d.states = states;
  const auto absent = std::uint8_t(d.q);
  for (Eigen::Index k = 0; k < d.states.size(); ++k) {
    std::uint8_t& v = d.states.data()[k];
    v = v == 0 ? absent : std::uint8_t(v - 1);
  }
  return d;
}

void PseudolikelihoodConfig::validate() const {
  check_arg(std::isfinite(lambda_h) && lambda_h >= 0, "pseudolikelihood: lambda_h must be finite and >= 0, got {}",
            lambda_h);
  check_arg(std::isfinite(lambda_e) && lambda_e >= 0, "pseudolikelihood: lambda_e must be finite and >= 0, got {}",
            lambda_e);
  check_arg(std::isfinite(gradient_tolerance) && gradient_tolerance > 0,
            "pseudolikelihood: gradient_tolerance must be finite and > 0, got {}", gradient_tolerance);
  check_arg(std::isfinite(relative_decrease) && relative_decrease >= 0,
            "pseudolikelihood: relative_decrease must be finite and >= 0, got {}", relative_decrease);
  check_arg(memory >= 1 && memory <= 100, "pseudolikelihood: memory must be in [1, 100], got {}", memory);
  check_arg(max_iterations <= std::size_t(std::numeric_limits<int>::max()),
            "pseudolikelihood: max_iterations is too large ({})", max_iterations);
  check_arg(decrease_window <= 1000, "pseudolikelihood: decrease_window must be <= 1000, got {}", decrease_window);
}

namespace {
std::size_t num_coupling_blocks(std::size_t l, PlVariant v) {
  return v == PlVariant::symmetric ? l * (l - 1) / 2 : l * (l - 1);
}
}  // namespace

std::size_t pseudolikelihood_memory_bytes(std::size_t n, std::size_t l, std::size_t q,
                                          const PseudolikelihoodConfig& config) {
  const char* what = "pseudolikelihood";
  const std::size_t elem = config.precision == PlPrecision::float32 ? 4 : 8;
  // Coupling matrix and its gradient: L(q+1) rows of round_up(Lq) entries each.
  const std::size_t rows = checked_product(l, q + 1, what);
  const std::size_t ld = round_up(checked_product(l, q, what), kAlign);
  const std::size_t kernel = checked_product(checked_product(checked_product(rows, ld, what), elem, what), 2, what);
  // Optimiser: θ, gradient and L-BFGS's 2·m + 5 vectors, plus the fit's best θ.
  const std::size_t params = checked_sum(checked_product(l, q, what),
                                         checked_product(num_coupling_blocks(l, config.variant), q * q, what), what);
  const std::size_t optimiser = checked_product(checked_product(params, 8, what), 2 * config.memory + 8, what);
  return checked_sum(checked_sum(kernel, optimiser, what), checked_product(n, l, what), what);
}

// ---------------------------------------------------------------------------------
// The objective

struct PseudolikelihoodObjective::Impl {
  std::size_t n = 0, l = 0, q = 0, q1 = 0, lq = 0, ld = 0;
  PlVariant variant = PlVariant::symmetric;
  PlPrecision precision = PlPrecision::float64;
  double lambda_h = 0, lambda_e = 0;
  Exec exec{1};
  std::vector<std::uint8_t> xt;  // L × N: states site by site, so a block of sequences is contiguous
  VectorD weights;
  Blocks tiles{0, 1}, seq_blocks{0, 1};
  std::vector<double> e64, g64, h64;
  std::vector<float> e32, g32, h32;
  VectorD grad_h;  // Σ over sequences of the field gradient, per tile's sites
  double neg_log_pl = 0;

  std::size_t coupling_blocks() const { return num_coupling_blocks(l, variant); }
  std::size_t num_parameters() const { return lq + coupling_blocks() * q * q; }

  // Index of the first entry of the parameter block coupling i (rows a) to j (cols b).
  // Symmetric: i < j required; asymmetric: the block of conditional i.
  std::size_t block_offset(std::size_t i, std::size_t j) const {
    const std::size_t k = variant == PlVariant::symmetric ? i * l - i * (i + 1) / 2 + (j - i - 1)
                                                          : i * (l - 1) + (j < i ? j : j - 1);
    return lq + k * q * q;
  }

  template <class T>
  std::vector<T>& coupling_matrix() {
    if constexpr (std::is_same_v<T, double>) return e64;
    else return e32;
  }
  template <class T>
  std::vector<T>& gradient_matrix() {
    if constexpr (std::is_same_v<T, double>) return g64;
    else return g32;
  }
  template <class T>
  std::vector<T>& field_vector() {
    if constexpr (std::is_same_v<T, double>) return h64;
    else return h32;
  }

  // θ → coupling matrix E[(j, b), (i, a)]: what conditional i adds to state a when
  // site j is in state b. Rows b = q (absent) and the diagonal blocks stay zero.
  template <class T>
  void expand(const VectorD& theta) {
    std::vector<T>& e = coupling_matrix<T>();
    std::vector<T>& h = field_vector<T>();
    for (std::size_t k = 0; k < lq; ++k) h[k] = T(theta[Eigen::Index(k)]);
    parallel_for(exec, l, [&](std::size_t i) {  // column slab of conditional i
      for (std::size_t j = 0; j < l; ++j) {
        if (j == i) continue;
        const bool sym = variant == PlVariant::symmetric;
        // Symmetric: the pair's block is stored once, rows for min(i, j).
        const bool rows_are_i = !sym || i < j;
        const double* blk = theta.data() + (sym ? block_offset(std::min(i, j), std::max(i, j)) : block_offset(i, j));
        for (std::size_t b = 0; b < q; ++b) {
          T* dst = e.data() + (j * q1 + b) * ld + i * q;
          for (std::size_t a = 0; a < q; ++a) dst[a] = T(rows_are_i ? blk[a * q + b] : blk[b * q + a]);
        }
      }
    });
  }

  // One tile's conditionals for every sequence: adds its -Σ w log p to the return value,
  // writes its columns of the gradient matrix and its fields' gradient.
  template <class T>
  double tile_pass(std::size_t tile) {
    const std::vector<T>& e = coupling_matrix<T>();
    std::vector<T>& g = gradient_matrix<T>();
    const std::vector<T>& h = field_vector<T>();
    const std::size_t i0 = tiles.begin(tile), i1 = tiles.end(tile);
    const std::size_t col0 = i0 * q, width = (i1 - i0) * q, stride = round_up(width, kAlign);
    for (std::size_t r = 0; r < l * q1; ++r) std::fill_n(g.data() + r * ld + col0, width, T(0));
    std::vector<T> pot(seq_blocks.block * stride);
    std::vector<double> gh(width, 0.0);
    double fx = 0;
    for (std::size_t sb = 0; sb < seq_blocks.count(); ++sb) {
      const std::size_t s0 = seq_blocks.begin(sb), nb = seq_blocks.size(sb);
      for (std::size_t s = 0; s < nb; ++s) std::copy_n(h.data() + col0, width, pot.data() + s * stride);
      // Gather: potentials += E[(j, x_sj), tile] over j, four sites at a time.
      std::size_t j = 0;
      for (; j + 4 <= l; j += 4) {
        const T* e0 = e.data() + j * q1 * ld + col0;
        const T* e1 = e0 + q1 * ld;
        const T* e2 = e1 + q1 * ld;
        const T* e3 = e2 + q1 * ld;
        const std::uint8_t* x0 = xt.data() + j * n + s0;
        const std::uint8_t* x1 = x0 + n;
        const std::uint8_t* x2 = x1 + n;
        const std::uint8_t* x3 = x2 + n;
        for (std::size_t s = 0; s < nb; ++s)
          add_rows4(pot.data() + s * stride, e0 + x0[s] * ld, e1 + x1[s] * ld, e2 + x2[s] * ld, e3 + x3[s] * ld,
                    width);
      }
      for (; j < l; ++j) {
        const T* ej = e.data() + j * q1 * ld + col0;
        const std::uint8_t* xj = xt.data() + j * n + s0;
        for (std::size_t s = 0; s < nb; ++s) add_row(pot.data() + s * stride, ej + xj[s] * ld, width);
      }
      // Conditionals: -w log p(x_si) and the residual w (p - onehot), in place.
      for (std::size_t s = 0; s < nb; ++s) {
        const double w = weights[Eigen::Index(s0 + s)];
        for (std::size_t i = i0; i < i1; ++i) {
          T* u = pot.data() + s * stride + (i - i0) * q;
          const std::uint8_t x = xt[i * n + s0 + s];
          if (x >= q || w == 0) {
            std::fill_n(u, q, T(0));
            continue;
          }
          T m = u[0];
          for (std::size_t a = 1; a < q; ++a) m = std::max(m, u[a]);
          const T ux = u[x];
          T z = 0;
          for (std::size_t a = 0; a < q; ++a) z += (u[a] = std::exp(u[a] - m));
          fx += w * double(m + std::log(z) - ux);
          const T scale = T(w) / z;
          for (std::size_t a = 0; a < q; ++a) u[a] *= scale;
          u[x] -= T(w);
          double* gha = gh.data() + (i - i0) * q;
          for (std::size_t a = 0; a < q; ++a) gha[a] += double(u[a]);
        }
      }
      // Scatter: G[(j, x_sj), tile] += residual, four sites at a time (distinct rows).
      for (j = 0; j + 4 <= l; j += 4) {
        T* g0 = g.data() + j * q1 * ld + col0;
        T* g1 = g0 + q1 * ld;
        T* g2 = g1 + q1 * ld;
        T* g3 = g2 + q1 * ld;
        const std::uint8_t* x0 = xt.data() + j * n + s0;
        const std::uint8_t* x1 = x0 + n;
        const std::uint8_t* x2 = x1 + n;
        const std::uint8_t* x3 = x2 + n;
        for (std::size_t s = 0; s < nb; ++s)
          add_to_rows4(g0 + x0[s] * ld, g1 + x1[s] * ld, g2 + x2[s] * ld, g3 + x3[s] * ld, pot.data() + s * stride,
                       width);
      }
      for (; j < l; ++j) {
        T* gj = g.data() + j * q1 * ld + col0;
        const std::uint8_t* xj = xt.data() + j * n + s0;
        for (std::size_t s = 0; s < nb; ++s) add_row(gj + xj[s] * ld, pot.data() + s * stride, width);
      }
    }
    for (std::size_t k = 0; k < width; ++k) grad_h[Eigen::Index(col0 + k)] = gh[k];
    return fx;
  }

  template <class T>
  double evaluate(const VectorD& theta, VectorD& grad) {
    expand<T>(theta);
    neg_log_pl = parallel_reduce(
        exec, tiles.count(), 0.0, [&](std::size_t t) { return tile_pass<T>(t); },
        [](double a, double b) { return a + b; });
    grad.resize(theta.size());
    double fx = neg_log_pl;
    for (std::size_t k = 0; k < lq; ++k) {
      const double v = theta[Eigen::Index(k)];
      grad[Eigen::Index(k)] = grad_h[Eigen::Index(k)] + 2 * lambda_h * v;
      fx += lambda_h * v * v;
    }
    const std::vector<T>& g = gradient_matrix<T>();
    // Fold the gradient matrix into the parameter blocks; the penalty per site row.
    const double penalty = parallel_reduce(
        exec, l, 0.0,
        [&](std::size_t i) {
          double pen = 0;
          for (std::size_t j = 0; j < l; ++j) {
            if (j == i || (variant == PlVariant::symmetric && j < i)) continue;
            const std::size_t off = block_offset(i, j);
            for (std::size_t a = 0; a < q; ++a)
              for (std::size_t b = 0; b < q; ++b) {
                // Conditional i's use: row (j, b), column (i, a); conditional j's: row (i, a), column (j, b).
                double d = double(g[(j * q1 + b) * ld + i * q + a]);
                if (variant == PlVariant::symmetric) d += double(g[(i * q1 + a) * ld + j * q + b]);
                const double v = theta[Eigen::Index(off + a * q + b)];
                grad[Eigen::Index(off + a * q + b)] = d + 2 * lambda_e * v;
                pen += v * v;
              }
          }
          return pen;
        },
        [](double a, double b) { return a + b; });
    return fx + lambda_e * penalty;
  }
};

PseudolikelihoodObjective::PseudolikelihoodObjective(const PottsData& data, PlVariant variant, PlPrecision precision,
                                                     double lambda_h, double lambda_e, const Exec& exec)
    : impl_(std::make_unique<Impl>()) {
  check_potts_data(data);
  Impl& m = *impl_;
  m.variant = variant;
  m.precision = precision;
  m.lambda_h = lambda_h;
  m.lambda_e = lambda_e;
  m.exec = exec;
  m.n = std::size_t(data.states.rows());
  m.l = std::size_t(data.states.cols());
  m.q = data.q;
  m.q1 = m.q + 1;
  m.lq = m.l * m.q;
  m.ld = round_up(m.lq, kAlign);
  m.weights = data.weights;
  m.xt.resize(m.n * m.l);
  for (std::size_t s = 0; s < m.n; ++s)
    for (std::size_t i = 0; i < m.l; ++i) m.xt[i * m.n + s] = data.states(Eigen::Index(s), Eigen::Index(i));
  const std::size_t sites_per_tile = std::max<std::size_t>(1, kTileStates / m.q);
  m.tiles = Blocks{m.l, sites_per_tile};
  m.seq_blocks = Blocks{m.n, kSequenceBlock};
  const std::size_t cells = m.l * m.q1 * m.ld;
  if (precision == PlPrecision::float64) {
    m.e64.assign(cells, 0.0), m.g64.assign(cells, 0.0), m.h64.assign(m.lq, 0.0);
  } else {
    m.e32.assign(cells, 0.0f), m.g32.assign(cells, 0.0f), m.h32.assign(m.lq, 0.0f);
  }
  m.grad_h = VectorD::Zero(Eigen::Index(m.lq));
}

PseudolikelihoodObjective::~PseudolikelihoodObjective() = default;
PseudolikelihoodObjective::PseudolikelihoodObjective(PseudolikelihoodObjective&&) noexcept = default;

std::size_t PseudolikelihoodObjective::num_parameters() const { return impl_->num_parameters(); }
double PseudolikelihoodObjective::last_neg_log_pl() const { return impl_->neg_log_pl; }

double PseudolikelihoodObjective::operator()(const VectorD& theta, VectorD& grad) {
  check_arg(std::size_t(theta.size()) == num_parameters(), "pseudolikelihood: {} parameters given, the objective has {}",
            theta.size(), num_parameters());
  return impl_->precision == PlPrecision::float64 ? impl_->evaluate<double>(theta, grad)
                                                  : impl_->evaluate<float>(theta, grad);
}

VectorD PseudolikelihoodObjective::initial_parameters() const {
  const Impl& m = *impl_;
  VectorD theta = VectorD::Zero(Eigen::Index(m.num_parameters()));
  const double neff = m.weights.sum();
  for (std::size_t i = 0; i < m.l; ++i) {
    std::vector<double> f(m.q, 0.0);
    double present = 0;
    for (std::size_t s = 0; s < m.n; ++s) {
      const std::uint8_t x = m.xt[i * m.n + s];
      if (x < m.q) f[x] += m.weights[Eigen::Index(s)], present += m.weights[Eigen::Index(s)];
    }
    double mean = 0;
    for (std::size_t a = 0; a < m.q; ++a) {
      const double fa = present > 0 ? f[a] / present : 1.0 / double(m.q);
      f[a] = std::log(fa * neff + 1.0);
      mean += f[a] / double(m.q);
    }
    for (std::size_t a = 0; a < m.q; ++a) theta[Eigen::Index(i * m.q + a)] = f[a] - mean;
  }
  return theta;
}

Potts PseudolikelihoodObjective::model(const VectorD& theta) const {
  const Impl& m = *impl_;
  check_arg(std::size_t(theta.size()) == m.num_parameters(),
            "pseudolikelihood: {} parameters given, the objective has {}", theta.size(), m.num_parameters());
  Potts model = Potts::dense(m.l, m.q);
  if (m.variant == PlVariant::symmetric) {
    model.set_parameters(theta);
    return model;
  }
  VectorD p(Eigen::Index(model.num_parameters()));
  p.head(Eigen::Index(m.lq)) = theta.head(Eigen::Index(m.lq));
  std::size_t e = 0;
  for (std::size_t i = 0; i < m.l; ++i)
    for (std::size_t j = i + 1; j < m.l; ++j, ++e) {
      const double* bij = theta.data() + m.block_offset(i, j);
      const double* bji = theta.data() + m.block_offset(j, i);
      for (std::size_t a = 0; a < m.q; ++a)
        for (std::size_t b = 0; b < m.q; ++b)
          p[Eigen::Index(m.lq + e * m.q * m.q + a * m.q + b)] = 0.5 * (bij[a * m.q + b] + bji[b * m.q + a]);
    }
  model.set_parameters(p);
  return model;
}

// ---------------------------------------------------------------------------------
// The fit

PseudolikelihoodFit fit_pseudolikelihood(const PottsData& data, const PseudolikelihoodConfig& config, const Exec& exec,
                                         Observer& obs) {
  config.validate();
  check_potts_data(data);
  const auto t0 = std::chrono::steady_clock::now();
  check_memory_available(pseudolikelihood_memory_bytes(std::size_t(data.states.rows()),
                                                       std::size_t(data.states.cols()), data.q, config),
                         "pseudolikelihood");
  PseudolikelihoodObjective f(data, config.variant, config.precision, config.lambda_h, config.lambda_e, exec);
  // -log PL of every evaluation, to report the one of the point returned.
  std::vector<std::pair<double, double>> evaluated;
  auto objective = [&](const VectorD& theta, VectorD& grad) {
    const double v = f(theta, grad);
    evaluated.emplace_back(v, f.last_neg_log_pl());
    return v;
  };
  LbfgsOptions opt;
  opt.max_iterations = config.max_iterations > 0 ? config.max_iterations : std::size_t(std::numeric_limits<int>::max());
  opt.gradient_tolerance = config.gradient_tolerance;  // ‖g‖ <= ε max(1, ‖θ‖), as plmc
  opt.relative_tolerance = true;
  opt.relative_decrease = config.relative_decrease;
  opt.decrease_window = config.decrease_window;
  opt.memory = config.memory;
  LbfgsResult r = minimize_lbfgs(objective, f.initial_parameters(), opt, [&](std::size_t iteration, double) {
    obs.progress("pseudolikelihood", iteration, config.max_iterations);
  });
  PseudolikelihoodFit fit;
  fit.model = f.model(r.x);
  fit.objective = r.value;
  for (auto it = evaluated.rbegin(); it != evaluated.rend(); ++it)
    if (it->first == r.value) {
      fit.neg_log_pl = it->second;
      break;
    }
  fit.iterations = r.iterations;
  fit.evaluations = r.evaluations;
  fit.stopped_by = r.stopped_by;
  fit.objective_trace = std::move(r.trace);
  fit.seconds = seconds_since(t0);
  return fit;
}

}  // namespace logz
