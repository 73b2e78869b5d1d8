#pragma once
/// @file check.hpp
/// The one error path of logz. A user's mistake (bad argument, malformed file,
/// unwritable path) throws logz::Error carrying a sysexits(3) code, so that the
/// command-line tool can exit with it; internal invariants use assert.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logz {

/// sysexits(3) codes: what kind of failure an Error is.
enum class Exit : int {
  ok = 0,
  usage = 64,        ///< EX_USAGE: bad argument or option
  data = 65,         ///< EX_DATAERR: input data malformed
  no_input = 66,     ///< EX_NOINPUT: input file missing or unreadable
  unavailable = 69,  ///< EX_UNAVAILABLE: a resource (e.g. memory) is not available
  software = 70,     ///< EX_SOFTWARE: internal error
  cant_create = 73,  ///< EX_CANTCREAT: output file cannot be created
  io = 74,           ///< EX_IOERR: read/write error
  temp_fail = 75,    ///< EX_TEMPFAIL: an estimate its verdict does not trust (--strict): rerun with more
};

/// A user-facing failure: the message names the function, the argument and the value.
class Error : public std::runtime_error {
 public:
  Error(Exit code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  Exit code() const noexcept { return code_; }

 private:
  Exit code_;
};

/// A bad value of a configuration field, found by a config's validate() (Exit::usage), or
/// bad data given through a field (Exit::data). The message is
/// kept as a pattern whose fields are "@0", "@1", ...: what() names the fields as the
/// library does ("estimate: chains must be >= 1, got 0"), and a front end renders the
/// same pattern with its own names for them (the CLI: "--chains"), so the library never
/// speaks a front end's language.
class ConfigError : public Error {
 public:
  ConfigError(std::string pattern, std::vector<std::string> fields, Exit code = Exit::usage)
      : Error(code, render_with(pattern, fields, [](std::string_view f) { return std::string(f); })),
        pattern_(std::move(pattern)),
        fields_(std::move(fields)) {}
  const std::vector<std::string>& fields() const noexcept { return fields_; }
  /// The message with field i written as name(fields()[i]).
  template <class Name>
  std::string render(Name&& name) const {
    return render_with(pattern_, fields_, name);
  }

 private:
  template <class Name>
  static std::string render_with(const std::string& pattern, const std::vector<std::string>& fields, Name&& name) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i] == '@' && i + 1 < pattern.size() && pattern[i + 1] >= '0' && pattern[i + 1] <= '9' &&
          std::size_t(pattern[i + 1] - '0') < fields.size()) {
        out += name(fields[std::size_t(pattern[i + 1] - '0')]);
        ++i;
      } else {
        out += pattern[i];
      }
    }
    return out;
  }
  std::string pattern_;
  std::vector<std::string> fields_;
};

/// Config check: throws ConfigError when `ok` is false. `fields` are the configuration
/// fields the message names, written "@0", "@1", ... in the format string:
///   check_config(chains >= 1, {"chains"}, "estimate: @0 must be >= 1, got {}", chains);
template <class... Args>
void check_config(bool ok, std::vector<std::string> fields, fmt::format_string<Args...> f, Args&&... args) {
  if (!ok) [[unlikely]]
    throw ConfigError(fmt::format(f, std::forward<Args>(args)...), std::move(fields));
}

/// Data check naming fields: throws ConfigError(..., Exit::data) when `ok` is false.
template <class... Args>
void check_config_data(bool ok, std::vector<std::string> fields, fmt::format_string<Args...> f, Args&&... args) {
  if (!ok) [[unlikely]]
    throw ConfigError(fmt::format(f, std::forward<Args>(args)...), std::move(fields), Exit::data);
}

template <class... Args>
[[noreturn]] void fail(Exit code, fmt::format_string<Args...> f, Args&&... args) {
  throw Error(code, fmt::format(f, std::forward<Args>(args)...));
}

/// Argument check: throws Error(Exit::usage, message) when `ok` is false.
template <class... Args>
void check_arg(bool ok, fmt::format_string<Args...> f, Args&&... args) {
  if (!ok) [[unlikely]]
    throw Error(Exit::usage, fmt::format(f, std::forward<Args>(args)...));
}

/// Data check: throws Error(Exit::data, message) when `ok` is false.
template <class... Args>
void check_data(bool ok, fmt::format_string<Args...> f, Args&&... args) {
  if (!ok) [[unlikely]]
    throw Error(Exit::data, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace logz
