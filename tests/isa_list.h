/* The kernel paths a test should cover: every table this build has that this CPU runs. New
 * ISAs join every test that loops over this list. */
#ifndef DG_TESTS_ISA_LIST_H
#define DG_TESTS_ISA_LIST_H
#include <stdio.h>
#include "core/cpu.h"
#include "kernels/isa.h"

#define T_MAX_ISAS 8
static inline int t_isas(dg_isa out[T_MAX_ISAS]) {
    dg_cpu cpu;
    dg_cpu_detect(&cpu);
    int n = 0;
    for (int i = DG_ISA_C; i <= DG_ISA_I8MM && n < T_MAX_ISAS; i++) {
        if (!dg_isa_table_get((dg_isa)i)) continue;
        if (dg_cpu_supports(&cpu, (dg_isa)i)) out[n++] = (dg_isa)i;
        else printf("kernel path %s: built, but this CPU cannot run it (not tested)\n", dg_isa_name((dg_isa)i));
    }
    return n;
}
#endif
