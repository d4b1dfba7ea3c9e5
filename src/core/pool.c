#include "core/pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct dg_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;   /* bumped per job so workers notice a new one */
    int quit;
    int active;                 /* workers still inside the current job */
    dg_task_fn fn;
    void *user;
    int n_tasks;
    atomic_int next;
    /* task-balance counts (dg_pool_count_tasks): tasks taken per thread in the current run,
     * one cache line each, and the per-region sums */
    int *taken;
    dg_task_balance *regions;
    int n_regions;
};

#define TAKEN_STRIDE 16   /* ints per thread: 64 bytes */

typedef struct { dg_pool *p; int id; } worker_arg;

static void work(dg_pool *p, int id) {
    for (;;) {
        int t = atomic_fetch_add(&p->next, 1);
        if (t >= p->n_tasks) break;
        p->fn(p->user, t, id);
        if (p->taken) p->taken[id * TAKEN_STRIDE]++;
    }
}

int dg_pool_count_tasks(dg_pool *p) {
    if (!p->taken) p->taken = calloc((size_t)p->n * TAKEN_STRIDE, sizeof *p->taken);
    if (!p->regions) p->regions = calloc(DG_POOL_REGIONS, sizeof *p->regions);
    return p->taken && p->regions;
}

int dg_pool_regions(const dg_pool *p, dg_task_balance *out, int max) {
    int n = 0;
    for (; p->regions && n < p->n_regions && n < max; n++) out[n] = p->regions[n];
    return n;
}

/* After a run: fold the per-thread counts into the region's sums (calling thread only). */
static void count_run(dg_pool *p, const char *region, int n_tasks) {
    if (!p->taken || !p->regions) return;
    int mx = 0;
    for (int i = 0; i < p->n; i++) {
        if (p->taken[i * TAKEN_STRIDE] > mx) mx = p->taken[i * TAKEN_STRIDE];
        p->taken[i * TAKEN_STRIDE] = 0;
    }
    dg_task_balance *r = NULL;
    for (int i = 0; i < p->n_regions && !r; i++)
        if (p->regions[i].loop == region || !strcmp(p->regions[i].loop, region)) r = &p->regions[i];
    if (!r && p->n_regions < DG_POOL_REGIONS) {
        r = &p->regions[p->n_regions++];
        r->loop = region;
    }
    if (!r) return;
    r->runs++;
    r->tasks += n_tasks;
    r->max_thread += mx;
    r->fair += (n_tasks + p->n - 1) / p->n;
    r->idle += n_tasks < p->n ? p->n - n_tasks : 0;
}

static void *worker_main(void *arg) {
    worker_arg *wa = arg;
    dg_pool *p = wa->p;
    int id = wa->id;
    free(wa);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        work(p, id);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

dg_pool *dg_pool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    dg_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    if (!p->threads) { free(p); return NULL; }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) { p->n = i; dg_pool_free(p); return NULL; }
        wa->p = p;
        wa->id = i;
        if (pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
            free(wa);
            p->n = i;
            dg_pool_free(p);
            return NULL;
        }
    }
    return p;
}

void dg_pool_free(dg_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p->taken);
    free(p->regions);
    free(p);
}

int dg_pool_size(const dg_pool *p) { return p->n; }

int dg_pool_parts(const dg_pool *p, int unit, int lo, int hi) {
    const long T = p->n;
    if (lo < 1) lo = 1;
    if (hi < lo || (long)unit * lo >= 8 * T) return lo;
    int best = lo;
    double fill = 0;
    for (int k = lo; k <= hi; k++) {
        long n = (long)unit * k;
        double f = (double)n / ((double)T * (double)((n + T - 1) / T));
        if (f > fill + 1e-9) { fill = f; best = k; }
    }
    return best;
}

void dg_pool_run_as(dg_pool *p, const char *region, int n_tasks, dg_task_fn fn, void *user) {
    if (n_tasks <= 0) return;
    if (p->n == 1 || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(user, t, 0);
        if (p->taken) p->taken[0] += n_tasks;
        count_run(p, region, n_tasks);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->user = user;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->active = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    work(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->active > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    count_run(p, region, n_tasks);
}
