/* rundir.h: the directory of pidfiles and locks, and the lock per service.
 *
 *     RUNDIR/NAME.pid       the server element (pido format, see pidfile.h)
 *     RUNDIR/NAME.log.pid   the logger element
 *     RUNDIR/NAME.lock      flock()ed while a qmailctl acts on NAME
 *
 * Whoever can write the rundir, or rename it or any directory above it,
 * can plant pidfiles there and make root signal any process: a forged
 * pidfile may copy a victim's start time and boot id, which are
 * world-readable.  So the path is checked once, component by component
 * (each directory owned by root or by us, and writable by nobody else
 * unless it is sticky and root's, as /tmp is), the rundir itself must be
 * ours and writable by nobody else, and it is held open: every file below
 * it is opened relative to that descriptor with O_NOFOLLOW, never by its
 * path again, so a directory swapped in later is never seen. */
#ifndef QMAILCTL_RUNDIR_H
#define QMAILCTL_RUNDIR_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct rundir {
	int fd;                 /* -1: it does not exist (status, check) */
	char path[PATH_MAX];    /* canonical, for messages and the cgroup */
};

/* Checks the path to rundir and opens it into *rd.  With create, a
 * missing rundir is created (mode 0755) in its checked parent; without,
 * a missing one (or one whose parent is missing) leaves rd->fd at -1 and
 * returns 0 (nothing runs).
 * -1 with errno EPERM (a directory others may write or own), ENOTDIR (not
 * a directory, a symlink), or the system's, and the reason in e. */
int rundir_open(struct rundir *rd, const char *rundir, int create,
    struct err *e);
void rundir_close(struct rundir *rd);

/* RUNDIR/NAME SUFFIX into buf: the path to show for a file, never opened. */
void rundir_path(char *buf, size_t size, const char *rundir, const char *name,
    const char *suffix);

/* Who held a lock that we did not get. */
struct lock_holder {
	pid_t pid;              /* 0: not found in /proc/locks */
	char program[32];
	long waited_ms;
};

/* Takes the service's lock, waiting at most timeout_ms.  Returns the fd
 * (close-on-exec; closing it releases the lock) or -1 with errno
 * (EWOULDBLOCK when another holder kept it past the timeout: then *h, if
 * h is not NULL, names the holder). */
int rundir_lock(const struct rundir *rd, const char *name, long timeout_ms,
    struct lock_holder *h);

/* Removes the temporary files that pidfile writers of NAME left when they
 * were killed between creating and renaming them (".NAME.pid.PID.N.tmp"):
 * only those whose writer PID no longer exists.  Call under the lock. */
void rundir_sweep(const struct rundir *rd, const char *name);

/* Removes NAME.lock for every NAME that is not in known (a service whose
 * file is gone), once the lock is ours without waiting: a held lock is
 * someone's, and a lock that is opened meanwhile is retaken by its opener
 * (rundir_lock checks that the file it locked is still the one named). */
void rundir_prune_locks(const struct rundir *rd, char *const *known);

#endif
