#include "format/gguf_set.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/error.h"

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* "…-KKKKK-of-NNNNN.gguf": part k of n (1-based) and the prefix length; 0 if not split. */
static int split_name(const char *name, int *k, int *n, size_t *prefix) {
    size_t l = strlen(name);
    if (l < 20 || !ends_with(name, ".gguf")) return 0;
    const char *s = name + l - 20;     /* "-00001-of-00003.gguf" */
    if (s[0] != '-' || strncmp(s + 6, "-of-", 4)) return 0;
    for (int i = 0; i < 5; i++)
        if (s[1 + i] < '0' || s[1 + i] > '9' || s[10 + i] < '0' || s[10 + i] > '9') return 0;
    int kk = atoi(s + 1), nn = atoi(s + 10);
    if (kk < 1 || kk > nn) return 0;
    *k = kk;
    *n = nn;
    *prefix = l - 20;
    return 1;
}

static int is_dir(const char *p) { struct stat sb; return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode); }
static int is_file(const char *p) { struct stat sb; return stat(p, &sb) == 0 && S_ISREG(sb.st_mode); }

int dg_gguf_locate(const char *path, char *out, size_t n, dg_error *err) {
    int k, parts;
    size_t pre;
    if (!is_dir(path)) {
        if (!ends_with(path, ".gguf")) return 0;
        const char *base = strrchr(path, '/');
        if (split_name(base ? base + 1 : path, &k, &parts, &pre) && k != 1) {
            dg_fail(err, DG_ERR_ARG, "%s: part %d of a split GGUF set; give the first part (-00001-of-%05d.gguf)", path, k, parts);
            return -1;
        }
        snprintf(out, n, "%s", path);
        return 1;
    }
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/model.safetensors", path);
    if (is_file(probe)) return 0;
    snprintf(probe, sizeof probe, "%s/model.safetensors.index.json", path);
    if (is_file(probe)) return 0;
    DIR *d = opendir(path);
    if (!d) return 0;
    int found = 0;
    char first[1024] = "";
    for (struct dirent *e; (e = readdir(d));) {
        if (!ends_with(e->d_name, ".gguf") || e->d_name[0] == '.') continue;
        if (split_name(e->d_name, &k, &parts, &pre) && k != 1) continue;
        if (found++ == 0) snprintf(first, sizeof first, "%s", e->d_name);
        else {
            dg_fail(err, DG_ERR_ARG, "%s: several GGUF models (%s, %s, ...): give one with -m FILE", path, first, e->d_name);
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    if (!found) return 0;
    snprintf(out, n, "%s/%s", path, first);
    return 1;
}

/* A split key, if present, must be an integer equal to want. */
static dg_status check_split_key(const dg_gguf *f, const char *key, int64_t want, dg_error *err) {
    int64_t v;
    int found;
    dg_status st = dg_gguf_get_int(f, key, 1, &v, &found, err);
    if (st) return st;
    if (found && v != want)
        return dg_fail(err, DG_ERR_FORMAT, "%s: %s is %lld, expected %lld", dg_gguf_path(f), key, (long long)v, (long long)want);
    return DG_OK;
}

dg_status dg_gguf_open_set(const char *first, dg_gguf ***parts, int *n_parts, dg_error *err) {
    *parts = NULL;
    *n_parts = 0;
    const char *base = strrchr(first, '/');
    base = base ? base + 1 : first;
    int k, n = 1;
    size_t pre;
    int split = split_name(base, &k, &n, &pre);
    dg_gguf **p = calloc((size_t)n, sizeof *p);
    if (!p) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    dg_status st = DG_OK;
    int64_t tensors = 0;
    size_t dl = (size_t)(base - first) + (split ? pre : 0);
    for (int i = 0; i < n && !st; i++) {
        char path[4096];
        if (split) snprintf(path, sizeof path, "%.*s-%05d-of-%05d.gguf", (int)dl, first, i + 1, n);
        else snprintf(path, sizeof path, "%s", first);
        if ((st = dg_gguf_open(path, &p[i], err))) break;
        tensors += dg_gguf_tensor_count(p[i]);
        if (split && ((st = check_split_key(p[i], "split.no", i, err)) || (st = check_split_key(p[i], "split.count", n, err)))) break;
    }
    if (!st && split) st = check_split_key(p[0], "split.tensors.count", tensors, err);
    if (st) {
        for (int i = 0; i < n; i++) dg_gguf_close(p[i]);
        free(p);
        return st;
    }
    *parts = p;
    *n_parts = n;
    return DG_OK;
}
