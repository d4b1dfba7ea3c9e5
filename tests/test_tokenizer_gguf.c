/* The tokenizer from GGUF metadata. tests/golden/gguf-t-q8_0/tokenizer.gguf.gz holds the
 * tokenizer.* key/values of the llama.cpp converter's model.gguf byte for byte (tensors and the
 * other keys dropped, gzip'd to keep the repository small). Checks: the engine's ids for the
 * strings of tokenization.json (made with tokenizer.json, the file the converter read); with the
 * fixture, the same tables as tokenizer.json (every piece, the special set, bos/eos/pad/unk) and
 * identical ids on the whole tokenizer corpus; a directory with the GGUF and no tokenizer.json
 * loads it through dg_tokenizer_load. */
#include <cjson/cJSON.h>
#include <string.h>
#include <unistd.h>
#include "dgemma.h"
#include "t.h"
#include "text/tokenizer_int.h"
#include "tok_fixture.h"

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    rewind(f);
    char *d = malloc((size_t)sz + 1);
    if (d && fread(d, 1, (size_t)sz, f) != (size_t)sz) { free(d); d = NULL; }
    if (d) d[sz] = 0;
    fclose(f);
    *n = (size_t)sz;
    return d;
}

static uint32_t rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void check_vectors(const dg_tokenizer *t) {
    char path[1024];
    size_t n;
    snprintf(path, sizeof path, "%s/gguf-t-q8_0/tokenization.json", t_golden());
    char *text = slurp(path, &n);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *vec = cJSON_GetObjectItem(root, "vectors");
    CHECK(cJSON_GetArraySize(vec) >= 9, "%s: no vectors", path);
    int i = 0;
    for (const cJSON *v = vec ? vec->child : NULL; v; v = v->next, i++) {
        const cJSON *s = cJSON_GetObjectItem(v, "text"), *ids = cJSON_GetObjectItem(v, "ids");
        int32_t *got = NULL;
        size_t ng = 0;
        dg_error e = {0};
        CHECK(dg_tokenize(t, s->valuestring, strlen(s->valuestring), 0, &got, &ng, &e) == DG_OK, "vector %d: %s", i, e.msg);
        int same = (int)ng == cJSON_GetArraySize(ids), k = 0;
        for (const cJSON *x = ids->child; same && x; x = x->next, k++) same = got[k] == x->valueint;
        CHECK(same, "vector %d (\"%.40s\"): ids differ (%zu vs %d ids)", i, s->valuestring, ng, cJSON_GetArraySize(ids));
        free(got);
    }
    cJSON_Delete(root);
}

/* GGUF tables == tokenizer.json tables, and the same ids on the fixture corpus. */
static void check_against_json(const dg_tokenizer *g) {
    dg_tokenizer *j = NULL;
    dg_error e = {0};
    CHECK(dg_tokenizer_load(tok_fixture_dir(), &j, &e) == DG_OK, "tokenizer.json: %s", e.msg);
    if (!j) return;
    CHECK(dg_tokenizer_vocab_size(j) == dg_tokenizer_vocab_size(g), "vocab %d vs %d", dg_tokenizer_vocab_size(j), dg_tokenizer_vocab_size(g));
    int bad_piece = 0, bad_special = 0;
    for (int32_t id = 0; id < dg_tokenizer_vocab_size(j) && id < dg_tokenizer_vocab_size(g); id++) {
        size_t a, b;
        const char *pa = dg_token_piece(j, id, &a), *pb = dg_token_piece(g, id, &b);
        if (a != b || memcmp(pa, pb, a)) bad_piece++;
        if (dg_token_is_special(j, id) != dg_token_is_special(g, id)) bad_special++;
    }
    CHECK(bad_piece == 0 && bad_special == 0, "%d pieces and %d special flags differ", bad_piece, bad_special);
    CHECK(j->n_merges == g->n_merges && j->n_added == g->n_added, "merges %u/%u added %d/%d", j->n_merges, g->n_merges, j->n_added, g->n_added);
    CHECK(dg_tokenizer_bos(j) == dg_tokenizer_bos(g) && dg_tokenizer_eos(j) == dg_tokenizer_eos(g) && dg_tokenizer_pad(j) == dg_tokenizer_pad(g) &&
          j->unk_id == g->unk_id, "special ids differ");
    char cp[1024];
    snprintf(cp, sizeof cp, "%s/corpus.bin", tok_fixture_dir());
    size_t cn = 0, co = 0, rec = 0, mism = 0;
    unsigned char *corpus = (unsigned char *)slurp(cp, &cn);
    CHECK(corpus != NULL, "%s missing; run tools/tokenizer_fixture.sh", cp);
    while (corpus && co + 4 <= cn) {
        size_t len = rd32(corpus + co);
        const char *txt = (const char *)corpus + co + 4;
        co += 4 + len;
        if (co > cn) break;
        int32_t *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        dg_tokenize(j, txt, len, 0, &a, &na, &e);
        dg_tokenize(g, txt, len, 0, &b, &nb, &e);
        if (na != nb || (na && memcmp(a, b, na * sizeof *a))) mism++;
        free(a);
        free(b);
        rec++;
    }
    CHECK(rec > 1000 && mism == 0, "corpus: %zu of %zu records encode differently", mism, rec);
    printf("corpus: %zu records, %zu differ between tokenizer.json and GGUF\n", rec, mism);
    free(corpus);
    dg_tokenizer_free(j);
}

int main(void) {
    char dir[] = "/tmp/dg_tokgguf_XXXXXX", cmd[2048], path[1100];
    if (!mkdtemp(dir)) { CHECK(0, "mkdtemp"); return t_done("test_tokenizer_gguf"); }
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    snprintf(cmd, sizeof cmd, "gzip -dc '%s/gguf-t-q8_0/tokenizer.gguf.gz' > '%s'", t_golden(), path);
    CHECK(system(cmd) == 0, "%s failed", cmd);
    dg_tokenizer *g = NULL, *viadir = NULL;
    dg_error e = {0};
    CHECK(dg_tokenizer_load_gguf(path, &g, &e) == DG_OK, "%s: %s", path, e.msg);
    if (g) {
        CHECK(dg_tokenizer_vocab_size(g) == 262144 && g->n_merges == 514906 && g->n_added == 24,
              "vocab %d merges %u specials %d", dg_tokenizer_vocab_size(g), g->n_merges, g->n_added);
        CHECK(dg_tokenizer_bos(g) == 2 && dg_tokenizer_eos(g) == 1 && dg_tokenizer_pad(g) == 0 && g->add_bos, "special ids / add_bos");
        check_vectors(g);
        CHECK(dg_tokenizer_load(dir, &viadir, &e) == DG_OK && viadir && dg_tokenizer_vocab_size(viadir) == 262144,
              "directory with only a GGUF: %s", e.msg);
        if (tok_fixture_present("test_tokenizer_gguf")) check_against_json(g);
    }
    dg_tokenizer_free(g);
    dg_tokenizer_free(viadir);
    unlink(path);
    rmdir(dir);
    return t_done("test_tokenizer_gguf");
}
