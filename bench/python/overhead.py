#!/usr/bin/env python3
"""The cost of calling logz from Python: the same AIS run through `logz estimate` and
through `logz.estimate`, alternated, on one model file, one thread.

    PYTHONPATH=build/python /usr/bin/python3 bench/python/overhead.py MODEL.npz [--chains 100 --betas 10000]

The CLI's time is its own `seconds` (the estimator's wall time, as the Python call's
`details['seconds']`) and the process's wall time; the Python call is timed around the
call. Prints one JSON line: medians, and the Python call over the CLI's process time."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import logz

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("model")
ap.add_argument("--cli", default=os.path.join(os.path.dirname(__file__), "..", "..", "build", "apps", "logz", "logz"))
ap.add_argument("--chains", type=int, default=100)
ap.add_argument("--betas", type=int, default=10000)
ap.add_argument("--method", default="ais")
ap.add_argument("--repeats", type=int, default=5)
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()

m = logz.load(a.model)
cli_wall, cli_inner, py_wall, py_inner = [], [], [], []
for r in range(a.repeats):
    t = time.perf_counter()
    out = subprocess.run([a.cli, "estimate", "--model", a.model, "--method", a.method, "--chains", str(a.chains),
                          "--betas", str(a.betas), "--seed", "1", "--threads", str(a.threads), "--json", "-q"],
                         capture_output=True, text=True, check=True)
    cli_wall.append(time.perf_counter() - t)
    j = json.loads(out.stdout)
    cli_inner.append(sum(run.get("seconds", 0) for run in j.get("runs", [])) or j["seconds"])
    t = time.perf_counter()
    e = logz.estimate(m, a.method, chains=a.chains, betas=a.betas, seed=1, threads=a.threads, progress=False)
    py_wall.append(time.perf_counter() - t)
    py_inner.append(sum(run.get("seconds", 0) for run in e.runs) or e.details["seconds"])
    assert e.log_z == j["log_z"], (e.log_z, j["log_z"])  # the same bits

med = statistics.median
print(json.dumps({
    "model": a.model, "method": a.method, "chains": a.chains, "betas": a.betas, "threads": a.threads,
    "repeats": a.repeats, "cli_process_s": med(cli_wall), "cli_estimator_s": med(cli_inner),
    "python_call_s": med(py_wall), "python_estimator_s": med(py_inner),
    "python_over_cli_process": med(py_wall) / med(cli_wall),
    "python_call_over_its_estimator": med(py_wall) / med(py_inner),
}))
