/* dgemma — a C11 inference engine for DiffusionGemma (block-diffusion Gemma 4 MoE).
 *
 * The public API: opaque handles, status codes with messages, no global state.
 * Every function that can fail returns a dg_status and, when `err` is non-NULL,
 * fills it with a human-readable message naming the file / tensor / field at fault.
 */
#ifndef DGEMMA_H
#define DGEMMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DGEMMA_VERSION "0.1.0"

/* The shared library exports these functions only (it is built with hidden visibility). */
#if defined(__GNUC__)
#define DG_API __attribute__((visibility("default")))
#else
#define DG_API
#endif

typedef enum dg_status {
    DG_OK = 0,
    DG_ERR_IO,          /* file missing, unreadable, mmap failed */
    DG_ERR_FORMAT,      /* malformed file: bad JSON, bad header, bad offsets */
    DG_ERR_SHAPE,       /* tensor shape/dtype disagrees with config */
    DG_ERR_MISSING,     /* required tensor or field absent */
    DG_ERR_UNSUPPORTED, /* valid but not supported (model_type, dtype, mode) */
    DG_ERR_NOMEM,
    DG_ERR_ARG,         /* invalid argument / parameter value */
    DG_ERR_RANGE,       /* token id, position or length out of range */
    DG_ERR_CANCELLED,   /* stopped by a callback */
} dg_status;

typedef struct dg_error {
    dg_status code;
    char msg[1024];
} dg_error;

DG_API const char *dg_status_name(dg_status s);

/* ---------------------------------------------------------------- model */

typedef struct dg_model dg_model;

typedef struct dg_load_params {
    int n_layers;       /* > 0: keep only the first n layers (debug, MODEL.md §10.2); 0 = all */
} dg_load_params;

/* Load a model directory (config.json + safetensors, HF or MLX layout). Weights are mmapped. */
DG_API dg_status dg_model_load(const char *dir, const dg_load_params *p, dg_model **out, dg_error *err);
DG_API void dg_model_free(dg_model *m);

typedef struct dg_model_info {
    int vocab_size, hidden_size, n_layers, n_heads;
    int n_experts, top_k, canvas_length, sliding_window;
    int max_positions;
    int quantized;              /* any MLX affine module */
    size_t weight_bytes;        /* bytes of text weights mapped */
} dg_model_info;
DG_API void dg_model_get_info(const dg_model *m, dg_model_info *info);

/* Generation defaults read from generation_config.json (or built-in). */
typedef struct dg_gen_params {
    int max_new_tokens;         /* at most this many tokens are emitted; canvases denoised =
                                   ceil(max_new_tokens / canvas_length), the last maybe cut */
    int max_denoising_steps;    /* N */
    double t_min, t_max;
    double entropy_bound;
    int stability_threshold;
    double confidence_threshold;
    int eos_ids[16];
    int n_eos;
    int pad_id;
    uint64_t seed;
} dg_gen_params;
DG_API void dg_model_gen_defaults(const dg_model *m, dg_gen_params *p);
DG_API dg_status dg_gen_params_validate(const dg_gen_params *p, dg_error *err);

/* ---------------------------------------------------------------- context */

typedef struct dg_ctx dg_ctx;

/* Kernel paths: portable C, x86-64 (AVX2+FMA, AVX-512 with VNNI, AMX tiles) and ARM64 (NEON,
 * +dotprod, +i8mm). A build has the paths of its architecture only. */
typedef enum dg_isa {
    DG_ISA_AUTO = 0, DG_ISA_C, DG_ISA_AVX2, DG_ISA_AVX512, DG_ISA_AMX, DG_ISA_NEON, DG_ISA_DOTPROD, DG_ISA_I8MM
} dg_isa;
#define DG_ISA_COUNT (DG_ISA_I8MM + 1)
DG_API const char *dg_isa_name(dg_isa isa);
/* The path named s ("c"/"portable", "avx2", ..., "auto"), or -1. */
DG_API int dg_isa_parse(const char *s);
/* What this build and this CPU say of a path: DG_ISA_BUILT (its kernels are in this build),
 * DG_ISA_RUNS (this CPU runs them), DG_ISA_AUTOMATIC (AUTO may choose it: tested and compared
 * on a CPU that has it, docs/KERNELS.md; otherwise it runs only when named). */
