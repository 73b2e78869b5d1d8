// `logz plot`: the pictures of logz.plot (python/logz/plot.py, matplotlib). The figures
// are drawn in Python, where matplotlib is; this command runs
//   python3 -m logz.plot ARGS...
// with the package this CLI was built with first on PYTHONPATH, so `logz plot` and
// `import logz.plot` draw the same figures from the same code.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common.hpp"
#include "logz/core/check.hpp"

#ifndef LOGZ_PYTHON_EXECUTABLE
#define LOGZ_PYTHON_EXECUTABLE "python3"
#endif
#ifndef LOGZ_PYTHON_PACKAGE_DIR
#define LOGZ_PYTHON_PACKAGE_DIR ""
#endif

namespace logz::cli {

namespace {

int run_plot(const std::vector<std::string>& args) {
  // LOGZ_PYTHON overrides the interpreter (e.g. a virtual environment's).
  const char* env_python = std::getenv("LOGZ_PYTHON");
  const std::string python = env_python && *env_python ? env_python : LOGZ_PYTHON_EXECUTABLE;
  const std::string package = LOGZ_PYTHON_PACKAGE_DIR;
  if (!package.empty()) {
    const char* old = std::getenv("PYTHONPATH");
    const std::string path = old && *old ? package + ":" + old : package;
    ::setenv("PYTHONPATH", path.c_str(), 1);
  }
  std::vector<std::string> argv = {python, "-m", "logz.plot"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  std::fflush(stdout);
  ::execvp(raw[0], raw.data());  // returns only on failure
  fail(Exit::unavailable, "plot: cannot run {} ({}): logz plot needs Python 3 with numpy and matplotlib "
                          "(Debian: python3-matplotlib); set LOGZ_PYTHON to another interpreter",
       python, std::strerror(errno));
}

}  // namespace

void add_plot(CLI::App& app, Action& action) {
  auto args = std::make_shared<std::vector<std::string>>();
  CLI::App* sub = app.add_subcommand("plot", "Pictures: RBM filters, samples, training curves, per-beta diagnostics, "
                                             "contact maps, log Z by method (PNG or SVG)");
  sub->prefix_command();  // everything after `plot` goes to logz.plot as is
  sub->footer(
      "Drawn by the Python package (logz.plot, matplotlib); run `logz plot --help` for its help, e.g.\n"
      "  logz plot filters --model model.npz --out filters.png\n"
      "  logz plot samples --model model.npz --data test.npy --out samples.png\n"
      "  logz plot training --log model.npz.log.jsonl --out training.svg\n"
      "  logz plot diagnostics --csv run1.csv run2.csv --out diagnostics.png\n"
      "  logz plot contacts --model dhfr.npz --out contacts.png\n"
      "  logz plot estimates --json ais.json smc.json --exact 1234.5 --out estimates.png");
  sub->set_help_flag();  // --help is logz.plot's
  sub->callback([sub, &action] {
    action = [args = sub->remaining()] { return run_plot(args); };
  });
}

}  // namespace logz::cli
