/* Progress of a checkpoint write on stderr: bytes, percentage, MB/s, at most twice a second. */
#include <stdio.h>
#include <time.h>
#include "cli/cli.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cli_meter_start(cli_meter *m) {
    m->t0 = now_s();
    m->last = 0;
    m->done = 0;
}

void cli_write_progress(void *user, uint64_t done, uint64_t total) {
    cli_meter *m = user;
    double t = now_s();
    m->done = done;
    if (t - m->last < 0.5 && done < total) return;
    m->last = t;
    double el = t - m->t0;
    fprintf(stderr, "\r  %8.2f / %.2f GB  %3.0f%%  %6.0f MB/s", done / 1e9, total / 1e9,
            total ? 100.0 * (double)done / (double)total : 100.0, el > 0 ? done / 1e6 / el : 0.0);
    if (done >= total) fputc('\n', stderr);
    fflush(stderr);
}

double cli_meter_elapsed(const cli_meter *m) { return now_s() - m->t0; }
