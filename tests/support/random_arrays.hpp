#pragma once
/// @file random_arrays.hpp
/// Standard-normal matrices and vectors from a seed (stream Purpose::user), for tests
/// that need parameters of no particular structure.
#include <cstdint>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"

namespace logz::test {

inline MatrixD random_matrix(Eigen::Index r, Eigen::Index c, std::uint64_t seed) {
  Stream rng = Stream::derive(seed, Purpose::user, 0);
  MatrixD m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.normal();
  return m;
}

inline VectorD random_vector(Eigen::Index n, std::uint64_t seed) { return random_matrix(n, 1, seed).col(0); }

}  // namespace logz::test
