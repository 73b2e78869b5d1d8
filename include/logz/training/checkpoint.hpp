#pragma once
/// @file checkpoint.hpp
/// The one checkpoint format of every trainer of training/: a plain value of named
/// arrays (the model's parameters, the optimizer's state, the Polyak average, chain
/// states) and named integer counters (epochs, updates, optimizer steps, the position of
/// each chain's random stream), with the trainer's name and the caller's fingerprint of
/// its settings. A trainer resumed from its checkpoint continues bit for bit as the
/// uninterrupted run (docs/reproducibility.md). Writing it to disk is the caller's part
/// (api/ through io/), so that training/ depends on no file format.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logz/core/rng.hpp"
#include "logz/core/types.hpp"

namespace logz::training {

/// A real-valued array: row-major values and their shape ((n) for a vector, (r, c) for a
/// matrix). Floats are kept as doubles, which holds them exactly.
struct CheckpointArray {
  std::vector<std::size_t> shape;
  std::vector<double> values;

  /// "(3,)", "(100, 3)": the shape as NumPy prints it.
  std::string shape_string() const;
  /// The values as a column vector (any shape, row-major order).
  VectorD vector() const;
  /// The values as a matrix; Error(Exit::data) "<who>: array 'name' has shape S but a
  /// matrix was expected" unless the shape has two entries.
  MatrixD matrix(const char* who, std::string_view name) const;
};

struct Checkpoint {
  std::string trainer;  ///< which trainer wrote it
  std::string config;   ///< the caller's fingerprint of every setting that changes the result
  std::string notes;    ///< the caller's own record (e.g. its log of the epochs), kept as is
  std::vector<std::pair<std::string, CheckpointArray>> arrays;
  std::vector<std::pair<std::string, std::vector<std::uint64_t>>> counters;

  void put(std::string name, const VectorD& v);
  void put(std::string name, const MatrixD& m);
  void put(std::string name, std::vector<std::size_t> shape, std::vector<double> values);
  void put_counters(std::string name, std::vector<std::uint64_t> values);
  /// The position (Stream::word) of each stream, as counters.
  void put_streams(std::string name, const std::vector<Stream>& streams);

  /// The array called `name`; Error(Exit::data) "<who>: the state has no array 'name'".
  const CheckpointArray& array(const char* who, std::string_view name) const;
  /// The counters called `name`; the same error when there are none.
  const std::vector<std::uint64_t>& counter(const char* who, std::string_view name) const;
  /// Seeks each of `streams` to its saved position; Error(Exit::data) "<who>: array
  /// 'name' has shape (k,) but the run has n chains" on a count mismatch.
  void seek_streams(const char* who, std::string_view name, std::vector<Stream>& streams) const;
  /// Removes the array or counters called `name` (no-op if absent).
  void erase(std::string_view name);
};

}  // namespace logz::training
