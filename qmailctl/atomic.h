/* atomic.h: replace a whole file so that no reader ever sees part of it.
 *
 * The one writer of pidfiles and of certificates:
 *
 *   1. a temporary file ".NAME.PID.N.tmp" is created in the same directory,
 *      O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, and fchmod()ed to exactly the
 *      mode asked for (the umask may only take bits away);
 *   2. the data is written whole (and, with ATOMIC_DURABLE, fsync()ed);
 *   3. the temporary file is rename()d over PATH, so a reader sees the old
 *      file or the whole new one, and a symlink planted at PATH is
 *      replaced, never followed;
 *   4. with ATOMIC_DURABLE, the directory is fsync()ed so that the rename
 *      itself survives a crash.
 *
 * ATOMIC_DURABLE is for what must outlive a crash (a certificate, a
 * disable marker, a metrics textfile).  Run-time files (pidfiles, the
 * supervisor's state) describe processes that a crash ends, and are
 * written on every restart: syncing them would only put a disk's
 * latency between a crash of the server and its restart.
 *
 * On every failure the temporary file is removed. */
#ifndef QMAILCTL_ATOMIC_H
#define QMAILCTL_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Flags of atomic_write(). */
#define ATOMIC_CHECK_DIR 1      /* refuse an unsafe directory (below) */
#define ATOMIC_DURABLE   2      /* fsync the file, and the directory after
                                 * the rename */

/* Writes all of buf, retrying short writes and EINTR.  0, or -1 with
 * errno. */
int write_all(int fd, const void *buf, size_t len);

/* Is the directory open on dirfd safe to write a file in that others
 * will trust?  Refused (-1, errno EPERM): writable by group or others,
 * unless it is sticky and owned by the effective uid (whoever else can
 * write the directory can rename our file away and plant their own).
 * -1 with fstat's errno if it cannot be looked at. */
int atomic_dir_safe(int dirfd);

/* Opens the directory that path is in (close-on-exec) and puts path's
 * last component in base, the directory's name (for messages) in dir.
 * -1 with errno and e filled; a path with no last component ("", "x/")
 * is EISDIR. */
int atomic_open_dir(const char *path, char *dir, size_t dsize, char *base,
    size_t bsize, struct err *e);

/* Replaces the file base in the directory open on dirfd (named dir in
 * messages) with the len bytes at data, file mode mode; flags are
 * ATOMIC_CHECK_DIR and ATOMIC_DURABLE.  Returns 0, or -1 with errno set
 * and a whole one-line reason in e (may be NULL), the system's error
 * included:
 *
 *     refusing directory /tmp/x (writable by group or others and not a
 *         sticky directory of ours)
 *     unable to create /run/q/.smtp.pid.4121.0.tmp: Permission denied
 *     unable to write /run/q/.smtp.pid.4121.0.tmp: No space left on device
 *     unable to rename /run/q/.smtp.pid.4121.0.tmp to /run/q/smtp.pid: ...
 *
 * (one line; wrapped here). */
int atomic_write_at(int dirfd, const char *dir, const char *base,
    const void *data, size_t len, mode_t mode, int flags, struct err *e);

/* The same for a path: its directory is opened once (atomic_open_dir)
 * and everything else is done relative to it. */
int atomic_write(const char *path, const void *data, size_t len, mode_t mode,
    int flags, struct err *e);

#endif
