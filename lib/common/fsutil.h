/* Small file-system helpers for the control-path libraries that keep state on disk
 * (keys metadata and audit log, recording spool). Not for worker lcores. */
#ifndef MG_FSUTIL_H
#define MG_FSUTIL_H

#include <stddef.h>

/* mkdir -p with mode 0700 for every missing component; 0 or -1 (errno set). */
int mg_mkdir_p(const char *path);
/* fsync a directory, so a rename or create inside it survives a crash; 0 or -1. */
int mg_fsync_dir(const char *dir);
/* write() until all len bytes are written (EINTR retried, short writes continued); 0 or -1
 * (errno set). *written (may be NULL) says how many bytes reached the file either way. */
int mg_write_all(int fd, const void *buf, size_t len, size_t *written);

#endif
