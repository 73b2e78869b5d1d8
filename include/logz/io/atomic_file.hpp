#pragma once
/// @file atomic_file.hpp
/// Files a user owns are never left half-written: data goes to a temporary file in the
/// same folder, is flushed, and is renamed over the target only when complete.
#include <functional>
#include <string>
#include <string_view>

namespace logz::io {

/// Writes `contents` to `path` atomically. A symbolic link is written through (the file
/// it names is replaced); a device or FIFO (/dev/null, /dev/stdout) is written into, never
/// replaced. Failure: Error(Exit::cant_create) if the temporary file cannot be created,
/// Error(Exit::io) on a write error; the temporary is removed.
void write_file_atomic(const std::string& path, std::string_view contents);

/// Under mpirun every rank computes the same files and rank 0 alone writes them (a
/// checkpoint written once, never two ranks renaming over each other): the CLI's main
/// calls this with false on the other ranks, after which write_file_atomic returns without
/// writing. True until then.
void set_writes_files(bool writes);
/// Whether this process writes files (false on the ranks other than 0 of a distributed run).
bool writes_files();

/// Held by a run for as long as it writes `path` (a trained model, a checkpoint): an
/// advisory lock (flock(2)) on "<path>.lock", so that a second run asked to write the same
/// file fails at once instead of interleaving its files with the first's (a model from
/// one run beside a checkpoint from the other). The lock file is removed when the lock is
/// released, also on the signals of remove_temporaries_on_signals; a process killed
/// outright leaves the file but not the lock. Nothing is locked where this process writes
/// no files (writes_files()) or for a device or FIFO. Error(Exit::temp_fail) "<who>: <path>
/// is being written by another run (process N) ..." when another process holds it;
/// Error(Exit::cant_create) when the lock file cannot be created.
class OutputLock {
 public:
  OutputLock(const std::string& path, std::string_view who);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  struct Held;
  Held* held_ = nullptr;
};

/// For a program (the CLI): SIGINT, SIGTERM, SIGHUP and SIGQUIT first remove the
/// temporaries of the writes in progress, then end the process as the signal would have
/// (status 128 + signal). A library user keeps its own signal handling.
void remove_temporaries_on_signals();

/// For a program (the CLI's --max-seconds): once `seconds` of wall time have passed, the
/// process ends as under remove_temporaries_on_signals (the temporaries of writes in
/// progress and its lock files removed; every file already written stays whole, so a
/// checkpoint is the last one completed), printing `message` and a newline to stderr, with
/// status Exit::temp_fail (75: rerun, with --resume where the command has it). No limit
/// for seconds <= 0 or not finite.
void end_process_after(double seconds, std::string_view message);

/// Reads a whole file. Missing/unreadable: Error(Exit::no_input, "<path>: cannot open: <reason>").
std::string read_file(const std::string& path);

}  // namespace logz::io
