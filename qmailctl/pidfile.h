/* pidfile.h: pidfiles that are written atomically and read suspiciously.
 *
 * Format: the first line is the bare decimal pid, so that `kill $(cat F)`
 * keeps working; identity lines follow:
 *
 *     4121
 *     start 123456
 *     boot 0b7e...-...
 *     pgid 4121
 *     sid 4120
 *
 * A reader accepts only a regular file of at most PIDFILE_MAX bytes, never
 * follows a symlink and never blocks on a FIFO. */
#ifndef QMAILCTL_PIDFILE_H
#define QMAILCTL_PIDFILE_H

#include <stddef.h>
#include "proc.h"

#define PIDFILE_MAX 512
/* Anyone may read a pidfile (kill $(head -1 F), status tools). */
#define PIDFILE_MODE 0644

/* Writes *id to path with atomic_write() (atomic.h): a new file created
 * O_EXCL|O_NOFOLLOW in the same directory, fsync'd, then renamed over
 * path; a directory writable by group or others is refused unless it is
 * sticky and ours.  On failure returns -1, sets errno and puts the whole
 * one-line reason in why, the system's error included where there is one
 * ("unable to create /run/qmailctl/.smtp.pid.4121.0.tmp: Permission
 * denied", "refusing directory /tmp/x (writable by group or others and not
 * a sticky directory of ours)"): print it as it is, do not add
 * strerror(errno) again.  No temporary file is left behind. */
int pidfile_write(const char *path, const struct proc_ident *id,
    char *why, size_t whysize);

/* Writes the calling process's own identity: what pido does before exec. */
int pidfile_write_self(const char *path, char *why, size_t whysize);

/* Reads path.  -1 with errno ENOENT (no pidfile), EINVAL (not a regular
 * file, too large, or not a pidfile), or the error of open/read. */
int pidfile_read(const char *path, struct proc_ident *id);

/* Removes path if it still names the process in *id (so that we never
 * remove a pidfile someone else has since rewritten). */
int pidfile_remove_if(const char *path, const struct proc_ident *id);

#endif
