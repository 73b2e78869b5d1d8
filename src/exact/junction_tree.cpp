// Exact Potts partition function and marginals by variable elimination on a junction
// tree: elimination orders (min-fill, grid sweeps), the symbolic elimination that sizes
// them, and the log-domain upward (log Z) and downward (marginals) passes.
#include "logz/exact/junction_tree.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "logz/core/ranks.hpp"

namespace logz {
namespace {

// ---------------------------------------------------------------------------------------
// Orders

using Adjacency = std::vector<std::vector<std::size_t>>;  // sorted neighbour lists

Adjacency adjacency_of(const Potts& m) {
  Adjacency adj(m.n_sites());
  for (const PottsEdge& e : m.edges()) adj[e.i].push_back(e.j), adj[e.j].push_back(e.i);
  for (auto& a : adj) std::sort(a.begin(), a.end());
  return adj;
}

/// An elimination order with what it costs: scope[v] = N(v) when v is eliminated,
/// sorted by elimination position (so scope[v][0] is the parent clique's site).
struct Plan {
  std::vector<std::size_t> order;
  std::vector<std::vector<std::size_t>> scope;
  std::string method;
  std::size_t max_clique = 0;  // sites in the largest clique
  double cost = 0;             // Σ_v q^{|clique of v|}
  bool complete = false;       // false: abandoned (over the cost bound or hopelessly large)
};

/// The graph under elimination: removing v joins all its remaining neighbours.
class Eliminator {
 public:
  explicit Eliminator(Adjacency adj) : adj_(std::move(adj)) {}
  const std::vector<std::size_t>& neighbors(std::size_t v) const { return adj_[v]; }
  bool adjacent(std::size_t a, std::size_t b) const { return std::binary_search(adj_[a].begin(), adj_[a].end(), b); }
  /// Pairs of neighbours of v that are not yet adjacent.
  std::size_t fill(std::size_t v) const {
    const auto& nb = adj_[v];
    std::size_t f = 0;
    for (std::size_t x = 0; x < nb.size(); ++x)
      for (std::size_t y = x + 1; y < nb.size(); ++y) f += !adjacent(nb[x], nb[y]);
    return f;
  }
  /// Eliminates v; returns N(v).
  std::vector<std::size_t> eliminate(std::size_t v) {
    std::vector<std::size_t> nb = std::move(adj_[v]);
    adj_[v].clear();
    std::vector<std::size_t> merged;
    for (std::size_t u : nb) {
      merged.clear();
      std::set_union(adj_[u].begin(), adj_[u].end(), nb.begin(), nb.end(), std::back_inserter(merged));
      std::erase_if(merged, [&](std::size_t w) { return w == u || w == v; });
      adj_[u].swap(merged);
    }
    return nb;
  }

