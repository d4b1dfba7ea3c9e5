/* C encoder vs the JS reference (@lenml/tokenizers) on the corpus of tools/tokfixture/corpus.js:
 * zero mismatches; decode(encode(x)) == x (with U+2581 read as a space, HF's own rule); the
 * streaming decoder, fed in uneven chunks, agrees with the one-shot decoder. */
#include <string.h>
#include <time.h>
#include "dgemma.h"
#include "t.h"
#include "tok_fixture.h"

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    rewind(f);
    unsigned char *d = malloc((size_t)sz + 1);
    if (d && fread(d, 1, (size_t)sz, f) != (size_t)sz) { free(d); d = NULL; }
    fclose(f);
    *n = (size_t)sz;
    return d;
}

static uint32_t rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* x with every U+2581 replaced by a space: what decode(encode(x)) must give. */
static size_t expect_roundtrip(const unsigned char *s, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 3 <= n && s[i] == 0xE2 && s[i + 1] == 0x96 && s[i + 2] == 0x81) { out[o++] = ' '; i += 2; }
        else out[o++] = (char)s[i];
    }
    return o;
}

int main(void) {
    if (!tok_fixture_present("test_tokenizer_corpus")) return t_skip("test_tokenizer_corpus", "no tokenizer fixture");
    char cp[1024], ip[1024];
    snprintf(cp, sizeof cp, "%s/corpus.bin", tok_fixture_dir());
    snprintf(ip, sizeof ip, "%s/corpus.js_ids", tok_fixture_dir());
    size_t cn = 0, in = 0;
    unsigned char *corpus = slurp(cp, &cn), *ref = slurp(ip, &in);
    CHECK(corpus && ref, "%s or %s missing; run tools/tokenizer_fixture.sh", cp, ip);
    dg_tokenizer *t = NULL;
    dg_error e = {0};
    CHECK(dg_tokenizer_load(tok_fixture_dir(), &t, &e) == DG_OK, "load: %s", e.msg);
    if (!corpus || !ref || !t) { free(corpus); free(ref); dg_tokenizer_free(t); return t_done("test_tokenizer_corpus"); }

    size_t co = 0, io = 0, rec = 0, mismatches = 0, bad_rt = 0, bad_stream = 0, bytes = 0, ntok = 0;
    char *want = NULL;
    while (co + 4 <= cn && io + 4 <= in) {
        size_t len = rd32(corpus + co);
        const unsigned char *txt = corpus + co + 4;
        size_t nref = rd32(ref + io);
        const unsigned char *rids = ref + io + 4;
        co += 4 + len;
        io += 4 + 4 * nref;
        if (co > cn || io > in) break;
        bytes += len;
        int32_t *ids = NULL;
        size_t n = 0;
        if (dg_tokenize(t, (const char *)txt, len, 0, &ids, &n, &e) != DG_OK) {
            CHECK(0, "record %zu: %s", rec, e.msg);
            rec++;
            continue;
        }
        ntok += n;
        size_t first = n < nref ? n : nref;
        for (size_t i = 0; i < (n < nref ? n : nref); i++)
            if ((int32_t)rd32(rids + 4 * i) != ids[i]) { first = i; break; }
        if (n != nref || first != (n < nref ? n : nref)) {
            if (mismatches++ < 5) {
                fprintf(stderr, "record %zu (%zu bytes): C %zu ids, JS %zu ids, first difference at %zu: C", rec, len, n, nref, first);
                for (size_t i = first; i < first + 6 && i < n; i++) fprintf(stderr, " %d", ids[i]);
                fprintf(stderr, " JS");
                for (size_t i = first; i < first + 6 && i < nref; i++) fprintf(stderr, " %d", (int32_t)rd32(rids + 4 * i));
                fprintf(stderr, "\n");
            }
        }
        char *back = NULL, *s1 = NULL;
        size_t bl = 0;
        want = realloc(want, len + 1);
        size_t wl = expect_roundtrip(txt, len, want);
        if (dg_detokenize(t, ids, n, 0, &back, &bl, &e) != DG_OK || bl != wl || memcmp(back, want, wl)) {
            if (bad_rt++ < 5) fprintf(stderr, "record %zu: decode(encode(x)) != x\n", rec);
        }
        /* streaming: chunks of 1, 2, 3, ... ids */
        dg_detok_stream *ds = NULL;
        size_t sl = 0, ok = dg_detok_stream_new(t, 0, &ds, &e) == DG_OK;
        char *acc = malloc(bl + 1);
        for (size_t i = 0, step = 1; ok;) {
            size_t k = i + step > n ? n - i : step, pl = 0;
            int last = i == n;
            ok = (!last ? dg_detok_stream_push(ds, ids + i, k, &s1, &pl, &e) : dg_detok_stream_flush(ds, &s1, &pl, &e)) == DG_OK &&
                 sl + pl <= bl;
            if (ok) { memcpy(acc + sl, s1, pl); sl += pl; }
            free(s1);
            s1 = NULL;
            if (last) break;
            i += k;
            step = step % 7 + 1;
        }
        if (!ok || sl != bl || memcmp(acc, back, bl)) bad_stream++;
        free(acc);
        dg_detok_stream_free(ds);
        free(back);
        free(ids);
        rec++;
    }
    CHECK(co == cn && io == in, "corpus and reference ids disagree in record count (regenerate the fixture)");
    CHECK(mismatches == 0, "%zu of %zu records differ from the JS reference", mismatches, rec);
    CHECK(bad_rt == 0, "%zu records fail decode(encode(x)) == x", bad_rt);
    CHECK(bad_stream == 0, "%zu records: streaming decode differs", bad_stream);
    printf("corpus: %zu records, %zu bytes, %zu tokens, %zu mismatches\n", rec, bytes, ntok, mismatches);
    free(want);
    free(corpus);
    free(ref);
    dg_tokenizer_free(t);
    return t_done("test_tokenizer_corpus");
}
