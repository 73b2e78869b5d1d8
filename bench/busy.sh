# Sourced by the side-by-side benchmarks (compare_peers.sh, pseudolikelihood_dhfr.sh,
# score_matching_peers.sh) for their BUSY=1 mode: one competing busy process, a Python
# loop spinning on a core, from the first timed command to the last, for logz and the
# peer alike, as on a laptop or shared server where something else is running.
BUSY_PID=""
start_busy() {
  python3 -c "while True: pass" &
  BUSY_PID=$!
  echo "busy competitor running (pid $BUSY_PID)" >&2
}
stop_busy() {
  if [ -n "$BUSY_PID" ]; then
    kill "$BUSY_PID" 2>/dev/null
    BUSY_PID=""
  fi
}
