#!/usr/bin/env bash
# Distributed runs (docs/scaling.md): `mpirun -np N logz estimate ...` must print the bits
# of the one-process run (every field of the JSON but the timings) for N = 2 and 3, with
# 1 and 2 threads a rank; a rank killed mid-run must end the whole job with a non-zero exit
# well before the test's timeout, not hang.
#   distributed_test.sh LOGZ MPIEXEC PYTHON
set -euo pipefail
LOGZ=$1 MPIEXEC=$2 PY=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# --oversubscribe: 3 ranks on a 2-core machine; --allow-run-as-root: containers run as root.
MPI=("$MPIEXEC" --oversubscribe --allow-run-as-root)
# Containers often forbid the cross-process memory copies of OpenMPI's shared-memory transport.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
fails=0

"$PY" - "$T" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(5)
# A 6x6 periodic Ising lattice near its critical coupling (geometric path: 16 blocks).
n = 36
J = np.zeros((n, n))
for r in range(6):
    for c in range(6):
        i = 6 * r + c
        for j in (6 * r + (c + 1) % 6, 6 * ((r + 1) % 6) + c):
            J[i, j] = J[j, i] = 0.44
np.savez(f"{d}/ising.npz", fields=np.zeros(n), couplings=J)
np.save(f"{d}/ising_rows.npy", rng.choice([-1.0, 1.0], size=(60, n)))
# RBMs: a narrow one and a wide one with the data marginals (the weight path), and a wide
# one without (the path from the modes' mixture).
def rbm(name, v, h, marginals):
    a = dict(weights=0.3 * rng.standard_normal((v, h)), visible_bias=0.1 * rng.standard_normal(v),
             hidden_bias=0.1 * rng.standard_normal(h))
    if marginals:
        a["data_marginals"] = np.full(v, 0.4)
    np.savez(f"{d}/{name}.npz", **a)
rbm("rbm_narrow", 20, 10, True)
rbm("rbm_wide", 30, 70, True)
rbm("rbm_modes", 30, 70, False)
# An alignment for pseudolikelihood: 1,200 sequences of 60 columns (10 tiles of 6 sites,
# 3 blocks of sequences), drifting copies of one sequence, with gaps.
letters = np.array(list("-ACDEFGHIKLMNPQRSTVWY"))
root = rng.integers(1, 21, 60)
with open(f"{d}/aln.fasta", "w") as f:
    for s in range(1200):
        row = np.where(rng.random(60) < 0.3, rng.integers(0, 21, 60), root)
        f.write(f">s{s}\n{''.join(letters[row])}\n")
# Exact enumeration: 2^20 hidden states of an RBM (256 chunks), 2^12 of a GRBM (64 blocks).
rbm("rbm_exact", 40, 20, False)
np.savez(f"{d}/grbm.npz", weights=0.2 * rng.standard_normal((8, 12)), visible_bias=0.1 * rng.standard_normal(8),
         hidden_bias=0.1 * rng.standard_normal(12), visible_sigma=np.full(8, 0.8))
# Junction trees with messages of several blocks: a 17x17 open Ising lattice with random
# couplings and fields (messages of 2^17 entries: 4 blocks), an 11x11 Potts grid with q = 3
# (3^11: 6 blocks).
m = 17 * 17
Jo = np.zeros((m, m))
for r in range(17):
    for c in range(17):
        i = 17 * r + c
        for j in ([i + 1] if c < 16 else []) + ([i + 17] if r < 16 else []):
            Jo[i, j] = Jo[j, i] = rng.normal(0.3, 0.2)
np.savez(f"{d}/ising_open.npz", fields=0.1 * rng.standard_normal(m), couplings=Jo)
edges = [(11 * r + c, 11 * r + c + 1) for r in range(11) for c in range(10)]
edges += [(11 * r + c, 11 * r + c + 11) for r in range(10) for c in range(11)]
Jp = np.zeros((121, 121, 3, 3))
for i, j in edges:
    Jp[i, j] = 0.4 * rng.standard_normal((3, 3))
    Jp[j, i] = Jp[i, j].T
np.savez(f"{d}/potts.npz", fields=0.2 * rng.standard_normal((121, 3)), couplings=Jp)
# Binary data for RBM training: noisy copies of 5 prototypes, 3,000 rows of 64 pixels.
proto = rng.random((5, 64)) < 0.3
rows = proto[rng.integers(0, 5, 3000)] ^ (rng.random((3000, 64)) < 0.05)
np.save(f"{d}/bits.npy", rows.astype(np.uint8))
# Real-valued data for GRBM training: 400 rows of 8 correlated values.
np.save(f"{d}/real.npy", rng.standard_normal((400, 8)) @ rng.standard_normal((8, 8)))
PY

