#include "core/file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/error.h"

#define MAX_TEXT_FILE ((size_t)256 << 20)

int dg_open_regular(const char *path, size_t *size, dg_error *err) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { dg_fail(err, DG_ERR_IO, "%s: %s", path, strerror(errno)); return -1; }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        dg_fail(err, DG_ERR_IO, "%s: not a regular file", path);
        return -1;
    }
    *size = (size_t)sb.st_size;
    return fd;
}

dg_status dg_read_file(const char *path, char **out, size_t *len, dg_error *err) {
    *out = NULL;
    size_t sz;
    int fd = dg_open_regular(path, &sz, err);
    if (fd < 0) return DG_ERR_IO;
    if (sz > MAX_TEXT_FILE) { close(fd); return dg_fail(err, DG_ERR_FORMAT, "%s: unreasonable size (%zu bytes)", path, sz); }
    char *buf = malloc(sz + 1);
    if (!buf) { close(fd); return dg_fail(err, DG_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, sz); }
    size_t got = 0;
    while (got < sz) {
        ssize_t r = read(fd, buf + got, sz - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != sz) { free(buf); return dg_fail(err, DG_ERR_IO, "%s: short read", path); }
    buf[sz] = 0;
    *out = buf;
    if (len) *len = sz;
    return DG_OK;
}

int dg_path_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}
