/* The published layout of mlx-community/diffusiongemma-26B-A4B-it-4bit (tests/realmeta/): its
 * verbatim config.json, generation_config.json and shard index, with four sparse shards built
 * here (real safetensors headers, holes for the data: 16.5 GB apparent, a few MB on disk).
 * The index names each tensor's shard but not its dtype or shape, so they are derived from
 * config.json and the MLX affine rules (codes U32 [.., out, in*bits/32], scales and biases BF16
 * [.., out, in/group], everything else BF16), independently of the loader; their byte sum
 * must equal the index's total_size, which pins every shape. The model must then load with
 * every text tensor bound: the weight bytes it reports are exactly the text tensors' bytes
 * (the vision tower is skipped). No forward pass.
 * usage: test_realmeta [--write DIR]   (--write: only build the checkpoint, for realmeta.sh) */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dgemma.h"
#include "core/file.h"
#include "t.h"

#define SRC "tests/realmeta/mlx-community-4bit"

/* The whole file through the library's own reader (NULL on failure). */
static char *slurp(const char *path) {
    char *b = NULL;
    dg_error err = {0};
    return dg_read_file(path, &b, NULL, &err) ? NULL : b;
}

static int geti(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v)) { fprintf(stderr, "config.json: no integer %s\n", k); exit(2); }
    return v->valueint;
}

typedef struct geo {
    int64_t H, V, nh, hd, ghd, kv, gkv, I, E, Im, Hv, Iv, nhv, hdv, kvv, P, PS;
    const cJSON *layer_types, *quant;
} geo;

static int set(int64_t *s, int n, int64_t a, int64_t b, int64_t c) {
    s[0] = a; s[1] = b; s[2] = c;
    return n;
}

