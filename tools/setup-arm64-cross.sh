#!/bin/sh
# Installs what `make check-arm64` needs on Debian: the AArch64 cross compiler, qemu's user-mode
# emulator, and cJSON / libmicrohttpd (with the AArch64 libc) from Debian's arm64 architecture
# (multiarch). Idempotent. Ubuntu serves arm64 packages from ports.ubuntu.com: its apt sources
# need that mirror for the arm64 architecture first.
set -e
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
need=""
have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
have_pkg gcc-aarch64-linux-gnu || need="$need gcc-aarch64-linux-gnu"
have_pkg qemu-user || need="$need qemu-user"
have_pkg libcjson-dev:arm64 || need="$need libcjson-dev:arm64"
have_pkg libmicrohttpd-dev:arm64 || need="$need libmicrohttpd-dev:arm64"
[ -z "$need" ] && exit 0
dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
echo "setup: installing$need" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
