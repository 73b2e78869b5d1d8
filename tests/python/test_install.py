"""`pip install --no-build-isolation .` with Debian's setuptools: the package installs
(reusing the build folder, so nothing is compiled again) and works from where it lands."""

import os
import subprocess
import sys

import pytest

from conftest import SOURCE_DIR

BUILD = os.path.join(SOURCE_DIR, "build")


@pytest.mark.skipif(not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")), reason="no build folder to reuse")
def test_pip_install_into_a_folder(tmp_path):
    env = dict(os.environ, LOGZ_BUILD_DIR=BUILD, PIP_NO_INDEX="1")
    env.pop("PYTHONPATH", None)
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--target",
                        str(tmp_path / "site"), SOURCE_DIR], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    check = ("import logz, numpy as np; "
             "m = logz.model(weights=np.ones((3, 2)), visible_bias=np.zeros(3), hidden_bias=np.zeros(2)); "
             "print(logz.__file__); print(round(logz.exact(m).log_z, 6))")
    p = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                       env=dict(env, PYTHONPATH=str(tmp_path / "site")), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    where, log_z = p.stdout.split()
    assert where.startswith(str(tmp_path / "site"))
    # 3 visible, 2 hidden, all weights 1, no biases: Z = sum_h 2^0 ... by enumeration below.
    import itertools, math
    z = sum(math.prod(1 + math.exp(sum(h)) for _ in range(3)) for h in itertools.product([0, 1], repeat=2))
    assert float(log_z) == pytest.approx(math.log(z), abs=1e-6)
