#include "model/quantize.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/file.h"
#include "core/numeric.h"
#include "format/weights.h"
#include "model/config.h"

/* Rows of a mapped BF16/F16/F32 tensor as fp32 (data may be unaligned). */
void dg_tensor_rows_f32(const void *src, int64_t row0, int64_t nrows, float *out) {
    const dg_tensor *t = src;
    int64_t K = t->shape[t->ndim - 1];
    size_t n = (size_t)(nrows * K), es = dg_dtype_size(t->dtype);
    const uint8_t *p = t->data + (size_t)(row0 * K) * es;
    if (t->dtype == DG_DT_BF16)
        for (size_t i = 0; i < n; i++) out[i] = dg_bf16_to_f32(dg_ld16(p + 2 * i));
    else if (t->dtype == DG_DT_F16)
        for (size_t i = 0; i < n; i++) out[i] = dg_f16_to_f32(dg_ld16(p + 2 * i));
    else
        memcpy(out, p, n * 4);
    /* Drop the consumed pages from this process (the page cache keeps them): otherwise the
     * mapped input counts fully in RSS. A page shared with a neighbouring chunk is simply
     * faulted in again from the read-only file mapping. */
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), lo = ((uintptr_t)p + pg - 1) & ~(pg - 1),
              hi = ((uintptr_t)p + n * es) & ~(pg - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static dg_status copy_file(const char *from, const char *to, dg_error *err) {
    size_t size;
    int fd = dg_open_regular(from, &size, err);
    FILE *in = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!in) { if (fd >= 0) close(fd); return fd < 0 ? DG_ERR_IO : dg_fail(err, DG_ERR_IO, "%s: %s", from, strerror(errno)); }
    FILE *out = fopen(to, "wb");
    if (!out) { fclose(in); return dg_fail(err, DG_ERR_IO, "%s: cannot create: %s", to, strerror(errno)); }
    char buf[1 << 16];
    size_t k;
    dg_status st = DG_OK;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, k, out) != k) { st = dg_fail(err, DG_ERR_IO, "%s: write failed: %s", to, strerror(errno)); break; }
    if (!st && ferror(in)) st = dg_fail(err, DG_ERR_IO, "%s: read failed", from);
    fclose(in);
    if (fclose(out) != 0 && !st) st = dg_fail(err, DG_ERR_IO, "%s: write failed: %s", to, strerror(errno));
    return st;
}

dg_status dg_quantize_checkpoint(const dg_quantize_params *p, dg_quantize_result *res, dg_error *err) {
    char path[PATH_MAX + 64], a[PATH_MAX], b[PATH_MAX];
    if (p->recipe == DG_RECIPE_NONE) return dg_fail(err, DG_ERR_ARG, "no quantization recipe given");
    int group = p->group ? p->group : 64;
    if (group < 16 || group > 1024 || group % 16) return dg_fail(err, DG_ERR_ARG, "group size %d: must be a multiple of 16 in 16..1024", group);
    if (!realpath(p->in_dir, a)) return dg_fail(err, DG_ERR_IO, "%s: %s", p->in_dir, strerror(errno));
    if (realpath(p->out.dir, b) && !strcmp(a, b))
        return dg_fail(err, DG_ERR_ARG, "%s: the output directory must differ from the input", p->out.dir);

    char *cfg_text = NULL, *gen_text = NULL;
    dg_weights *w = NULL;
    dg_out_item *items = NULL;
    dg_sb cfg_out = {0};
    dg_config cfg;
    snprintf(path, sizeof path, "%s/config.json", p->in_dir);
    dg_status st = dg_read_file(path, &cfg_text, NULL, err);
    if (st) return st;
    if ((st = dg_config_parse(cfg_text, path, &cfg, err))) goto done;
    int already = cfg.quant != NULL;
    dg_config_free(&cfg);
    if (already) { st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: the checkpoint is already quantized (config.json has \"quantization\")", p->in_dir); goto done; }
    if ((st = dg_weights_open(p->in_dir, &w, err))) goto done;
    int n = dg_weights_count(w);
    items = calloc((size_t)(n ? n : 1), sizeof *items);
    if (!items) { st = dg_fail(err, DG_ERR_NOMEM, "out of memory"); goto done; }
    dg_quantize_result r = {.tensors_in = n};
    for (int i = 0; i < n; i++) {
        const dg_tensor *t = dg_weights_at(w, i);
        dg_out_item *it = &items[i];
        r.bytes_in += t->nbytes;
        if (ends_with(t->name, ".scales") || ends_with(t->name, ".biases") || t->dtype == DG_DT_U32) {
            st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: the checkpoint is already quantized (tensor '%s')", t->file, t->name);
            goto done;
        }
        if (strlen(t->name) >= sizeof it->name) { st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor name too long", t->file); goto done; }
        char module[sizeof it->name];
        snprintf(module, sizeof module, "%s", t->name);
        if (ends_with(module, ".weight")) module[strlen(module) - 7] = 0;
        int bits, g, fl = t->dtype == DG_DT_BF16 || t->dtype == DG_DT_F16 || t->dtype == DG_DT_F32;
        if (fl && t->ndim >= 2 && dg_recipe_assign(p->recipe, group, module, t->shape[t->ndim - 1], &bits, &g)) {
            snprintf(it->name, sizeof it->name, "%s", module);
            it->bits = bits;
            it->group = g;
            it->rows = dg_tensor_rows_f32;
            it->src = t;
            r.quantized++;
        } else {
            /* MLX names expert tensors with `.weight` even when they stay unquantized. */
            if (ends_with(t->name, ".experts.gate_up_proj") || ends_with(t->name, ".experts.down_proj"))
                snprintf(it->name, sizeof it->name, "%.240s.weight", t->name);
            else
                snprintf(it->name, sizeof it->name, "%s", t->name);
            it->dtype = t->dtype;
            it->raw = t->data;
        }
        it->ndim = t->ndim;
        memcpy(it->shape, t->shape, (size_t)t->ndim * sizeof *t->shape);
    }
    snprintf(path, sizeof path, "%s/generation_config.json", p->in_dir);
    if (dg_path_exists(path) && (st = dg_read_file(path, &gen_text, NULL, err))) goto done;
    snprintf(path, sizeof path, "%s/config.json", p->in_dir);
    if ((st = dg_config_with_quant(cfg_text, path, p->recipe, group, items, n, gen_text, &cfg_out, err))) goto done;
    static const char *extra[] = {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"};
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++) {
        char to[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", p->in_dir, extra[i]);
        snprintf(to, sizeof to, "%s/%s", p->out.dir, extra[i]);
        if (dg_path_exists(path) && (st = copy_file(path, to, err))) goto done;
    }
    /* config.json last among the small files: a directory with it but no weights is incomplete,
     * and the weights are written after it; a failure there removes the weight files. */
    snprintf(path, sizeof path, "%s/config.json", p->out.dir);
    if ((st = dg_write_text_file(path, cfg_out.s, cfg_out.len, err))) goto done;
    if ((st = dg_ckpt_write(&p->out, items, n, &r.bytes, &r.shards, err))) goto done;
    if (res) *res = r;
done:
    free(cfg_text);
    free(gen_text);
    free(items);
    dg_sb_free(&cfg_out);
    dg_weights_close(w);
    return st;
}
