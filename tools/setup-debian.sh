#!/bin/sh
# Installs what dgemma needs to build and test on Debian/Ubuntu: a C compiler, pkg-config,
# cJSON and libmicrohttpd (Debian packages), Node.js + npm (tokenizer and server test fixtures)
# and curl. Idempotent; skips apt when everything is already there.
set -e
need=""
for p in build-essential pkg-config libcjson-dev libmicrohttpd-dev nodejs npm curl; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    echo "setup: installing$need" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
