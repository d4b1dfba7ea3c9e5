/* Self-conditioning inputs of a chosen mean entropy, for `dgemma bench --sc-entropy H`: the
 * vocabulary side of a step (softmax + soft embedding) may cost what the input's entropy lets
 * it cost, so a benchmark must be able to feed what a trained model would produce. */
#ifndef DG_CLI_SC_ENTROPY_H
#define DG_CLI_SC_ENTROPY_H
#include <stdint.h>

/* Fills z [L, V] with logits beta * u: per row, u is a one-hot spike (2.0 at a random token)
 * plus noise on 256 levels in [0, 1]; beta is found by bisection so that the mean softmax
 * entropy per row is H nats (0 <= H <= ln V: one-hot to uniform). Deterministic in seed.
 * Returns beta. */
double cli_sc_fill(float *z, int L, int V, double H, uint64_t seed);

/* Mean softmax entropy per row of z [L, V], in nats, computed directly from the floats. */
double cli_sc_entropy(const float *z, int L, int V);

#endif
