/* dgemma kernels: the kernel paths of this build on this CPU, and the one AUTO picks. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "kernels/isa.h"

/* Does an earlier available path run the same precise path as isa (the fp32 kernels and the row
 * ops; the integer paths, which only the fast path uses, aside)? */
static int precise_seen(dg_isa isa) {
    const dg_isa_table *t = dg_isa_table_get(isa);
    for (int i = DG_ISA_C; i < (int)isa; i++) {
        const dg_isa_table *u = dg_isa_table_get((dg_isa)i);
        if (u && dg_isa_available((dg_isa)i) && u->mr == t->mr && u->mk == t->mk && u->expand == t->expand &&
            u->pack == t->pack && u->softcap == t->softcap && u->softmax == t->softmax && u->sample_row == t->sample_row)
            return 1;
    }
    return 0;
}

int cmd_kernels(int argc, char **argv) {
    int names_only = 0, distinct = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--available")) names_only = 1;
        else if (!strcmp(argv[i], "--precise-distinct")) names_only = distinct = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: dgemma kernels [--available | --precise-distinct]\n"
                   "  lists every kernel path: built into this dgemma, run by this CPU, chosen automatically;\n"
                   "  --available prints only the names of the paths that run here (for scripts);\n"
                   "  --precise-distinct those of them whose precise path (check-golden's) is not an earlier one's\n");
            return 0;
        } else { fprintf(stderr, "dgemma: kernels: unknown argument %s\n", argv[i]); return 2; }
    }
    for (int i = DG_ISA_C; i < DG_ISA_COUNT; i++) {
        int st = dg_isa_status((dg_isa)i), ok = (st & DG_ISA_BUILT) && (st & DG_ISA_RUNS);
        if (names_only) { if (ok && !(distinct && precise_seen((dg_isa)i))) printf("%s\n", dg_isa_name((dg_isa)i)); continue; }
        printf("%-8s %-10s %-14s %s\n", dg_isa_name((dg_isa)i), st & DG_ISA_BUILT ? "built" : "not built",
               st & DG_ISA_RUNS ? "CPU has it" : "CPU lacks it",
               !(st & DG_ISA_BUILT) ? "" : st & DG_ISA_AUTOMATIC ? "automatic" : "only by name (DGEMMA_ISA)");
    }
    if (!names_only) printf("AUTO picks: %s\n", dg_isa_name(dg_isa_best()));
    return 0;
}
