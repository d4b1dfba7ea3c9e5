#!/bin/sh
# Runs every unit-test binary and every tests/*.sh script; prints "N passed, N failed, N skipped".
# Exit status 77 is a skip (the test says why). A test binary that exits 0 without its
# "N checks passed, 0 failed" line (N > 0, from tests/t.h) ran no check and fails.
# usage: tests/run.sh BUILD_DIR
B=${1:-build}
pass=0; fail=0; skip=0; failed=""; skipped=""
# result NAME STATUS LOG [binary]
result() {
    if [ "$2" -eq 77 ]; then skip=$((skip+1)); skipped="$skipped $1"; echo "SKIP $1: $(grep -m1 'SKIP' "$3")"; return; fi
    if [ "$2" -eq 0 ] && [ -n "$4" ] && ! grep -Eq ': [1-9][0-9]* checks passed, 0 failed$' "$3"; then
        echo "(exited 0 without executing a check)" >>"$3"; set -- "$1" 1 "$3"
    fi
    if [ "$2" -eq 0 ]; then pass=$((pass+1)); echo "PASS $1"
    else fail=$((fail+1)); failed="$failed $1"; echo "FAIL $1"; tail -n 30 "$3"; fi
}
for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    rc=0; "$t" >"$B/tests/$name.log" 2>&1 || rc=$?
    result "$name" "$rc" "$B/tests/$name.log" binary
done
for s in tests/sh/*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    rc=0; DG=$B/dgemma B=$B sh "$s" >"$B/tests/$name.log" 2>&1 || rc=$?
    result "$name" "$rc" "$B/tests/$name.log"
done
[ -n "$failed" ] && echo "failed:$failed"
[ -n "$skipped" ] && echo "skipped:$skipped"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