# Prints the JSON on stdout without its timings (seconds, rates per second) and this
# process's peak memory.
strip() {
  "$PY" -c '
import json, sys
def drop(x):
    if isinstance(x, dict):
        return {k: drop(v) for k, v in x.items() if "second" not in k and "memory_bytes" not in k}
    if isinstance(x, list):
        return [drop(v) for v in x]
    return x
print(json.dumps(drop(json.load(sys.stdin)), sort_keys=True))'
}

same_bits() {  # name, then the logz arguments; a file written to $T/out.npz or $T/out.npy is compared too
  local name=$1 out
  shift
  rm -f "$T"/out.np? "$T"/one.np?
  "$LOGZ" "$@" --json -q | strip > "$T/one.json"
  for out in "$T"/out.np?; do if [ -f "$out" ]; then mv "$out" "$T/one.${out##*.}"; fi; done
  for np in 2 3; do
    for threads in 1 2; do
      if ! "${MPI[@]}" -np "$np" "$LOGZ" "$@" --threads "$threads" --json -q 2> "$T/err" | strip > "$T/many.json"; then
        echo "FAIL $name: -np $np --threads $threads exited non-zero:"; cat "$T/err"; fails=$((fails + 1)); continue
      fi
      if { [ -f "$T/one.npz" ] && ! cmp -s "$T/one.npz" "$T/out.npz"; } ||
         { [ -f "$T/one.npy" ] && ! cmp -s "$T/one.npy" "$T/out.npy"; }; then
        echo "FAIL $name: -np $np --threads $threads wrote a file that differs from one process's"
        fails=$((fails + 1))
      elif cmp -s "$T/one.json" "$T/many.json"; then
        echo "ok   $name: -np $np --threads $threads gives the bits of one process"
      else
        echo "FAIL $name: -np $np --threads $threads differs from one process:"
        diff <(tr ',' '\n' < "$T/one.json") <(tr ',' '\n' < "$T/many.json") | head -20
        fails=$((fails + 1))
      fi
    done
  done
}

