/* The dgemma command line: one file per subcommand, each `int cmd_X(int argc, char **argv)`
 * returning the process exit status. Shared argument helpers live in args.c. */
#ifndef DG_CLI_H
#define DG_CLI_H
#include <stdint.h>
#include "dgemma.h"

int cmd_check_golden(int argc, char **argv);
int cmd_mkmodel(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_kernels(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_quantize(int argc, char **argv);

/* Strict numeric parsing for flags: the whole string must parse and lie in [lo, hi].
 * On failure prints "dgemma: FLAG: ..." to stderr and returns 0. */
int cli_int(const char *flag, const char *s, long lo, long hi, long *out);
int cli_double(const char *flag, const char *s, double lo, double hi, double *out);
int cli_u64(const char *flag, const char *s, uint64_t *out);
/* Fetches the value of a flag that takes one: argv[++*i], or reports a missing value. */
const char *cli_value(int argc, char **argv, int *i);
/* Reads a whole file ("-": standard input), NUL-terminated; prints the error and returns NULL. */
char *cli_read_file(const char *path);
/* Prints "dgemma: <msg>" for an error and returns exit status 1. */
int cli_report(const dg_error *err);

/* The generation knobs shared by run and chat: -1 (have_seed 0) = the model's default. */
typedef struct cli_gen_opts {
    long max_new, steps, stability;
    double bound, tmin, tmax, conf;
    uint64_t seed;
    int have_seed;
} cli_gen_opts;
extern const char cli_gen_usage[];     /* their lines for a usage text */
void cli_gen_opts_init(cli_gen_opts *o);
/* argv[*i] a generation flag: consumes it and its value, returns 1; not one: 0; a bad value:
 * prints the error, returns -1. */
int cli_gen_opt(cli_gen_opts *o, int argc, char **argv, int *i);
/* Overrides p's defaults with the flags given, then validates p. */
dg_status cli_gen_opts_apply(const cli_gen_opts *o, dg_gen_params *p, dg_error *err);

/* The environment every context the CLI makes honours: DGEMMA_ISA=NAME (the
 * kernel path, unless a flag chose one) and DGEMMA_INT8=1 (int8 activations for 4-bit weights).
 * cli_env_check validates it once at start-up (prints the error, returns 0). */
int cli_env_check(void);
void cli_env_ctx(dg_ctx_params *cp);

/* mkdir DIR unless it already is a directory; prints the error and returns 0 on failure. */
int cli_make_dir(const char *dir);

/* Progress of a checkpoint write (dg_write_progress_fn) printed to stderr. */
typedef struct cli_meter { double t0, last; uint64_t done; } cli_meter;
void cli_meter_start(cli_meter *m);
void cli_write_progress(void *user, uint64_t done, uint64_t total);
double cli_meter_elapsed(const cli_meter *m);

/* bench: the context's task-balance counts (dg_ctx_task_balance). */
void cli_print_task_balance(const dg_ctx *ctx, long threads);

#endif
