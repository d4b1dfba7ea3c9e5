#include "format/mlx_recipe.h"
#include <stdlib.h>
#include <string.h>
#include "format/mlx_quant.h"

int dg_recipe_parse(const char *s, dg_recipe *out) {
    if (s && !strcmp(s, "mlx4")) { *out = DG_RECIPE_MLX4; return 1; }
    if (s && !strcmp(s, "mlx8")) { *out = DG_RECIPE_MLX8; return 1; }
    return 0;
}

const char *dg_recipe_name(dg_recipe r) { return r == DG_RECIPE_MLX4 ? "mlx4" : r == DG_RECIPE_MLX8 ? "mlx8" : "none"; }

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int default_bits(dg_recipe r) { return r == DG_RECIPE_MLX8 ? 8 : 4; }

/* Recipe bits for a text module; 0 = not quantized. */
static int module_bits(dg_recipe r, const char *m) {
    if (strncmp(m, "model.decoder.", 14)) return 0;    /* vision tower, encoder scalars: as is */
    const int hi = 8, lo = r == DG_RECIPE_MLX8 ? 8 : 4;
    if (!strcmp(m, "model.decoder.embed_tokens")) return hi;
    if (strstr(m, ".self_conditioning.")) {
        if (ends_with(m, ".gate_proj") || ends_with(m, ".up_proj") || ends_with(m, ".down_proj")) return lo;
        return 0;
    }
    if (ends_with(m, ".self_attn.q_proj") || ends_with(m, ".self_attn.k_proj") || ends_with(m, ".self_attn.v_proj") ||
        ends_with(m, ".self_attn.o_proj"))
        return hi;
    if (ends_with(m, ".mlp.gate_proj") || ends_with(m, ".mlp.up_proj") || ends_with(m, ".mlp.down_proj")) return hi;
    if (ends_with(m, ".router.proj")) return hi;
    if (ends_with(m, ".experts.gate_up_proj") || ends_with(m, ".experts.down_proj")) return lo;
    return 0;
}

int dg_recipe_assign(dg_recipe r, int group, const char *module, int64_t K, int *bits, int *group_out) {
    int b = module_bits(r, module);
    if (!b || K <= 0 || K > (1 << 20)) return 0;
    const int cand[4] = {group, 64, 32, 16};
    for (int i = 0; i < 4; i++) {
        if (i && cand[i] >= group) continue;
        if (dg_affine_ok((int)K, b, cand[i])) { *bits = b; *group_out = cand[i]; return 1; }
    }
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const dg_out_item *const *)a)->name, (*(const dg_out_item *const *)b)->name);
}

static void block(dg_recipe r, int group, const dg_out_item **q, int nq, dg_sb *o) {
    dg_sb_printf(o, "{\n    \"group_size\": %d,\n    \"bits\": %d,\n    \"mode\": \"affine\"", group, default_bits(r));
    for (int i = 0; i < nq; i++) {
        if (q[i]->bits == default_bits(r) && q[i]->group == group) continue;
        dg_sb_put(o, ",\n    ", 6);
        dg_sb_json_str(o, q[i]->name);
        dg_sb_printf(o, ": {\n      \"group_size\": %d,\n      \"bits\": %d\n    }", q[i]->group, q[i]->bits);
    }
    dg_sb_put(o, "\n  }", 4);
}

void dg_recipe_json(dg_recipe r, int group, const dg_out_item *items, int n, dg_sb *out) {
    const dg_out_item **q = malloc((size_t)(n ? n : 1) * sizeof *q);
    if (!q) { out->oom = 1; return; }
    int nq = 0;
    for (int i = 0; i < n; i++)
        if (items[i].bits) q[nq++] = &items[i];
    qsort(q, (size_t)nq, sizeof *q, by_name);
    dg_sb_put(out, "\"quantization\": ", 16);
    block(r, group, q, nq, out);
    dg_sb_put(out, ",\n  \"quantization_config\": ", 27);
    block(r, group, q, nq, out);
    free(q);
}

dg_status dg_config_with_quant(const char *config_json, const char *path, dg_recipe r, int group,
                               const dg_out_item *items, int n, const char *gen_json, dg_sb *out, dg_error *err) {
    const char *end = strrchr(config_json, '}');
    if (!end) return dg_fail(err, DG_ERR_FORMAT, "%s: not a JSON object", path);
    size_t keep = (size_t)(end - config_json);
    while (keep && (config_json[keep - 1] == ' ' || config_json[keep - 1] == '\n' || config_json[keep - 1] == '\r' ||
                    config_json[keep - 1] == '\t'))
        keep--;
    int empty = keep && config_json[keep - 1] == '{';
    dg_sb_put(out, config_json, keep);
    dg_sb_put(out, empty ? "\n  " : ",\n  ", empty ? 3 : 4);
    if (gen_json) {
        /* Re-indent the file's object one level deeper. */
        const char *g = gen_json;
        while (*g == ' ' || *g == '\n' || *g == '\r' || *g == '\t') g++;
        size_t gl = strlen(g);
        while (gl && (g[gl - 1] == ' ' || g[gl - 1] == '\n' || g[gl - 1] == '\r' || g[gl - 1] == '\t')) gl--;
        dg_sb_put(out, "\"generation_config\": ", 21);
        for (size_t i = 0; i < gl; i++) {
            dg_sb_put(out, &g[i], 1);
            if (g[i] == '\n') dg_sb_put(out, "  ", 2);
        }
        dg_sb_put(out, ",\n  ", 4);
    }
    dg_recipe_json(r, group, items, n, out);
    dg_sb_put(out, "\n}\n", 3);
    if (out->oom) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    return DG_OK;
}
