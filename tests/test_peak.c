/* Peak loops (kernels/peak.c and each table's loops): every built path this CPU runs gives a
 * plausible positive rate for each of its loops and 0 where it has none; the amx table's fp32
 * kind is the avx512 loop and its tiles beat the VNNI dots; bad thread counts fail. */
#include <math.h>
#include <stdio.h>
#include "kernels/isa.h"
#include "t.h"

int main(void) {
    (void)t_golden;
    dg_error err = {0};
    double peak[DG_ISA_COUNT][DG_OPS_KINDS] = {{0}};
    for (int isa = DG_ISA_C; isa < DG_ISA_COUNT; isa++) {
        const dg_isa_table *t = dg_isa_table_get((dg_isa)isa);
        if (!t || !dg_isa_available((dg_isa)isa)) continue;
        double *p = peak[isa];
        CHECK(!dg_isa_peak((dg_isa)isa, 2, 0.02, p, &err), "%s: %s", dg_isa_name((dg_isa)isa), err.msg);
        for (int k = 0; k < DG_OPS_KINDS; k++) {
            int has = t->peak && t->peak[k];
            /* a 256-bit multiply-add loop does >= 8 ops per cycle of a >= 1 GHz core; the widest
             * loop, an AMX int8 tile dot, at most 2048 per cycle: under 2e13 per thread at any
             * clock a core reaches (4e13 on the 2 threads) */
            CHECK(has ? p[k] > 8e9 && p[k] < 4e13 : p[k] == 0, "%s kind %d: %.3g ops/s", dg_isa_name((dg_isa)isa), k, p[k]);
            printf("%s kind %d: %.1f G/s on 2 threads\n", dg_isa_name((dg_isa)isa), k, p[k] / 1e9);
        }
    }
#if defined(__x86_64__)
    if (dg_isa_available(DG_ISA_AMX)) {
        CHECK(dg_isa_table_get(DG_ISA_AMX)->peak[DG_OPS_FP32] == dg_isa_table_get(DG_ISA_AVX512)->peak[DG_OPS_FP32],
              "amx fp32 loop is not the avx512 one (its fp32 path is AVX-512's)");
        /* 1024 multiply-adds per cycle against at most 2 x 64: far apart however noisy */
        CHECK(peak[DG_ISA_AMX][DG_OPS_INT8] > 2 * peak[DG_ISA_AVX512][DG_OPS_INT8], "amx int8 %.3g <= 2x avx512 int8 %.3g",
              peak[DG_ISA_AMX][DG_OPS_INT8], peak[DG_ISA_AVX512][DG_OPS_INT8]);
    }
#endif
    CHECK(dg_isa_peak(DG_ISA_C, 0, 0.01, peak[0], &err) == DG_ERR_ARG, "0 threads accepted");
    return t_done("test_peak");
}