enum { DG_ISA_BUILT = 1, DG_ISA_RUNS = 2, DG_ISA_AUTOMATIC = 4 };
DG_API int dg_isa_status(dg_isa isa);
/* Built and runnable here. */
DG_API int dg_isa_available(dg_isa isa);
/* The path AUTO picks here. */
DG_API dg_isa dg_isa_best(void);
/* The CPU's model name (Linux: /proc/cpuinfo), written into buf; returns buf. */
DG_API const char *dg_cpu_name(char *buf, size_t n);
/* Kinds of arithmetic, by the instructions the kernels are built on: fp32 FMA, the int16
 * integer path (vpmaddwd-like) and the int8 one (u8 x s8 products), and bf16 products summed
 * in fp32 (AMX tdpbf16ps-like). */
typedef enum dg_ops { DG_OPS_FP32, DG_OPS_INT16, DG_OPS_INT8, DG_OPS_BF16, DG_OPS_KINDS } dg_ops;
DG_API const char *dg_ops_name(dg_ops kind);   /* "fp32", "int16", "int8", "bf16"; "?" otherwise */
/* Peak rates of path `isa` on this CPU, ops/s (a multiply-add counts 2) per kind, 0 where the
 * path has no such kernel: register-resident loops of the kernels' inner instructions, run
 * on n_threads threads at once for about `seconds` each. */
DG_API dg_status dg_isa_peak(dg_isa isa, int n_threads, double seconds, double peak[DG_OPS_KINDS], dg_error *err);

typedef struct dg_ctx_params {
    int n_threads;      /* 0 = number of online CPUs */
    int max_tokens;     /* most tokens the cache may hold (prompt + committed canvases); 0 = 8192 */
    int n_seq;          /* independent sequences (batched canvases); 0 = 1 */
    int max_chunk;      /* encoder chunk size in tokens; 0 = canvas_length */
    int precise;        /* 1 = fp32 reference path (golden checks); 0 = fastest available */
    dg_isa isa;         /* kernel path; AUTO picks the best this build and CPU run */
    int int8;           /* fast path only: allow the lossy integer paths (int8 activations for
                           4-bit weights: about 1.6x faster experts, ~0.5% error per product,
                           several % on logits); default int16 (near-exact). The CLI sets it
                           from DGEMMA_INT8=1. */
    int count_tasks;    /* 1: count the task balance of the parallel loops (benchmarks) */
} dg_ctx_params;

DG_API dg_status dg_ctx_new(const dg_model *m, const dg_ctx_params *p, dg_ctx **out, dg_error *err);
DG_API void dg_ctx_free(dg_ctx *c);
DG_API dg_isa dg_ctx_isa(const dg_ctx *c);
/* Task balance of the context's parallel loops since dg_ctx_new (needs count_tasks): per loop
 * (named by its task function), its runs and, summed over them, the tasks, the most tasks one
 * thread took under the pool's dynamic scheduling, the fair share ceil(tasks / threads), and
 * the threads left without any task. Returns the number of loops written (at most max). */
typedef struct dg_task_balance {
    const char *loop;
    long runs;
    double tasks, max_thread, fair, idle;
} dg_task_balance;
DG_API int dg_ctx_task_balance(const dg_ctx *c, dg_task_balance *out, int max);

