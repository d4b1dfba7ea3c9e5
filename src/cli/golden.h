/* Shared pieces of `dgemma check-golden`: golden tensor access and error statistics. */
#ifndef DG_CLI_GOLDEN_H
#define DG_CLI_GOLDEN_H
#include "dgemma.h"
#include "format/safetensors.h"

typedef struct golden {
    const char *dir;
    dg_st_file *st;         /* golden.safetensors */
    void *json;             /* cJSON of golden.json */
    int passed, failed, skipped;
} golden;

/* Golden tensor as float (F32/I32/U8 converted); NULL + message if absent. Caller frees. */
float *golden_tensor(golden *g, const char *name, int64_t *numel);

typedef struct errstat { double max_abs, ref_max, max_rel; } errstat;
errstat err_compare(const float *got, const float *want, int64_t n);

/* Prints one comparison line and counts it; tol is absolute, or relative to the reference's
 * max |value| when relative != 0. Returns 1 if within tolerance. */
int golden_report(golden *g, const char *label, errstat e, double tol, int relative, int counted);

#endif
