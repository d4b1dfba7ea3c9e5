/* dgemma run: generate from a prompt (GENERATION.md §2), print the ids (text once the
 * tokenizer lands), a stats line with the metrics of §7 (or one JSON record), optionally a
 * live canvas view (§8). Ctrl-C cancels at the next step, prints the partial output, exits 130. */
#include "cli/cli.h"
#include "cli/textio.h"
#include "cli/visual.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one piece of global mutable state the house rules allow: set by SIGINT. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) { (void)sig; interrupted = 1; }



typedef struct run_state {
    int json, show_thinking;
    vis *view;
    textio_stream *text;    /* committed text out (NULL: print ids) */
    int committed;          /* tokens emitted so far (before any EOS) */
    int32_t *out;           /* emitted ids */
    int stream;             /* print ids as canvases commit */
} run_state;

static int on_step(void *user, const dg_gen_frame *f) {
    run_state *s = user;
    vis_frame(s->view, f, s->out, s->committed);
    return interrupted;
}

/* Long prefills report progress on stderr (a terminal only: logs stay clean). */
static int on_prefill(void *user, int done, int total) {
    (void)user;
    if (total >= 512 && isatty(STDERR_FILENO))
        fprintf(stderr, "\rprefill %d / %d tokens (%d%%)%s", done, total, (int)(100.0 * done / total), done == total ? "\n" : "");
    return interrupted;
}

static int on_canvas(void *user, int canvas, const int32_t *ids, int L, int n_emit, int n_steps) {
    run_state *s = user;
    memcpy(s->out + s->committed, ids, (size_t)n_emit * sizeof *ids);
    if (s->stream && s->text) textio_stream_push(s->text, ids, n_emit);
    else if (s->stream) {
        for (int i = 0; i < n_emit; i++) printf("%s%d", s->committed + i ? " " : "", ids[i]);
        fflush(stdout);
    }
    s->committed += n_emit;
    return interrupted;
}

static void usage(FILE *f) {
    fprintf(f,
        "usage: dgemma run -m DIR (--prompt-ids \"1 2 3\" | -p TEXT) [options]\n"
        "  -m, --model DIR          model directory, or a .gguf file (first part of a split set)\n"
        "  --prompt-ids IDS         prompt token ids (chat template already applied), space/comma separated;\n"
        "                           @FILE reads them from a file\n"
        "  -p, --prompt TEXT        a user message, rendered with the chat template (tokenizer.json in DIR,\n"
        "                           else the GGUF's tokenizer)\n"
        "  -f, --file FILE          the user message from a file ('-': standard input)\n"
        "  --system TEXT            system prompt (with -p)\n"
        "  --think                  enable the thinking channel in the chat template (with -p)\n"
        "  --tokenizer FILE         tokenizer.json (or .gguf) to use instead of the model's\n"
        "  --ids                    print token ids instead of text\n"
        "%s"
        "  -t, --threads N          threads (0 = all CPUs)\n"
        "  --layers N               keep only the first N layers (debug)\n"
        "  --json                   print one JSON record instead of ids + stats\n"
        "  --visual                 live canvas view per step (terminal only)\n"
        "  --show-thinking          keep the thinking channel in the text output\n", cli_gen_usage);
}

/* "1 2 3" or "1,2,3": non-negative integers; range against the vocabulary is checked later. */
static int parse_ids(const char *s, int32_t **out, int *n) {
    size_t cap = 16;
    int32_t *ids = malloc(cap * sizeof *ids);
    int k = 0;
    if (!ids) return 0;
    for (const char *p = s;;) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX || (*end && !strchr(" ,\t\n", *end))) {
            fprintf(stderr, "dgemma: --prompt-ids: '%.*s' is not a token id\n", (int)strcspn(p, " ,\t\n"), p);
            free(ids);
            return 0;
        }
        if ((size_t)k == cap) {
            int32_t *t = realloc(ids, (cap *= 2) * sizeof *ids);
            if (!t) { free(ids); return 0; }
            ids = t;
        }
        ids[k++] = (int32_t)v;
        p = end;
    }
    *out = ids;
    *n = k;
    return 1;
}