/* Number of tokens held in sequence `seq`'s cache. */
DG_API int dg_cache_len(const dg_ctx *c, int seq);
/* Forget everything (the sliding layers cannot be cut back partially). */
DG_API void dg_cache_clear(dg_ctx *c, int seq);
/* Benchmarks only: appends n positions of random K/V (RMS as after the k/v norms) to every
 * layer's cache of `seq` instead of encoding tokens, so that a step at a long context can be
 * timed without the encoder's cost. The model's outputs after it mean nothing. */
DG_API dg_status dg_cache_fill_synthetic(dg_ctx *c, int seq, int n, uint64_t seed, dg_error *err);

/* Encoder pass: append `n` tokens to sequence `seq` at positions len..len+n-1 (causal).
 * Long inputs are chunked internally; `progress` (may be NULL) is called after each chunk and
 * may return nonzero to stop: dg_encode then returns DG_ERR_CANCELLED, and the chunks already
 * encoded stay in the cache (dg_cache_clear drops them). */
typedef int (*dg_progress_fn)(void *user, int done, int total);
DG_API dg_status dg_encode(dg_ctx *c, int seq, const int32_t *ids, int n,
                    dg_progress_fn progress, void *user, dg_error *err);

/* One decoder (denoising) step for `n_seq` sequences in lockstep.
 * canvases[i]: canvas_length ids of sequence seqs[i], at positions cache_len..+L-1.
 * sc[i]: NULL (no self-conditioning) or [L, V] processed logits of the previous step
 *        (logits / T). The buffer is CONSUMED: the step turns it into probabilities in
 *        place, so that no second vocabulary-sized buffer is needed.
 * logits[i]: output [L, V] softcapped logits (may be the same buffer as sc[i]).
 * The caches are read, never written. */
DG_API dg_status dg_decode_step(dg_ctx *c, int n_seq, const int *seqs,
                         const int32_t *const *canvases, float *const *sc,
                         float *const *logits, dg_error *err);

DG_API const dg_model *dg_ctx_model(const dg_ctx *c);

/* Debug taps: called with intermediate tensors (row-major float) during forward passes.
 * what: "enc.k", "enc.v" ([n_kv, rows, D] of the new tokens), "enc.h", "dec.x0", "dec.h",
 * "dec.router_idx" / "dec.router_w" (as float), "dec.prelogits". layer = -1 when not per layer. */
typedef void (*dg_tap_fn)(void *user, const char *what, int layer,
                          const float *data, int d0, int d1, int d2);
DG_API void dg_ctx_set_tap(dg_ctx *c, dg_tap_fn fn, void *user);

/* Time spent per part of the last decoder step (seconds), for benchmarks; flops per part; and
 * the expert load over the step's MoE layers: rows (token slots) per expert, min and max over
 * every (layer, expert), and how many (layer, expert) pairs ran. */
enum { DG_PART_ATTENTION, DG_PART_DENSE_MLP, DG_PART_ROUTER, DG_PART_EXPERTS, DG_PART_HEAD, DG_PART_SELF_COND, DG_PARTS };
typedef struct dg_step_profile {
    double attention, dense_mlp, router, experts, head, self_cond, other, total;
    double weight_bytes, flops;
    int sc_rows, sc_sparse;     /* self-conditioning rows, of which summed sparsely (fast path) */
    double ops[DG_PARTS][DG_OPS_KINDS];     /* flops of each part by kind (they sum to flops) */
    int moe_layers, experts_used, expert_rows_min, expert_rows_max;
    long expert_rows;           /* sum over layers and experts (= layers x rows x top_k) */
} dg_step_profile;
DG_API void dg_ctx_last_profile(const dg_ctx *c, dg_step_profile *p);
/* The last decoder step's expert load layer by layer (the profile has only the extremes over all
 * layers, which hide where routing collapses): rows per expert, min and max over the layer's
 * experts, and how many of its experts ran. Fills out[0 .. min(n, cap)) and returns n, the
 * decoder's MoE layers in that step (0 before the first step). */
