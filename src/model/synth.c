#include "model/synth.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/hash.h"
#include "core/numeric.h"
#include "core/strbuf.h"

typedef struct geom {
    int vocab, hidden, n_layers, n_heads, head_dim, n_kv, g_head_dim, g_n_kv;
    int inter, n_experts, top_k, moe_inter, window, canvas, max_pos;
    int boi, eoi, image;
    int vis_hidden, vis_layers, vis_heads, vis_head_dim, vis_inter, vis_patch, vis_pos, vis_out;
} geom;

static int preset(const char *name, geom *g) {
    if (!strcmp(name, "tiny")) {
        /* tiny-a-like, with widths that make mlx4 use group 64 and the 32 fallback. */
        *g = (geom){.vocab = 384, .hidden = 128, .n_layers = 6, .n_heads = 4, .head_dim = 32, .n_kv = 2,
                    .g_head_dim = 64, .g_n_kv = 1, .inter = 96, .n_experts = 8, .top_k = 2, .moe_inter = 32,
                    .window = 8, .canvas = 16, .max_pos = 4096,
                    .vis_hidden = 16, .vis_layers = 2, .vis_heads = 2, .vis_head_dim = 8, .vis_inter = 32,
                    .vis_patch = 5, .vis_pos = 64, .vis_out = 16};
        return 1;
    }
    if (!strcmp(name, "26b-a4b")) {
        *g = (geom){.vocab = 262144, .hidden = 2816, .n_layers = 30, .n_heads = 16, .head_dim = 256, .n_kv = 8,
                    .g_head_dim = 512, .g_n_kv = 2, .inter = 2112, .n_experts = 128, .top_k = 8, .moe_inter = 704,
                    .window = 1024, .canvas = 256, .max_pos = 262144,
                    .vis_hidden = 1152, .vis_layers = 27, .vis_heads = 16, .vis_head_dim = 72, .vis_inter = 4304,
                    .vis_patch = 16, .vis_pos = 10240, .vis_out = 280};
        return 1;
    }
    return 0;
}

/* Layer i is full attention every 6th layer, and the last layer always (HF's derivation). */
static int is_full(const geom *g, int i) { return (i + 1) % 6 == 0 || i == g->n_layers - 1; }

/* ---------------------------------------------------------------- values */

typedef struct gen {
    uint64_t key;
    float mean, amp;            /* uniform on [mean − amp, mean + amp) */
} gen;

typedef struct gen_src {
    gen g;
    int64_t K;
} gen_src;

