#!/bin/sh
# `dgemma serve` end to end on loopback: raw SSE with curl, the OpenAI Node SDK suite
# (tests/server/api.test.js: chat, stream, tools, errors, concurrency == `dgemma run`, faults,
# RSS), then a graceful SIGTERM with a stream in flight. Model: tiny-a widened to the full
# Gemma 4 vocabulary (tests/server/mkvocab.js), tokenizer from tools/tokenizer_fixture.sh.
# Needs node + tools/server_fixture.sh; skips without them (DG_REQUIRE_FIXTURE=1: fail).
# Under `make test-asan` $DG is the ASan build: the server log must stay clean and it must exit 0.
DG=${DG:-build/dgemma}
B=${B:-build}
ROOT=$(pwd)
TOK=${DG_TOKENIZER_FIXTURE:-$ROOT/models/tokenizer}/tokenizer.json
skip() { echo "SKIP: $1 (run tools/server_fixture.sh)"; [ "${DG_REQUIRE_FIXTURE:-0}" = 1 ] && exit 1; exit 77; }
[ -x "$DG" ] || { echo "SKIP: $DG not built"; exit 77; }
command -v node >/dev/null || skip "node missing"
command -v curl >/dev/null || skip "curl missing"
[ -f tests/server/node_modules/openai/package.json ] || skip "openai npm package missing"
[ -f "$TOK" ] || skip "$TOK missing"
M=$B/tests/tiny-vocab
[ -f $M/model.safetensors ] || node tests/server/mkvocab.js tests/golden/tiny-a $M >/dev/null || exit 1
LOG=$B/tests/server1.log   # not server.log: run.sh writes this script's output there
fail=0
check() { if [ "$2" = 1 ]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

: >$LOG
# start LOGFILE SERVE-ARGS...: a server on a free port; sets PID and URL
start() {
    log=$1; shift
    : >$log
    "$DG" serve -m $M --tokenizer "$TOK" --port 0 -t 2 "$@" 2>$log &
    PID=$!
    port=""
    for i in $(seq 1 600); do
        port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' $log)
        [ -n "$port" ] && break
        kill -0 $PID 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$port" ]; then echo "FAIL server did not start: $*"; cat $log; kill $PID 2>/dev/null; exit 1; fi
    URL=http://127.0.0.1:$port
}
start $LOG --max-batch 4 --queue 8 --api-key testkey --grace 20 --recv-timeout 4 --log-every 0.1
echo "server pid $PID on $URL"

# raw SSE: headers, data lines, per-step events, [DONE] last
H=$B/tests/server.sse.h
out=$(curl -sN --max-time 120 -D $H -H 'Authorization: Bearer testkey' $URL/v1/chat/completions \
      -d '{"messages":[{"role":"user","content":"Hi"}],"max_tokens":32,"max_denoising_steps":3,"stream":true,"stream_canvas":true}')
check "SSE content type" $(grep -qi '^content-type: text/event-stream' $H && echo 1)
check "SSE chunks are data: lines" $(echo "$out" | grep -q '^data: {"id":"chatcmpl-' && echo 1)
check "SSE step events (stream_canvas)" $([ "$(echo "$out" | grep -c '^event: dgemma.step')" -eq 6 ] && echo 1)
check "SSE ends with [DONE]" $([ "$(echo "$out" | grep -v '^$' | tail -n 1)" = "data: [DONE]" ] && echo 1)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 $URL/v1/models)
check "no key -> 401" $([ "$code" = 401 ] && echo 1)

DG_URL=$URL DG_KEY=testkey DG_PID=$PID DG=$DG DG_MODEL=$M DG_TOKENIZER=$TOK node tests/server/api.test.js || fail=1

# graceful stop with a stream in flight: the stream completes, the server exits 0
S=$B/tests/server.stop.sse
curl -sN --max-time 120 -H 'Authorization: Bearer testkey' $URL/v1/chat/completions \
     -d '{"messages":[{"role":"user","content":"Hi"}],"max_tokens":48,"max_denoising_steps":3,"stream":true}' >$S &
CURL=$!
sleep 1
kill -TERM $PID
wait $PID
rc=$?
wait $CURL
check "SIGTERM: exit 0 (got $rc)" $([ $rc = 0 ] && echo 1)
check "SIGTERM: in-flight stream finished" $(grep -q '"finish_reason":"length"' $S && tail -c 15 $S | grep -q 'DONE' && echo 1)
check "server log clean (no sanitizer report)" $(grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' $LOG || echo 1)
check "request log lines" $(grep -q 'dgemma serve: POST /v1/chat/completions 200 prompt=[1-9][0-9]* completion=[0-9]* canvases=[0-9]* steps=[0-9]* finish=' $LOG && echo 1)
check "throughput lines while busy" $(grep -q 'steps/s, .* tokens/s over' $LOG && echo 1)

# Quiet servers. Requests are made long enough (16 canvases of 64 or 32 steps) that they outlast
# the deadline and the grace on a fast machine too: the tests must not depend on a step's speed.
# The per-request deadline: the request is cut with what it committed.
LOG2=$B/tests/server2.log
start $LOG2 --request-timeout 6 --quiet
LONG='{"prompt":[2,5,6],"max_tokens":256,"stability_threshold":0,"max_denoising_steps":'
field() { node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(eval(process.argv[1]))' "$1"; }
out=$(curl -s --max-time 300 $URL/v1/completions -d "${LONG}64}")
check "deadline: cut with what it committed (finish length)" $(printf "%s" "$out" | field 'd.choices[0].finish_reason === "length" && d.usage.completion_tokens < 256 && d.dgemma.canvases < 16 ? 1 : 0')
check "--quiet: no request log" $(grep -q 'dgemma serve: POST' $LOG2 || echo 1)
kill -TERM $PID
wait $PID
# SIGTERM with a stream running (no deadline): /health says 503 while draining, the stream ends
# with what it committed (finish_reason "cancelled"), exit 0.
LOG3=$B/tests/server3.log
start $LOG3 --grace 2 --quiet
S3=$B/tests/server3.sse
curl -sN --max-time 300 $URL/v1/completions -d "${LONG}32,\"stream\":true}" >$S3 &
CURL=$!
for i in $(seq 1 1200); do grep -q '"text":"[^"]' $S3 && break; sleep 0.05; done
kill -TERM $PID
sleep 0.1
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 $URL/health)
check "draining: /health 503 (got $code)" $([ "$code" = 503 ] && echo 1)
wait $PID
rc=$?
wait $CURL
check "SIGTERM mid-request: exit 0 (got $rc)" $([ $rc = 0 ] && echo 1)
check "SIGTERM mid-request: committed text, finish_reason cancelled" $(grep -q '"text":"[^"]' $S3 && grep -q '"finish_reason":"cancelled"' $S3 && ! grep -q '"error"' $S3 && tail -c 15 $S3 | grep -q DONE && echo 1)
check "quiet servers' logs clean" $(cat $LOG2 $LOG3 | grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' || echo 1)
[ $fail = 0 ] || { echo "--- server log"; tail -n 40 $LOG; echo "--- quiet servers' logs"; cat $LOG2 $LOG3; }
exit $fail
