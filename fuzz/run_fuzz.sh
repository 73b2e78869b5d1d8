#!/bin/bash
# Runs the logz fuzz targets (docs/robustness.md, "Fuzzing"); `make fuzz` calls it.
#
#   fuzz/run_fuzz.sh [BUILD_DIR]            fuzz each target for FUZZ_SECONDS (default 600)
#   fuzz/run_fuzz.sh --regressions [BUILD]  run each target once over fuzz/regressions/<target>/
#
# Environment: FUZZ_SECONDS, FUZZ_TARGETS (default: all), FUZZ_NICE (default 19),
# FUZZ_KEEP_GOING=1: libFuzzer's fork mode (-fork=1 -ignore_crashes=1 -ignore_ooms=1
# -ignore_timeouts=1), which records each finding and goes on fuzzing instead of stopping
# at the first; the target still counts as failed if it found anything.
# Each target starts from its committed seeds, fuzz/corpus/<target>/, copied into a scratch
# corpus BUILD_DIR/corpus/<target>/ where new inputs go (the repository is never written);
# reproducers of findings land in BUILD_DIR/artifacts/<target>/, logs in BUILD_DIR/logs/.
# Exit status 1 if any target crashed, leaked, ran out of memory or timed out.
set -u
cd "$(dirname "$0")/.."

mode=fuzz
if [ "${1:-}" = "--regressions" ]; then mode=regressions; shift; fi
build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-600}
targets=${FUZZ_TARGETS:-"npy npz idx alignment model_file rbm_file mrf_file continuous_file plmc_params weights_file checkpoint_file options"}
nice_level=${FUZZ_NICE:-19}
# A reader that allocates what a file claims must be a finding, not a slow success:
# cap memory at 2 GiB (RSS and any single allocation) and one input at 10 s.
limits=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10)
keep_going=()
[ "${FUZZ_KEEP_GOING:-0}" = 1 ] && keep_going=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
# UBSan's reports with their stack, like ASan's.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

dict_of() {
  case $1 in
    npy|npz|model_file|rbm_file|mrf_file|continuous_file|checkpoint_file) echo fuzz/dicts/npz.dict ;;
    alignment) echo fuzz/dicts/alignment.dict ;;
    options) echo fuzz/dicts/options.dict ;;
  esac
}

failed=()
mkdir -p "$build/logs"
printf '%-16s %8s %12s %10s %6s  %s\n' target seconds executions exec/s cov result
for t in $targets; do
  exe="$build/fuzz_$t"
  [ -x "$exe" ] || { echo "$exe: not built (make fuzz builds it)" >&2; exit 2; }
  log="$build/logs/$t.log"
  if [ $mode = regressions ]; then
    inputs=(fuzz/regressions/"$t"/*)
    [ -e "${inputs[0]}" ] || continue
    nice -n "$nice_level" "$exe" "${limits[@]}" "${inputs[@]}" > "$log" 2>&1
    rc=$?
    result=ok; [ $rc = 0 ] || { result="FAILED (rc $rc, $log)"; failed+=("$t"); }
    printf '%-16s %8s %12s %10s %6s  %s\n' "$t" - "${#inputs[@]}" - - "$result"
    continue
  fi
  scratch="$build/corpus/$t"
  mkdir -p "$scratch" "$build/artifacts/$t"
  cp -n fuzz/corpus/"$t"/* "$scratch"/ 2>/dev/null
  dict=$(dict_of "$t")
  start=$(date +%s)
  nice -n "$nice_level" "$exe" -max_total_time="$seconds" "${limits[@]}" "${keep_going[@]}" -print_final_stats=1 \
    ${dict:+-dict=$dict} -artifact_prefix="$build/artifacts/$t/" "$scratch" fuzz/corpus/"$t" > "$log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  result=ok
  if [ ${#keep_going[@]} != 0 ]; then
    # Fork mode prints "#<executions>: cov: ... exec/s: ... oom/timeout/crash: a/b/c time: ..."
    status=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
    execs=$(echo "$status" | sed -n 's/^#\([0-9]*\):.*/\1/p')
    rate=$(echo "$status" | sed -n 's/.*exec\/s:\? \([0-9]*\).*/\1/p')
    found=$(echo "$status" | sed -n 's/.*oom\/timeout\/crash: \([0-9/]*\).*/\1/p')
    [ -n "$found" ] && [ "$found" != 0/0/0 ] && { result="FAILED (oom/timeout/crash $found; $log)"; failed+=("$t"); }
  fi
  if [ $rc != 0 ] && [ "$result" = ok ]; then
    artifact=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | cut -d' ' -f5)
    result="FAILED (rc $rc${artifact:+, reproducer $artifact}; $log)"
    failed+=("$t")
  fi
  printf '%-16s %8s %12s %10s %6s  %s\n' "$t" "$elapsed" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$result"
done
if [ ${#failed[@]} != 0 ]; then
  echo "fuzz: findings in: ${failed[*]} (see docs/robustness.md for what to do with them)" >&2
  exit 1
fi