 private:
  Adjacency adj_;
};

double power(std::size_t q, std::size_t k) { return std::pow(double(q), double(k)); }

/// Records the elimination of v into the plan; false when the plan is abandoned: its cost
/// passed `bound`, or a clique is beyond 2^20 times the table limit (hopeless; the width
/// found so far is then a lower bound).
bool record(Plan& p, std::size_t v, std::vector<std::size_t> nb, std::size_t q, double bound, double limit) {
  p.order.push_back(v);
  p.max_clique = std::max(p.max_clique, nb.size() + 1);
  p.cost += power(q, nb.size() + 1);
  p.scope[v] = std::move(nb);
  return p.cost <= bound && power(q, p.max_clique) <= limit * 0x1p20;
}

/// Sorts each scope by elimination position.
void finish(Plan& p) {
  std::vector<std::size_t> pos(p.scope.size());
  for (std::size_t t = 0; t < p.order.size(); ++t) pos[p.order[t]] = t;
  for (auto& s : p.scope) std::sort(s.begin(), s.end(), [&](std::size_t a, std::size_t b) { return pos[a] < pos[b]; });
  p.complete = true;
}

Plan fixed_order_plan(const Adjacency& adj, const std::vector<std::size_t>& order, std::string method, std::size_t q,
                      double bound, double limit) {
  Plan p;
  p.method = std::move(method);
  p.scope.resize(adj.size());
  Eliminator g(adj);
  for (std::size_t v : order)
    if (!record(p, v, g.eliminate(v), q, bound, limit)) return p;
  finish(p);
  return p;
}

/// Greedy min-fill: eliminate the site whose elimination adds the fewest edges (ties:
/// fewer neighbours, then the lower index). Scores are kept in an ordered set and
/// recomputed only within two steps of the eliminated site.
Plan min_fill_plan(const Adjacency& adj, std::size_t q, double limit) {
  const std::size_t n = adj.size();
  Plan p;
  p.method = "min-fill";
  p.scope.resize(n);
  Eliminator g(adj);
  using Key = std::tuple<std::size_t, std::size_t, std::size_t>;  // fill, degree, site
  std::set<Key> queue;
  std::vector<Key> key(n);
  for (std::size_t v = 0; v < n; ++v) queue.insert(key[v] = {g.fill(v), adj[v].size(), v});
  std::vector<char> eliminated(n, 0), touched(n, 0);
  std::vector<std::size_t> affected;
  while (!queue.empty()) {
    const std::size_t v = std::get<2>(*queue.begin());
    queue.erase(queue.begin());
    eliminated[v] = 1;
    std::vector<std::size_t> nb = g.eliminate(v);
    affected.clear();
    for (std::size_t u : nb)
      for (std::size_t w : g.neighbors(u))
        if (!touched[w]) touched[w] = 1, affected.push_back(w);
    for (std::size_t u : nb)
      if (!touched[u]) touched[u] = 1, affected.push_back(u);
    if (!record(p, v, std::move(nb), q, std::numeric_limits<double>::infinity(), limit)) return p;
    for (std::size_t w : affected) {
      touched[w] = 0;
      if (eliminated[w]) continue;
      queue.erase(key[w]);
      queue.insert(key[w] = {g.fill(w), g.neighbors(w).size(), w});
    }
  }
  finish(p);
  return p;
}

/// Shapes R×C (R, C >= 2, R·C = L) of which the graph is a subgraph, sites numbered
/// row-major, neighbours along rows or columns, with or without wrap-around.
std::vector<std::pair<std::size_t, std::size_t>> grid_shapes(const Potts& m) {
  std::vector<std::pair<std::size_t, std::size_t>> shapes;
  const std::size_t n = m.n_sites();
  for (std::size_t r = 2; r * 2 <= n; ++r) {
    if (n % r) continue;
    const std::size_t c = n / r;
    auto near = [](std::size_t a, std::size_t b, std::size_t len) {
      const std::size_t d = a > b ? a - b : b - a;
      return d == 1 || (len >= 3 && d == len - 1);
    };
    const bool fits = std::all_of(m.edges().begin(), m.edges().end(), [&](const PottsEdge& e) {
      const std::size_t ri = e.i / c, ci = e.i % c, rj = e.j / c, cj = e.j % c;
      return (ri == rj && near(ci, cj, c)) || (ci == cj && near(ri, rj, r));
    });
    if (fits) shapes.emplace_back(r, c);
  }
  return shapes;
}

std::string entries_text(double x) {
  if (x >= 2 && x < 0x1p63 && std::has_single_bit(std::uint64_t(x)) && double(std::uint64_t(x)) == x)
    return fmt::format("2^{}", std::countr_zero(std::uint64_t(x)));
  return fmt::format("{}", x);
}

Plan choose_plan(const Potts& m, const JunctionTreeOptions& opt) {
  const std::size_t n = m.n_sites(), q = m.num_states();
  check_arg(opt.max_table_entries >= 1, "junction_tree: max_table_entries must be >= 1, got 0");
  const double limit = double(opt.max_table_entries);
  const Adjacency adj = adjacency_of(m);
  std::vector<Plan> plans;
  if (!opt.elimination_order.empty()) {
    const auto& order = opt.elimination_order;
    check_arg(order.size() == n, "junction_tree: elimination_order has {} entries but the model has {} sites",
              order.size(), n);
    std::vector<char> seen(n, 0);
    for (std::size_t t = 0; t < n; ++t) {
      check_arg(order[t] < n, "junction_tree: elimination_order entry {} is {}, not a site in [0, {})", t, order[t], n);
      check_arg(!seen[order[t]], "junction_tree: elimination_order lists site {} twice", order[t]);
      seen[order[t]] = 1;
    }
    plans.push_back(fixed_order_plan(adj, order, "user", q, std::numeric_limits<double>::infinity(), limit));
  } else {
    plans.push_back(min_fill_plan(adj, q, limit));
    for (const auto& [r, c] : grid_shapes(m)) {
      // Row by row (width C) and column by column (width R): the narrower sweep usually
      // wins, but wrap-around bonds double the width of the direction they cross.
      std::vector<std::size_t> rows(n), cols;
      for (std::size_t i = 0; i < n; ++i) rows[i] = i;
      for (std::size_t j = 0; j < c; ++j)
        for (std::size_t i = 0; i < r; ++i) cols.push_back(i * c + j);
      // Grid orders are sized in full (cheap: O(L·width²)), so that they can stand in
      // when min-fill's order is cheaper overall but too wide for the table limit.
      const double unbounded = std::numeric_limits<double>::infinity();
      plans.push_back(fixed_order_plan(adj, rows, "grid rows", q, unbounded, limit));
      plans.push_back(fixed_order_plan(adj, cols, "grid columns", q, unbounded, limit));
    }
  }
  // The cheapest complete plan within the table limit; failing that, the narrowest one,
  // for the message.
  const Plan* best = nullptr;
  for (const Plan& p : plans)
    if (p.complete && power(q, p.max_clique) <= limit && (!best || p.cost < best->cost)) best = &p;
  if (!best) {
    const Plan* narrow = nullptr;
    for (const Plan& p : plans)
      if (!narrow || p.max_clique < narrow->max_clique) narrow = &p;
    fail(Exit::usage,
         "junction_tree: treewidth {}{} (largest clique table {}^{} entries, {} order) exceeds the limit of {} entries "
         "(max_table_entries); exact log Z is out of reach, use an estimator",
         narrow->complete ? "" : ">= ", narrow->max_clique - 1, q, narrow->max_clique, narrow->method,
         entries_text(limit));
  }
  return *best;
}

// ---------------------------------------------------------------------------------------
// Tables and passes

/// A factor seen from the clique of v = digit 0, with the separator N(v) as digits
/// 1..k (digit p+1 = scope[v][p], value s_p): entry (a, s) of the factor is
/// in[base(s) + a·sv], base(s) = Σ_p s_p·stride[p]. Fields, edge blocks and child
/// messages are all read this way; `out` (same layout) receives marginal-pass sums.
struct Factor {
  const double* in;
  double* out;
  std::size_t sv;
};

/// One clique: its factors and their strides, flat [p·F + f].
struct Clique {
  std::size_t q, k;
  std::vector<Factor> f;
  std::vector<std::size_t> stride;

