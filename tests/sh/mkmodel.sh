# dgemma mkmodel: tiny bf16, tiny mlx4 and a tiny sharded checkpoint all load with `info`;
# the same seed gives the same bytes; bad arguments fail with a message.
set -eu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

$DG mkmodel --preset tiny --out "$T/bf16" 2>"$T/log" || { cat "$T/log"; fail "mkmodel bf16"; }
$DG info -m "$T/bf16" >"$T/info" || fail "info bf16"
grep -q "quantized   no" "$T/info" || fail "bf16 reported as quantized"
grep -q '"full_attention"' "$T/bf16/config.json" || fail "layer_types"
[ -f "$T/bf16/generation_config.json" ] || fail "generation_config.json"

$DG mkmodel --preset tiny --quant mlx4 --out "$T/mlx4" 2>"$T/log" || { cat "$T/log"; fail "mkmodel mlx4"; }
$DG info -m "$T/mlx4" >"$T/info" || fail "info mlx4"
grep -q "quantized   yes" "$T/info" || fail "mlx4 not quantized"
grep -q '"quantization_config"' "$T/mlx4/config.json" || fail "quantization_config block"

$DG mkmodel --preset tiny --quant mlx8 --layers 7 --vocab 512 --out "$T/mlx8" 2>"$T/log" || { cat "$T/log"; fail "mkmodel mlx8"; }
$DG info -m "$T/mlx8" | grep -q "layers      7" || fail "mlx8 --layers 7"

$DG mkmodel --preset tiny --shard-size 300000 --out "$T/sharded" 2>"$T/log" || { cat "$T/log"; fail "mkmodel sharded"; }
[ -f "$T/sharded/model.safetensors.index.json" ] || fail "no index"
[ ! -f "$T/sharded/model.safetensors" ] || fail "sharded run wrote model.safetensors"
n=$(ls "$T/sharded"/model-*-of-*.safetensors | wc -l)
[ "$n" -ge 3 ] || fail "expected several shards, got $n"
$DG info -m "$T/sharded" >/dev/null || fail "info sharded"
grep -q '"total_size": ' "$T/sharded/model.safetensors.index.json" || fail "index total_size"

# deterministic: same seed, same bytes; another seed, other bytes
$DG mkmodel --preset tiny --out "$T/again" 2>/dev/null
cmp -s "$T/bf16/model.safetensors" "$T/again/model.safetensors" || fail "not deterministic"
$DG mkmodel --preset tiny --seed 2 --out "$T/seed2" 2>/dev/null
! cmp -s "$T/bf16/model.safetensors" "$T/seed2/model.safetensors" || fail "seed ignored"

# bad input
! $DG mkmodel --preset huge --out "$T/x" 2>"$T/err" || fail "unknown preset accepted"
grep -q "unknown preset" "$T/err" || fail "unknown preset message"
! $DG mkmodel --preset tiny --quant mlx3 --out "$T/x" 2>"$T/err" || fail "unknown recipe accepted"
grep -q "unknown recipe" "$T/err" || fail "unknown recipe message"
touch "$T/file"
! $DG mkmodel --preset tiny --out "$T/file/sub" 2>"$T/err" || fail "unwritable output accepted"
grep -q "cannot create" "$T/err" || fail "unwritable output message"
echo "mkmodel: ok"
