/* Bad checkpoints: every malformed file must give a clear error naming the file and the
 * tensor or field, a non-zero status, and no crash or leak (run under ASan in CI). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dgemma.h"
#include "t.h"

static char tmpdir[256];
static size_t tail_bytes;   /* zero bytes appended after the data (room for moved tensors) */

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); fclose(f); return NULL; }
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *d, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(d, 1, n, f);
    fclose(f);
}

/* Replaces the first occurrence of `from` by `to` in s (a fresh string). */
static char *replace(const char *s, const char *from, const char *to) {
    const char *p = strstr(s, from);
    if (!p) { fprintf(stderr, "pattern not found: %s\n", from); exit(2); }
    size_t a = (size_t)(p - s), fl = strlen(from), tl = strlen(to), sl = strlen(s);
    char *r = malloc(sl - fl + tl + 1);
    memcpy(r, s, a);
    memcpy(r + a, to, tl);
    memcpy(r + a + tl, p + fl, sl - a - fl + 1);
    return r;
}

typedef struct { char *config; char *st; size_t st_len; } ckpt;

static void load_src(const char *name, ckpt *c) {
    char p[512];
    size_t n;
    snprintf(p, sizeof p, "%s/%s/config.json", t_golden(), name);
    c->config = slurp(p, &n);
    snprintf(p, sizeof p, "%s/%s/model.safetensors", t_golden(), name);
    c->st = slurp(p, &c->st_len);
    if (!c->config || !c->st) { fprintf(stderr, "cannot read %s\n", p); exit(2); }
}

/* Writes config + a safetensors whose header text is `header` followed by the data of src. */
static void write_ckpt(const ckpt *src, const char *config, const char *header) {
    char p[512];
    snprintf(p, sizeof p, "%s/config.json", tmpdir);
    spit(p, config, strlen(config));
    uint64_t old;
    memcpy(&old, src->st, 8);
    size_t data = src->st_len - 8 - (size_t)old, hl = strlen(header);
    uint64_t nl = hl;
    char *buf = calloc(1, 8 + hl + data + tail_bytes);
    memcpy(buf, &nl, 8);
    memcpy(buf + 8, header, hl);
    memcpy(buf + 8 + hl, src->st + 8 + old, data);
    snprintf(p, sizeof p, "%s/model.safetensors", tmpdir);
    spit(p, buf, 8 + hl + data + tail_bytes);
    free(buf);
}

static char *header_of(const ckpt *c) {
    uint64_t n;
    memcpy(&n, c->st, 8);
    char *h = malloc((size_t)n + 1);
    memcpy(h, c->st + 8, (size_t)n);
    h[n] = 0;
    return h;
}

/* Loads tmpdir and checks the status and that the message mentions each needle. */
static void expect(const char *what, dg_status want, const char *needle1, const char *needle2) {
    dg_model *m = NULL;
    dg_error err = {0};
    dg_status st = dg_model_load(tmpdir, NULL, &m, &err);
    CHECK(st == want, "%s: status %s, want %s (%s)", what, dg_status_name(st), dg_status_name(want), err.msg);
    CHECK(m == NULL, "%s: model returned on error", what);
    if (needle1) CHECK(strstr(err.msg, needle1) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, needle1);
    if (needle2) CHECK(strstr(err.msg, needle2) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, needle2);
    printf("%-40s -> %s\n", what, err.msg);
    dg_model_free(m);
}

static void case_header(const ckpt *c, const char *what, const char *from, const char *to, dg_status want,
                        const char *n1, const char *n2) {
    char *h = header_of(c), *h2 = replace(h, from, to);
    write_ckpt(c, c->config, h2);
    expect(what, want, n1, n2);
    free(h);
    free(h2);
}

