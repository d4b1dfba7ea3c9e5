/* GGUF: exact dequantization of every supported block type (blocks packed here from chosen
 * integer codes, laid out per FORMATS.md §3.4, so the expected value is the exact
 * d·scale·code − dmin·min rounded once), strict container validation (each damaged file must
 * fail with an error naming the file and the tensor or key), model-level metadata errors on a
 * patched copy of a real converter file, and split sets. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/ggml_type.h"
#include "core/numeric.h"
#include "dgemma.h"
#include "format/gguf_set.h"
#include "gguf_build.h"
#include "kernels/ggml_dequant.h"
#include "t.h"

static uint64_t rng = 88172645463325252ull;
static unsigned rnd(unsigned n) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (unsigned)(rng % n); }

static const uint16_t halves[] = {0x3800, 0x2E66, 0x3C00, 0x1C00, 0x4100, 0x2400};   /* 0.5, ~0.1, 1, ~0.0039, 2.5, ~0.0156 */
static uint16_t rnd_half(void) { return halves[rnd(6)]; }
static float hf(uint16_t h) { return dg_f16_to_f32(h); }
static void st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static const int iq4[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* Packs one block of `type` with random codes; want[] gets the exact values. */
static void pack(int type, uint8_t *b, double *want) {
    int q[256], sc[16], mn[16];
    uint16_t d = rnd_half(), m = rnd_half();
    switch (type) {
    case DG_GGML_Q8_0:
        st16(b, d);
        for (int j = 0; j < 32; j++) { q[j] = (int)rnd(256) - 128; b[2 + j] = (uint8_t)(int8_t)q[j]; want[j] = (double)hf(d) * q[j]; }
        break;
    case DG_GGML_Q4_0: case DG_GGML_Q4_1: case DG_GGML_IQ4_NL: {
        int off = type == DG_GGML_Q4_1 ? 4 : 2;
        st16(b, d);
        if (type == DG_GGML_Q4_1) st16(b + 2, m);
        for (int j = 0; j < 32; j++) q[j] = (int)rnd(16);
        for (int j = 0; j < 16; j++) b[off + j] = (uint8_t)(q[j] | q[j + 16] << 4);
        for (int j = 0; j < 32; j++)
            want[j] = type == DG_GGML_Q4_0 ? (double)hf(d) * (q[j] - 8) : type == DG_GGML_IQ4_NL ? (double)hf(d) * iq4[q[j]] : (double)hf(d) * q[j] + hf(m);
        break;
    }
    case DG_GGML_Q5_0: case DG_GGML_Q5_1: {
        int one = type == DG_GGML_Q5_1, qh_at = one ? 4 : 2;
        st16(b, d);
        if (one) st16(b + 2, m);
        uint32_t qh = 0;
        for (int j = 0; j < 32; j++) { q[j] = (int)rnd(32); qh |= (uint32_t)(q[j] >> 4) << j; }
        memcpy(b + qh_at, &qh, 4);
        for (int j = 0; j < 16; j++) b[qh_at + 4 + j] = (uint8_t)((q[j] & 15) | (q[j + 16] & 15) << 4);
        for (int j = 0; j < 32; j++) want[j] = one ? (double)hf(d) * q[j] + hf(m) : (double)hf(d) * (q[j] - 16);
        break;
    }
    case DG_GGML_Q4_K: case DG_GGML_Q5_K: {
        int five = type == DG_GGML_Q5_K;
        st16(b, d);
        st16(b + 2, m);
        uint8_t *s = b + 4, *qh = b + 16, *qs = b + (five ? 48 : 16);
        memset(s, 0, 12);
        if (five) memset(qh, 0, 32);
        for (int i = 0; i < 8; i++) { sc[i] = (int)rnd(64); mn[i] = (int)rnd(64); }
        for (int i = 0; i < 4; i++) {
            s[i] = (uint8_t)(sc[i] | (sc[i + 4] >> 4) << 6);
            s[i + 4] = (uint8_t)(mn[i] | (mn[i + 4] >> 4) << 6);
            s[i + 8] = (uint8_t)((sc[i + 4] & 15) | (mn[i + 4] & 15) << 4);
        }
        for (int w = 0; w < 256; w++) {
            int c = w / 64, hi = (w / 32) & 1, l = w % 32, sb = w / 32;
            q[w] = (int)rnd(five ? 32 : 16);
            if (!hi) qs[32 * c + l] = (uint8_t)(q[w] & 15);
            else qs[32 * c + l] |= (uint8_t)((q[w] & 15) << 4);
            if (five) qh[l] |= (uint8_t)((q[w] >> 4) << sb);
            want[w] = (double)hf(d) * sc[sb] * q[w] - (double)hf(m) * mn[sb];
        }
        break;
    }
    case DG_GGML_Q6_K: {
        uint8_t *ql = b, *qh = b + 128;
        memset(b, 0, 210);
        for (int i = 0; i < 16; i++) { sc[i] = (int)rnd(256) - 128; b[192 + i] = (uint8_t)(int8_t)sc[i]; }
        st16(b + 208, d);
        for (int w = 0; w < 256; w++) {
            int hf2 = w / 128, r = w % 128, k = r / 32, l = r % 32;   /* quarter k of the half */
            q[w] = (int)rnd(64);
            uint8_t *L = ql + 64 * hf2 + l + (k & 1) * 32;
            *L |= (uint8_t)((q[w] & 15) << (k >= 2 ? 4 : 0));
            qh[32 * hf2 + l] |= (uint8_t)((q[w] >> 4) << (2 * k));
            want[w] = (double)hf(d) * sc[8 * hf2 + l / 16 + 2 * k] * (q[w] - 32);
        }
        break;
    }
    case DG_GGML_Q2_K: {
        memset(b, 0, 84);
        st16(b + 80, d);
        st16(b + 82, m);
        for (int i = 0; i < 16; i++) { sc[i] = (int)rnd(16); mn[i] = (int)rnd(16); b[i] = (uint8_t)(sc[i] | mn[i] << 4); }
        for (int w = 0; w < 256; w++) {   /* half, shift k, 16-weight group = scale index */
            int hf2 = w / 128, k = (w % 128) / 32, g = w / 16, byte = 32 * hf2 + w % 32;
            q[w] = (int)rnd(4);
            b[16 + byte] |= (uint8_t)(q[w] << (2 * k));
            want[w] = (double)hf(d) * sc[g] * q[w] - (double)hf(m) * mn[g];
        }
        break;
    }
    case DG_GGML_Q3_K: {
        memset(b, 0, 110);
        st16(b + 108, d);
        for (int i = 0; i < 16; i++) {
            sc[i] = (int)rnd(64);
            if (i < 8) b[96 + i] |= (uint8_t)(sc[i] & 15); else b[96 + i - 8] |= (uint8_t)((sc[i] & 15) << 4);
            b[96 + 8 + i % 4] |= (uint8_t)((sc[i] >> 4) << (2 * (i / 4)));
        }
        for (int w = 0; w < 256; w++) {   /* code -4..3: low 2 bits in qs, bit 2 (set = no -4) in hmask */
            int hf2 = w / 128, k = (w % 128) / 32, g = w / 16;
            q[w] = (int)rnd(8) - 4;
            int u = q[w] + 4;
            b[32 + 32 * hf2 + w % 32] |= (uint8_t)((u & 3) << (2 * k));
            if (u & 4) b[w % 32] |= (uint8_t)(1 << (w / 32));
            want[w] = (double)hf(d) * (sc[g] - 32) * q[w];
        }
        break;
    }
    case DG_GGML_IQ4_XS: {
        memset(b, 0, 136);
        st16(b, d);
        uint16_t sh = 0;
        for (int s = 0; s < 8; s++) {
            sc[s] = (int)rnd(64);
            b[4 + s / 2] |= (uint8_t)((sc[s] & 15) << (4 * (s % 2)));
            sh |= (uint16_t)((sc[s] >> 4) << (2 * s));
        }
        memcpy(b + 2, &sh, 2);
        for (int w = 0; w < 256; w++) {
            int s = w / 32, j = w % 32;
            q[w] = (int)rnd(16);
            b[8 + 16 * s + j % 16] |= (uint8_t)(q[w] << (j >= 16 ? 4 : 0));
            want[w] = (double)hf(d) * (sc[s] - 32) * iq4[q[w]];
        }
        break;
    }
    }
}

static void test_dequant(void) {
    static const int types[] = {DG_GGML_Q8_0, DG_GGML_Q4_0, DG_GGML_Q4_1, DG_GGML_Q5_0, DG_GGML_Q5_1, DG_GGML_IQ4_NL,
                                DG_GGML_Q2_K, DG_GGML_Q3_K, DG_GGML_Q4_K, DG_GGML_Q5_K, DG_GGML_Q6_K, DG_GGML_IQ4_XS};
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        int type = types[ti], bk = dg_ggml_block(type), nb = 3;
        size_t bb = dg_ggml_block_bytes(type);
        uint8_t row[3 * 210];
        double want[3 * 256];
        float got[3 * 256];
        for (int i = 0; i < nb; i++) pack(type, row + i * bb, want + i * bk);
        int bad = 0;
        dg_ggml_expand(type, row, 0, nb * bk, got);
        for (int j = 0; j < nb * bk; j++) bad += got[j] != (float)want[j];
        /* ranges that start and end inside blocks (dg_gemm_tn asks for such) */
        for (int rep = 0; rep < 20; rep++) {
            int c0 = (int)rnd((unsigned)(nb * bk)), nc = 1 + (int)rnd((unsigned)(nb * bk - c0));
            dg_ggml_expand(type, row, c0, nc, got);
            for (int j = 0; j < nc; j++) bad += got[j] != (float)want[c0 + j];
        }
        CHECK(bad == 0, "%s: %d values differ from the exact dequantization", dg_ggml_name(type), bad);
    }
    uint8_t f16[4] = {0x00, 0x3C, 0x00, 0xC0}, bf16[4] = {0x80, 0x3F, 0x40, 0xC0};   /* 1, -2 / 1, -3 */
    float o[2];
    dg_ggml_expand(DG_GGML_F16, f16, 0, 2, o);
    CHECK(o[0] == 1.0f && o[1] == -2.0f, "F16 %g %g", o[0], o[1]);
    dg_ggml_expand(DG_GGML_BF16, bf16, 0, 2, o);
    CHECK(o[0] == 1.0f && o[1] == -3.0f, "BF16 %g %g", o[0], o[1]);
}