  std::size_t entries() const { return std::size_t(power(q, k)); }  // separator entries

  /// Calls body(t, base, s) for s in [s0, s1): t[a] = Σ_f in_f[base_f + a·sv_f] is the
  /// log weight of clique entry (a, s) and base holds each factor's base(s).
  template <class Body>
  void walk(std::size_t s0, std::size_t s1, Body&& body) const {
    if (q == 2) return walk_q<2>(s0, s1, body);
    if (q == 3) return walk_q<3>(s0, s1, body);
    return walk_q<0>(s0, s1, body);
  }

  /// Q = q known at compile time (2, 3), or 0 for any q.
  template <std::size_t Q, class Body>
  void walk_q(std::size_t s0, std::size_t s1, Body& body) const {
    const std::size_t qq = Q ? Q : q, nf = f.size();
    std::vector<std::size_t> digit(k), base(nf, 0), sv(nf);
    std::vector<const double*> in(nf);
    for (std::size_t j = 0; j < nf; ++j) in[j] = f[j].in, sv[j] = f[j].sv;
    std::vector<double> t(qq);
    std::size_t rest = s0;
    for (std::size_t p = 0; p < k; ++p) {
      digit[p] = rest % qq, rest /= qq;
      for (std::size_t j = 0; j < nf; ++j) base[j] += digit[p] * stride[p * nf + j];
    }
    for (std::size_t s = s0; s < s1; ++s) {
      for (std::size_t a = 0; a < qq; ++a) t[a] = 0;
      for (std::size_t j = 0; j < nf; ++j) {
        const double* x = in[j] + base[j];
        for (std::size_t a = 0; a < qq; ++a) t[a] += x[a * sv[j]];
      }
      body(t, base, s);
      for (std::size_t p = 0; p < k; ++p) {  // next s: odometer over the separator digits
        const std::size_t* st = stride.data() + p * nf;
        if (++digit[p] < qq) {
          for (std::size_t j = 0; j < nf; ++j) base[j] += st[j];
          break;
        }
        digit[p] = 0;
        for (std::size_t j = 0; j < nf; ++j) base[j] -= (qq - 1) * st[j];
      }
    }
  }
};

double log_sum_exp_q(const std::vector<double>& t) {
  if (t.size() == 2) {
    const double hi = std::max(t[0], t[1]), lo = std::min(t[0], t[1]);
    return hi + std::log1p(std::exp(lo - hi));
  }
  const double hi = *std::max_element(t.begin(), t.end());
  double s = 0;
  for (double x : t) s += std::exp(x - hi);
  return hi + std::log(s);
}

class Engine {
 public:
  Engine(const Potts& m, const Plan& plan, bool marginals)
      : m_(m), plan_(plan), n_(m.n_sites()), q_(m.num_states()), marginals_(marginals),
        children_(n_), edges_of_(n_), msg_(n_), delta_(n_), target_(n_), comp_(n_, 0.0) {
    std::vector<std::size_t> pos(n_);
    for (std::size_t t = 0; t < n_; ++t) pos[plan.order[t]] = t;
    for (std::size_t v = 0; v < n_; ++v)
      if (!plan.scope[v].empty()) children_[plan.scope[v][0]].push_back(v);
    for (std::size_t e = 0; e < m.n_edges(); ++e) {
      const PottsEdge& ed = m.edges()[e];
      edges_of_[pos[ed.i] < pos[ed.j] ? ed.i : ed.j].push_back(e);
    }
    for (auto& c : children_) std::sort(c.begin(), c.end(), [&](std::size_t a, std::size_t b) { return pos[a] < pos[b]; });
    if (marginals) site_ = MatrixD::Zero(Eigen::Index(n_), Eigen::Index(q_)), edge_ = VectorD::Zero(Eigen::Index(m.n_edges() * q_ * q_));
  }

