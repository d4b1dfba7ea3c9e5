#include "cli/cli.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_int(const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno) {
        fprintf(stderr, "dgemma: %s: expected an integer, got '%s'\n", flag, s ? s : "");
        return 0;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "dgemma: %s: %ld is out of range [%ld, %ld]\n", flag, v, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_double(const char *flag, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !isfinite(v)) {
        fprintf(stderr, "dgemma: %s: expected a number, got '%s'\n", flag, s ? s : "");
        return 0;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "dgemma: %s: %g is out of range [%g, %g]\n", flag, v, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_u64(const char *flag, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') {
        fprintf(stderr, "dgemma: %s: expected a non-negative integer, got '%s'\n", flag, s ? s : "");
        return 0;
    }
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno) {
        fprintf(stderr, "dgemma: %s: expected a non-negative integer, got '%s'\n", flag, s);
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

const char *cli_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "dgemma: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_report(const dg_error *err) {
    fprintf(stderr, "dgemma: %s\n", err->msg[0] ? err->msg : dg_status_name(err->code));
    return 1;
}

char *cli_read_file(const char *path) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) { fprintf(stderr, "dgemma: %s: %s\n", path, strerror(errno)); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *t = cap > ((size_t)1 << 30) ? NULL : realloc(buf, cap *= 2);
            if (!t) { free(buf); buf = NULL; }
            else buf = t;
        }
    }
    if (f != stdin) fclose(f);
    if (!buf) { fprintf(stderr, "dgemma: %s: too large or out of memory\n", path); return NULL; }
    buf[n] = 0;
    return buf;
}
