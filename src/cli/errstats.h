/* How one path's logits differ from the reference's, for `dgemma compare`: the size of the error
 * and whether it is noise or bias. Noise (rounding, a different summation order) has a mean near
 * 0 and does not follow the reference; a bug usually does one or the other: an offset shows in
 * `bias`, a wrong scale in `corr` and `slope` (got ~ slope * ref). */
#ifndef DG_CLI_ERRSTATS_H
#define DG_CLI_ERRSTATS_H

typedef struct cli_errstats {
    double rel_rms;   /* sqrt(sum d^2 / sum ref^2), d = got - ref */
    double bias;      /* mean(d) / rms(d), in [-1, 1]: ~0 noise, +-1 a pure offset */
    double corr;      /* correlation of d with ref: corr^2 of the error variance is a scale error */
    double slope;     /* least-squares slope of got on ref: 1 + cov(d, ref) / var(ref) */
    double gain;      /* sd(got) / sd(ref): a scale error moves it with the slope; an output that
                       * merely decorrelated (chaos: slope -> 0, corr -> -1/sqrt 2) keeps it near 1 */
    int agree, rows;  /* rows whose argmax is the same */
} cli_errstats;

/* ref, got: [L, V] row-major. */
void cli_errstats_compute(const float *ref, const float *got, int L, int V, cli_errstats *s);

#endif
