#pragma once
/// @file python.hpp
/// Running Python scripts from tests that check files against NumPy itself.
#include <cstdlib>
#include <fstream>
#include <string>

#include "support/temp_dir.hpp"

namespace logz::test {

/// Whether /usr/bin/python3 can import numpy.
inline bool have_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

/// Writes `script` to script.py in `dir` and runs it with /usr/bin/python3, the folder as
/// its one argument. Returns std::system's status (0 on success), -1 if the script could
/// not be written.
inline int run_python(const TempDir& dir, const std::string& script) {
  const std::string path = dir.file("script.py");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << script;
    out.close();
    if (!out) return -1;
  }
  const std::string cmd = "/usr/bin/python3 '" + path + "' '" + dir.path().string() + "'";
  return std::system(cmd.c_str());
}

}  // namespace logz::test
