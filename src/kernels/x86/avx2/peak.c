/* Register-resident loops of the AVX2 kernels' inner instructions, for peak figures: 12
 * independent accumulators (enough to cover latency on two ports), zeroed first so that no
 * denormal ever appears, in one asm block so that the compiler neither hoists nor drops them. */
#include "kernels/x86/avx2/avx2.h"

#define X12(s) s "%%ymm0\n\t" s "%%ymm1\n\t" s "%%ymm2\n\t" s "%%ymm3\n\t" s "%%ymm4\n\t" s "%%ymm5\n\t" \
               s "%%ymm6\n\t" s "%%ymm7\n\t" s "%%ymm8\n\t" s "%%ymm9\n\t" s "%%ymm10\n\t" s "%%ymm11\n\t"
/* the same, the accumulator as source and destination of the last instruction */
#define A12(s) s "%%ymm0, %%ymm0\n\t" s "%%ymm1, %%ymm1\n\t" s "%%ymm2, %%ymm2\n\t" s "%%ymm3, %%ymm3\n\t" \
               s "%%ymm4, %%ymm4\n\t" s "%%ymm5, %%ymm5\n\t" s "%%ymm6, %%ymm6\n\t" s "%%ymm7, %%ymm7\n\t" \
               s "%%ymm8, %%ymm8\n\t" s "%%ymm9, %%ymm9\n\t" s "%%ymm10, %%ymm10\n\t" s "%%ymm11, %%ymm11\n\t"
#define ZERO "vpxor %%ymm0, %%ymm0, %%ymm0\n\t" "vmovdqa %%ymm0, %%ymm1\n\t" "vmovdqa %%ymm0, %%ymm2\n\t" \
             "vmovdqa %%ymm0, %%ymm3\n\t" "vmovdqa %%ymm0, %%ymm4\n\t" "vmovdqa %%ymm0, %%ymm5\n\t" \
             "vmovdqa %%ymm0, %%ymm6\n\t" "vmovdqa %%ymm0, %%ymm7\n\t" "vmovdqa %%ymm0, %%ymm8\n\t" \
             "vmovdqa %%ymm0, %%ymm9\n\t" "vmovdqa %%ymm0, %%ymm10\n\t" "vmovdqa %%ymm0, %%ymm11\n\t" \
             "vmovdqa %%ymm0, %%ymm12\n\t" "vmovdqa %%ymm0, %%ymm13\n\t" "vmovdqa %%ymm0, %%ymm14\n\t"
#define CLOBBER "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
                "xmm11", "xmm12", "xmm13", "xmm14", "cc"

/* vfmadd231ps: 8 multiply-adds. */
static double fp32(long reps) {
    long n = reps;
    __asm__ volatile(ZERO "1:\n\t" X12("vfmadd231ps %%ymm12, %%ymm13, ") "dec %0\n\tjnz 1b" : "+r"(n) : : CLOBBER);
    return 12.0 * 16 * (double)reps;
}

/* vpmaddwd + vpaddd, as in the int16 path: 16 multiply-adds. */
static double int16(long reps) {
    long n = reps;
    __asm__ volatile(ZERO "1:\n\t" A12("vpmaddwd %%ymm12, %%ymm13, %%ymm14\n\tvpaddd %%ymm14, ") "dec %0\n\tjnz 1b"
                     : "+r"(n) : : CLOBBER);
    return 12.0 * 32 * (double)reps;
}

/* vpmaddubsw + vpmaddwd (pairs summed by ones) + vpaddd, as in the int8 path: 32 multiply-adds. */
static double int8(long reps) {
    long n = reps;
    __asm__ volatile(ZERO "1:\n\t" A12("vpmaddubsw %%ymm12, %%ymm13, %%ymm14\n\tvpmaddwd %%ymm14, %%ymm13, %%ymm14\n\tvpaddd %%ymm14, ")
                     "dec %0\n\tjnz 1b" : "+r"(n) : : CLOBBER);
    return 12.0 * 64 * (double)reps;
}

const dg_peak_fn dg_peak_avx2[DG_OPS_KINDS] = {[DG_OPS_FP32] = fp32, [DG_OPS_INT16] = int16, [DG_OPS_INT8] = int8};
