#!/bin/sh
# The AArch64 part of `make check`: runs a cross-built tree (make BUILD=arm64) under
# qemu-aarch64 -cpu max, which has NEON, dotprod and i8mm: the golden parity on every kernel path
# (forced with DGEMMA_ISA) and the kernel tests, which loop over every path themselves.
# Emulation checks correctness only; it says nothing of speed.
# The binaries use the arm64 multiarch libraries (tools/setup-arm64-cross.sh); do not set
# QEMU_LD_PREFIX to the cross toolchain's sysroot: its older libc hangs threaded programs under
# Debian 12's qemu.
# usage: tools/check-arm64.sh BUILD_DIR
set -e
B=${1:-build-arm64}
QEMU="qemu-aarch64 -cpu max"
start=$(date +%s)
fail=0
echo "arm64: $($QEMU "$B/dgemma" kernels | tr '\n' ';')"
for isa in c neon dotprod i8mm; do
    for g in tests/golden/tiny-a tests/golden/tiny-a-mlx4 tests/golden/tiny-b; do
        if out=$(DGEMMA_ISA=$isa $QEMU "$B/dgemma" check-golden "$g" 2>&1); then
            echo "PASS arm64 $isa check-golden $g: $(echo "$out" | tail -n 1)"
        else
            echo "FAIL arm64 $isa check-golden $g"; echo "$out" | grep -v " ok$" | tail -n 30; fail=1
        fi
    done
done
for t in test_ops test_sampler test_gemm; do
    if DG_TEST_QUICK=2 $QEMU "$B/tests/$t" >"$B/tests/$t.log" 2>&1; then
        echo "PASS arm64 $t: $(tail -n 1 "$B/tests/$t.log")"
    else
        echo "FAIL arm64 $t"; tail -n 30 "$B/tests/$t.log"; fail=1
    fi
done
echo "arm64: $(( $(date +%s) - start )) s under qemu"
exit $fail