same_bits "AIS, Ising lattice" estimate --model "$T/ising.npz" --method ais --chains 200 --betas 300 --replicates 1 --seed 3
same_bits "AIS, Ising, 4 replicates" estimate --model "$T/ising.npz" --method ais --chains 400 --betas 100 --seed 4
same_bits "IS, Ising" estimate --model "$T/ising.npz" --method is --chains 3000 --replicates 1 --seed 5
same_bits "RAISE, Ising" estimate --model "$T/ising.npz" --method raise --data "$T/ising_rows.npy" --chains 60 --betas 200 --replicates 1 --seed 6
same_bits "AIS, narrow RBM" estimate --model "$T/rbm_narrow.npz" --method ais --chains 200 --betas 300 --replicates 1 --seed 7
same_bits "AIS, wide RBM" estimate --model "$T/rbm_wide.npz" --method ais --chains 200 --betas 300 --replicates 1 --seed 8
same_bits "AIS, RBM from its modes (with the reverse and base checks)" estimate --model "$T/rbm_modes.npz" --method ais --chains 200 --betas 200 --replicates 1 --seed 9
# SMC spreads its runs over the ranks (resampling inside each run); with fewer runs than
# ranks, every rank takes part in every run with its own blocks of the particles (shared
# before each resampling). Replicates go over the ranks when the ranks divide them (6 at
# -np 2 and 3; 4 at -np 3 go one after the other).
same_bits "SMC, Ising, 5 runs with resampling" estimate --model "$T/ising.npz" --method smc --chains 100 --betas 60 --runs 5 --ess-threshold 0.9 --replicates 1 --seed 10
same_bits "SMC, Ising, 6 replicates of one run" estimate --model "$T/ising.npz" --method smc --chains 60 --betas 40 --runs 6 --replicates 6 --seed 11
same_bits "SMC, Ising, 2 replicates of one run (a run whole on one rank of 3)" estimate --model "$T/ising.npz" --method smc --chains 60 --betas 40 --runs 2 --replicates 6 --seed 11
same_bits "SMC, Ising, one run: its particles over the ranks, resampled" estimate --model "$T/ising.npz" --method smc --chains 100 --betas 60 --runs 1 --ess-threshold 0.9 --replicates 1 --seed 14
same_bits "SMC, Ising, 2 runs, adaptive tempering and moves (particles over 3 ranks)" estimate --model "$T/ising.npz" --method smc --chains 96 --schedule adaptive --moves adaptive --runs 2 --replicates 1 --seed 15
same_bits "SMC, Ising, one waste-free run" estimate --model "$T/ising.npz" --method smc --chains 96 --betas 30 --waste-free 4 --runs 1 --replicates 1 --seed 16
same_bits "SMC, wide RBM, one run" estimate --model "$T/rbm_wide.npz" --method smc --chains 200 --betas 100 --runs 1 --ess-threshold 0.9 --replicates 1 --seed 17
# A tempered ladder's swaps stay within a chain: the ranks run their own blocks of chains
# through the whole ladder and share what was recorded at the end.
same_bits "bridge with a PT ladder, its chains over the ranks" estimate --model "$T/ising.npz" --method bridge --chains 40 --betas 8 --samples 20 --replicates 1 --seed 18
same_bits "TI, sequential ladder, its chains over the ranks" estimate --model "$T/ising.npz" --method ti --chains 40 --betas 8 --samples 20 --tempering none --replicates 1 --seed 19
same_bits "bridge with a PT ladder, wide RBM" estimate --model "$T/rbm_wide.npz" --method bridge --chains 40 --betas 10 --samples 20 --replicates 1 --seed 20
same_bits "bridge with a PT ladder, 6 replicates" estimate --model "$T/ising.npz" --method bridge --chains 12 --betas 8 --samples 20 --replicates 6 --seed 12
same_bits "TI with a PT ladder, 6 replicates" estimate --model "$T/ising.npz" --method ti --chains 12 --betas 8 --samples 20 --replicates 6 --seed 13
# Exact log Z: the enumeration's blocks of states over the ranks, partial sums shared.
same_bits "exact log Z, RBM" exact --model "$T/rbm_exact.npz"
same_bits "exact log Z, GRBM" exact --model "$T/grbm.npz"
# The junction tree: each message's blocks of entries over the ranks, the message shared.
same_bits "exact log Z, Ising junction tree" exact --model "$T/ising_open.npz"
same_bits "exact log Z, Potts junction tree" exact --model "$T/potts.npz"

# Pseudolikelihood, sharded: each rank holds its tiles' groups of the parameters and of
# the L-BFGS vectors, receives the blocks its tiles read from their owners and sends their
# gradient back (a pair's two conditionals: exact in any order); every sum goes tile by
# tile in tile order. The fitted model file is compared byte for byte.
same_bits "pseudolikelihood, double" train potts --data "$T/aln.fasta" --lambda-e 1 --lambda-h 0.01 --max-iterations 10 --out "$T/out.npz"
same_bits "pseudolikelihood, float" train potts --data "$T/aln.fasta" --lambda-e 1 --lambda-h 0.01 --max-iterations 10 --precision float --out "$T/out.npz"
same_bits "pseudolikelihood, asymmetric" train potts --data "$T/aln.fasta" --lambda-e 1 --lambda-h 0.01 --max-iterations 6 --variant asymmetric --out "$T/out.npz"
# DHFR.a2m with plmc's README settings, 10 iterations (the data beside the checkout).
DHFR=$(dirname "$0")/../../../shared/data/DHFR.a2m
if [ -f "$DHFR" ]; then
  same_bits "pseudolikelihood, DHFR.a2m" train potts --data "$DHFR" --focus DYR_ECOLI --unknown skip --ignore-gaps --lambda-e 16 --lambda-h 0.01 --max-iterations 10 --out "$T/out.npz"
else
  echo "skip pseudolikelihood on DHFR.a2m: $DHFR is not there"
fi

# RBM training: each rank runs its own chains' Gibbs sweeps, its own rows' hidden
# probabilities and its own blocks of the gradient, shared after each phase; every rank
# updates its copy of the model. The model file is compared byte for byte.
train=(train rbm --data "$T/bits.npy" --hidden 40 --batch 50 --seed 3 --log none --checkpoint none)
same_bits "PCD training" "${train[@]}" --method pcd --epochs 3 --out "$T/out.npz"
same_bits "CD training" "${train[@]}" --method cd --k 2 --epochs 3 --out "$T/out.npz"
# Parallel tempering: each rank moves its own blocks of chains at every beta; the states and
# their log f at the neighbouring betas are shared, and every rank makes the same swaps.
same_bits "PT training" "${train[@]}" --method pt --replicas 3 --chains 200 --epochs 2 --out "$T/out.npz"
# GRBM PCD: each rank sweeps its own blocks of the chains, which are shared (states and
# streams) before the gradient.
same_bits "GRBM PCD training" train grbm --data "$T/real.npy" --method pcd --hidden 6 --chains 200 --batch 50 --epochs 2 --seed 8 --out "$T/out.npz"

