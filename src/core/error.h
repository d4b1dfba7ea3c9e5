/* Error reporting: functions return dg_status and fill a caller-owned dg_error. */
#ifndef DG_CORE_ERROR_H
#define DG_CORE_ERROR_H
#include "dgemma.h"

#if defined(__GNUC__)
#define DG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DG_PRINTF(a, b)
#endif

/* Sets err (if non-NULL) and returns code, so callers can `return dg_fail(err, ...)`. */
dg_status dg_fail(dg_error *err, dg_status code, const char *fmt, ...) DG_PRINTF(3, 4);
/* Prefixes an existing message with context ("file.safetensors: ..."). */
dg_status dg_fail_wrap(dg_error *err, const char *fmt, ...) DG_PRINTF(2, 3);

#endif
