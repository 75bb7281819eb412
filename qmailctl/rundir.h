/* rundir.h: the directory of pidfiles and locks, and the lock per service.
 *
 *     RUNDIR/NAME.pid       the server element (pido format, see pidfile.h)
 *     RUNDIR/NAME.log.pid   the logger element
 *     RUNDIR/NAME.lock      flock()ed while a qmailctl acts on NAME
 *
 * The directory is refused unless it is a real directory (not a symlink)
 * owned by us and writable by nobody else: whoever can write it can make
 * us signal any process. */
#ifndef QMAILCTL_RUNDIR_H
#define QMAILCTL_RUNDIR_H

#include <stddef.h>

/* Creates rundir (mode 0755) if missing, then checks it.  -1 with errno
 * and why filled. */
int rundir_prepare(const char *rundir, int create, char *why, size_t size);

/* RUNDIR/NAME SUFFIX into buf. */
void rundir_path(char *buf, size_t size, const char *rundir, const char *name,
    const char *suffix);

/* Takes the service's lock, waiting at most timeout_ms.  Returns the fd
 * (close-on-exec; closing it releases the lock) or -1 with errno
 * (EWOULDBLOCK when another holder kept it past the timeout). */
int rundir_lock(const char *rundir, const char *name, long timeout_ms);

/* Removes the temporary files that pidfile writers of NAME left when they
 * were killed between creating and renaming them (".NAME.pid.PID.N.tmp"):
 * only those whose writer PID no longer exists.  Call under the lock. */
void rundir_sweep(const char *rundir, const char *name);

#endif
