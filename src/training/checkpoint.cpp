// The checkpoint value of every trainer: named arrays and counters (training/checkpoint.hpp).
#include "logz/training/checkpoint.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "logz/core/check.hpp"

namespace logz::training {

std::string CheckpointArray::shape_string() const {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

VectorD CheckpointArray::vector() const {
  return Eigen::Map<const VectorD>(values.data(), Eigen::Index(values.size()));
}

MatrixD CheckpointArray::matrix(const char* who, std::string_view name) const {
  check_data(shape.size() == 2, "{}: array '{}' has shape {} but a matrix was expected", who, name, shape_string());
  using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajorD>(values.data(), Eigen::Index(shape[0]), Eigen::Index(shape[1]));
}

void Checkpoint::put(std::string name, const VectorD& v) {
  put(std::move(name), {std::size_t(v.size())}, std::vector<double>(v.data(), v.data() + v.size()));
}

void Checkpoint::put(std::string name, const MatrixD& m) {
  std::vector<double> values;
  values.reserve(std::size_t(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) values.push_back(m(r, c));
  put(std::move(name), {std::size_t(m.rows()), std::size_t(m.cols())}, std::move(values));
}

void Checkpoint::put(std::string name, std::vector<std::size_t> shape, std::vector<double> values) {
  erase(name);
  arrays.emplace_back(std::move(name), CheckpointArray{std::move(shape), std::move(values)});
}

void Checkpoint::put_counters(std::string name, std::vector<std::uint64_t> values) {
  erase(name);
  counters.emplace_back(std::move(name), std::move(values));
}

void Checkpoint::put_streams(std::string name, const std::vector<Stream>& streams) {
  std::vector<std::uint64_t> words;
  words.reserve(streams.size());
  for (const Stream& s : streams) words.push_back(s.word());
  put_counters(std::move(name), std::move(words));
}

const CheckpointArray& Checkpoint::array(const char* who, std::string_view name) const {
  for (const auto& [key, a] : arrays)
    if (key == name) return a;
  fail(Exit::data, "{}: the state has no array '{}'", who, name);
}

const std::vector<std::uint64_t>& Checkpoint::counter(const char* who, std::string_view name) const {
  for (const auto& [key, c] : counters)
    if (key == name) return c;
  fail(Exit::data, "{}: the state has no array '{}'", who, name);
}

void Checkpoint::seek_streams(const char* who, std::string_view name, std::vector<Stream>& streams) const {
  const std::vector<std::uint64_t>& words = counter(who, name);
  check_data(words.size() == streams.size(), "{}: array '{}' has shape ({},) but the run has {} chains", who, name,
             words.size(), streams.size());
  for (std::size_t c = 0; c < streams.size(); ++c) streams[c].seek(words[c]);
}

void Checkpoint::erase(std::string_view name) {
  std::erase_if(arrays, [&](const auto& a) { return a.first == name; });
  std::erase_if(counters, [&](const auto& c) { return c.first == name; });
}

}  // namespace logz::training
