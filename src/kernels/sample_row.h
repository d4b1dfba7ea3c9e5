/* One canvas position of the sampler contract (GENERATION.md §4.3): from a row of V fp32
 * softcapped logits at temperature T, the sampled token, the argmax, the entropy of
 * softmax(logits / T), and the processed logits pl = logits / T (next step's self-conditioning).
 *
 * Precision (§4.6): w_v = exp((l_v - l_max) / T) in fp32 from the raw logits, S, the entropy sum
 * and the running sum in double. The row is walked four times: max, exp+sums (per-block sums
 * kept), sample (re-exponentiates only the block where the running sum crosses t), pl.
 * pl is written last so that it may alias logits. */
#ifndef DG_KERNELS_SAMPLE_ROW_H
#define DG_KERNELS_SAMPLE_ROW_H
#include <stdint.h>

typedef struct dg_row_result {
    double S;           /* sum of w_v */
    double H;           /* entropy in nats; NaN if the row had non-finite logits */
    int32_t token;      /* sampled token */
    int32_t argmax;     /* first index of the max */
} dg_row_result;

/* u = uniform01(rng(seed, 2, c, k, pos)); invT = 1/T computed in double. */
typedef void (*dg_row_fn)(const float *logits, float *pl, int V, double invT, double u, dg_row_result *r);

/* Implementations: one per ISA table (kernels/isa.h, sample_row). */

/* Block layout shared by the kernels: at most DG_ROW_MAX_BLOCKS blocks of a multiple of 8. */
#define DG_ROW_MAX_BLOCKS 1024
static inline int dg_row_block(int V) {
    int nb = (V + 1023) / 1024;
    if (nb > DG_ROW_MAX_BLOCKS) nb = DG_ROW_MAX_BLOCKS;
    if (nb < 1) nb = 1;
    int b = (V + nb - 1) / nb;
    return (b + 7) & ~7;
}

/* exp(x) for x <= 0 in fp32 (Cephes expf polynomial, ~1 ulp); 0 below -87 (e^-87 ~ 1.6e-38 is
 * negligible next to the max term, which is 1). */
#define DG_EXP_CUT (-87.0f)
#define DG_EXP_LOG2E 1.44269504088896341f
#define DG_EXP_C1 0.693359375f
#define DG_EXP_C2 (-2.12194440e-4f)
#define DG_EXP_P0 1.9875691500e-4f
#define DG_EXP_P1 1.3981999507e-3f
#define DG_EXP_P2 8.3334519073e-3f
#define DG_EXP_P3 4.1665795894e-2f
#define DG_EXP_P4 1.6666665459e-1f
#define DG_EXP_P5 5.0000001201e-1f

#endif