typedef struct dg_expert_load {
    int rows_min, rows_max, experts_used;
} dg_expert_load;
DG_API int dg_ctx_last_expert_load(const dg_ctx *c, dg_expert_load *out, int cap);

/* ---------------------------------------------------------------- generation
 * (section owned by src/gen/) */
/* BEGIN GENERATION API */

/* Built-in generation defaults (GENERATION.md §1 table; seed 0). */
DG_API void dg_gen_params_default(dg_gen_params *p);
/* Temperature of step k (1 = hottest) of p->max_denoising_steps: t_min + (t_max - t_min) * n / N. */
DG_API double dg_step_temperature(const dg_gen_params *p, int k);


/* ---- sampler: one denoising step's decisions on given logits (GENERATION.md §4).
 * Reusable scratch and threads for an [L, V] block; nothing is allocated per step. */
typedef struct dg_sampler dg_sampler;
/* n_threads: 0 = online CPUs. isa: the kernel path (DG_ISA_AUTO: the best this build and CPU
 * run; pass dg_ctx_isa() to match a context). */
DG_API dg_status dg_sampler_new(int L, int V, int n_threads, dg_isa isa, dg_sampler **out, dg_error *err);
DG_API void dg_sampler_free(dg_sampler *s);

typedef struct dg_step {
    /* in */
    const float *logits;        /* [L, V] softcapped decoder logits */
    float *pl;                  /* out [L, V]: logits / T, the next step's self-conditioning
                                   input; may equal logits (converted in place) */
    int canvas, step;           /* canvas index (0-based), step k (1-based, 1 = hottest) */
    /* out, caller-owned arrays of L */
    int32_t *sampled, *argmax, *next;   /* next = renoised canvas (input of step k + 1) */
    uint8_t *accept;
    double *entropy;            /* nats */
    double T, mean_entropy;
    int n_accept;
} dg_step;
/* Temperature, per-position sample/argmax/entropy, entropy-bound acceptance, renoise.
 * Fails with DG_ERR_RANGE on non-finite logits. */
DG_API dg_status dg_sampler_step(dg_sampler *s, const dg_gen_params *p, dg_step *st, dg_error *err);

/* Stop test of §2.2 after a step. `run` (reset to 0 per canvas) counts the consecutive
 * previous argmax canvases equal to the current one; prev = argmax of the previous step of
 * this canvas or NULL at step 1. Returns 1 when the canvas halts (stable and confident). */
DG_API int dg_stop_test(const dg_gen_params *p, const int32_t *prev, const int32_t *argmax, int L,
                 double mean_entropy, int *run, int *stable, int *confident);

/* ---- generation loop (GENERATION.md §2), one sequence. */
typedef enum dg_finish {
    DG_FINISH_NONE = 0,
    DG_FINISH_STOP,             /* a committed canvas held an EOS id */
    DG_FINISH_LENGTH,           /* max_new_tokens emitted (no EOS before) */
    DG_FINISH_CANCELLED,        /* a callback returned nonzero */
} dg_finish;
DG_API const char *dg_finish_name(dg_finish f);

/* One denoising step as callbacks see it (read-only, valid during the call). */
typedef struct dg_gen_frame {
    int canvas, step, max_steps, L, V;
    double T, mean_entropy;
    int n_accept, stable, confident, stop;
    const int32_t *input;       /* the canvas fed to the decoder */
    const float *sc;            /* always NULL: the decoder consumes the self-conditioning input */
    const float *logits;        /* raw logits [L, V]: on_trace only, NULL in on_step */
    const float *pl;            /* processed logits [L, V] */
    const int32_t *argmax, *sampled, *next;
    const uint8_t *accept;
    const double *entropy;
    double step_seconds;        /* decoder + sampler wall time of this step */
} dg_gen_frame;

