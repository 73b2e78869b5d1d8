#pragma once
// The parameter-range table every kind's description shows (min, max, mean, std of each
// array), and the lines for a file's extra arrays.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "logz/io/npz.hpp"

namespace logz::api::detail {

struct Range {
  double min, max, mean, std;
};
using Ranges = std::vector<std::pair<std::string, Range>>;

template <class M>
Range range_of(const M& m) {
  if (m.size() == 0) return {0, 0, 0, 0};
  // In units of the largest magnitude, so that values near 1e308 give their mean and
  // spread instead of an overflowed sum.
  const double scale = m.array().abs().maxCoeff();
  if (!(scale > 0) || !std::isfinite(scale)) return {m.minCoeff(), m.maxCoeff(), m.mean(), 0};
  const auto x = m.array() / scale;
  const double mean = x.mean();
  const double var = (x - mean).square().mean();
  return {m.minCoeff(), m.maxCoeff(), mean * scale, std::sqrt(var) * scale};
}

inline std::string ranges_text(const Ranges& ranges) {
  std::string text = fmt::format("  {:<16} {:>12} {:>12} {:>12} {:>12}\n", "array", "min", "max", "mean", "std");
  for (const auto& [name, r] : ranges)
    text += fmt::format("  {:<16} {:>12.5g} {:>12.5g} {:>12.5g} {:>12.5g}\n", name, r.min, r.max, r.mean, r.std);
  return text;
}

inline nlohmann::json ranges_json(const Ranges& ranges) {
  nlohmann::json jr = nlohmann::json::object();
  for (const auto& [name, r] : ranges) jr[name] = {{"min", r.min}, {"max", r.max}, {"mean", r.mean}, {"std", r.std}};
  return jr;
}

/// " = 0.5" for a one-element array.
inline std::string extra_value(const io::Array& a) {
  return a.size() == 1 ? fmt::format(" = {:.10g}", a.at(0)) : std::string();
}

inline std::string extras_text(const io::NamedArrays& extra) {
  std::string text;
  for (const auto& [name, a] : extra)
    text += fmt::format("  extra array      {} {} {}{}\n", name, io::dtype_name(a.dtype), a.shape_string(),
                        extra_value(a));
  return text;
}

inline nlohmann::json extras_json(const io::NamedArrays& extra) {
  nlohmann::json jx = nlohmann::json::object();
  for (const auto& [name, a] : extra) {
    jx[name] = {{"dtype", io::dtype_name(a.dtype)}, {"shape", a.shape}};
    if (a.size() == 1) jx[name]["value"] = a.at(0);
  }
  return jx;
}

}  // namespace logz::api::detail