  /// compute(b) for every block b of a message's entries `out`, on the threads; under
  /// mpirun each rank computes its own range of the blocks and then every rank receives
  /// the whole message (8 bytes an entry) and, when given, every block's number in
  /// `per_block`. Every entry is computed alone, so the split changes no bit.
  template <class Compute>
  static void spread_blocks(const Exec& ex, const Blocks& blocks, double* out, double* per_block, Compute&& compute) {
    const bool spread = ranks::spreading();
    const ranks::Range mine = ranks::owned_if(spread, blocks.count());
    parallel_for(ex, mine.size(), [&](std::size_t i) { compute(mine.begin + i); });
    if (!spread) return;
    ranks::share(out, ranks::block_bounds(blocks, sizeof(double)));
    if (per_block) ranks::share(per_block, ranks::block_bounds(blocks, 0, sizeof(double)));
  }

  /// Upward pass with scaled weights instead of logs (no exp or log per entry): every
  /// table is exp(its logs - its largest log), the largest logs summed in `scale`. A clique
  /// whose factors disagree so much that its message's largest entry falls below
  /// 1e-250 could lose entries to underflow: then this returns NaN, and the log-domain
  /// pass is used instead.
  double upward_scaled(const Exec& ex) {
    const std::size_t q = q_;
    std::vector<double> lin_fields(n_ * q), lin_edges(m_.n_edges() * q * q);
    std::vector<double> field_scale(n_), edge_scale(m_.n_edges());
    auto scale_table = [](const double* in, double* out, std::size_t size) {
      const double top = *std::max_element(in, in + size);
      for (std::size_t k = 0; k < size; ++k) out[k] = std::exp(in[k] - top);
      return top;
    };
    for (std::size_t v = 0; v < n_; ++v) field_scale[v] = scale_table(m_.fields().data() + v * q, lin_fields.data() + v * q, q);
    for (std::size_t e = 0; e < m_.n_edges(); ++e)
      edge_scale[e] = scale_table(m_.block(e).data(), lin_edges.data() + e * q * q, q * q);
    std::vector<double> scale(n_, 0.0);
    double log_z = 0;
    for (std::size_t v : plan_.order) {
      Clique c = clique(v);
      double sc = field_scale[v];
      c.f[0].in = lin_fields.data() + v * q;
      for (std::size_t j = 0; j < edges_of_[v].size(); ++j) {
        const std::size_t e = edges_of_[v][j];
        c.f[1 + j].in = lin_edges.data() + e * q * q;
        sc += edge_scale[e];
      }
      for (std::size_t ch : children_[v]) sc += scale[ch];
      allocate(msg_[v], c.entries());
      double* out = msg_[v].data();
      // Tiles of q^D separator entries (the D lowest digits); blocks of whole tiles, at
      // least 2^15 entries each, so that a parallel region has enough work to pay for its
      // barrier (on a busy machine a thread that is switched out stalls the region). Every
      // entry is computed alone: the split does not change the result.
      std::size_t d = 0, tile = 1;
      while (d < c.k && tile * q <= 64) ++d, tile *= q;
      const std::size_t min_block = std::size_t(1) << 15;
      const Blocks blocks{c.entries(), tile * ((std::max(min_block, c.entries() / 8) + tile - 1) / tile)};
      std::vector<double> block_max(blocks.count());
      spread_blocks(ex, blocks, out, block_max.data(), [&](std::size_t b) {
        block_max[b] = scaled_message(c, d, blocks.begin(b), blocks.end(b), out);
      });
      const double top = *std::max_element(block_max.begin(), block_max.end());
      if (!(top >= 1e-250) || !std::isfinite(top)) {
        for (auto& msg : msg_) release(msg);
        return std::numeric_limits<double>::quiet_NaN();
      }
      const double inv = 1 / top;  // one pass, on this thread: a parallel region costs more
      for (double& x : msg_[v]) x *= inv;
      scale[v] = sc + std::log(top);
      for (std::size_t ch : children_[v]) release(msg_[ch]);
      if (plan_.scope[v].empty()) log_z += scale[v], release(msg_[v]);
    }
    return log_z;
  }

