/* A persistent thread pool: workers sleep on a condition variable between jobs.
 * A job is fn(user, task, thread) for task in [0, n_tasks); tasks are handed out
 * dynamically (atomic counter), so uneven tasks (MoE experts) balance themselves. */
#ifndef DG_CORE_POOL_H
#define DG_CORE_POOL_H
#include "dgemma.h"

typedef struct dg_pool dg_pool;
typedef void (*dg_task_fn)(void *user, int task, int thread);

dg_pool *dg_pool_new(int n_threads);   /* NULL on failure */
void dg_pool_free(dg_pool *p);
int dg_pool_size(const dg_pool *p);
/* Runs all tasks and returns when they are done; the calling thread works as thread 0.
 * `region` names the parallel loop for the task-balance counts (the macro passes the task
 * function's name). */
void dg_pool_run_as(dg_pool *p, const char *region, int n_tasks, dg_task_fn fn, void *user);
#define dg_pool_run(p, n_tasks, fn, user) dg_pool_run_as(p, #fn, n_tasks, fn, user)

/* Splitting a loop for this pool: the k in [lo, hi] whose unit * k equal tasks fill the threads
 * best (tasks / (threads * ceil(tasks / threads)); the smallest such k), or lo when unit * lo
 * tasks already give every thread 8 or more. */
int dg_pool_parts(const dg_pool *p, int unit, int lo, int hi);

/* Task-balance counts (benchmarks only; dg_task_balance in dgemma.h): off until
 * dg_pool_count_tasks, which allocates them once (0 when out of memory). */
#define DG_POOL_REGIONS 32
int dg_pool_count_tasks(dg_pool *p);
/* Copies up to max regions seen so far (in first-run order); returns their count. */
int dg_pool_regions(const dg_pool *p, dg_task_balance *out, int max);

#endif