static void print_json(const dg_gen_result *r, const run_state *s, const dg_gen_params *p, int L, const dg_tokenizer *tok) {
    cJSON *o = cJSON_CreateObject();
    char *text = NULL, *content = NULL, *reasoning = NULL, *calls = NULL;
    size_t len = 0;
    if (tok && !dg_detokenize(tok, s->out, (size_t)s->committed, 0, &text, &len, NULL) &&
        !dg_chat_parse(text, &content, &reasoning, &calls, NULL)) {
        cJSON_AddStringToObject(o, "text", content ? content : "");
        if (reasoning && *reasoning) cJSON_AddStringToObject(o, "reasoning", reasoning);
        if (calls) cJSON_AddItemToObject(o, "tool_calls", cJSON_Parse(calls));
    }
    free(text); free(content); free(reasoning); free(calls);
    cJSON_AddNumberToObject(o, "prompt_tokens", r->prompt_tokens);
    cJSON_AddItemToObject(o, "output_ids", cJSON_CreateIntArray(s->out, s->committed));
    cJSON_AddNumberToObject(o, "committed_tokens", r->n_emitted);
    cJSON_AddStringToObject(o, "finish", dg_finish_name(r->finish));
    if (r->stop_id >= 0) cJSON_AddNumberToObject(o, "stop_id", r->stop_id);
    else cJSON_AddNullToObject(o, "stop_id");
    cJSON_AddNumberToObject(o, "canvas_length", L);
    cJSON_AddNumberToObject(o, "canvases", r->n_canvases);
    cJSON_AddItemToObject(o, "steps_per_canvas", cJSON_CreateIntArray(r->steps, r->n_canvases));
    cJSON_AddNumberToObject(o, "steps", r->n_steps);
    cJSON_AddNumberToObject(o, "early_halts", r->n_early_halt);
    cJSON_AddNumberToObject(o, "prefill_s", r->t_prefill);
    cJSON_AddNumberToObject(o, "s_per_step", r->n_steps ? r->t_steps / r->n_steps : 0);
    cJSON_AddNumberToObject(o, "sampler_s_per_step", r->n_steps ? r->t_sampler / r->n_steps : 0);
    cJSON_AddNumberToObject(o, "commit_s", r->t_commit);
    cJSON_AddNumberToObject(o, "ttfc_s", r->t_first_canvas);
    cJSON_AddNumberToObject(o, "total_s", r->t_total);
    cJSON_AddNumberToObject(o, "committed_tokens_per_s", r->t_total > 0 ? r->n_emitted / r->t_total : 0);
    double dec = r->t_total - r->t_prefill;
    cJSON_AddNumberToObject(o, "decode_tokens_per_s", dec > 0 ? r->n_emitted / dec : 0);
    cJSON_AddNumberToObject(o, "prefill_tokens_per_s", r->t_prefill > 0 ? r->prompt_tokens / r->t_prefill : 0);
    cJSON_AddNumberToObject(o, "tokens_per_forward", r->n_steps ? (double)r->n_emitted / r->n_steps : 0);
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
    cJSON_AddStringToObject(o, "seed", seed);      /* a string: JSON numbers lose 64-bit seeds */
    char *t = cJSON_PrintUnformatted(o);
    if (t) puts(t);
    free(t);
    cJSON_Delete(o);
}

