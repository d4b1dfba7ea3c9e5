/* Row operations: every kernel path's softcap, softmax and GELU against double-precision references. */
#include <math.h>
#include <stdlib.h>
#include "isa_list.h"
#include "t.h"

static double uni(unsigned long long *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) * 0x1.0p-53;
}

int main(void) {
    dg_isa isas[T_MAX_ISAS];
    int n_isas = t_isas(isas);
    const int n = 262144 + 7;
    float *z = malloc(n * sizeof *z), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    unsigned long long s = 42;
    for (int i = 0; i < n; i++) z[i] = (float)((uni(&s) - 0.5) * 240.0);   /* pre-softcap logits, |z| < 120 */
    z[0] = 0.0f; z[1] = 1e-8f; z[2] = -0.3f; z[3] = 18.75f;
    for (int pass = 0; pass < n_isas; pass++) {
        dg_isa isa = isas[pass];
        const dg_isa_table *t = dg_isa_table_get(isa);
        double worst = 0;
        for (int i = 0; i < n; i++) a[i] = z[i];
        t->softcap(a, n, 30.0);
        for (int i = 0; i < n; i++) {
            double ref = 30.0 * tanh((double)z[i] / 30.0), err = fabs(a[i] - ref);
            if (err > worst) worst = err;
        }
        CHECK(worst <= 8e-6, "%s softcap max abs err %.3e", dg_isa_name(isa), worst);
        printf("%s softcap: max abs err %.3e over %d values\n", dg_isa_name(isa), worst, n);
        for (int i = 0; i < n; i++) b[i] = z[i] / 0.6f / 4.0f;
        for (int i = 0; i < n; i++) a[i] = b[i];
        t->softmax(a, n);
        double mx = -INFINITY, sum = 0, rel = 0, tot = 0;
        for (int i = 0; i < n; i++) if (b[i] > mx) mx = b[i];
        for (int i = 0; i < n; i++) sum += exp((double)b[i] - mx);
        for (int i = 0; i < n; i++) {
            double ref = exp((double)b[i] - mx) / sum;
            tot += a[i];
            if (ref > 1e-30) { double r = fabs(a[i] - ref) / ref; if (r > rel) rel = r; }
        }
        CHECK(rel <= 4e-6, "%s softmax max rel err %.3e", dg_isa_name(isa), rel);
        CHECK(fabs(tot - 1.0) < 1e-4, "%s softmax sums to %.8f", dg_isa_name(isa), tot);
        printf("%s softmax: max rel err %.3e, sum %.8f\n", dg_isa_name(isa), rel, tot);
        /* GELU x up: pre-activations of |x| < 12 (b), up projections z; the error
         * relative to |x u| (tanh's ~1 ulp near +-1 is an absolute error on 1 + tanh) */
        for (int i = 0; i < n; i++) b[i] = z[i] / 10.0f;
        t->gelu_mul(a, b, z, n);
        double gw = 0;
        for (int i = 0; i < n; i++) {
            double x = b[i], u = z[i];
            double ref = 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))) * u;
            double scale = fabs(x * u) > 1e-30 ? fabs(x * u) : 1e-30, r = fabs(a[i] - ref) / scale;
            if (r > gw) gw = r;
        }
        CHECK(gw <= 4e-7, "%s gelu_mul max err %.3e of |x u|", dg_isa_name(isa), gw);
        printf("%s gelu_mul: max err %.3e of |x u| over %d values\n", dg_isa_name(isa), gw, n);
    }
    free(z); free(a); free(b);
    return t_done("test_ops");
}
