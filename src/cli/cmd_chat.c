/* dgemma chat -m DIR: interactive multi-turn chat. The K/V cache is kept between turns, so
 * each turn encodes only its own tokens: the answer's last canvas (up to its end of turn) and
 * the new user turn. The history is kept as generated (thinking included), not re-rendered.
 * Ctrl-C stops the current answer only; the conversation goes on. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/textio.h"

#define TOK_END_OF_TURN 106

/* The one piece of global mutable state the house rules allow: set by SIGINT. A second
 * Ctrl-C before the turn has stopped ends the program. */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
    (void)sig;
    if (interrupted) _exit(130);
    interrupted = 1;
}

typedef struct chat_state {
    textio_stream *out;
    int32_t *last;          /* the last committed canvas, to encode before the next turn */
    int n_last, L;
    int n_shown;            /* canvases passed to on_canvas in this turn */
} chat_state;

static int on_canvas(void *user, int canvas, const int32_t *ids, int L, int n_emit, int n_steps) {
    chat_state *s = user;
    textio_stream_push(s->out, ids, n_emit);
    memcpy(s->last, ids, (size_t)L * sizeof *ids);
    s->n_last = n_emit < L ? n_emit + 1 : L;    /* keep the EOS itself */
    s->n_shown++;
    return interrupted;
}

static int on_step(void *user, const dg_gen_frame *f) { (void)user; (void)f; return interrupted; }
static int on_prefill(void *user, int done, int total) { (void)user; (void)done; (void)total; return interrupted; }

static void usage(FILE *f) {
    fprintf(f, "usage: dgemma chat -m DIR [options]\n"
               "  --system TEXT            system prompt\n"
               "  --think                  enable the thinking channel\n"
               "  --show-thinking          print the thinking channel\n"
               "%s"
               "  -t, --threads N          threads (0 = all CPUs)\n"
               "  -c, --ctx N              context tokens (default and most: the model's context length)\n"
               "  --tokenizer FILE         tokenizer.json to use instead of DIR/tokenizer.json\n"
               "Commands at the prompt: /clear (forget the conversation), /stats, /quit (or Ctrl-D).\n"
               "Ctrl-C stops the answer being generated; what was committed of it stays in the conversation.\n"
               "A message that starts with '/' is sent as '//...'.\n", cli_gen_usage);
}

/* After a cancelled turn the cache holds a prefix of this turn's input plus the canvases
 * committed before the cancel (the sliding layers cannot be cut back). Completes the input, so
 * that the history stays a well-formed conversation: the user turn and the partial answer. */
static dg_status keep_cancelled_turn(dg_ctx *ctx, int len0, const int32_t *ids, int k, dg_error *err) {
    int done = dg_cache_len(ctx, 0) - len0;
    return done < k ? dg_encode(ctx, 0, ids + done, k - done, NULL, NULL, err) : DG_OK;
}

int cmd_chat(int argc, char **argv) {
    const char *dir = NULL, *system_prompt = NULL, *tok_path = NULL;
    long threads = 0, ctx_tokens = 0;
    cli_gen_opts go;
    cli_gen_opts_init(&go);
    int think = 0, show_thinking = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int g = cli_gen_opt(&go, argc, argv, &i);
        if (g < 0) return 2;
        if (g) continue;
#define VAL() do { if (!(v = cli_value(argc, argv, &i))) return 2; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { VAL(); dir = v; }
        else if (!strcmp(a, "--system")) { VAL(); system_prompt = v; }
        else if (!strcmp(a, "--tokenizer")) { VAL(); tok_path = v; }
        else if (!strcmp(a, "--think")) think = 1;
        else if (!strcmp(a, "--show-thinking")) show_thinking = 1;
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { VAL(); if (!cli_int(a, v, 0, 4096, &threads)) return 2; }
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) { VAL(); if (!cli_int(a, v, 64, 1 << 30, &ctx_tokens)) return 2; }
        else { fprintf(stderr, "dgemma chat: unknown option '%s'\n", a); usage(stderr); return 2; }
