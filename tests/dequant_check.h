/* Shared by tests: every MLX-quantized module of a checkpoint dequantizes (through the
 * loader's reader) to the bf16 reference checkpoint's values within half its stored scale. */
#ifndef DG_TESTS_DEQUANT_CHECK_H
#define DG_TESTS_DEQUANT_CHECK_H
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/numeric.h"
#include "format/weights.h"
#include "kernels/gemm.h"
#include "t.h"

/* Every `.scales` module of q against the same tensor in the bf16 checkpoint ref. */
static void check_dequant(const char *ref_dir, const char *q_dir, int min_modules) {
    dg_weights *a = NULL, *b = NULL;
    dg_error err = {0};
    CHECK(!dg_weights_open(ref_dir, &a, &err) && !dg_weights_open(q_dir, &b, &err), "%s", err.msg);
    if (!a || !b) { dg_weights_close(a); dg_weights_close(b); return; }
    int modules = 0, bad = 0;
    for (int i = 0; i < dg_weights_count(b); i++) {
        const dg_tensor *sc = dg_weights_at(b, i);
        size_t n = strlen(sc->name);
        if (n < 7 || strcmp(sc->name + n - 7, ".scales")) continue;
        char mod[300], name[320];
        snprintf(mod, sizeof mod, "%.*s", (int)(n - 7), sc->name);
        snprintf(name, sizeof name, "%s.weight", mod);
        const dg_tensor *q = dg_weights_find(b, name), *ref = dg_weights_find(a, name);
        if (!ref) ref = dg_weights_find(a, mod);                /* HF expert tensors: bare names */
        snprintf(name, sizeof name, "%s.biases", mod);
        const dg_tensor *bi = dg_weights_find(b, name);
        CHECK(q && ref && bi && ref->dtype == DG_DT_BF16, "%s: tensors", mod);
        if (!q || !ref || !bi) continue;
        int nd = ref->ndim, K = (int)ref->shape[nd - 1], ng = (int)sc->shape[nd - 1];
        int64_t rows = dg_tensor_numel(ref) / K;
        dg_mat m = {.kind = DG_W_AFFINE, .rows = (int)rows, .cols = K, .w = q->data, .w_stride = (size_t)q->shape[nd - 1] * 4,
                    .scales = sc->data, .biases = bi->data, .sb_stride = (size_t)ng * 2,
                    .bits = (int)(q->shape[nd - 1] * 32 / K), .group = K / ng};
        float *row = malloc((size_t)K * sizeof *row);
        for (int64_t r = 0; r < rows; r++) {
            dg_mat_row(&m, (int)r, row);
            for (int j = 0; j < K; j++) {
                double w = dg_bf16_to_f32(dg_ld16(ref->data + 2 * (size_t)(r * K + j)));
                double s = dg_bf16_to_f32(dg_ld16(sc->data + 2 * (size_t)(r * ng + j / m.group)));
                if (!(fabs(w - row[j]) <= s / 2 * (1 + 1e-3) + 1e-6 * fabs(w))) bad++;
            }
        }
        free(row);
        modules++;
    }
    CHECK(modules >= min_modules && !bad, "%s: %d modules, %d elements past half a scale", q_dir, modules, bad);
    dg_weights_close(a);
    dg_weights_close(b);
}

#endif
