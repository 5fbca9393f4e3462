/* Small file-system helpers for the control-path libraries that keep state on disk
 * (keys metadata and audit log, recording spool). Not for worker lcores. */
#ifndef MG_FSUTIL_H
#define MG_FSUTIL_H

/* mkdir -p with mode 0700 for every missing component; 0 or -1 (errno set). */
int mg_mkdir_p(const char *path);
/* fsync a directory, so a rename or create inside it survives a crash; 0 or -1. */
int mg_fsync_dir(const char *dir);

#endif
