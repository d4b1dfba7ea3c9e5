/* The tables' packed attention paths (dg_attpath: K and V packed once, then the tasks' scores
 * Q·Kᵀ and outputs P·V on the packed form) against a double-precision reference, for every
 * table this build has and this CPU runs that has one; odd key counts (partial 16- and 32-key
 * blocks, more keys than one output chunk), odd head widths and row counts; packing in parallel
 * key ranges as the forward pass does it.
 *
 * Bound, per element: |got - ref| <= ATT_TOL * sum_j |a_j b_j| over the terms of that dot (the
 * bf16x3 scheme splits every value into two bf16, |x - hi - lo| <= 2^-17 |x|, and drops lo·lo:
 * about 2^-16 of each term; the tiles accumulate in fp32). Scores are written only in their
 * nk columns of each row. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "isa_list.h"
#include "t.h"

#define ATT_TOL 4e-5
#define PACK_KEYS 256   /* the key range of one packing task (model/attention.c's VT_KEYS) */

static uint64_t rng = 0x2545f4914f6cdd1dull;
static double unif(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static float val(void) { return (float)(unif() * 2 - 1); }

/* |got - sum_j a[j sa] b[j sb]| / sum_j |a[j sa] b[j sb]| over n terms, in double */
static double dot_err(float got, const float *a, size_t sa, const float *b, size_t sb, int n) {
    double ref = 0, mag = 0;
    for (int j = 0; j < n; j++) {
        double t = (double)a[j * sa] * b[j * sb];
        ref += t;
        mag += fabs(t);
    }
    return fabs(got - ref) / mag;
}

/* worst |got - ref| / sum|terms| over the case; -1 when a score outside the nk columns changed */
static double check_case(const dg_attpath *ap, int nk, int D, int n) {
    int lds = nk + 3;
    float *K = malloc(sizeof(float) * nk * D), *V = malloc(sizeof(float) * nk * D), *Q = malloc(sizeof(float) * n * D);
    float *S = malloc(sizeof(float) * n * lds), *P = malloc(sizeof(float) * n * nk), *O = malloc(sizeof(float) * n * D);
    void *kv = aligned_alloc(64, (ap->kv_bytes(nk, D) + 63) / 64 * 64);
    void *scr = aligned_alloc(64, (ap->scratch_bytes(n, D) + 63) / 64 * 64);
    for (int i = 0; i < nk * D; i++) K[i] = val(), V[i] = val();
    for (int i = 0; i < n * D; i++) Q[i] = val();
    for (int i = 0; i < n * nk; i++) P[i] = (float)unif();
    for (int i = 0; i < n * lds; i++) S[i] = 12345.0f;
    for (int t0 = nk - (nk - 1) % PACK_KEYS - 1; t0 >= 0; t0 -= PACK_KEYS)   /* in any order */
        ap->pack(K, V, nk, D, t0, t0 + PACK_KEYS < nk ? t0 + PACK_KEYS : nk, kv);
    ap->scores(kv, nk, D, Q, n, S, lds, scr);
    ap->apply(kv, nk, D, P, n, nk, O, scr);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        for (int t = 0; t < nk; t++) {
            double e = dot_err(S[i * lds + t], Q + i * D, 1, K + t * D, 1, D);
            if (!(e <= worst)) worst = e;   /* NaN counts as worst */
        }
        for (int t = nk; t < lds; t++)
            if (S[i * lds + t] != 12345.0f) worst = -1;
        if (worst < 0) break;
        for (int d = 0; d < D; d++) {
            double e = dot_err(O[i * D + d], P + i * nk, 1, V + d, (size_t)D, nk);
            if (!(e <= worst)) worst = e;
        }
    }
    free(K); free(V); free(Q); free(S); free(P); free(O); free(kv); free(scr);
    return worst;
}

int main(void) {
    dg_isa isas[T_MAX_ISAS];
    int n_isas = t_isas(isas), tested = 0;
    const char *qe = getenv("DG_TEST_QUICK");
    int nks[] = {1, 31, 33, 300, 2100}, Ds[] = {8, 72, 256, 512}, ns[] = {1, 17, 128};
    for (int ii = 0; ii < n_isas; ii++) {
        const dg_attpath *ap = dg_isa_table_get(isas[ii])->att;
        if (!ap) continue;
        tested++;
        double worst = 0;
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 4; b++)
                for (int c = 0; c < 3; c++) {
                    if (qe && (double)nks[a] * Ds[b] * ns[c] > 3e7) continue;
                    double e = check_case(ap, nks[a], Ds[b], ns[c]);
                    CHECK(e >= 0 && e <= ATT_TOL, "%s attention %s: nk=%d D=%d n=%d: %s %.3g (bound %g)",
                          dg_isa_name(isas[ii]), ap->name, nks[a], Ds[b], ns[c],
                          e < 0 ? "scores written outside their columns" : "error / sum|terms|", e, ATT_TOL);
                    if (e > worst) worst = e;
                }
        printf("%s attention %s: worst error %.3g of the terms' magnitude (bound %g)\n", dg_isa_name(isas[ii]), ap->name,
               worst, ATT_TOL);
    }
    if (!tested) return t_skip("test_attpath", "no table this CPU runs has a packed attention path");
    return t_done("test_attpath");
}
