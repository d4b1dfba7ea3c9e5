# dgemma compare on the 4-bit golden: each path prints its error figures (rel RMS, bias, corr,
# slope-1, argmax agreement), --depths runs once per depth, DGEMMA_ISA / DGEMMA_INT8 / --paths
# choose the paths, --json carries the same records; bad lists are refused. What the figures
# mean (noise vs offset vs scale) is test_cli_errstats's.
set -eu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
G=tests/golden/tiny-a-mlx4
LINE='rel RMS +[0-9.]+%  bias [-+][0-9.]+  corr [-+][0-9.]+  slope-1 [-+][0-9.]+e[-+][0-9]+  gain [0-9.]+  argmax 16/16 \(100\.0%\)$'

DGEMMA_ISA=c DGEMMA_INT8=1 $DG compare -m $G -t 2 --depths 1,6 >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "compare --depths 1,6"; }
[ "$(grep -Ec "^$G: [16] layers, " "$T/out")" = 2 ] || { cat "$T/out"; fail "--depths 1,6: one header per depth"; }
grep -q "^$G: 1 layers, " "$T/out" || fail "depth 1 not run"
# c fast and c fast int8, 3 lines each, per depth; DGEMMA_ISA=c: no other path
[ "$(grep -Ec "^  c fast(| int8), step .* $LINE" "$T/out")" = 12 ] || { cat "$T/out"; fail "figures of the c paths"; }
! grep -Eq '^  (amx|avx|neon|dotprod|i8mm)' "$T/out" || fail "DGEMMA_ISA=c ran another path"
# a path that computes what the reference does: no error at all
$DG compare -m $G -t 2 --paths c-precise >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "compare --paths c-precise"; }
[ "$(grep -Ec '^  c precise, step .* rel RMS  0\.0000%  bias \+0\.0000  corr \+0\.0000  slope-1 \+0\.0e\+00  gain 1\.0000  argmax 16/16' "$T/out")" = 2 ] ||
    { cat "$T/out"; fail "the reference against itself"; }
# the fast paths on this golden: noise, not bias (|bias| and |corr| well below 1, slope and gain 1)
$DG compare -m $G -t 2 --fast-only >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "compare --fast-only"; }
! grep -q precise, "$T/out" || fail "--fast-only ran a precise path"
awk '/^  .* rel RMS / { for (i = 1; i < NF; i++) { if ($i == "bias" || $i == "corr") { v = $(i+1); if (v < -0.25 || v > 0.25) bad = bad " " $0 }
       if ($i == "slope-1") { v = $(i+1); if (v < -1e-4 || v > 1e-4) bad = bad " " $0 }
       if ($i == "gain") { v = $(i+1); if (v < 0.9999 || v > 1.0001) bad = bad " " $0 } } n++ }
     END { if (!n || bad != "") { print "biased or missing:" bad; exit 1 } }' "$T/out" || fail "fast paths: bias on the golden"
# --hidden: the hidden state's error after each of the 6 layers, steps 1 and 2
$DG compare -m $G -t 2 --paths c --hidden >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "compare --hidden"; }
[ "$(grep -Ec '^  c fast, step [12], hidden after layer [1-6] +rel RMS +[0-9.]+%  bias [-+][0-9.]+  corr [-+][0-9.]+  slope-1 [-+][0-9.]+e[-+][0-9]+  gain [0-9.]+  experts changed [0-9]+/16$' "$T/out")" = 12 ] ||
    { cat "$T/out"; fail "--hidden: 12 lines"; }
# --json: the same records
DGEMMA_ISA=c $DG compare -m $G -t 2 --json >"$T/json" 2>"$T/err" || { cat "$T/err"; fail "compare --json"; }
[ "$(grep -c '"rel_rms":' "$T/json")" = 3 ] && grep -q '"slope":' "$T/json" && grep -q '"reference":	"c"' "$T/json" ||
    { cat "$T/json"; fail "--json records"; }
# refused: both --layers and --depths, an empty or bad list, a depth the model lacks, a path not here
! $DG compare -m $G --layers 2 --depths 1 >/dev/null 2>&1 || fail "--layers with --depths accepted"
! $DG compare -m $G --depths 1,,2 >/dev/null 2>&1 || fail "--depths 1,,2 accepted"
! $DG compare -m $G --depths 0 >/dev/null 2>&1 || fail "--depths 0 accepted"
! $DG compare -m $G --depths 7 >/dev/null 2>"$T/err" || fail "--depths 7 on a 6-layer model accepted"
grep -q "only 6 layers" "$T/err" || { cat "$T/err"; fail "--depths 7: message"; }
! $DG compare -m $G --paths c-fastest >/dev/null 2>&1 || fail "--paths c-fastest accepted"
! $DG compare -m $G --paths nosuch >/dev/null 2>&1 || fail "--paths nosuch accepted"
echo ok
