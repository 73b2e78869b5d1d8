#pragma once
/// @file memory.hpp
/// Memory accounting for large allocations: sizes multiplied without silent overflow,
/// and the memory the machine has free, so that a fit too big for the machine fails
/// up front with both numbers instead of being killed half-way.
#include <sys/resource.h>

#include <cstddef>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>

#include "logz/core/check.hpp"

namespace logz {

/// a · b, or Error(Exit::usage) naming `what` when the product does not fit in size_t.
inline std::size_t checked_product(std::size_t a, std::size_t b, const char* what) {
  std::size_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) fail(Exit::usage, "{}: size overflows ({} x {})", what, a, b);
  return r;
}
/// a + b, or Error(Exit::usage) naming `what` on overflow.
inline std::size_t checked_sum(std::size_t a, std::size_t b, const char* what) {
  std::size_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) fail(Exit::usage, "{}: size overflows ({} + {})", what, a, b);
  return r;
}

/// MemAvailable from /proc/meminfo in bytes, or nothing where it cannot be read.
inline std::optional<std::size_t> available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::size_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return std::nullopt;
}

/// The most memory this process has held so far (its peak resident set, getrusage's
/// ru_maxrss), in bytes.
inline std::size_t peak_resident_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return std::size_t(u.ru_maxrss) * 1024;
}

/// Throws Error(Exit::unavailable) when `bytes` exceeds the memory available now.
inline void check_memory_available(std::size_t bytes, const char* what) {
  const auto avail = available_memory_bytes();
  if (avail && bytes > *avail)
    fail(Exit::unavailable, "{}: needs {} bytes ({:.2f} GiB) of memory but only {:.2f} GiB is available", what, bytes,
         double(bytes) / double(1ull << 30), double(*avail) / double(1ull << 30));
}

/// Throws Error(Exit::unavailable) before a run whose arrays would need more than the
/// memory available: the bytes asked are the product of `factors` (element counts and an
/// element size), a product past 2^64 counted as more than any machine has. `what` names
/// the request ("estimate: 100 chains x 2000000000 betas").
inline void check_memory_for(std::initializer_list<std::size_t> factors, const std::string& what) {
  std::size_t bytes = 1;
  for (std::size_t f : factors)
    if (__builtin_mul_overflow(bytes, f, &bytes))
      fail(Exit::unavailable, "{}: needs more than 2^64 bytes of memory", what);
  check_memory_available(bytes, what.c_str());
}

}  // namespace logz
