// Array: the dtype/shape/bytes triple shared by the .npy (numpy/lib/format.py), .npz and
// IDX readers, and its checked conversions to Eigen matrices and vectors.
#include "logz/io/array.hpp"

#include <fmt/format.h>

#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "logz/core/check.hpp"

namespace logz::io {

// The bytes of an Array are little-endian, read and written with memcpy.
static_assert(std::endian::native == std::endian::little, "logz::io assumes a little-endian machine");

std::string_view numpy_descr(DType t) {
  switch (t) {
    case DType::u8: return "|u1";
    case DType::i32: return "<i4";
    case DType::i64: return "<i8";
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
  }
  return "?";
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::u8: return "uint8";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::f32: return "float32";
    case DType::f64: return "float64";
  }
  return "?";
}

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::u8: return 1;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::f32: return 4;
    case DType::f64: return 8;
  }
  return 0;
}

namespace {

// Calls f(S{}) with S the C++ type stored under dtype t.
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::u8: return f(std::uint8_t{});
    case DType::i32: return f(std::int32_t{});
    case DType::i64: return f(std::int64_t{});
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
  }
  return f(double{});
}

template <class S>
S load(const std::byte* p) {
  S v;
  std::memcpy(&v, p, sizeof(S));
  return v;
}

// Converts one value of type S to T. Integers and floats convert freely (floats to
// integers truncate toward zero, as static_cast does); values that a static_cast would
// turn into undefined behaviour (NaN, out of range) are an error instead.
template <class T, class S>
bool convert_one(S v, T& out) {
  if constexpr (std::is_integral_v<T> && std::is_integral_v<S>) {
    if (!std::in_range<T>(v)) return false;
  } else if constexpr (std::is_integral_v<T>) {
    const double t = std::trunc(static_cast<double>(v));
    // double(max) + 1 is exact (a power of two) for every supported integer type.
    if (!(t >= static_cast<double>(std::numeric_limits<T>::min()) &&
          t < static_cast<double>(std::numeric_limits<T>::max()) + 1.0))
      return false;
  }
  out = static_cast<T>(v);
  return true;
}

template <class T>
void convert_all(const Array& a, T* out, std::string_view what) {
  const std::size_t n = a.size();
  assert(a.bytes.size() == n * dtype_size(a.dtype));
  visit_dtype(a.dtype, [&](auto tag) {
    using S = decltype(tag);
    if constexpr (std::is_same_v<S, T>) {
      if (n > 0) std::memcpy(out, a.bytes.data(), n * sizeof(T));
    } else {
      const std::byte* p = a.bytes.data();
      for (std::size_t i = 0; i < n; ++i) {
        const S v = load<S>(p + i * sizeof(S));
        if (!convert_one(v, out[i])) [[unlikely]] {
          fail(Exit::data, "{}{}element {} = {} does not fit in {}", what, what.empty() ? "" : ": ", i, v,
               dtype_name(dtype_of<T>()));
        }
      }
    }
  });
}

std::size_t shape_product(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

}  // namespace

std::size_t Array::size() const { return shape_product(shape); }

std::string Array::shape_string() const {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";  // NumPy's one-element tuple
  s += ")";
  return s;
}

const Array& Array::nonempty(std::string_view what) const {
  for (std::size_t k = 0; k < shape.size(); ++k)
    check_data(shape[k] > 0, "{}: the array of shape {} is empty: axis {} has length 0", what, shape_string(), k);
  return *this;
}

double Array::at(std::size_t i) const {
  assert(i < size());
  return visit_dtype(dtype, [&](auto tag) {
    using S = decltype(tag);
    return static_cast<double>(load<S>(bytes.data() + i * sizeof(S)));
  });
}

template <class T>
std::vector<T> Array::to_vector() const {
  std::vector<T> out(size());
  convert_all(*this, out.data(), "");
  return out;
}

template <class T>
Matrix<T> Array::to_matrix(std::string_view what) const {
  check_data(ndim() == 2, "{}: expected a 2-D array, got shape {}", what, shape_string());
  Matrix<T> m(static_cast<Eigen::Index>(shape[0]), static_cast<Eigen::Index>(shape[1]));
  convert_all(*this, m.data(), what);
  return m;
}

template <class T>
Vector<T> Array::to_column(std::string_view what) const {
  check_data(ndim() == 1, "{}: expected a 1-D array, got shape {}", what, shape_string());
  Vector<T> v(static_cast<Eigen::Index>(shape[0]));
  convert_all(*this, v.data(), what);
  return v;
}

template <class T>
Array Array::from_matrix(const Matrix<T>& m) {
  Array a;
  a.dtype = dtype_of<T>();
  a.shape = {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())};
  a.bytes.resize(a.size() * sizeof(T));
  if (!a.bytes.empty()) std::memcpy(a.bytes.data(), m.data(), a.bytes.size());  // both row-major
  return a;
}

template <class T>
Array Array::from_vector(const Vector<T>& v) {
  Array a;
  a.dtype = dtype_of<T>();
  a.shape = {static_cast<std::size_t>(v.size())};
  a.bytes.resize(a.size() * sizeof(T));
  if (!a.bytes.empty()) std::memcpy(a.bytes.data(), v.data(), a.bytes.size());
  return a;
}

template <class T>
Array Array::from_values(std::vector<std::size_t> shape, const std::vector<T>& values) {
  Array a;
  a.dtype = dtype_of<T>();
  a.shape = std::move(shape);
  if (a.size() != values.size())
    fail(Exit::software, "Array::from_values: shape {} has {} elements but {} values were given", a.shape_string(),
         a.size(), values.size());
  a.bytes.resize(values.size() * sizeof(T));
  if (!a.bytes.empty()) std::memcpy(a.bytes.data(), values.data(), a.bytes.size());
  return a;
}

#define LOGZ_IO_ARRAY_INSTANTIATE(T)                                                               \
  template std::vector<T> Array::to_vector<T>() const;                                             \
  template Matrix<T> Array::to_matrix<T>(std::string_view) const;                                  \
  template Vector<T> Array::to_column<T>(std::string_view) const;                                  \
  template Array Array::from_matrix<T>(const Matrix<T>&);                                          \
  template Array Array::from_vector<T>(const Vector<T>&);                                          \
  template Array Array::from_values<T>(std::vector<std::size_t>, const std::vector<T>&);

LOGZ_IO_ARRAY_INSTANTIATE(std::uint8_t)
LOGZ_IO_ARRAY_INSTANTIATE(std::int32_t)
LOGZ_IO_ARRAY_INSTANTIATE(std::int64_t)
LOGZ_IO_ARRAY_INSTANTIATE(float)
LOGZ_IO_ARRAY_INSTANTIATE(double)
#undef LOGZ_IO_ARRAY_INSTANTIATE

}  // namespace logz::io
