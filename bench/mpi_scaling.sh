#!/usr/bin/env bash
# Strong scaling of AIS, SMC (one run) and a tempered ladder (bridge) under mpirun (docs/scaling.md) on this machine: the same estimate at
# 1-4 ranks of one thread each, wall time of the whole command (median of REPEATS), beside
# the model T(R) = S + A * ceil(B/R)/B * max(1, R/cores): A is the annealing's time at one
# rank (the JSON's seconds), S the rest of the command (reading the model, the mode search,
# the verdict), which every rank repeats; ranks beyond the cores share them, and the
# all-gather's 8 bytes per particle and step are left out (microseconds per run here).
#   bench/mpi_scaling.sh [LOGZ]      REPEATS=3 RANKS="1 2 3 4"
set -euo pipefail
cd "$(dirname "$0")/.."
LOGZ=${1:-build/apps/logz/logz}
REPEATS=${REPEATS:-3}
RANKS=${RANKS:-1 2 3 4}
CORES=$(nproc)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(0)
n = 32 * 32
J = np.zeros((n, n))
for r in range(32):
    for c in range(32):
        i = 32 * r + c
        for j in (32 * r + (c + 1) % 32, 32 * ((r + 1) % 32) + c):
            J[i, j] = J[j, i] = 0.4407
np.savez(f"{d}/ising.npz", fields=np.zeros(n), couplings=J)
np.savez(f"{d}/rbm.npz", weights=0.05 * rng.standard_normal((784, 500)), visible_bias=-0.5 + 0.1 * rng.standard_normal(784),
         hidden_bias=np.zeros(500), data_marginals=np.full(784, 0.3))
PY
# name | blocks | arguments
cases=(
  "AIS, critical 32x32 Ising, 1,600 chains x 200 betas|16|estimate --model $T/ising.npz --method ais --chains 1600 --betas 200 --replicates 1 --seed 1"
  "AIS, 784x500 RBM, 400 chains x 500 betas|8|estimate --model $T/rbm.npz --method ais --chains 400 --betas 500 --replicates 1 --seed 1"
  "SMC, critical 32x32 Ising, one run of 1,600 particles x 200 betas|16|estimate --model $T/ising.npz --method smc --chains 1600 --betas 200 --runs 1 --replicates 1 --seed 1"
  "bridge with a PT ladder, critical 32x32 Ising, 64 chains x 20 betas x 50 samples|16|estimate --model $T/ising.npz --method bridge --chains 64 --betas 20 --samples 50 --replicates 1 --seed 1"
)
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $CORES cores, $(uptime | sed 's/.*load/load/'), median of $REPEATS"
echo "| work | ranks | seconds | speed-up | model: seconds | note |"
echo "|---|---|---|---|---|---|"
for c in "${cases[@]}"; do
  IFS='|' read -r name blocks args <<< "$c"
  t1=""
  for r in $RANKS; do
    times=()
    for _ in $(seq 1 "$REPEATS"); do
      s=$(date +%s%N)
      if [ "$r" = 1 ]; then
        # shellcheck disable=SC2086
        "$LOGZ" $args --threads 1 --json -q > "$T/out$r.json"
      else
        # shellcheck disable=SC2086
        mpirun --oversubscribe --allow-run-as-root -np "$r" "$LOGZ" $args --threads 1 --json -q > "$T/out$r.json"
      fi
      times+=("$(( ($(date +%s%N) - s) / 1000000 ))")  # milliseconds
    done
    med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (REPEATS + 1) / 2 ))p")
    if [ -z "$t1" ]; then
      t1=$med
      a1=$(/usr/bin/python3 -c "import json; print(int(1000 * json.load(open('$T/out1.json'))['seconds']))")
    fi
    cmp -s <(grep -v seconds "$T/out1.json") <(grep -v seconds "$T/out$r.json") && same="same bits as 1 rank" || same="BITS DIFFER"
    over=""; [ "$r" -gt "$CORES" ] && over="oversubscribed; "
    /usr/bin/python3 -c "
import math
t1, a1, t, b, r, cores = $t1 / 1e3, $a1 / 1e3, $med / 1e3, $blocks, $r, $CORES
model = (t1 - a1) + a1 * math.ceil(b / r) / b * max(1, r / cores)
print(f'| $name | {r} | {t:.2f} | {t1 / t:.2f} | {model:.2f} | $over$same |')"
  done
done
