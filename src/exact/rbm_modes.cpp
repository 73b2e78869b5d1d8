// Modes of an RBM's smaller layer by greedy ascent, and the certified bound on log Z.
#include "logz/exact/rbm_modes.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/math.hpp"
#include "rbm_layer.hpp"

namespace logz {
namespace {

using detail::LayerMarginal;
using State = std::vector<std::uint8_t>;

/// A flip must raise log p~ by more than this: rounding in the running pre-activations
/// cannot then make two states each look better than the other (no cycles).
constexpr double min_gain = 1e-9;
/// Sweeps of one ascent at most (each accepted flip raises log p~, so it ends anyway).
constexpr std::size_t max_sweeps = 1000;

/// The gain in log p~ of flipping unit j of s, given x and sp = softplus(x); the new
/// softplus values into `next`.
double flip_gain(const LayerMarginal& p, const State& s, std::size_t j, const std::vector<double>& x,
                 const std::vector<double>& sp, std::vector<double>& next) {
  const double d = s[j] ? -1.0 : 1.0;
  const double* col = &p.columns[j * p.n_o];
  double gain = d * p.lin[j];
  for (std::size_t i = 0; i < p.n_o; ++i) {
    next[i] = softplus(x[i] + d * col[i]);
    gain += next[i] - sp[i];
  }
  return gain;
}

/// Greedy ascent from s (first improvement, units in order) to a local maximum.
void ascend(const LayerMarginal& p, State& s) {
  std::vector<double> x, sp(p.n_o), next(p.n_o);
  p.evaluate(s.data(), x);
  for (std::size_t i = 0; i < p.n_o; ++i) sp[i] = softplus(x[i]);
  for (std::size_t sweep = 0; sweep < max_sweeps; ++sweep) {
    bool moved = false;
    for (std::size_t j = 0; j < p.n_s; ++j) {
      if (flip_gain(p, s, j, x, sp, next) <= min_gain) continue;
      const double d = s[j] ? -1.0 : 1.0;
      const double* col = &p.columns[j * p.n_o];
      for (std::size_t i = 0; i < p.n_o; ++i) x[i] += d * col[i];
      sp.swap(next);
      s[j] ^= 1;
      moved = true;
    }
    if (!moved) return;
  }
}

/// log p~(s) from scratch, and the log p~ of each one-flip neighbour.
double value_and_neighbours(const LayerMarginal& p, const State& s, std::vector<double>& neighbours) {
  std::vector<double> x, sp(p.n_o), next(p.n_o);
  const double lin = p.evaluate(s.data(), x);
  double value = lin;
  for (std::size_t i = 0; i < p.n_o; ++i) value += sp[i] = softplus(x[i]);
  neighbours.resize(p.n_s);
  for (std::size_t j = 0; j < p.n_s; ++j) neighbours[j] = value + flip_gain(p, s, j, x, sp, next);
  return value;
}

}  // namespace

std::size_t default_mode_starts(const RbmD& m) {
  const double per_sweep = double(m.n_visible()) * double(m.n_hidden());
  return std::size_t(std::clamp(2e7 / std::max(per_sweep, 1.0) / 5.0, 16.0, 200.0));
}

RbmModes rbm_mode_search(const RbmD& m, const MatrixU8& visible_starts, std::size_t random_starts,
                         std::uint64_t seed, const Exec& ex) {
  m.validate("rbm_mode_search");
  check_arg(visible_starts.rows() == 0 || std::size_t(visible_starts.cols()) == m.n_visible(),
            "rbm_mode_search: start rows have {} columns, the model has {} visible units", visible_starts.cols(),
            m.n_visible());
  const LayerMarginal p = LayerMarginal::smaller_layer(m);
  const std::size_t from_rows = std::size_t(visible_starts.rows()), total = from_rows + random_starts;
  check_arg(total >= 1, "rbm_mode_search: no starts");

  // One ascent per start, each into its own slot: the same optima for any thread count.
  std::vector<State> optima(total, State(p.n_s));
  parallel_for(ex, total, [&](std::size_t k) {
    State& s = optima[k];
    if (k < from_rows) {
      const auto v = visible_starts.row(Eigen::Index(k)).cast<double>();
      for (std::size_t j = 0; j < p.n_s; ++j)
        s[j] = p.hidden ? std::uint8_t(m.hidden_bias[Eigen::Index(j)] + v.dot(m.weights.col(Eigen::Index(j))) > 0)
                        : std::uint8_t(v[Eigen::Index(j)]);
    } else {
      Stream st = Stream::derive(seed, mode_search_stream, k - from_rows);
      for (std::size_t j = 0; j < p.n_s; ++j) s[j] = std::uint8_t(st.next_u32() & 1);
    }
    ascend(p, s);
  });
  std::sort(optima.begin(), optima.end());
  optima.erase(std::unique(optima.begin(), optima.end()), optima.end());

  // Each distinct optimum's value from scratch, then every distinct state among the optima
  // and their neighbours counted once (the first value met, in sorted order).
  std::vector<double> values(optima.size());
  std::vector<std::vector<double>> neighbours(optima.size());
  parallel_for(ex, optima.size(), [&](std::size_t k) { values[k] = value_and_neighbours(p, optima[k], neighbours[k]); });
  std::map<State, double> counted;
  for (std::size_t k = 0; k < optima.size(); ++k) counted.emplace(optima[k], values[k]);
  for (std::size_t k = 0; k < optima.size(); ++k) {
    State s = optima[k];
    for (std::size_t j = 0; j < p.n_s; ++j) {
      s[j] ^= 1;
      counted.emplace(s, neighbours[k][j]);
      s[j] ^= 1;
    }
  }
  LogSumExp bound;
  for (const auto& [s, v] : counted) bound.add(v);

  std::vector<std::size_t> order(optima.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] > values[b]; });
  RbmModes out;
  out.hidden_layer = p.hidden;
  out.states.resize(Eigen::Index(optima.size()), Eigen::Index(p.n_s));
  out.log_weights.resize(Eigen::Index(optima.size()));
  for (std::size_t r = 0; r < order.size(); ++r) {
    for (std::size_t j = 0; j < p.n_s; ++j) out.states(Eigen::Index(r), Eigen::Index(j)) = optima[order[r]][j];
    out.log_weights[Eigen::Index(r)] = values[order[r]];
  }
  out.log_lower_bound = bound.value();
  out.states_counted = counted.size();
  out.starts = total;
  return out;
}

