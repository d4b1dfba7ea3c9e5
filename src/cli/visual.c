#include "cli/visual.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

struct vis {
    int fd, L;
    vis_token_fn text;
    void *user;
    char *buf;              /* one frame, written with one write() */
    size_t len, cap;
    int drawn_lines;        /* lines of the previous frame, to move back over */
    double last;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

vis *vis_new(int fd, int L, vis_token_fn text, void *user) {
    if (!isatty(fd)) return NULL;
    vis *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->fd = fd;
    v->L = L;
    v->text = text;
    v->user = user;
    v->cap = (size_t)L * 96 + 4096;     /* escapes + a token's text per position */
    v->buf = malloc(v->cap);
    if (!v->buf) { free(v); return NULL; }
    return v;
}

void vis_free(vis *v) {
    if (!v) return;
    free(v->buf);
    free(v);
}

static void put(vis *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v->buf + v->len, v->cap - v->len, fmt, ap);
    va_end(ap);
    if (n > 0) v->len += (size_t)n < v->cap - v->len ? (size_t)n : v->cap - v->len - 1;
}

static void flush(vis *v) {
    size_t off = 0;
    while (off < v->len) {
        ssize_t w = write(v->fd, v->buf + off, v->len - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    v->len = 0;
}

static void term_size(int fd, int *cols, int *rows) {
    struct winsize ws;
    *cols = 80;
    *rows = 24;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) { *cols = ws.ws_col; *rows = ws.ws_row; }
}

/* Move to the first line of the previous frame and clear everything below. */
static void rewind_view(vis *v) {
    if (v->drawn_lines > 0) put(v, "\r\x1b[%dA\x1b[J", v->drawn_lines);
    else put(v, "\r\x1b[J");
}

/* The end of the committed text that fits one line (pieces, newlines shown as spaces). */
static void committed_tail(vis *v, const int32_t *ids, int n, int cols) {
    char tok[64], line[1024];
    size_t len = 0;
    int i = n;
    /* walk back while the pieces fit, then print them in order */
    while (i > 0 && n - i < 256) {
        const char *s = v->text ? v->text(v->user, ids[i - 1], tok, sizeof tok) : NULL;
        char num[16];
        if (!s) { snprintf(num, sizeof num, "%d ", ids[i - 1]); s = num; }
        size_t l = strlen(s);
        if (len + l + 4 > (size_t)cols || len + l + 4 > sizeof line) break;
        len += l;
        i--;
    }
    len = 0;
    for (int k = i; k < n; k++) {
        const char *s = v->text ? v->text(v->user, ids[k], tok, sizeof tok) : NULL;
        char num[16];
        if (!s) { snprintf(num, sizeof num, "%d ", ids[k]); s = num; }
        size_t l = strlen(s);
        if (len + l >= sizeof line) break;
        memcpy(line + len, s, l);
        len += l;
    }
    line[len] = 0;
    for (size_t k = 0; k < len; k++)
        if (line[k] == '\n' || line[k] == '\r' || line[k] == '\t') line[k] = ' ';
    put(v, "\x1b[2m%s\x1b[0m%s\n", i > 0 ? "..." : "", line);
}

void vis_frame(vis *v, const dg_gen_frame *f, const int32_t *committed, int n_committed) {
    if (!v) return;
    double t = now();
    int final = f->stop || f->step == f->max_steps;
    if (!final && t - v->last < 0.050) return;
    v->last = t;
    int cols, rows;
    term_size(v->fd, &cols, &rows);
    v->len = 0;
    put(v, "\x1b[?2026h");      /* synchronised update: terminals that know it draw atomically */
    rewind_view(v);
    put(v, "\x1b[1mcanvas %d  step %2d/%d\x1b[0m  T %.4f  mean H %.4f%s  accepted %d/%d%s  committed %d\n",
        f->canvas, f->step, f->max_steps, f->T, f->mean_entropy, f->confident ? " (<conf)" : "", f->n_accept, f->L,
        f->stable ? "  stable" : "", n_committed);
    int lines = 1, col = 0, max_lines = rows > 3 ? rows - 2 : 1;
    if (n_committed > 0 && max_lines > 2) { committed_tail(v, committed, n_committed, cols); lines++; }
    char tok[64];
    for (int i = 0; i < f->L && lines < max_lines; i++) {
        const char *s = v->text ? v->text(v->user, f->argmax[i], tok, sizeof tok) : NULL;
        char num[16];
        if (!s) { snprintf(num, sizeof num, "%d", f->argmax[i]); s = num; }
        int w = (int)strlen(s) + 1;
        if (col + w > cols && col > 0) { put(v, "\n"); lines++; col = 0; if (lines >= max_lines) break; }
        /* accepted positions (kept this step) bright, the rest (renoised) dim */
        put(v, "%s%s\x1b[0m ", f->accept[i] ? "\x1b[1;32m" : "\x1b[2m", s);
        col += w;
    }
    put(v, "\n\x1b[?2026l");
    v->drawn_lines = lines + 1;     /* header + token rows */
    flush(v);
}

void vis_end(vis *v) {
    if (!v) return;
    v->len = 0;
    rewind_view(v);
    flush(v);
    v->drawn_lines = 0;
}
