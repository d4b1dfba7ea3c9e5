/* The environment is read here, in the CLI only: the library takes everything as parameters. */
#include "cli/cli.h"
#include <stdio.h>
#include <stdlib.h>
#include "core/cpu.h"

int cli_env_check(void) {
    const char *isa = getenv("DGEMMA_ISA");
    if (dg_isa_parse(isa) < 0) {
        fprintf(stderr, "dgemma: DGEMMA_ISA=%s: expected auto, c, avx2, avx512, amx, neon, dotprod or i8mm (dgemma kernels lists what runs here)\n", isa);
        return 0;
    }
    return 1;
}

void cli_env_ctx(dg_ctx_params *cp) {
    int isa = dg_isa_parse(getenv("DGEMMA_ISA"));
    if (cp->isa == DG_ISA_AUTO && isa > 0) cp->isa = (dg_isa)isa;
    const char *e8 = getenv("DGEMMA_INT8");
    if (e8 && atoi(e8) > 0) cp->int8 = 1;
}
