#include "server/metrics.h"
#include <string.h>

static const char *const ep_names[M_EP_N] = {"chat_completions", "completions", "models", "health", "metrics", "other"};
static const int step_bounds[M_STEP_BUCKETS] = {1, 2, 4, 8, 12, 16, 24, 32, 48, 64};

void metrics_init(metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void metrics_destroy(metrics *m) { pthread_mutex_destroy(&m->mu); }

void metrics_request(metrics *m, int ep, int code) {
    if (ep < 0 || ep >= M_EP_N) ep = M_EP_OTHER;
    pthread_mutex_lock(&m->mu);
    int i = 0;
    while (i < m->n_codes && m->codes[i] != code) i++;
    if (i == m->n_codes && m->n_codes < M_MAX_CODES) m->codes[m->n_codes++] = code;
    if (i < m->n_codes) m->req[ep][i]++;
    pthread_mutex_unlock(&m->mu);
}

#define BUMP(field, v) do { pthread_mutex_lock(&m->mu); m->field += (v); pthread_mutex_unlock(&m->mu); } while (0)
void metrics_rejected(metrics *m) { BUMP(rejected, 1); }
void metrics_cancelled(metrics *m) { BUMP(cancelled, 1); }
void metrics_busy(metrics *m, double s) { BUMP(busy_seconds, s); }

void metrics_step(metrics *m, int rows, double s) {
    pthread_mutex_lock(&m->mu);
    m->steps++;
    m->batch_rows += (unsigned long long)rows;
    m->step_seconds += s;
    pthread_mutex_unlock(&m->mu);
}

void metrics_canvas(metrics *m, int steps, int early_halt, int committed) {
    int b = 0;
    while (b < M_STEP_BUCKETS && steps > step_bounds[b]) b++;
    pthread_mutex_lock(&m->mu);
    m->canvases++;
    m->early_halts += early_halt ? 1 : 0;
    m->committed += (unsigned long long)committed;
    m->steps_hist[b]++;
    m->canvas_steps += (unsigned long long)steps;
    pthread_mutex_unlock(&m->mu);
}

void metrics_prefill(metrics *m, int tokens, double s) {
    pthread_mutex_lock(&m->mu);
    m->prompt_tokens += (unsigned long long)tokens;
    m->prefill_seconds += s;
    pthread_mutex_unlock(&m->mu);
}

void metrics_render(metrics *m, int queue_depth, int active, int max_batch, dg_sb *o) {
    pthread_mutex_lock(&m->mu);
    metrics c = *m;     /* a consistent snapshot; format outside the lock */
    pthread_mutex_unlock(&m->mu);
    dg_sb_puts(o, "# HELP dgemma_requests_total HTTP requests by endpoint and status code.\n# TYPE dgemma_requests_total counter\n");
    for (int e = 0; e < M_EP_N; e++)
        for (int i = 0; i < c.n_codes; i++)
            if (c.req[e][i]) dg_sb_printf(o, "dgemma_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n", ep_names[e], c.codes[i], c.req[e][i]);
    dg_sb_printf(o, "# HELP dgemma_requests_rejected_total Requests refused because the queue was full (503).\n"
                  "# TYPE dgemma_requests_rejected_total counter\ndgemma_requests_rejected_total %llu\n", c.rejected);
    dg_sb_printf(o, "# HELP dgemma_requests_cancelled_total Generations cancelled (client gone, shutdown).\n"
                  "# TYPE dgemma_requests_cancelled_total counter\ndgemma_requests_cancelled_total %llu\n", c.cancelled);
    dg_sb_printf(o, "# HELP dgemma_queue_depth Requests waiting for a batch slot.\n# TYPE dgemma_queue_depth gauge\ndgemma_queue_depth %d\n", queue_depth);
    dg_sb_printf(o, "# HELP dgemma_batch_active Requests being denoised now.\n# TYPE dgemma_batch_active gauge\ndgemma_batch_active %d\n", active);
    dg_sb_printf(o, "# HELP dgemma_batch_max Batch slots (--max-batch).\n# TYPE dgemma_batch_max gauge\ndgemma_batch_max %d\n", max_batch);
    dg_sb_puts(o, "# HELP dgemma_steps_per_canvas Decoder steps executed per committed canvas.\n# TYPE dgemma_steps_per_canvas histogram\n");
    unsigned long long cum = 0, sum_steps = 0;
    for (int b = 0; b < M_STEP_BUCKETS; b++) {
        cum += c.steps_hist[b];
        dg_sb_printf(o, "dgemma_steps_per_canvas_bucket{le=\"%d\"} %llu\n", step_bounds[b], cum);
    }
    cum += c.steps_hist[M_STEP_BUCKETS];
    sum_steps = c.canvas_steps;
    dg_sb_printf(o, "dgemma_steps_per_canvas_bucket{le=\"+Inf\"} %llu\ndgemma_steps_per_canvas_sum %llu\ndgemma_steps_per_canvas_count %llu\n",
               cum, sum_steps, c.canvases);
    dg_sb_printf(o, "# HELP dgemma_step_seconds Wall time of batched denoising steps (one decoder pass + samplers).\n"
                  "# TYPE dgemma_step_seconds summary\ndgemma_step_seconds_sum %.6f\ndgemma_step_seconds_count %llu\n",
               c.step_seconds, c.steps);
    dg_sb_printf(o, "# HELP dgemma_step_batch_rows_total Canvases denoised over all steps (mean batch = rows / steps).\n"
                  "# TYPE dgemma_step_batch_rows_total counter\ndgemma_step_batch_rows_total %llu\n", c.batch_rows);
    dg_sb_printf(o, "# HELP dgemma_canvases_total Committed canvases.\n# TYPE dgemma_canvases_total counter\ndgemma_canvases_total %llu\n", c.canvases);
    dg_sb_printf(o, "# HELP dgemma_early_halts_total Canvases halted by the stable-and-confident rule before max steps.\n"
                  "# TYPE dgemma_early_halts_total counter\ndgemma_early_halts_total %llu\n", c.early_halts);
    dg_sb_printf(o, "# HELP dgemma_committed_tokens_total Tokens committed (before EOS, pads excluded).\n"
                  "# TYPE dgemma_committed_tokens_total counter\ndgemma_committed_tokens_total %llu\n", c.committed);
    dg_sb_printf(o, "# HELP dgemma_prompt_tokens_total Prompt tokens prefilled.\n# TYPE dgemma_prompt_tokens_total counter\n"
                  "dgemma_prompt_tokens_total %llu\n", c.prompt_tokens);
    dg_sb_printf(o, "# HELP dgemma_prefill_seconds_total Time spent in prefill.\n# TYPE dgemma_prefill_seconds_total counter\n"
                  "dgemma_prefill_seconds_total %.6f\n", c.prefill_seconds);
    dg_sb_printf(o, "# HELP dgemma_busy_seconds_total Scheduler time with work (prefill, steps, commits).\n"
                  "# TYPE dgemma_busy_seconds_total counter\ndgemma_busy_seconds_total %.6f\n", c.busy_seconds);
    dg_sb_printf(o, "# HELP dgemma_committed_tokens_per_second Committed tokens / busy seconds, all requests together.\n"
                  "# TYPE dgemma_committed_tokens_per_second gauge\ndgemma_committed_tokens_per_second %.3f\n",
               c.busy_seconds > 0 ? (double)c.committed / c.busy_seconds : 0.0);
}