/* Logical shape of a module or tensor name (without .weight/.scales/.biases); 0 if unknown. */
static int logical(const geo *g, const char *mod, int64_t *s) {
    int i, n = 0;
    char rest[256];
    if (sscanf(mod, "model.decoder.layers.%d.%255s%n", &i, rest, &n) == 2 && !mod[n]) {
        const cJSON *lt = cJSON_GetArrayItem(g->layer_types, i);
        int full = cJSON_IsString(lt) && !strcmp(lt->valuestring, "full_attention");
        int64_t D = full ? g->ghd : g->hd, nkv = full ? g->gkv : g->kv;
        if (!strcmp(rest, "self_attn.q_proj")) return set(s, 2, g->nh * D, g->H, 0);
        if (!strcmp(rest, "self_attn.k_proj") || !strcmp(rest, "self_attn.v_proj")) return set(s, 2, nkv * D, g->H, 0);
        if (!strcmp(rest, "self_attn.o_proj")) return set(s, 2, g->H, g->nh * D, 0);
        if (!strcmp(rest, "self_attn.q_norm") || !strcmp(rest, "self_attn.k_norm")) return set(s, 1, D, 0, 0);
        if (!strcmp(rest, "mlp.gate_proj") || !strcmp(rest, "mlp.up_proj")) return set(s, 2, g->I, g->H, 0);
        if (!strcmp(rest, "mlp.down_proj")) return set(s, 2, g->H, g->I, 0);
        if (!strcmp(rest, "router.proj")) return set(s, 2, g->E, g->H, 0);
        if (!strcmp(rest, "router.scale")) return set(s, 1, g->H, 0, 0);
        if (!strcmp(rest, "router.per_expert_scale")) return set(s, 1, g->E, 0, 0);
        if (!strcmp(rest, "experts.gate_up_proj")) return set(s, 3, g->E, 2 * g->Im, g->H);
        if (!strcmp(rest, "experts.down_proj")) return set(s, 3, g->E, g->H, g->Im);
        if (!strcmp(rest, "layer_scalar")) return set(s, 1, 1, 0, 0);
        if (strstr(rest, "layernorm")) return set(s, 1, g->H, 0, 0);
        return 0;
    }
    if (sscanf(mod, "model.encoder.language_model.layers.%d.layer_scalar%n", &i, &n) == 1 && !mod[n]) return set(s, 1, 1, 0, 0);
    if (sscanf(mod, "model.encoder.vision_tower.encoder.layers.%d.%255s%n", &i, rest, &n) == 2 && !mod[n]) {
        if (!strcmp(rest, "self_attn.q_proj.linear")) return set(s, 2, g->nhv * g->hdv, g->Hv, 0);
        if (!strcmp(rest, "self_attn.k_proj.linear") || !strcmp(rest, "self_attn.v_proj.linear")) return set(s, 2, g->kvv * g->hdv, g->Hv, 0);
        if (!strcmp(rest, "self_attn.o_proj.linear")) return set(s, 2, g->Hv, g->nhv * g->hdv, 0);
        if (!strcmp(rest, "self_attn.q_norm") || !strcmp(rest, "self_attn.k_norm")) return set(s, 1, g->hdv, 0, 0);
        if (!strcmp(rest, "mlp.gate_proj.linear") || !strcmp(rest, "mlp.up_proj.linear")) return set(s, 2, g->Iv, g->Hv, 0);
        if (!strcmp(rest, "mlp.down_proj.linear")) return set(s, 2, g->Hv, g->Iv, 0);
        if (strstr(rest, "layernorm")) return set(s, 1, g->Hv, 0, 0);
        return 0;
    }
    static const char *const sc = "model.decoder.self_conditioning.";
    if (!strcmp(mod, "model.decoder.embed_tokens")) return set(s, 2, g->V, g->H, 0);
    if (!strcmp(mod, "model.decoder.norm") || !strcmp(mod, "model.decoder.self_conditioning.pre_norm")) return set(s, 1, g->H, 0, 0);
    if (!strncmp(mod, sc, strlen(sc))) {
        const char *r = mod + strlen(sc);
        if (!strcmp(r, "gate_proj") || !strcmp(r, "up_proj")) return set(s, 2, g->I, g->H, 0);
        if (!strcmp(r, "down_proj")) return set(s, 2, g->H, g->I, 0);
        return 0;
    }
    if (!strcmp(mod, "model.encoder.embed_vision.embedding_projection")) return set(s, 2, g->H, g->Hv, 0);
    if (!strcmp(mod, "model.encoder.vision_tower.patch_embedder.input_proj")) return set(s, 2, g->Hv, 3 * g->P * g->P, 0);
    if (!strcmp(mod, "model.encoder.vision_tower.patch_embedder.position_embedding_table")) return set(s, 3, 2, g->PS, g->Hv);
    if (!strcmp(mod, "model.encoder.vision_tower.std_bias") || !strcmp(mod, "model.encoder.vision_tower.std_scale")) return set(s, 1, g->Hv, 0, 0);
    return 0;
}

typedef struct tensor { const char *name, *shard, *dtype; int nd; int64_t shape[3]; uint64_t bytes; } tensor;

static int ends(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

/* dtype, shape and size of one tensor of the index; 0 if its name is not understood. */
static int derive(const geo *g, const cJSON *map, tensor *t) {
    char mod[512];
    const char *suf = ends(t->name, ".weight") ? ".weight" : ends(t->name, ".scales") ? ".scales" : ends(t->name, ".biases") ? ".biases" : "";
    snprintf(mod, sizeof mod, "%.*s", (int)(strlen(t->name) - strlen(suf)), t->name);
    int64_t s[3];
    int nd = logical(g, mod, s);
    if (!nd) return 0;
    char sname[560];
    snprintf(sname, sizeof sname, "%s.scales", mod);
    int quant = *suf && cJSON_GetObjectItemCaseSensitive(map, sname) != NULL;
    t->nd = nd;
    memcpy(t->shape, s, sizeof s);
    t->dtype = "BF16";
    uint64_t es = 2;
    if (quant) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(g->quant, mod);
        int bits = geti(cJSON_IsObject(o) && cJSON_GetObjectItemCaseSensitive(o, "bits") ? o : g->quant, "bits");
        int group = geti(cJSON_IsObject(o) && cJSON_GetObjectItemCaseSensitive(o, "group_size") ? o : g->quant, "group_size");
        if (!strcmp(suf, ".weight")) { t->shape[nd - 1] = s[nd - 1] * bits / 32; t->dtype = "U32"; es = 4; }
        else t->shape[nd - 1] = s[nd - 1] / group;
    }
    t->bytes = es;
    for (int i = 0; i < nd; i++) t->bytes *= (uint64_t)t->shape[i];
    return 1;
}