/* ---- container validation */

/* A valid file: two keys, a Q8_0 [64, 2] and an F32 [8] tensor, alignment 32. */
static gb valid_file(void) {
    gb b = {0};
    gb_head(&b, 3, 2, 2);
    gb_kv_str(&b, "general.architecture", "diffusion-gemma");
    gb_kv_u32(&b, "general.alignment", 32);
    uint64_t ne1[2] = {64, 2}, ne2[1] = {8};
    gb_tensor(&b, "a.weight", 2, ne1, DG_GGML_Q8_0, 0);
    gb_tensor(&b, "b.weight", 1, ne2, DG_GGML_F32, 160);   /* 136 bytes rounded up to 32 */
    gb_align(&b, 32);
    gb_zeros(&b, 160 + 32);
    return b;
}

static void expect_fail(const uint8_t *d, size_t n, const char *what, const char *needle) {
    dg_gguf *f = NULL;
    dg_error e = {0};
    dg_status st = dg_gguf_open_mem(d, n, "bad.gguf", &f, &e);
    CHECK(st != DG_OK && strstr(e.msg, "bad.gguf") && strstr(e.msg, needle), "%s: status %d, message '%s' (want '%s')", what, st, e.msg, needle);
    dg_gguf_close(f);
}

/* Offset of the first occurrence of `s` in the buffer. */
static size_t find(const gb *b, const char *s, size_t from) {
    size_t k = strlen(s);
    for (size_t i = from; i + k <= b->n; i++)
        if (!memcmp(b->d + i, s, k)) return i;
    fprintf(stderr, "not found: %s\n", s);
    exit(2);
}

