"""Builds the compiled half of the logz package (logz._logz) with the project's CMake
build; pyproject.toml has the rest. The build folder is LOGZ_BUILD_DIR if set (e.g. the
`build` folder `make` already filled, so nothing is compiled twice), else a folder of its
own under build/pip."""

import os
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = os.environ.get("LOGZ_BUILD_DIR") or os.path.join(ROOT, "build", "pip")
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                                   f"-DPython3_EXECUTABLE={sys.executable}", "-DLOGZ_BUILD_TESTS=OFF",
                                   "-DLOGZ_BUILD_BENCH=OFF", "-DLOGZ_BUILD_EXAMPLES=OFF"])
        subprocess.check_call(["cmake", "--build", build, "--target", "logz_python_module", "-j",
                               str(os.cpu_count() or 1)])
        name = "_logz" + sysconfig.get_config_var("EXT_SUFFIX")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(build, "python", "logz", name), target)


os.makedirs(os.path.join(ROOT, "build", "setuptools"), exist_ok=True)
setup(ext_modules=[Extension("logz._logz", sources=[])], cmdclass={"build_ext": CMakeBuild},
      options={"build": {"build_base": os.path.join("build", "setuptools")},  # beside CMake's, not in the tree
               "egg_info": {"egg_base": os.path.join("build", "setuptools")}})
