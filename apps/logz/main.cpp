// Entry point of the `logz` command-line tool. Subcommands live in cmd_*.cpp; option
// handling, output and the error → exit-code mapping in common.cpp.
//
// Under mpirun (docs/scaling.md) every rank runs the same command; rank 0 alone writes
// stdout, progress and files, and a rank that fails ends the whole job (the others could be
// waiting for it).
#include <cstdio>

#include "common.hpp"
#include "logz/core/ranks.hpp"
#include "logz/io/atomic_file.hpp"

int main(int argc, char** argv) {
  try {
    logz::ranks::init(&argc, &argv);
  } catch (const logz::Error& e) {
    std::fprintf(stderr, "logz: %s\n", e.what());
    return int(e.code());
  }
  if (logz::ranks::rank() != 0) {
    if (!std::freopen("/dev/null", "w", stdout)) return int(logz::Exit::io);
    logz::io::set_writes_files(false);  // every rank holds the same files: rank 0 writes them
  }
  logz::io::remove_temporaries_on_signals();  // Ctrl-C leaves no half-written file behind
  const int code = logz::cli::run_main(argc, argv);
  // 75 is a verdict (--strict), the same on every rank: not a failure to end the job for.
  if (code != 0 && code != int(logz::Exit::temp_fail) && logz::ranks::size() > 1)
    logz::ranks::abort(code, "ending every rank of the job (the error is above)");
  logz::ranks::finish();
  return code;
}
