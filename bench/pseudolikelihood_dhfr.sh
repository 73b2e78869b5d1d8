#!/bin/sh
# Pseudolikelihood on DHFR.a2m with plmc's README settings (-le 16 -lh 0.01 -g -f DYR_ECOLI,
# theta 0.8), to convergence, at 1 and 2 threads, in double and float. One JSON line per
# run (the CLI's JSON plus threads, precision and the load average) goes to
# bench/results/pl-<time>.jsonl; a table of seconds per evaluation and to convergence is
# printed. plmc's figures on this kind of machine (shared/data/README.md): 1.79 s per
# iteration in double, 0.97 s in float, at 1 thread.
set -eu
cd "$(dirname "$0")/.."
LOGZ=${LOGZ:-build/apps/logz/logz}
DATA=${DATA:-../shared/data/DHFR.a2m}
MAX_ITERATIONS=${MAX_ITERATIONS:-0}
mkdir -p bench/results
out=bench/results/pl-$(date -u +%Y-%m-%dT%H%M%SZ).jsonl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for precision in double float; do
  for threads in 1 2; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$LOGZ" train potts --data "$DATA" --focus DYR_ECOLI --unknown skip --ignore-gaps --lambda-e 16 \
      --lambda-h 0.01 --max-iterations "$MAX_ITERATIONS" --precision "$precision" --threads "$threads" \
      --out "$tmp/model.npz" --json --quiet >"$tmp/run.json"
    python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
j.update(threads=int(sys.argv[2]), load_average=float(sys.argv[3]))
print(json.dumps(j))' "$tmp/run.json" "$threads" "$load" >>"$out"
  done
done
python3 - "$out" <<'PY'
import json, sys
plmc = {"double": 1.79, "float": 0.97}
print("| precision | threads | s / iteration | s / evaluation | plmc s / iteration (1 thread) | speed ratio (per iteration) | iterations | fit to convergence (s) | objective | stopped by | load |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    j = json.loads(line)
    s = j["seconds_per_iteration"]
    p = plmc[j["precision"]]
    print(f"| {j['precision']} | {j['threads']} | {s:.3f} | {j['seconds_per_evaluation']:.3f} | {p} | **{p / s:.2f}x** | {j['iterations']} | {j['fit_seconds']:.1f} | {j['objective']:.1f} | {j['stopped_by']} | {j['load_average']} |")
print(f"\nraw: {sys.argv[1]}")
PY
