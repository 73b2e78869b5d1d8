#!/usr/bin/python3
"""Scores every log Z estimator of `logz estimate` on the hard-model suite built by
bench/hard_models/make_models.py: for each case x method x seed it runs

    logz estimate --model F --method M --seed s --threads 1 --json [--data D for raise]

and compares the estimate with the exact log Z of the manifest. Each run lands in one of

  (a) |error| <= 4 SE                       the error bar covers the truth;
  (b) |error| >  4 SE, reliable = false     wrong, and the verdict says so;
  (c) |error| >  4 SE, reliable = true      wrong and called reliable: the bug to avoid;
  failure  non-zero exit (the code is kept), timeout  over the CPU budget of the run,
  not run  skipped after --max-timeouts timeouts of the same case x method.

`reliable` is read from the JSON with a default of true (results without a verdict count
as unflagged); an SE or estimate that is not a finite number is never inside 4 SE.

False-failure rate of a gate on (c) = 0: a correct verdict still sees |error| > 4 SE on a
reliable run when the error is normal, P(|z| > 4) = 6.3e-5 per run, so about
n x 6.3e-5 over n runs (e.g. 0.013 for 15 cases x 7 methods x 20 seeds with every run
reliable). AIS-type errors are skewed (log of a mean of weights), so this is a guide.

Budgets: --budget default runs the CLI's defaults; --budget large multiplies --chains (draws,
particles, ladder chains, LIS runs, reverse chains) by --large-factor, read from the default
printed by `logz estimate --help`, so new defaults are picked up without editing this file.
Each run is limited to --cpu-budget CPU seconds (RLIMIT_CPU; --budget-for 'CASE/METHOD=S'
overrides by fnmatch pattern) and to --wall-factor times that in wall time.

Writes a Markdown table (--out-md, default bench/results/hard-suite.md) and a JSON file with
every run (--out-json, default bench/results/hard-suite.json).
Exit status: 0, or 1 with --fail-on-unflagged when any run is in (c), or 2 on bad use.
"""
import argparse
import datetime
import fnmatch
import json
import math
import os
import platform
import re
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_LOGZ = os.path.join(ROOT, "build", "apps", "logz", "logz")
METHODS = ["is", "ais", "raise", "smc", "bridge", "ti", "lis"]
Z_BOUND = 4.0
P_OUTSIDE_NORMAL = math.erfc(Z_BOUND / math.sqrt(2))  # 6.3e-5


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", required=True, help="folder with manifest.json (make_models.py --out)")
    ap.add_argument("--logz", default=DEFAULT_LOGZ, help="the logz CLI (default: build/apps/logz/logz)")
    ap.add_argument("--seeds", type=int, default=20, help="seeds 1..N per case and method (default 20)")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--cases", default="*", help="comma-separated fnmatch patterns of case names")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated methods")
    ap.add_argument("--budget", default="default", choices=["default", "large"])
    ap.add_argument("--large-factor", type=int, default=4, help="--budget large: times the default --chains")
    ap.add_argument("--extra", default="", help="more options for every run, e.g. '--replicates 4'")
    ap.add_argument("--cpu-budget", type=float, default=60, help="CPU seconds per run (default 60)")
    ap.add_argument("--budget-for", action="append", default=[], metavar="CASE/METHOD=SECONDS",
                    help="CPU budget of the runs matching an fnmatch pattern, e.g. 'ising32*/ais=300'")
    ap.add_argument("--wall-factor", type=float, default=10, help="a run is stopped after this x its CPU budget in wall time")
    ap.add_argument("--max-timeouts", type=int, default=1,
                    help="after this many timeouts of a case x method, its other seeds are not run (0: run all)")
    ap.add_argument("--jobs", type=int, default=2, choices=[1, 2], help="runs at a time (at most 2)")
    ap.add_argument("--out-md", default=os.path.join(ROOT, "bench", "results", "hard-suite.md"),
                    help="Markdown table (default: bench/results/hard-suite.md; '' for none)")
    ap.add_argument("--out-json", default=os.path.join(ROOT, "bench", "results", "hard-suite.json"),
                    help="JSON with every run (default: bench/results/hard-suite.json; '' for none)")
    ap.add_argument("--title", default="Hard-model suite")
    ap.add_argument("--fail-on-unflagged", action="store_true", help="exit 1 when any run is in (c)")
    ap.add_argument("--resume", action="store_true",
                    help="keep the runs of an interrupted suite with the same --out-json (its .partial.jsonl journal)")
    ap.add_argument("-q", "--quiet", action="store_true")
    return ap.parse_args(argv)


