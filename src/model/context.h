/* Per-context state: thread pool, kernels, K/V caches of each sequence, and every scratch
 * buffer of the forward pass, all allocated once in dg_ctx_new. */
#ifndef DG_MODEL_CONTEXT_H
#define DG_MODEL_CONTEXT_H
#include "core/pool.h"
#include "kernels/gemm.h"
#include "model/kv_cache.h"
#include "model/model.h"

typedef struct dg_seq {
    int len;            /* tokens encoded so far (next position) */
    dg_kv *kv;          /* per layer */
} dg_seq;

/* A run of rows of one sequence inside a forward pass. */
typedef struct dg_span {
    int seq;            /* index into ctx->seqs */
    int row0, rows;     /* rows of the activation matrices */
    int pos0;           /* absolute position of the first row */
} dg_span;

struct dg_ctx {
    const dg_model *m;
    dg_pool *pool;
    dg_kernels k;
    int n_threads, max_tokens, n_seq, max_chunk, max_rows;
    dg_seq *seqs;
    /* activations, max_rows rows each */
    float *x, *xn, *r, *a, *q, *kn, *vn, *att, *h1, *g, *u, *m1, *m2;
    float *slot_out;            /* [max_rows, top_k, H]: expert outputs before the weighted sum */
    int *route_idx;             /* [max_rows, top_k] */
    float *route_w;             /* [max_rows, top_k] */
    float *router_logits;       /* [max_rows, E] */
    int *exp_count, *exp_rows;  /* per expert: count; rows list [E][max_rows] as (row*K + slot) */
    int *exp_order, n_active;   /* experts with rows, most rows first (the task order), and their count */
    float **exp_scratch;        /* per thread: gathered rows + gate_up + act */
    float **att_scratch;        /* per thread: scores of att_rows query rows over att_keys
                                   keys, those queries and their outputs (Dmax wide) */
    int att_rows;               /* DG_ATT_ROWS, or the heads of one kv head if more */
    int att_keys;               /* most keys a layer attends: max_tokens + max_rows */
    size_t att_pscr;            /* where in att_scratch the packed path's scratch starts (floats) */
    float *att_vt;              /* one layer's V transposed, [n_kv][D][keys], or its K/V packed
                                   for the table's attention path */
    int *sc_idx, *sc_cnt;       /* fast path: per canvas row, the tokens of a sparse soft
                                   embedding row [canvas][DG_SC_CAP] and their count (-1 dense) */
    float *rope_cs, *rope_sn;   /* [max_rows, Dmax/2] for the current pass, per layer type */
    double *inv_freq_s, *inv_freq_f;
    dg_tap_fn tap;
    void *tap_user;
    dg_step_profile prof;
    dg_expert_load *exp_load;   /* [n_layers]: the last step's load per decoder layer */
    int part;                   /* DG_PART_*: where the pass is, for the profile's flops */
};

/* Most tokens a soft-embedding row is summed over sparsely (vocab.c): a sparse row costs about
 * cap row expansions of E, a dense one a share of a GEMM over all 262,144 rows. */
#define DG_SC_CAP 4096

/* One forward pass over the rows of several spans. */
typedef struct dg_pass {
    dg_ctx *c;
    const dg_span *sp;
    int nsp, S;
    int decoder;
} dg_pass;

/* Forward passes (forward.c). */
dg_status dg_forward_encode(dg_ctx *c, int seq, const int32_t *ids, int n, dg_error *err);
dg_status dg_forward_decode(dg_ctx *c, int n_seq, const int *seqs, const int32_t *const *canvases,
                            float *const *sc, float *const *logits, dg_error *err);

#endif
