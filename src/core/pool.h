/* A persistent thread pool: workers sleep on a condition variable between jobs.
 * A job is fn(user, task, thread) for task in [0, n_tasks); tasks are handed out
 * dynamically (atomic counter), so uneven tasks (MoE experts) balance themselves. */
#ifndef DG_CORE_POOL_H
#define DG_CORE_POOL_H

typedef struct dg_pool dg_pool;
typedef void (*dg_task_fn)(void *user, int task, int thread);

dg_pool *dg_pool_new(int n_threads);   /* NULL on failure */
void dg_pool_free(dg_pool *p);
int dg_pool_size(const dg_pool *p);
/* Runs all tasks and returns when they are done; the calling thread works as thread 0. */
void dg_pool_run(dg_pool *p, int n_tasks, dg_task_fn fn, void *user);

#endif
