/* CPU feature detection and kernel-path selection (AMX -> AVX-512 -> AVX2 -> C). */
#ifndef DG_CORE_CPU_H
#define DG_CORE_CPU_H
#include "dgemma.h"

typedef struct dg_cpu {
    int avx2, fma, f16c;
    int avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16;
    int amx_tile, amx_int8, amx_bf16;
    int amx_usable;     /* kernel granted the tile state (arch_prctl) */
} dg_cpu;

void dg_cpu_detect(dg_cpu *c);
/* Best ISA the CPU supports. */
dg_isa dg_cpu_best_isa(const dg_cpu *c);
/* Resolve a request (AUTO: the best this CPU runs); fails if the CPU lacks it. */
dg_status dg_cpu_resolve_isa(dg_isa want, dg_isa *out, dg_error *err);
/* Parses "amx", "avx512", "avx2", "c"/"portable", "auto". Returns -1 if unknown. */
int dg_isa_parse(const char *s);

#endif