def default_option(logz, flag):
    """The default of an option as `logz estimate --help` prints it ('--chains N=100')."""
    text = subprocess.run([logz, "estimate", "--help"], capture_output=True, text=True, check=True).stdout
    m = re.search(re.escape(flag) + r"\s+\S*?=(\S+)", text)
    if not m:
        raise SystemExit(f"run_suite: cannot read the default of {flag} from `logz estimate --help`")
    return m.group(1)


def budget_of(args, case, method):
    budget = args.cpu_budget
    for rule in args.budget_for:
        pattern, _, seconds = rule.rpartition("=")
        if not pattern:
            raise SystemExit(f"run_suite: --budget-for wants CASE/METHOD=SECONDS, got {rule!r}")
        if fnmatch.fnmatchcase(f"{case}/{method}", pattern):
            budget = float(seconds)
    return budget


def finite(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def run_one(args, models_dir, case, method, seed, options, cpu_budget):
    """One `logz estimate` run under an RLIMIT_CPU of cpu_budget seconds; its record."""
    cmd = [args.logz, "estimate", "--model", os.path.join(models_dir, case["file"]), "--method", method,
           "--seed", str(seed), "--threads", "1", "--json", "-q"] + options
    if method == "raise" and case.get("raise_data"):
        data = case["raise_data"]
        cmd += ["--data", data if ":" in data else os.path.join(models_dir, data)]
    rec = {"case": case["name"], "method": method, "seed": seed, "command": shlex.join(cmd)}
    limit = max(1, math.ceil(cpu_budget))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=dict(os.environ, OMP_NUM_THREADS="1"))
        try:
            resource.prlimit(proc.pid, resource.RLIMIT_CPU, (limit, limit + 2))
        except (ProcessLookupError, OSError):
            pass  # it has already ended
        killed = []

        def stop():
            killed.append(True)
            proc.kill()

        watchdog = threading.Timer(args.wall_factor * cpu_budget + 5, stop)
        watchdog.start()
        _, status, usage = os.wait4(proc.pid, 0)
        watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        rec["wall_seconds"] = round(time.monotonic() - t0, 3)
        rec["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 3)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    code = proc.returncode
    # SIGXCPU at the soft limit, SIGKILL at the hard one (a SIGKILL below the limit is
    # something else, e.g. the kernel out of memory, and counts as a failure).
    if killed or code == -signal.SIGXCPU or (code == -signal.SIGKILL and rec["cpu_seconds"] >= limit - 0.5):
        rec["outcome"] = "timeout"
        rec["cpu_budget"] = limit
        return rec
    if code != 0:
        rec["outcome"] = "failure"
        rec["exit_code"] = code
        rec["stderr"] = stderr.strip()[-400:]
        return rec
    try:
        result = json.loads(stdout)
    except json.JSONDecodeError as e:
        rec.update(outcome="failure", exit_code=0, stderr=f"stdout is not JSON: {e}")
        return rec
    exact = case["exact_log_z"]
    log_z, se = result.get("log_z"), result.get("std_error")
    reliable = result.get("reliable", True)
    rec.update(log_z=log_z, std_error=se, reliable=bool(reliable),
               warnings=[w.get("name") for w in result.get("warnings", []) if isinstance(w, dict)],
               ess=result.get("ess"), num_samples=result.get("num_samples"), seconds=result.get("seconds"))
    if finite(log_z):
        rec["error"] = log_z - exact
    covered = finite(log_z) and finite(se) and abs(log_z - exact) <= Z_BOUND * se
    if finite(log_z) and finite(se) and se > 0:
        rec["z"] = (log_z - exact) / se
    rec["outcome"] = "a" if covered else ("b" if not reliable else "c")
    return rec


def summarise(runs, cases, methods):
    cells = []
    for case in cases:
        for method in methods:
            rs = [r for r in runs if r["case"] == case["name"] and r["method"] == method]
            if not rs:
                continue
            count = {k: sum(r["outcome"] == k for r in rs) for k in ("a", "b", "c", "failure", "timeout", "not_run")}
            codes = sorted({r["exit_code"] for r in rs if r["outcome"] == "failure"})
            done = [r for r in rs if r["outcome"] in ("a", "b", "c")]
            errors = sorted(abs(r["error"]) for r in done if "error" in r)
            ses = sorted(r["std_error"] for r in done if finite(r.get("std_error")))
            cpu = [r["cpu_seconds"] for r in rs if "cpu_seconds" in r and r["outcome"] != "timeout"]
            cells.append({"case": case["name"], "method": method, "runs": len(rs), **count, "exit_codes": codes,
                          "median_abs_error": errors[len(errors) // 2] if errors else None,
                          "median_se": ses[len(ses) // 2] if ses else None,
                          "mean_cpu_seconds": sum(cpu) / len(cpu) if cpu else None,
                          "total_cpu_seconds": sum(r.get("cpu_seconds", 0) for r in rs)})
    return cells


def fmt(x, digits=3):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.node()}, {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown(meta, cases, cells):
    lines = [f"# {meta['title']}", "",
             f"- command: `{meta['command']}`",
             f"- machine: {meta['machine']}",
             f"- date: {meta['date']} (logz {meta['commit']}); {meta['total_runs']} runs, "
             f"{meta['total_cpu_seconds']:.0f} CPU s, {meta['wall_seconds']:.0f} s wall",
             f"- budget: {meta['budget']}; every run `--threads 1`; CPU limit per run {meta['cpu_budget']}",
             "",
             "Columns: (a) |error| ≤ 4·SE; (b) |error| > 4·SE and `reliable = false`; (c) |error| > 4·SE and "
             "called reliable (results without a verdict count as reliable); fail: non-zero exit (codes); "
             "t/o: over the CPU limit; skip: not run after a timeout of the same case and method. "
             "Errors are estimate − exact, in nats; CPU is the mean per finished run.",
             "",
             "## Totals", "",
             f"(a) {meta['totals']['a']}, (b) {meta['totals']['b']}, **(c) {meta['totals']['c']}**, "
             f"failures {meta['totals']['failure']}, timeouts {meta['totals']['timeout']}, "
             f"not run {meta['totals']['not_run']}. With every finished run reliable and normal errors, a correct "
             f"verdict gives (c) > 0 with probability about n·{P_OUTSIDE_NORMAL:.1e} = "
             f"{meta['false_failure_rate']:.2g} here (n = {meta['finished_runs']} finished runs).",
             "",
             "## Cases", "",
             "| case | exact log Z | method of the exact value | model | RAISE --data |",
             "|---|---|---|---|---|"]
    for c in cases:
        lines.append(f"| {c['name']} | {c['exact_log_z']:.6f} | {c['exact_method']} | {c['description']} | "
                     f"{c.get('raise_data') or 'none (no data source)'} |")
    lines += ["", "## Runs", "",
              "| case | method | runs | (a) | (b) | (c) | fail (codes) | t/o | skip | median abs error | median SE | CPU s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in cells:
        fail = str(c["failure"]) + (f" ({', '.join(map(str, c['exit_codes']))})" if c["exit_codes"] else "")
        bold_c = f"**{c['c']}**" if c["c"] else "0"
        lines.append(f"| {c['case']} | {c['method']} | {c['runs']} | {c['a']} | {c['b']} | {bold_c} | {fail} | "
                     f"{c['timeout']} | {c['not_run']} | {fmt(c['median_abs_error'])} | {fmt(c['median_se'])} | "
                     f"{fmt(c['mean_cpu_seconds'])} |")
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    args.logz = os.path.abspath(args.logz)
    if not os.access(args.logz, os.X_OK):
        print(f"run_suite: {args.logz} is not an executable logz CLI", file=sys.stderr)
        return 2
    models_dir = os.path.abspath(args.models)
    with open(os.path.join(models_dir, "manifest.json")) as f:
        manifest = json.load(f)
    patterns = [p.strip() for p in args.cases.split(",") if p.strip()]
    cases = [c for c in manifest["cases"] if any(fnmatch.fnmatchcase(c["name"], p) for p in patterns)]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if not cases or unknown:
        print(f"run_suite: no case matches {args.cases!r}" if not cases else f"run_suite: unknown method(s) {unknown}",
              file=sys.stderr)
        return 2
    options = shlex.split(args.extra)
    budget_text = "CLI defaults"
    if args.budget == "large":
        chains = int(default_option(args.logz, "--chains")) * args.large_factor
        options = ["--chains", str(chains)] + options
        budget_text = f"large: --chains {chains} ({args.large_factor} x the default), other options at their defaults"
    if args.extra:
        budget_text += f", plus `{args.extra}`"

    # Seed-major order: every case x method meets its first seed early, so a cell that
    # times out is found (and its other seeds skipped) before much time goes into it.
    jobs = [(seed, case, method) for seed in range(args.first_seed, args.first_seed + args.seeds)
            for case in cases for method in methods]
    timeouts = {}
    lock = threading.Lock()
    runs = []
    started = time.monotonic()
    # Every finished run is appended to a journal beside the JSON output, so that an
    # interrupted suite can go on with --resume instead of starting again.
    journal = f"{args.out_json}.partial.jsonl" if args.out_json else None
    if journal:
        os.makedirs(os.path.dirname(os.path.abspath(journal)), exist_ok=True)
    done = set()
    if journal and args.resume and os.path.exists(journal):
        wanted = {(s, c["name"], m) for s, c, m in jobs}
        with open(journal) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by the interruption
                key = (rec.get("seed"), rec.get("case"), rec.get("method"))
                if key in wanted and key not in done:
                    done.add(key)
                    runs.append(rec)
                    if rec["outcome"] == "timeout":
                        timeouts[key[1:]] = timeouts.get(key[1:], 0) + 1
        print(f"run_suite: resuming after {len(done)} runs of {journal}", file=sys.stderr)
    elif journal and os.path.exists(journal):
        os.remove(journal)
    jobs_left = [j for j in jobs if (j[0], j[1]["name"], j[2]) not in done]

    def work(job):
        seed, case, method = job
        key = (case["name"], method)
        with lock:
            skip = args.max_timeouts > 0 and timeouts.get(key, 0) >= args.max_timeouts
        if skip:
            rec = {"case": case["name"], "method": method, "seed": seed, "outcome": "not_run"}
        else:
            rec = run_one(args, models_dir, case, method, seed, options, budget_of(args, case["name"], method))
        with lock:
            if rec["outcome"] == "timeout":
                timeouts[key] = timeouts.get(key, 0) + 1
            runs.append(rec)
            if journal:
                with open(journal, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            if not args.quiet:
                extra = ""
                if "error" in rec:
                    extra = f" error {rec['error']:+.4g} SE {fmt(rec.get('std_error'))}"
                elif rec["outcome"] == "failure":
                    extra = f" exit {rec['exit_code']}"
                print(f"[{len(runs)}/{len(jobs)}] {case['name']} {method} seed {seed}: {rec['outcome']}{extra}"
                      f" ({fmt(rec.get('cpu_seconds'))} CPU s)", file=sys.stderr, flush=True)

    # A cell's first timeout must be known before its next seed starts: the seed-major
    # order and at most two workers make that almost always so.
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(work, jobs_left))

    order = {(s, c["name"], m): i for i, (s, c, m) in enumerate(jobs)}
    runs.sort(key=lambda r: order[(r["seed"], r["case"], r["method"])])
    cells = summarise(runs, cases, methods)
    totals = {k: sum(c[k] for c in cells) for k in ("a", "b", "c", "failure", "timeout", "not_run")}
    finished = totals["a"] + totals["b"] + totals["c"]
    meta = {"title": args.title,
            "command": shlex.join([os.path.relpath(sys.argv[0], ROOT) if sys.argv[0] else "run_suite.py"]
                                  + (argv if argv is not None else sys.argv[1:])),
            "machine": machine(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": git_commit(),
            "budget": budget_text,
            "cpu_budget": f"{args.cpu_budget:g} s" + (f" ({', '.join(args.budget_for)})" if args.budget_for else ""),
            "seeds": list(range(args.first_seed, args.first_seed + args.seeds)),
            "methods": methods,
            "total_runs": len(runs),
            "finished_runs": finished,
            "total_cpu_seconds": sum(r.get("cpu_seconds", 0) for r in runs),
            "wall_seconds": time.monotonic() - started,
            "totals": totals,
            "false_failure_rate": finished * P_OUTSIDE_NORMAL}
    if args.out_md:
        write_atomically(args.out_md, markdown(meta, cases, cells))
    if args.out_json:
        write_atomically(args.out_json, json.dumps({"meta": meta, "cases": cases, "cells": cells, "runs": runs},
                                                   indent=1) + "\n")
    if journal and os.path.exists(journal):
        os.remove(journal)
    if not args.quiet:
        print(markdown(meta, cases, cells), file=sys.stderr)
    if args.fail_on_unflagged and totals["c"] > 0:
        bad = [f"{c['case']}/{c['method']} ({c['c']})" for c in cells if c["c"]]
        print(f"run_suite: {totals['c']} run(s) wrong by more than 4 SE and called reliable: {', '.join(bad)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
