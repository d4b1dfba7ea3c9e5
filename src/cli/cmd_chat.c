/* dgemma chat -m DIR: interactive multi-turn chat. The K/V cache is kept between turns, so
 * each turn encodes only its own tokens: the answer's last canvas (up to its end of turn) and
 * the new user turn. The history is kept as generated (thinking included), not re-rendered. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/textio.h"

#define TOK_END_OF_TURN 106

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { (void)sig; interrupted = 1; }

typedef struct chat_state {
    textio_stream *out;
    int32_t *last;          /* the last committed canvas, to encode before the next turn */
    int n_last, L;
} chat_state;

static int on_canvas(void *user, int canvas, const int32_t *ids, int L, int n_emit, int n_steps) {
    chat_state *s = user;
    textio_stream_push(s->out, ids, n_emit);
    memcpy(s->last, ids, (size_t)L * sizeof *ids);
    s->n_last = n_emit < L ? n_emit + 1 : L;    /* keep the EOS itself */
    return interrupted;
}

static int on_step(void *user, const dg_gen_frame *f) { (void)user; (void)f; return interrupted; }

static void usage(FILE *f) {
    fprintf(f, "usage: dgemma chat -m DIR [--system TEXT] [--think] [--show-thinking] [--max-new-tokens N]\n"
               "                  [--seed S] [-t THREADS] [-c CONTEXT_TOKENS] [--tokenizer FILE]\n"
               "Commands at the prompt: /clear (forget the conversation), /stats, /quit\n");
}

int cmd_chat(int argc, char **argv) {
    const char *dir = NULL, *system_prompt = NULL, *tok_path = NULL;
    long threads = 0, max_new = -1, ctx_tokens = 8192;
    uint64_t seed = 0;
    int think = 0, show_thinking = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
#define VAL() do { if (!(v = cli_value(argc, argv, &i))) return 2; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { VAL(); dir = v; }
        else if (!strcmp(a, "--system")) { VAL(); system_prompt = v; }
        else if (!strcmp(a, "--tokenizer")) { VAL(); tok_path = v; }
        else if (!strcmp(a, "--think")) think = 1;
        else if (!strcmp(a, "--show-thinking")) show_thinking = 1;
        else if (!strcmp(a, "--max-new-tokens")) { VAL(); if (!cli_int(a, v, 1, 1 << 20, &max_new)) return 2; }
        else if (!strcmp(a, "--seed")) { VAL(); if (!cli_u64(a, v, &seed)) return 2; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { VAL(); if (!cli_int(a, v, 0, 4096, &threads)) return 2; }
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) { VAL(); if (!cli_int(a, v, 64, 1 << 22, &ctx_tokens)) return 2; }
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
    if (max_new > 0) p.max_new_tokens = (int)max_new;
    dg_ctx_params cp = {.n_threads = (int)threads, .max_tokens = (int)ctx_tokens};
    cli_env_ctx(&cp);
    if (dg_ctx_new(m, &cp, &ctx, &err) || dg_generator_new(ctx, (int)threads, &gen, &err)) { cli_report(&err); goto out; }
    s.L = info.canvas_length;
    s.last = malloc((size_t)s.L * sizeof *s.last);
    if (!s.last) goto out;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    fprintf(stderr, "dgemma chat — %s (%d layers). /clear, /stats, /quit\n", dir, info.n_layers);
    char line[16384];
    int turns = 0;
    dg_gen_result last = {0};
    for (;;) {
        fputs("\n> ", stderr);
        if (!fgets(line, sizeof line, stdin)) break;
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        if (!strcmp(line, "/quit") || !strcmp(line, "/exit")) break;
        if (!strcmp(line, "/clear")) { dg_cache_clear(ctx, 0); turns = 0; s.n_last = 0; fputs("(conversation cleared)\n", stderr); continue; }
        if (!strcmp(line, "/stats")) {
            fprintf(stderr, "turns %d | cached tokens %d of %ld | last turn: prompt %d tokens, prefill %.3f s, %d canvases, "
                    "%d steps, %.3f s/step, %d tokens\n", turns, dg_cache_len(ctx, 0), ctx_tokens, last.prompt_tokens,
                    last.t_prefill, last.n_canvases, last.n_steps, last.n_steps ? last.t_steps / last.n_steps : 0, last.n_emitted);
            continue;
        }
        /* what the cache lacks: the previous answer's last canvas, then this turn */
        int32_t *turn = NULL, *ids = NULL;
        int n_turn = 0;
        if (textio_user_turn(tok, system_prompt, line, think, turns == 0, &turn, &n_turn, &err)) { cli_report(&err); continue; }
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
        interrupted = 0;
        dg_gen_callbacks cb = {.on_step = on_step, .on_canvas = on_canvas, .user = &s};
        p.seed = seed + (uint64_t)turns;
        dg_status st = dg_generate(gen, 0, ids, k, &p, &cb, &last, &err);
        textio_stream_end(s.out);
        s.out = NULL;
        free(ids);
        putchar('\n');
        if (st == DG_ERR_CANCELLED) { fputs("(interrupted; conversation cleared)\n", stderr); dg_cache_clear(ctx, 0); turns = 0; s.n_last = 0; continue; }
        if (st) { cli_report(&err); dg_cache_clear(ctx, 0); turns = 0; s.n_last = 0; continue; }
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
