/* Register-resident loops of the AVX-512 kernels' inner instructions, for peak figures: as the
 * AVX2 ones (x86/avx2/peak.c), 12 zeroed zmm accumulators in one asm block. The VNNI dots are
 * the int paths' whole inner step (vnni.c): no separate add. */
#include "kernels/x86/avx512/avx512.h"

#define Z12(s) s "%%zmm0\n\t" s "%%zmm1\n\t" s "%%zmm2\n\t" s "%%zmm3\n\t" s "%%zmm4\n\t" s "%%zmm5\n\t" \
               s "%%zmm6\n\t" s "%%zmm7\n\t" s "%%zmm8\n\t" s "%%zmm9\n\t" s "%%zmm10\n\t" s "%%zmm11\n\t"
#define ZERO "vpxord %%zmm0, %%zmm0, %%zmm0\n\t" "vmovdqa64 %%zmm0, %%zmm1\n\t" "vmovdqa64 %%zmm0, %%zmm2\n\t" \
             "vmovdqa64 %%zmm0, %%zmm3\n\t" "vmovdqa64 %%zmm0, %%zmm4\n\t" "vmovdqa64 %%zmm0, %%zmm5\n\t" \
             "vmovdqa64 %%zmm0, %%zmm6\n\t" "vmovdqa64 %%zmm0, %%zmm7\n\t" "vmovdqa64 %%zmm0, %%zmm8\n\t" \
             "vmovdqa64 %%zmm0, %%zmm9\n\t" "vmovdqa64 %%zmm0, %%zmm10\n\t" "vmovdqa64 %%zmm0, %%zmm11\n\t" \
             "vmovdqa64 %%zmm0, %%zmm12\n\t" "vmovdqa64 %%zmm0, %%zmm13\n\t"
#define CLOBBER "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
                "xmm11", "xmm12", "xmm13", "cc"

/* vfmadd231ps zmm: 16 multiply-adds (the fp32 micro-kernel's) */
double dg_peak_fp32_avx512(long reps) {
    long n = reps;
    __asm__ volatile(ZERO "1:\n\t" Z12("vfmadd231ps %%zmm12, %%zmm13, ") "dec %0\n\tjnz 1b" : "+r"(n) : : CLOBBER);
    return 12.0 * 32 * (double)reps;
}

/* vpdpwssd zmm: 32 s16 x s16 multiply-adds */
double dg_peak_int16_avx512(long reps) {
    long n = reps;
    __asm__ volatile(ZERO "1:\n\t" Z12("vpdpwssd %%zmm12, %%zmm13, ") "dec %0\n\tjnz 1b" : "+r"(n) : : CLOBBER);
    return 12.0 * 64 * (double)reps;
}

/* vpdpbusd zmm: 64 u8 x s8 multiply-adds */
double dg_peak_int8_avx512(long reps) {
    long n = reps;
    __asm__ volatile(ZERO "1:\n\t" Z12("vpdpbusd %%zmm12, %%zmm13, ") "dec %0\n\tjnz 1b" : "+r"(n) : : CLOBBER);
    return 12.0 * 128 * (double)reps;
}
