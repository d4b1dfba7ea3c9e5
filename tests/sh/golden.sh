#!/bin/sh
# Golden parity: every golden folder the repository carries (safetensors or GGUF checkpoint), on
# every kernel path this CPU runs.
set -e
for d in tests/golden/*/; do
    [ -f "$d/model.safetensors" ] || [ -f "$d/model.gguf" ] || continue
    for isa in $("$DG" kernels --available); do
        echo "== $d ($isa)"
        DGEMMA_ISA=$isa "$DG" check-golden "$d" | grep -v '(debug)'
    done
done
