#pragma once
/// @file gaussian_draws.hpp
/// n exact draws of a Gaussian, one per row, from the stream (seed, Purpose::sample, 0):
/// the data of the tests of the continuous objectives and trainers.
#include <cstddef>
#include <cstdint>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/gaussian.hpp"

namespace logz::test {

inline MatrixD gaussian_draws(const Gaussian& g, std::size_t n, std::uint64_t seed) {
  MatrixD x(Eigen::Index(n), Eigen::Index(g.dimension()));
  Stream s = Stream::derive(seed, Purpose::sample, 0);
  VectorD y(Eigen::Index(g.dimension()));
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    g.sample(s, y);
    x.row(r) = y.transpose();
  }
  return x;
}

}  // namespace logz::test
