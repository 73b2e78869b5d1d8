#!/usr/bin/env bash
# logz against the peers (PyTorch, scikit-learn, numpy; all with OpenBLAS), side by side
# in ONE run on this machine. Run from the repository root after `make build` (or via
# `make bench`). Each logz run is followed by the matching peer run, REPEATS times; the
# table compares medians. Raw JSON lines go to bench/results/<date>.jsonl.
#
# Environment:
#   REPEATS=3        repetitions of every logz/peer pair (medians are compared)
#   LOGZ=build/apps/logz/logz   the CLI to measure
#   BASELINE=        another logz CLI (an earlier build) run beside LOGZ in the PCD-1 and
#                    AIS rows, so a change is measured against its parent in one run
#   PEERS=<repo>/../shared/peers   the peer scripts (torch_rbm.py, sklearn_rbm.py, ...)
#   PY=/usr/bin/python3   Debian's interpreter (python3-torch, python3-sklearn)
#   TRAIN_LIMIT=0    use only the first N training rows (0 = all 60000); quick checks only
#   AIS_BETAS=10000  AIS intermediate distributions (quick checks: fewer)
#   ONLY="gemm pcd cd sklearn ais exact"   the parts to run
#   PEER_CORETYPE=auto   OpenBLAS core type for the peers (auto: from the CPU flags; none)
#   OUT=bench/results/<date>.jsonl
#   BUSY=0           1: one competing busy process (a Python loop spinning on a core) runs
#                    from the first timed command to the last, for logz and peers alike
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LOGZ=${LOGZ:-build/apps/logz/logz}
case "$LOGZ" in /*) ;; *) [ -x "$LOGZ" ] && LOGZ="$(pwd)/$LOGZ" || LOGZ="$ROOT/$LOGZ" ;; esac
BASELINE=${BASELINE:-}
case "$BASELINE" in ""|/*) ;; *) BASELINE="$(pwd)/$BASELINE" ;; esac
PEERS=${PEERS:-$(dirname "$0")/../../shared/peers}
PEERS=$(cd "$PEERS" && pwd) || { echo "compare_peers: no peer scripts at $PEERS (set PEERS)" >&2; exit 2; }
PY=${PY:-/usr/bin/python3}
REPEATS=${REPEATS:-3}
TRAIN_LIMIT=${TRAIN_LIMIT:-0}
AIS_BETAS=${AIS_BETAS:-10000}
ONLY=${ONLY:-gemm pcd cd sklearn ais exact}
cd "$ROOT"

[ -x "$LOGZ" ] || { echo "compare_peers: $LOGZ is not built (make build, or set LOGZ)" >&2; exit 2; }
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || { echo "compare_peers: BASELINE=$BASELINE is not an executable" >&2; exit 2; }
mkdir -p bench/results
OUT=${OUT:-bench/results/$(date -u +%Y-%m-%dT%H%M%SZ).jsonl}
: > "$OUT"
WORK=$(mktemp -d /tmp/logz-compare.XXXXXX)
BUSY=${BUSY:-0}
. "$HERE/busy.sh"
trap 'stop_busy; rm -rf "$WORK"' EXIT

# OpenBLAS for numpy/torch (unpacked privately, see $PEERS/setup_openblas.sh).
OBL=$(sh "$PEERS/setup_openblas.sh" /tmp/peers_obl | tail -1)
[ -d "$OBL" ] || { echo "compare_peers: OpenBLAS setup failed ($OBL)" >&2; exit 2; }
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set in this environment and slow OpenBLAS
# down: unset them for the peer commands only. On virtual machines that hide the CPU model
# ("Intel(R) Xeon(R) Processor"), OpenBLAS 0.3.21's detection falls back to its Prescott
# (SSE3) kernels, 4-5x below the machine's GEMM rate; so that the peers get the OpenBLAS
# a user would tune, name the core from the CPU flags (PEER_CORETYPE=auto, the default:
# SkylakeX with AVX-512, Haswell with AVX2), or PEER_CORETYPE=none to let OpenBLAS detect.
PEER_CORETYPE=${PEER_CORETYPE:-auto}
if [ "$PEER_CORETYPE" = auto ]; then
  if grep -qw avx512f /proc/cpuinfo; then PEER_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then PEER_CORETYPE=Haswell
  else PEER_CORETYPE=none; fi
fi
PEER_ENV="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE LD_LIBRARY_PATH=$OBL"
[ "$PEER_CORETYPE" = none ] || PEER_ENV="$PEER_ENV OPENBLAS_CORETYPE=$PEER_CORETYPE"

# Data: fashion-mnist:train for logz, the same binarized rows (pixel/255 > 0.5) for the
# peers. With TRAIN_LIMIT, logz gets the first N rows as a .npy.
DATA=fashion-mnist:train
PEER_LIMIT=""
if [ "$TRAIN_LIMIT" -gt 0 ]; then
  $PY "$PEERS/fmnist.py" --export "$WORK/fm" >/dev/null
  $PY -c "import numpy as np; np.save('$WORK/train.npy', np.load('$WORK/fm/train_x.npy')[:$TRAIN_LIMIT])"
  DATA=$WORK/train.npy
  PEER_LIMIT="--train-limit $TRAIN_LIMIT"
fi

TRAIN_COMMON="--data $DATA --batch 100 --lr 0.01 --momentum 0.9 --seed 1 --checkpoint none --log none --json -q"

has() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# rec BENCH IMPL THREADS REPEAT CMD...: run CMD, append one JSON line to $OUT.
rec() {
  local bench=$1 impl=$2 threads=$3 rep=$4
  shift 4
  local cmd="$*"
  printf '  [%s] %-14s %-8s %st  %s\n' "$(cut -d' ' -f1 /proc/loadavg)" "$bench" "$impl" "$threads" "$cmd" >&2
  bash -c "$cmd" >"$WORK/stdout" 2>"$WORK/stderr"
  local rc=$?
  [ $rc -eq 0 ] || { echo "    FAILED (exit $rc):" >&2; tail -5 "$WORK/stderr" | sed 's/^/    /' >&2; }
  $PY "$HERE/peer_table.py" wrap --bench "$bench" --impl "$impl" --threads "$threads" --repeat "$rep" --rc $rc \
    --cmd "$cmd" --out "$WORK/stdout" >>"$OUT"
}

echo "compare_peers: logz=$LOGZ baseline=${BASELINE:-none} peers=$PEERS repeats=$REPEATS train_limit=$TRAIN_LIMIT ais_betas=$AIS_BETAS" >&2
echo "compare_peers: $(uptime)" >&2
echo "compare_peers: raw results -> $OUT" >&2

# 1. The ceiling: float32/float64 GEMM rate of numpy and torch with OpenBLAS.
has gemm && rec gemm numpy 1 0 "$PEER_ENV $PY $PEERS/gemm_peak.py --libs numpy,torch --dtypes float32 --threads 1,2"

# Models for the log Z comparisons, trained once by logz (untimed here): 500 hidden by
# 1 epoch of CD-1 (as torch --task ais does), 20 hidden by 5 epochs of CD-1 (as torch
# --task logz does).
has ais && rec setup:ais-model logz 0 0 "$LOGZ train rbm $TRAIN_COMMON --hidden 500 --method cd --k 1 --epochs 1 --threads 0 --out $WORK/m500.npz"
has exact && rec setup:exact-model logz 0 0 "$LOGZ train rbm $TRAIN_COMMON --hidden 20 --method cd --k 1 --epochs 5 --threads 0 --out $WORK/m20.npz"

[ "$BUSY" = 1 ] && start_busy
for rep in $(seq 1 "$REPEATS"); do
  echo "compare_peers: repeat $rep of $REPEATS" >&2
  if has pcd; then
    for th in 1 2; do
      rec train:pcd1 logz $th $rep "$LOGZ train rbm $TRAIN_COMMON --hidden 500 --method pcd --k 1 --epochs 1 --threads $th --out $WORK/pcd.npz"
      [ -z "$BASELINE" ] || rec train:pcd1 logz-baseline $th $rep "$BASELINE train rbm $TRAIN_COMMON --hidden 500 --method pcd --k 1 --epochs 1 --threads $th --out $WORK/pcd.npz"
      rec train:pcd1 torch $th $rep "$PEER_ENV $PY $PEERS/torch_rbm.py --task train --pcd --threads $th $PEER_LIMIT"
    done
  fi
  if has cd; then
    rec train:cd1 logz 1 $rep "$LOGZ train rbm $TRAIN_COMMON --hidden 500 --method cd --k 1 --epochs 1 --threads 1 --out $WORK/cd.npz"
    rec train:cd1 torch 1 $rep "$PEER_ENV $PY $PEERS/torch_rbm.py --task train --threads 1 $PEER_LIMIT"
  fi
  if has sklearn; then
    # sklearn's faster variant (float32 input), plain SGD PCD-1 as sklearn implements it.
    rec train:sklearn sklearn 1 $rep "$PEER_ENV $PY $PEERS/sklearn_rbm.py --threads 1 --lr 0.01 --dtype float32 $PEER_LIMIT"
  fi
  if has ais; then
    for th in 1 2; do
      rec ais logz $th $rep "$LOGZ estimate --model $WORK/m500.npz --method ais --chains 100 --betas $AIS_BETAS --seed $rep --threads $th --json -q"
      [ -z "$BASELINE" ] || rec ais logz-baseline $th $rep "$BASELINE estimate --model $WORK/m500.npz --method ais --chains 100 --betas $AIS_BETAS --seed $rep --threads $th --json -q"
      rec ais torch $th $rep "$PEER_ENV $PY $PEERS/torch_rbm.py --task ais --epochs 1 --chains 100 --betas $AIS_BETAS --threads $th $PEER_LIMIT"
    done
  fi
  if has exact; then
    for th in 1 2; do
      rec exact logz $th $rep "$LOGZ exact --model $WORK/m20.npz --threads $th --json -q"
      # Only exact_seconds is compared; a short AIS keeps the peer run brief.
      rec exact torch $th $rep "$PEER_ENV $PY $PEERS/torch_rbm.py --task logz --betas 100 --ais-repeats 1 --threads $th $PEER_LIMIT"
    done
  fi
done

stop_busy
echo "compare_peers: $(uptime)" >&2
echo
[ "$BUSY" = 1 ] && LOAD_NOTE=", one busy competitor" || LOAD_NOTE=""
echo "## logz vs peers ($(date -u +%Y-%m-%d), $(nproc) cores, repeats=$REPEATS, train_limit=$TRAIN_LIMIT, ais_betas=$AIS_BETAS$LOAD_NOTE)"
echo
echo "Speed ratio = logz speed / peer speed (examples/s ratio for training, peer seconds / logz seconds for log Z);"
echo "medians over the repeats. Raw results: $OUT"
echo
$PY "$HERE/peer_table.py" table "$OUT"