static void test_container(void) {
    gb b = valid_file();
    dg_gguf *f = NULL;
    dg_error e = {0};
    CHECK(dg_gguf_open_mem(b.d, b.n, "ok.gguf", &f, &e) == DG_OK, "valid file: %s", e.msg);
    if (f) {
        const dg_tensor *t = dg_gguf_find_tensor(f, "a.weight");
        CHECK(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 64 && t->nbytes == 136 && t->gtype == DG_GGML_Q8_0, "tensor a");
        dg_gguf_close(f);
    }
    gb c;
#define MUT(what, needle, code) do { c = (gb){0}; gb_put(&c, b.d, b.n); code; expect_fail(c.d, c.n, what, needle); free(c.d); } while (0)
    MUT("bad magic", "bad magic", c.d[0] = 'X');
    MUT("version 1", "version 1", c.d[4] = 1);
    MUT("big-endian version", "version", c.d[4] = 0; c.d[7] = 3);
    MUT("truncated header", "past the end", c.n = 60);
    MUT("truncated data", "outside the file", c.n -= 40);
    MUT("misaligned offset", "alignment", { size_t p = find(&c, "b.weight", 0) + 8 + 4 + 8 + 4; c.d[p] = 161; });
    MUT("unknown type id", "type id 99", { size_t p = find(&c, "a.weight", 0) + 8 + 4 + 16; c.d[p] = 99; });
    MUT("block count vs ne[0]", "not a multiple of the Q8_0 block", { size_t p = find(&c, "a.weight", 0) + 8 + 4; c.d[p] = 63; });
    MUT("overlap", "overlap", { size_t p = find(&c, "b.weight", 0) + 8 + 4 + 8 + 4; c.d[p] = 128; });
    MUT("duplicate tensor", "appears twice", { size_t p = find(&c, "b.weight", 0); c.d[p] = 'a'; });
    MUT("unknown value type", "unknown value type", { size_t p = find(&c, "general.alignment", 0) + 17; c.d[p] = 77; });
    MUT("alignment of wrong type", "general.alignment", { size_t p = find(&c, "general.alignment", 0) + 17; c.d[p] = 5; });
    MUT("alignment not a power of 2", "power of two", { size_t p = find(&c, "general.alignment", 0) + 21; c.d[p] = 48; });
    MUT("string past the end", "past the end", { size_t p = find(&c, "diffusion-gemma", 0) - 8; c.d[p + 5] = 1; });
    MUT("5 dimensions", "dimensions", { size_t p = find(&c, "b.weight", 0) + 8; c.d[p] = 5; });
    MUT("zero dimension", "bad dimension", { size_t p = find(&c, "b.weight", 0) + 8 + 4; c.d[p] = 0; });
    MUT("tensor count beyond the file", "cannot fit", c.d[8 + 3] = 1);
#undef MUT
    free(b.d);
    gb d = {0};
    gb_head(&d, 3, 0, 2);
    gb_kv_u32(&d, "general.alignment", 32);
    gb_kv_u32(&d, "general.alignment", 64);
    expect_fail(d.d, d.n, "duplicate key", "'general.alignment' appears twice");
    free(d.d);
}

