#!/bin/sh
# Interleaved A/B of dgemma builds on one checkpoint: the builds take turns, PAIRS rounds, so a
# shared machine's load falls on all of them alike (compare ratios inside one run, never figures
# from another day). Prints the CPU, then per run the step's median and its parts.
# usage: bench/interleave.sh MODEL_DIR BUILD1 [BUILD2 ...]
#   PAIRS=2 (rounds), ARGS="--steps 2 --prompt-len 64 -t 2" (passed to every `dgemma bench`);
#   a build is a dgemma binary, optionally with its own flags: "build/dgemma --isa avx2".
set -eu
[ $# -ge 2 ] || { sed -n '2,8p' "$0"; exit 2; }
M=$1; shift
PAIRS=${PAIRS:-2}
ARGS=${ARGS:---steps 2 --prompt-len 64 -t 2}
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))"
r=1
while [ $r -le "$PAIRS" ]; do
    for b in "$@"; do
        bin=${b%% *}; flags=""
        [ "$bin" = "$b" ] || flags=${b#* }
        # shellcheck disable=SC2086 # flags and ARGS are word lists
        out=$("$bin" bench -m "$M" $ARGS $flags 2>&1) || { echo "round $r  $b: failed"; echo "$out" | tail -3; exit 1; }
        load=$(cut -d' ' -f1 /proc/loadavg)
        echo "round $r  $b  (load $load)"
        echo "$out" | grep -E '^(step|prefill) ' | sed 's/^/    /'
        echo "$out" | grep -E '^  (attention|dense mlp|router|experts|head|self-cond|sampler) ' |
            awk '{ if ($1 == "dense") printf "dense=%ss ", $3; else printf "%s=%ss ", $1, $2 }' | sed 's/^/    /'
        echo
    done
    r=$((r + 1))
done
