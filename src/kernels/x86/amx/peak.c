/* Register-resident loops of the AMX tile dots, for peak figures: six zeroed C tiles (tmm0..5:
 * at one dot per 16 cycles a tile's next dot comes 96 cycles on, past its latency; two tiles
 * already measured the same rate on the Xeon here) fed by one A (tmm6) and one B (tmm7), the
 * tiles configured and released inside the one asm block.
 * A tile dot is 16 x 16 C elements by K = 64 bytes of A row: 16 * 16 * 64 byte products. */
#include "kernels/x86/amx/amx.h"

/* palette 1, all 8 tiles 16 rows x 64 bytes (qgemm.c's configuration) */
static const struct { uint8_t palette, start_row, pad0[14]; uint16_t colsb[16]; uint8_t rows[16]; }
    __attribute__((aligned(64))) tilecfg = {1, 0, {0}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};

#define ZERO "tilezero %%tmm0\n\t" "tilezero %%tmm1\n\t" "tilezero %%tmm2\n\t" "tilezero %%tmm3\n\t" \
             "tilezero %%tmm4\n\t" "tilezero %%tmm5\n\t" "tilezero %%tmm6\n\t" "tilezero %%tmm7\n\t"
#define C6(s0, s1) s0 " %%tmm7, %%tmm6, %%tmm0\n\t" s1 " %%tmm7, %%tmm6, %%tmm1\n\t" s0 " %%tmm7, %%tmm6, %%tmm2\n\t" \
                   s1 " %%tmm7, %%tmm6, %%tmm3\n\t" s0 " %%tmm7, %%tmm6, %%tmm4\n\t" s1 " %%tmm7, %%tmm6, %%tmm5\n\t"
#define LOOP(s0, s1) __asm__ volatile("ldtilecfg %1\n\t" ZERO "1:\n\t" C6(s0, s1) "dec %0\n\tjnz 1b\n\ttilerelease" \
                                      : "+r"(n) : "m"(tilecfg) : "cc", "memory")

/* tdpbusd: 16 * 16 * 64 u8 x s8 multiply-adds, the int8 path's one dot per 64-column block */
double dg_peak_int8_amx(long reps) {
    long n = reps;
    LOOP("tdpbusd", "tdpbusd");
    return 6.0 * 16 * 16 * 64 * 2 * (double)reps;
}

/* The int16 path's dots: a 64-column block of int16 activations takes two tile dots, tdpbusd
 * (high bytes) and tdpbuud (low bytes), so it does 16 * 16 * 64 multiply-adds per pair: half
 * the int8 rate. */
double dg_peak_int16_amx(long reps) {
    long n = reps;
    LOOP("tdpbusd", "tdpbuud");
    return 3.0 * 16 * 16 * 64 * 2 * (double)reps;
}

/* tdpbf16ps: 16 * 16 * 32 bf16 multiply-adds into fp32. AMX-BF16 is not among the amx table's
 * CPU requirements (dg_cpu_supports); every AMX CPU so far has it. */
double dg_peak_bf16_amx(long reps) {
    long n = reps;
    LOOP("tdpbf16ps", "tdpbf16ps");
    return 6.0 * 16 * 16 * 32 * 2 * (double)reps;
}