# A checkpoint is written by rank 0 alone, and a run resumed with another number of ranks
# ends with the bits of an uninterrupted one: `resumes name option first whole args...`
# runs `args option whole` in one process, then `args option first` at 2 ranks and
# `args option whole --resume` at 3, both with the checkpoint $T/ck.npz.
resumes() {
  local name=$1 option=$2 first=$3 whole=$4
  shift 4
  "$LOGZ" "$@" "$option" "$whole" --out "$T/one.npz" -q
  rm -f "$T/ck.npz"
  if "${MPI[@]}" -np 2 "$LOGZ" "$@" --checkpoint "$T/ck.npz" "$option" "$first" --out "$T/two.npz" -q 2> "$T/err" &&
     "${MPI[@]}" -np 3 "$LOGZ" "$@" --checkpoint "$T/ck.npz" "$option" "$whole" --resume --out "$T/two.npz" -q 2> "$T/err" &&
     cmp -s "$T/one.npz" "$T/two.npz"; then
    echo "ok   $name: $option $first at -np 2, resumed to $option $whole at -np 3, gives the bits of one process"
  else
    echo "FAIL $name resumed at another rank count:"; cat "$T/err"; fails=$((fails + 1))
  fi
  if ls "$T"/ck.npz.tmp.* "$T"/two.npz.tmp.* > /dev/null 2>&1; then
    echo "FAIL $name: temporary files left beside the checkpoint"; fails=$((fails + 1))
  fi
}
resumes "PCD training" --epochs 2 4 train rbm --data "$T/bits.npy" --hidden 40 --batch 50 --seed 3 --log none --method pcd
# GRBM PCD: the chains' streams travel with their states, so the checkpoint (which holds
# every chain's stream) is one process's, byte for byte. (Its --epochs are part of the
# run's settings, so it is not resumed to more epochs here.)
grbm=(train grbm --data "$T/real.npy" --method pcd --hidden 6 --chains 200 --batch 50 --epochs 2 --seed 8)
"$LOGZ" "${grbm[@]}" --checkpoint "$T/ck1.npz" --out "$T/one.npz" -q
if "${MPI[@]}" -np 3 "$LOGZ" "${grbm[@]}" --checkpoint "$T/ck3.npz" --out "$T/two.npz" -q 2> "$T/err" &&
   cmp -s "$T/ck1.npz" "$T/ck3.npz" && cmp -s "$T/one.npz" "$T/two.npz"; then
  echo "ok   GRBM PCD training: the checkpoint written at -np 3 is one process's"
else
  echo "FAIL GRBM PCD training: the checkpoint at -np 3 differs from one process's"; cat "$T/err"; fails=$((fails + 1))
fi

# Sampling an Ising or Potts model: each rank runs its own range of the chains.
same_bits "sample, Ising" sample --model "$T/ising.npz" --chains 50 --steps 20 --seed 9 --out "$T/out.npy"
same_bits "sample, Potts" sample --model "$T/potts.npz" --chains 40 --steps 10 --seed 10 --out "$T/out.npy"

# Potts and Ising PCD: each rank moves its own blocks of the persistent chains (or
# tempered ladders), then every chain is sent to every rank, which computes the same
# moments and update. A checkpoint written at 2 ranks resumes at 3.
same_bits "Potts PCD training" train potts --data "$T/aln.fasta" --method pcd --chains 30 --updates 12 --seed 4 --out "$T/out.npz"
same_bits "Potts PCD training, tempered chains" train potts --data "$T/aln.fasta" --method pcd --chains 20 --betas 0.5,1 --updates 8 --seed 5 --out "$T/out.npz"
same_bits "Ising PT training" train ising --data "$T/ising_rows.npy" --method pt --replicas 3 --chains 30 --updates 20 --seed 6 --out "$T/out.npz"
resumes "Potts PCD training, tempered chains" --updates 6 12 train potts --data "$T/aln.fasta" --method pcd --chains 30 --betas 0.5,1 --seed 7 --checkpoint-every 4

