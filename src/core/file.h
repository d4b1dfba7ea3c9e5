/* Opening files a model directory must hold as regular files. open() without O_NONBLOCK waits
 * forever on a FIFO that has no writer, so the type is checked on a non-blocking descriptor
 * before anything reads it. */
#ifndef DG_CORE_FILE_H
#define DG_CORE_FILE_H
#include <stddef.h>
#include "dgemma.h"

/* A read-only descriptor of the regular file `path` and its size, or -1 with err set (DG_ERR_IO). */
int dg_open_regular(const char *path, size_t *size, dg_error *err);
/* Reads a whole regular file (at most 256 MiB), NUL-terminated; the caller frees *out. */
dg_status dg_read_file(const char *path, char **out, size_t *len, dg_error *err);
/* 1 if something (a file of any type) exists at path. */
int dg_path_exists(const char *path);

#endif