  /// Entries [s0, s1) of a scaled message, out[s] = Σ_a Π_f in_f[...], one tile of q^d
  /// entries at a time: within a tile only the d lowest separator digits move, so each
  /// factor's offsets are a fixed table and the inner loops run over the tile (gathers
  /// that vectorise); an odometer moves the higher digits once per tile. Returns the
  /// largest entry.
  static double scaled_message(const Clique& c, std::size_t d, std::size_t s0, std::size_t s1, double* out) {
    const std::size_t q = c.q, k = c.k, nf = c.f.size();
    std::size_t tile = 1;
    for (std::size_t p = 0; p < d; ++p) tile *= q;
    std::vector<std::size_t> off(nf * tile), digit(k, 0), base(nf, 0);
    for (std::size_t r = 0; r < tile; ++r)
      for (std::size_t p = 0, rest = r; p < d; ++p, rest /= q)
        for (std::size_t j = 0; j < nf; ++j) off[j * tile + r] += (rest % q) * c.stride[p * nf + j];
    std::size_t rest = s0 / tile;
    for (std::size_t p = d; p < k; ++p) {
      digit[p] = rest % q, rest /= q;
      for (std::size_t j = 0; j < nf; ++j) base[j] += digit[p] * c.stride[p * nf + j];
    }
    std::vector<double> acc(tile), prod(tile);
    double mx = 0;
    for (std::size_t s = s0; s < s1; s += tile) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::size_t a = 0; a < q; ++a) {
        std::fill(prod.begin(), prod.end(), 1.0);
        for (std::size_t j = 0; j < nf; ++j) {
          const double* x = c.f[j].in + base[j] + a * c.f[j].sv;
          const std::size_t* o = off.data() + j * tile;
          for (std::size_t r = 0; r < tile; ++r) prod[r] *= x[o[r]];
        }
        for (std::size_t r = 0; r < tile; ++r) acc[r] += prod[r];
      }
      for (std::size_t r = 0; r < tile; ++r) out[s + r] = acc[r], mx = std::max(mx, acc[r]);
      for (std::size_t p = d; p < k; ++p) {  // next tile
        const std::size_t* st = c.stride.data() + p * nf;
        if (++digit[p] < q) {
          for (std::size_t j = 0; j < nf; ++j) base[j] += st[j];
          break;
        }
        digit[p] = 0;
        for (std::size_t j = 0; j < nf; ++j) base[j] -= (q - 1) * st[j];
      }
    }
    return mx;
  }

