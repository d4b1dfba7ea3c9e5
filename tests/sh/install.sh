#!/bin/sh
# make install: the layout, a versioned SONAME, only the API of include/dgemma.h exported from
# the shared library, and a program built against the installed copy through pkg-config.
set -e
[ "${B:-build}" = build ] || { echo "SKIP: the install layout is checked by the release run"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $1"; exit 1; }
make -s install PREFIX="$T/p" >"$T/log" 2>&1 || { cat "$T/log"; fail "make install"; }
for f in bin/dgemma include/dgemma.h lib/libdgemma.a lib/libdgemma.so lib/libdgemma.so.0 lib/pkgconfig/dgemma.pc; do
    [ -e "$T/p/$f" ] || fail "$f not installed"
done
real=$(readlink -f "$T/p/lib/libdgemma.so")
case "$real" in *libdgemma.so.[0-9]*.[0-9]*.[0-9]*) ;; *) fail "libdgemma.so -> $real: not a versioned file" ;; esac
soname=$(readelf -d "$T/p/lib/libdgemma.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libdgemma.so.0 ] || fail "SONAME '$soname', want libdgemma.so.0"
nm -D --defined-only "$T/p/lib/libdgemma.so" | awk '{print $3}' | sort >"$T/exported"
sed -n 's/^DG_API .*[ *]\(dg_[a-z0-9_]*\)(.*/\1/p' include/dgemma.h | sort >"$T/api"
[ -s "$T/api" ] || fail "no DG_API function found in include/dgemma.h"
diff "$T/api" "$T/exported" >"$T/diff" || { cat "$T/diff"; fail "exported symbols differ from the DG_API functions (< header, > exported)"; }
echo "ok: $(wc -l <"$T/exported") symbols exported, all DG_API"
cat >"$T/use.c" <<'C'
#include <dgemma.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    dg_model *m = NULL;
    dg_error e = {0};
    dg_status st = dg_model_load("no-such-model", NULL, &m, &e);
    printf("%s %s: %s\n", DGEMMA_VERSION, dg_status_name(st), e.msg);
    return st == DG_ERR_IO && strstr(e.msg, "no such model directory") ? 0 : 1;
}
C
PKG_CONFIG_PATH="$T/p/lib/pkgconfig" && export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs dgemma) || fail "pkg-config dgemma"
${CC:-cc} "$T/use.c" $flags -o "$T/use" || fail "building against the installed library ($flags)"
LD_LIBRARY_PATH="$T/p/lib" "$T/use" || fail "program linked to the installed library"
LD_LIBRARY_PATH="$T/p/lib" ldd "$T/use" | grep -q "libdgemma.so.0 => $T/p/lib" || fail "not linked to the installed libdgemma.so.0"
echo "ok: built with '$flags' and ran against the installed libdgemma.so.0"
