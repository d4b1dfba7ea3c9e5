/* Text in and out for the generating commands (run, chat): the model directory's tokenizer,
 * the chat template for a user message, and streamed output that hides the thinking channel. */
#ifndef DG_CLI_TEXTIO_H
#define DG_CLI_TEXTIO_H
#include <stdio.h>
#include "dgemma.h"

/* Loads `path` (a tokenizer.json) or, when NULL, DIR/tokenizer.json. NULL + err if absent. */
dg_tokenizer *textio_load(const char *path, const char *model_dir, dg_error *err);

/* Ids of one user turn (with an optional system turn) and the generation prompt, as the chat
 * template renders them; `first` = 1 starts a conversation (<bos>, system); otherwise the turn
 * continues a cached conversation whose previous answer ended with <turn|>. */
dg_status textio_user_turn(const dg_tokenizer *t, const char *system, const char *user, int thinking, int first,
                           int32_t **ids, int *n, dg_error *err);

/* Streams committed ids to `out` as text: specials skipped, the thinking channel hidden unless
 * show_thinking (then set off by markers), UTF-8 sequences never split. */
typedef struct textio_stream textio_stream;
textio_stream *textio_stream_new(const dg_tokenizer *t, FILE *out, int show_thinking);
void textio_stream_push(textio_stream *s, const int32_t *ids, int n);
void textio_stream_end(textio_stream *s);     /* flushes held bytes and frees */

/* Piece text of one id for the live view (spaces for U+2581). */
const char *textio_piece(void *tokenizer, int32_t id, char *buf, size_t n);

#endif
