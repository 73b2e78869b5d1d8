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
# Environment: ROUNDS (3), METHODS (sm,ssm,dsm).
set -eu
BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
METHODS=${METHODS:-sm,ssm,dsm}
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS="$HERE/../../shared/peers"
OBL=""
[ -x "$PEERS/setup_openblas.sh" ] && OBL=$("$PEERS/setup_openblas.sh" /tmp/peers_obl 2>/dev/null | tail -1) || true
[ -n "$OBL" ] || echo "note: OpenBLAS not found; torch runs on the system BLAS" >&2
FILTER="experts64/($(echo "$METHODS" | tr , '|'))(_drawn)?/|BM_Gemm"
OUT=$(mktemp -d)
echo "load before: $(uptime)"
i=1
while [ "$i" -le "$ROUNDS" ]; do
  OMP_NUM_THREADS=1 "$BUILD/bench/score_matching_bench" --benchmark_filter="$FILTER" --benchmark_format=json \
    >"$OUT/logz_$i.json"
  LD_LIBRARY_PATH="$OBL" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 "$HERE/torch_score_matching.py" \
    --rows 50000 --batch 5000 --repeats 1 --threads 1 --methods "$METHODS,gemm" >"$OUT/torch_$i.json"
  i=$((i + 1))
done
echo "load after:  $(uptime)"
/usr/bin/python3 - "$OUT" "$ROUNDS" "$METHODS" <<'PY'
import json, statistics, sys
out, rounds, methods = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
# Epochs per second by CPU time (steadier on a shared machine) and by wall-clock time.
logz, logz_wall, torch, torch_wall, gemm = {}, {}, {}, {}, {}
to_s = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
for i in range(1, rounds + 1):
    for b in json.load(open(f"{out}/logz_{i}.json"))["benchmarks"]:
        parts = b["name"].split("/")
        if parts[0] == "BM_Gemm":
            gemm.setdefault("eigen " + parts[2], []).append(b["GFLOPs"])
        else:
            unit = to_s[b.get("time_unit", "ns")]
            logz.setdefault(parts[2], []).append(1.0 / (b["cpu_time"] * unit))
            logz_wall.setdefault(parts[2], []).append(1.0 / (b["real_time"] * unit))
    t = json.load(open(f"{out}/torch_{i}.json"))
    for m in methods:
        torch.setdefault(m, []).append(t[m]["epochs_per_cpu_second"])
        torch_wall.setdefault(m, []).append(t[m]["epochs_per_second"])
    for k, v in t["gemm"].items():
        gemm.setdefault("openblas " + k, []).append(v)
med = statistics.median
print(f"medians of {rounds} alternating rounds, 1 thread each")
print("| objective (experts K=64, 50,000 x 64) | logz epochs/s | torch epochs/s | logz / torch | same, wall-clock |")
print("|---|---|---|---|---|")
for m in methods:
    for name in (m, m + "_drawn"):
        if name in logz:
            note = " (drawn once, as a fit)" if name.endswith("_drawn") else ""
            r, rw = med(logz[name]) / med(torch[m]), med(logz_wall[name]) / med(torch_wall[m])
            print(f"| {m}{note} | {med(logz[name]):.3g} | {med(torch[m]):.3g} | {r:.1f}x | {rw:.1f}x |")
print("| GEMM pass (50,000 rows, 256-row blocks) | GFLOP/s |")
print("|---|---|")
for k in sorted(gemm):
    print(f"| {k} | {med(gemm[k]):.1f} |")
PY
rm -rf "$OUT"
