#!/bin/sh
# Installs what dgemma needs to build and test on Debian/Ubuntu: a C compiler, make, pkg-config,
# cJSON and libmicrohttpd (Debian packages), clang (libFuzzer: make fuzz), Node.js + npm
# (tokenizer and server test fixtures) and curl. Idempotent: only what is missing is installed,
# and a Node.js that is already on the PATH (e.g. from NodeSource, which bundles npm) is used
# as it is.
set -e
need=""
# pkg, or pkg:<native arch> once the arm64 multiarch copy (setup-arm64-cross.sh) makes the bare
# name ambiguous to dpkg (then everything was reinstalled on every run)
have_pkg() { dpkg -s "$1" >/dev/null 2>&1 || dpkg -s "$1:$(dpkg --print-architecture)" >/dev/null 2>&1; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd cc || have_pkg build-essential || need="$need build-essential"
have_cmd make || need="$need make"
have_cmd pkg-config || need="$need pkg-config"
have_pkg libcjson-dev || need="$need libcjson-dev"
have_pkg libmicrohttpd-dev || need="$need libmicrohttpd-dev"
have_cmd curl || need="$need curl"
have_cmd clang || need="$need clang"
have_cmd node || need="$need nodejs"
have_cmd npm || need="$need npm"
if [ -n "$need" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    echo "setup: installing$need" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
# `make check` also cross-builds for AArch64 and runs that build under qemu.
"$(dirname "$0")/setup-arm64-cross.sh"
