#!/bin/sh
# Golden parity: every golden folder the repository carries, on every kernel path this CPU runs.
set -e
for d in tests/golden/*/; do
    [ -f "$d/model.safetensors" ] || continue
    for isa in c avx2; do
        if [ "$isa" = avx2 ] && ! grep -q avx2 /proc/cpuinfo; then continue; fi
        echo "== $d ($isa)"
        DGEMMA_ISA=$isa "$DG" check-golden "$d" | grep -v '(debug)'
    done
done
