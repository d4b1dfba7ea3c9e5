#include "cli/errstats.h"
#include <math.h>
#include <stddef.h>

void cli_errstats_compute(const float *ref, const float *got, int L, int V, cli_errstats *s) {
    /* one pass of sums in double: N = L * V is at most a few 1e7 logits of magnitude <= softcap */
    double sd = 0, sr = 0, sdd = 0, srr = 0, sdr = 0;
    int agree = 0;
    for (int i = 0; i < L; i++) {
        const float *r = ref + (size_t)i * V, *g = got + (size_t)i * V;
        int ar = 0, ag = 0;
        for (int v = 0; v < V; v++) {
            double d = (double)g[v] - r[v], x = r[v];
            sd += d; sr += x; sdd += d * d; srr += x * x; sdr += d * x;
            if (r[v] > r[ar]) ar = v;
            if (g[v] > g[ag]) ag = v;
        }
        agree += ar == ag;
    }
    double n = (double)L * V, md = sd / n, mr = sr / n;
    double vd = sdd / n - md * md, vr = srr / n - mr * mr, cdr = sdr / n - md * mr;
    *s = (cli_errstats){.agree = agree, .rows = L};
    s->rel_rms = sqrt(sdd / (srr > 0 ? srr : 1));
    s->bias = sdd > 0 ? md / sqrt(sdd / n) : 0;
    s->corr = vd > 0 && vr > 0 ? cdr / sqrt(vd * vr) : 0;
    s->slope = vr > 0 ? 1 + cdr / vr : 1;
    double vg = vr + 2 * cdr + vd;
    s->gain = vr > 0 && vg > 0 ? sqrt(vg / vr) : 1;
}
