#!/bin/sh
# Test fixture for `dgemma serve` (tests/sh/server.sh), in git-ignored places:
#   tests/server/node_modules/openai   the official OpenAI Node SDK (its own prefix, so that the
#                                      tokenizer fixture's npm install does not prune it)
# plus the tokenizer fixture (tools/tokenizer_fixture.sh). Idempotent.
# usage: tools/server_fixture.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=4.104.0
if [ ! -f "$ROOT/tests/server/node_modules/openai/package.json" ]; then
    echo "server_fixture: npm install openai@$VERSION"
    npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$ROOT/tests/server" "openai@$VERSION" >/dev/null
fi
[ -f "$ROOT/models/tokenizer/tokenizer.json" ] || sh "$ROOT/tools/tokenizer_fixture.sh"
echo "server_fixture: ready"
