/* Peak arithmetic of this CPU: the register-resident loops of each built kernel path the CPU
 * runs (the peaks `dgemma bench` states its share-of-peak figures against), plus a 256-bit
 * AVX-VNNI loop that no kernel of this build uses. Per thread and on all threads at once.
 * usage: build/bench/bench_peak [seconds per loop, default 0.2] */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "kernels/isa.h"

#if defined(__x86_64__)
#define ZCLOB "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
              "xmm11", "xmm12", "xmm13", "cc"
#define Y12(s) s "%%ymm0\n\t" s "%%ymm1\n\t" s "%%ymm2\n\t" s "%%ymm3\n\t" s "%%ymm4\n\t" s "%%ymm5\n\t" \
               s "%%ymm6\n\t" s "%%ymm7\n\t" s "%%ymm8\n\t" s "%%ymm9\n\t" s "%%ymm10\n\t" s "%%ymm11\n\t"
/* AVX-VNNI (VEX-encoded, 256-bit): 32 u8 x s8 multiply-adds */
__attribute__((target("avxvnni"))) static double y_dpbusd(long reps) {
    long n = reps;
    __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\t" "vmovdqa %%ymm0, %%ymm1\n\t" "vmovdqa %%ymm0, %%ymm2\n\t"
                     "vmovdqa %%ymm0, %%ymm3\n\t" "vmovdqa %%ymm0, %%ymm4\n\t" "vmovdqa %%ymm0, %%ymm5\n\t"
                     "vmovdqa %%ymm0, %%ymm6\n\t" "vmovdqa %%ymm0, %%ymm7\n\t" "vmovdqa %%ymm0, %%ymm8\n\t"
                     "vmovdqa %%ymm0, %%ymm9\n\t" "vmovdqa %%ymm0, %%ymm10\n\t" "vmovdqa %%ymm0, %%ymm11\n\t"
                     "vmovdqa %%ymm0, %%ymm12\n\t" "vmovdqa %%ymm0, %%ymm13\n\t"
                     "1:\n\t" Y12("%{vex%} vpdpbusd %%ymm12, %%ymm13, ") "dec %0\n\tjnz 1b" : "+r"(n) : : ZCLOB);
    return 12.0 * 64 * (double)reps;
}
#endif

static void line(const char *what, dg_peak_fn fn, int nt, double sec) {
    double one = dg_peak_rate(fn, 1, sec), all = dg_peak_rate(fn, nt, sec);
    printf("  %-36s %8.1f G/s per thread %8.1f G/s on %d threads\n", what, one / 1e9, all / 1e9, nt);
}

int main(int argc, char **argv) {
    double sec = argc > 1 ? atof(argv[1]) : 0.2;
    if (sec <= 0 || sec > 10) { fprintf(stderr, "usage: bench_peak [seconds per loop, (0, 10]]\n"); return 2; }
    int nt = (int)sysconf(_SC_NPROCESSORS_ONLN);
    char name[256];
    printf("cpu: %s, %d online CPUs\n", dg_cpu_name(name, sizeof name), nt);
    printf("ops: a multiply-add counts 2\n");
    /* each table's loops: their kind, and the instructions they time */
    static const char *kinds[DG_ISA_COUNT][DG_OPS_KINDS] = {
        [DG_ISA_AVX2] = {"fp32 FMA ymm", "int16 vpmaddwd + vpaddd ymm", "int8 vpmaddubsw + vpmaddwd + vpaddd"},
        [DG_ISA_AVX512] = {"fp32 FMA zmm", "int16 vpdpwssd zmm", "int8 vpdpbusd zmm"},
        [DG_ISA_AMX] = {"fp32 FMA zmm", "int16 tdpbusd + tdpbuud", "int8 tdpbusd", "bf16 tdpbf16ps"},
    };
    for (int isa = DG_ISA_C; isa < DG_ISA_COUNT; isa++) {
        const dg_isa_table *t = dg_isa_table_get((dg_isa)isa);
        if (!t || !t->peak || !dg_isa_available((dg_isa)isa)) continue;
        printf("%s kernels:\n", dg_isa_name((dg_isa)isa));
        for (int k = 0; k < DG_OPS_KINDS; k++)
            if (t->peak[k]) line(kinds[isa][k] ? kinds[isa][k] : dg_ops_name((dg_ops)k), t->peak[k], nt, sec);
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avxvnni")) {
        printf("AVX-VNNI (no kernel of this build uses it):\n");
        line("vpdpbusd ymm (u8 x s8)", y_dpbusd, nt, sec);
    }
#endif
    return 0;
}
