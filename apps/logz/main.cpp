// Entry point of the `logz` command-line tool. Subcommands live in cmd_*.cpp; option
// handling, output and the error → exit-code mapping in common.cpp.
#include "common.hpp"

int main(int argc, char** argv) { return logz::cli::run_main(argc, argv); }
