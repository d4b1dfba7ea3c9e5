/* dgemma kernels: the kernel paths of this build on this CPU, and the one AUTO picks. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

int cmd_kernels(int argc, char **argv) {
    int names_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--available")) names_only = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: dgemma kernels [--available]\n"
                   "  lists every kernel path: built into this dgemma, run by this CPU, chosen automatically;\n"
                   "  --available prints only the names of the paths that run here (for scripts)\n");
            return 0;
        } else { fprintf(stderr, "dgemma: kernels: unknown argument %s\n", argv[i]); return 2; }
    }
    for (int i = DG_ISA_C; i < DG_ISA_COUNT; i++) {
        int st = dg_isa_status((dg_isa)i), ok = (st & DG_ISA_BUILT) && (st & DG_ISA_RUNS);
        if (names_only) { if (ok) printf("%s\n", dg_isa_name((dg_isa)i)); continue; }
        printf("%-8s %-10s %-14s %s\n", dg_isa_name((dg_isa)i), st & DG_ISA_BUILT ? "built" : "not built",
               st & DG_ISA_RUNS ? "CPU has it" : "CPU lacks it",
               !(st & DG_ISA_BUILT) ? "" : st & DG_ISA_AUTOMATIC ? "automatic" : "only by name (DGEMMA_ISA)");
    }
    if (!names_only) printf("AUTO picks: %s\n", dg_isa_name(dg_isa_best()));
    return 0;
}