static void case_config(const ckpt *c, const char *what, const char *from, const char *to, dg_status want,
                        const char *n1, const char *n2) {
    char *cf = replace(c->config, from, to), *h = header_of(c);
    write_ckpt(c, cf, h);
    expect(what, want, n1, n2);
    free(cf);
    free(h);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dg_test_loader_%d", (int)getpid());
    mkdir(tmpdir, 0700);
    ckpt a, q;
    load_src("tiny-a", &a);
    load_src("tiny-a-mlx4", &q);
    char path[512];

    /* sanity: the unmodified copy loads */
    { char *h = header_of(&a); write_ckpt(&a, a.config, h); free(h);
      dg_model *m; dg_error e = {0};
      CHECK(dg_model_load(tmpdir, NULL, &m, &e) == DG_OK, "pristine copy: %s", e.msg);
      if (!e.code) dg_model_free(m); }

    /* container damage */
    snprintf(path, sizeof path, "%s/model.safetensors", tmpdir);
    spit(path, a.st, a.st_len / 2);
    expect("truncated file", DG_ERR_FORMAT, "model.safetensors", "past the data buffer");
    spit(path, a.st, 5);
    expect("file shorter than the length field", DG_ERR_FORMAT, "model.safetensors", "truncated");
    { char *b = malloc(a.st_len); memcpy(b, a.st, a.st_len); uint64_t big = a.st_len; memcpy(b, &big, 8);
      spit(path, b, a.st_len); free(b); }
    expect("header length beyond file", DG_ERR_FORMAT, "model.safetensors", "header length");
    case_header(&a, "header not JSON", "{\"__metadata__\"", "[\"__metadata__\"", DG_ERR_FORMAT, "model.safetensors", "JSON");
    case_header(&a, "data offsets outside the file", "\"data_offsets\":[0,49152]", "\"data_offsets\":[9000000,9049152]",
                DG_ERR_FORMAT, "embed_tokens", "past the data buffer");
    case_header(&a, "bytes disagree with dtype x shape", "\"shape\":[384,64],\"data_offsets\":[0,49152]",
                "\"shape\":[384,64],\"data_offsets\":[0,49150]", DG_ERR_FORMAT, "embed_tokens", "needs");
    case_header(&a, "overlapping tensors", "\"data_offsets\":[49152,65536]", "\"data_offsets\":[0,16384]",
                DG_ERR_FORMAT, "overlap", NULL);
    case_header(&a, "unknown dtype", "\"dtype\":\"BF16\",\"shape\":[384,64]", "\"dtype\":\"Q9_K\",\"shape\":[384,64]",
                DG_ERR_UNSUPPORTED, "embed_tokens", "Q9_K");
    case_header(&a, "wrong dtype for a weight", "\"dtype\":\"BF16\",\"shape\":[384,64],\"data_offsets\":[0,49152]",
                "\"dtype\":\"I16\",\"shape\":[384,64],\"data_offsets\":[0,49152]", DG_ERR_SHAPE, "embed_tokens", "I16");
    case_header(&a, "missing tensor", "model.decoder.layers.0.self_attn.q_proj.weight", "model.decoder.layers.0.self_attn.qq_proj.weight",
                DG_ERR_MISSING, "layers.0.self_attn.q_proj", tmpdir);
    case_header(&a, "duplicate tensor name", "model.decoder.layers.0.experts.down_proj\"", "model.decoder.embed_tokens.weight\"",
                DG_ERR_FORMAT, "embed_tokens", "twice");
    case_header(&a, "shape disagrees with config", "\"shape\":[384,64],\"data_offsets\":[0,49152]",
                "\"shape\":[768,32],\"data_offsets\":[0,49152]", DG_ERR_SHAPE, "embed_tokens", "config.json");

    /* config.json damage */
    {   /* the syntax error is located: line and column of the second ':' (counted here) */
        const char *p = strstr(a.config, "\"architectures\"");
        int line = 1, col = (int)(p - a.config) + 1;
        for (const char *s = a.config; s < p; s++)
            if (*s == '\n') { line++; col = (int)(p - s); }
        char want[64];
        snprintf(want, sizeof want, "line %d, column %d", line, col + (int)strlen("\"architectures\" :"));
        case_config(&a, "malformed config.json", "\"architectures\"", "\"architectures\" :: ", DG_ERR_FORMAT, "config.json", want);
    }
    case_config(&a, "config.json with trailing text", "\"model_type\"", "\"model_type\": 1} {\"x\"", DG_ERR_FORMAT, "config.json", "after the JSON value");
    case_config(&a, "typo in num_hidden_layers", "\"num_hidden_layers\"", "\"num_hiden_layers\"", DG_ERR_MISSING, "config.json",
                "text_config.num_hidden_layers is missing");
    case_config(&a, "no num_global_key_value_heads", "\"num_global_key_value_heads\"", "\"num_global_kv_heads\"", DG_ERR_MISSING,
                "config.json", "num_global_key_value_heads is missing");
    case_config(&a, "config without canvas_length", "\"canvas_length\"", "\"canvas_lengthX\"", DG_ERR_MISSING, "config.json", "canvas_length");
    case_config(&a, "unsupported model_type", "\"model_type\": \"diffusion_gemma\"", "\"model_type\": \"gemma3\"",
                DG_ERR_UNSUPPORTED, "config.json", "gemma3");
    case_config(&a, "config hidden size disagrees", "\"hidden_size\": 64", "\"hidden_size\": 72", DG_ERR_SHAPE, "config.json", NULL);
    case_config(&a, "config field of the wrong type", "\"num_experts\": 8", "\"num_experts\": \"eight\"", DG_ERR_FORMAT, "num_experts", NULL);
    case_config(&a, "bad layer type", "\"sliding_attention\",", "\"local_attention\",", DG_ERR_FORMAT, "layer_types", NULL);

    /* quantized (MLX affine) damage */
    case_header(&q, "scales shape not matching weight", "\"model.decoder.embed_tokens.scales\":{\"dtype\":\"BF16\",\"shape\":[384,1]",
                "\"model.decoder.embed_tokens.scales\":{\"dtype\":\"BF16\",\"shape\":[1,384]", DG_ERR_SHAPE, "embed_tokens", NULL);
    case_header(&q, "quantized weight with wrong dtype", "\"model.decoder.embed_tokens.weight\":{\"dtype\":\"U32\"",
                "\"model.decoder.embed_tokens.weight\":{\"dtype\":\"I32\"", DG_ERR_SHAPE, "embed_tokens.weight", "U32");
    case_config(&q, "config bits disagree with packing", "\"model.decoder.embed_tokens\": {\n      \"group_size\": 64,\n      \"bits\": 8",
                "\"model.decoder.embed_tokens\": {\n      \"group_size\": 64,\n      \"bits\": 4", DG_ERR_SHAPE, "embed_tokens", "bits");
    case_config(&q, "override naming a missing module", "\"quantization\": {",
                "\"quantization\": { \"model.decoder.layers.0.mlp.side_proj\": {\"group_size\": 64, \"bits\": 8},",
                DG_ERR_MISSING, "side_proj", NULL);

    case_header(&q, "bits outside the supported set (7)",
                "\"model.decoder.layers.0.router.proj.weight\":{\"dtype\":\"U32\",\"shape\":[8,16],\"data_offsets\":[46080,46592]}",
                "\"model.decoder.layers.0.router.proj.weight\":{\"dtype\":\"U32\",\"shape\":[8,14],\"data_offsets\":[46080,46528]}",
                DG_ERR_UNSUPPORTED, "router.proj", "7 bits");
    {   /* scales and biases of 3 groups for 64 columns, placed in spare bytes after the data */
        char *h = header_of(&q);
        char *h1 = replace(h, "\"model.decoder.layers.0.router.proj.scales\":{\"dtype\":\"BF16\",\"shape\":[8,1],\"data_offsets\":[247842,247858]}",
                           "\"model.decoder.layers.0.router.proj.scales\":{\"dtype\":\"BF16\",\"shape\":[8,3],\"data_offsets\":[281336,281384]}");
        char *h2 = replace(h1, "\"model.decoder.layers.0.router.proj.biases\":{\"dtype\":\"BF16\",\"shape\":[8,1],\"data_offsets\":[247826,247842]}",
                           "\"model.decoder.layers.0.router.proj.biases\":{\"dtype\":\"BF16\",\"shape\":[8,3],\"data_offsets\":[281384,281432]}");
        tail_bytes = 96;
        write_ckpt(&q, q.config, h2);
        tail_bytes = 0;
        expect("group size not dividing the input", DG_ERR_SHAPE, "router.proj", "groups");
        free(h); free(h1); free(h2);
    }

    case_config(&q, "MLX mxfp4 quantization", "\"mode\": \"affine\"", "\"mode\": \"mxfp4\"", DG_ERR_UNSUPPORTED, "config.json", "'mxfp4'");
    case_config(&q, "per-module mxfp8 override", "\"model.decoder.embed_tokens\": {", "\"model.decoder.embed_tokens\": {\"mode\": \"mxfp8\",",
                DG_ERR_UNSUPPORTED, "model.decoder.embed_tokens.mode", "'mxfp8'");

    /* generation_config.json damage: located by line and column */
    {   char *h = header_of(&a); write_ckpt(&a, a.config, h); free(h); }
    snprintf(path, sizeof path, "%s/generation_config.json", tmpdir);
    {   const char *g = "{\n  \"max_new_tokens\": 256,\n  \"t_min\": 0.4x,\n}";
        spit(path, g, strlen(g)); }
    expect("malformed generation_config.json", DG_ERR_FORMAT, "generation_config.json", "line 3, column 15");
    unlink(path);

    /* FIFOs in place of files: refused at once, not waited on (the alarm fails a hang) */
    alarm(60);
    snprintf(path, sizeof path, "%s/generation_config.json", tmpdir);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo");
    expect("generation_config.json is a FIFO", DG_ERR_IO, "generation_config.json", "not a regular file");
    unlink(path);
    snprintf(path, sizeof path, "%s/model.safetensors", tmpdir);
    unlink(path);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo");
    expect("model.safetensors is a FIFO", DG_ERR_IO, "model.safetensors", "not a regular file");
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", tmpdir);
    unlink(path);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo");
    expect("config.json is a FIFO", DG_ERR_IO, "config.json", "not a regular file");
    unlink(path);
    alarm(0);
    {   char *h = header_of(&a); write_ckpt(&a, a.config, h); free(h); }

    /* missing files */
    snprintf(path, sizeof path, "%s/model.safetensors", tmpdir);
    unlink(path);
    expect("no weights file", DG_ERR_MISSING, "model.safetensors", NULL);
    snprintf(path, sizeof path, "%s/config.json", tmpdir);
    unlink(path);
    expect("no config.json", DG_ERR_IO, "config.json", NULL);
    rmdir(tmpdir);
    expect("no model directory", DG_ERR_IO, tmpdir, "no such model directory");
    free(a.config); free(a.st); free(q.config); free(q.st);
    return t_done("test_loader");
}
