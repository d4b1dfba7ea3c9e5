/* Live canvas view for `dgemma run --visual` (GENERATION.md §8): redraws the step's argmax
 * canvas in place (cursor-up + erase), one buffered write per frame, at most one frame per
 * 50 ms. Only reads the frames it is given, so it cannot change any decision. */
#ifndef DG_CLI_VISUAL_H
#define DG_CLI_VISUAL_H
#include <stddef.h>
#include <stdint.h>
#include "dgemma.h"

/* Hook: writes the text of token `id` into buf (NUL-terminated, at most n bytes) and returns
 * buf, or NULL to show the id as a number. Until the tokenizer lands every id is a number. */
typedef const char *(*vis_token_fn)(void *user, int32_t id, char *buf, size_t n);

typedef struct vis vis;
/* Returns NULL (view off) when fd is not a terminal. */
vis *vis_new(int fd, int L, vis_token_fn text, void *user);
void vis_free(vis *v);
/* Draws a frame unless the previous one is less than 50 ms old (the halting step and the last
 * step of a canvas are always drawn). committed: the ids committed before this canvas, whose
 * end is shown above the canvas. */
void vis_frame(vis *v, const dg_gen_frame *f, const int32_t *committed, int n_committed);
/* Erases the view so that the final output starts on a clean screen. */
void vis_end(vis *v);

#endif