static void print_stats(const dg_gen_result *r) {
    double mean = r->n_canvases ? (double)r->n_steps / r->n_canvases : 0;
    fprintf(stderr, "prompt %d tokens | prefill %.3f s | %d canvas%s, steps/canvas", r->prompt_tokens, r->t_prefill,
            r->n_canvases, r->n_canvases == 1 ? "" : "es");
    for (int i = 0; i < r->n_canvases && i < 16; i++) fprintf(stderr, "%s%d", i ? "," : " ", r->steps[i]);
    if (r->n_canvases > 16) fprintf(stderr, ",...");
    fprintf(stderr, " (mean %.1f) | %.3f s/step (sampler %.3f) | %d committed tokens, %.2f tok/s incl. prefill | "
            "early halt %d/%d | finish %s", mean, r->n_steps ? r->t_steps / r->n_steps : 0,
            r->n_steps ? r->t_sampler / r->n_steps : 0, r->n_emitted, r->t_total > 0 ? r->n_emitted / r->t_total : 0,
            r->n_early_halt, r->n_canvases, dg_finish_name(r->finish));
    if (r->stop_id >= 0) fprintf(stderr, " (id %d)", r->stop_id);
    fputc('\n', stderr);
}

int cmd_run(int argc, char **argv) {
    const char *dir = NULL, *prompt_ids = NULL, *prompt_text = NULL;
    long threads = 0, layers = 0;
    cli_gen_opts go;
    cli_gen_opts_init(&go);
    int json = 0, visual = 0, show_thinking = 0, think = 0, print_ids = 0;
    const char *system_prompt = NULL, *tok_path = NULL;
    char *file_text = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
#define VAL() do { if (!(v = cli_value(argc, argv, &i))) return 2; } while (0)
        int g = cli_gen_opt(&go, argc, argv, &i);
        if (g < 0) { free(file_text); return 2; }
        if (g) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { VAL(); dir = v; }
        else if (!strcmp(a, "--prompt-ids")) { VAL(); prompt_ids = v; }
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) { VAL(); prompt_text = v; }
        else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            VAL();   /* long prompts: the kernel limits one argument to 128 KiB */
            free(file_text);
            if (!(file_text = cli_read_file(v))) return 2;
            prompt_text = file_text;
        }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { VAL(); if (!cli_int(a, v, 0, 4096, &threads)) return 2; }
        else if (!strcmp(a, "--layers")) { VAL(); if (!cli_int(a, v, 1, 100000, &layers)) return 2; }
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--visual")) visual = 1;
        else if (!strcmp(a, "--show-thinking")) show_thinking = 1;
        else if (!strcmp(a, "--think")) think = 1;
        else if (!strcmp(a, "--ids")) print_ids = 1;
        else if (!strcmp(a, "--system")) { VAL(); system_prompt = v; }
        else if (!strcmp(a, "--tokenizer")) { VAL(); tok_path = v; }
        else { fprintf(stderr, "dgemma run: unknown option '%s'\n", a); usage(stderr); return 2; }
