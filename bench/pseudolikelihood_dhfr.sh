#!/bin/sh
# Pseudolikelihood on DHFR.a2m with plmc's README settings (-le 16 -lh 0.01 -g -f DYR_ECOLI,
# theta 0.8), logz and plmc side by side in one invocation: a fixed number of L-BFGS
# iterations (ITERATIONS, default 20), plmc and logz alternating, REPEATS rounds (default
# 3), medians of the seconds per iteration; plmc at 1 thread, logz at 1 and 2 threads; in
# double and float; peak resident memory of each run (/usr/bin/time -f %M). Prints a
# table with the ratios; one JSON line per run goes to bench/results/pl-<time>.jsonl.
# plmc runs at 1 and 2 threads too (its -n), each logz row compared with plmc at the same
# thread count. BUSY=1: one competing busy process runs through every timed command
# (bench/busy.sh).
#
# plmc (https://github.com/debbiemarkslab/plmc), built from its sources as its makefile
# does, with -march=native added (its best build here), one binary per precision:
#   cd plmc && SRC="src/lib/twister.c src/lib/lbfgs.c src/plm.c src/inference.c src/weights.c src/main.c"
#   gcc -std=c99 -O3 -march=native -fopenmp $SRC -o bin/plmc-double -lm
#   gcc -std=c99 -O3 -march=native -fopenmp -D USE_FLOAT $SRC -o bin/plmc-float -lm
# PLMC=path/to/plmc-double and PLMC_FLOAT=path/to/plmc-float; a row whose binary is not
# given is skipped with a message. plmc's seconds per iteration: its own time column at
# the last iteration (after weights and setup) / iterations; logz's: fit_seconds /
# iterations (the same span). With CONVERGE=1 logz also runs once to its stopping rule
# and plmc once with its README's -m 100 (plmc has no convergence test; minutes).
set -eu
cd "$(dirname "$0")/.."
LOGZ=${LOGZ:-build/apps/logz/logz}
DATA=${DATA:-../shared/data/DHFR.a2m}
ITERATIONS=${ITERATIONS:-20}
REPEATS=${REPEATS:-3}
CONVERGE=${CONVERGE:-0}
BUSY=${BUSY:-0}
PLMC=${PLMC:-}
PLMC_FLOAT=${PLMC_FLOAT:-}
mkdir -p bench/results
out=bench/results/pl-$(date -u +%Y-%m-%dT%H%M%SZ).jsonl
tmp=$(mktemp -d)
. bench/busy.sh
trap 'stop_busy; rm -rf "$tmp"' EXIT

# record program precision threads iterations-limit: runs once, appends a JSON line.
run_logz() {  # precision threads max_iterations
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f %M -o "$tmp/mem" "$LOGZ" train potts --data "$DATA" --focus DYR_ECOLI --unknown skip \
    --ignore-gaps --lambda-e 16 --lambda-h 0.01 --max-iterations "$3" --precision "$1" --threads "$2" \
    --out "$tmp/model.npz" --json --quiet >"$tmp/run.json"
  python3 - "$tmp/run.json" "$1" "$2" "$load" "$(cat "$tmp/mem")" "$3" >>"$out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(json.dumps({"program": "logz", "precision": sys.argv[2], "threads": int(sys.argv[3]),
                  "load": float(sys.argv[4]), "peak_kb": int(sys.argv[5]), "limit": int(sys.argv[6]),
                  "iterations": j["iterations"], "evaluations": j["evaluations"],
                  "s_per_iteration": j["seconds_per_iteration"], "objective": j["objective"],
                  "stopped_by": j["stopped_by"]}))
PY
}
run_plmc() {  # binary precision max_iterations (0 = plmc's own stopping rule) threads
  load=$(cut -d' ' -f1 /proc/loadavg)
  limit=""
  [ "$3" -gt 0 ] && limit="-m $3"
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=$4 /usr/bin/time -f %M -o "$tmp/mem" "$1" -o "$tmp/plmc.params" -le 16.0 -lh 0.01 $limit -g \
    -f DYR_ECOLI -n "$4" "$DATA" >"$tmp/plmc.log" 2>&1
  python3 - "$tmp/plmc.log" "$2" "$load" "$(cat "$tmp/mem")" "$3" "$4" >>"$out" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1]) if l[:1].isdigit() and len(l.split()) == 7]
