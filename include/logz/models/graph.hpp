#pragma once
/// @file graph.hpp
/// Validation shared by the pairwise models (Ising, Potts): an edge list over n sites.
#include <algorithm>
#include <cstddef>
#include <tuple>
#include <vector>

#include "logz/core/check.hpp"

namespace logz::detail {

/// Throws Error(Exit::data), the message starting with `who`, naming the first edge
/// (members i, j) with a site index out of range [0, n), a self-loop, or that repeats
/// an earlier pair in either orientation.
template <class Edge>
void check_edges(const char* who, std::size_t n, const std::vector<Edge>& edges) {
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const Edge& ed = edges[e];
    check_data(ed.i < n && ed.j < n, "{}: edge {} ({}, {}) has a site index out of range [0, {})", who, e, ed.i, ed.j,
               n);
    check_data(ed.i != ed.j, "{}: edge {} ({}, {}) is a self-loop", who, e, ed.i, ed.j);
  }
  std::vector<std::tuple<std::size_t, std::size_t, std::size_t>> keys(edges.size());
  for (std::size_t e = 0; e < edges.size(); ++e)
    keys[e] = {std::min(edges[e].i, edges[e].j), std::max(edges[e].i, edges[e].j), e};
  std::sort(keys.begin(), keys.end());
  for (std::size_t k = 1; k < keys.size(); ++k) {
    const auto [a0, b0, e0] = keys[k - 1];
    const auto [a1, b1, e1] = keys[k];
    check_data(a0 != a1 || b0 != b1, "{}: edge {} ({}, {}) duplicates edge {} ({}, {})", who, e1, edges[e1].i,
               edges[e1].j, e0, edges[e0].i, edges[e0].j);
  }
}

}  // namespace logz::detail