/* ---- model-level errors on a patched real file */

static char tmpdir[64];

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    rewind(fp);
    uint8_t *d = malloc((size_t)sz);
    if (d && fread(d, 1, (size_t)sz, fp) != (size_t)sz) { free(d); d = NULL; }
    fclose(fp);
    *n = (size_t)sz;
    return d;
}

static void spit(const char *path, const void *d, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (fp) { fwrite(d, 1, n, fp); fclose(fp); }
}

/* Writes the patched copy as tmpdir/model.gguf and loads tmpdir: must fail naming `needle`. */
static void model_fail(const uint8_t *d, size_t n, const char *what, const char *needle) {
    char p[128];
    snprintf(p, sizeof p, "%s/model.gguf", tmpdir);
    spit(p, d, n);
    dg_model *m = NULL;
    dg_error e = {0};
    dg_status st = dg_model_load(tmpdir, NULL, &m, &e);
    CHECK(st != DG_OK && strstr(e.msg, needle), "%s: status %d, message '%s' (want '%s')", what, st, e.msg, needle);
    dg_model_free(m);
}

static void test_model(void) {
    char p[512];
    size_t n;
    snprintf(p, sizeof p, "%s/gguf-g-q4_k_m/model.gguf", t_golden());
    uint8_t *src = slurp(p, &n);
    CHECK(src != NULL, "%s missing", p);
    if (!src) return;
    gb g = {src, n, n};
    uint8_t *c = malloc(n);
    dg_model *m = NULL;
    dg_error e = {0};
    CHECK(dg_model_load(p, NULL, &m, &e) == DG_OK, "unchanged file: %s", e.msg);
    dg_model_free(m);
    /* the key's type field follows its name; its u32 value follows the type */
#define KEYAT(k) (find(&g, k, 0) + strlen(k))
#define PATCH(what, needle, code) do { memcpy(c, src, n); size_t len = n; code; model_fail(c, len, what, needle); } while (0)
    PATCH("block_count as f32", "'diffusion-gemma.block_count' has type f32", c[KEYAT("diffusion-gemma.block_count")] = 6);
    PATCH("required key missing", "'diffusion.canvas_length' is missing", c[KEYAT("diffusion.canvas_length") - 1] = 'X');
    PATCH("block count vs the per-layer arrays", "has 6 entries for 7 layers", c[KEYAT("diffusion-gemma.block_count") + 4] = 7);
    /* layer 5 marked sliding: its kv head count (1) then disagrees with the other sliding layers' */
    PATCH("layer types vs kv heads", "sliding layers with different key/value head counts",
          c[KEYAT("diffusion-gemma.attention.sliding_window_pattern") + 4 + 4 + 8 + 5] = 1);
    PATCH("hidden size vs shapes", "token_embd.weight' has shape [1024, 256] but the GGUF metadata implies [1024, 512]",
          { size_t q = KEYAT("diffusion-gemma.embedding_length") + 4; c[q] = 0; c[q + 1] = 2; });
    PATCH("architecture", "general.architecture 'diffusion-gemmx'", c[KEYAT("general.architecture") + 4 + 8 + 14] = 'x');
    PATCH("truncated file", "outside the file", len = n / 2);
    PATCH("sliding pattern of wrong type", "sliding_window_pattern' has type array of u8",
          c[KEYAT("diffusion-gemma.attention.sliding_window_pattern") + 4] = 0);
    /* generation defaults: diffusion.eb_* when present, GENERATION.md's otherwise */
    for (int pass = 0; pass < 2; pass++) {
        memcpy(c, src, n);
        size_t q = KEYAT("diffusion.eb_max_steps");
        if (pass == 0) c[q + 4] = 7;
        else c[q - 1] = 'X';
        snprintf(p, sizeof p, "%s/model.gguf", tmpdir);
        spit(p, c, n);
        dg_gen_params gp = {0};
        CHECK(dg_model_load(tmpdir, NULL, &m, &e) == DG_OK, "eb pass %d: %s", pass, e.msg);
        if (m) dg_model_gen_defaults(m, &gp);
        CHECK(gp.max_denoising_steps == (pass ? 48 : 7) && gp.t_min == 0.4 && gp.n_eos == 3,
              "eb pass %d: steps %d t_min %.17g eos %d", pass, gp.max_denoising_steps, gp.t_min, gp.n_eos);
        dg_model_free(m);
        m = NULL;
    }
#undef PATCH
#undef KEYAT
    free(c);
    free(src);
}

