#pragma once
/// @file observer.hpp
/// Progress reporting for long runs. Algorithms take an Observer& and report
/// (phase, done, total); what to show is the caller's choice. No logging singleton.
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace logz {

/// Wall-clock seconds since `t0` (what estimates and training reports call `seconds`).
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class Observer {
 public:
  virtual ~Observer() = default;
  /// `done` of `total` units of `phase` are finished.
  virtual void progress(std::string_view phase, std::size_t done, std::size_t total) { (void)phase, (void)done, (void)total; }
  /// A line for the human reader (warnings, per-epoch summaries).
  virtual void message(std::string_view text) { (void)text; }
};

/// Reports nothing.
inline Observer& silent_observer() {
  static Observer none;  // stateless: safe to share
  return none;
}

/// A progress bar on stderr when stderr is a terminal; otherwise messages only. Silent on
/// the ranks other than 0 of a run under mpirun (core/ranks.hpp).
class ProgressBar final : public Observer {
 public:
  explicit ProgressBar(std::FILE* out = stderr, bool quiet = false);
  ~ProgressBar() override;
  void progress(std::string_view phase, std::size_t done, std::size_t total) override;
  void message(std::string_view text) override;

 private:
  void clear_line();
  std::FILE* out_;
  bool tty_, quiet_, drawn_ = false;
  std::string phase_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace logz
