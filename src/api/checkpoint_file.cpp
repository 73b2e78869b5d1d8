// Training checkpoints as .npz files (api/checkpoint_file.hpp).
#include "logz/api/checkpoint_file.hpp"

#include <cstdint>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/io/npz.hpp"

namespace logz::api {
namespace {

constexpr const char* kTrainer = "checkpoint_trainer";
constexpr const char* kConfig = "checkpoint_config";
constexpr const char* kNotes = "checkpoint_notes";

io::Array text_array(const std::string& s) {
  return io::Array::from_values<std::uint8_t>({s.size()}, std::vector<std::uint8_t>(s.begin(), s.end()));
}

}  // namespace

void write_training_checkpoint(const std::string& path, const training::Checkpoint& c) {
  io::NamedArrays out;
  out.emplace_back(kTrainer, text_array(c.trainer));
  out.emplace_back(kConfig, text_array(c.config));
  out.emplace_back(kNotes, text_array(c.notes));
  for (const auto& [name, a] : c.arrays) out.emplace_back(name, io::Array::from_values<double>(a.shape, a.values));
  for (const auto& [name, values] : c.counters) {
    std::vector<std::int64_t> v(values.begin(), values.end());
    out.emplace_back(name, io::Array::from_values<std::int64_t>({v.size()}, v));
  }
  io::write_npz(path, out);
}

training::Checkpoint read_training_checkpoint(const std::string& path) {
  std::map<std::string, io::Array> arrays = io::read_npz(path);
  training::Checkpoint c;
  const auto text = [&](const char* name) {
    const auto it = arrays.find(name);
    check_data(it != arrays.end() && it->second.dtype == io::DType::u8 && it->second.ndim() == 1,
               "{}: not a logz training checkpoint: array '{}' is missing", path, name);
    const std::vector<std::uint8_t> v = it->second.to_vector<std::uint8_t>();
    arrays.erase(it);
    return std::string(v.begin(), v.end());
  };
  c.trainer = text(kTrainer);
  c.config = text(kConfig);
  c.notes = text(kNotes);
  for (const auto& [name, a] : arrays) {
    if (a.dtype == io::DType::f64) {
      c.put(name, a.shape, a.to_vector<double>());
    } else if (a.dtype == io::DType::i64 && a.ndim() == 1) {
      std::vector<std::uint64_t> values;
      for (std::int64_t x : a.to_vector<std::int64_t>()) {
        check_data(x >= 0, "{}: not a logz training checkpoint: array '{}' has a negative entry ({})", path, name, x);
        values.push_back(std::uint64_t(x));
      }
      c.put_counters(name, std::move(values));
    } else {
      fail(Exit::data, "{}: not a logz training checkpoint: array '{}' has dtype {} and shape {}", path, name,
           io::dtype_name(a.dtype), a.shape_string());
    }
  }
  return c;
}

}  // namespace logz::api
