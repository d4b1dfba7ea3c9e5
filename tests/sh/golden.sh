#!/bin/sh
# Golden parity: every golden folder the repository carries (safetensors or GGUF checkpoint), on
# every kernel path this CPU runs whose precise path (the one check-golden runs) is its own:
# `kernels --precise-distinct` leaves out e.g. amx, whose precise kernels are avx512's, a run
# that would repeat avx512's bit for bit. check-golden's own exit status decides (its output is
# only filtered for display).
set -e
log=$(mktemp)
trap 'rm -f "$log"' EXIT
n=0
for d in tests/golden/*/; do
    [ -f "$d/model.safetensors" ] || [ -f "$d/model.gguf" ] || continue
    for isa in $("$DG" kernels --precise-distinct); do
        echo "== $d ($isa)"
        rc=0
        DGEMMA_ISA=$isa "$DG" check-golden "$d" >"$log" 2>&1 || rc=$?
        grep -v '(debug)' "$log" || true
        if [ "$rc" -ne 0 ]; then echo "golden: check-golden $d ($isa) exited with $rc"; exit 1; fi
        n=$((n+1))
    done
done
[ "$n" -gt 0 ] || { echo "golden: no golden checkpoint under tests/golden"; exit 1; }