  /// Upward pass: messages in elimination order; log Z is the sum over the roots.
  double upward(const Exec& ex) {
    double log_z = 0;
    for (std::size_t v : plan_.order) {
      const Clique c = clique(v);
      allocate(msg_[v], c.entries());
      double* out = msg_[v].data();
      const Blocks blocks{c.entries(), 4096};
      spread_blocks(ex, blocks, out, nullptr, [&](std::size_t b) {
        c.walk(blocks.begin(b), blocks.end(b), [&](const std::vector<double>& t, const std::vector<std::size_t>&, std::size_t s) {
          out[s] = log_sum_exp_q(t);
        });
      });
      if (!marginals_)
        for (std::size_t ch : children_[v]) release(msg_[ch]);
      if (plan_.scope[v].empty()) log_z += msg_[v][0], comp_[v] = msg_[v][0];
    }
    return log_z;
  }

  /// Downward pass (one thread): in reverse elimination order, the belief of each clique
  /// is its upward table plus delta (the message from its parent, log domain); its
  /// probabilities p(a, s) = exp(belief - log Z of the component) are summed into the site
  /// and edge marginals and into each child's separator, which gives the child's delta.
  void downward() {
    for (auto it = plan_.order.rbegin(); it != plan_.order.rend(); ++it) {
      const std::size_t v = *it;
      for (std::size_t ch : children_[v]) allocate(target_[ch], msg_[ch].size(), 0.0);
      const Clique c = clique(v);
      const double comp = comp_[v];
      const double* delta = delta_[v].empty() ? nullptr : delta_[v].data();
      std::vector<double> p(q_);
      c.walk(0, c.entries(), [&](const std::vector<double>& t, const std::vector<std::size_t>& base, std::size_t s) {
        const double shift = (delta ? delta[s] : 0.0) - comp;
        for (std::size_t a = 0; a < q_; ++a) p[a] = std::exp(t[a] + shift);
        for (std::size_t j = 0; j < c.f.size(); ++j)
          for (std::size_t a = 0; a < q_; ++a) c.f[j].out[base[j] + a * c.f[j].sv] += p[a];
      });
      for (std::size_t ch : children_[v]) {
        allocate(delta_[ch], msg_[ch].size());
        // An entry whose probability underflowed to 0 (below ~1e-308) gets delta = -inf:
        // its states then carry probability 0 instead of less than 1e-308.
        for (std::size_t i = 0; i < msg_[ch].size(); ++i)
          delta_[ch][i] = std::log(target_[ch][i]) + comp - msg_[ch][i];
        comp_[ch] = comp;
        release(target_[ch]);
        release(msg_[ch]);
      }
      release(delta_[v]);
    }
    for (std::size_t v : plan_.order)
      if (plan_.scope[v].empty()) release(msg_[v]);
    // Sums of probabilities are 1 up to rounding; normalise each so they are to the last bit.
    for (Eigen::Index i = 0; i < site_.rows(); ++i) site_.row(i) /= site_.row(i).sum();
    const auto qq = Eigen::Index(q_ * q_);
    for (Eigen::Index e = 0; e < Eigen::Index(m_.n_edges()); ++e) edge_.segment(e * qq, qq) /= edge_.segment(e * qq, qq).sum();
  }

