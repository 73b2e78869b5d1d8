#!/usr/bin/env bash
# Accuracy per CPU-second of every log Z estimator (bench/estimator_accuracy_bench.cpp) with
# the PyTorch AIS of ../shared/peers/torch_rbm.py on the SAME 20-hidden RBM as the
# reference row: torch trains the RBM (CD-1, 2 epochs, 20,000 rows), saves it, and reports
# its AIS over 10 repeats against its exact log Z; logz then runs every estimator on the
# saved model, 10 seeds each, one thread. Prints a Markdown table (RMSE to exact, bias,
# mean own SE, 95% coverage, CPU seconds per estimate) and keeps the raw JSON in
# bench/results/. Run from the repository root after `make build` (or via `make bench`).
#
# Environment: BENCH=build/bench/estimator_accuracy_bench, PEERS=../shared/peers,
# PY=/usr/bin/python3, FILTER=<regex of benchmarks to run> (default all).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BENCH=${BENCH:-$ROOT/build/bench/estimator_accuracy_bench}
PEERS=$(cd "${PEERS:-$ROOT/../shared/peers}" && pwd)
PY=${PY:-/usr/bin/python3}
FILTER=${FILTER:-.}
[ -x "$BENCH" ] || { echo "estimator_accuracy: $BENCH is not built (make build)" >&2; exit 2; }
mkdir -p "$ROOT/bench/results"
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
WORK=$(mktemp -d /tmp/logz-accuracy.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

OBL=$(sh "$PEERS/setup_openblas.sh" /tmp/peers_obl | tail -1)
PEER_ENV="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE LD_LIBRARY_PATH=$OBL"
for K in 1000 10000; do
  $PEER_ENV "$PY" "$PEERS/torch_rbm.py" --task logz --hidden 20 --epochs 2 --train-limit 20000 --chains 100 \
    --betas "$K" --ais-repeats 10 --threads 1 --save-model "$WORK/rbm20.npz" > "$WORK/torch_$K.json"
done
LOGZ_RBM20="$WORK/rbm20.npz" OMP_NUM_THREADS=1 "$BENCH" --benchmark_filter="$FILTER" \
  --benchmark_format=json --benchmark_out="$WORK/logz.json" --benchmark_out_format=json > /dev/null
cat "$WORK/logz.json" > "$ROOT/bench/results/accuracy-$STAMP.json"
cat "$WORK"/torch_*.json > "$ROOT/bench/results/accuracy-torch-$STAMP.jsonl"

"$PY" - "$WORK/logz.json" "$WORK"/torch_*.json <<'PY'
import json, math, sys
rows = json.load(open(sys.argv[1]))["benchmarks"]
def fmt(x, d=3):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{d}g}"
print("| model | estimator | RMSE | bias | mean SE | 95% covered | CPU s | RMSE² × CPU s |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    if r.get("error_occurred"): continue
    model, est = r["name"].replace("/iterations:1", "").split("/", 1)
    rmse, cpu = r["rmse"], r["cpu_s"]
    print(f"| {model} | {est} | {fmt(rmse)} | {fmt(r['bias'])} | {fmt(r.get('mean_se'))} | {fmt(r.get('covered'), 2)} | {fmt(cpu)} | {fmt(rmse*rmse*cpu)} |")
for path in sys.argv[2:]:
    t = json.load(open(path))
    a, exact = t["ais"], t["exact_logZ"]
    errs = [run["logZ"] - exact for run in a["runs"]]
    rmse = math.sqrt(sum(e * e for e in errs) / len(errs))
    cpu = a["cpu_seconds_median"]
    print(f"| Rbm20 (torch) | torch AIS/N={a['chains']},K={a['betas']} | {fmt(rmse)} | {fmt(sum(errs)/len(errs))} | – | – | {fmt(cpu)} | {fmt(rmse*rmse*cpu)} |")
PY
