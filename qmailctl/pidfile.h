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
#include "err.h"
#include "proc.h"

#define PIDFILE_MAX 512
/* Anyone may read a pidfile (kill $(head -1 F), status tools). */
#define PIDFILE_MODE 0644

/* Writes *id as the file name in the directory open on dirfd (named dir
 * in messages) with atomic_write_at() (atomic.h): a new file created
 * O_EXCL|O_NOFOLLOW in that directory, written whole (not fsync'd: a
 * pidfile describes processes that a crash ends), then renamed over name;
 * a directory writable by group or others is refused unless it is sticky
 * and ours.  On failure returns -1, sets errno and puts the whole
 * one-line reason in e, the system's error included where there is one
 * ("unable to create /run/qmailctl/.smtp.pid.4121.0.tmp: Permission
 * denied", "refusing directory /tmp/x (writable by group or others and not
 * a sticky directory of ours)"): print it as it is.  No temporary file is
 * left behind. */
int pidfile_write_at(int dirfd, const char *dir, const char *name,
    const struct proc_ident *id, struct err *e);
/* The same by path (its directory opened once). */
int pidfile_write(const char *path, const struct proc_ident *id,
    struct err *e);

/* Writes the calling process's own identity: what pido does before exec. */
int pidfile_write_self_at(int dirfd, const char *dir, const char *name,
    struct err *e);

/* Reads the file name in the directory open on dirfd (AT_FDCWD: name is
 * a path).  -1 with errno ENOENT (no pidfile), EINVAL (a symlink, not a
 * regular file, too large, or not a pidfile), or the error of open/read. */
int pidfile_read_at(int dirfd, const char *name, struct proc_ident *id);
int pidfile_read(const char *path, struct proc_ident *id);

/* Removes name if it still names the process in *id (so that we never
 * remove a pidfile someone else has since rewritten). */
int pidfile_remove_if_at(int dirfd, const char *name,
    const struct proc_ident *id);

#endif
