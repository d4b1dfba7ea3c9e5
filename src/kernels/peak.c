/* Peak arithmetic rates of a kernel path: its table's register-resident loops, on n threads at
 * once (two threads of one core share its ports, so only a joint run says what the threads of
 * a context can reach). Each thread's rate is per second of its own CPU time: on a shared
 * machine wall time would measure the other tenants, not the core. */
#include <pthread.h>
#include <time.h>
#include "kernels/isa.h"

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct { dg_peak_fn fn; long reps; double rate; } peak_run;

static void *peak_thread(void *user) {
    peak_run *r = user;
    double t0 = cpu_now(), ops = r->fn(r->reps), dt = cpu_now() - t0;
    r->rate = dt > 0 ? ops / dt : 0;
    return NULL;
}

#define MAX_THREADS 256

double dg_peak_rate(dg_peak_fn fn, int n_threads, double seconds) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > MAX_THREADS) n_threads = MAX_THREADS;
    /* calibrate on one thread, then run every thread for about `seconds` */
    peak_run cal = {fn, 1 << 16, 0};
    peak_thread(&cal);
    long reps = cal.rate > 0 ? (long)(cal.rate * seconds / fn(1)) + 1 : 1 << 16;
    peak_run runs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    int started = 1;
    for (int i = 0; i < n_threads; i++) runs[i] = (peak_run){fn, reps, 0};
    for (int i = 1; i < n_threads && !pthread_create(&th[i], NULL, peak_thread, &runs[i]); i++) started = i + 1;
    peak_thread(&runs[0]);
    for (int i = 1; i < started; i++) pthread_join(th[i], NULL);
    double rate = 0;
    for (int i = 0; i < started; i++) rate += runs[i].rate;
    return rate;
}

dg_status dg_isa_peak(dg_isa isa, int n_threads, double seconds, double peak[DG_OPS_KINDS], dg_error *err) {
    const dg_isa_table *t;
    dg_status st = dg_isa_resolve(isa, &t, err);
    if (st) return st;
    if (n_threads < 1 || n_threads > MAX_THREADS) return dg_fail(err, DG_ERR_ARG, "peak: %d threads (1..%d)", n_threads, MAX_THREADS);
    for (int k = 0; k < DG_OPS_KINDS; k++)
        peak[k] = t->peak && t->peak[k] ? dg_peak_rate(t->peak[k], n_threads, seconds) : 0;
    return DG_OK;
}

const char *dg_ops_name(dg_ops kind) {
    static const char *names[DG_OPS_KINDS] = {"fp32", "int16", "int8", "bf16"};
    return (unsigned)kind < DG_OPS_KINDS ? names[kind] : "?";
}