  MatrixD& site() { return site_; }
  VectorD& edge() { return edge_; }
  std::size_t peak_bytes() const { return peak_; }

 private:
  Clique clique(std::size_t v) {
    const std::vector<std::size_t>& scope = plan_.scope[v];
    Clique c{q_, scope.size(), {}, {}};
    const std::size_t nf = 1 + edges_of_[v].size() + children_[v].size();
    c.f.reserve(nf);
    c.stride.assign(c.k * nf, 0);
    auto digit_of = [&](std::size_t u) {
      return std::size_t(std::find(scope.begin(), scope.end(), u) - scope.begin());
    };
    double* site_out = marginals_ ? site_.data() + v * q_ : nullptr;
    c.f.push_back({m_.fields().data() + v * q_, site_out, 1});
    for (std::size_t e : edges_of_[v]) {
      const PottsEdge& ed = m_.edges()[e];
      const bool first = ed.i == v;  // block(e)[a·q + b], a = state of ed.i
      double* out = marginals_ ? edge_.data() + e * q_ * q_ : nullptr;
      c.stride[digit_of(first ? ed.j : ed.i) * nf + c.f.size()] = first ? 1 : q_;
      c.f.push_back({m_.block(e).data(), out, first ? q_ : 1});
    }
    for (std::size_t ch : children_[v]) {
      // Child messages are over scope[ch], digit p' with stride q^p'; scope[ch][0] = v.
      const std::vector<std::size_t>& sc = plan_.scope[ch];
      std::size_t st = q_;
      for (std::size_t p = 1; p < sc.size(); ++p, st *= q_) c.stride[digit_of(sc[p]) * nf + c.f.size()] = st;
      c.f.push_back({msg_[ch].data(), marginals_ ? target_[ch].data() : nullptr, 1});
    }
    return c;
  }

  void allocate(std::vector<double>& t, std::size_t size, double value = 0.0) {
    t.assign(size, value);
    live_ += size * sizeof(double);
    peak_ = std::max(peak_, live_);
  }
  void release(std::vector<double>& t) {
    live_ -= t.size() * sizeof(double);
    std::vector<double>().swap(t);
  }

  const Potts& m_;
  const Plan& plan_;
  std::size_t n_, q_;
  bool marginals_;
  std::vector<std::vector<std::size_t>> children_, edges_of_;
  std::vector<std::vector<double>> msg_, delta_, target_;
  std::vector<double> comp_;  // log Z of the connected component of each clique
  MatrixD site_;
  VectorD edge_;
  std::size_t live_ = 0, peak_ = 0;
};

JunctionTreeResult describe(const Plan& p, std::size_t q) {
  JunctionTreeResult r{};
  r.log_z = std::numeric_limits<double>::quiet_NaN();
  r.treewidth = p.max_clique - 1;
  r.elimination_order = p.order;
  r.order_method = p.method;
  r.largest_table_entries = std::size_t(power(q, p.max_clique));
  r.total_table_entries = p.cost;
  return r;
}

}  // namespace

JunctionTreeResult junction_tree_plan(const Potts& m, const JunctionTreeOptions& opt) {
  return describe(choose_plan(m, opt), m.num_states());
}

JunctionTreeResult junction_tree(const Potts& m, const JunctionTreeOptions& opt, const Exec& ex) {
  const Plan plan = choose_plan(m, opt);
  JunctionTreeResult r = describe(plan, m.num_states());
  Engine engine(m, plan, opt.marginals);
  r.log_z = opt.marginals ? std::numeric_limits<double>::quiet_NaN() : engine.upward_scaled(ex);
  if (std::isnan(r.log_z)) r.log_z = engine.upward(ex);
  if (opt.marginals) {
    engine.downward();
    r.site_marginals = std::move(engine.site());
    r.edge_marginals = std::move(engine.edge());
  }
  r.peak_table_bytes = engine.peak_bytes();
  return r;
}

JunctionTreeResult junction_tree(const Ising& m, const JunctionTreeOptions& opt, const Exec& ex) {
  return junction_tree(Potts::from_ising(m), opt, ex);
}

}  // namespace logz
