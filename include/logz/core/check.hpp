#pragma once
/// @file check.hpp
/// The one error path of logz. A user's mistake (bad argument, malformed file,
/// unwritable path) throws logz::Error carrying a sysexits(3) code, so that the
/// command-line tool can exit with it; internal invariants use assert.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

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
};

/// A user-facing failure: the message names the function, the argument and the value.
class Error : public std::runtime_error {
 public:
  Error(Exit code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  Exit code() const noexcept { return code_; }

 private:
  Exit code_;
};

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
