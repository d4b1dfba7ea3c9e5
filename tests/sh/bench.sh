# dgemma bench on a tiny synthetic checkpoint: the figures it prints are computed from what it
# ran. --sc-entropy: the entropy measured directly on the fed logits (not by the bisection's
# histogram) matches the target; an entropy above ln V is refused; each x86 table states its peaks.
set -eu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

$DG mkmodel --preset tiny --vocab 4096 --out "$T/m" 2>"$T/log" || { cat "$T/log"; fail "mkmodel"; }
for h in 0.7 3.5 8.0; do
    $DG bench -m "$T/m" --steps 2 -t 2 --sc-entropy $h >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "bench --sc-entropy $h"; }
    got=$(sed -n 's/^sc input .*mean entropy \([0-9.]*\) nats.*/\1/p' "$T/out")
    [ -n "$got" ] || { cat "$T/out"; fail "no sc input line"; }
    awk -v g="$got" -v h="$h" 'BEGIN { d = g - h; if (d < 0) d = -d; exit !(d < 0.01) }' ||
        fail "--sc-entropy $h: measured $got nats"
done
# the step figure is the median of steps 2..K (step 1 has no self-conditioning input): with 3
# steps, the larger of steps 2 and 3, whatever step 1 took
$DG bench -m "$T/m" --steps 3 -t 2 --prompt-len 8 >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "bench --steps 3"; }
want=$(sed -n 's/^step \([23]\): \([0-9.]*\) s.*/\2/p' "$T/err" | sort -n | tail -1)
got=$(sed -n 's/^step  *\([0-9.]*\) s median of 2 (steps 2.., with self-cond).*/\1/p' "$T/out")
[ -n "$want" ] && [ "$got" = "$want" ] || { cat "$T/err" "$T/out"; fail "step median '$got', steps 2-3 give '$want'"; }
# --synthetic-cache: the step runs after N cached positions and no prefill figure is printed
$DG bench -m "$T/m" --steps 1 -t 2 --synthetic-cache 40 >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "bench --synthetic-cache"; }
grep -q "^cache        40 SYNTHETIC positions" "$T/out" || { cat "$T/out"; fail "no synthetic cache line"; }
! grep -q "^prefill" "$T/out" || fail "prefill figure printed for a synthetic cache"
grep -q "^expert load  rows per expert min [0-9]* / mean 4.0 / max [0-9]* over 6 layers" "$T/out" || fail "expert load line"
# the load per layer: 6 "layer: used/max" cells in text; in --json one entry per layer whose
# experts_used add up to the step's total
[ "$(grep '^  layers ' "$T/out" | grep -o '[0-9]*: *[0-9]*/[0-9]*' | wc -l)" -eq 6 ] || { cat "$T/out"; fail "per-layer expert load cells"; }
grep -q "^  worst layer [0-9]*: [0-9]* of 8 experts used" "$T/out" || fail "worst layer line"
$DG bench -m "$T/m" --steps 1 -t 2 --prompt-len 8 --json >"$T/json" 2>"$T/err" || { cat "$T/err"; fail "bench --json"; }
[ "$(grep -o '"layer":[0-9]*' "$T/json" | wc -l)" -eq 6 ] || { cat "$T/json"; fail "--json: expert_load_layers entries"; }
tot=$(sed -n 's/.*"experts_used":\([0-9]*\),"experts_total".*/\1/p' "$T/json")
sum=$(grep -o '"rows_max":[0-9]*,"experts_used":[0-9]*' "$T/json" | sed 's/.*://' | awk '{ s += $1 } END { print s + 0 }')
[ -n "$tot" ] && [ "$tot" -eq "$sum" ] || fail "--json: per-layer experts_used sum to $sum, the step's total is '$tot'"
grep -q "^  attention .*% of peak" "$T/out" || fail "share of peak per part"
# every x86 table has peak loops for its kinds (a path without them reads 0% of peak everywhere);
# the tables this CPU cannot run are skipped
for i in avx2 avx512 amx; do
    $DG bench -m "$T/m" --steps 1 -t 2 --prompt-len 8 --isa $i >"$T/out" 2>"$T/err" ||
        { grep -q "cannot run\|not built" "$T/err" && continue; cat "$T/err"; fail "bench --isa $i"; }
    want="fp32 [1-9][0-9]*, int16 [1-9][0-9]*, int8 [1-9][0-9]*"
    [ $i = amx ] && want="$want, bf16 [1-9]"
    grep -q "^cpu .*($i loops, .*): $want" "$T/out" || { cat "$T/out"; fail "--isa $i: peaks"; }
done
! $DG bench -m "$T/m" --synthetic-cache -3 >/dev/null 2>&1 || fail "negative synthetic cache accepted"
# ln 4096 = 8.318
! $DG bench -m "$T/m" --steps 1 --sc-entropy 8.4 >/dev/null 2>"$T/err" || fail "entropy above ln V accepted"
grep -q "above ln V" "$T/err" || fail "entropy above ln V: message"
! $DG bench -m "$T/m" --sc-entropy -1 >/dev/null 2>"$T/err" || fail "negative entropy accepted"
# DGEMMA_ISA reaches the bench's context like every other command's
DGEMMA_ISA=c $DG bench -m "$T/m" --steps 1 -t 2 --prompt-len 8 >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "bench with DGEMMA_ISA=c"; }
grep -q "^kernels      c," "$T/out" || { cat "$T/out"; fail "DGEMMA_ISA=c: bench ran another kernel path"; }
echo ok
