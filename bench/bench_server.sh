#!/bin/sh
# Starts `dgemma serve` on a free port, runs bench/bench_server.js (1, 2, 4 clients), stops it.
# usage: bench/bench_server.sh MODEL_DIR [TOKENIZER_JSON] [extra serve options...]
#   e.g. bench/bench_server.sh models/26b-6l-mlx4 models/tokenizer/tokenizer.json
#        BENCH_STEPS=2 BENCH_MAX_TOKENS=256 BENCH_REQS=1 for the 26b-a4b checkpoint (seconds per step)
set -eu
DG=${DG:-build/dgemma}
M=$1; shift
T=${1:-models/tokenizer/tokenizer.json}; [ $# -gt 0 ] && shift
LOG=$(mktemp)
"$DG" serve -m "$M" --tokenizer "$T" --port 0 --max-batch 4 "$@" 2>"$LOG" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$LOG"' EXIT
port=""
for i in $(seq 1 600); do
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$LOG")
    [ -n "$port" ] && break
    kill -0 $PID 2>/dev/null || { cat "$LOG"; exit 1; }
    sleep 0.1
done
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs; model $M"
node "$(dirname "$0")/bench_server.js" "http://127.0.0.1:$port"
