/* dgemma tokenize | detokenize | template: the tokenizer and chat template from the shell. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"

/* The whole of stdin ("-") or the argument itself. */
static char *arg_or_stdin(const char *a, size_t *n) {
    if (strcmp(a, "-")) {
        *n = strlen(a);
        char *s = malloc(*n + 1);
        if (s) memcpy(s, a, *n + 1);
        return s;
    }
    size_t cap = 1 << 16, len = 0, got;
    char *s = malloc(cap);
    while (s && (got = fread(s + len, 1, cap - len - 1, stdin)) > 0) {
        len += got;
        if (cap - len < 2) {
            char *t = realloc(s, cap * 2);
            if (!t) { free(s); return NULL; }
            s = t;
            cap *= 2;
        }
    }
    if (s) s[len] = 0;
    *n = len;
    return s;
}

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0, got;
    char *s = malloc(cap);
    while (s && (got = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            char *t = realloc(s, cap * 2);
            if (!t) { free(s); s = NULL; break; }
            s = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (s) s[len] = 0;
    *n = len;
    return s;
}

/* Common flags: -m DIR | --tokenizer FILE. Returns the index of the first positional or -1. */
static int tok_flags(int argc, char **argv, const char **path, int *special, int *skip, const char *usage) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "--tokenizer")) {
            if (!(*path = cli_value(argc, argv, &i))) return -1;
        } else if (!strcmp(a, "--special") || !strcmp(a, "--bos")) { if (special) *special = 1; else goto bad; }
        else if (!strcmp(a, "--skip-special")) { if (skip) *skip = 1; else goto bad; }
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { printf("%s", usage); exit(0); }
        else if (a[0] == '-' && a[1]) goto bad;
        else return i;
        continue;
    bad:
        fprintf(stderr, "dgemma: unknown option '%s'\n%s", a, usage);
        return -1;
    }
    fprintf(stderr, "dgemma: missing argument\n%s", usage);
    return -1;
}

static dg_tokenizer *load(const char *path) {
    dg_tokenizer *t = NULL;
    dg_error e = {0};
    if (!path) { fprintf(stderr, "dgemma: give -m DIR or --tokenizer FILE\n"); return NULL; }
    if (dg_tokenizer_load(path, &t, &e)) { cli_report(&e); return NULL; }
    return t;
}

int cmd_tokenize(int argc, char **argv) {
    static const char usage[] =
        "usage: dgemma tokenize (-m DIR | --tokenizer FILE) [--special] TEXT|-\n"
        "  Prints the ids of TEXT (or stdin), space-separated. Special-token strings in the text\n"
        "  become their ids (as in HF). --special (or --bos): prepend <bos>.\n";
    const char *path = NULL;
    int special = 0;
    int pos = tok_flags(argc, argv, &path, &special, NULL, usage);
    if (pos < 0) return 2;
    dg_tokenizer *t = load(path);
    if (!t) return 1;
    size_t n;
    char *text = arg_or_stdin(argv[pos], &n);
    int32_t *ids = NULL;
    size_t k = 0;
    dg_error e = {0};
    int rc = 0;
    if (!text) rc = (fprintf(stderr, "dgemma: out of memory\n"), 1);
    else if (dg_tokenize(t, text, n, special, &ids, &k, &e)) rc = cli_report(&e);
    else {
        for (size_t i = 0; i < k; i++) printf(i ? " %d" : "%d", ids[i]);
        printf("\n");
    }
    free(ids);
    free(text);
    dg_tokenizer_free(t);
    return rc;
}

int cmd_detokenize(int argc, char **argv) {
    static const char usage[] =
        "usage: dgemma detokenize (-m DIR | --tokenizer FILE) [--skip-special] IDS|-\n"
        "  Prints the text of the ids (separated by spaces, commas or newlines; '-' reads stdin).\n";
    const char *path = NULL;
    int skip = 0;
    int pos = tok_flags(argc, argv, &path, NULL, &skip, usage);
    if (pos < 0) return 2;
    size_t n, k = 0, cap = 256;
    char *s = arg_or_stdin(argv[pos], &n);
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!s || !ids) { free(s); free(ids); fprintf(stderr, "dgemma: out of memory\n"); return 1; }
    for (char *p = s, *end; *p;) {
        if (strchr(" \t\r\n,[]", *p)) { p++; continue; }
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < INT32_MIN || v > INT32_MAX) {
            fprintf(stderr, "dgemma: detokenize: not an id: '%.20s'\n", p);
            free(s); free(ids);
            return 2;
        }
        if (k == cap) {
            int32_t *t2 = realloc(ids, (cap *= 2) * sizeof *ids);
            if (!t2) { free(s); free(ids); fprintf(stderr, "dgemma: out of memory\n"); return 1; }
            ids = t2;
        }
        ids[k++] = (int32_t)v;
        p = end;
    }
    free(s);
    dg_tokenizer *t = load(path);
    if (!t) { free(ids); return 1; }
    char *text = NULL;
    size_t len = 0;
    dg_error e = {0};
    int rc = 0;
    if (dg_detokenize(t, ids, k, skip, &text, &len, &e)) rc = cli_report(&e);
    else { fwrite(text, 1, len, stdout); printf("\n"); }
    free(text);
    free(ids);
    dg_tokenizer_free(t);
    return rc;
}

int cmd_template(int argc, char **argv) {
    static const char usage[] =
        "usage: dgemma template -m DIR --messages FILE.json [--thinking] [--tools FILE.json] [--no-generation-prompt]\n"
        "  Prints the rendered Gemma 4 chat prompt, then a line with its ids. FILE '-' reads stdin.\n";
    const char *path = NULL, *mfile = NULL, *tfile = NULL;
    int thinking = 0, gen = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "--tokenizer")) { if (!(path = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--messages")) { if (!(mfile = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--tools")) { if (!(tfile = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--thinking")) thinking = 1;
        else if (!strcmp(a, "--no-generation-prompt")) gen = 0;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { printf("%s", usage); return 0; }
        else { fprintf(stderr, "dgemma: unknown option '%s'\n%s", a, usage); return 2; }
    }
    if (!mfile) { fprintf(stderr, "dgemma: --messages is required\n%s", usage); return 2; }
    size_t mn = 0, tn = 0;
    char *mjson = !strcmp(mfile, "-") ? arg_or_stdin("-", &mn) : read_file(mfile, &mn);
    char *tjson = tfile ? read_file(tfile, &tn) : NULL;
    if (!mjson || (tfile && !tjson)) {
        fprintf(stderr, "dgemma: cannot read %s\n", !mjson ? mfile : tfile);
        free(mjson); free(tjson);
        return 1;
    }
    dg_tokenizer *t = load(path);
    dg_chat_msg *msgs = NULL;
    int n = 0, rc = 0;
    dg_error e = {0};
    char *out = NULL;
    int32_t *ids = NULL;
    size_t k = 0;
    if (!t) rc = 1;
    else if (dg_chat_msgs_from_json(mjson, mn, &msgs, &n, &e) || dg_chat_render(t, msgs, n, tjson, thinking, gen, &out, &e) ||
             dg_tokenize(t, out, strlen(out), 0, &ids, &k, &e))
        rc = cli_report(&e);
    else {
        printf("%s\n", out);
        for (size_t i = 0; i < k; i++) printf(i ? " %d" : "%d", ids[i]);
        printf("\n");
    }
    free(ids); free(out); free(msgs); free(mjson); free(tjson);
    dg_tokenizer_free(t);
    return rc;
}
