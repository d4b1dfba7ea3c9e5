#!/bin/sh
# dgemma tokenize / detokenize / template against the derived Gemma 4 fixture
# (tools/tokenizer_fixture.sh). Env: DG = the dgemma binary.
set -u
FX=${DG_TOKENIZER_FIXTURE:-models/tokenizer}
if [ ! -f "$FX/tokenizer.json" ]; then
    echo "SKIP: $FX/tokenizer.json missing; run tools/tokenizer_fixture.sh"
    [ "${DG_REQUIRE_FIXTURE:-0}" = 1 ] && exit 1
    exit 77
fi
fail=0
check() { # check NAME GOT WANT
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: got [$2] want [$3]"; fail=1; fi
}
check "tokenize" "$($DG tokenize -m "$FX" 'Hello world! Café déjà vu — 123 😊')" \
      "9259 1902 236888 62367 29234 11042 2192 236743 236770 236778 236800 103453"
check "tokenize --special" "$($DG tokenize --tokenizer "$FX/tokenizer.json" --special 'Hello')" "2 9259"
check "tokenize stdin" "$(printf '<|turn>user\nhi<turn|>' | $DG tokenize -m "$FX" -)" "105 2364 107 2202 106"
check "detokenize" "$($DG detokenize -m "$FX" '9259 1902 236888 106')" "Hello world!<turn|>"
check "detokenize --skip-special" "$(echo '2 9259 106' | $DG detokenize -m "$FX" --skip-special -)" "Hello"
$DG detokenize -m "$FX" '1 262144' >/dev/null 2>&1; check "detokenize range error" "$?" "1"
$DG tokenize --tokenizer /nonexistent 'x' >/dev/null 2>&1; check "missing tokenizer" "$?" "1"
tmp=${TMPDIR:-/tmp}/dg_tok_cli_$$
mkdir -p "$tmp"
printf '[{"role":"user","content":"Hello"}]' >"$tmp/m.json"
out=$($DG template -m "$FX" --messages "$tmp/m.json")
check "template" "$out" "$(printf '<bos><|turn>user\nHello<turn|>\n<|turn>model\n<|channel>thought\n<channel|>\n2 105 2364 107 9259 106 107 105 4368 107 100 45518 107 101')"
printf '[{"type":"function","function":{"name":"get_weather","description":"Get the weather for a city.","parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city name"}},"required":["location"]}}}]' >"$tmp/t.json"
printf '[{"role":"user","content":"What is the weather in Paris?"}]' >"$tmp/m.json"
ids=$($DG template -m "$FX" --messages "$tmp/m.json" --tools "$tmp/t.json" | tail -n 1)
check "template --tools (77 ids)" "$(echo "$ids" | wc -w)" "77"
out=$($DG template -m "$FX" --messages "$tmp/m.json" --thinking | tail -n 1)
check "template --thinking" "$out" "2 105 9731 107 98 107 106 107 105 2364 107 3689 563 506 7606 528 9079 236881 106 107 105 4368 107"
printf '[{"role":' >"$tmp/bad.json"
$DG template -m "$FX" --messages "$tmp/bad.json" >/dev/null 2>&1; check "template bad json" "$?" "1"
rm -rf "$tmp"
exit $fail
