/* dgemma — command dispatcher. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

typedef struct { const char *name; int (*fn)(int, char **); const char *help; } command;

static const command commands[] = {
    {"check-golden", cmd_check_golden, "check-golden DIR        compare against golden reference outputs"},
    {"mkmodel", cmd_mkmodel, "mkmodel --preset P ...  write a synthetic checkpoint (tiny, 26b-a4b)"},
    {"run", cmd_run, "run -m DIR --prompt-ids IDS  generate (see 'dgemma run --help')"},
    {"chat", cmd_chat, "chat -m DIR             interactive multi-turn chat (keeps the cache between turns)"},
    {"quantize", cmd_quantize, "quantize IN OUT --recipe R  MLX-quantize an HF bf16 checkpoint (mlx4, mlx8)"},
    {"bench", cmd_bench, "bench -m DIR            prefill and denoising-step speed with a breakdown"},
    {"serve", cmd_serve, "serve -m DIR            OpenAI-compatible HTTP server (see 'dgemma serve --help')"},
    {"compare", cmd_compare, "compare -m DIR          fast kernel paths vs the precise path (logits error, argmax)"},
    {"kernels", cmd_kernels, "kernels                 the kernel paths of this build on this CPU (DGEMMA_ISA values)"},
    {"info", cmd_info, "info -m DIR             print a checkpoint's geometry and size"},
    {"tokenize", cmd_tokenize, "tokenize -m DIR TEXT|-  print the token ids of a text"},
    {"detokenize", cmd_detokenize, "detokenize -m DIR IDS|- print the text of token ids"},
    {"template", cmd_template, "template -m DIR --messages F.json  render the chat prompt and its ids"},
};

static void usage(FILE *f) {
    fprintf(f, "dgemma %s — DiffusionGemma inference engine\n\nusage: dgemma COMMAND [options]\n\n", DGEMMA_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) fprintf(f, "  %s\n", commands[i].help);
    fprintf(f, "\nRun 'dgemma COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) { printf("dgemma %s\n", DGEMMA_VERSION); return 0; }
    if (!cli_env_check()) return 2;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "dgemma: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
