/* Peak loops (kernels/peak.c, the avx2 table's loops): every built path that has loops gives a
 * plausible positive rate for each of them and 0 where it has none; bad thread counts fail. */
#include <math.h>
#include <stdio.h>
#include "kernels/isa.h"
#include "t.h"

int main(void) {
    (void)t_golden;
    dg_error err = {0};
    double peak[DG_OPS_KINDS];
    for (int isa = DG_ISA_C; isa < DG_ISA_COUNT; isa++) {
        const dg_isa_table *t = dg_isa_table_get((dg_isa)isa);
        if (!t || !dg_isa_available((dg_isa)isa)) continue;
        CHECK(!dg_isa_peak((dg_isa)isa, 2, 0.02, peak, &err), "%s: %s", dg_isa_name((dg_isa)isa), err.msg);
        for (int k = 0; k < DG_OPS_KINDS; k++) {
            int has = t->peak && t->peak[k];
            /* a 256-bit multiply-add loop does >= 8 ops per cycle of a >= 1 GHz core; no core
             * does 10 T per thread */
            CHECK(has ? peak[k] > 8e9 && peak[k] < 2e13 : peak[k] == 0, "%s kind %d: %.3g ops/s", dg_isa_name((dg_isa)isa), k, peak[k]);
            printf("%s kind %d: %.1f G/s on 2 threads\n", dg_isa_name((dg_isa)isa), k, peak[k] / 1e9);
        }
    }
    CHECK(dg_isa_peak(DG_ISA_C, 0, 0.01, peak, &err) == DG_ERR_ARG, "0 threads accepted");
    return t_done("test_peak");
}
