#!/bin/sh
# logz's full-batch score-matching objectives against the PyTorch peer users would write
# (bench/torch_score_matching.py: autograd), side by side on this machine, one thread:
# a product of 64 Student-t experts on 50,000 rows of 64-d data; one epoch = objective +
# parameter gradient over all rows. Prints epochs per second of each and the ratio.
# Usage: bench/score_matching_peers.sh [build dir]   (PyTorch from python3-torch; OpenBLAS
# from ../shared/peers/setup_openblas.sh when present, as the other peer comparisons)
set -eu
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS="$HERE/../../shared/peers"
OBL=""
[ -x "$PEERS/setup_openblas.sh" ] && OBL=$("$PEERS/setup_openblas.sh" /tmp/peers_obl 2>/dev/null | tail -1) || true
LOGZ_JSON=$(mktemp)
"$BUILD/bench/score_matching_bench" --benchmark_filter=experts64 --benchmark_format=json >"$LOGZ_JSON"
TORCH_JSON=$(LD_LIBRARY_PATH="$OBL" /usr/bin/python3 "$HERE/torch_score_matching.py" --rows 50000 --batch 5000 --repeats 1 --threads 1)
/usr/bin/python3 - "$LOGZ_JSON" "$TORCH_JSON" <<'PY'
import json, sys
logz = {b["name"].split("/")[2]: b["epochs"] for b in json.load(open(sys.argv[1]))["benchmarks"]}
torch = json.loads(sys.argv[2])
print("| objective (experts K=64, 50,000 x 64) | logz epochs/s | torch epochs/s | logz / torch |")
print("|---|---|---|---|")
for m in ("sm", "ssm", "dsm"):
    t = torch[m]["epochs_per_second"]
    print(f"| {m} | {logz[m]:.3g} | {t:.3g} | {logz[m] / t:.1f}x |")
PY
rm -f "$LOGZ_JSON"
