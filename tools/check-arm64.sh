#!/bin/sh
# The AArch64 part of `make check`: runs a cross-built tree (make BUILD=arm64) under
# qemu-aarch64 -cpu max, which has NEON, dotprod and i8mm: the golden parity on every kernel path
# with a precise path of its own (forced with DGEMMA_ISA; dotprod and i8mm differ from neon only
# in their integer paths, which check-golden's precise path does not use, so `kernels
# --precise-distinct` gives c and neon) and the kernel tests, which loop over every path
# themselves (test_gemm runs the dotprod and i8mm integer paths).
# Emulation checks correctness only; it says nothing of speed.
# The binaries use the arm64 multiarch libraries (tools/setup-arm64-cross.sh); do not set
# QEMU_LD_PREFIX to the cross toolchain's sysroot: its older libc hangs threaded programs under
# Debian 12's qemu.
# DG_TEST_JOBS runs at a time (default 2, as tests/run.sh: one emulated process mostly keeps one
# core busy); the results are printed in a fixed order at the end.
# usage: tools/check-arm64.sh BUILD_DIR
set -e
B=${1:-build-arm64}
QEMU="qemu-aarch64 -cpu max"
# one run (called through xargs below): "ISA GOLDEN_DIR" or "- TEST"; log in $B/tests/NAME.log,
# exit status in NAME.rc
if [ "$B" = --one ]; then
    B=$2; isa=$3; what=$4; rc=0
    if [ "$isa" = - ]; then
        DG_TEST_QUICK=2 $QEMU "$B/tests/$what" >"$B/tests/$what.log" 2>&1 || rc=$?
        echo "$rc" >"$B/tests/$what.rc"
    else
        n=golden-$isa-$(basename "$what")
        DGEMMA_ISA=$isa $QEMU "$B/dgemma" check-golden "$what" >"$B/tests/$n.log" 2>&1 || rc=$?
        echo "$rc" >"$B/tests/$n.rc"
    fi
    exit 0
fi
start=$(date +%s)
fail=0
echo "arm64: $($QEMU "$B/dgemma" kernels | tr '\n' ';')"
avail=$($QEMU "$B/dgemma" kernels --available | tr '\n' ' ')
[ "$avail" = "c neon dotprod i8mm " ] || { echo "FAIL arm64: qemu runs only: $avail(want c neon dotprod i8mm)"; exit 1; }
isas=$($QEMU "$B/dgemma" kernels --precise-distinct)
mkdir -p "$B/tests"
jobs=""
for t in test_gemm test_sampler test_ops; do jobs="$jobs - $t"; rm -f "$B/tests/$t.rc"; done   # longest first
for isa in $isas; do
    for g in tests/golden/tiny-a tests/golden/tiny-a-mlx4 tests/golden/tiny-b; do
        jobs="$jobs $isa $g"; rm -f "$B/tests/golden-$isa-$(basename "$g").rc"
    done
done
printf '%s %s\n' $jobs | xargs -n 2 -P "${DG_TEST_JOBS:-2}" sh "$0" --one "$B"
for isa in $isas; do
    for g in tests/golden/tiny-a tests/golden/tiny-a-mlx4 tests/golden/tiny-b; do
        n=golden-$isa-$(basename "$g")
        if [ "$(cat "$B/tests/$n.rc" 2>/dev/null)" = 0 ]; then
            echo "PASS arm64 $isa check-golden $g: $(tail -n 1 "$B/tests/$n.log")"
        else
            echo "FAIL arm64 $isa check-golden $g"; grep -v " ok$" "$B/tests/$n.log" | tail -n 30; fail=1
        fi
    done
done
for t in test_ops test_sampler test_gemm; do
    if [ "$(cat "$B/tests/$t.rc" 2>/dev/null)" = 0 ]; then
        echo "PASS arm64 $t: $(tail -n 1 "$B/tests/$t.log")"
    else
        echo "FAIL arm64 $t"; tail -n 30 "$B/tests/$t.log"; fail=1
    fi
done
echo "arm64: $(( $(date +%s) - start )) s under qemu"
exit $fail
