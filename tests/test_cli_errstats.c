/* dgemma compare's noise-vs-bias figures (src/cli/errstats.c) on errors of a known kind: noise
 * must read as noise (bias, corr ~ 0, slope ~ 1), an offset as bias, a scale error as corr ~ 1
 * and its slope; the relative RMS and the argmax agreement are what they should be. */
#include <math.h>
#include <string.h>
#include "cli/errstats.h"
#include "t.h"

enum { L = 8, V = 4096 };

static double uni(unsigned long long *s) {   /* uniform in [-1, 1) */
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / (double)(1ULL << 52) - 1;
}

int main(void) {
    static float ref[L * V], got[L * V];
    unsigned long long s = 42;
    for (int i = 0; i < L * V; i++) ref[i] = (float)(5 * uni(&s));   /* rms 5 / sqrt 3 */
    cli_errstats e;

    cli_errstats_compute(ref, ref, L, V, &e);
    CHECK(e.rel_rms == 0 && e.bias == 0 && e.corr == 0 && e.slope == 1 && e.agree == L && e.rows == L,
          "identical: rel %g bias %g corr %g slope %g agree %d", e.rel_rms, e.bias, e.corr, e.slope, e.agree);

    /* noise of rms 0.01 * 5 / sqrt 3: rel RMS 1%, no bias, no scale */
    for (int i = 0; i < L * V; i++) got[i] = ref[i] + (float)(0.05 * uni(&s));
    cli_errstats_compute(ref, got, L, V, &e);
    CHECK(fabs(e.rel_rms - 0.01) < 0.0005, "noise: rel RMS %g, want 0.01", e.rel_rms);
    CHECK(fabs(e.bias) < 0.03 && fabs(e.corr) < 0.03 && fabs(e.slope - 1) < 1e-3 && fabs(e.gain - 1) < 1e-3,
          "noise read as bias: bias %g corr %g slope %g gain %g", e.bias, e.corr, e.slope, e.gain);

    /* the same noise (rms 0.05 / sqrt 3) plus an offset of 0.05: bias = 1 / sqrt(1 + 1/3) ~ 0.87 */
    for (int i = 0; i < L * V; i++) got[i] += 0.05f;
    cli_errstats_compute(ref, got, L, V, &e);
    CHECK(fabs(e.bias - 0.866) < 0.03, "offset: bias %g, want 0.87", e.bias);
    CHECK(fabs(e.slope - 1) < 1e-3, "an offset is no scale error: slope %g", e.slope);

    /* a scale error of 2%: the error is the reference times 0.02 */
    for (int i = 0; i < L * V; i++) got[i] = 1.02f * ref[i];
    cli_errstats_compute(ref, got, L, V, &e);
    CHECK(fabs(e.slope - 1.02) < 1e-5 && e.corr > 0.999 && fabs(e.gain - 1.02) < 1e-5, "scale: slope %g corr %g gain %g",
          e.slope, e.corr, e.gain);
    CHECK(fabs(e.rel_rms - 0.02) < 1e-5 && e.agree == L, "scale: rel RMS %g agree %d", e.rel_rms, e.agree);
    for (int i = 0; i < L * V; i++) got[i] = 0.98f * ref[i];
    cli_errstats_compute(ref, got, L, V, &e);
    CHECK(fabs(e.slope - 0.98) < 1e-5 && e.corr < -0.999, "scale down: slope %g corr %g", e.slope, e.corr);

    /* an output unrelated to the reference but of its size (what chaos makes of it): slope ~ 0,
     * corr ~ -1/sqrt 2, gain ~ 1, rel RMS ~ sqrt 2 */
    for (int i = 0; i < L * V; i++) got[i] = (float)(5 * uni(&s));
    cli_errstats_compute(ref, got, L, V, &e);
    CHECK(fabs(e.slope) < 0.03 && fabs(e.corr + 0.7071) < 0.02 && fabs(e.gain - 1) < 0.02 && fabs(e.rel_rms - 1.4142) < 0.02,
          "decorrelated: slope %g corr %g gain %g rel %g", e.slope, e.corr, e.gain, e.rel_rms);

    /* one row's argmax moved: the agreement counts it */
    memcpy(got, ref, sizeof got);
    got[3 * V + 17] = 100;
    cli_errstats_compute(ref, got, L, V, &e);
    CHECK(e.agree == L - 1 && e.rows == L, "argmax agreement %d/%d, want %d", e.agree, e.rows, L - 1);
    return t_done("test_cli_errstats");
}
