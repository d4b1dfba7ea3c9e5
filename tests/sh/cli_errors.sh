#!/bin/sh
# CLI error handling: bad arguments give a message and a non-zero exit, never a crash.
fails=0
expect_fail() {   # expect_fail "description" cmd...
    desc=$1; shift
    out=$("$@" 2>&1); rc=$?
    if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then echo "FAIL: $desc (exit $rc): $out"; fails=$((fails+1)); else echo "ok: $desc -> $(echo "$out" | head -1)"; fi
}
expect_msg() {    # expect_msg "description" "wanted text" cmd...: fails with that message
    desc=$1; want=$2; shift 2
    out=$("$@" 2>&1 </dev/null); rc=$?
    case "$out" in *"$want"*) ok=1 ;; *) ok=0 ;; esac
    if [ $rc -eq 0 ] || [ $rc -ge 128 ] || [ $ok -eq 0 ]; then echo "FAIL: $desc (exit $rc, want '$want'): $out"; fails=$((fails+1))
    else echo "ok: $desc -> $(echo "$out" | head -1)"; fi
}
expect_fail "unknown command" "$DG" frobnicate
expect_fail "check-golden without dir" "$DG" check-golden
expect_fail "check-golden on missing dir" "$DG" check-golden /nonexistent
expect_fail "info without -m" "$DG" info
expect_fail "info on missing dir" "$DG" info -m /nonexistent
expect_fail "bad thread count" "$DG" check-golden -t zero tests/golden/tiny-a
expect_fail "unknown ISA" env DGEMMA_ISA=sse9 "$DG" check-golden tests/golden/tiny-b
# a missing model directory is named as such (not as its tokenizer.json)
expect_msg "run on a missing model directory" "/nonexistent/model: no such model directory" "$DG" run -m /nonexistent/model -p hi
expect_msg "chat on a missing model directory" "/nonexistent/model: no such model directory" "$DG" chat -m /nonexistent/model
expect_msg "info on a missing model directory" "/nonexistent/model: no such model directory" "$DG" info -m /nonexistent/model
[ $fails -eq 0 ]
