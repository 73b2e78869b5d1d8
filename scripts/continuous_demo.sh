#!/bin/sh
# The continuous half of `make demo`: density models of natural-image patches.
#  1. 8x8 patches of Fashion-MNIST (dequantised, nearly flat patches redrawn), their DC
#     removed and PCA-whitened to 32 components; the test patches go through the same map.
#  2. A Gaussian and a Gaussian-Bernoulli RBM (16 hidden units) fitted by score matching
#     and by noise-contrastive estimation, and a product of Student-t experts (32 unit-norm
#     filters) fitted by score matching: none of these fits needs the partition function.
#  3. log Z of each: exact (closed form or enumeration of the 16 hidden units) and by AIS
#     with HMC moves from a Gaussian base; NCE's own estimate of log Z beside them.
#  4. The test log-likelihood of every model, in nats per patch, with its error bar.
# Usage: scripts/continuous_demo.sh [path/to/logz] [output folder]
set -eu
LOGZ=${1:-build/apps/logz/logz}
OUT=${2:-$(mktemp -d "${TMPDIR:-/tmp}/logz-continuous-XXXXXX")}
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }
run() { printf '$ logz %s\n' "$*"; "$LOGZ" "$@"; }

step "whitened 8x8 patches of Fashion-MNIST"
run patches --images fashion-mnist:train --size 8 --count 20000 --seed 1 --dequantize --min-std 0.05 \
  --whiten pca --components 32 --out "$OUT/train.npy" --transform-out "$OUT/whitening.npz"
run patches --images fashion-mnist:test --size 8 --count 5000 --seed 2 --dequantize --min-std 0.05 \
  --transform "$OUT/whitening.npz" --out "$OUT/test.npy"

for name in gaussian-sm gaussian-nce grbm-sm grbm-nce experts-sm; do
  model=${name%-*} method=${name#*-}
  step "$model fitted by $method"
  run train "$model" --data "$OUT/train.npy" --method "$method" --max-iterations 300 --out "$OUT/$name.npz" --quiet
  run info "$OUT/$name.npz" | grep -E "log Z|normalisable|nce_log_z" || true
  run eval --model "$OUT/$name.npz" --data "$OUT/test.npy" --method exact
done

step "log Z by AIS (HMC moves) against the exact values above"
run estimate --model "$OUT/grbm-sm.npz" --method ais --chains 64 --betas 2000
run estimate --model "$OUT/experts-sm.npz" --method ais --chains 64 --betas 2000
run eval --model "$OUT/grbm-nce.npz" --data "$OUT/test.npy" --method ais --chains 64 --betas 2000

printf '\nfiles in %s\n' "$OUT"
