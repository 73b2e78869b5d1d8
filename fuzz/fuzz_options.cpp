// Fuzz target: declared option fields (core/options.hpp): OptionField::parse of a value's
// text, problem / format / range, and Settings::validate — the path every --option value
// of the CLI and every keyword of the Python module takes.
// Input: a selector byte, then the value's text. The selector picks a field shaped like the
// estimators' own (a count with a minimum, a real on an open or closed range, a text with
// choices or free text); selectors >= 0xC0 declare the field from the input's first
// lines instead (type, then two bounds or the choices).
// Finding: anything but logz::Error (ConfigError included) — a crash, a sanitizer report,
// std::out_of_range or std::invalid_argument leaking from the number parsing, a value that
// validate accepts but the typed read (Settings::count/real/text) refuses, or an accepted
// value whose text does not parse back to the same value.
#include <cmath>
#include <cstdlib>

#include "fuzz_common.hpp"
#include "logz/core/options.hpp"

namespace {
using logz::OptionField;
using logz::OptionType;

std::string_view take_line(std::string_view& in) {
  const std::size_t end = in.find('\n');
  std::string_view line = in.substr(0, end);
  in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
  return line;
}

double to_double(std::string_view s) { return std::strtod(std::string(s).c_str(), nullptr); }

OptionField declared(unsigned selector, std::string_view& in) {
  const double inf = std::numeric_limits<double>::infinity();
  switch (selector % 8) {
    case 0: return OptionField::count("chains", 100, 1, "chains");
    case 1: return OptionField::count("burn_in", 0, 0, "burn-in sweeps");
    case 2: return OptionField::real("ess_fraction", 0.5, 0, true, 1, false, "ESS target");
    case 3: return OptionField::real("step_size", 0.1, 0, true, inf, false, "step");
    case 4: return OptionField::real("theta", 0.8, 0, false, 1, false, "identity");
    case 5: return OptionField::text("schedule", "sm", {"sm", "linear", "geometric", "sigmoid"}, "schedule");
    case 6: return OptionField::text("label", "", {}, "free text");
    default: break;
  }
  // Declared by the input: "c"/"r"/"t" then the bounds (or choices, comma-separated).
  const std::string_view kind = take_line(in);
  const std::string_view lo = take_line(in);
  const std::string_view hi = take_line(in);
  if (kind.starts_with("c")) return OptionField::count("n", 0, std::strtoll(std::string(lo).c_str(), nullptr, 10), "n");
  if (kind.starts_with("r"))
    return OptionField::real("x", 0.0, to_double(lo), kind.find('(') != std::string_view::npos, to_double(hi),
                             kind.find(')') != std::string_view::npos, "x");
  std::vector<std::string> choices;
  for (std::string_view rest = lo; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    choices.emplace_back(rest.substr(0, comma));
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
  }
  (void)hi;
  return OptionField::text("t", "", std::move(choices), "t");
}

bool same(const logz::OptionValue& a, const logz::OptionValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* d = std::get_if<double>(&a)) return *d == std::get<double>(b) || (std::isnan(*d) && std::isnan(std::get<double>(b)));
  return a == b;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logz;
  if (size < 1) return 0;
  std::string_view in = logz_fuzz::as_view(data + 1, size - 1);
  const unsigned selector = data[0] >= 0xC0 ? 7 : data[0];
  const OptionField field = declared(selector, in);
  (void)field.range();
  logz_fuzz::guarded([&] {
    const OptionValue v = field.parse(in, "--value");
    (void)field.problem(v);
    const std::string text = OptionField::format(v);
    Settings settings({field});
    settings.set(field.name, v);
    settings.validate({field}, "fuzz");
    // Accepted: the typed read must work, and the value's text must read back the same.
    switch (field.type) {
      case OptionType::count: (void)settings.count(field.name); break;
      case OptionType::real: (void)settings.real(field.name); break;
      case OptionType::text: (void)settings.text(field.name); break;
    }
    if (!same(field.parse(text, "--value"), v)) logz_fuzz::finding("format(v) does not parse back to v");
  });
  return 0;
}
