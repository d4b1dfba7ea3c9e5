#!/bin/sh
# make fuzz-run: each libFuzzer target for SECONDS, JOBS targets at a time (each target is one
# single-threaded process, so 2 at a time on 2 cores gives every target a whole core, as one at a
# time did). New inputs go to FB/corpus/NAME/ (seeds: tests/fuzz/corpus/NAME/); prints each
# target's executions, or the tail of its log and exits 1 when one fails.
# usage: tests/fuzz/run.sh FB SECONDS JOBS TARGET...
if [ "$1" = --one ]; then
    FB=$2; S=$3; f=$4; n=${f#"$FB"/fuzz_}; rc=0
    mkdir -p "$FB/corpus/$n"
    seeds=tests/fuzz/corpus/$n; [ -d "$seeds" ] || seeds=
    "$f" -max_total_time="$S" -rss_limit_mb=4096 -max_len=65536 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$FB/" "$FB/corpus/$n" $seeds >"$FB/$n.log" 2>&1 || rc=$?
    echo "$rc" >"$FB/$n.rc"
    exit 0
fi
FB=$1; S=$2; J=$3; shift 3
for f in "$@"; do rm -f "$FB/${f#"$FB"/fuzz_}.rc"; done
printf '%s\n' "$@" | xargs -n 1 -P "$J" sh "$0" --one "$FB" "$S"
fail=0
for f in "$@"; do
    n=${f#"$FB"/fuzz_}
    if [ "$(cat "$FB/$n.rc" 2>/dev/null)" = 0 ]; then
        echo "== $n ($S s): $(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$FB/$n.log") executions"
    else
        echo "== $n ($S s): FAILED"; tail -n 60 "$FB/$n.log"; fail=1
    fi
done
exit $fail
