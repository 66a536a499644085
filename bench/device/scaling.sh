#!/bin/bash
# The scheduler's scaling run, (b) and (c) at 1, 2, 4, 8 and 16 procs, on the 16-core device
# machine. bench/device/pack.sh fills .carry/ first (here); then, with .carry carried:
#
#   bash bench/device/scaling.sh "$OUT"
#
# It unpacks Node and the packages, runs the bench (about 6 minutes on 16 cores), then `gort sched`
# (gort alone: tiny tasks from main and inside tasks, fork-join fib) at each procs, and copies
# the log, the bench's results JSON and speed-up plot, and sched-sweep.jsonl (one `gort sched
# --json` line per procs) to the folder given (default bench/results).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench/results}
procs=${PROCS:-1,2,4,8,16}
mkdir -p "$out"
. bench/device/unpack.sh
{
  echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), node $(node --version)"
  uptime
} | tee "$out/scaling.log"
node --import tsx bench/scheduler.bench.ts --shapes=b,c --procs="$procs" ${QUICK:+--quick} 2>&1 | tee -a "$out/scaling.log"
if [ "$out" != bench/results ]; then cp bench/results/scheduler-bc.json bench/results/scheduler-bc.svg "$out/"; fi
: > "$out/sched-sweep.jsonl"
IFS=, read -ra plist <<< "$procs"
for p in "${plist[@]}"; do
  echo "gort sched --procs $p" | tee -a "$out/scaling.log"
  node bin/gort.js sched --procs "$p" ${QUICK:+--tasks 20000 --rounds 2} --json | tee -a "$out/sched-sweep.jsonl" >> "$out/scaling.log"
done