/* Return nonzero to cancel: dg_generate then returns DG_ERR_CANCELLED with the partial result. */
typedef int (*dg_gen_step_fn)(void *user, const dg_gen_frame *f);
/* A committed canvas: ids[L] (pads after an EOS); n_emit = the tokens to emit: those before the
 * EOS (L if none), cut so that the request's total never exceeds max_new_tokens. */
typedef int (*dg_gen_canvas_fn)(void *user, int canvas, const int32_t *ids, int L, int n_emit, int n_steps);

typedef struct dg_gen_callbacks {
    dg_progress_fn on_prefill;  /* forwarded to dg_encode for the prompt */
    dg_gen_step_fn on_step;     /* after each step's decisions (live view) */
    dg_gen_step_fn on_trace;    /* same plus raw logits (costs a third [L, V] buffer) */
    dg_gen_canvas_fn on_canvas; /* after each commit (streaming) */
    void *user;
} dg_gen_callbacks;

typedef struct dg_gen_result {
    int32_t *ids;               /* committed canvases, whole (pads included); malloc'ed */
    int n_ids;
    int n_emitted;              /* tokens emitted (before the EOS, at most max_new_tokens): the
                                   "committed tokens" of metrics */
    dg_finish finish;
    int stop_id;                /* the EOS id that ended generation, or -1 */
    int prompt_tokens;
    int n_canvases;             /* canvases denoised (the last may be partial on cancel) */
    int *steps;                 /* decoder steps per canvas [n_canvases]; malloc'ed */
    int n_steps;                /* decoder steps in all */
    int n_early_halt;           /* canvases halted by the stable-and-confident rule */
    double t_prefill, t_steps, t_sampler, t_commit;  /* seconds (t_steps includes t_sampler) */
    double t_first_canvas, t_total;                  /* from the start of dg_generate */
} dg_gen_result;
DG_API void dg_gen_result_free(dg_gen_result *r);

/* Buffers ([L, V] logits and processed logits, canvases) and sampler threads, reused by every
 * dg_generate call on this context. n_threads: sampler threads, 0 = online CPUs. */
typedef struct dg_generator dg_generator;
DG_API dg_status dg_generator_new(dg_ctx *ctx, int n_threads, dg_generator **out, dg_error *err);
DG_API void dg_generator_free(dg_generator *g);

/* Prefill `prompt` into sequence `seq` (appended to what its cache holds), then denoise and
 * commit canvases. res is filled (and must be freed) whatever the status, once it was cleared
 * by this call; on DG_ERR_CANCELLED it holds the canvases committed so far. */
DG_API dg_status dg_generate(dg_generator *g, int seq, const int32_t *prompt, int n_prompt,
                      const dg_gen_params *p, const dg_gen_callbacks *cb,
                      dg_gen_result *res, dg_error *err);

/* ---- batched generation (src/gen/batch.c): up to n_slots requests denoised in lockstep, one
 * dg_decode_step per step for all of them (the weights are read once per step, not once per
 * request). Slot i uses the context's sequence i. Each slot makes exactly the decisions
 * dg_generate makes for the same cache, prompt and params (seed included): batching never
 * changes results. Slots join and leave between steps. One thread owns a dg_batch and its
 * context; nothing is allocated per step. */
typedef struct dg_batch dg_batch;
/* ctx must have been made with n_seq >= n_slots. n_threads: sampler threads, 0 = online CPUs. */
DG_API dg_status dg_batch_new(dg_ctx *ctx, int n_slots, int n_threads, dg_batch **out, dg_error *err);
DG_API void dg_batch_free(dg_batch *b);
DG_API int dg_batch_slots(const dg_batch *b);
/* Validates p, prefills `prompt` into the free slot's sequence (appended to its cache, as
 * dg_generate does; call dg_cache_clear first for a fresh request) and makes the slot active.
 * cb is copied; on_prefill, on_step and on_canvas behave as in dg_generate (nonzero cancels
 * that slot only); on_trace is unsupported. On failure the slot stays free. */
