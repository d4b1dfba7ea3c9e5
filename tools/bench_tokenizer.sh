#!/bin/sh
# Tokenizer benchmark: C vs the JS reference on the fixture corpus, same machine, same run.
# usage: tools/bench_tokenizer.sh   (after tools/tokenizer_fixture.sh)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${DG_TOKENIZER_FIXTURE:-$ROOT/models/tokenizer}
cd "$ROOT"
make -s build/libdgemma.a
mkdir -p build/tools
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -Iinclude -o build/tools/bench_tokenizer tools/bench_tokenizer.c build/libdgemma.a \
    $(pkg-config --libs libcjson 2>/dev/null || echo -lcjson) -lm
c=$(build/tools/bench_tokenizer "$DIR" "$DIR/corpus.bin" 3)
js=$(node tools/tokfixture/js_encode.js "$DIR" "$DIR/corpus.bin" -)
echo "$c"
echo "$js"
cm=$(echo "$c" | sed 's/.*= \([0-9.]*\) MB\/s/\1/')
jm=$(echo "$js" | sed 's/.*= \([0-9.]*\) MB\/s/\1/')
echo "ratio: C is $(echo "$cm $jm" | awk '{printf "%.1f", $1 / $2}')x the JS implementation"
