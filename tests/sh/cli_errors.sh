#!/bin/sh
# CLI error handling: bad arguments give a message and a non-zero exit, never a crash.
fails=0
expect_fail() {   # expect_fail "description" cmd...
    desc=$1; shift
    out=$("$@" 2>&1); rc=$?
    if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then echo "FAIL: $desc (exit $rc): $out"; fails=$((fails+1)); else echo "ok: $desc -> $(echo "$out" | head -1)"; fi
}
expect_fail "unknown command" "$DG" frobnicate
expect_fail "check-golden without dir" "$DG" check-golden
expect_fail "check-golden on missing dir" "$DG" check-golden /nonexistent
expect_fail "info without -m" "$DG" info
expect_fail "info on missing dir" "$DG" info -m /nonexistent
expect_fail "bad thread count" "$DG" check-golden -t zero tests/golden/tiny-a
expect_fail "unknown ISA" env DGEMMA_ISA=sse9 "$DG" check-golden tests/golden/tiny-b
[ $fails -eq 0 ]