#undef VAL
    }
    if (!dir) { usage(stderr); return 2; }
    dg_error err = {0};
    dg_tokenizer *tok = textio_load(tok_path, dir, &err);
    if (!tok) return cli_report(&err);
    dg_model *m = NULL;
    dg_ctx *ctx = NULL;
    dg_generator *gen = NULL;
    chat_state s = {0};
    int rc = 1;
    if (dg_model_load(dir, NULL, &m, &err)) { cli_report(&err); goto out; }
    dg_model_info info;
    dg_model_get_info(m, &info);
    dg_gen_params p;
    dg_model_gen_defaults(m, &p);
    if (cli_gen_opts_apply(&go, &p, &err)) { cli_report(&err); goto out; }
    const uint64_t seed = p.seed;
    if (info.max_positions > 0 && (ctx_tokens == 0 || ctx_tokens > info.max_positions)) {
        if (ctx_tokens) fprintf(stderr, "(-c %ld is more than the model's context length: using %d)\n", ctx_tokens, info.max_positions);
        ctx_tokens = info.max_positions;
    }
    if (ctx_tokens == 0) ctx_tokens = 8192;
    dg_ctx_params cp = {.n_threads = (int)threads, .max_tokens = (int)ctx_tokens};
    cli_env_ctx(&cp);
    if (dg_ctx_new(m, &cp, &ctx, &err) || dg_generator_new(ctx, (int)threads, &gen, &err)) { cli_report(&err); goto out; }
    s.L = info.canvas_length;
    s.last = malloc((size_t)s.L * sizeof *s.last);
    if (!s.last) goto out;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;          /* no SA_RESTART: Ctrl-C at the prompt ends the read */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    fprintf(stderr, "dgemma chat — %s (%d layers, %ld tokens of context). /clear, /stats, /quit\n", dir, info.n_layers, ctx_tokens);
    char line[16384];
    int turns = 0;
    dg_gen_result last = {0};
    for (;;) {
        fputs("\n> ", stderr);
        if (!fgets(line, sizeof line, stdin)) {
            if (!interrupted) break;
            interrupted = 0;
            clearerr(stdin);
            fputs("\n(Ctrl-C: /quit or Ctrl-D to leave)\n", stderr);
            continue;
        }
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        const char *msg = line;
        if (line[0] == '/' && line[1] == '/') msg = line + 1;
        else if (line[0] == '/') {
            if (!strcmp(line, "/quit") || !strcmp(line, "/exit")) break;
            if (!strcmp(line, "/clear")) { dg_cache_clear(ctx, 0); turns = 0; s.n_last = 0; fputs("(conversation cleared)\n", stderr); continue; }
            if (!strcmp(line, "/stats")) {
                fprintf(stderr, "turns %d | cached tokens %d of %ld | last turn: prompt %d tokens, prefill %.3f s, %d canvases, "
                        "%d steps, %.3f s/step, %d tokens\n", turns, dg_cache_len(ctx, 0), ctx_tokens, last.prompt_tokens,
                        last.t_prefill, last.n_canvases, last.n_steps, last.n_steps ? last.t_steps / last.n_steps : 0, last.n_emitted);
                continue;
            }
            fprintf(stderr, "(unknown command '%.*s': /clear, /stats, /quit; send a message that starts with '/' as '//...')\n",
                    (int)strcspn(line, " "), line);
            continue;
        }
        /* what the cache lacks: the previous answer's last canvas, then this turn */
        int32_t *turn = NULL, *ids = NULL;
        int n_turn = 0;
        if (textio_user_turn(tok, system_prompt, msg, think, turns == 0, &turn, &n_turn, &err)) { cli_report(&err); continue; }
        int n = s.n_last + n_turn + 1;
        ids = malloc((size_t)n * sizeof *ids);
        if (!ids) { free(turn); break; }
        memcpy(ids, s.last, (size_t)s.n_last * sizeof *ids);
        int k = s.n_last;
        if (turns > 0 && (k == 0 || ids[k - 1] != TOK_END_OF_TURN)) ids[k++] = TOK_END_OF_TURN;
        memcpy(ids + k, turn, (size_t)n_turn * sizeof *ids);
        k += n_turn;
        free(turn);
        long need = (long)dg_cache_len(ctx, 0) + k + (long)((p.max_new_tokens + s.L - 1) / s.L) * s.L;
        if (need > ctx_tokens) {
            fprintf(stderr, "(the conversation needs %ld tokens of context, more than -c %ld: /clear to start over)\n", need, ctx_tokens);
            free(ids);
            continue;
        }
        dg_gen_result_free(&last);
        memset(&last, 0, sizeof last);
        s.out = textio_stream_new(tok, stdout, show_thinking);
        s.n_last = 0;       /* the previous canvas is in ids now */
        s.n_shown = 0;
        const int len0 = dg_cache_len(ctx, 0);
        interrupted = 0;
        dg_gen_callbacks cb = {.on_prefill = on_prefill, .on_step = on_step, .on_canvas = on_canvas, .user = &s};
        p.seed = seed + (uint64_t)turns;
        dg_status st = dg_generate(gen, 0, ids, k, &p, &cb, &last, &err);
        textio_stream_end(s.out);
        s.out = NULL;
        putchar('\n');
        fflush(stdout);
        const int cancelled = st == DG_ERR_CANCELLED;
        if (cancelled) st = keep_cancelled_turn(ctx, len0, ids, k, &err);
        interrupted = 0;
        free(ids);
        if (st) { cli_report(&err); dg_cache_clear(ctx, 0); turns = 0; s.n_last = 0; fputs("(conversation cleared)\n", stderr); continue; }
        /* the last canvas shown is in the cache already unless it ended the turn */
        if (s.n_shown && (dg_cache_len(ctx, 0) - len0 - k) / s.L == s.n_shown) s.n_last = 0;
        if (cancelled) fputs("(interrupted: the answer so far stays in the conversation)\n", stderr);
        turns++;
    }
    dg_gen_result_free(&last);
    rc = 0;
out:
    free(s.last);
    dg_generator_free(gen);
    dg_ctx_free(ctx);
    dg_model_free(m);
    dg_tokenizer_free(tok);
    return rc;
}
