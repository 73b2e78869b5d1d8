#!/usr/bin/python3
"""Helper of bench/compare_peers.sh (standard library only).

  peer_table.py wrap --bench B --impl I --threads N --repeat R --rc RC --cmd CMD --out RAW
      reads the program's stdout (file RAW: one JSON object, pretty-printed or as the last
      line) and prints one JSON line {bench, impl, threads, repeat, cmd, rc, loadavg,
      metric, unit, raw}. `metric` is the figure compared: examples/s for training,
      seconds for AIS and exact log Z, GFLOP/s for the GEMM ceiling.
  peer_table.py table FILE.jsonl
      prints the markdown table of ratios (logz speed / peer speed, medians over repeats).
"""
import argparse
import json
import os
import statistics
import sys

# Training: examples/s (higher is better). AIS / exact: seconds (lower is better).
EXTRACT = {
    ("train", "logz"): (lambda j: j["final"]["examples_per_second"], "examples/s"),
    ("train", "logz-baseline"): (lambda j: j["final"]["examples_per_second"], "examples/s"),
    ("train", "torch"): (lambda j: j["examples_per_s"], "examples/s"),
    ("train", "sklearn"): (lambda j: j["examples_per_s"], "examples/s"),
    ("ais", "logz"): (lambda j: j["seconds"], "s"),
    ("ais", "logz-baseline"): (lambda j: j["seconds"], "s"),
    ("ais", "torch"): (lambda j: j["ais"]["seconds_median"], "s"),
    ("exact", "logz"): (lambda j: j["seconds"], "s"),
    ("exact", "torch"): (lambda j: j["exact_seconds"], "s"),
    ("gemm", "numpy"): (lambda j: j["summary_gflops"], "GFLOP/s"),
}

# FLOPs of one PCD-1/CD-1 example (784x500): 6 GEMM-equivalents of 2*784*500 per row
# (multiply-adds of any precision: logz's binary products run in 16-bit integers).
FLOPS_PER_EXAMPLE = 6 * 2 * 784 * 500


def parse_raw(text):
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):  # peers: one JSON line, possibly after warnings
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def kind(bench):
    return bench.split(":", 1)[0]


def wrap(a):
    with open(a.out, encoding="utf-8", errors="replace") as f:
        raw = parse_raw(f.read())
    rec = {"bench": a.bench, "impl": a.impl, "threads": a.threads, "repeat": a.repeat, "cmd": a.cmd,
           "rc": a.rc, "loadavg": os.getloadavg(), "metric": None, "unit": None, "raw": raw}
    ex = EXTRACT.get((kind(a.bench), a.impl))
    if raw is not None and ex is not None and a.rc == 0:
        try:
            rec["metric"], rec["unit"] = ex[0](raw), ex[1]
        except (KeyError, TypeError) as e:
            rec["error"] = f"metric not found in output: {e!r}"
    elif a.rc != 0 or raw is None:
        rec["error"] = f"exit status {a.rc}" + ("" if raw is not None else ", no JSON on stdout")
    print(json.dumps(rec))