/* A tokenizer whose arrays disagree in length. */
static void test_tokenizer_arrays(void) {
    gb b = {0};
    gb_head(&b, 3, 0, 3);
    gb_kv_str(&b, "tokenizer.ggml.model", "gemma4");
    gb_str(&b, "tokenizer.ggml.tokens"); gb_u32(&b, 9); gb_u32(&b, 8); gb_u64(&b, 2); gb_str(&b, "a"); gb_str(&b, "b");
    gb_str(&b, "tokenizer.ggml.token_type"); gb_u32(&b, 9); gb_u32(&b, 5); gb_u64(&b, 1); gb_u32(&b, 1);
    gb_align(&b, 32);
    char p[128];
    snprintf(p, sizeof p, "%s/tok.gguf", tmpdir);
    spit(p, b.d, b.n);
    dg_tokenizer *t = NULL;
    dg_error e = {0};
    dg_status st = dg_tokenizer_load(p, &t, &e);
    CHECK(st != DG_OK && strstr(e.msg, "tok.gguf") && strstr(e.msg, "unequal length"), "tokenizer arrays: '%s'", e.msg);
    dg_tokenizer_free(t);
    unlink(p);
    free(b.d);
}

/* ---- split sets */

static void write_part(const char *name, int no, int count, int total, const char *tensor) {
    gb b = {0};
    gb_head(&b, 3, 1, 3);
    gb_kv_u32(&b, "split.no", (uint32_t)no);
    gb_kv_u32(&b, "split.count", (uint32_t)count);
    gb_str(&b, "split.tensors.count"); gb_u32(&b, 5); gb_u32(&b, (uint32_t)total);
    uint64_t ne[1] = {4};
    gb_tensor(&b, tensor, 1, ne, DG_GGML_F32, 0);
    gb_align(&b, 32);
    gb_zeros(&b, 16);
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    spit(p, b.d, b.n);
    free(b.d);
}