#undef VAL
    }
    if (!dir || !!prompt_ids == !!prompt_text) {
        fprintf(stderr, !dir ? "dgemma run: -m DIR is required\n" : "dgemma run: give exactly one of --prompt-ids and -p/-f\n");
        free(file_text);
        return 2;
    }
    int32_t *ids = NULL;
    int n_ids = 0;
    dg_error err = {0};
    /* The tokenizer is optional with --prompt-ids (output falls back to ids). */
    dg_tokenizer *tok = textio_load(tok_path, dir, &err);
    if (!tok && (prompt_text || tok_path)) return cli_report(&err);
    if (prompt_text) {
        if (!*prompt_text) { fprintf(stderr, "dgemma run: empty prompt\n"); dg_tokenizer_free(tok); return 2; }
        if (textio_user_turn(tok, system_prompt, prompt_text, think, 1, &ids, &n_ids, &err)) {
            dg_tokenizer_free(tok);
            return cli_report(&err);
        }
    } else {
        if (prompt_ids[0] == '@') {
            if (!(file_text = cli_read_file(prompt_ids + 1))) { dg_tokenizer_free(tok); return 2; }
            prompt_ids = file_text;
        }
        if (!parse_ids(prompt_ids, &ids, &n_ids)) { dg_tokenizer_free(tok); free(file_text); return 2; }
    }
    if (n_ids == 0) { fprintf(stderr, "dgemma run: empty prompt\n"); free(ids); dg_tokenizer_free(tok); return 2; }

    int rc = 1;
    dg_model *m = NULL;
    dg_ctx *ctx = NULL;
    dg_generator *gen = NULL;
    dg_gen_result res = {0};
    run_state s = {.json = json, .show_thinking = show_thinking};
    dg_load_params lp = {.n_layers = (int)layers};
    if (dg_model_load(dir, &lp, &m, &err)) { cli_report(&err); goto out; }
    dg_model_info info;
    dg_model_get_info(m, &info);
    dg_gen_params p;
    dg_model_gen_defaults(m, &p);
    if (cli_gen_opts_apply(&go, &p, &err)) { cli_report(&err); goto out; }
    for (int i = 0; i < n_ids; i++)
        if (ids[i] >= info.vocab_size) {
            fprintf(stderr, "dgemma: prompt token %d at index %d is outside the vocabulary [0, %d)\n", ids[i], i, info.vocab_size);
            goto out;
        }
    long long n_canvases = ((long long)p.max_new_tokens + info.canvas_length - 1) / info.canvas_length;
    long long need = n_ids + n_canvases * info.canvas_length;
    if (info.max_positions > 0 && need > info.max_positions) {
        fprintf(stderr, "dgemma: prompt of %d tokens + %lld canvas(es) of %d need %lld positions; the model has %d\n", n_ids,
                n_canvases, info.canvas_length, need, info.max_positions);
        goto out;
    }
    dg_ctx_params cp = {.n_threads = (int)threads, .max_tokens = need > 8192 ? (int)need : 0, .n_seq = 1};
    cli_env_ctx(&cp);
    if (dg_ctx_new(m, &cp, &ctx, &err) || dg_generator_new(ctx, (int)threads, &gen, &err)) { cli_report(&err); goto out; }
    s.out = malloc((size_t)n_canvases * info.canvas_length * sizeof *s.out);
    if (!s.out) { fprintf(stderr, "dgemma: out of memory\n"); goto out; }
    if (visual) {
        s.view = vis_new(STDOUT_FILENO, info.canvas_length, tok ? textio_piece : NULL, tok);
        if (!s.view) fprintf(stderr, "dgemma run: --visual needs a terminal on stdout; showing plain output\n");
    }
    s.stream = !json && !s.view;
    if (tok && !print_ids && !json) s.text = textio_stream_new(tok, stdout, show_thinking);
    if (s.view && !json) fprintf(stderr, "note: synthetic checkpoints have random weights; their text is noise.\n");

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;        /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    dg_gen_callbacks cb = {.on_prefill = on_prefill, .on_step = on_step, .on_canvas = on_canvas, .user = &s};
    dg_status st = dg_generate(gen, 0, ids, n_ids, &p, &cb, &res, &err);
    sigaction(SIGINT, &old, NULL);
    vis_end(s.view);
    if (st && st != DG_ERR_CANCELLED) { if (s.stream && s.committed) putchar('\n'); cli_report(&err); goto out; }

    if (json) print_json(&res, &s, &p, info.canvas_length, tok);
    else {
        if (!s.stream && s.text) textio_stream_push(s.text, s.out, s.committed);
        else if (!s.stream)
            for (int i = 0; i < s.committed; i++) printf("%s%d", i ? " " : "", s.out[i]);
        textio_stream_end(s.text);
        s.text = NULL;
        putchar('\n');
        fflush(stdout);     /* the stats line (stderr) comes after the text */
        print_stats(&res);
    }
    fflush(stdout);
    if (st == DG_ERR_CANCELLED) { fprintf(stderr, "dgemma: interrupted\n"); rc = 130; }
    else rc = 0;
out:
    dg_gen_result_free(&res);
    vis_free(s.view);
    textio_stream_end(s.text);
    dg_tokenizer_free(tok);
    free(file_text);
    free(s.out);
    dg_generator_free(gen);
    dg_ctx_free(ctx);
    dg_model_free(m);
    free(ids);
    return rc;
}
