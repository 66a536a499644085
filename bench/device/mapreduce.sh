#!/bin/bash
# MapReduce's scaling run on the 16-core device machine: word count over the 1 GiB corpus (16 x 64
# MiB, generated there: it is too big to carry) at 1, 2, 4, 8 and 16 procs, for gort's natural
# word count (examples/mapreduce/wc.ts), its byte fast path (wc-bytes.ts) and Go's byte table,
# beside the idiomatic single-threaded script. bench/device/pack.sh fills .carry/ first (here);
# then, with .carry carried:
#
#   bash bench/device/mapreduce.sh "$OUT"
#
# About 5-6 minutes on 16 cores (one run per row). No row starts after BUDGET seconds (default
# 480, so that a 600 s call still ends with results); the log goes to the folder as it is
# written, then the results JSON and the speed-up plot (mapreduce-scaling.json, .svg) are copied
# there. SIZE, RUNS, PROCS, ROWS and BUDGET override the bench's --size, --runs, --procs, --rows
# and --budget. Then, if the run is under POOL_BEFORE seconds (520), the V8 pool probe below.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench/results}
mkdir -p "$out"
. bench/device/unpack.sh
{
  echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), node $(node --version)"
  uptime
} | tee "$out/mapreduce.log"
status=0
node --import tsx bench/mapreduce.bench.ts --size "${SIZE:-16x64MiB}" --runs "${RUNS:-1}" \
  --procs "${PROCS:-1,2,4,8,16}" --rows "${ROWS:-node idiomatic,gort wc,go bytes}" --budget "${BUDGET:-480}" 2>&1 | tee -a "$out/mapreduce.log" || status=$?
# The bench exits 1 when a row failed or an output differed: its results still go with the log.
if [ "$out" != bench/results ]; then cp bench/results/mapreduce-scaling.json bench/results/mapreduce-scaling.svg "$out/" || true; fi
# V8's background pool (its JIT compiles, concurrent GC) has 4 threads in Node unless
# --v8-pool-size says otherwise, shared by all the process's isolates: do 16 Ms wait on it? If
# time is left, gort wc on every CPU twice each, alternated, at Node's pool and at one pool thread
# per CPU; logged only (mapreduce-pool.log).
corpus=${POOL_CORPUS:-.cache/corpus-1-16x67108864}
if [ -d "$corpus" ] && [ "$SECONDS" -lt "${POOL_BEFORE:-520}" ]; then
  for i in 1 2; do
    for pool in 4 "$(nproc)"; do
      rm -rf /tmp/gort-pool-out
      s=$(date +%s%N)
      NODE_OPTIONS="--v8-pool-size=$pool" node bin/gort.js mapreduce --job examples/mapreduce/wc.ts --input "$corpus/*.txt" --output /tmp/gort-pool-out >/dev/null || echo "gort wc failed (exit $?)"
      echo "gort wc p$(nproc), --v8-pool-size=$pool: $(( ($(date +%s%N) - s) / 1000000 )) ms"
    done
  done 2>&1 | tee "$out/mapreduce-pool.log"
  rm -rf /tmp/gort-pool-out
fi
exit "$status"
