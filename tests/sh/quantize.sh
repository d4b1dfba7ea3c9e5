# dgemma quantize: tiny-a (HF bf16) -> mlx4 and mlx8 load with `info`; the mlx4 config's
# quantization block matches tests/golden/tiny-a-mlx4 (the mlx-community recipe); bad input
# fails with a clear message and a non-zero exit.
set -eu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
G=tests/golden

$DG quantize $G/tiny-a "$T/q4" --recipe mlx4 2>"$T/log" || { cat "$T/log"; fail "quantize mlx4"; }
$DG info -m "$T/q4" >"$T/info" || fail "info mlx4"
grep -q "quantized   yes" "$T/info" || fail "not quantized"
[ -f "$T/q4/generation_config.json" ] || fail "generation_config.json not copied"
# the override lists are the same text in both files (same order, same values)
sed -n '/"quantization": {/,/^  }/p' "$T/q4/config.json" >"$T/ours"
sed -n '/"quantization": {/,/^  }/p' $G/tiny-a-mlx4/config.json >"$T/ref"
cmp -s "$T/ours" "$T/ref" || { diff "$T/ours" "$T/ref" | head; fail "quantization block differs from tiny-a-mlx4"; }

$DG quantize $G/tiny-a "$T/q8" --recipe mlx8 --shard-size 100000 2>"$T/log" || { cat "$T/log"; fail "quantize mlx8"; }
$DG info -m "$T/q8" >/dev/null || fail "info mlx8 sharded"
[ -f "$T/q8/model.safetensors.index.json" ] || fail "mlx8 not sharded"

# bad input
! $DG quantize "$T/nodir" "$T/o1" --recipe mlx4 2>"$T/err" || fail "missing input accepted"
grep -q "nodir: No such file" "$T/err" || fail "missing input message: $(cat "$T/err")"
! $DG quantize "$T/q4" "$T/o2" --recipe mlx4 2>"$T/err" || fail "quantized input accepted"
grep -q "already quantized" "$T/err" || fail "already-quantized message: $(cat "$T/err")"
! $DG quantize $G/tiny-a "$T/o3" --recipe q4 2>"$T/err" || fail "unknown recipe accepted"
grep -q "unknown recipe" "$T/err" || fail "unknown recipe message"
touch "$T/file"
! $DG quantize $G/tiny-a "$T/file/sub" --recipe mlx4 2>"$T/err" || fail "unwritable output accepted"
grep -q "cannot create" "$T/err" || fail "unwritable output message"
! $DG quantize $G/tiny-a $G/tiny-a --recipe mlx4 2>"$T/err" || fail "in-place accepted"
grep -q "must differ" "$T/err" || fail "in-place message"
echo "quantize: ok"
