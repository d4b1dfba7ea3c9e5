#include "core/error.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *dg_status_name(dg_status s) {
    switch (s) {
    case DG_OK: return "ok";
    case DG_ERR_IO: return "i/o error";
    case DG_ERR_FORMAT: return "format error";
    case DG_ERR_SHAPE: return "shape error";
    case DG_ERR_MISSING: return "missing";
    case DG_ERR_UNSUPPORTED: return "unsupported";
    case DG_ERR_NOMEM: return "out of memory";
    case DG_ERR_ARG: return "invalid argument";
    case DG_ERR_RANGE: return "out of range";
    case DG_ERR_CANCELLED: return "cancelled";
    }
    return "unknown error";
}

dg_status dg_fail(dg_error *err, dg_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

dg_status dg_fail_wrap(dg_error *err, const char *fmt, ...) {
    if (!err) return DG_ERR_FORMAT;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%.500s: %.500s", prefix, old);
    return err->code;
}
