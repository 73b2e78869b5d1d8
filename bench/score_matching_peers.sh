#!/bin/sh
# logz's full-batch score-matching objectives against the PyTorch peer users would write
# (bench/torch_score_matching.py: autograd), side by side on this machine, one thread
# each: a product of 64 Student-t experts on 50,000 rows of 64-d data; one epoch =
# objective + parameter gradient over all rows. The two programs alternate for ROUNDS
# rounds (default 3); each figure is the median over the rounds. Prints the epochs per
# second of each (logz's SSM and DSM also with the projections / noise drawn once, as its
# fits evaluate them), the ratio, the GEMM rate of the products logz's block paths are made of
# (Eigen, as logz uses it, and OpenBLAS through torch) and the load before and after.
# Epochs per second by CPU time (1 thread: steadier than wall-clock on a shared machine),
# the ratio by wall-clock time beside it.
# Usage: bench/score_matching_peers.sh [build dir]   (PyTorch from python3-torch; OpenBLAS
# from ../shared/peers/setup_openblas.sh when present, as the other peer comparisons)
# Environment: ROUNDS (3), METHODS (sm,ssm,dsm), THREADS ("1 2": each program at each
# count; at 2 threads only the wall-clock ratio means anything), BUSY (1: one competing
# busy process through every timed command, bench/busy.sh).
set -eu
BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
METHODS=${METHODS:-sm,ssm,dsm}
THREADS=${THREADS:-1 2}
BUSY=${BUSY:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS="$HERE/../../shared/peers"
OBL=""
[ -x "$PEERS/setup_openblas.sh" ] && OBL=$("$PEERS/setup_openblas.sh" /tmp/peers_obl 2>/dev/null | tail -1) || true
[ -n "$OBL" ] || echo "note: OpenBLAS not found; torch runs on the system BLAS" >&2
FILTER="experts64/($(echo "$METHODS" | tr , '|'))(_drawn)?/|BM_Gemm"
OUT=$(mktemp -d)
. "$HERE/busy.sh"
trap 'stop_busy; rm -rf "$OUT"' EXIT
echo "load before: $(uptime)"
[ "$BUSY" = 1 ] && start_busy
i=1
while [ "$i" -le "$ROUNDS" ]; do
  for th in $THREADS; do
    LOGZ_BENCH_THREADS=$th "$BUILD/bench/score_matching_bench" --benchmark_filter="$FILTER" --benchmark_format=json \
      >"$OUT/logz_${th}_$i.json"
    LD_LIBRARY_PATH="$OBL" OPENBLAS_NUM_THREADS=$th OMP_NUM_THREADS=$th /usr/bin/python3 "$HERE/torch_score_matching.py" \
      --rows 50000 --batch 5000 --repeats 1 --threads "$th" --methods "$METHODS,gemm" >"$OUT/torch_${th}_$i.json"
  done
  i=$((i + 1))
done
stop_busy
echo "load after:  $(uptime)"
/usr/bin/python3 - "$OUT" "$ROUNDS" "$METHODS" "$THREADS" "$BUSY" <<'PY'
import json, statistics, sys
out, rounds, methods, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4].split()
# Epochs per second by CPU time (steadier on a shared machine, 1 thread) and by wall-clock time.
logz, logz_wall, torch, torch_wall, gemm = {}, {}, {}, {}, {}
to_s = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
for th in threads:
    for i in range(1, rounds + 1):
        for b in json.load(open(f"{out}/logz_{th}_{i}.json"))["benchmarks"]:
            parts = b["name"].split("/")
            if parts[0] == "BM_Gemm":
                if th == "1": gemm.setdefault("eigen " + parts[2], []).append(b["GFLOPs"])
            else:
                unit = to_s[b.get("time_unit", "ns")]
                logz.setdefault((th, parts[2]), []).append(1.0 / (b["cpu_time"] * unit))
                logz_wall.setdefault((th, parts[2]), []).append(1.0 / (b["real_time"] * unit))
        t = json.load(open(f"{out}/torch_{th}_{i}.json"))
        for m in methods:
            torch.setdefault((th, m), []).append(t[m]["epochs_per_cpu_second"])
            torch_wall.setdefault((th, m), []).append(t[m]["epochs_per_second"])
        if th == "1":
            for k, v in t["gemm"].items():
                gemm.setdefault("openblas " + k, []).append(v)
med = statistics.median
load = ", one busy competitor" if sys.argv[5] == "1" else ""
print(f"medians of {rounds} alternating rounds{load}")
print("| objective (experts K=64, 50,000 x 64) | threads | logz epochs/s (wall) | torch epochs/s (wall) | logz / torch, wall-clock | same, CPU time |")
print("|---|---|---|---|---|---|")
for m in methods:
    for name in (m, m + "_drawn"):
        for th in threads:
            if (th, name) in logz:
                note = " (drawn once, as a fit)" if name.endswith("_drawn") else ""
                lw, tw = med(logz_wall[(th, name)]), med(torch_wall[(th, m)])
                r = med(logz[(th, name)]) / med(torch[(th, m)])
                print(f"| {m}{note} | {th} | {lw:.3g} | {tw:.3g} | {lw / tw:.1f}x | {r:.1f}x |")
print("| GEMM pass (50,000 rows, 256-row blocks), 1 thread | GFLOP/s |")
print("|---|---|")
for k in sorted(gemm):
    print(f"| {k} | {med(gemm[k]):.1f} |")
PY