it, t, fx = int(rows[-1][0]), float(rows[-1][1]), float(rows[-1][3])
stop = [l.split(":", 1)[1].strip() for l in open(sys.argv[1]) if l.startswith("Gradient optimization")]
print(json.dumps({"program": "plmc", "precision": sys.argv[2], "threads": int(sys.argv[6]), "load": float(sys.argv[3]),
                  "peak_kb": int(sys.argv[4]), "limit": int(sys.argv[5]), "iterations": it,
                  "s_per_iteration": t / it, "objective": fx, "stopped_by": stop[0] if stop else ""}))
PY
}

[ "$BUSY" = 1 ] && start_busy
for precision in double float; do
  plmc_bin=$PLMC
  [ "$precision" = float ] && plmc_bin=$PLMC_FLOAT
  if [ -z "$plmc_bin" ] || [ ! -x "$plmc_bin" ]; then
    echo "plmc ($precision): no binary (set PLMC / PLMC_FLOAT, see the top of this script); row skipped" >&2
    plmc_bin=""
  fi
  r=0
  while [ "$r" -lt "$REPEATS" ]; do
    for threads in 1 2; do
      [ -n "$plmc_bin" ] && run_plmc "$plmc_bin" "$precision" "$ITERATIONS" "$threads"
      run_logz "$precision" "$threads" "$ITERATIONS"
    done
    r=$((r + 1))
  done
  if [ "$CONVERGE" = 1 ]; then
    [ -n "$plmc_bin" ] && run_plmc "$plmc_bin" "$precision" 100 1
    run_logz "$precision" 1 0
  fi
done
stop_busy

python3 - "$out" "$ITERATIONS" "$BUSY" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
limit = int(sys.argv[2])
def med(xs): return statistics.median(xs) if xs else None
load = ", one busy competitor" if sys.argv[3] == "1" else ""
print(f"fixed {limit} iterations, medians over the rounds (s / iteration), peak RSS the largest seen{load}")
print("| precision | program | threads | s / iteration | plmc (same threads) / this | peak MB | objective | load (min-max) |")
print("|---|---|---|---|---|---|---|---|")
for p in ("double", "float"):
    fixed = [r for r in runs if r["precision"] == p and r["limit"] == limit]
    for th in (1, 2):
      base = med([r["s_per_iteration"] for r in fixed if r["program"] == "plmc" and r["threads"] == th])
      for prog in ("plmc", "logz"):
        rs = [r for r in fixed if r["program"] == prog and r["threads"] == th]
        if not rs: continue
        s = med([r["s_per_iteration"] for r in rs])
        ratio = f"**{base / s:.2f}x**" if base else "n/a"
        loads = [r["load"] for r in rs]
        print(f"| {p} | {prog} | {th} | {s:.3f} | {ratio} | {max(r['peak_kb'] for r in rs) / 1000:.0f} | "
              f"{rs[-1]['objective']:.2f} | {min(loads)}-{max(loads)} |")
conv = [r for r in runs if r["limit"] in (0, 100) and r["limit"] != limit]
if conv:
    print("\nlogz to convergence, plmc to its README's -m 100")
    print("| precision | program | iterations | s / iteration | objective | stopped by | peak MB | load |")
    print("|---|---|---|---|---|---|---|---|")
    for r in conv:
        print(f"| {r['precision']} | {r['program']} | {r['iterations']} | {r['s_per_iteration']:.3f} | "
              f"{r['objective']:.2f} | {r['stopped_by']} | {r['peak_kb'] / 1000:.0f} | {r['load']} |")
print(f"\nraw: {sys.argv[1]}")
PY