static void test_split(void) {
    char p[256], out[512];
    dg_error e = {0};
    write_part("m-00001-of-00002.gguf", 0, 2, 2, "x.weight");
    write_part("m-00002-of-00002.gguf", 1, 2, 2, "y.weight");
    snprintf(p, sizeof p, "%s/m-00001-of-00002.gguf", tmpdir);
    dg_gguf **parts = NULL;
    int np = 0;
    CHECK(dg_gguf_open_set(p, &parts, &np, &e) == DG_OK && np == 2, "split set: %s", e.msg);
    for (int i = 0; i < np; i++) {
        CHECK(dg_gguf_find_tensor(parts[i], i ? "y.weight" : "x.weight") != NULL, "part %d tensor", i);
        dg_gguf_close(parts[i]);
    }
    free(parts);
    CHECK(dg_gguf_locate(tmpdir, out, sizeof out, &e) == 1 && strstr(out, "m-00001-of-00002.gguf"), "locate dir: %s", out);
    snprintf(p, sizeof p, "%s/m-00002-of-00002.gguf", tmpdir);
    CHECK(dg_gguf_locate(p, out, sizeof out, &e) == -1 && strstr(e.msg, "first part"), "later part: '%s'", e.msg);
    write_part("m-00002-of-00002.gguf", 0, 2, 2, "y.weight");   /* wrong split.no */
    snprintf(p, sizeof p, "%s/m-00001-of-00002.gguf", tmpdir);
    CHECK(dg_gguf_open_set(p, &parts, &np, &e) != DG_OK && strstr(e.msg, "split.no is 0, expected 1"), "split.no: '%s'", e.msg);
    snprintf(p, sizeof p, "%s/m-00002-of-00002.gguf", tmpdir);
    unlink(p);
    snprintf(p, sizeof p, "%s/m-00001-of-00002.gguf", tmpdir);
    CHECK(dg_gguf_open_set(p, &parts, &np, &e) != DG_OK && strstr(e.msg, "m-00002-of-00002.gguf"), "missing part: '%s'", e.msg);
    write_part("other.gguf", 0, 1, 1, "z.weight");
    CHECK(dg_gguf_locate(tmpdir, out, sizeof out, &e) == -1 && strstr(e.msg, "several GGUF"), "two models: '%s'", e.msg);
    snprintf(p, sizeof p, "%s/other.gguf", tmpdir);
    unlink(p);
    snprintf(p, sizeof p, "%s/m-00001-of-00002.gguf", tmpdir);
    unlink(p);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dg_gguf_XXXXXX");
    if (!mkdtemp(tmpdir)) { CHECK(0, "mkdtemp"); return t_done("test_gguf"); }
    test_dequant();
    test_container();
    test_tokenizer_arrays();
    test_split();
    test_model();
    char p[128];
    snprintf(p, sizeof p, "%s/model.gguf", tmpdir);
    unlink(p);
    rmdir(tmpdir);
    return t_done("test_gguf");
}