static void copy(const char *name, const char *dir) {
    char from[256], to[512];
    snprintf(from, sizeof from, "%s/%s", SRC, name);
    snprintf(to, sizeof to, "%s/%s", dir, name);
    char *d = slurp(from);
    FILE *f = d ? fopen(to, "wb") : NULL;
    if (!f || fwrite(d, 1, strlen(d), f) != strlen(d) || fclose(f)) { fprintf(stderr, "cannot copy %s to %s\n", from, to); exit(2); }
    free(d);
}

/* Writes the shards; returns the number of tensors, sets the byte sums. */
static int write_checkpoint(const char *dir, uint64_t *total, uint64_t *text, uint64_t *index_total) {
    char *cfg_text = slurp(SRC "/config.json"), *idx_text = slurp(SRC "/model.safetensors.index.json");
    cJSON *cfg = cJSON_Parse(cfg_text), *idx = cJSON_Parse(idx_text);
    if (!cfg || !idx) { fprintf(stderr, "cannot read %s\n", SRC); exit(2); }
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(cfg, "text_config"), *vc = cJSON_GetObjectItemCaseSensitive(cfg, "vision_config");
    geo g = {geti(tc, "hidden_size"), geti(tc, "vocab_size"), geti(tc, "num_attention_heads"), geti(tc, "head_dim"),
             geti(tc, "global_head_dim"), geti(tc, "num_key_value_heads"), geti(tc, "num_global_key_value_heads"),
             geti(tc, "intermediate_size"), geti(tc, "num_experts"), geti(tc, "moe_intermediate_size"),
             geti(vc, "hidden_size"), geti(vc, "intermediate_size"), geti(vc, "num_attention_heads"), geti(vc, "head_dim"),
             geti(vc, "num_key_value_heads"), geti(vc, "patch_size"), geti(vc, "position_embedding_size"),
             cJSON_GetObjectItemCaseSensitive(tc, "layer_types"), cJSON_GetObjectItemCaseSensitive(cfg, "quantization")};
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(idx, "weight_map");
    *index_total = (uint64_t)cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(idx, "metadata"), "total_size")->valuedouble;
    int n = cJSON_GetArraySize(map), k = 0;
    tensor *ts = calloc((size_t)n, sizeof *ts);
    *total = *text = 0;
    for (const cJSON *e = map->child; e; e = e->next, k++) {
        ts[k].name = e->string;
        ts[k].shard = e->valuestring;
        if (!derive(&g, map, &ts[k])) { fprintf(stderr, "no shape rule for %s\n", e->string); exit(2); }
        *total += ts[k].bytes;
        if (strncmp(ts[k].name, "model.encoder.vision_tower.", 27) && strncmp(ts[k].name, "model.encoder.embed_vision.", 27)) *text += ts[k].bytes;
    }
    mkdir(dir, 0700);
    for (int a = 0; a < n; a++) {     /* one shard per first appearance of its name */
        int first = 1;
        for (int b = 0; b < a; b++) if (!strcmp(ts[a].shard, ts[b].shard)) first = 0;
        if (!first) continue;
        cJSON *h = cJSON_CreateObject();
        cJSON *md = cJSON_AddObjectToObject(h, "__metadata__");
        cJSON_AddStringToObject(md, "format", "mlx");
        uint64_t off = 0;
        for (int b = a; b < n; b++) {
            if (strcmp(ts[a].shard, ts[b].shard)) continue;
            cJSON *o = cJSON_AddObjectToObject(h, ts[b].name);
            cJSON_AddStringToObject(o, "dtype", ts[b].dtype);
            double sh[3] = {(double)ts[b].shape[0], (double)ts[b].shape[1], (double)ts[b].shape[2]};
            cJSON_AddItemToObject(o, "shape", cJSON_CreateDoubleArray(sh, ts[b].nd));
            double of[2] = {(double)off, (double)(off + ts[b].bytes)};
            cJSON_AddItemToObject(o, "data_offsets", cJSON_CreateDoubleArray(of, 2));
            off += ts[b].bytes;
        }
        char *js = cJSON_PrintUnformatted(h);
        size_t hl = strlen(js), padded = (hl + 7) / 8 * 8;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, ts[a].shard);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        uint64_t len = padded;
        char *buf = malloc(8 + padded);
        memcpy(buf, &len, 8);
        memset(buf + 8, ' ', padded);
        memcpy(buf + 8, js, hl);
        if (fd < 0 || write(fd, buf, 8 + padded) != (ssize_t)(8 + padded) || ftruncate(fd, (off_t)(8 + padded + off)) || close(fd)) {
            fprintf(stderr, "cannot write %s\n", path);
            exit(2);
        }
        free(buf);
        free(js);
        cJSON_Delete(h);
    }
    copy("config.json", dir);
    copy("generation_config.json", dir);
    copy("model.safetensors.index.json", dir);
    free(ts);
    cJSON_Delete(cfg);
    cJSON_Delete(idx);
    free(cfg_text);
    free(idx_text);
    return n;
}

