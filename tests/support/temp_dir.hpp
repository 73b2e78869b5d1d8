#pragma once
/// @file temp_dir.hpp
/// A fresh, uniquely named temporary directory for one test, removed with its contents
/// when it goes out of scope.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include <unistd.h>

#include "logz/core/rng.hpp"

namespace logz::test {

/// A fresh directory under the system temporary directory, removed with its contents
/// when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    const auto base = std::filesystem::temp_directory_path();
    Stream rng = Stream::root(std::uint64_t(reinterpret_cast<std::uintptr_t>(this)) ^ std::uint64_t(::getpid()));
    for (int attempt = 0; attempt < 100; ++attempt) {
      path_ = base / ("logz-test-" + std::to_string(rng.next_u32()) + std::to_string(rng.next_u32()));
      std::error_code ec;
      if (std::filesystem::create_directory(path_, ec)) return;
    }
    throw std::runtime_error("TempDir: could not create a directory under " + base.string());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace logz::test