MatrixU8 rbm_mode_draws(const RbmD& m, const RbmModes& modes, std::size_t n, std::uint64_t seed, Purpose purpose) {
  const Eigen::Index k = modes.states.rows();
  check_arg(k >= 1, "rbm_mode_draws: no modes");
  const double top = modes.log_weights.maxCoeff();
  std::vector<double> cdf(static_cast<std::size_t>(k));
  double acc = 0;
  for (Eigen::Index r = 0; r < k; ++r) cdf[std::size_t(r)] = acc += std::exp(modes.log_weights[r] - top);
  MatrixU8 out(Eigen::Index(n), Eigen::Index(m.n_visible()));
  for (std::size_t r = 0; r < n; ++r) {
    Stream st = Stream::derive(seed, purpose, r);
    const double u = st.uniform_double() * acc;
    const auto pick = Eigen::Index(std::min<std::ptrdiff_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin(), k - 1));
    if (!modes.hidden_layer) {
      out.row(Eigen::Index(r)) = modes.states.row(pick);
      continue;
    }
    const VectorD pre = m.visible_bias + m.weights * modes.states.row(pick).transpose().template cast<double>();
    for (Eigen::Index i = 0; i < pre.size(); ++i) out(Eigen::Index(r), i) = std::uint8_t(st.uniform_double() < sigmoid(pre[i]));
  }
  return out;
}

}  // namespace logz
