#pragma once
/// @file types.hpp
/// Matrix and vector types. Batches are row-major, one sample per row (NumPy's layout),
/// so arrays cross file and Python boundaries without copies.
#include <Eigen/Core>

#include <cstdint>

namespace logz {

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

using MatrixF = Matrix<float>;
using MatrixD = Matrix<double>;
using VectorF = Vector<float>;
using VectorD = Vector<double>;
/// Binary data (0/1 per entry), one sample per row.
using MatrixU8 = Matrix<std::uint8_t>;

template <class T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;

}  // namespace logz
