#!/bin/sh
# Runs every unit-test binary and every tests/*.sh script; prints "N passed, N failed".
# usage: tests/run.sh BUILD_DIR
B=${1:-build}
pass=0; fail=0; failed=""
for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if "$t" >"$B/tests/$name.log" 2>&1; then pass=$((pass+1)); echo "PASS $name"
    else fail=$((fail+1)); failed="$failed $name"; echo "FAIL $name"; tail -n 30 "$B/tests/$name.log"; fi
done
for s in tests/sh/*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    if DG=$B/dgemma B=$B sh "$s" >"$B/tests/$name.log" 2>&1; then pass=$((pass+1)); echo "PASS $name"
    else fail=$((fail+1)); failed="$failed $name"; echo "FAIL $name"; tail -n 30 "$B/tests/$name.log"; fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
