#!/bin/sh
# `dgemma info` on the published mlx-community 4-bit layout (sparse shards written by
# test_realmeta --write, which fails unless the derived shapes sum to the index's total_size):
# it must validate, and report the text weights only (the vision tower is skipped).
DG=${DG:-build/dgemma}
B=${B:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
text=$("$B/tests/test_realmeta" --write "$T/m" | sed -n 's/^\([0-9]*\) text bytes$/\1/p') || { echo "FAIL writing the checkpoint"; exit 1; }
out=$("$DG" info -m "$T/m" 2>&1) || { echo "FAIL dgemma info: $out"; exit 1; }
echo "$out"
want=$(awk -v b="$text" 'BEGIN { printf "%.3f GB mapped", b / 1e9 }')
fail=0
for line in "layers      30" "experts     128 (top 8)" "vocab       262144" "quantized   yes (MLX affine)" "weights     $want"; do
    case "$out" in *"$line"*) echo "ok   $line" ;; *) echo "FAIL want '$line'"; fail=1 ;; esac
done
exit $fail
