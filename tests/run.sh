#!/bin/sh
# Runs every unit-test binary and every tests/*.sh script; prints "N passed, N failed, N skipped".
# Exit status 77 is a skip (the test says why). A test binary that exits 0 without its
# "N checks passed, 0 failed" line (N > 0, from tests/t.h) ran no check and fails.
# DG_TEST_JOBS tests run at a time (default 2: most tests are single-threaded, so one at a time
# leaves a core of a 2-core machine idle); results are printed in the usual order at the end.
# usage: tests/run.sh BUILD_DIR
B=${1:-build}
# one test (called through xargs below): its log in $B/tests/NAME.log, exit status in NAME.rc
if [ "$B" = --one ]; then
    B=$2; t=$3; rc=0
    case $t in
    *.sh) name=$(basename "$t" .sh); DG=$B/dgemma B=$B sh "$t" >"$B/tests/$name.log" 2>&1 || rc=$? ;;
    *) name=$(basename "$t"); "$t" >"$B/tests/$name.log" 2>&1 || rc=$? ;;
    esac
    echo "$rc" >"$B/tests/$name.rc"
    exit 0
fi
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
list=""; n=0
for t in "$B"/tests/test_*; do
    [ -x "$t" ] && list="$list $t" && n=$((n+1))
done
for s in tests/sh/*.sh; do [ -f "$s" ] && list="$list $s" && n=$((n+1)); done
for t in $list; do
    case $t in *.sh) name=$(basename "$t" .sh) ;; *) name=$(basename "$t") ;; esac
    rm -f "$B/tests/$name.rc"
done
echo "running $n tests, ${DG_TEST_JOBS:-2} at a time"
[ -n "$list" ] && printf '%s\n' $list | xargs -n 1 -P "${DG_TEST_JOBS:-2}" sh "$0" --one "$B"
for t in $list; do
    case $t in *.sh) name=$(basename "$t" .sh); bin= ;; *) name=$(basename "$t"); bin=binary ;; esac
    rc=$(cat "$B/tests/$name.rc" 2>/dev/null) || rc=1   # no status: the runner itself died
    result "$name" "$rc" "$B/tests/$name.log" $bin
done
[ -n "$failed" ] && echo "failed:$failed"
[ -n "$skipped" ] && echo "skipped:$skipped"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
