#include "cli/cli.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
