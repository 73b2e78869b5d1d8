// Declared option fields: checks, formatting and parsing of their values.
#include "logz/core/options.hpp"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace logz {

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? (i + 1 == v.size() ? " or " : ", ") : "") + v[i];
  return out;
}
std::string number(double x) { return fmt::format("{}", x); }
}  // namespace

std::string OptionField::format(const OptionValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return number(*d);
  return std::get<std::string>(v);
}

std::string OptionField::range() const {
  switch (type) {
    case OptionType::count: return fmt::format("[{}, {}]", min_count, kMaxCount);
    case OptionType::real:
      return fmt::format("{}{}, {}{}", min_open ? "(" : "[", number(min_real), number(max_real), max_open ? ")" : "]");
    case OptionType::text: return choices.empty() ? "any text" : "one of " + join(choices);
  }
  return "";
}

std::string OptionField::problem(const OptionValue& v) const {
  switch (type) {
    case OptionType::count: {
      const auto* i = std::get_if<std::int64_t>(&v);
      if (!i) return fmt::format("must be an integer, got {}", format(v));
      if (*i < min_count)
        return min_count == 0 ? fmt::format("must be a non-negative integer, got {}", *i)
                              : fmt::format("must be at least {}, got {}", min_count, *i);
      if (*i > kMaxCount) return fmt::format("must be at most {} (2^40), got {}", kMaxCount, *i);
      return "";
    }
    case OptionType::real: {
      const double* d = std::get_if<double>(&v);
      if (!d) return fmt::format("must be a number, got {}", format(v));
      const bool below = min_open ? !(*d > min_real) : !(*d >= min_real);
      const bool above = max_open ? !(*d < max_real) : !(*d <= max_real);
      if (!std::isfinite(*d) || below || above) {
        if (std::isinf(max_real) && min_real == 0 && min_open) return fmt::format("must be positive, got {}", number(*d));
        if (std::isinf(max_real)) return fmt::format("must be {} {}, got {}", min_open ? ">" : ">=", number(min_real), number(*d));
        return fmt::format("must be in {}, got {}", range(), number(*d));
      }
      return "";
    }
    case OptionType::text: {
      const auto* s = std::get_if<std::string>(&v);
      if (!s) return fmt::format("must be text, got {}", format(v));
      if (choices.empty()) return "";
      for (const std::string& c : choices)
        if (c == *s) return "";
      return fmt::format("must be {}, got '{}'", join(choices), *s);
    }
  }
  return "";
}

OptionValue OptionField::parse(std::string_view text, std::string_view shown) const {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  switch (type) {
    case OptionType::count: {
      std::int64_t i = 0;
      const auto [end, ec] = std::from_chars(first, last, i);
      check_arg(ec != std::errc::result_out_of_range || end != last, "{} must be at most {} (2^40), got '{}'", shown,
                kMaxCount, text);
      check_arg(ec == std::errc() && end == last && !text.empty(), "{} must be an integer, got '{}'", shown, text);
      return i;
    }
    case OptionType::real: {
      double d = 0;
      std::size_t used = 0;
      try {
        d = std::stod(std::string(text), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      check_arg(used > 0 && used == text.size(), "{} must be a number, got '{}'", shown, text);
      return d;
    }
    case OptionType::text: return std::string(text);
  }
  return std::string(text);
}

Settings::Settings(const std::vector<OptionField>& fields) {
  for (const OptionField& f : fields) values_[f.name] = f.default_value;
}

const OptionValue& Settings::get(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("Settings: no field '" + name + "'");
  return it->second;
}

std::size_t Settings::count(const std::string& name) const {
  const auto* i = std::get_if<std::int64_t>(&get(name));
  if (!i || *i < 0) throw std::logic_error("Settings: '" + name + "' is not a count");
  return std::size_t(*i);
}

double Settings::real(const std::string& name) const {
  const OptionValue& v = get(name);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return double(*i);
  const auto* d = std::get_if<double>(&v);
  if (!d) throw std::logic_error("Settings: '" + name + "' is not a number");
  return *d;
}

const std::string& Settings::text(const std::string& name) const {
  const auto* s = std::get_if<std::string>(&get(name));
  if (!s) throw std::logic_error("Settings: '" + name + "' is not text");
  return *s;
}

void Settings::validate(const std::vector<OptionField>& fields, std::string_view who) const {
  for (const OptionField& f : fields) {
    const auto it = values_.find(f.name);
    if (it == values_.end()) continue;
    OptionValue v = it->second;
    // A whole number given for a real field is that number.
    if (f.type == OptionType::real)
      if (const auto* i = std::get_if<std::int64_t>(&v)) v = double(*i);
    const std::string p = f.problem(v);
    check_config(p.empty(), {f.name}, "{}: @0 {}", who, p);
  }
}

}  // namespace logz
