#include "logz/core/observer.hpp"

#include <unistd.h>

#include <cstdio>

#include "logz/core/ranks.hpp"

namespace logz {

ProgressBar::ProgressBar(std::FILE* out, bool quiet)
    : out_(out),
      tty_(isatty(fileno(out)) != 0),
      quiet_(quiet || ranks::rank() != 0),  // one rank speaks for a distributed run
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

ProgressBar::~ProgressBar() { clear_line(); }

void ProgressBar::clear_line() {
  if (drawn_) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
    drawn_ = false;
  }
}

void ProgressBar::progress(std::string_view phase, std::size_t done, std::size_t total) {
  if (!tty_ || quiet_ || total == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (phase != phase_) {
    phase_ = phase;
    start_ = now;
  } else if (done < total && now - last_ < std::chrono::milliseconds(100)) {
    return;  // redraw at most ten times a second
  }
  last_ = now;
  const double frac = double(done) / double(total);
  const int width = 30, filled = int(frac * width);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
  std::fprintf(out_, "\r\033[K%.*s [", int(phase_.size()), phase_.data());
  for (int i = 0; i < width; ++i) std::fputc(i < filled ? '#' : '.', out_);
  std::fprintf(out_, "] %zu/%zu  %.0fs elapsed, %.0fs left", done, total, elapsed, eta);
  std::fflush(out_);
  drawn_ = true;
  if (done >= total) clear_line();
}

void ProgressBar::message(std::string_view text) {
  if (quiet_) return;
  clear_line();
  std::fprintf(out_, "%.*s\n", int(text.size()), text.data());
  std::fflush(out_);
}

}  // namespace logz