DG_API dg_status dg_batch_start(dg_batch *b, int slot, const int32_t *prompt, int n_prompt, const dg_gen_params *p,
                         const dg_gen_callbacks *cb, dg_error *err);
/* One denoising step of every active slot: one decoder pass, then each slot's sampler, stop
 * test, and (when its canvas halts) commit, on_canvas, commit pass. A slot that finishes (EOS,
 * length, cancel, its own error) becomes done and leaves the lockstep batch. Returns an error
 * only when the shared decoder pass failed (every slot in it is then done with that error). */
DG_API dg_status dg_batch_step(dg_batch *b, dg_error *err);
DG_API int dg_batch_n_active(const dg_batch *b);
/* 0 = free, 1 = active, 2 = done (its result waits for dg_batch_take), -1 = no such slot. */
DG_API int dg_batch_state(const dg_batch *b, int slot);
/* Stops an active slot now (finish = cancelled); its partial result stays for dg_batch_take. */
DG_API void dg_batch_cancel(dg_batch *b, int slot);
/* Moves a done (or, cancelling it, an active) slot's result into *res (free with
 * dg_gen_result_free) and frees the slot. Returns the slot's status: DG_OK, DG_ERR_CANCELLED or
 * the error that ended it (message in err). */
DG_API dg_status dg_batch_take(dg_batch *b, int slot, dg_gen_result *res, dg_error *err);
/* END GENERATION API */

/* ---------------------------------------------------------------- tokenizer and chat template
 * (section owned by src/text/) */
/* BEGIN TOKENIZER API */
/* Byte-exact Gemma 4 tokenizer (HF tokenizer.json: BPE with byte fallback) and chat template.
 * A dg_tokenizer is read-only after loading: one may be shared by any number of threads. */
typedef struct dg_tokenizer dg_tokenizer;

/* path: a tokenizer.json file or a model directory holding one (tokenizer_config.json next to
 * it is read when present). */
DG_API dg_status dg_tokenizer_load(const char *path, dg_tokenizer **out, dg_error *err);
DG_API void dg_tokenizer_free(dg_tokenizer *t);
DG_API int dg_tokenizer_vocab_size(const dg_tokenizer *t);
/* Ids of <bos>, <eos>, <pad> (-1 if absent). */
DG_API int32_t dg_tokenizer_bos(const dg_tokenizer *t);
DG_API int32_t dg_tokenizer_eos(const dg_tokenizer *t);
DG_API int32_t dg_tokenizer_pad(const dg_tokenizer *t);
/* The piece of an id (bytes, not NUL-terminated; U+2581 kept) or NULL if out of range. */
DG_API const char *dg_token_piece(const dg_tokenizer *t, int32_t id, size_t *len);
DG_API int dg_token_is_special(const dg_tokenizer *t, int32_t id);

/* Text -> ids exactly as HF `tokenizer(text, add_special_tokens=False)`; special-token strings in
 * the text become their ids. add_bos prepends <bos>. Bytes that are not valid UTF-8 go through
 * byte fallback one by one. ids are malloc'd (NULL when n_ids is 0); free() them. */
DG_API dg_status dg_tokenize(const dg_tokenizer *t, const char *text, size_t len, int add_bos,
                      int32_t **ids, size_t *n_ids, dg_error *err);
/* Ids -> text (HF decode, no space clean-up). Invalid byte-token runs give one U+FFFD per byte
 * token. skip_special drops special tokens. text is malloc'd and NUL-terminated. */
DG_API dg_status dg_detokenize(const dg_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                        char **text, size_t *len, dg_error *err);

/* Streaming decoder: push ids, get the text that is safe to emit now. A trailing run of byte
 * tokens is held back until a non-byte token or flush decides it, so the concatenation of all
 * outputs equals dg_detokenize of all ids. Returned text is malloc'd (may be ""). */