def load(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    return recs


def median_of(recs, bench, impl, threads):
    v = [r["metric"] for r in recs
         if r["bench"] == bench and r["impl"] == impl and r["threads"] == threads and isinstance(r["metric"], (int, float))]
    return (statistics.median(v), v) if v else (None, [])


def first_cmd(recs, bench, impl, threads):
    for r in recs:
        if r["bench"] == bench and r["impl"] == impl and r["threads"] == threads:
            return r["cmd"]
    return None


def fmt(x, nd=2):
    return "n/a" if x is None else f"{x:.{nd}f}"


def table(path):
    recs = load(path)
    gemm = next((r for r in recs if r["bench"] == "gemm" and isinstance(r.get("metric"), dict)), None)
    g = gemm["metric"] if gemm else {}
    rows, cmds = [], []

    def cmd_ref(*keys):
        refs = []
        for key in keys:
            c = first_cmd(recs, *key)
            if c is None:
                continue
            if c not in cmds:
                cmds.append(c)
            refs.append(str(cmds.index(c) + 1))
        return ", ".join(refs)

    def ratio_row(label, a, b, higher_is_better, target=None, unit=""):
        (ma, va), (mb, vb) = median_of(recs, *a), median_of(recs, *b)
        if ma is None or mb is None:
            r = None
        else:
            r = ma / mb if higher_is_better else mb / ma
        met = "" if target is None or r is None else ("yes" if r >= target else "**no**")
        n = min(len(va), len(vb))
        def val(x):
            return "n/a" if x is None else fmt(x, 3 if unit == "s" else 0) + (f" {unit}" if unit else "")
        rows.append([label, val(ma), val(mb),
                     ("**" + fmt(r) + "×**") if r is not None else "n/a",
                     (f"≥ {target}×" if target else "—"), met, str(n), cmd_ref(a, b)])

    T = "train:pcd1"
    ratio_row("PCD-1 train, 1 thread: logz / torch PCD-1", (T, "logz", 1), (T, "torch", 1), True, 1.5, "ex/s")
    ratio_row("PCD-1 train, 2 threads: logz 2t / logz 1t (scaling)", (T, "logz", 2), (T, "logz", 1), True, 1.8, "ex/s")
    ratio_row("PCD-1 train, 2 threads: logz / torch PCD-1", (T, "logz", 2), (T, "torch", 2), True, None, "ex/s")
    C = "train:cd1"
    ratio_row("CD-1 train, 1 thread: logz / torch CD-1", (C, "logz", 1), (C, "torch", 1), True, None, "ex/s")
    ratio_row("PCD-1 train, 1 thread: logz / sklearn BernoulliRBM (float32)", (T, "logz", 1), ("train:sklearn", "sklearn", 1),
              True, None, "ex/s")
    ratio_row("AIS 100×10,000, 1 thread: logz / torch", ("ais", "logz", 1), ("ais", "torch", 1), False, 2.0, "s")
    ratio_row("AIS 100×10,000, 2 threads: logz / torch", ("ais", "logz", 2), ("ais", "torch", 2), False, None, "s")
    ratio_row("exact log Z, 20 hidden, 1 thread: logz / numpy", ("exact", "logz", 1), ("exact", "torch", 1), False, 10, "s")
    ratio_row("exact log Z, 20 hidden, 2 threads: logz / numpy", ("exact", "logz", 2), ("exact", "torch", 2), False, 10, "s")
    # With BASELINE=<an earlier build>: this build against it, in the same run.
    for th in (1, 2):
        ratio_row(f"PCD-1 train, {th} thread{'s' if th > 1 else ''}: logz / baseline build", (T, "logz", th),
                  (T, "logz-baseline", th), True, None, "ex/s")
        ratio_row(f"AIS 100×10,000, {th} thread{'s' if th > 1 else ''}: logz / baseline build", ("ais", "logz", th),
                  ("ais", "logz-baseline", th), False, None, "s")
    rows[:] = [r for r in rows if not (r[0].endswith("baseline build") and r[2] == "n/a")]

    out = ["| benchmark | logz (median) | peer (median) | speed ratio | target | met | repeats | commands |",
           "|---|---|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]

    # GEMM ceiling: logz's achieved GFLOP/s in PCD-1 training vs the machine's float32 GEMM.
    out.append("")
    out.append("GEMM ceiling (numpy + OpenBLAS, float32; PCD-1 counted as 6 GEMM-equivalents of "
               "2·100·784·500 FLOPs per batch; logz's 16-bit integer products can pass the float32 ceiling):")
    out.append("")
    out.append("| threads | logz PCD-1 GFLOP/s | GEMM (100×784)@(784×500) | fraction | GEMM 2048³ | fraction |")
    out.append("|---|---|---|---|---|---|")
    for th in (1, 2):
        eps, _ = median_of(recs, T, "logz", th)
        got = eps * FLOPS_PER_EXAMPLE / 1e9 if eps else None
        fwd = g.get(f"numpy/float32/{th}t/fwd")
        big = g.get(f"numpy/float32/{th}t/big")
        out.append(f"| {th} | {fmt(got, 1)} | {fmt(fwd, 1)} | {fmt(got / fwd if got and fwd else None)} | "
                   f"{fmt(big, 1)} | {fmt(got / big if got and big else None)} |")

    raw = gemm.get("raw") if gemm else None
    if isinstance(raw, dict):
        arch = sorted({d.get("architecture") for d in raw.get("blas_threadpoolctl", []) if isinstance(d, dict)
                       and d.get("internal_api") == "openblas"} - {None})
        out.append("")
        out.append(f"Peers' BLAS: {', '.join(raw.get('blas_loaded', [])[-1:]) or 'unknown'}, OpenBLAS kernels: "
                   f"{', '.join(arch) or 'unknown'} (OPENBLAS_CORETYPE={raw.get('env', {}).get('OPENBLAS_CORETYPE')}); "
                   f"CPU: {raw.get('cpu')}.")
    loads = [r["loadavg"][0] for r in recs if r.get("loadavg")]
    if loads:
        out.append("")
        out.append(f"1-minute load average during the runs: min {min(loads):.2f}, median {statistics.median(loads):.2f}, "
                   f"max {max(loads):.2f} (2 cores).")
    errs = [r for r in recs if r.get("error")]
    if errs:
        out.append("")
        out.append("Failed runs: " + "; ".join(f"{r['bench']}/{r['impl']}/{r['threads']}t: {r['error']}" for r in errs))
    out.append("")
    setup = [r for r in recs if r["bench"] == "gemm" or r["bench"].startswith("setup:")]
    seen = set()
    for r in setup:
        if r["bench"] in seen:
            continue
        seen.add(r["bench"])
        if r["cmd"] not in cmds:
            cmds.append(r["cmd"])
        what = {"gemm": "GEMM ceiling", "setup:ais-model": "the 500-hidden model for AIS (1 epoch CD-1, untimed)",
                "setup:exact-model": "the 20-hidden model for exact log Z (5 epochs CD-1, untimed)"}.get(r["bench"], r["bench"])
        out.append(f"- {what}: command {cmds.index(r['cmd']) + 1}")
    out.append("")
    out.append("Commands:")
    out.append("")
    for i, c in enumerate(cmds, 1):
        out.append(f"{i}. `{c}`")
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("wrap")
    w.add_argument("--bench", required=True)
    w.add_argument("--impl", required=True)
    w.add_argument("--threads", type=int, required=True)
    w.add_argument("--repeat", type=int, required=True)
    w.add_argument("--rc", type=int, required=True)
    w.add_argument("--cmd", required=True)
    w.add_argument("--out", required=True)
    t = sub.add_parser("table")
    t.add_argument("file")
    a = ap.parse_args()
    if a.mode == "wrap":
        wrap(a)
    else:
        table(a.file)


if __name__ == "__main__":
    sys.exit(main())
