#pragma once
/// @file gaussian_draws.hpp
/// The Gaussian fixtures of the tests of the continuous objectives and trainers: exact
/// draws, two target Gaussians (2-D and 3-D, correlated, off-centre) and a start model
/// for each, away from the optimum so that every gradient is nonzero.
#include <cstddef>
#include <cstdint>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"
#include "logz/models/gaussian.hpp"
#include "logz/objectives/score_matching.hpp"

namespace logz::test {

/// n exact draws of g, one per row, from the stream (seed, Purpose::sample, 0).
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

inline Gaussian truth2() {
  VectorD mu(2);
  mu << 1.0, -0.5;
  MatrixD prec(2, 2);
  prec << 1.5, 0.5,  //
      0.5, 1.0;
  return Gaussian(mu, prec);
}

inline GaussianEnergy start2() {
  MatrixD prec(2, 2);
  prec << 1.0, 0.2,  //
      0.2, 0.8;
  VectorD b(2);
  b << 0.4, -0.3;
  return GaussianEnergy(prec, b);
}

inline Gaussian truth3() {
  VectorD mu(3);
  mu << 0.5, -1.0, 2.0;
  MatrixD prec(3, 3);
  prec << 2.0, 0.6, -0.3,  //
      0.6, 1.5, 0.4,       //
      -0.3, 0.4, 1.0;
  return Gaussian(mu, prec);
}

inline GaussianEnergy start3() {
  MatrixD prec(3, 3);
  prec << 1.2, 0.2, 0.1,  //
      0.2, 0.9, -0.2,     //
      0.1, -0.2, 1.4;
  VectorD b(3);
  b << 0.3, -0.4, 0.8;
  return GaussianEnergy(prec, b);
}

}  // namespace logz::test