typedef struct dg_detok_stream dg_detok_stream;
DG_API dg_status dg_detok_stream_new(const dg_tokenizer *t, int skip_special, dg_detok_stream **out, dg_error *err);
DG_API dg_status dg_detok_stream_push(dg_detok_stream *s, const int32_t *ids, size_t n,
                               char **text, size_t *len, dg_error *err);
DG_API dg_status dg_detok_stream_flush(dg_detok_stream *s, char **text, size_t *len, dg_error *err);
DG_API void dg_detok_stream_free(dg_detok_stream *s);

/* Channel splitter for committed output ids (TOKENIZER.md §3, §7): <|channel> ... <channel|> is
 * the thinking channel, <|tool_call> ... <tool_call|> a tool call, the rest the visible content.
 * The delimiter ids are looked up in the tokenizer. Text goes through a streaming decoder
 * (specials skipped, UTF-8 never split) and comes out through fn per span of one channel; the
 * last call of a span has end = 1 (text may then be empty), made when a delimiter closes it or
 * at dg_channel_split_end. fn may modify text in place (it is freed after the call).
 * split = 0: no delimiters, all text is content (raw completions). */
typedef enum dg_channel { DG_CHANNEL_CONTENT = 0, DG_CHANNEL_REASONING, DG_CHANNEL_TOOL } dg_channel;
typedef void (*dg_channel_fn)(void *user, dg_channel ch, char *text, size_t len, int end);
typedef struct dg_channel_split dg_channel_split;
DG_API dg_status dg_channel_split_new(const dg_tokenizer *t, int split, dg_channel_split **out, dg_error *err);
DG_API dg_status dg_channel_split_push(dg_channel_split *s, const int32_t *ids, size_t n, dg_channel_fn fn, void *user,
                                dg_error *err);
/* The end of the output: flushes the current span (end = 1). */
DG_API dg_status dg_channel_split_end(dg_channel_split *s, dg_channel_fn fn, void *user, dg_error *err);
DG_API dg_channel dg_channel_split_current(const dg_channel_split *s);
DG_API void dg_channel_split_free(dg_channel_split *s);

/* Chat. role: system, developer, user, assistant, tool. content: the text (NULL = none); or
 * content_parts_json: an OpenAI content-parts array ({type: text|image|audio|video}) used when
 * content is NULL. reasoning: the assistant's thinking text. tool_calls_json: an OpenAI tool_calls
 * array. tool_call_id / name: of a tool message. */
typedef struct dg_chat_msg {
    const char *role, *content, *content_parts_json, *reasoning, *tool_calls_json, *tool_call_id, *name;
} dg_chat_msg;

/* Renders the Gemma 4 / DiffusionGemma chat template (TOKENIZER.md §6) into *out (malloc'd).
 * tools_json: NULL or an OpenAI tools array. Tokenize the result in one pass (dg_tokenize,
 * add_bos 0: the text starts with <bos>). t may be NULL. */
DG_API dg_status dg_chat_render(const dg_tokenizer *t, const dg_chat_msg *msgs, int n_msgs, const char *tools_json,
                         int enable_thinking, int add_generation_prompt, char **out, dg_error *err);

/* Parses an OpenAI-style messages JSON array. *msgs and its strings live in one allocation:
 * free(*msgs) releases everything. */
DG_API dg_status dg_chat_msgs_from_json(const char *json, size_t len, dg_chat_msg **msgs, int *n_msgs, dg_error *err);

/* Splits raw model output (decoded with specials kept) into the visible content, the reasoning
 * (thinking channel) and the tool calls (an OpenAI tool_calls JSON array, or NULL if none).
 * All outputs malloc'd; reasoning is "" when there was none. */
DG_API dg_status dg_chat_parse(const char *text, char **content, char **reasoning, char **tool_calls_json,
                        dg_error *err);
/* END TOKENIZER API */

#ifdef __cplusplus
}
#endif
#endif
