/* The task-balance table of `dgemma bench`: per parallel loop of the context, what the threads
 * got. "fill" = tasks / (threads x fair share): the share of thread time a loop of equal tasks
 * can keep busy at best (1.00: every thread gets the same number of tasks). */
#include <stdio.h>
#include "cli/cli.h"

void cli_print_task_balance(const dg_ctx *ctx, long threads) {
    dg_task_balance tb[32];
    int n = dg_ctx_task_balance(ctx, tb, 32);
    if (n <= 0) return;
    printf("task balance (%ld threads; per run: tasks, most on one thread, fair share, idle threads, fill)\n", threads);
    for (int i = 0; i < n; i++) {
        double r = (double)tb[i].runs;
        printf("  %-16s %6ld runs %8.1f tasks %6.1f max %6.1f fair %5.1f idle  %.2f\n", tb[i].loop, tb[i].runs,
               tb[i].tasks / r, tb[i].max_thread / r, tb[i].fair / r, tb[i].idle / r,
               tb[i].tasks / ((double)threads * tb[i].fair));
    }
}
