#pragma once
/// @file array.hpp
/// An n-dimensional array as stored in .npy / .npz / IDX files: a dtype, a shape and
/// C-order little-endian bytes. Conversions to Eigen matrices check the shape and dtype.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "logz/core/types.hpp"

namespace logz::io {

enum class DType { u8, i32, i64, f32, f64 };

/// NumPy's descr for a dtype: "|u1", "<i4", "<i8", "<f4", "<f8".
std::string_view numpy_descr(DType t);
/// Human name: "uint8", "int32", "int64", "float32", "float64".
std::string_view dtype_name(DType t);
std::size_t dtype_size(DType t);

template <class T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<std::uint8_t>() { return DType::u8; }
template <> constexpr DType dtype_of<std::int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }

struct Array {
  DType dtype = DType::f64;
  std::vector<std::size_t> shape;
  std::vector<std::byte> bytes;  ///< C order, little-endian; size = prod(shape) * dtype_size

  std::size_t size() const;   ///< number of elements
  std::size_t ndim() const { return shape.size(); }
  std::string shape_string() const;  ///< "(60000, 784)" as NumPy prints it

  /// *this, or Error(Exit::data) naming `what` and the first axis of length 0: data
  /// needs at least one row and one column (an empty axis would reach the kernels).
  const Array& nonempty(std::string_view what) const;

  /// Element i converted to double.
  double at(std::size_t i) const;

  /// All elements converted to T (any numeric dtype; integers to float are exact up to 2^24/2^53).
  template <class T>
  std::vector<T> to_vector() const;
  /// A 2-D array as a row-major matrix of T. Throws Error(Exit::data) naming `what` if
  /// the array is not 2-D.
  template <class T>
  Matrix<T> to_matrix(std::string_view what) const;
  /// A 1-D array as a vector of T. Throws Error(Exit::data) naming `what` if not 1-D.
  template <class T>
  Vector<T> to_column(std::string_view what) const;

  /// Arrays holding a copy of the given data, in the dtype of T.
  template <class T>
  static Array from_matrix(const Matrix<T>& m);
  template <class T>
  static Array from_vector(const Vector<T>& v);
  template <class T>
  static Array from_values(std::vector<std::size_t> shape, const std::vector<T>& values);
};

}  // namespace logz::io
