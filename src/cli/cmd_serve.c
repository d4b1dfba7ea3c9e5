/* dgemma serve: the OpenAI-compatible HTTP server (src/server/). SIGINT/SIGTERM are taken with
 * sigwait on the main thread (blocked everywhere else), so no signal handler and no global flag:
 * the first signal stops gracefully, in-flight requests get --grace seconds. */
#include "cli/cli.h"
#include "server/server.h"
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: dgemma serve -m DIR [options]\n"
        "  -m, --model DIR        model directory, or a .gguf file\n"
        "  --host ADDR            listen address                          (127.0.0.1)\n"
        "  --port N               TCP port; 0 = any free port (printed)   (8080)\n"
        "  -t, --threads N        threads (0 = all CPUs)                  (0)\n"
        "  --max-batch B          requests denoised together, lockstep    (4)\n"
        "  --queue N              requests that may wait for a slot; more get 503 (64)\n"
        "  --ctx N                tokens per request (prompt + canvases)  (4096)\n"
        "  --api-key KEY          require 'Authorization: Bearer KEY' on /v1 (env DGEMMA_API_KEY)\n"
        "  --tokenizer FILE       tokenizer.json or .gguf (default: the model's)\n"
        "  --model-id NAME        the id /v1/models reports (default: DIR's name)\n"
        "  --max-body BYTES       largest request body; more gets 413      (4194304)\n"
        "  --grace S              on SIGTERM/SIGINT, seconds running requests may finish (10)\n"
        "  --max-steps N          most denoising steps per canvas a request may ask for (256)\n"
        "  --max-canvases N       most canvases per request (max_tokens / canvas length) (16)\n"
        "  --request-timeout S    a running request is cut after S seconds; 0 = never (600)\n"
        "  --max-conn-per-ip N    open connections per client address; 0 = no limit (16)\n"
        "  --max-conn N           open connections in all                   (256)\n"
        "  --recv-timeout S       seconds to send a request's headers and body, or to\n"
        "                         start the next one on a kept-alive connection; 0 = never (30)\n"
        "  --log-every S          seconds between throughput lines while busy (10)\n"
        "  --quiet                no request log and no throughput lines on stderr\n"
        "  --layers N             keep only the first N layers (debug)\n"
        "Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, /health, /metrics.\n");
}

int cmd_serve(int argc, char **argv) {
    srv_config cfg = {.host = "127.0.0.1", .port = 8080, .max_batch = 4, .queue = 64, .ctx_tokens = 4096,
                      .max_body = 4u << 20, .grace_s = 10, .max_steps = 256, .max_canvases = 16, .timeout_s = 600,
                      .max_conn_per_ip = 16, .max_conn = 256, .recv_timeout_s = 30, .log = stderr, .log_every_s = 10};
    cfg.api_key = getenv("DGEMMA_API_KEY");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long n;
        double d;
#define VAL() do { if (!(v = cli_value(argc, argv, &i))) return 2; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { VAL(); cfg.model_dir = v; }
        else if (!strcmp(a, "--host")) { VAL(); cfg.host = v; }
        else if (!strcmp(a, "--port")) { VAL(); if (!cli_int(a, v, 0, 65535, &n)) return 2; cfg.port = (int)n; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { VAL(); if (!cli_int(a, v, 0, 4096, &n)) return 2; cfg.threads = (int)n; }
        else if (!strcmp(a, "--max-batch")) { VAL(); if (!cli_int(a, v, 1, 64, &n)) return 2; cfg.max_batch = (int)n; }
        else if (!strcmp(a, "--queue")) { VAL(); if (!cli_int(a, v, 0, 100000, &n)) return 2; cfg.queue = (int)n; }
        else if (!strcmp(a, "--ctx")) { VAL(); if (!cli_int(a, v, 16, INT_MAX / 2, &n)) return 2; cfg.ctx_tokens = (int)n; }
        else if (!strcmp(a, "--api-key")) { VAL(); cfg.api_key = v; }
        else if (!strcmp(a, "--tokenizer")) { VAL(); cfg.tokenizer = v; }
        else if (!strcmp(a, "--model-id")) { VAL(); cfg.model_id = v; }
        else if (!strcmp(a, "--max-body")) { VAL(); if (!cli_int(a, v, 1024, 1L << 30, &n)) return 2; cfg.max_body = (size_t)n; }
        else if (!strcmp(a, "--grace")) { VAL(); if (!cli_double(a, v, 0, 86400, &d)) return 2; cfg.grace_s = d; }
        else if (!strcmp(a, "--max-steps")) { VAL(); if (!cli_int(a, v, 1, 100000, &n)) return 2; cfg.max_steps = (int)n; }
        else if (!strcmp(a, "--max-canvases")) { VAL(); if (!cli_int(a, v, 1, 1 << 20, &n)) return 2; cfg.max_canvases = (int)n; }
        else if (!strcmp(a, "--request-timeout")) { VAL(); if (!cli_double(a, v, 0, 1e7, &d)) return 2; cfg.timeout_s = d; }
        else if (!strcmp(a, "--max-conn-per-ip")) { VAL(); if (!cli_int(a, v, 0, 100000, &n)) return 2; cfg.max_conn_per_ip = (int)n; }
        else if (!strcmp(a, "--max-conn")) { VAL(); if (!cli_int(a, v, 1, 100000, &n)) return 2; cfg.max_conn = (int)n; }
        else if (!strcmp(a, "--recv-timeout")) { VAL(); if (!cli_double(a, v, 0, 86400, &d)) return 2; cfg.recv_timeout_s = d; }
        else if (!strcmp(a, "--log-every")) { VAL(); if (!cli_double(a, v, 0.1, 86400, &d)) return 2; cfg.log_every_s = d; }
        else if (!strcmp(a, "--quiet")) cfg.log = NULL;
        else if (!strcmp(a, "--layers")) { VAL(); if (!cli_int(a, v, 1, 100000, &n)) return 2; cfg.layers = (int)n; }
        else { fprintf(stderr, "dgemma serve: unknown option '%s'\n", a); usage(stderr); return 2; }
#undef VAL
    }
    if (!cfg.model_dir) { fprintf(stderr, "dgemma serve: -m DIR is required\n"); return 2; }
    dg_ctx_params env = {0};    /* DGEMMA_ISA / DGEMMA_INT8, as every other command */
    cli_env_ctx(&env);
    cfg.isa = env.isa;
    cfg.int8 = env.int8;
    /* Block the stop signals before any thread exists: every thread inherits the mask and only
     * sigwait below receives them. Writes to closed sockets must not kill the process. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    srv *s = NULL;
    dg_error err = {0};
    if (srv_start(&cfg, &s, &err)) return cli_report(&err);
    fprintf(stderr, "dgemma serve: listening on http://%s:%d (max batch %d, queue %d, ctx %d tokens)\n",
            strchr(cfg.host, ':') ? "[::]" : cfg.host, srv_port(s), cfg.max_batch, cfg.queue, cfg.ctx_tokens);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "dgemma serve: %s, stopping (running requests get %.0f s)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT", cfg.grace_s);
    srv_stop(s);
    fprintf(stderr, "dgemma serve: stopped\n");
    return 0;
}
