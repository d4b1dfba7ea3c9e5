/* CPU feature detection. */
#ifndef DG_CORE_CPU_H
#define DG_CORE_CPU_H
#include "dgemma.h"

typedef struct dg_cpu {
    int avx2, fma, f16c;
    int avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16;
    int amx_tile, amx_int8, amx_bf16;
    int amx_usable;     /* kernel granted the tile state (arch_prctl) */
    int asimd, dotprod, i8mm;   /* AArch64: NEON (ARMv8 baseline), SDOT/UDOT, SMMLA/USDOT */
} dg_cpu;

void dg_cpu_detect(dg_cpu *c);
/* The CPU (and the OS) can run code of this ISA. Which ISAs a build has kernels for is the
 * kernel tables' business (kernels/isa.h). */
int dg_cpu_supports(const dg_cpu *c, dg_isa isa);

#endif