static void remove_dir(const char *dir) {
    static const char *const files[] = {"config.json", "generation_config.json", "model.safetensors.index.json",
                                        "model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                                        "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"};
    char p[512];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(int argc, char **argv) {
    uint64_t total, text, index_total;
    if (argc == 3 && !strcmp(argv[1], "--write")) {
        write_checkpoint(argv[2], &total, &text, &index_total);
        printf("%llu text bytes\n", (unsigned long long)text);
        return total == index_total ? 0 : 1;
    }
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/dg_realmeta_%d", (int)getpid());
    int n = write_checkpoint(dir, &total, &text, &index_total);
    CHECK(n == 1647, "%d tensors in the index, the checkpoint has 1647", n);
    CHECK(total == index_total, "derived shapes sum to %llu bytes, the index says %llu",
          (unsigned long long)total, (unsigned long long)index_total);
    dg_model *m = NULL;
    dg_error err = {0};
    CHECK(dg_model_load(dir, NULL, &m, &err) == DG_OK, "load: %s", err.msg);
    if (m) {
        dg_model_info mi;
        dg_model_get_info(m, &mi);
        printf("loaded: %d layers, vocab %d, %d experts (top %d), %.3f GB of text weights bound\n", mi.n_layers,
               mi.vocab_size, mi.n_experts, mi.top_k, mi.weight_bytes / 1e9);
        CHECK(mi.n_layers == 30 && mi.hidden_size == 2816 && mi.vocab_size == 262144 && mi.n_experts == 128 &&
              mi.top_k == 8 && mi.canvas_length == 256 && mi.sliding_window == 1024 && mi.quantized,
              "geometry: %d layers, hidden %d, vocab %d, %d experts top %d, canvas %d, window %d, quantized %d",
              mi.n_layers, mi.hidden_size, mi.vocab_size, mi.n_experts, mi.top_k, mi.canvas_length, mi.sliding_window, mi.quantized);
        CHECK(mi.weight_bytes == text, "bound %zu bytes of weights; the text tensors hold %llu", mi.weight_bytes, (unsigned long long)text);
        dg_gen_params p;
        dg_model_gen_defaults(m, &p);
        CHECK(p.max_denoising_steps == 48 && p.n_eos == 3 && p.eos_ids[0] == 1 && p.eos_ids[1] == 106 && p.eos_ids[2] == 50,
              "generation_config.json: %d steps, %d eos ids", p.max_denoising_steps, p.n_eos);
        dg_model_free(m);
    }
    remove_dir(dir);
    return t_done("test_realmeta");
}
