/* The sampler step (GENERATION.md §4.2-4.4): rows in parallel over the pool, then the
 * entropy-bound acceptance and the renoise on the calling thread. */
#include "gen/rng.h"
#include "kernels/isa.h"
#include "core/error.h"
#include "core/pool.h"
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct hpos { double H; int pos; } hpos;

struct dg_sampler {
    int L, V;
    dg_pool *pool;
    dg_row_fn row;
    hpos *order;            /* [L] acceptance order scratch */
    dg_row_result *rows;    /* [L] */
    /* the job in flight */
    const float *logits;
    float *pl;
    double invT;
    uint64_t seed;
    int canvas, step;
};

dg_status dg_sampler_new(int L, int V, int n_threads, dg_isa isa, dg_sampler **out, dg_error *err) {
    *out = NULL;
    if (L < 1 || V < 1) return dg_fail(err, DG_ERR_ARG, "sampler: bad geometry L=%d V=%d", L, V);
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)n : 1;
    }
    if (n_threads > L) n_threads = L;     /* one row per task: more threads would idle */
    dg_sampler *s = calloc(1, sizeof *s);
    if (!s) return dg_fail(err, DG_ERR_NOMEM, "sampler: out of memory");
    s->L = L;
    s->V = V;
    s->order = malloc((size_t)L * sizeof *s->order);
    s->rows = malloc((size_t)L * sizeof *s->rows);
    s->pool = dg_pool_new(n_threads);
    if (!s->order || !s->rows || !s->pool) {
        dg_sampler_free(s);
        return dg_fail(err, DG_ERR_NOMEM, "sampler: out of memory (threads %d)", n_threads);
    }
    const dg_isa_table *t;
    dg_status st = dg_isa_resolve(isa, &t, err);
    if (st) {
        dg_sampler_free(s);
        return st;
    }
    s->row = t->sample_row;
    *out = s;
    return DG_OK;
}

void dg_sampler_free(dg_sampler *s) {
    if (!s) return;
    dg_pool_free(s->pool);
    free(s->order);
    free(s->rows);
    free(s);
}

double dg_step_temperature(const dg_gen_params *p, int k) {
    int N = p->max_denoising_steps, n = N - k + 1;
    return p->t_min + ((p->t_max - p->t_min) * n) / N;     /* the contract's evaluation order */
}

static void row_task(void *user, int pos, int thread) {
    dg_sampler *s = user;
    size_t off = (size_t)pos * (size_t)s->V;
    double u = dg_uniform01(dg_rng(s->seed, DG_RNG_SAMPLE, (uint64_t)s->canvas, (uint64_t)s->step, (uint64_t)pos));
    s->row(s->logits + off, s->pl + off, s->V, s->invT, u, &s->rows[pos]);
}

static int cmp_hpos(const void *a, const void *b) {
    const hpos *x = a, *y = b;
    if (x->H < y->H) return -1;
    if (x->H > y->H) return 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

dg_status dg_sampler_step(dg_sampler *s, const dg_gen_params *p, dg_step *st, dg_error *err) {
    const int L = s->L, V = s->V;
    if (st->step < 1 || st->step > p->max_denoising_steps || st->canvas < 0)
        return dg_fail(err, DG_ERR_ARG, "sampler: step %d of %d, canvas %d", st->step, p->max_denoising_steps, st->canvas);
    st->T = dg_step_temperature(p, st->step);
    s->logits = st->logits;
    s->pl = st->pl;
    s->invT = 1.0 / st->T;
    s->seed = p->seed;
    s->canvas = st->canvas;
    s->step = st->step;
    dg_pool_run(s->pool, L, row_task, s);

    double sumH = 0;
    for (int pos = 0; pos < L; pos++) {
        const dg_row_result *r = &s->rows[pos];
        if (!isfinite(r->H))
            return dg_fail(err, DG_ERR_RANGE, "sampler: non-finite logits at canvas %d step %d position %d",
                           st->canvas, st->step, pos);
        st->sampled[pos] = r->token;
        st->argmax[pos] = r->argmax;
        st->entropy[pos] = r->H;
        sumH += r->H;
        s->order[pos].H = r->H;
        s->order[pos].pos = pos;
    }
    st->mean_entropy = sumH / L;

    /* §4.4: exclusive prefix over the (H, pos) order. */
    qsort(s->order, (size_t)L, sizeof *s->order, cmp_hpos);
    double prefix = 0;
    int n_acc = 0;
    for (int i = 0; i < L; i++) {
        int pos = s->order[i].pos;
        int a = prefix <= p->entropy_bound;
        st->accept[pos] = (uint8_t)a;
        n_acc += a;
        prefix += s->order[i].H;
    }
    st->n_accept = n_acc;
    for (int pos = 0; pos < L; pos++)
        st->next[pos] = st->accept[pos] ? st->sampled[pos]
                      : dg_randint(dg_rng(p->seed, DG_RNG_RENOISE, (uint64_t)st->canvas, (uint64_t)st->step, (uint64_t)pos), (uint32_t)V);
    return DG_OK;
}

int dg_stop_test(const dg_gen_params *p, const int32_t *prev, const int32_t *argmax, int L,
                 double mean_entropy, int *run, int *stable, int *confident) {
    /* Equality is transitive, so "equals each of the last s canvases" is "the last s + 1
     * canvases are identical": a run length over consecutive steps suffices. */
    int same = prev != NULL;
    for (int i = 0; same && i < L; i++) same = prev[i] == argmax[i];
    *run = same ? *run + 1 : 0;
    *stable = p->stability_threshold == 0 || *run >= p->stability_threshold;
    *confident = mean_entropy < p->confidence_threshold;
    return *stable && *confident;
}