# Finds the process of a rank running `pattern` (a prefix of its command line), within 10 s.
find_rank() {
  local pid=""
  for _ in $(seq 1 100); do
    pid=$(pgrep -f -- "^$LOGZ $1" | head -1 || true)
    [ -n "$pid" ] && break
    sleep 0.1
  done
  echo "$pid"
}
# Waits up to 60 s for the job (mpirun's pid) to end after one of its ranks was killed;
# passes when it ended with a non-zero exit. $1 names the run.
job_ends() {
  local job=$2 start
  start=$(date +%s)
  for _ in $(seq 1 600); do kill -0 "$job" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$job" 2> /dev/null; then
    echo "FAIL $1: the job still runs 60 s after one of its ranks was killed"; fails=$((fails + 1))
    kill -9 "$job" 2> /dev/null || true
    pkill -9 -f -- "^$LOGZ .*$T/" || true
    return 1
  fi
  local code=0
  wait "$job" || code=$?
  if [ "$code" -ne 0 ]; then
    echo "ok   $1: the job ended with exit $code after $(( $(date +%s) - start )) s"
  else
    echo "FAIL $1: the job exited 0"; fails=$((fails + 1)); return 1
  fi
}

train_ck=(train rbm --data "$T/bits.npy" --hidden 40 --batch 50 --seed 3 --log none --checkpoint "$T/ck.npz" --method pcd)
# A rank killed during training ends the job; the last checkpoint is intact, and the run
# resumed from it (at another rank count) ends with the bits of an uninterrupted one.
rm -f "$T/ck.npz"
"${MPI[@]}" -np 2 "$LOGZ" "${train_ck[@]}" --epochs 100000 --out "$T/killed.npz" -q > /dev/null 2> "$T/killed.err" &
job=$!
victim=$(find_rank "train rbm --data $T/bits.npy")
for _ in $(seq 1 200); do [ -f "$T/ck.npz" ] && break; sleep 0.1; done
sleep 0.5
if [ -z "$victim" ] || [ ! -f "$T/ck.npz" ]; then
  echo "FAIL killed rank in training: no rank or no checkpoint to find"; fails=$((fails + 1)); kill "$job" 2> /dev/null || true
else
  kill -9 "$victim"
  if job_ends "killed rank in training" "$job"; then
    done_epochs=$("$PY" -c "import numpy as np, sys; print(int(np.load(sys.argv[1])['epoch'][0]))" "$T/ck.npz" 2> "$T/err" || echo "")
    if [ -z "$done_epochs" ]; then
      echo "FAIL the checkpoint left by the killed job does not read:"; cat "$T/err"; fails=$((fails + 1))
    else
      more=$((done_epochs + 1))
      "$LOGZ" "${train[@]}" --method pcd --epochs "$more" --out "$T/one.npz" -q
      if "${MPI[@]}" -np 3 "$LOGZ" "${train_ck[@]}" --epochs "$more" --resume --out "$T/resumed.npz" -q 2> "$T/err" &&
         cmp -s "$T/one.npz" "$T/resumed.npz"; then
        echo "ok   the checkpoint of the killed job (epoch $done_epochs) resumed at -np 3 gives the bits of one process"
      else
        echo "FAIL resuming the killed job's checkpoint:"; cat "$T/err"; fails=$((fails + 1))
      fi
    fi
  fi
fi

# A rank killed mid-run ends the job: mpirun exits non-zero, and soon.
"${MPI[@]}" -np 2 "$LOGZ" estimate --model "$T/ising.npz" --method ais --chains 4000 --betas 2000000 --replicates 1 \
  --json -q > /dev/null 2> "$T/killed.err" &
job=$!
victim=$(find_rank "estimate --model $T/ising.npz --method ais --chains 4000")
sleep 1
if [ -z "$victim" ]; then
  echo "FAIL killed rank: no rank process found to kill"; fails=$((fails + 1)); kill "$job" 2> /dev/null || true
else
  kill -9 "$victim"
  job_ends "killed rank" "$job" || true
fi

# Bad input is refused with its sysexits code on every rank, not a hang.
code=0
timeout 60 "${MPI[@]}" -np 2 "$LOGZ" estimate --model "$T/missing.npz" --method ais 2> "$T/err" > /dev/null || code=$?
if [ "$code" -ne 0 ] && [ "$code" -ne 124 ] && grep -q "missing.npz" "$T/err"; then
  echo "ok   a missing model under mpirun: exit $code, the error names the file"
else
  echo "FAIL a missing model under mpirun: exit $code"; cat "$T/err"; fails=$((fails + 1))
fi

[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
