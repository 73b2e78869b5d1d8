#!/usr/bin/env python3
"""Wall time of logz's heavy commands at 1 and 2 threads, on a quiet machine and with one
competing busy process, side by side in one run (bench/RESULTS.md, "Under load").

    python3 bench/under_load.py                     # build/apps/logz/logz, quiet and busy
    python3 bench/under_load.py --baseline OLD_LOGZ # and another build beside it, same runs
    python3 bench/under_load.py --only ais15 --repeats 5

The busy competitor is one process spinning on a core (`python3 -c "while True: pass"`),
started before the timed runs of the busy column and stopped after them. Each time is the
median of --repeats runs. The rule measured: with the competitor, 2 threads are never
slower than 1 (t2/t1 <= 1).
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DHFR = os.path.join(ROOT, "..", "shared", "data", "DHFR.a2m")


def rbm_file(folder, hidden, seed=0):
    """A 784 x hidden binary RBM with data marginals (so AIS runs from the data base alone)."""
    path = os.path.join(folder, f"rbm{hidden}.npz")
    rng = np.random.default_rng(seed)
    np.savez(path, weights=0.05 * rng.standard_normal((784, hidden)), visible_bias=-0.5 + 0.1 * rng.standard_normal(784),
             hidden_bias=np.zeros(hidden), data_marginals=np.full(784, 0.3))
    return path


def workloads(folder):
    """name -> (what, the command's arguments after the binary)."""
    rbm500, rbm15 = rbm_file(folder, 500), rbm_file(folder, 15)
    x = np.random.default_rng(1).standard_normal((20000, 16))
    np.save(os.path.join(folder, "x.npy"), x)
    w = {
        "ais500": ("AIS 100 chains x 2,000 betas, 784x500 RBM",
                   ["estimate", "--model", rbm500, "--method", "ais", "--chains", "100", "--betas", "2000",
                    "--replicates", "1"]),
        "ais15": ("AIS 100 chains x 10,000 betas, 784x15 RBM",
                  ["estimate", "--model", rbm15, "--method", "ais", "--chains", "100", "--betas", "10000",
                   "--replicates", "1"]),
        "pcd500": ("PCD-1, 500 hidden, 1 epoch of Fashion-MNIST (60,000 rows)",
                   ["train", "rbm", "--data", "fashion-mnist:train", "--hidden", "500", "--epochs", "1", "--out",
                    os.path.join(folder, "pcd.npz")]),
        "grbm": ("GRBM PCD, 16x16, 20 epochs of 20,000 rows",
                 ["train", "grbm", "--data", os.path.join(folder, "x.npy"), "--hidden", "16", "--method", "pcd",
                  "--epochs", "20", "--out", os.path.join(folder, "grbm.npz")]),
        "ising": ("AIS 100 chains x 1,000 betas, critical 24x24 Ising (Gibbs)",
                  ["estimate", "--model", ising_file(folder), "--method", "ais", "--chains", "100", "--betas", "1000",
                   "--replicates", "1"]),
    }
    if os.path.exists(DHFR):
        w["pl"] = ("pseudolikelihood, DHFR.a2m, plmc's README settings, 10 iterations",
                   ["train", "potts", "--data", DHFR, "--focus", "DYR_ECOLI", "--unknown", "skip", "--ignore-gaps",
                    "--lambda-e", "16", "--lambda-h", "0.01", "--max-iterations", "10", "--out",
                    os.path.join(folder, "pl.npz")])
    return w


def ising_file(folder, side=24):
    n = side * side
    J = np.zeros((n, n))
    k = 0.5 * np.log(1 + np.sqrt(2))  # the critical coupling
    for r in range(side):
        for c in range(side):
            i = side * r + c
            for j in (side * r + (c + 1) % side, side * ((r + 1) % side) + c):
                J[i, j] = J[j, i] = k
    path = os.path.join(folder, "ising24.npz")
    np.savez(path, couplings=J, fields=np.zeros(n))
    return path


def timed(binary, args, threads, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        p = subprocess.run([binary, *args, "--threads", str(threads), "-q"], capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            sys.exit(f"{binary} {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return statistics.median(times)


@contextlib.contextmanager
def busy(on):
    p = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        time.sleep(0.2 if on else 0)
        yield
    finally:
        if p:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logz", default=os.path.join(ROOT, "build", "apps", "logz", "logz"))
    ap.add_argument("--baseline", help="another logz binary, timed in the same run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="workload names (default: all)")
    ap.add_argument("--quiet-only", action="store_true", help="skip the busy column")
    a = ap.parse_args()
    binaries = [("logz", a.logz)] + ([("baseline", a.baseline)] if a.baseline else [])
    with tempfile.TemporaryDirectory() as folder:
        w = workloads(folder)
        names = a.only or list(w)
        print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, median of {a.repeats}")
        print("| work | build | load | 1 thread (s) | 2 threads (s) | t2/t1 |")
        print("|---|---|---|---|---|---|")
        for name in names:
            what, args = w[name]
            for load in (["quiet"] if a.quiet_only else ["quiet", "busy"]):
                with busy(load == "busy"):
                    for label, binary in binaries:
                        t1 = timed(binary, args, 1, a.repeats)
                        t2 = timed(binary, args, 2, a.repeats)
                        print(f"| {what} | {label} | {load} | {t1:.2f} | {t2:.2f} | {t2 / t1:.2f} |", flush=True)


if __name__ == "__main__":
    main()
