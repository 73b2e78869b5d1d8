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

/// For a program (the CLI): SIGINT, SIGTERM, SIGHUP and SIGQUIT first remove the
/// temporaries of the writes in progress, then end the process as the signal would have
/// (status 128 + signal). A library user keeps its own signal handling.
void remove_temporaries_on_signals();

/// Reads a whole file. Missing/unreadable: Error(Exit::no_input, "<path>: cannot open: <reason>").
std::string read_file(const std::string& path);

}  // namespace logz::io
