#!/bin/sh
# `dgemma run` end to end on tiny-a: the golden gen1 (2 canvases, early halt) and gen3 (EOS in
# canvas 1) trajectories must come out id for id (their decision margins are all >= 1e-4), and
# bad input must fail with a message. Needs the real model code: skipped while $DG is absent.
DG=${DG:-build/dgemma}
A=tests/golden/tiny-a
if [ ! -x "$DG" ]; then echo "SKIP: $DG not built"; exit 77; fi
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1"; echo "  got:  $2"; echo "  want: $3"; fail=1; fi; }

out=$("$DG" run -m $A --prompt-ids "2 17 93 250 41" --seed 1234 --max-new-tokens 32 --steps 8 2>/dev/null)
check gen1 "$out" "290 112 59 185 259 86 195 252 121 132 345 10 144 218 32 377 346 65 331 112 156 53 118 339 288 144 111 252 270 131 258 80"
out=$("$DG" run -m $A --prompt-ids "2 17 93 250 41" --seed 15 --max-new-tokens 48 --steps 8 2>/dev/null)
check "gen3 (stops at EOS 1)" "$out" "2 14 224 31 120 60 116 331 68 247 257 184 331 14 79 63 67 67 21 335"
js=$("$DG" run -m $A --prompt-ids "2,17,93,250,41" --seed 15 --max-new-tokens 48 --steps 8 --json 2>/dev/null)
case "$js" in *'"finish":"stop"'*'"stop_id":1'*'"steps_per_canvas":[8,8]'*) echo "ok   --json";; *) echo "FAIL --json: $js"; fail=1;; esac

for bad in "--prompt-ids ''" "--prompt-ids 'x'" "--prompt-ids '1 384'" "--prompt-ids 1 --steps 0" \
           "--prompt-ids 1 --t-min 0.9" "--prompt-ids 1 --entropy-bound 0" "--prompt-ids 1 --confidence 0" \
           "--prompt-ids 1 --seed -1" "--prompt-ids 1 --stability -1"; do
    if eval "\"$DG\" run -m $A $bad" >/dev/null 2>&1; then echo "FAIL accepted: $bad"; fail=1; else echo "ok   rejects $bad"; fi
done
exit $fail
