"""Long calls: the GIL is released (another Python thread runs meanwhile), progress
reaches a Python callable, and Ctrl-C ends a call with KeyboardInterrupt within a second,
leaving no output behind."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np

import logz
from conftest import rbm_arrays

# An AIS run of a few seconds on one thread.
LONG = dict(chains=200, betas=20000, seed=1, threads=1, replicates=1)


def test_gil_is_released_during_estimate():
    m = logz.model(**rbm_arrays(n_visible=30, n_hidden=10))
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.monotonic()
    try:
        logz.estimate(m, "ais", **dict(LONG, betas=3000))
    finally:
        done.set()
        t.join()
    elapsed = time.monotonic() - start
    # With the GIL held the counter would not move until the call returns; released, it
    # ticks about once a millisecond (a tenth of that is plenty on a busy machine).
    assert ticks > 0.1 * elapsed * 1000 * 0.1, (ticks, elapsed)


def test_progress_reaches_a_callable():
    seen = []
    logz.estimate(logz.model(**rbm_arrays()), "ais", chains=20, betas=2000, seed=1, threads=1,
                  progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert seen and seen[-1][1] == seen[-1][2]
    assert all(0 <= d <= t for _, d, t in seen)


def test_an_exception_in_the_callback_ends_the_call():
    def boom(phase, done, total):
        raise RuntimeError("stop here")

    try:
        logz.estimate(logz.model(**rbm_arrays()), "ais", chains=20, betas=5000, seed=1, threads=2, progress=boom)
    except RuntimeError as e:
        assert "stop here" in str(e)
    else:
        raise AssertionError("the callback's exception was lost")


def test_ctrl_c_raises_keyboard_interrupt_within_a_second(tmp_path):
    script = tmp_path / "long.py"
    out = tmp_path / "model.npz"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        import numpy as np
        import logz
        rng = np.random.default_rng(0)
        m = logz.model(weights=0.5 * rng.standard_normal((30, 10)), visible_bias=np.zeros(30), hidden_bias=np.zeros(10))
        print("started", flush=True)
        try:
            logz.estimate(m, "ais", chains=400, betas=1000000, seed=1, threads=2)
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
            sys.exit(3)
        m.save({str(out)!r})
    """))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=os.environ)
    assert p.stdout.readline().strip() == "started"
    time.sleep(1.0)
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=30)
    assert p.returncode == 3, stderr
    word, when = stdout.split()
    assert word == "interrupted" and float(when) - sent < 1.0
    assert not out.exists()
