#pragma once
// One layer's marginal of a binary RBM with the other layer summed out, in a form that
// does not care which layer it is (shared by enumeration and mode search):
//   log p~(s) = lin·s + Σ_i softplus(x_i),   x = bias + A s,
// s the layer's units (n_s), x the other layer's pre-activations (n_o), and column j of A
// (unit j's weights to the other layer) contiguous, for updates that flip one unit.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "logz/models/rbm.hpp"

namespace logz::detail {

struct LayerMarginal {
  std::size_t n_s = 0, n_o = 0;
  std::vector<double> columns;  // n_s × n_o
  std::vector<double> bias;     // n_o
  std::vector<double> lin;      // n_s
  bool hidden = true;           // s is the hidden layer

  /// The marginal of the smaller layer (hidden when n_hidden <= n_visible).
  static LayerMarginal smaller_layer(const RbmD& m) {
    LayerMarginal p;
    const std::size_t nv = m.n_visible(), nh = m.n_hidden();
    p.hidden = nh <= nv;
    p.n_s = p.hidden ? nh : nv;
    p.n_o = p.hidden ? nv : nh;
    p.columns.resize(p.n_s * p.n_o);
    for (std::size_t j = 0; j < p.n_s; ++j)
      for (std::size_t i = 0; i < p.n_o; ++i)
        p.columns[j * p.n_o + i] =
            p.hidden ? m.weights(Eigen::Index(i), Eigen::Index(j)) : m.weights(Eigen::Index(j), Eigen::Index(i));
    const VectorD& other_bias = p.hidden ? m.visible_bias : m.hidden_bias;
    const VectorD& lin = p.hidden ? m.hidden_bias : m.visible_bias;
    p.bias.assign(other_bias.data(), other_bias.data() + other_bias.size());
    p.lin.assign(lin.data(), lin.data() + lin.size());
    return p;
  }

  /// x = bias + A s for the state whose unit j is on when on(j); returns lin·s.
  template <class On>
  double evaluate_state(On&& on, std::vector<double>& x) const {
    x = bias;
    double l = 0;
    for (std::size_t j = 0; j < n_s; ++j) {
      if (!on(j)) continue;
      l += lin[j];
      const double* col = &columns[j * n_o];
      for (std::size_t i = 0; i < n_o; ++i) x[i] += col[i];
    }
    return l;
  }
  /// The same for a state given as one byte per unit (0/1).
  double evaluate(const std::uint8_t* s, std::vector<double>& x) const {
    return evaluate_state([s](std::size_t j) { return s[j] != 0; }, x);
  }
  /// The same for a state given as the bits of an integer (bit j = unit j; n_s <= 64).
  double evaluate(std::uint64_t s, std::vector<double>& x) const {
    return evaluate_state([s](std::size_t j) { return ((s >> j) & 1) != 0; }, x);
  }
};

}  // namespace logz::detail
