#!/usr/bin/env bash
# PCD against PCD on parallel-tempering ladders (train rbm --method pt) at equal CPU time:
# a 20-hidden RBM on Fashion-MNIST per seed, trained by each method, scored by the exact
# test log-likelihood (logz eval --log-z exact: enumeration of the 2^20 hidden states).
# PT with R replicas costs about R times PCD's negative phase per update, so PCD gets
# PCD_EPOCHS = about (PT's CPU time per epoch / PCD's) x PT_EPOCHS; the CPU seconds of each
# run are recorded to check the match. Prints one TSV row per (setting, seed, method);
# bench/pt_training_table.py turns it into the paired comparison.
#   usage: bench/pt_training.sh LOGZ OUTDIR "LR PT_EPOCHS PCD_EPOCHS" ... (seeds: SEEDS="1 2 3 4 5")
set -euo pipefail
logz=$1 out=$2
shift 2
seeds=${SEEDS:-1 2 3 4 5}
mkdir -p "$out"
printf 'lr\tseed\tmethod\tepochs\tcpu_s\ttest_ll\tlog_z\tswap_rates\n'
for setting in "$@"; do
  read -r lr pt_epochs pcd_epochs <<<"$setting"
  for seed in $seeds; do
    for method in pt pcd; do
      epochs=$([ "$method" = pt ] && echo "$pt_epochs" || echo "$pcd_epochs")
      m="$out/$method-lr$lr-s$seed.npz"
      /usr/bin/time -f '%U %S' -o "$out/time" "$logz" train rbm --data fashion-mnist:train --test-data none \
        --hidden 20 --method "$method" $([ "$method" = pt ] && echo --replicas 10) --epochs "$epochs" --batch 100 --lr "$lr" --seed "$seed" \
        --monitor-rows 100 --checkpoint none --log "$out/$method-lr$lr-s$seed.log.jsonl" --threads 1 --quiet --out "$m"
      cpu=$(awk '{print $1 + $2}' "$out/time")
      ll=$("$logz" eval --model "$m" --data fashion-mnist:test --log-z exact --threads 1 --json --quiet |
        python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["mean_log_likelihood"], j["log_z"])')
      swaps=$(tail -n 1 "$out/$method-lr$lr-s$seed.log.jsonl" | python3 -c 'import json,sys; print(",".join(f"{x:.2f}" for x in json.loads(sys.stdin.read()).get("swap_rates", [])) or "-")')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$lr" "$seed" "$method" "$epochs" "$cpu" ${ll% *} ${ll#* } "$swaps"
    done
  done
done
