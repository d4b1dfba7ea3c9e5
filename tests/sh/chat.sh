#!/bin/sh
# `dgemma chat` through a FIFO on stdin: an unknown /command is answered and not sent to the
# model; Ctrl-C (SIGINT) during an answer stops that answer only: the conversation (its cache)
# stays and the session goes on; -c is capped by the model's context length; generation
# knobs are accepted (and validated) as in `run`. Model: tiny-a widened to the Gemma 4
# vocabulary (as in server.sh); needs node and the tokenizer fixture.
DG=${DG:-build/dgemma}
B=${B:-build}
TOK=${DG_TOKENIZER_FIXTURE:-models/tokenizer}/tokenizer.json
skip() { echo "SKIP: $1"; [ "${DG_REQUIRE_FIXTURE:-0}" = 1 ] && exit 1; exit 77; }
command -v node >/dev/null || skip "node missing"
[ -f "$TOK" ] || skip "$TOK missing (run tools/tokenizer_fixture.sh)"
M=$B/tests/tiny-vocab
[ -f $M/model.safetensors ] || node tests/server/mkvocab.js tests/golden/tiny-a $M >/dev/null || exit 1
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$T"' EXIT
fail=0
check() { if [ "$2" = 1 ]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
# wait_for FILE TEXT: up to 60 s for TEXT to appear in FILE
wait_for() { i=0; while ! grep -qF -- "$2" "$1"; do i=$((i+1)); [ $i -gt 600 ] && return 1; sleep 0.1; done; }

# knobs: the same flags and checks as run
"$DG" chat -m $M --tokenizer "$TOK" --t-min 0.9 </dev/null >/dev/null 2>$T/e1
check "chat rejects --t-min 0.9 > t_max (as run does)" $([ $? -ne 0 ] && grep -q t_max $T/e1 && echo 1)

mkfifo $T/in
# --stability beyond --steps: canvas 0 never halts, so the answer runs until interrupted
"$DG" chat -m $M --tokenizer "$TOK" -t 1 --steps 100000 --stability 100000 --seed 3 -c 100000 <$T/in >$T/out 2>$T/err &
PID=$!
exec 3>$T/in
check "-c capped by the model's context length (4096)" $(wait_for $T/err "4096 tokens of context" && echo 1)
echo "/frobnicate now" >&3
check "unknown /command answered" $(wait_for $T/err "unknown command '/frobnicate'" && echo 1)
echo "/stats" >&3
check "unknown /command not sent to the model" $(wait_for $T/err "turns 0 | cached tokens 0 of 4096" && echo 1)
echo "Hello there" >&3
sleep 2
kill -INT $PID
check "Ctrl-C stops the answer" $(wait_for $T/err "(interrupted" && echo 1)
check "the session goes on after Ctrl-C" $(kill -0 $PID 2>/dev/null && echo 1)
echo "/stats" >&3
wait_for $T/err "turns 1"
line=$(grep "turns 1 |" $T/err | tail -1)
cached=$(echo "$line" | sed -n 's/.*cached tokens \([0-9]*\) of.*/\1/p')
prompt=$(echo "$line" | sed -n 's/.*prompt \([0-9]*\) tokens.*/\1/p')
echo "after Ctrl-C: $line"
check "the interrupted turn stays in the conversation (cached $cached = its prompt $prompt)" \
      $([ -n "$cached" ] && [ "$cached" -gt 0 ] && [ "$cached" = "$prompt" ] && echo 1)
# the next turn continues the conversation: end of the cut answer, then the new user turn
echo "And now?" >&3
sleep 2
kill -INT $PID
wait_for $T/err "turns 2" || { echo "/stats" >&3; }
echo "/stats" >&3
wait_for $T/err "turns 2 |"
line=$(grep "turns 2 |" $T/err | tail -1)
cached2=$(echo "$line" | sed -n 's/.*cached tokens \([0-9]*\) of.*/\1/p')
prompt2=$(echo "$line" | sed -n 's/.*prompt \([0-9]*\) tokens.*/\1/p')
check "a second turn appends to the first (cached $cached2 = $cached + $prompt2)" \
      $([ -n "$cached2" ] && [ "$cached2" = $((cached + prompt2)) ] && echo 1)
echo "/quit" >&3
exec 3>&-
wait $PID
rc=$?
PID=
check "/quit exits 0 (got $rc)" $([ $rc = 0 ] && echo 1)
[ $fail = 0 ] || { echo "--- stderr"; cat $T/err; }
exit $fail
