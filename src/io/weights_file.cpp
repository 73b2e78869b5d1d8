// Sequence weights files (see weights_file.hpp): written by `train potts --weights-out`,
// read by `--weights`, in plmc's one-weight-per-line layout with '#' header lines.
#include "logz/io/weights_file.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/io/atomic_file.hpp"
#include "logz/io/npy.hpp"

namespace logz::io {
namespace {

std::vector<double> parse_text(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<double> values;
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    line = line.substr(b, line.find_last_not_of(" \t\r") + 1 - b);
    char* stop = nullptr;
    const double v = std::strtod(line.c_str(), &stop);
    check_data(stop != line.c_str() && *stop == '\0', "{}: line {}: \"{}\" is not a number", path, line_no, line);
    check_data(std::isfinite(v) && v >= 0, "{}: line {}: weight {} is not finite and >= 0", path, line_no, line);
    values.push_back(v);
  }
  return values;
}

std::vector<double> parse_npy(const std::string& path) {
  const Array a = read_npy(path);
  check_data(a.ndim() == 1, "{}: weights must be a 1-D array, got shape {}", path, a.shape_string());
  std::vector<double> values = a.to_vector<double>();
  for (std::size_t k = 0; k < values.size(); ++k)
    check_data(std::isfinite(values[k]) && values[k] >= 0, "{}: weight {} is {}, not finite and >= 0", path, k,
               values[k]);
  return values;
}

}  // namespace

void write_weights(const std::string& path, const VectorD& weights, const std::string& header) {
  std::string text;
  std::size_t pos = 0;
  while (pos < header.size()) {
    const std::size_t end = std::min(header.find('\n', pos), header.size());
    text += "# " + header.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  for (Eigen::Index s = 0; s < weights.size(); ++s) text += fmt::format("{}\n", weights[s]);  // shortest exact form
  write_file_atomic(path, text);
}

VectorD read_weights(const std::string& path, std::span<const std::size_t> records, std::size_t num_records) {
  const std::vector<double> values =
      std::filesystem::path(path).extension() == ".npy" ? parse_npy(path) : parse_text(path);
  const std::size_t used = records.size();
  check_data(values.size() == num_records || values.size() == used,
             "{}: {} weights, but the alignment has {} sequences ({} used in the fit); expected one per sequence", path,
             values.size(), num_records, used);
  VectorD w(static_cast<Eigen::Index>(used));
  double sum = 0;
  for (std::size_t k = 0; k < used; ++k) {
    w[Eigen::Index(k)] = values.size() == used ? values[k] : values[records[k]];
    sum += w[Eigen::Index(k)];
  }
  check_data(sum > 0, "{}: the weights of the {} sequences used sum to 0", path, used);
  return w;
}

}  // namespace logz::io
