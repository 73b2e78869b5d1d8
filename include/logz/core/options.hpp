#pragma once
/// @file options.hpp
/// Declarative option fields. A field is declared once — its name, type, default, range
/// or choices and help — and everything else is derived from the declaration: the
/// checks of a config's validate(), the command-line options and their --help, the JSON
/// of a result, the Python keywords. The estimators declare theirs beside their code
/// (estimators/*.hpp: `options()` of each method) and api/estimator_registry.hpp
/// collects them.
///
/// Names are snake_case config field names ("burn_in"); a front end spells them its own
/// way (the CLI: "--burn-in"). Values are held by `Settings`, a map from field name to
/// value that starts with every default filled in, so a method reads its options with
/// `settings.count("burn_in")` and never sees an unset one.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "logz/core/check.hpp"

namespace logz {

/// The largest value a count option takes: 2^40, about 1.1e12. Every count is a number of
/// rows, units, chains, particles, steps or sweeps; 10^12 of the cheapest of them (one
/// update of one unit) is hours of one core, and a larger count is a typo or a wrapped
/// negative number. Memory and time checks bound the product of counts further.
inline constexpr std::int64_t kMaxCount = std::int64_t(1) << 40;

enum class OptionType {
  count,  ///< a non-negative integer (std::int64_t in OptionValue)
  real,   ///< a finite double
  text,   ///< a string, optionally one of `choices`
};

using OptionValue = std::variant<std::int64_t, double, std::string>;

/// One declared option.
struct OptionField {
  std::string name;  ///< config field name, snake_case
  OptionType type = OptionType::count;
  OptionValue default_value = std::int64_t{0};
  std::string help;                       ///< one line, for --help and docstrings
  std::int64_t min_count = 0;             ///< count: the least value allowed
  double min_real = -std::numeric_limits<double>::infinity();  ///< real: the range's ends
  double max_real = std::numeric_limits<double>::infinity();
  bool min_open = false, max_open = false;  ///< real: whether an end is excluded
  std::vector<std::string> choices;         ///< text: the allowed values (empty: any)

  static OptionField count(std::string name, std::int64_t default_value, std::int64_t min, std::string help) {
    OptionField f = make(std::move(name), OptionType::count, default_value, std::move(help));
    f.min_count = min;
    return f;
  }
  /// A real in [lo, hi], an end excluded when its *_open is true.
  static OptionField real(std::string name, double default_value, double lo, bool lo_open, double hi, bool hi_open,
                          std::string help) {
    OptionField f = make(std::move(name), OptionType::real, default_value, std::move(help));
    f.min_real = lo, f.max_real = hi, f.min_open = lo_open, f.max_open = hi_open;
    return f;
  }
  static OptionField text(std::string name, std::string default_value, std::vector<std::string> choices,
                          std::string help) {
    OptionField f = make(std::move(name), OptionType::text, std::move(default_value), std::move(help));
    f.choices = std::move(choices);
    return f;
  }

  static OptionField make(std::string name, OptionType type, OptionValue default_value, std::string help) {
    OptionField f;
    f.name = std::move(name);
    f.type = type;
    f.default_value = std::move(default_value);
    f.help = std::move(help);
    return f;
  }

  /// What is wrong with `v` for this field ("must be >= 1, got 0"), empty when nothing is.
  std::string problem(const OptionValue& v) const;
  /// The value as text (as a user would write it).
  static std::string format(const OptionValue& v);
  /// Parses `text` as a value of this field's type (not checked against the range).
  /// Error(Exit::usage) "<field> must be an integer / a number, got '<text>'" otherwise,
  /// the field written as `shown`.
  OptionValue parse(std::string_view text, std::string_view shown) const;
  /// "[1, inf)", "(0, 1)", "one of a, b, c" or "any text": the allowed values.
  std::string range() const;
};

/// Values of declared fields, by name.
class Settings {
 public:
  Settings() = default;
  /// Every field at its default.
  explicit Settings(const std::vector<OptionField>& fields);

  /// Sets a field (it need not be declared yet: declarations are checked by validate).
  void set(const std::string& name, OptionValue v) { values_[name] = std::move(v); }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const OptionValue& get(const std::string& name) const;
  /// Typed reads; a missing field or another type is a programming error (std::logic_error).
  std::size_t count(const std::string& name) const;
  double real(const std::string& name) const;
  const std::string& text(const std::string& name) const;
  const std::map<std::string, OptionValue>& values() const { return values_; }

  /// Checks every field of `fields` present here; throws ConfigError("<who>: @0 <problem>")
  /// naming the first bad one.
  void validate(const std::vector<OptionField>& fields, std::string_view who) const;

 private:
  std::map<std::string, OptionValue> values_;
};

}  // namespace logz