/* bf16 round-to-nearest-even for finite values (no NaN branch: the generator makes none). */
static inline float bf16_rne(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u = (u + 0x7fffu + ((u >> 16) & 1)) & 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

/* Element e: 16-bit lane e%4 of dg_mix64(key + (e/4)·φ), as a signed fraction; bf16-rounded so
 * that the quantized variants quantize exactly the values the bf16 variant stores. */
static inline float lane(const gen_src *s, uint64_t w, unsigned l, float a) {
    return bf16_rne(s->g.mean + a * (float)(int16_t)(uint16_t)(w >> (16 * l)));
}

static void gen_rows_k(const void *src, int64_t row0, int64_t nrows, float *out) {
    const gen_src *s = src;
    const float a = s->g.amp / 32768.0f;
    uint64_t e = (uint64_t)(row0 * s->K), end = e + (uint64_t)(nrows * s->K);
    for (; e < end && (e & 3); e++) *out++ = lane(s, dg_mix64(s->g.key + (e >> 2) * 0x9e3779b97f4a7c15ull), (unsigned)(e & 3), a);
    for (; e + 4 <= end; e += 4, out += 4) {
        uint64_t w = dg_mix64(s->g.key + (e >> 2) * 0x9e3779b97f4a7c15ull);
        out[0] = lane(s, w, 0, a);
        out[1] = lane(s, w, 1, a);
        out[2] = lane(s, w, 2, a);
        out[3] = lane(s, w, 3, a);
    }
    for (; e < end; e++) *out++ = lane(s, dg_mix64(s->g.key + (e >> 2) * 0x9e3779b97f4a7c15ull), (unsigned)(e & 3), a);
}

static uint64_t name_key(uint64_t seed, const char *name) {
    uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a */
    for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return dg_mix64(h ^ dg_mix64(seed + 0x9e3779b97f4a7c15ull));
}

/* ---------------------------------------------------------------- tensor list */

typedef struct plan {
    dg_out_item *items;
    gen_src *srcs;
    int n, cap;
    const dg_synth_params *p;
    int group;
    int64_t params;
    int oom;
} plan;

static dg_out_item *add(plan *pl, const char *name, int ndim, const int64_t *shape, float mean, float amp) {
    if (pl->n == pl->cap) {
        int cap = pl->cap ? 2 * pl->cap : 512;
        dg_out_item *it = realloc(pl->items, (size_t)cap * sizeof *it);
        if (it) pl->items = it;
        gen_src *s = realloc(pl->srcs, (size_t)cap * sizeof *s);
        if (s) pl->srcs = s;
        if (!it || !s) { pl->oom = 1; return NULL; }
        pl->cap = cap;
    }
    dg_out_item *it = &pl->items[pl->n];
    gen_src *s = &pl->srcs[pl->n];
    memset(it, 0, sizeof *it);
    snprintf(it->name, sizeof it->name, "%s", name);
    it->ndim = ndim;
    memcpy(it->shape, shape, (size_t)ndim * sizeof *shape);
    it->dtype = DG_DT_BF16;
    it->rows = gen_rows_k;
    /* key from the HF tensor name, so bf16 and quantized variants hold the same values */
    *s = (gen_src){{name_key(pl->p->seed, name), mean, amp}, shape[ndim - 1]};
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    pl->params += n;
    pl->n++;
    return it;
}

static void vec(plan *pl, const char *name, int64_t len, float mean, float amp) {
    add(pl, name, 1, &len, mean, amp);
}

/* A weight matrix (or stacked expert matrices): uniform with std 1/sqrt(fan_in) ·scale. HF
 * names it `module.weight`, except expert tensors, which are bare parameters. */
static void mat(plan *pl, const char *module, int bare, int ndim, const int64_t *shape, double scale) {
    char name[256];
    int64_t K = shape[ndim - 1];
    int bits = 0, group = 0;
    int quant = pl->p->recipe != DG_RECIPE_NONE && dg_recipe_assign(pl->p->recipe, pl->group, module, K, &bits, &group);
    if (bare && pl->p->recipe == DG_RECIPE_NONE) snprintf(name, sizeof name, "%s", module);
    else snprintf(name, sizeof name, "%s.weight", module);
    float amp = (float)(scale * sqrt(3.0 / (double)K));
    /* generated from the HF name either way */
    char hf[256];
    snprintf(hf, sizeof hf, bare ? "%s" : "%s.weight", module);
    dg_out_item *it = add(pl, hf, ndim, shape, 0.0f, amp);
    if (!it) return;
    if (quant) {
        snprintf(it->name, sizeof it->name, "%s", module);
        it->bits = bits;
        it->group = group;
    } else {
        snprintf(it->name, sizeof it->name, "%s", name);
    }
}

/* Score std of the attention softmax. With diffuse attention (std 1) every query averages
 * nearly the same keys, so the residual rows share a large common component (~20% of their
 * energy after one layer, ~40% after two); top-8 routing of 128 on such rows sends most rows to
 * the same few experts (max 133 rows, 237 of 256 experts in use on 2 layers of the 26b preset).
 * A trained model routes load-balanced; at std 4 the common share of the attention output falls
 * as exp(-std^2) and routing spreads like the mean-centred ideal (2 layers: 4..29 rows per
 * expert, all used). The price: a sharper, more chaotic random model. */
#define ATT_SCORE_STD 4.0

/* Gain of post_attention_layernorm: how much the attention writes into the residual stream.
 * Sharp attention alone keeps routing balanced for a few layers only. Attention is the one part
 * that mixes rows (MLP and experts act on each row alone), and each layer's mixing leaves the
 * rows a little more alike; their shared component then gives the next layer's scores a
 * query-independent term (shared q · each key's own part), so all queries favour the same few
 * keys and mix further (our reading; what was measured is the similarity below). At gain 1
 * (attention writes as much as MLP and experts together) the mean cosine between canvas rows
 * grew from 0.003 after layer 0 to 0.32 after layer 29 of the 30-layer 26b preset, and routing
 * followed (dgemma bench): 128 of 128 experts and at most 26 rows on one at layer 0, 96-121
 * experts and at most 83-205 rows on one on layers 13-29. At 0.3 (the one value tried) the per-row
 * paths dominate the stream, the cosine stays below 0.003 and every one of the 30 layers routes
 * like the first (all 128 experts, 4 to 33 rows). */
#define POST_ATT_GAIN 0.3f

static void build(plan *pl, const geom *g) {
    char m[256];
    const int64_t H = g->hidden, V = g->vocab, E = g->n_experts;
    /* Embedding std 2/sqrt(H): inputs ·sqrt(H) have RMS ≈ 2; tied-head logits have std ≈ 2. */
    mat(pl, "model.decoder.embed_tokens", 0, 2, (int64_t[]){V, H}, 2.0);
    for (int i = 0; i < g->n_layers; i++) {
        int full = is_full(g, i);
        int64_t D = full ? g->g_head_dim : g->head_dim, nkv = full ? g->g_n_kv : g->n_kv, nq = g->n_heads;
#define P(s) (snprintf(m, sizeof m, "model.decoder.layers.%d.%s", i, s), m)
        mat(pl, P("self_attn.q_proj"), 0, 2, (int64_t[]){nq * D, H}, 1.0);
        mat(pl, P("self_attn.k_proj"), 0, 2, (int64_t[]){nkv * D, H}, 1.0);
        if (!full) mat(pl, P("self_attn.v_proj"), 0, 2, (int64_t[]){nkv * D, H}, 1.0);
        mat(pl, P("self_attn.o_proj"), 0, 2, (int64_t[]){H, nq * D}, 1.0);
        /* Attention has scale 1 on RMS-normed q, k: with unit norm weights the scores would have
         * std sqrt(D). sqrt(ATT_SCORE_STD) D^-1/4 each gives std ATT_SCORE_STD. */
        float qk = (float)(sqrt(ATT_SCORE_STD) * pow((double)D, -0.25));
        vec(pl, P("self_attn.q_norm.weight"), D, qk, 0.1f * qk);
        vec(pl, P("self_attn.k_norm.weight"), D, qk, 0.1f * qk);
        static const char *norms[] = {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                                      "post_feedforward_layernorm", "pre_feedforward_layernorm_2",
                                      "post_feedforward_layernorm_1", "post_feedforward_layernorm_2"};
        for (int k = 0; k < 7; k++) {
            char s[96];
            float gain = k == 1 ? POST_ATT_GAIN : 1.0f;
            snprintf(s, sizeof s, "%s.weight", norms[k]);
            vec(pl, P(s), H, gain, 0.1f * gain);
        }
        mat(pl, P("mlp.gate_proj"), 0, 2, (int64_t[]){g->inter, H}, 1.0);
        mat(pl, P("mlp.up_proj"), 0, 2, (int64_t[]){g->inter, H}, 1.0);
        mat(pl, P("mlp.down_proj"), 0, 2, (int64_t[]){H, g->inter}, 1.0);
        /* Router logits ≈ N(0, 4): routing is clearly non-uniform but varies per token. */
        mat(pl, P("router.proj"), 0, 2, (int64_t[]){E, H}, 2.0 * sqrt((double)H));
        vec(pl, P("router.scale"), H, 1.0f, 0.1f);
        vec(pl, P("router.per_expert_scale"), E, 1.0f, 0.2f);
        mat(pl, P("experts.gate_up_proj"), 1, 3, (int64_t[]){E, 2 * (int64_t)g->moe_inter, H}, 1.0);
        mat(pl, P("experts.down_proj"), 1, 3, (int64_t[]){E, H, g->moe_inter}, 1.0);
        vec(pl, P("layer_scalar"), 1, 0.75f, 0.25f);
#undef P
    }
    vec(pl, "model.decoder.norm.weight", H, 1.0f, 0.1f);
    vec(pl, "model.decoder.self_conditioning.pre_norm.weight", H, 1.0f, 0.1f);
    mat(pl, "model.decoder.self_conditioning.gate_proj", 0, 2, (int64_t[]){g->inter, H}, 1.0);
    mat(pl, "model.decoder.self_conditioning.up_proj", 0, 2, (int64_t[]){g->inter, H}, 1.0);
    mat(pl, "model.decoder.self_conditioning.down_proj", 0, 2, (int64_t[]){H, g->inter}, 1.0);
    for (int i = 0; i < g->n_layers; i++) {
        snprintf(m, sizeof m, "model.encoder.language_model.layers.%d.layer_scalar", i);
        vec(pl, m, 1, 0.75f, 0.25f);
    }
}

/* ---------------------------------------------------------------- config files */

static void config_json(const geom *g, dg_sb *b) {
    dg_sb_printf(b,
        "{\n"
        "  \"architectures\": [\n    \"DiffusionGemmaForBlockDiffusion\"\n  ],\n"
        "  \"boi_token_id\": %d,\n"
        "  \"canvas_length\": %d,\n"
        "  \"dtype\": \"bfloat16\",\n"
        "  \"eoi_token_id\": %d,\n"
        "  \"eos_token_id\": [\n    1,\n    106\n  ],\n"
        "  \"image_token_id\": %d,\n"
        "  \"initializer_range\": 0.02,\n"
        "  \"model_type\": \"diffusion_gemma\",\n"
        "  \"text_config\": {\n"
        "    \"attention_bias\": false,\n"
        "    \"attention_dropout\": 0.0,\n"
        "    \"bos_token_id\": 2,\n"
        "    \"dtype\": \"bfloat16\",\n"
        "    \"eos_token_id\": 1,\n"
        "    \"final_logit_softcapping\": 30.0,\n"
        "    \"global_head_dim\": %d,\n"
        "    \"head_dim\": %d,\n"
        "    \"hidden_activation\": \"gelu_pytorch_tanh\",\n"
        "    \"hidden_size\": %d,\n"
        "    \"initializer_range\": 0.02,\n"
        "    \"intermediate_size\": %d,\n"
        "    \"layer_types\": [\n",
        g->boi, g->canvas, g->eoi, g->image, g->g_head_dim, g->head_dim, g->hidden, g->inter);
    for (int i = 0; i < g->n_layers; i++)
        dg_sb_printf(b, "      \"%s\"%s\n", is_full(g, i) ? "full_attention" : "sliding_attention", i + 1 < g->n_layers ? "," : "");
    dg_sb_printf(b,
        "    ],\n"
        "    \"max_position_embeddings\": %d,\n"
        "    \"model_type\": \"diffusion_gemma_text\",\n"
        "    \"moe_intermediate_size\": %d,\n"
        "    \"num_attention_heads\": %d,\n"
        "    \"num_experts\": %d,\n"
        "    \"num_global_key_value_heads\": %d,\n"
        "    \"num_hidden_layers\": %d,\n"
        "    \"num_key_value_heads\": %d,\n"
        "    \"pad_token_id\": 0,\n"
        "    \"rms_norm_eps\": 1e-06,\n"
        "    \"rope_parameters\": {\n"
        "      \"full_attention\": {\n"
        "        \"partial_rotary_factor\": 0.25,\n"
        "        \"rope_theta\": 1000000.0,\n"
        "        \"rope_type\": \"proportional\"\n"
        "      },\n"
        "      \"sliding_attention\": {\n"
        "        \"rope_theta\": 10000.0,\n"
        "        \"rope_type\": \"default\"\n"
        "      }\n"
        "    },\n"
        "    \"sliding_window\": %d,\n"
        "    \"tie_word_embeddings\": true,\n"
        "    \"top_k_experts\": %d,\n"
        "    \"use_bidirectional_attention\": \"vision\",\n"
        "    \"vocab_size\": %d\n"
        "  },\n"
        "  \"tie_word_embeddings\": true,\n"
        "  \"transformers_version\": \"5.8.0.dev0\",\n",
        g->max_pos, g->moe_inter, g->n_heads, g->n_experts, g->g_n_kv, g->n_layers, g->n_kv, g->window, g->top_k, g->vocab);
    /* Vision tower: described (the real file has it) but no weights are written; text-only. */
    dg_sb_printf(b,
        "  \"vision_config\": {\n"
        "    \"attention_bias\": false,\n"
        "    \"attention_dropout\": 0.0,\n"
        "    \"default_output_length\": %d,\n"
        "    \"dtype\": \"bfloat16\",\n"
        "    \"global_head_dim\": %d,\n"
        "    \"head_dim\": %d,\n"
        "    \"hidden_activation\": \"gelu_pytorch_tanh\",\n"
        "    \"hidden_size\": %d,\n"
        "    \"initializer_range\": 0.02,\n"
        "    \"intermediate_size\": %d,\n"
        "    \"max_position_embeddings\": 131072,\n"
        "    \"model_type\": \"gemma4_vision\",\n"
        "    \"num_attention_heads\": %d,\n"
        "    \"num_hidden_layers\": %d,\n"
        "    \"num_key_value_heads\": %d,\n"
        "    \"patch_size\": %d,\n"
        "    \"pooling_kernel_size\": 3,\n"
        "    \"position_embedding_size\": %d,\n"
        "    \"rms_norm_eps\": 1e-06,\n"
        "    \"rope_parameters\": {\n"
        "      \"rope_theta\": 100.0,\n"
        "      \"rope_type\": \"default\"\n"
        "    },\n"
        "    \"standardize\": true,\n"
        "    \"use_clipped_linears\": false\n"
        "  },\n"
        "  \"vision_soft_tokens_per_image\": %d\n"
        "}\n",
        g->vis_out, g->vis_head_dim, g->vis_head_dim, g->vis_hidden, g->vis_inter, g->vis_heads, g->vis_layers,
        g->vis_heads, g->vis_patch, g->vis_pos, g->vis_out);
}

static const char gen_config[] =
    "{\n"
    "  \"confidence_threshold\": 0.005,\n"
    "  \"eos_token_id\": [\n    1,\n    106,\n    50\n  ],\n"
    "  \"max_denoising_steps\": 48,\n"
    "  \"max_new_tokens\": 256,\n"
    "  \"pad_token_id\": 0,\n"
    "  \"sampler_config\": {\n"
    "    \"_cls_name\": \"EntropyBoundSamplerConfig\",\n"
    "    \"entropy_bound\": 0.1\n"
    "  },\n"
    "  \"stability_threshold\": 1,\n"
    "  \"t_max\": 0.8,\n"
    "  \"t_min\": 0.4,\n"
    "  \"transformers_version\": \"5.8.0.dev0\"\n"
    "}\n";

dg_status dg_synth_write(const dg_synth_params *p, dg_synth_result *res, dg_error *err) {
    geom g;
    if (!p->preset || !preset(p->preset, &g))
        return dg_fail(err, DG_ERR_ARG, "unknown preset '%s' (expected tiny or 26b-a4b)", p->preset ? p->preset : "");
    if (p->n_layers) {
        if (p->n_layers < 1 || p->n_layers > 256) return dg_fail(err, DG_ERR_ARG, "--layers %d: must be 1..256", p->n_layers);
        g.n_layers = p->n_layers;
    }
    if (p->vocab) {
        if (p->vocab < 256 || p->vocab > (1 << 24)) return dg_fail(err, DG_ERR_ARG, "--vocab %d: must be 256..16777216", p->vocab);
        g.vocab = p->vocab;
    }
    if (g.vocab == 262144) { g.boi = 255999; g.eoi = 258882; g.image = 258880; }
    else { g.boi = g.vocab - 3; g.eoi = g.vocab - 1; g.image = g.vocab - 2; }
    int group = p->group ? p->group : 64;
    if (p->recipe != DG_RECIPE_NONE && (group < 16 || group > 1024 || group % 16))
        return dg_fail(err, DG_ERR_ARG, "group size %d: must be a multiple of 16 in 16..1024", group);
    plan pl = {.p = p, .group = group};
    build(&pl, &g);
    dg_sb cfg = {0}, full = {0}, path = {0};
    dg_status st = DG_OK;
    if (pl.oom) { st = dg_fail(err, DG_ERR_NOMEM, "out of memory"); goto done; }
    /* the item sources point into pl.srcs, which no longer moves */
    for (int i = 0; i < pl.n; i++) pl.items[i].src = &pl.srcs[i];
    config_json(&g, &cfg);
    const char *cfg_text = cfg.s;
    if (p->recipe != DG_RECIPE_NONE) {
        if ((st = dg_config_with_quant(cfg.s, "config.json", p->recipe, group, pl.items, pl.n, gen_config, &full, err))) goto done;
        cfg_text = full.s;
    }
    if (cfg.oom) { st = dg_fail(err, DG_ERR_NOMEM, "out of memory"); goto done; }
    dg_sb_printf(&path, "%s/config.json", p->out.dir);
    if ((st = dg_write_text_file(path.s, cfg_text, strlen(cfg_text), err))) goto done;
    path.len = 0;
    dg_sb_printf(&path, "%s/generation_config.json", p->out.dir);
    if ((st = dg_write_text_file(path.s, gen_config, sizeof gen_config - 1, err))) goto done;
    dg_synth_result r = {.tensors = pl.n, .params = pl.params};
    if ((st = dg_ckpt_write(&p->out, pl.items, pl.n, &r.bytes, &r.shards, err))) goto done;
    if (res) *res = r;
done:
    dg_sb_free(&cfg);
    dg_sb_free(&full);
    dg_sb_free(&path);
    free(pl.items);
    free(pl.srcs);
    return st;
}
